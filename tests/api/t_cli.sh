#!/usr/bin/env bash
# t_cli.sh - odscanctl against a fresh state directory: users, assets, jobs, audit,
# error exits with one-line reasons, --json output and --help everywhere.
set -euo pipefail

: "${ODS_BIN:?}" "${ODS_TMP:?}"
CTL="$ODS_BIN/odscanctl"
STATE=$(mktemp -d "$ODS_TMP/cli.XXXXXX")
OUT="$STATE/out"
ERR="$STATE/err"
trap 'rm -rf "$STATE"' EXIT
# shellcheck source=pg.sh
. "$(dirname "$0")/pg.sh"
# the database every command works on: the state directory's, or a fresh PostgreSQL one
if pg_mode; then
    DB=$(pg_new_db) || { echo "not ok - cannot create a PostgreSQL database"; exit 1; }
    DBARG=(--db "$DB")
else
    DB="$STATE/odscan.db"
    DBARG=(--state-dir "$STATE")
fi

fail() {
    echo "not ok - $*" >&2
    echo "--- stdout:" >&2; cat "$OUT" >&2 || true
    echo "--- stderr:" >&2; cat "$ERR" >&2 || true
    exit 1
}
ok() { echo "ok - $*"; }

# run [ARGS...]: odscanctl on the test database; stdin is inherited. Sets $rc, so
# feed it with redirections, never through a pipe (that would run it in a subshell).
run() {
    rc=0
    "$CTL" "${DBARG[@]}" "$@" >"$OUT" 2>"$ERR" || rc=$?
}

# expect_ok CASE ARGS...
expect_ok() {
    local what=$1; shift
    run "$@" </dev/null
    [ "$rc" -eq 0 ] || fail "$what: exit $rc"
    ok "$what"
}

