#!/usr/bin/env bash
# t_dispatch.sh - the vendor's launch reaches a waiting agent through its long poll and
# the scan's result comes back: the job's life, the inventory it stored, the check-in
# record, unsupported scan types, the job lists of the API and of odscanctl, and one
# agent's credentials kept away from another asset's jobs.
. "$(dirname "$0")/../api/lib.sh"

start_server
add_user alice scanner 'alice-pw-1'
REQ_USER='alice:alice-pw-1'
KEY=$(ctl key create --modules VM,PC) || fail "odscanctl key create failed"

A="$T/agent-a"
start_agent "$A" "$KEY"
PID_A=$AGENT_PID
wait_enrolled "$A" "$PID_A"
ID_A=$ASSET_ID
B="$T/agent-b"
start_agent "$B" "$KEY"
PID_B=$AGENT_PID
wait_enrolled "$B" "$PID_B"
ID_B=$ASSET_ID
ok "agents A (asset $ID_A) and B (asset $ID_B) enrolled"
sleep 1   # let both settle into their long poll (hold 60 s)

# --- the vendor's request, the long poll woken -----------------------------------------
CASE="vendor launch"
printf '%s\n%s\n' '<?xml version="1.0" encoding="UTF-8" ?>' '<ServiceRequest></ServiceRequest>' \
    >"$T/SingleAgent_ODS.xml"
AUTH=$(printf '%s' 'alice:alice-pw-1' | base64 -w0)
t0=$(date +%s%N)
STATUS=$(cd "$T" && curl -s -o "$BODY" -D "$HEADERS" -w '%{http_code}' --cacert "$CACERT" \
    -X POST -H "Content-Type: text/xml" -H "Authorization: Basic $AUTH" \
    -H "Cache-Control: no-cache" --data @SingleAgent_ODS.xml \
    "$BASE/qps/rest/1.0/ods/ca/agentasset/$ID_A?scan=Inventory_Scan&OverrideConfigCpu=false")
assert_launch_ok "Inventory Scan" "$ID_A"
JOB=$(header X-Odscan-Job-Id)
[[ $JOB =~ ^[0-9]+$ ]] || fail "$CASE: X-Odscan-Job-Id '$JOB'"
ok "the vendor's curl request launched Inventory_Scan on asset $ID_A: SUCCESS, job $JOB"

CASE="job completes"
# The scan's own duration depends on the machine's load; what proves the long poll was
# woken is when the job was handed out: seconds after its creation, not the 60 s hold.
wait_job "$JOB" "COMPLETED|FAILED|EXPIRED" 120
t1=$(date +%s%N)
[ "$JOB_STATE" = COMPLETED ] || fail "$CASE: job $JOB is $JOB_STATE: $(json_of 'd["reason"]')"
elapsed_ms=$(( (t1 - t0) / 1000000 ))
handed_s=$(json_of 'int(__import__("datetime").datetime.fromisoformat(d["dispatched"].replace("Z","+00:00")).timestamp() - __import__("datetime").datetime.fromisoformat(d["created"].replace("Z","+00:00")).timestamp())')
[ "$handed_s" -lt 30 ] ||
    fail "$CASE: handed out ${handed_s} s after the launch: the check-in was not woken (hold 60 s)"
ok "job $JOB handed out ${handed_s} s (1-s resolution) after the launch, inside the 60 s hold: the long poll was woken; COMPLETED after $elapsed_ms ms"

CASE="job life"
cp "$BODY" "$T/job.json"
python3 - "$T/job.json" "$ID_A" <<'EOF' || fail "$CASE: $(cat "$T/job.json")"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["asset_id"] == int(sys.argv[2]) and j["scan_type"] == "Inventory_Scan", j
assert j["attempts"] == 1, "attempts %r" % j["attempts"]
for k in ("created", "dispatched", "started", "finished"):
    assert j[k], "%s not set" % k
assert j["created"] <= j["dispatched"] <= j["started"] <= j["finished"], "timestamps out of order"
assert j["cpu_applied"] == "limit=100 throttle=0", "cpu_applied %r" % j["cpu_applied"]
assert j["lease_deadline"] is None and j["reason"] == "", j
EOF
ok "job $JOB went QUEUED -> DISPATCHED -> RUNNING -> COMPLETED: timestamps in order, attempts 1, cpu_applied set"

