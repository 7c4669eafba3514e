#!/usr/bin/env bash
# t_offline.sh - a scan launched while the asset's agent is stopped waits QUEUED (the
# stopped agent's abandoned long poll must not take it) and runs once the agent is back.
. "$(dirname "$0")/../api/lib.sh"

start_server
add_user alice scanner 'alice-pw-1'
REQ_USER='alice:alice-pw-1'
KEY=$(ctl key create) || fail "odscanctl key create failed"
A="$T/agent"
start_agent "$A" "$KEY"
wait_enrolled "$A" "$AGENT_PID"
ID=$ASSET_ID
sleep 1   # the agent is in its long poll (hold 60 s)
stop_agent "$AGENT_PID"
[ "$STOP_RC" = 0 ] || fail "the agent exited $STOP_RC on SIGTERM"
ok "agent of asset $ID enrolled, waited in its long poll and was stopped (exit 0)"

CASE="launch while offline"
launch "$ID" Inventory_Scan false
assert_launch_ok "Inventory Scan" "$ID"
JOB=$(header X-Odscan-Job-Id)
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
    wait_job "$JOB" QUEUED 1
    sleep 0.1
done
assert_json 'd["attempts"]' 0
assert_json 'd["dispatched"]' null
ok "job $JOB stays QUEUED (attempts 0, never dispatched) while the agent is stopped"

CASE="agent back"
start_agent "$A" ""
wait_job "$JOB" "COMPLETED|FAILED" 120
[ "$JOB_STATE" = COMPLETED ] || fail "$CASE: job $JOB is $JOB_STATE: $(json_of 'd["reason"]')"
assert_json 'd["attempts"]' 1
req GET "/api/v1/assets/$ID/inventory"
assert_status 200
assert_json 'd["job_id"]' "$JOB"
ok "the agent started again: job $JOB ran (attempts 1) to COMPLETED with its inventory"

exit 0
