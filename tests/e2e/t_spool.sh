#!/usr/bin/env bash
# t_spool.sh - the server dies while a scan runs: the agent keeps the result in its
# spool, survives its own restart with it, and delivers it exactly once when the server
# is back on the same state directory.
. "$(dirname "$0")/../api/lib.sh"

start_server
PORT=$SRV_PORT
DIR=$SRV_DIR
add_user alice scanner 'alice-pw-1'
REQ_USER='alice:alice-pw-1'
KEY=$(ctl key create) || fail "odscanctl key create failed"
A="$T/agent"
start_agent "$A" "$KEY"
wait_enrolled "$A" "$AGENT_PID"
ID=$ASSET_ID
stop_agent "$AGENT_PID"
ctl profile create slow --cpu-limit 2 --cpu-throttle 1000 >/dev/null || fail "profile create failed"
ctl profile assign slow --asset "$ID" >/dev/null || fail "profile assign failed"
start_agent "$A" ""
ok "asset $ID enrolled; profile slow (cpu limit 2%) assigned"

CASE="server killed mid-scan"
launch "$ID" Inventory_Scan false
assert_launch_ok "Inventory Scan" "$ID"
JOB=$(header X-Odscan-Job-Id)
wait_job "$JOB" "RUNNING|COMPLETED|FAILED" 60
[ "$JOB_STATE" = RUNNING ] || fail "$CASE: job $JOB went $JOB_STATE before it was seen RUNNING"
kill9_server
ok "job $JOB RUNNING; odscand killed with SIGKILL"

CASE="spooled"
SPOOL="$A/spool/$JOB.json"
for i in $(seq 1 300); do
    [ -s "$SPOOL" ] && grep -q 'result delivered\|kept in the spool' "$A.log" && break
    sleep 0.1
done
[ -s "$SPOOL" ] || fail "$CASE: no $SPOOL 30 s after the server died"
grep -q "job $JOB: result delivered" "$A.log" && fail "$CASE: the agent says it delivered job $JOB"
python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["status"] == "COMPLETED" and d["result"]["packages"], d.get("status")' "$SPOOL" ||
    fail "$CASE: $SPOOL is not a COMPLETED result"
ok "the scan finished with the server down: its result waits in spool/$JOB.json"

CASE="agent restarted"
stop_agent "$AGENT_PID"
[ "$STOP_RC" = 0 ] || fail "$CASE: the agent exited $STOP_RC on SIGTERM"
[ -s "$SPOOL" ] || fail "$CASE: the spool lost the result on SIGTERM"
start_agent "$A" ""
sleep 0.5
kill -0 "$AGENT_PID" 2>/dev/null || fail "$CASE: the agent exited while the server was down"
ok "agent stopped (exit 0) and started again with the server still down; the spool is kept"

CASE="server back"
run_server "$DIR" "$PORT" https --listen "127.0.0.1:$PORT"
wait_job "$JOB" "COMPLETED|FAILED" 120
[ "$JOB_STATE" = COMPLETED ] || fail "$CASE: job $JOB is $JOB_STATE 60 s after the server came back"
assert_json 'd["attempts"]' 1
for i in $(seq 1 50); do
    [ -z "$(ls -A "$A/spool")" ] && break
    sleep 0.1
done
[ -z "$(ls -A "$A/spool")" ] || fail "$CASE: spool not empty: $(ls "$A/spool")"
req GET "/api/v1/assets/$ID/inventory"
assert_status 200
assert_json 'd["job_id"]' "$JOB"
assert_json 'len(d["scans"])' 1
n=$(db_query "$(server_db)" "SELECT count(*) FROM job_results WHERE job_id = $JOB;") ||
    fail "$CASE: cannot read job_results"
[ "$n" = 1 ] || fail "$CASE: $n stored results for job $JOB"
[ "$(grep -c "job $JOB: result delivered" "$A.log")" = 1 ] ||
    fail "$CASE: the agent delivered job $JOB $(grep -c "job $JOB: result delivered" "$A.log") times"
ok "server back: job $JOB COMPLETED from the spool (attempts 1), one result, one inventory entry, spool empty"

exit 0
