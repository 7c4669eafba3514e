#!/usr/bin/env bash
# t_enroll.sh - a real odscan-agent enrolls with an activation key: the identity file,
# the asset it becomes (the key's modules, the host's facts), reuse of the identity on
# restart, a new asset for a lost state directory, refused keys (used up, revoked,
# expired, unknown) that create nothing, and a database that holds no agent secret.
. "$(dirname "$0")/../api/lib.sh"

start_server
DB="$SRV_DIR/odscan.db"

# asset_count prints how many assets the server knows.
asset_count() {
    ctl asset list --json | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))' ||
        fail "odscanctl asset list --json failed"
}

# key_uses TOKEN prints the key's use count.
key_uses() {
    ctl key list --json | python3 -c 'import json, sys
print([k["uses"] for k in json.load(sys.stdin) if k["token"] == sys.argv[1]][0])' "$1" ||
        fail "key $1 not in odscanctl key list --json"
}

# --- the first enrollment -------------------------------------------------------------
CASE="key create"
KEY=$(ctl key create --name lab --modules VM,PC) || fail "$CASE: odscanctl key create failed"
[[ $KEY =~ ^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ ]] ||
    fail "$CASE: printed '$KEY', not a UUID"
ok "odscanctl key create --name lab --modules VM,PC prints a key"

CASE="enrollment"
A="$T/agent-a"
start_agent "$A" "$KEY"
PID_A=$AGENT_PID
wait_enrolled "$A" "$PID_A"
ID_A=$ASSET_ID
[ "$(stat -c %a "$A/identity.json")" = 600 ] ||
    fail "$CASE: identity.json has mode $(stat -c %a "$A/identity.json"), expected 600"
UUID_A=$(identity_field "$A" agent_uuid)
SECRET_A=$(identity_field "$A" agent_secret)
[[ $UUID_A =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]] ||
    fail "$CASE: agent_uuid '$UUID_A'"
[ "${#SECRET_A}" -ge 32 ] || fail "$CASE: agent_secret '$SECRET_A' is short"
[ "$(identity_field "$A" server)" = "$BASE" ] || fail "$CASE: identity server is not $BASE"
[ "$(asset_count)" = 1 ] || fail "$CASE: $(asset_count) assets after one enrollment"
[ "$(key_uses "$KEY")" = 1 ] || fail "$CASE: the key counts $(key_uses "$KEY") uses"
ok "the agent enrolled: identity.json mode 0600 with asset $ID_A and agent $UUID_A; key used once"

CASE="asset of the agent"
ctl asset show "$ID_A" --json >"$T/asset.json" || fail "$CASE: odscanctl asset show $ID_A --json failed"
# The host facts as this machine states them.
. /etc/os-release
python3 - "$T/asset.json" "$UUID_A" "$(hostname)" "$NAME" "${VERSION_ID:-}" "$(uname -m)" \
    "$(cat /etc/machine-id)" <<'EOF' || fail "$CASE: $(cat "$T/asset.json")"
import json, sys
a = json.load(open(sys.argv[1]))
a = a[0] if isinstance(a, list) else a
uuid, host, osname, osver, arch, mid = sys.argv[2:8]
want = {"modules": ["VM", "PC"], "agent_uuid": uuid, "hostname": host, "os_family": "linux",
        "os_name": osname, "os_version": osver, "arch": arch, "machine_id": mid,
        "agent_version": a.get("agent_version") or "<missing>", "key_id": 1}
for k, v in want.items():
    assert a.get(k) == v, "%s is %r, expected %r" % (k, a.get(k), v)
assert a["agent_version"] != "<missing>", "no agent_version"
EOF
ok "asset $ID_A has the key's modules VM,PC and the host's name, OS, arch and machine id"

# --- the identity is reused ------------------------------------------------------------
CASE="restart with the same state dir"
sha_before=$(sha256sum <"$A/identity.json")
stop_agent "$PID_A"
[ "$STOP_RC" = 0 ] || fail "$CASE: the agent exited $STOP_RC on SIGTERM"
start_agent "$A" ""                       # no key: the identity must do
PID_A=$AGENT_PID
add_user alice scanner 'alice-pw-1'
REQ_USER='alice:alice-pw-1'
launch "$ID_A" Inventory_Scan
assert_launch_ok "Inventory Scan" "$ID_A"
JOB=$(header X-Odscan-Job-Id)
wait_job "$JOB" "COMPLETED|FAILED" 30
[ "$JOB_STATE" = COMPLETED ] || fail "$CASE: job $JOB $JOB_STATE: $(json_of 'd["reason"]')"
[ "$(sha256sum <"$A/identity.json")" = "$sha_before" ] || fail "$CASE: identity.json changed"
[ "$(asset_count)" = 1 ] || fail "$CASE: $(asset_count) assets after a restart"
[ "$(key_uses "$KEY")" = 1 ] || fail "$CASE: the restart used the key again"
ok "restarted without a key, the agent kept asset $ID_A and ran its scan (job $JOB); no new asset"

