#!/usr/bin/env bash
# t_cli_agent.sh - odscanctl's agent-side commands against a fresh state directory:
# activation keys, profiles, 'job show' with the job's life and 'asset show' with the
# profile in force and the inventory summary; --json output, one-line errors, --help.
set -euo pipefail

: "${ODS_BIN:?}" "${ODS_TMP:?}"
CTL="$ODS_BIN/odscanctl"
STATE=$(mktemp -d "$ODS_TMP/cli-agent.XXXXXX")
DB="$STATE/odscan.db"
OUT="$STATE/out"
ERR="$STATE/err"
trap 'rm -rf "$STATE"' EXIT

fail() {
    echo "not ok - $*" >&2
    echo "--- stdout:" >&2; cat "$OUT" >&2 || true
    echo "--- stderr:" >&2; cat "$ERR" >&2 || true
    exit 1
}
ok() { echo "ok - $*"; }

run() {
    rc=0
    "$CTL" --state-dir "$STATE" "$@" >"$OUT" 2>"$ERR" </dev/null || rc=$?
}

expect_ok() {
    local what=$1; shift
    run "$@"
    [ "$rc" -eq 0 ] || fail "$what: exit $rc"
    ok "$what"
}

# expect_err CASE STATUS MESSAGE ARGS...: exit STATUS and exactly the line MESSAGE.
expect_err() {
    local what=$1 status=$2 msg=$3; shift 3
    run "$@"
    [ "$rc" -eq "$status" ] || fail "$what: exit $rc, want $status"
    [ "$(wc -l <"$ERR")" -eq 1 ] || fail "$what: want one line on stderr"
    [ "$(cat "$ERR")" = "odscanctl: $msg" ] || fail "$what: stderr '$(cat "$ERR")'"
    ok "$what"
}

json_ok() {
    python3 -c 'import json,sys; json.load(sys.stdin)' <"$OUT" || fail "$1: not JSON"
}

# jq_py EXPR: evaluate a python expression over the parsed output `d`.
jq_py() {
    python3 -c "import json,sys; d=json.load(sys.stdin); print($1)" <"$OUT"
}

# sql STATEMENT: write to the test database directly (what the server would have done).
sql() {
    python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit()' "$DB" "$1"
}

# --- help ------------------------------------------------------------------------------
for cmd in "key" "key create" "key list" "key revoke" \
           "profile" "profile create" "profile list" "profile assign"; do
    # shellcheck disable=SC2086
    "$CTL" $cmd --help >"$OUT" 2>"$ERR" || fail "$cmd --help: exit status"
    grep -q "^usage: odscanctl .* ${cmd%% *} " "$OUT" || fail "$cmd --help: usage on stdout"
    [ ! -s "$ERR" ] || fail "$cmd --help: stderr not empty"
done
"$CTL" --help >"$OUT" 2>&1
grep -q '^  key ' "$OUT" && grep -q '^  profile ' "$OUT" || fail "global --help lists key and profile"
ok "--help on the key and profile groups and commands"

# --- keys ------------------------------------------------------------------------------
UUID_RE='^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
expect_ok "key create with every option" key create --name lab --modules VM,PC --max-uses 3 \
    --expires 2099-01-01
[ "$(wc -l <"$OUT")" -eq 1 ] && grep -Eq "$UUID_RE" "$OUT" || fail "key create prints one UUID v4"
LAB=$(cat "$OUT")
expect_ok "key create without options" key create
PLAIN=$(cat "$OUT")
grep -Eq "$UUID_RE" "$OUT" && [ "$PLAIN" != "$LAB" ] || fail "second key is a new UUID"
expect_ok "key create with a full time" key create --name timed --expires 2099-06-30T12:30:00Z

