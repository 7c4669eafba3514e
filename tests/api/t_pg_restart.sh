#!/usr/bin/env bash
# t_pg_restart.sh - the database goes away in the middle of a launch storm on two nodes
# (PostgreSQL only). Every launch answered 200 has its job in the database (nothing
# acknowledged is lost, no false SUCCESS); the launches refused meanwhile got 503 with
# a QPS body; both nodes serve again by themselves once the database is back, and a
# launch on one node wakes an agent waiting on the other again.
# The test runs its own cluster: stopping the shared one would fail the other tests.
. "$(dirname "$0")/lib.sh"

if ! pg_mode; then
    ok "skipped: needs PostgreSQL"
    exit 0
fi

MN="python3 $API_DIR/multinode.py"
CLUSTER="$T/pg"
"$ODS_SRC/scripts/pg-test-cluster" start "$CLUSTER" >/dev/null || fail "cannot start a cluster"
stop_cluster() { "$ODS_SRC/scripts/pg-test-cluster" stop "$CLUSTER" >/dev/null 2>&1 || true; }
trap 'rc=$?; stop_cluster; (exit $rc); _cleanup' EXIT
PG_URL=$(cat "$CLUSTER/url")
DB=$(pg_new_db) || fail "cannot create a database"

new_state_dir; A=$NEW_DIR
new_state_dir; B=$NEW_DIR
echo "$DB" >"$A/db_url"
echo "$DB" >"$B/db_url"
PORT_A=$(free_port)
PORT_B=$(free_port)
run_server "$A" "$PORT_A" https --listen "127.0.0.1:$PORT_A"
BASE_A=$BASE
run_server "$B" "$PORT_B" https --listen "127.0.0.1:$PORT_B" \
    --tls-cert "$A/tls/cert.pem" --tls-key "$A/tls/key.pem"
BASE_B=$BASE
CACERT="$A/tls/cert.pem"
printf '%s\n' 'alice-pw-1' | ctl user add alice --role manager --password-stdin >/dev/null ||
    fail "user add"
KEY=$(ctl key create --modules VM) || fail "key create"
$MN enroll "$CACERT" "$BASE_A" "$KEY" 1 >"$T/agent" || fail "enroll"
# 1,500 assets added by hand; two launches each (override false and true): 3,000 distinct
db_query "$DB" "INSERT INTO assets(id, hostname, os_family, created_ms, updated_ms)
    SELECT g, 'h' || g, 'linux', 0, 0 FROM generate_series(1, 1500) AS g" >/dev/null ||
    fail "adding assets"
for i in $(seq 1 1500); do
    echo "$i Inventory_Scan false"
    echo "$i Inventory_Scan true"
done >"$T/plan"
ok "two nodes, 1,500 assets, one agent"

CASE="launch storm across a database outage"
$MN launch "$CACERT" 'alice:alice-pw-1' "$BASE_A,$BASE_B" "$T/plan" 8 8 >"$T/launches" &
STORM=$!
sleep 1.5
"$ODS_SRC/scripts/pg-test-cluster" pause "$CLUSTER" || fail "$CASE: cannot stop PostgreSQL"
down_at=$(date +%s%3N)
sleep 2
# while the database is down the nodes say so
req GET "$BASE_A/healthz"
[ "$STATUS" = 503 ] || fail "$CASE: healthz on A during the outage: $STATUS"
"$ODS_SRC/scripts/pg-test-cluster" resume "$CLUSTER" || fail "$CASE: cannot start PostgreSQL"
up_at=$(date +%s%3N)
wait "$STORM" || fail "$CASE: launcher failed"
note "database down for $((up_at - down_at)) ms"
python3 - "$T/launches" <<'EOF' || fail "$CASE: bad answers"
import collections, json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
by = collections.Counter((r["status"], r["code"]) for r in recs)
print("# answers: %s" % dict(by))
first = min(i for i, r in enumerate(recs) if r["status"] != 200)
last = max(i for i, r in enumerate(recs) if r["status"] != 200)
print("# in order of answer: %d SUCCESS, then 503s from #%d to #%d (%d SUCCESS among them),"
      " then %d SUCCESS" % (first, first, last,
      sum(1 for r in recs[first:last] if r["status"] == 200), len(recs) - last - 1))