CASE="fresh state dir"
B="$T/agent-b"
start_agent "$B" "$KEY"
PID_B=$AGENT_PID
wait_enrolled "$B" "$PID_B"
ID_B=$ASSET_ID
[ "$ID_B" != "$ID_A" ] || fail "$CASE: same asset id $ID_A"
[ "$(identity_field "$B" agent_uuid)" != "$UUID_A" ] || fail "$CASE: same agent uuid"
[ "$(asset_count)" = 2 ] || fail "$CASE: $(asset_count) assets, expected 2"
ctl asset show "$ID_A" >/dev/null || fail "$CASE: the old asset $ID_A is gone"
ok "a fresh state dir enrolls a new asset $ID_B; asset $ID_A stays"
stop_agent "$PID_B"

# --- refused keys --------------------------------------------------------------------
# expect_refused CASE KEY: the agent exits non-zero within 20 s, writes no identity, and
# the server has no new asset.
expect_refused() {
    local what=$1 key=$2 dir="$T/refused-$3" before rc i
    before=$(asset_count)
    start_agent "$dir" "$key"
    for i in $(seq 1 200); do
        kill -0 "$AGENT_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$AGENT_PID" 2>/dev/null && fail "$what: the agent still runs 20 s after a refused enrollment"
    wait "$AGENT_PID" && rc=0 || rc=$?
    [ "$rc" != 0 ] || fail "$what: the agent exited 0"
    [ ! -e "$dir/identity.json" ] || fail "$what: identity.json was written"
    grep -q 'refused' "$dir.log" || fail "$what: the agent's log does not say it was refused"
    [ "$(asset_count)" = "$before" ] || fail "$what: an asset was created"
    ok "$what: the agent exits $rc, no identity, no asset"
}

CASE="used-up key"
ONCE=$(ctl key create --name once --max-uses 1) || fail "$CASE: key create --max-uses 1 failed"
C="$T/agent-c"
start_agent "$C" "$ONCE"
wait_enrolled "$C" "$AGENT_PID"
stop_agent "$AGENT_PID"
ok "a key with --max-uses 1 enrolls one agent"
expect_refused "key with --max-uses 1 used a second time" "$ONCE" once
[ "$(key_uses "$ONCE")" = 1 ] || fail "used-up key: uses $(key_uses "$ONCE")"

CASE="revoked key"
REV=$(ctl key create --name gone) || fail "$CASE: key create failed"
ctl key revoke gone >/dev/null || fail "$CASE: key revoke failed"
expect_refused "revoked key" "$REV" revoked

CASE="expired key"
out=$(ctl key create --expires 2020-01-01 2>&1) && fail "$CASE: key create with a past --expires succeeded: $out"
[ "$(ctl key list --json | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')" = 3 ] ||
    fail "$CASE: a refused key create stored a key"
ok "odscanctl refuses a key that expires in the past"
EXP=$(ctl key create --name brief --expires "$(date -u -d '+2 seconds' +%Y-%m-%dT%H:%M:%SZ)") ||
    fail "$CASE: key create --expires in 2 s failed"
for i in $(seq 1 40); do            # until the server's clock is past the expiry
    [ "$(date -u +%s)" -gt "$(( $(date -u -d "$(ctl key list --json | python3 -c 'import json, sys
print([k["expires"] for k in json.load(sys.stdin) if k["name"] == "brief"][0])')" +%s) ))" ] && break
    sleep 0.1
done
expect_refused "key past its expiry" "$EXP" expired

expect_refused "unknown key" "00000000-0000-4000-8000-000000000000" unknown

# --- only a hash of the secret is stored -----------------------------------------------
CASE="secret hash"
rows=$(db_query "$(server_db)" "SELECT uuid || '|' || asset_id || '|' || secret_hash FROM agents WHERE uuid = '$UUID_A';") ||
    fail "$CASE: cannot read the agents table"
IFS='|' read -r row_uuid row_asset row_hash <<<"$rows"
[ "$row_uuid" = "$UUID_A" ] && [ "$row_asset" = "$ID_A" ] || fail "$CASE: agents row '$rows'"
[ -n "$row_hash" ] && [ "$row_hash" != "$SECRET_A" ] || fail "$CASE: secret_hash '$row_hash'"
n=$(db_query "$(server_db)" "SELECT count(*) FROM agents WHERE uuid || secret_hash || asset_id LIKE '%' || '$SECRET_A' || '%';")
[ "$n" = 0 ] || fail "$CASE: the secret appears in $n agents rows"
# The whole store must not hold the secret anywhere: an SQLite file (and its WAL) is
# searched as bytes; a PostgreSQL database through a dump of every table.
if [ -s "$SRV_DIR/db_url" ]; then
    dump=$T/db.dump
    pg_dump_db "$(cat "$SRV_DIR/db_url")" >"$dump" || fail "$CASE: cannot dump the database"
    stores=("$dump")
else
    sqlite3 "$DB" 'PRAGMA wal_checkpoint(FULL);' >/dev/null 2>&1 || true
    stores=("$DB" "$DB-wal")
fi
for f in "${stores[@]}" "$SRV_DIR/server.log"; do
    [ -f "$f" ] || continue
    n=$(grep -c -a -F -- "$SECRET_A" "$f" || true)
    [ "$n" = 0 ] || fail "$CASE: the agent secret appears $n times in $(basename "$f")"
done
# the same search finds what is there: the uuid is stored in the clear
[ "$(grep -c -a -F -- "$UUID_A" "${stores[@]}" 2>/dev/null | awk -F: '{s += $NF} END {print s}')" -gt 0 ] ||
    fail "$CASE: the search for the uuid found nothing: the search is broken"
ok "the database and the server log hold the agent's uuid and a hash, never its secret"

exit 0
