#!/usr/bin/env bash
# t_multinode.sh - two odscand nodes on one PostgreSQL database (PostgreSQL only): an
# agent long-polling on node B gets a scan launched on node A within milliseconds
# (LISTEN/NOTIFY); 1,000 concurrent launches spread over both nodes make exactly 1,000
# jobs; agents checking in on both nodes at once get every job exactly once.
# The first part is the worked example of docs/operations.md, command for command.
. "$(dirname "$0")/lib.sh"

if ! pg_mode; then
    ok "skipped: needs PostgreSQL"
    exit 0
fi

MN="python3 $API_DIR/multinode.py"

# --- the worked example (docs/operations.md, "Two nodes on one machine") -------------
DB=$(pg_new_db) || fail "cannot create a PostgreSQL database"
new_state_dir; A=$NEW_DIR
new_state_dir; B=$NEW_DIR
PORT_A=$(free_port)
PORT_B=$(free_port)
echo "$DB" >"$A/db_url"
echo "$DB" >"$B/db_url"
# node A makes the certificate; node B serves the same one (as behind a load balancer)
run_server "$A" "$PORT_A" https --listen "127.0.0.1:$PORT_A"
PID_A=$SRV_PID
BASE_A=$BASE
run_server "$B" "$PORT_B" https --listen "127.0.0.1:$PORT_B" \
    --tls-cert "$A/tls/cert.pem" --tls-key "$A/tls/key.pem"
PID_B=$SRV_PID
BASE_B=$BASE
CACERT="$A/tls/cert.pem"
ok "two nodes on one database: $BASE_A and $BASE_B"

printf '%s\n' 'alice-pw-1' | "$ODS_BIN/odscanctl" --db "$DB" user add alice --role manager \
    --password-stdin >/dev/null || fail "user add"
KEY=$("$ODS_BIN/odscanctl" --db "$DB" key create --name nodes --modules VM,PC,SCA,SWCA) ||
    fail "key create"

CASE="enroll through node B"
req POST "$BASE_B/agent/v1/enroll" -H 'Content-Type: application/json' --data-binary \
    '{"activation_key":"'"$KEY"'","hostname":"web1","os_family":"linux","agent_version":"0.1.0"}'