expect_ok "key list" key list
[ "$(wc -l <"$OUT")" -eq 4 ] || fail "key list: want header + 3 rows"
head -1 "$OUT" | grep -q '^TOKEN  *NAME  *MODULES  *USES  *EXPIRES  *REVOKED  *CREATED$' || fail "key list header"
grep -q "^$LAB  *lab  *VM,PC  *0/3  *2099-01-02T00:00:00Z  *no " "$OUT" || fail "key list row with limits"
grep -q "^$PLAIN  *-  *-  *0/-  *never  *no " "$OUT" || fail "key list row without limits"
ok "key list rows"
run key list --json
json_ok "key list --json"
[ "$(jq_py '[k["token"] for k in d][:2]')" = "['$LAB', '$PLAIN']" ] || fail "key json tokens"
[ "$(jq_py 'd[0]["modules"]')" = "['VM', 'PC']" ] || fail "key json modules"
[ "$(jq_py 'd[0]["max_uses"], d[1]["max_uses"]')" = "3 None" ] || fail "key json max_uses"
[ "$(jq_py 'd[0]["expires"], d[1]["expires"], d[2]["expires"]')" = \
  "2099-01-02T00:00:00Z None 2099-06-30T12:30:00Z" ] || fail "key json expires"
[ "$(jq_py 'd[1]["name"], d[0]["revoked"]')" = "None False" ] || fail "key json name/revoked"
[ "$(jq_py 'sorted(d[0].keys())')" = \
  "['created', 'expires', 'id', 'max_uses', 'modules', 'name', 'revoked', 'token', 'uses']" ] \
    || fail "key json keys"
ok "key list --json"

expect_err "key expiry in the past" 2 "--expires '2020-01-01' is in the past" key create --expires 2020-01-01
expect_err "key expiry impossible date" 2 "invalid --expires '2099-02-30' (no such date or time)" \
    key create --expires 2099-02-30
expect_err "key expiry malformed" 2 \
    "invalid --expires 'tomorrow' (want YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)" key create --expires tomorrow
expect_err "key expiry without Z" 2 \
    "invalid --expires '2099-01-01T00:00:00' (want YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)" \
    key create --expires 2099-01-01T00:00:00
expect_err "key bad max-uses" 2 "invalid --max-uses '-1' (want 0..2147483647, 0: unlimited)" \
    key create --max-uses -1
expect_err "key bad module" 2 "unknown module 'XYZ' (VM, PC, SCA, SWCA, UDC)" key create --modules XYZ
expect_err "key duplicate name" 1 "a key named 'lab' already exists" key create --name lab
run key list
[ "$(wc -l <"$OUT")" -eq 4 ] || fail "refused creates wrote nothing"
ok "refused key creates write nothing"

expect_ok "key revoke by name" key revoke lab
[ "$(cat "$OUT")" = "key 'lab' revoked" ] || fail "key revoke output"
expect_ok "key revoke by token" key revoke "$PLAIN"
run key list --json
[ "$(jq_py '[k["revoked"] for k in d]')" = "[True, True, False]" ] || fail "revoked flags"
ok "revocations took effect"
expect_err "key revoke unknown" 1 "key 'nope' not found" key revoke nope
expect_err "key revoke without argument" 2 "'key revoke' needs TOKEN|NAME" key revoke

# --- profiles --------------------------------------------------------------------------
expect_ok "profile create with defaults" profile create plain
[ "$(cat "$OUT")" = "profile 'plain' created (id 5)" ] || fail "profile create output"
expect_ok "profile create with every option" profile create slow --cpu-limit 20 \
    --cpu-throttle 50 --checkin-hold 30 --lease 600 --max-concurrent 2
expect_ok "profile list" profile list
[ "$(wc -l <"$OUT")" -eq 7 ] || fail "profile list: header + 4 defaults + 2"
grep -q '^2  *windows-default  *windows  *100  *100  *60s  *300s  *1$' "$OUT" || fail "windows default row"
grep -q '^5  *plain  *-  *100  *0  *60s  *300s  *1$' "$OUT" || fail "plain row"
grep -q '^6  *slow  *-  *20  *50  *30s  *600s  *2$' "$OUT" || fail "slow row"
ok "profile list rows"
run profile list --json
json_ok "profile list --json"
[ "$(jq_py '[p["name"] for p in d]')" = \
  "['linux-default', 'windows-default', 'macos-default', 'unix-default', 'plain', 'slow']" ] \
    || fail "profile names"
[ "$(jq_py 'd[1]["default_for"], d[4]["default_for"], d[5]["lease_s"]')" = "windows None 600" ] \
    || fail "profile json fields"
ok "profile list --json"

while read -r opt bad want; do
    expect_err "profile $opt $bad" 2 "invalid $opt '$bad' (want $want)" profile create p $opt "$bad"