ok = [r for r in recs if r["status"] == 200]
other = [r for r in recs if r["status"] != 200]
assert all(r["code"] == "SUCCESS" and r["job"] > 0 for r in ok), "200 without SUCCESS"
bad = [r for r in other if r["status"] != 503 or r["code"] != "SERVICE_UNAVAILABLE"]
assert not bad, "not 503 SERVICE_UNAVAILABLE: %s" % bad[:3]
assert other, "no launch met the outage"
ok_after = [i for i, r in enumerate(recs) if r["status"] == 200]
assert ok_after[-1] > max(i for i, r in enumerate(recs) if r["status"] != 200), \
    "no launch succeeded after the outage"
with open(sys.argv[1] + ".acked", "w") as f:
    for r in ok:
        print(r["job"], r["asset"], 1 if r["override"] else 0, file=f)
EOF
# every acknowledged launch has its job, with the right asset and flag
db_query "$DB" "SELECT id, asset_id, override_cpu FROM jobs ORDER BY id" | tr '|' ' ' >"$T/db_jobs"
missing=$(sort "$T/launches.acked" | comm -23 - <(sort "$T/db_jobs") | head -n 3)
[ -z "$missing" ] || fail "$CASE: acknowledged but not in the database: $missing"
ok "$CASE: $(wc -l <"$T/launches.acked") acknowledged launches all in the database; the rest 503"

CASE="both nodes serve again without a restart"
for b in "$BASE_A" "$BASE_B"; do
    for _ in $(seq 1 100); do
        req GET "$b/healthz"
        [ "$STATUS" = 200 ] && break
        sleep 0.1
    done
    assert_status 200
done
REQ_USER='alice:alice-pw-1'
for b in "$BASE_A" "$BASE_B"; do
    req POST "$b/qps/rest/1.0/ods/ca/agentasset/1500?scan=Inventory_Scan&overrideConfigCpu=false&n=$RANDOM" \
        -H 'Content-Type: text/xml' \
        --data-binary '<?xml version="1.0" encoding="UTF-8" ?><ServiceRequest></ServiceRequest>'
    assert_status 200
    assert_xpath /ServiceResponse/responseCode SUCCESS
done
ok "$CASE"

CASE="after the outage a launch on A still wakes the agent waiting on B"
ASSET=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["asset_id"])' "$T/agent")
BEARER=$(python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(d["uuid"] + ":" + d["secret"])' "$T/agent")
curl -s --cacert "$CACERT" --max-time 70 -o "$T/checkin.json" \
    -H "Authorization: Bearer $BEARER" -H 'Content-Type: application/json' \
    --data-binary '{"agent_version":"0.1.0","running":[]}' "$BASE_B/agent/v1/checkin" &
CHECKIN=$!
sleep 1
t0=$(date +%s%3N)
req POST "$BASE_A/qps/rest/1.0/ods/ca/agentasset/$ASSET?scan=Inventory_Scan" \
    -H 'Content-Type: text/xml' \
    --data-binary '<?xml version="1.0" encoding="UTF-8" ?><ServiceRequest></ServiceRequest>'
assert_status 200
wait "$CHECKIN" || fail "$CASE: check-in failed"
t1=$(date +%s%3N)
[ $((t1 - t0)) -lt 10000 ] || fail "$CASE: the check-in answered after $((t1 - t0)) ms"
grep -q '"jobs":\[{' "$T/checkin.json" || fail "$CASE: no job in $(cat "$T/checkin.json")"
note "woken $((t1 - t0)) ms after the launch was sent"
ok "$CASE"

exit 0
