#!/usr/bin/env bash
# t_shutdown.sh - SIGTERM to odscand while agents wait in their long poll: the server
# answers them and exits 0 at once, and the agents check in again once it is back.
. "$(dirname "$0")/../api/lib.sh"

start_server
PORT=$SRV_PORT
DIR=$SRV_DIR
add_user alice scanner 'alice-pw-1'
REQ_USER='alice:alice-pw-1'
KEY=$(ctl key create) || fail "odscanctl key create failed"
A="$T/agent-a"
B="$T/agent-b"
start_agent "$A" "$KEY"
PID_A=$AGENT_PID
wait_enrolled "$A" "$PID_A"
ID_A=$ASSET_ID
start_agent "$B" "$KEY"
PID_B=$AGENT_PID
wait_enrolled "$B" "$PID_B"
ID_B=$ASSET_ID
sleep 1   # both in their long poll (hold 60 s)
ok "agents of assets $ID_A and $ID_B enrolled and waiting"

CASE="SIGTERM"
t0=$(date +%s%N)
stop_server
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$STOP_RC" = 0 ] || fail "$CASE: odscand exited $STOP_RC"
[ "$ms" -lt 5000 ] || fail "$CASE: odscand took $ms ms to exit with agents waiting"
kill -0 "$PID_A" 2>/dev/null && kill -0 "$PID_B" 2>/dev/null || fail "$CASE: an agent exited with the server"
ok "odscand exited 0 in $ms ms with two agents in their long poll; the agents keep running"

CASE="server back"
sleep 1   # the agents meet a closed port and back off
run_server "$DIR" "$PORT" https --listen "127.0.0.1:$PORT"
for id in "$ID_A" "$ID_B"; do
    launch "$id" Inventory_Scan false
    assert_launch_ok "Inventory Scan" "$id"
    eval "JOB_$id=$(header X-Odscan-Job-Id)"
done
for id in "$ID_A" "$ID_B"; do
    eval "job=\$JOB_$id"
    # the agents retry with a backoff of at most a few seconds after so short an outage
    wait_job "$job" "COMPLETED|FAILED" 40
    [ "$JOB_STATE" = COMPLETED ] || fail "$CASE: job $job is $JOB_STATE"
done
ok "server restarted on the same state dir and port: both agents checked in again and ran their scans"

exit 0