CASE="inventory"
req GET "/api/v1/assets/$ID_A/inventory"
assert_status 200
want=$(dpkg-query -W | wc -l)
assert_json 'd["job_id"]' "$JOB"
assert_json 'len(d["inventory"]["packages"])' "$want"
assert_json 'len(d["scans"])' 1
ok "GET /api/v1/assets/$ID_A/inventory: $want packages, as dpkg-query -W lists on this machine"

# --- unsupported scan types -------------------------------------------------------------
for scan in UDC_Scan PolicyCompliance_Scan; do
    CASE="$scan"
    launch "$ID_A" "$scan" false
    assert_status 200
    id=$(header X-Odscan-Job-Id)
    wait_job "$id" "COMPLETED|FAILED|EXPIRED" 120
    [ "$JOB_STATE" = FAILED ] || fail "$CASE: job $id is $JOB_STATE, expected FAILED"
    reason=$(json_of 'd["reason"]')
    case $reason in *"not supported by this agent version"*) ;;
        *) fail "$CASE: reason '$reason'" ;; esac
    ok "$scan on asset $ID_A: FAILED, '$reason'"
done

# --- job lists: API and odscanctl agree -----------------------------------------------
CASE="asset jobs"
req GET "/api/v1/assets/$ID_A/jobs"
assert_status 200
cp "$BODY" "$T/api-jobs.json"
ctl job list --asset "$ID_A" --json >"$T/ctl-jobs.json" || fail "$CASE: odscanctl job list failed"
ctl job show "$JOB" --json >"$T/ctl-job.json" || fail "$CASE: odscanctl job show failed"
ctl job show "$JOB" >"$T/ctl-job.txt" || fail "$CASE: odscanctl job show failed"
python3 - "$T/api-jobs.json" "$T/ctl-jobs.json" "$T/ctl-job.json" "$T/job.json" "$JOB" <<'EOF' ||
import json, sys
api = json.load(open(sys.argv[1]))
ctl = json.load(open(sys.argv[2]))
show = json.load(open(sys.argv[3]))
show = show[0] if isinstance(show, list) else show
job = json.load(open(sys.argv[4]))
ids = [j["id"] for j in api["jobs"]]
assert api["count"] == 3 and ids == sorted(ids, reverse=True), "not newest first: %r" % ids
assert [j["state"] for j in api["jobs"]] == ["FAILED", "FAILED", "COMPLETED"], api
assert ids[-1] == int(sys.argv[5])
assert [(j["id"], j["state"]) for j in ctl] == [(j["id"], j["state"]) for j in api["jobs"]], ctl
for k in ("id", "asset_id", "scan_type", "state", "attempts", "cpu_applied", "created",
          "dispatched", "started", "finished"):
    assert show[k] == job[k], "job show %s %r, API %r" % (k, show[k], job[k])
EOF
    fail "$CASE: API $(head -c 600 "$T/api-jobs.json"); odscanctl $(head -c 600 "$T/ctl-jobs.json")"
grep -q '^STATE  *COMPLETED$' "$T/ctl-job.txt" && grep -q '^ATTEMPTS  *1$' "$T/ctl-job.txt" ||
    fail "$CASE: odscanctl job show: $(cat "$T/ctl-job.txt")"
ok "asset jobs newest first (API and odscanctl job list agree); odscanctl job show matches the API"

CASE="asset show"
ctl asset show "$ID_A" --json >"$T/asset.json" || fail "$CASE: odscanctl asset show failed"
python3 - "$T/asset.json" "$JOB" "$("$ODS_BIN/odscan-agent" --version | awk '{print $2}')" \
    "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["created"])' "$T/job.json")" <<'EOF' ||
import json, sys
a = json.load(open(sys.argv[1]))
a = a[0] if isinstance(a, list) else a
assert a["agent_version"] == sys.argv[3], "agent_version %r" % a["agent_version"]
assert a["last_checkin"] and a["last_checkin"] >= sys.argv[4], "last_checkin %r" % a["last_checkin"]
assert len(a["inventory_history"]) == 1, a["inventory_history"]
assert a["inventory"], "no inventory summary"
EOF
    fail "$CASE: $(head -c 1500 "$T/asset.json")"