# expect_err CASE STATUS MESSAGE ARGS...: exit STATUS and exactly the line MESSAGE.
expect_err() {
    local what=$1 status=$2 msg=$3; shift 3
    run "$@" </dev/null
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

# --- help and version --------------------------------------------------------------
"$CTL" --help >"$OUT" 2>"$ERR" || fail "--help"
grep -q '^usage: odscanctl' "$OUT" || fail "--help prints usage"
ok "global --help"
"$CTL" --version >"$OUT" 2>"$ERR" || fail "--version"
grep -q '^odscanctl [0-9]' "$OUT" || fail "--version output"
ok "--version"
for cmd in "user" "user add" "user list" "user passwd" "user del" "user role" \
           "asset" "asset add" "asset list" "asset show" \
           "job" "job list" "job show" "audit" "audit list"; do
    # shellcheck disable=SC2086
    "$CTL" $cmd --help >"$OUT" 2>"$ERR" || fail "$cmd --help: exit status"
    grep -q "^usage: odscanctl .* ${cmd%% *} " "$OUT" || fail "$cmd --help: usage on stdout"
    [ ! -s "$ERR" ] || fail "$cmd --help: stderr not empty"
done
ok "--help on every group and command"

# --- usage errors --------------------------------------------------------------------
expect_err "unknown option" 2 "unknown option '--bogus' for 'user list'" user list --bogus
rc=0; "$CTL" --state-dir "$STATE" --db "sqlite:$STATE/x.db" user list >"$OUT" 2>"$ERR" </dev/null || rc=$?
[ "$rc" -eq 2 ] && [ "$(cat "$ERR")" = "odscanctl: give --state-dir or --db, not both" ] ||
    fail "both --state-dir and --db: exit $rc"
ok "both --state-dir and --db"
rc=0; "$CTL" user list >"$OUT" 2>"$ERR" || rc=$?
[ "$rc" -eq 2 ] && grep -q 'no database' "$ERR" || fail "no --state-dir/--db: exit $rc"
ok "missing --state-dir is a usage error"
# nothing listens on port 1: refused at once, one line naming the cause
rc=0; "$CTL" --db postgresql://odscan@127.0.0.1:1/odscan user list >"$OUT" 2>"$ERR" || rc=$?
[ "$rc" -eq 1 ] || fail "unreachable postgresql url: exit $rc"
[ "$(wc -l <"$ERR")" -eq 1 ] && grep -q '^odscanctl: cannot connect to PostgreSQL: ' "$ERR" ||
    fail "unreachable postgresql message"
ok "unreachable PostgreSQL: exit 1 with one line"
expect_err "unknown group" 2 "unknown command group 'frob' (see odscanctl --help)" frob
expect_err "unknown command" 2 "unknown command 'user frob' (see odscanctl user --help)" user frob

# --- empty database ------------------------------------------------------------------
expect_ok "job list on empty db" job list
[ "$(wc -l <"$OUT")" -eq 1 ] || fail "empty job list prints only the header"
run job list --json </dev/null
[ "$rc" -eq 0 ] && json_ok "job list --json" && [ "$(jq_py 'len(d)')" = 0 ] || fail "empty job list json"
ok "job list --json on empty db is []"
expect_err "job show missing" 1 "job 5 not found" job show 5

# --- users ---------------------------------------------------------------------------
run user add alice --role manager <<<"s3cret"
[ "$rc" -eq 0 ] || fail "user add alice: exit $rc"
ok "user add with password on stdin"
run user add bob --role reader --password-stdin <<<$'pw\r'
[ "$rc" -eq 0 ] || fail "user add bob: exit $rc"
ok "user add --password-stdin with CRLF"
run user add alice --role reader <<<"x"
[ "$rc" -eq 1 ] && [ "$(cat "$ERR")" = "odscanctl: user 'alice' already exists" ] || fail "duplicate user"
ok "duplicate user exits 1 with one line"
run user add carol --role reader <<<""
[ "$rc" -eq 1 ] && [ "$(cat "$ERR")" = "odscanctl: empty password refused" ] || fail "empty password"
ok "empty password refused"
run user add carol --role reader < <(head -c 1025 /dev/zero | tr '\0' x)
[ "$rc" -eq 1 ] && grep -q 'password longer than' "$ERR" || fail "long password"
ok "overlong password refused"
expect_err "bad role" 2 "unknown role 'god' (manager, scanner or reader)" user add carol --role god
expect_err "missing role" 2 "missing --role (manager, scanner or reader)" user add carol
expect_err "bad user name" 2 \
    "invalid user name 'a b' (1-63 characters of A-Z a-z 0-9 . _ @ -)" user add 'a b' --role reader
long=$(printf 'u%.0s' $(seq 64))
expect_err "user name too long" 2 \
    "invalid user name '$long' (1-63 characters of A-Z a-z 0-9 . _ @ -)" user add "$long" --role reader

expect_ok "user list" user list
grep -q '^alice  *manager ' "$OUT" && grep -q '^bob  *reader ' "$OUT" || fail "user list rows"
grep -q 'argon2' "$OUT" && fail "user list shows a hash"
run user list --json </dev/null
json_ok "user list --json"
[ "$(jq_py '[u["name"] for u in d]')" = "['alice', 'bob']" ] || fail "user list json names"
[ "$(jq_py 'sorted(d[0].keys())')" = "['created', 'failed_count', 'id', 'locked_until', 'name', 'role']" ] \
    || fail "user json keys: $(jq_py 'sorted(d[0].keys())')"
grep -q 'argon2' "$OUT" && fail "user list --json shows a hash"
ok "user list --json"

hash_before=$(db_query "$DB" "select pwhash from users where name = 'bob'")
run user passwd bob <<<"newpw"
[ "$rc" -eq 0 ] || fail "user passwd: exit $rc"
hash_after=$(db_query "$DB" "select pwhash from users where name = 'bob'")
[ "$hash_before" != "$hash_after" ] || fail "user passwd did not change the hash"
case "$hash_after" in '$argon2id$'*) ;; *) fail "stored hash is not argon2id" ;; esac
ok "user passwd changes the stored argon2id hash"
run user passwd nobody <<<"x"
[ "$rc" -eq 1 ] && [ "$(cat "$ERR")" = "odscanctl: user 'nobody' not found" ] || fail "passwd unknown user"
ok "user passwd unknown user"