assert_status 200
AGENT=$(python3 -c 'import json, sys; d = json.load(open(sys.argv[1]))
print(d["asset_id"], d["agent_uuid"] + ":" + d["agent_secret"])' "$BODY")
ASSET=${AGENT%% *}
BEARER=${AGENT#* }
ok "$CASE: asset $ASSET"

CASE="a launch on node A wakes the check-in waiting on node B"
checkin_out="$T/checkin.json"
start_ms=$(date +%s%3N)
curl -s --cacert "$CACERT" --max-time 70 -o "$checkin_out" -w '%{http_code}' \
    -H "Authorization: Bearer $BEARER" -H 'Content-Type: application/json' \
    --data-binary '{"agent_version":"0.1.0","running":[]}' \
    "$BASE_B/agent/v1/checkin" >"$T/checkin.status" &
CHECKIN=$!
sleep 1     # the check-in is now held (the profile's hold is 60 s)
kill -0 "$CHECKIN" 2>/dev/null || fail "$CASE: the check-in did not wait: $(cat "$checkin_out")"
REQ_USER='alice:alice-pw-1'
launch_ms=$(date +%s%3N)
req POST "$BASE_A/qps/rest/1.0/ods/ca/agentasset/$ASSET?scan=Inventory_Scan" \
    -H 'Content-Type: text/xml' \
    --data-binary '<?xml version="1.0" encoding="UTF-8" ?><ServiceRequest></ServiceRequest>'
acked_ms=$(date +%s%3N)
assert_launch_ok "Inventory Scan" "$ASSET"
JOB=$(header X-Odscan-Job-Id)
wait "$CHECKIN" || fail "$CASE: curl failed"
woke_ms=$(date +%s%3N)
[ "$(cat "$T/checkin.status")" = 200 ] || fail "$CASE: check-in status $(cat "$T/checkin.status")"
got=$(python3 -c 'import json, sys; print([j["id"] for j in json.load(open(sys.argv[1]))["jobs"]])' "$checkin_out")
[ "$got" = "[$JOB]" ] || fail "$CASE: check-in got jobs $got, want [$JOB]"
[ $((woke_ms - start_ms)) -lt 10000 ] || fail "$CASE: check-in answered after $((woke_ms - start_ms)) ms"
note "launch acknowledged $((acked_ms - launch_ms)) ms after it was sent; the check-in on B answered $((woke_ms - acked_ms)) ms after that (hold 60 s)"
ok "$CASE"
# --- end of the worked example -----------------------------------------------------

# --- 1,000 concurrent launches over both nodes: 1,000 jobs ---------------------------
# 84 agents x 6 scan types x 2 override flags = 1,008 distinct launches; the first 1,000.
CASE="1,000 concurrent launches on two nodes"
$MN enroll "$CACERT" "$BASE_A" "$KEY" 84 >"$T/agents" || fail "$CASE: enrolling agents failed"
[ "$(wc -l <"$T/agents")" = 84 ] || fail "$CASE: want 84 agents"
python3 - "$T/agents" >"$T/plan" <<'EOF'
import json, sys
scans = ["Inventory_Scan", "Vulnerability_Scan", "PolicyCompliance_Scan", "UDC_Scan",
         "SCA_Scan", "SWCA_scan"]
plan = [(json.loads(l)["asset_id"], s, o) for l in open(sys.argv[1])
        for s in scans for o in ("false", "true")][:1000]
for p in plan:
    print(*p)
EOF
t0=$(date +%s%3N)
$MN launch "$CACERT" 'alice:alice-pw-1' "$BASE_A,$BASE_B" "$T/plan" 64 >"$T/launches" ||
    fail "$CASE: launcher failed"
t1=$(date +%s%3N)
python3 - "$T/launches" <<'EOF' || fail "$CASE: $(tail -n 1 "$T/check" 2>/dev/null)"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
bad = [r for r in recs if r["status"] != 200 or r["code"] != "SUCCESS" or r["existing"]]
assert len(recs) == 1000, "%d answers" % len(recs)
assert not bad, "not a new SUCCESS: %s" % bad[:3]
assert len({r["job"] for r in recs}) == 1000, "job ids not distinct"
EOF
n=$(db_query "$DB" "SELECT count(*) FROM jobs WHERE asset_id <> $ASSET")
[ "$n" = 1000 ] || fail "$CASE: $n jobs in the database, want 1000"
note "1,000 launches (64 at a time, both nodes) in $((t1 - t0)) ms"
ok "$CASE: 1,000 SUCCESS answers, 1,000 distinct jobs"

CASE="the same 1,000 launches again on the other nodes find the same jobs"
python3 - "$T/plan" >"$T/plan2" <<'EOF'
import sys
lines = open(sys.argv[1]).read().splitlines()
print("\n".join(lines[1:] + lines[:1]))   # shifted: each launch goes to the other node
EOF
$MN launch "$CACERT" 'alice:alice-pw-1' "$BASE_A,$BASE_B" "$T/plan2" 64 >"$T/launches2" ||
    fail "$CASE: launcher failed"
python3 - "$T/launches" "$T/launches2" <<'EOF' || fail "$CASE"
import json, sys
first = {(r["asset"], r["scan"], r["override"]): r for r in map(json.loads, open(sys.argv[1]))}
for r in map(json.loads, open(sys.argv[2])):
    f = first[(r["asset"], r["scan"], r["override"])]
    assert r["status"] == 200 and r["existing"] and r["job"] == f["job"], (r, f)
    assert r["base"] != f["base"], (r, f)
EOF
n=$(db_query "$DB" "SELECT count(*) FROM jobs")
[ "$n" = 1001 ] || fail "$CASE: $n jobs in the database, want 1001"
ok "$CASE"

# --- every job handed out exactly once ---------------------------------------------
# Short holds and six scans at once, so each agent's claimers come back empty quickly.
CASE="agents checking in on both nodes at once get every job exactly once"
db_query "$DB" "UPDATE profiles SET checkin_hold_s = 1, max_concurrent = 6 WHERE name = 'linux-default'" \
    >/dev/null || fail "$CASE: profile update"
t0=$(date +%s%3N)
$MN drain "$CACERT" "$T/agents" "$BASE_A,$BASE_B" >"$T/claims" || fail "$CASE: drain failed"
t1=$(date +%s%3N)
python3 - "$T/claims" <<'EOF' || fail "$CASE"
import collections, json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
count = collections.Counter(r["job"] for r in recs)
twice = [j for j, c in count.items() if c > 1]
assert not twice, "handed out twice: %s" % twice[:5]
assert len(count) == 1000, "%d jobs handed out" % len(count)
bases = collections.Counter(r["base"] for r in recs)
assert len(bases) == 2, "all from one node: %s" % bases
print("# claims per node: %s" % dict(bases))
EOF
n=$(db_query "$DB" "SELECT count(*) FROM jobs WHERE asset_id <> $ASSET AND state = 1 AND attempts = 1")
[ "$n" = 1000 ] || fail "$CASE: $n jobs DISPATCHED with attempts = 1, want 1000"
note "1,000 jobs drained by 168 claimers on two nodes in $((t1 - t0)) ms"
ok "$CASE"

CASE="both nodes still healthy"
for b in "$BASE_A" "$BASE_B"; do
    req GET "$b/healthz"
    assert_status 200
done
kill -0 "$PID_A" && kill -0 "$PID_B" || fail "$CASE: a node died"
ok "$CASE"

exit 0