ok "odscanctl asset show: agent version, a check-in after the launch, one inventory"

# --- agent A and asset B ----------------------------------------------------------------
CASE="B offline"
stop_agent "$PID_B"
launch "$ID_B" Inventory_Scan false
assert_launch_ok "Inventory Scan" "$ID_B"
JOB_B=$(header X-Odscan-Job-Id)
stop_agent "$PID_A"
ctl profile create quick --checkin-hold 2 >/dev/null || fail "$CASE: profile create failed"
ctl profile assign quick --asset "$ID_A" >/dev/null || fail "$CASE: profile assign failed"
ok "agent B stopped: job $JOB_B of asset $ID_B queued; A stopped, its profile holds 2 s"

CASE="A checks in"
agent_req "$A" POST /agent/v1/checkin --data-binary "{\"agent_version\":\"0.0.9-e2e\",\"running\":[$JOB_B]}"
assert_status 200
assert_json 'd["jobs"]' '[]'
assert_json 'd["profile"]["name"]' quick
wait_job "$JOB_B" QUEUED 1
ctl asset show "$ID_A" --json >"$T/asset.json"
python3 -c 'import json, sys
a = json.load(open(sys.argv[1])); a = a[0] if isinstance(a, list) else a
assert a["agent_version"] == "0.0.9-e2e", a["agent_version"]' "$T/asset.json" ||
    fail "$CASE: the check-in did not record the agent version: $(head -c 800 "$T/asset.json")"
ok "A's check-in (naming B's job as running) gets no job; B's job stays QUEUED; A's version recorded"

# a_cannot VERB BODY: A posting VERB for B's job answers 404.
a_cannot() {
    agent_req "$A" POST "/agent/v1/jobs/$JOB_B/$1" --data-binary "$2"
    [ "$STATUS" = 404 ] || fail "$CASE: A's $1 of B's job $JOB_B: HTTP $STATUS; body: $(body_excerpt)"
}
CASE="A and B's queued job"
a_cannot start '{"cpu_limit":100,"cpu_throttle":0,"unthrottled":false}'
a_cannot heartbeat '{}'
a_cannot result '{"status":"COMPLETED","result":{"packages":[]}}'
wait_job "$JOB_B" QUEUED 1
assert_json 'd["attempts"]' 0
agent_req "$A" POST "/agent/v1/jobs/$JOB/start" --data-binary '{"cpu_limit":100,"cpu_throttle":0,"unthrottled":false}'
[ "$STATUS" = 409 ] || fail "$CASE: A starting its own finished job $JOB: HTTP $STATUS, expected 409"
ok "A's start, heartbeat and result of B's queued job: 404 (its own finished job: 409); B's job untouched"

CASE="A and B's running job"
agent_req "$B" POST /agent/v1/checkin --data-binary '{"agent_version":"0.1.0","running":[]}'
assert_status 200
assert_json '[j["id"] for j in d["jobs"]]' "[$JOB_B]"
agent_req "$B" POST "/agent/v1/jobs/$JOB_B/start" --data-binary '{"cpu_limit":100,"cpu_throttle":0,"unthrottled":false}'
assert_status 200
a_cannot heartbeat '{}'
a_cannot result '{"status":"COMPLETED","result":{"packages":[{"name":"from-a"}]}}'
a_cannot start '{"cpu_limit":100,"cpu_throttle":0,"unthrottled":false}'
wait_job "$JOB_B" RUNNING 1
req GET "/api/v1/jobs/$JOB_B/result"
[ "$STATUS" = 404 ] || fail "$CASE: job $JOB_B has a result after A's posts (HTTP $STATUS)"
agent_req "$B" POST "/agent/v1/jobs/$JOB_B/result" --data-binary '{"status":"COMPLETED","result":{"packages":[{"name":"from-b"}]}}'
assert_status 200
wait_job "$JOB_B" COMPLETED 1
req GET "/api/v1/assets/$ID_B/inventory"
assert_status 200
assert_json 'd["inventory"]["packages"]' '[{"name": "from-b"}]'
ok "B's job running: A's posts answer 404 and change nothing; B's own result completes it"

exit 0