expect_ok "user role" user role bob scanner
run user list --json </dev/null
[ "$(jq_py '[u["role"] for u in d if u["name"] == "bob"][0]')" = scanner ] || fail "role not changed"
ok "user role took effect"
expect_err "user role bad role" 2 "unknown role 'root' (manager, scanner or reader)" user role bob root
expect_err "user role unknown user" 1 "user 'nobody' not found" user role nobody reader
expect_ok "user del" user del bob
expect_err "user del again" 1 "user 'bob' not found" user del bob

# --- assets --------------------------------------------------------------------------
expect_ok "asset add" asset add --id 19105105 --hostname web-01.example.com --os linux \
    --modules VM,PC --uuid 6a1d2c3e-0000-4000-8000-000000000001
expect_ok "asset add without modules" asset add --id 7 --hostname=db-7 --os windows
expect_err "duplicate asset" 1 "asset 7 already exists" asset add --id 7 --hostname x --os linux
expect_err "duplicate agent uuid" 1 \
    "an asset with agent uuid 6a1d2c3e-0000-4000-8000-000000000001 already exists" \
    asset add --id 8 --hostname x --os linux --uuid 6a1d2c3e-0000-4000-8000-000000000001
expect_err "bad os" 2 "unknown os 'beos' (linux, windows, macos or unix)" \
    asset add --id 9 --hostname x --os beos
expect_err "bad module" 2 "unknown module 'XYZ' (VM, PC, SCA, SWCA, UDC)" \
    asset add --id 9 --hostname x --os linux --modules VM,XYZ
for bad in 0 -1 abc 9223372036854775808 ""; do
    expect_err "bad asset id '$bad'" 2 "invalid asset id '$bad' (want 1..9223372036854775807)" \
        asset add --id "$bad" --hostname x --os linux
done
expect_ok "largest asset id" asset add --id 9223372036854775807 --hostname big --os unix
expect_err "bad uuid" 2 "invalid agent uuid 'nope' (want xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)" \
    asset add --id 9 --hostname x --os linux --uuid nope
expect_err "missing --os" 2 "'asset add' needs --id, --hostname and --os" asset add --id 9 --hostname x
expect_err "option twice" 2 "option --id given twice" asset add --id 9 --id 10 --hostname x --os linux

expect_ok "asset list" asset list
[ "$(wc -l <"$OUT")" -eq 4 ] || fail "asset list: want header + 3 rows"
grep -q '^19105105  *web-01.example.com  *linux  *VM,PC ' "$OUT" || fail "asset list row"
ok "asset list rows"
run asset list --json </dev/null
json_ok "asset list --json"
[ "$(jq_py '[a["id"] for a in d]')" = "[7, 19105105, 9223372036854775807]" ] || fail "asset ids"
[ "$(jq_py 'd[1]["modules"]')" = "['VM', 'PC']" ] || fail "asset modules json"
[ "$(jq_py 'd[0]["agent_uuid"]')" = "None" ] || fail "asset without uuid: null"
ok "asset list --json"
expect_ok "asset show" asset show 19105105
grep -q '^HOSTNAME  *web-01.example.com$' "$OUT" || fail "asset show hostname"
run asset show 19105105 --json </dev/null
json_ok "asset show --json"
[ "$(jq_py 'd[0]["os_family"]')" = linux ] || fail "asset show json"
ok "asset show --json"
expect_err "asset show missing" 1 "asset 42 not found" asset show 42
expect_err "asset show bad id" 2 "invalid asset id 'x' (want 1..9223372036854775807)" asset show x

# --- jobs and audit --------------------------------------------------------------------
expect_ok "job list --asset" job list --asset 7
expect_err "job list bad asset" 2 "invalid asset id '0' (want 1..9223372036854775807)" job list --asset 0
run audit list --json </dev/null
json_ok "audit list --json"
[ "$(jq_py 'len(d)')" = 0 ] || fail "audit empty"
ok "audit list --json on a db without launches"
expect_ok "audit list --limit" audit list --limit 5
expect_err "audit list bad limit" 2 "invalid --limit '0' (want 1..1000000)" audit list --limit 0

echo "all cli tests passed"
