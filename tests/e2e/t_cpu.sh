#!/usr/bin/env bash
# t_cpu.sh - the CPU budget: a scan child limited to 20% gets about that share of a
# core, and overrideConfigCpu=true lifts the profile's limit for that one scan.
. "$(dirname "$0")/../api/lib.sh"

[ -x "$ODS_BIN/odscan-agent" ] || fail "no executable $ODS_BIN/odscan-agent (build first)"

# burn LIMIT prints the share_pct of a 3 s cpu-burn under LIMIT percent.
burn() {
    "$ODS_BIN/odscan-agent" diag cpu-burn --seconds 3 --cpu-limit "$1" >"$T/burn.json" ||
        fail "odscan-agent diag cpu-burn --cpu-limit $1 failed: $(cat "$T/burn.json")"
    python3 -c 'import json, sys; print(int(json.load(open(sys.argv[1]))["share_pct"]))' "$T/burn.json" ||
        fail "diag cpu-burn output: $(cat "$T/burn.json")"
}

CASE="cpu-burn"
limited=$(burn 20)
[ "$limited" -le 35 ] || fail "$CASE: a child limited to 20% got $limited% of a core"
[ "$limited" -ge 5 ] || fail "$CASE: a child limited to 20% got only $limited% (did it burn?)"
free=$(burn 100)
# loose on purpose: a loaded machine gives no child a whole core
[ "$free" -ge "$limited" ] || fail "$CASE: unlimited the child got $free%, less than limited ($limited%)"
ok "diag cpu-burn: limited to 20% it gets $limited% of a core, unlimited $free%"

start_server
add_user alice scanner 'alice-pw-1'
REQ_USER='alice:alice-pw-1'
KEY=$(ctl key create) || fail "odscanctl key create failed"
A="$T/agent"
start_agent "$A" "$KEY"
wait_enrolled "$A" "$AGENT_PID"
ID=$ASSET_ID
stop_agent "$AGENT_PID"
ctl profile create c20 --cpu-limit 20 >/dev/null || fail "profile create failed"
ctl profile assign c20 --asset "$ID" >/dev/null || fail "profile assign failed"
start_agent "$A" ""
ok "asset $ID enrolled; profile c20 (cpu limit 20%) assigned"

# scan_applied OVERRIDE prints the cpu_applied of a completed Inventory_Scan.
scan_applied() {
    launch "$ID" Inventory_Scan "$1"
    assert_launch_ok "Inventory Scan" "$ID"
    local job
    job=$(header X-Odscan-Job-Id)
    wait_job "$job" "COMPLETED|FAILED" 120
    [ "$JOB_STATE" = COMPLETED ] || fail "$CASE: job $job is $JOB_STATE: $(json_of 'd["reason"]')"
    assert_json 'd["override_cpu"]' "$1"
    json_of 'd["cpu_applied"]'
}

CASE="overrideConfigCpu=true"
got=$(scan_applied true)
[ "$got" = unthrottled ] || fail "$CASE: cpu_applied '$got', expected unthrottled"
ok "overrideConfigCpu=true under profile c20: cpu_applied '$got'"

CASE="overrideConfigCpu=false"
got=$(scan_applied false)
[ "$got" = "limit=20 throttle=0" ] || fail "$CASE: cpu_applied '$got', expected limit=20 throttle=0"
ok "overrideConfigCpu=false under profile c20: cpu_applied '$got'"

exit 0