done <<'CASES'
--cpu-limit 1 2..100
--cpu-limit 101 2..100
--cpu-throttle 1001 0..1000
--cpu-throttle -1 0..1000
--checkin-hold 0 1..600
--checkin-hold 601 1..600
--lease 9 10..86400
--lease 86401 10..86400
--max-concurrent 0 1..6
--max-concurrent 7 1..6
--lease abc 10..86400
CASES
expect_err "profile duplicate" 1 "profile 'slow' already exists" profile create slow
expect_err "profile bad name" 2 \
    "invalid profile name 'a b' (1-63 characters of A-Z a-z 0-9 . _ -)" profile create 'a b'
expect_err "profile create without name" 2 "'profile create' needs NAME [--cpu-limit 2..100] [--cpu-throttle 0..1000] [--checkin-hold 1..600] [--lease 10..86400] [--max-concurrent 1..6]" profile create

# --- asset show: profile in force --------------------------------------------------------
"$CTL" --state-dir "$STATE" asset add --id 7 --hostname win-7 --os windows >/dev/null
"$CTL" --state-dir "$STATE" asset add --id 8 --hostname lin-8 --os linux >/dev/null
expect_ok "asset show before any agent" asset show 7
grep -q '^PROFILE  *windows-default (OS default)$' "$OUT" || fail "windows default in force"
grep -q '^CPU_THROTTLE  *100$' "$OUT" || fail "windows default throttles"
grep -q '^INVENTORY_OS  *-$' "$OUT" && grep -q '^INVENTORY_SCANS  *-$' "$OUT" || fail "no inventory yet"
ok "asset show: OS default profile, no inventory"
run asset show 7 --json
json_ok "asset show --json"
[ "$(jq_py 'd[0]["inventory"], d[0]["inventory_history"], d[0]["profile"]["assigned"]')" = "None [] False" ] \
    || fail "asset show json without inventory"
ok "asset show --json without inventory"

expect_ok "profile assign" profile assign slow --asset 7
[ "$(cat "$OUT")" = "asset 7 now uses profile 'slow'" ] || fail "profile assign output"
run asset show 7
grep -q '^PROFILE  *slow (assigned)$' "$OUT" && grep -q '^CPU_LIMIT  *20$' "$OUT" \
    && grep -q '^CPU_THROTTLE  *50$' "$OUT" || fail "assigned profile in force"
ok "asset show: assigned profile in force"
expect_err "profile assign unknown profile" 1 "profile 'nope' not found" profile assign nope --asset 7
expect_err "profile assign unknown asset" 1 "asset 99 not found" profile assign slow --asset 99
expect_err "profile assign without asset" 2 "'profile assign' needs --asset N" profile assign slow
expect_err "profile assign bad asset" 2 "invalid asset id 'x' (want 1..9223372036854775807)" \
    profile assign slow --asset x

