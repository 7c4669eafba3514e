#!/usr/bin/env bash
# t_lease.sh - an agent killed in the middle of a scan: the job's lease runs out, the
# job is handed out again (attempts 2) to the restarted agent and completes. A result
# uploaded twice is taken once.
. "$(dirname "$0")/../api/lib.sh"

start_server
add_user alice scanner 'alice-pw-1'
REQ_USER='alice:alice-pw-1'
KEY=$(ctl key create) || fail "odscanctl key create failed"
A="$T/agent"
start_agent "$A" "$KEY"
wait_enrolled "$A" "$AGENT_PID"
ID=$ASSET_ID
stop_agent "$AGENT_PID"
# A short lease and hold, and a scan slowed down enough to be killed while it runs.
ctl profile create fast --lease 10 --checkin-hold 5 --cpu-limit 2 --cpu-throttle 1000 >/dev/null ||
    fail "odscanctl profile create fast failed"
ctl profile assign fast --asset "$ID" >/dev/null || fail "odscanctl profile assign failed"
start_agent "$A" ""
ok "asset $ID enrolled; profile fast (lease 10 s, hold 5 s, cpu limit 2%) assigned"

CASE="kill -9 mid-scan"
launch "$ID" Inventory_Scan false
assert_launch_ok "Inventory Scan" "$ID"
JOB=$(header X-Odscan-Job-Id)
wait_job "$JOB" "RUNNING|COMPLETED|FAILED" 60
[ "$JOB_STATE" = RUNNING ] || fail "$CASE: job $JOB went $JOB_STATE before it was seen RUNNING"
kill9_agent "$AGENT_PID"
wait_job "$JOB" RUNNING 1
assert_json 'd["attempts"]' 1
assert_json 'd["cpu_applied"]' "limit=2 throttle=1000"
ok "job $JOB RUNNING under limit=2 throttle=1000; the agent was killed with SIGKILL"

CASE="handed out again"
start_agent "$A" ""
wait_job "$JOB" "COMPLETED|FAILED" 120
[ "$JOB_STATE" = COMPLETED ] || fail "$CASE: job $JOB is $JOB_STATE: $(json_of 'd["reason"]')"
assert_json 'd["attempts"]' 2
req GET "/api/v1/assets/$ID/inventory"
assert_status 200
assert_json 'd["job_id"]' "$JOB"
assert_json 'len(d["scans"])' 1
ok "after the lease ran out job $JOB was handed out again (attempts 2) and COMPLETED once"
stop_agent "$AGENT_PID"

# --- the same result twice -----------------------------------------------------------------
CASE="duplicate result"
launch "$ID" Inventory_Scan true
assert_launch_ok "Inventory Scan" "$ID"
JOB2=$(header X-Odscan-Job-Id)
agent_req "$A" POST /agent/v1/checkin --data-binary '{"agent_version":"0.1.0","running":[]}'
assert_status 200
assert_json '[j["id"] for j in d["jobs"]]' "[$JOB2]"
agent_req "$A" POST "/agent/v1/jobs/$JOB2/start" --data-binary '{"cpu_limit":100,"cpu_throttle":0,"unthrottled":true}'
assert_status 200
RESULT='{"status":"COMPLETED","result":{"packages":[{"name":"first"}]}}'
agent_req "$A" POST "/agent/v1/jobs/$JOB2/result" --data-binary "$RESULT"
assert_status 200
assert_json 'd["duplicate"]' false
agent_req "$A" POST "/agent/v1/jobs/$JOB2/result" --data-binary "$RESULT"
assert_status 200
assert_json 'd["duplicate"]' true
agent_req "$A" POST "/agent/v1/jobs/$JOB2/result" \
    --data-binary '{"status":"COMPLETED","result":{"packages":[{"name":"second"}]}}'
assert_status 200
assert_json 'd["duplicate"]' true
wait_job "$JOB2" COMPLETED 1
assert_json 'd["attempts"]' 1
req GET "/api/v1/jobs/$JOB2/result"
assert_status 200
assert_json 'd["result"]["packages"]' '[{"name": "first"}]'
req GET "/api/v1/assets/$ID/inventory"
assert_status 200
assert_json 'd["job_id"]' "$JOB2"
assert_json 'len(d["scans"])' 2
n=$(db_query "$(server_db)" "SELECT count(*) FROM job_results WHERE job_id = $JOB2;") ||
    fail "$CASE: cannot read job_results"
[ "$n" = 1 ] || fail "$CASE: $n stored results for job $JOB2"
ok "a result posted again answers duplicate=true; one stored result, one inventory entry"

exit 0