# --- asset show: an enrolled asset with an inventory -------------------------------------
sql "UPDATE assets SET fqdn = 'lin-8.example.com', os_name = 'Debian GNU/Linux',
       os_version = '12', arch = 'x86_64', machine_id = 'm-8', agent_version = '0.1.0',
       last_address = '192.0.2.8', last_checkin_ms = 1700000009000 WHERE id = 8;
     INSERT INTO jobs(id, asset_id, scan_type, override_cpu, state, requested_by, requested_from,
       created_ms, updated_ms, dispatched_ms, started_ms, finished_ms, lease_deadline_ms,
       attempts, cpu_applied, reason)
       VALUES (41, 8, 0, 0, 3, 'alice', '192.0.2.1', 1700000000000, 1700000005000,
       1700000001000, 1700000002000, 1700000005000, 0, 2, 'limit=20 throttle=0', '');
     INSERT INTO jobs(id, asset_id, scan_type, override_cpu, state, requested_by, requested_from,
       created_ms, updated_ms, attempts, reason)
       VALUES (42, 8, 1, 0, 4, 'alice', '192.0.2.1', 1700000000000, 1700000006000, 1,
       'scanner crashed');
     INSERT INTO inventory VALUES (8, 41, 1700000005000,
       '{\"os\":{\"pretty_name\":\"Debian GNU/Linux 12 (bookworm)\",\"name\":\"Debian\"},
         \"packages\":[{\"name\":\"a\"},{\"name\":\"b\"},{\"name\":\"c\"}],
         \"listening\":[{\"proto\":\"tcp\",\"port\":443},{\"proto\":\"tcp\",\"port\":22},
                        \"udp/53\",{\"proto\":\"tcp\",\"port\":22},{\"what\":1}],
         \"collected_at\":\"2023-11-14T22:13:24Z\"}');
     INSERT INTO inventory_history VALUES (8, 40, 1690000000000), (8, 41, 1700000005000);"
expect_ok "asset show with inventory" asset show 8
for line in 'FQDN  *lin-8.example.com' 'OS_NAME  *Debian GNU/Linux' 'ARCH  *x86_64' \
            'AGENT_VERSION  *0.1.0' 'LAST_ADDRESS  *192.0.2.8' 'LAST_CHECKIN  *2023-11-14T22:13:29Z' \
            'PROFILE  *linux-default (OS default)' 'INVENTORY_OS  *Debian GNU/Linux 12 (bookworm)' \
            'PACKAGES  *3' 'LISTENING  *tcp/22, tcp/443, udp/53' 'COLLECTED  *2023-11-14T22:13:24Z' \
            'INVENTORY_SCANS  *2023-11-14T22:13:25Z, 2023-07-22T04:26:40Z'; do
    grep -q "^$line\$" "$OUT" || fail "asset show line '$line'"
done
ok "asset show: agent fields and inventory summary"
run asset show 8 --json
json_ok "asset show --json with inventory"
[ "$(jq_py 'd[0]["inventory"]')" = "{'job_id': 41, 'collected_at': '2023-11-14T22:13:24Z', 'os': 'Debian GNU/Linux 12 (bookworm)', 'packages': 3, 'listening': ['tcp/22', 'tcp/443', 'udp/53']}" ] \
    || fail "inventory json: $(jq_py 'd[0]["inventory"]')"
[ "$(jq_py 'd[0]["inventory_history"]')" = "['2023-11-14T22:13:25Z', '2023-07-22T04:26:40Z']" ] \
    || fail "inventory history json"
[ "$(jq_py 'd[0]["fqdn"], d[0]["key_id"], d[0]["profile"]["name"]')" = "lin-8.example.com None linux-default" ] \
    || fail "asset agent fields json"
ok "asset show --json with inventory"
sql "UPDATE inventory SET document = 'not json' WHERE asset_id = 8"
expect_ok "asset show with an unreadable inventory" asset show 8
grep -q '^INVENTORY_OS  *-$' "$OUT" && grep -q '^COLLECTED  *2023-11-14T22:13:25Z$' "$OUT" \
    || fail "unreadable inventory falls back"

# --- job show ------------------------------------------------------------------------------
expect_ok "job show" job show 41
for line in 'STATE  *COMPLETED' 'REQUESTED_FROM  *192.0.2.1' 'DISPATCHED  *2023-11-14T22:13:21Z' \
            'STARTED  *2023-11-14T22:13:22Z' 'FINISHED  *2023-11-14T22:13:25Z' \
            'LEASE_DEADLINE  *-' 'ATTEMPTS  *2' 'CPU_APPLIED  *limit=20 throttle=0' 'REASON  *-'; do
    grep -q "^$line\$" "$OUT" || fail "job show line '$line'"
done
ok "job show: the job's life"
run job show 42 --json
json_ok "job show --json"
[ "$(jq_py 'd[0]["state"], d[0]["reason"], d[0]["started"], d[0]["attempts"]')" = "FAILED scanner crashed None 1" ] \
    || fail "job show json fields"
[ "$(jq_py 'sorted(d[0].keys())')" = "['asset_id', 'attempts', 'cpu_applied', 'created', 'dispatched', 'finished', 'id', 'lease_deadline', 'override_cpu', 'reason', 'requested_by', 'requested_from', 'scan_type', 'started', 'state', 'updated']" ] \
    || fail "job show json keys"
ok "job show --json"
expect_ok "job list keeps its columns" job list
head -1 "$OUT" | grep -q '^ID  *ASSET  *SCAN  *OVERRIDE  *STATE  *REQUESTED_BY  *CREATED$' || fail "job list header"

echo "all cli agent tests passed"
