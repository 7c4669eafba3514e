# lib.sh - shared harness of the API tests: start real odscand processes on loopback,
# send requests with curl and check the answers. Sourced by every tests/api/t_*.sh.
#
# Environment (set by CTest): ODS_BIN (directory holding odscand and odscanctl),
# ODS_SRC (source tree), ODS_TMP (scratch directory). KEEP_TMP=1 keeps temp dirs.
# ODS_PG_URL_FILE (the pg/ tests): run every server on its own fresh PostgreSQL
# database, see pg.sh.
# Output is TAP-like: one `ok - ...` line per case; the first failing case prints
# `not ok - ...`, the tail of every server log, and the script exits 1.

set -euo pipefail

: "${ODS_BIN:?ODS_BIN must name the directory holding odscand and odscanctl}"
: "${ODS_SRC:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${ODS_TMP:=${TMPDIR:-/tmp}}"
mkdir -p "$ODS_TMP"

API_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=pg.sh
. "$API_DIR/pg.sh"
T=$(mktemp -d "$ODS_TMP/apitest.XXXXXX")   # this script's scratch space
REQ_USER=""                                 # "user:password" sent by req, if set
SERVER_PIDS=()                              # every odscand this script started
SERVER_DIRS=()                              # every state dir this script created
AGENT_PIDS=()                               # every odscan-agent this script started
AGENT_LOGS=()                               # their logs
XSD_FILE=""
_FAILED=0

ok() { printf 'ok - %s\n' "$*"; }

fail() {
    _FAILED=1
    printf 'not ok - %s\n' "$*"
    exit 1
}

# note prints a diagnostic line that is not a test result.
note() { printf '# %s\n' "$*"; }

_cleanup() {
    local rc=$?
    local pid dir i
    set +e
    for pid in "${AGENT_PIDS[@]}"; do
        kill -0 "$pid" 2>/dev/null || continue
        kill -CONT "$pid" 2>/dev/null
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in "${AGENT_PIDS[@]}"; do
        for i in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    if [ "$rc" -ne 0 ] || [ "$_FAILED" -ne 0 ]; then
        for dir in "${AGENT_LOGS[@]}"; do
            if [ -f "$dir" ]; then
                note "--- tail of $(basename "$dir")"
                tail -n 20 "$dir" | sed 's/^/#   /'
            fi
        done
        for dir in "${SERVER_DIRS[@]}"; do
            if [ -f "$dir/server.log" ]; then
                note "--- tail of $dir/server.log"
                tail -n 30 "$dir/server.log" | sed 's/^/#   /'
            fi
        done
        if [ -f "$T/body" ]; then
            note "--- last response body"
            head -c 2000 "$T/body" | sed 's/^/#   /'
            echo
        fi
    fi
    for pid in "${SERVER_PIDS[@]}"; do
        kill -0 "$pid" 2>/dev/null || continue
        kill -CONT "$pid" 2>/dev/null
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in "${SERVER_PIDS[@]}"; do
        for i in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            note "server $pid ignored SIGTERM for 10 s; killing it"
            kill -9 "$pid" 2>/dev/null
        fi
        wait "$pid" 2>/dev/null
    done
    if [ -z "${KEEP_TMP:-}" ]; then
        for dir in "${SERVER_DIRS[@]}"; do rm -rf "$dir"; done
        rm -rf "$T"
    else
        note "kept $T ${SERVER_DIRS[*]}"
    fi
    exit "$rc"
}
trap _cleanup EXIT

[ -x "$ODS_BIN/odscand" ] || fail "no executable $ODS_BIN/odscand (build first)"
[ -x "$ODS_BIN/odscanctl" ] || fail "no executable $ODS_BIN/odscanctl (build first)"

# free_port prints a TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# new_state_dir sets NEW_DIR to a fresh state directory, removed at exit. (Not a
# $(...) helper: the list of directories must be kept by this shell.)
new_state_dir() {
    NEW_DIR=$(mktemp -d "$ODS_TMP/api.XXXXXX")
    SERVER_DIRS+=("$NEW_DIR")
}

# run_server DIR PORT SCHEME [odscand args...] starts odscand with --state-dir DIR and
# the given args (the caller says where to listen) - against PostgreSQL also with
# --db, the database made for DIR on its first start (DIR/db_url) - waits up to 10 s for
# SCHEME://127.0.0.1:PORT/healthz to answer 200, and exports SRV_DIR, SRV_PORT,
# SRV_PID, BASE and CACERT. Fails the test if the server dies or never answers.
run_server() {
    local dir=$1 port=$2 scheme=$3 i code
    shift 3
    if pg_mode; then
        [ -s "$dir/db_url" ] || pg_new_db >"$dir/db_url" || fail "cannot create a PostgreSQL database"
        set -- --db "$(cat "$dir/db_url")" "$@"
    fi
    "$ODS_BIN/odscand" --state-dir "$dir" "$@" >>"$dir/server.log" 2>&1 &
    SRV_PID=$!
    SERVER_PIDS+=("$SRV_PID")
    SRV_DIR=$dir
    SRV_PORT=$port
    BASE="$scheme://127.0.0.1:$port"
    CACERT="$dir/tls/cert.pem"
    local prev="" a
    for a in "$@"; do
        [ "$prev" = --tls-cert ] && CACERT=$a
        prev=$a
    done
    export SRV_DIR SRV_PORT SRV_PID BASE CACERT
    for i in $(seq 1 100); do
        if ! kill -0 "$SRV_PID" 2>/dev/null; then
            wait "$SRV_PID" && code=0 || code=$?
            fail "odscand exited with status $code during start-up: $(tail -n 3 "$dir/server.log" | tr '\n' ' ')"
        fi
        if [ "$scheme" = https ]; then
            code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --cacert "$CACERT" "$BASE/healthz" || true)
        else
            code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$BASE/healthz" || true)
        fi
        [ "$code" = 200 ] && return 0
        sleep 0.1
    done
    fail "odscand did not answer $BASE/healthz with 200 within 10 s (last status $code)"
}

# start_server [extra flags] starts a server on a new state dir and a free port.
# --insecure-http among the flags makes it plain HTTP.
start_server() {
    local dir port scheme=https a
    for a in "$@"; do [ "$a" = --insecure-http ] && scheme=http; done
    new_state_dir
    dir=$NEW_DIR
    port=$(free_port)
    run_server "$dir" "$port" "$scheme" --listen "127.0.0.1:$port" "$@"
}

# restart_server DIR [extra flags] starts a server again on an existing state dir.
restart_server() {
    local dir=$1 port
    shift
    port=$(free_port)
    run_server "$dir" "$port" https --listen "127.0.0.1:$port" "$@"
}

# stop_server [PID] sends SIGTERM and waits (10 s at most); sets STOP_RC to the exit status.
stop_server() {
    local pid=${1:-$SRV_PID} i
    kill -TERM "$pid"
    for i in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && fail "odscand $pid still running 10 s after SIGTERM"
    wait "$pid" && STOP_RC=0 || STOP_RC=$?
}

# kill9_server [PID] kills the server without warning and reaps it.
kill9_server() {
    local pid=${1:-$SRV_PID}
    kill -9 "$pid"
    wait "$pid" 2>/dev/null || true
}

# ctl ARGS...: odscanctl on the database of the last server started.
ctl() {
    if [ -s "$SRV_DIR/db_url" ]; then
        "$ODS_BIN/odscanctl" --db "$(cat "$SRV_DIR/db_url")" "$@"
    else
        "$ODS_BIN/odscanctl" --state-dir "$SRV_DIR" "$@"
    fi
}

# server_db prints what db_query takes for the last server's database.
server_db() {
    if [ -s "$SRV_DIR/db_url" ]; then cat "$SRV_DIR/db_url"; else echo "$SRV_DIR/odscan.db"; fi
}

# add_user NAME ROLE PASSWORD
add_user() {
    printf '%s\n' "$3" | ctl user add "$1" --role "$2" --password-stdin >/dev/null ||
        fail "odscanctl user add $1 --role $2 failed"
}

# add_asset ID [MODULES]  (MODULES: comma list such as VM,PC; default none)
add_asset() {
    local id=$1 mods=${2:-}
    if [ -n "$mods" ]; then
        ctl asset add --id "$id" --hostname "host-$id" --os linux --modules "$mods" >/dev/null
    else
        ctl asset add --id "$id" --hostname "host-$id" --os linux >/dev/null
    fi || fail "odscanctl asset add --id $id ${mods:+--modules $mods} failed"
}

# req METHOD PATH [curl args...]: one request with the server's CA, Basic auth from
# REQ_USER when set. PATH is appended to BASE unless it is a full URL.
# Sets STATUS; the body is in $BODY, the headers in $HEADERS.
BODY="$T/body"
HEADERS="$T/headers"
req() {
    local method=$1 path=$2 url
    shift 2
    case $path in http://*|https://*) url=$path ;; *) url="$BASE$path" ;; esac
    local args=(-s -o "$BODY" -D "$HEADERS" -w '%{http_code}' --max-time 30 -X "$method")
    [ -f "$CACERT" ] && args+=(--cacert "$CACERT")
    [ -n "$REQ_USER" ] && args+=(-u "$REQ_USER")
    : >"$BODY"
    : >"$HEADERS"
    STATUS=$(curl "${args[@]}" "$@" "$url") || STATUS="curl-exit-$?:$STATUS"
}

# launch ASSET SCAN [OVERRIDE] [curl args...]: POST the vendor's body to the launch URL.
launch() {
    local asset=$1 scan=$2 ovr=${3:-} q
    shift $(( $# >= 3 ? 3 : $# ))
    q="scan=$scan"
    [ -n "$ovr" ] && q="$q&overrideConfigCpu=$ovr"
    req POST "/qps/rest/1.0/ods/ca/agentasset/$asset?$q" -H 'Content-Type: text/xml' \
        --data-binary '<?xml version="1.0" encoding="UTF-8" ?><ServiceRequest></ServiceRequest>' "$@"
}

body_excerpt() { head -c 400 "$BODY" | tr '\n' ' '; }

assert_status() {
    [ "$STATUS" = "$1" ] || fail "${CASE:-request}: HTTP status $STATUS, expected $1; body: $(body_excerpt)"
}

# assert_xpath XPATH EXPECTED: string(XPATH) of the XML body equals EXPECTED.
assert_xpath() {
    local got
    got=$(xmllint --xpath "string($1)" "$BODY" 2>/dev/null) || got="<xpath failed>"
    [ "$got" = "$2" ] || fail "${CASE:-request}: $1 is '$got', expected '$2'; body: $(body_excerpt)"
}

# assert_xpath_nonempty XPATH
assert_xpath_nonempty() {
    local got
    got=$(xmllint --xpath "string($1)" "$BODY" 2>/dev/null) || got=""
    [ -n "$got" ] || fail "${CASE:-request}: $1 is empty or missing; body: $(body_excerpt)"
}

# xpath XPATH prints string(XPATH) of the body.
xpath() { xmllint --xpath "string($1)" "$BODY" 2>/dev/null || true; }

# assert_json PYEXPR EXPECTED: str(eval(PYEXPR)) with d = the parsed JSON body.
assert_json() {
    local got
    got=$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
v = eval(sys.argv[2])
print(json.dumps(v) if isinstance(v, (dict, list, bool)) or v is None else v)' "$BODY" "$1" 2>&1) ||
        fail "${CASE:-request}: JSON body: $1 failed: $(printf '%s' "$got" | tail -n 1); body: $(body_excerpt)"
    [ "$got" = "$2" ] || fail "${CASE:-request}: JSON $1 is '$got', expected '$2'; body: $(body_excerpt)"
}

# fetch_xsd downloads the server's schema once per script.
fetch_xsd() {
    [ -n "$XSD_FILE" ] && [ -s "$XSD_FILE" ] && return 0
    XSD_FILE="$T/agentasset.xsd"
    local args=(-s -o "$XSD_FILE" -w '%{http_code}')
    [ -f "$CACERT" ] && args+=(--cacert "$CACERT")
    local code
    code=$(curl "${args[@]}" "$BASE/qps/xsd/1.0/ca/agentasset.xsd") || code="curl-failed"
    [ "$code" = 200 ] && [ -s "$XSD_FILE" ] || fail "GET /qps/xsd/1.0/ca/agentasset.xsd: status $code or empty"
}

# assert_valid_xsd: the body validates against the server's own schema.
assert_valid_xsd() {
    fetch_xsd
    local out
    out=$(xmllint --noout --schema "$XSD_FILE" "$BODY" 2>&1) ||
        fail "${CASE:-request}: body does not validate against agentasset.xsd: $(printf '%s' "$out" | head -n 3 | tr '\n' ' '); body: $(body_excerpt)"
}

# header NAME prints the value of response header NAME (last one, CR stripped).
header() {
    grep -i "^$1:" "$HEADERS" | tail -n 1 | sed -e 's/^[^:]*:[[:space:]]*//' -e 's/\r$//' || true
}

# assert_header NAME REGEX (extended regex, matched against the whole value).
assert_header() {
    local v
    v=$(header "$1")
    printf '%s' "$v" | grep -Eq "^($2)\$" ||
        fail "${CASE:-request}: header $1 is '$v', expected /$2/"
}

# assert_body_lacks STRING
assert_body_lacks() {
    if grep -qF -- "$1" "$BODY"; then
        fail "${CASE:-request}: body contains '$1': $(body_excerpt)"
    fi
}

# assert_qps_error STATUS CODE: an XML error document with non-empty message and
# resolution, valid against the schema.
assert_qps_error() {
    assert_status "$1"
    assert_xpath /ServiceResponse/responseCode "$2"
    assert_xpath_nonempty /ServiceResponse/responseErrorDetails/errorMessage
    assert_xpath_nonempty /ServiceResponse/responseErrorDetails/errorResolution
    assert_valid_xsd
}

# assert_launch_ok MODULE ASSET: 200 SUCCESS naming MODULE and [ASSET], schema-valid.
assert_launch_ok() {
    assert_status 200
    assert_xpath /ServiceResponse/responseCode SUCCESS
    assert_xpath /ServiceResponse/count 1
    assert_xpath /ServiceResponse/data/SingleModuleResponse/module "$1"
    assert_xpath /ServiceResponse/data/SingleModuleResponse/count 1
    assert_xpath /ServiceResponse/data/SingleModuleResponse/assetIds "[$2]"
    assert_xpath /ServiceResponse/data/SingleModuleResponse/responseCode SUCCESS
    assert_valid_xsd
}

# jobs_json [ctl job list args...] prints the job list as normalized JSON lines:
# one object per job {"id","asset","scan","override","state"}, scan as the canonical
# query value (Inventory_Scan ... SWCA_scan). Fails the test if the CLI fails.
jobs_norm() {
    local out
    out=$(ctl job list --json "$@") || fail "odscanctl job list --json $* failed"
    printf '%s' "$out" | python3 "$API_DIR/jobs.py" jobs ||
        fail "cannot read the output of odscanctl job list --json: $(printf '%s' "$out" | head -c 300)"
}

audit_norm() {
    local out
    out=$(ctl audit list --json "$@") || fail "odscanctl audit list --json $* failed"
    printf '%s' "$out" | python3 "$API_DIR/jobs.py" audit ||
        fail "cannot read the output of odscanctl audit list --json: $(printf '%s' "$out" | head -c 300)"
}

# --- agents (tests/e2e) ---------------------------------------------------------------

# start_agent DIR [KEY] [odscan-agent args...] starts odscan-agent in the foreground
# against BASE (trusting CACERT) with state directory DIR, logging to DIR.log (appended,
# so restarts keep one log). KEY "" means none (an enrolled DIR needs none).
# Sets AGENT_PID; the agent is stopped at exit.
start_agent() {
    local dir=$1 key=${2:-}
    shift $(( $# >= 2 ? 2 : $# ))
    [ -x "$ODS_BIN/odscan-agent" ] || fail "no executable $ODS_BIN/odscan-agent (build first)"
    local args=(--server "$BASE" --state-dir "$dir" --ca-cert "$CACERT" --foreground)
    [ -n "$key" ] && args+=(--activation-key "$key")
    "$ODS_BIN/odscan-agent" "${args[@]}" "$@" >>"$dir.log" 2>&1 &
    AGENT_PID=$!
    AGENT_PIDS+=("$AGENT_PID")
    case " ${AGENT_LOGS[*]} " in *" $dir.log "*) ;; *) AGENT_LOGS+=("$dir.log") ;; esac
}

# wait_enrolled DIR PID: up to 15 s for DIR/identity.json; fails if the agent exits.
# Sets ASSET_ID from the identity.
wait_enrolled() {
    local dir=$1 pid=$2 i
    for i in $(seq 1 150); do
        [ -s "$dir/identity.json" ] && break
        kill -0 "$pid" 2>/dev/null || fail "odscan-agent ($dir) exited before enrolling: $(tail -n 3 "$dir.log" | tr '\n' ' ')"
        sleep 0.1
    done
    [ -s "$dir/identity.json" ] || fail "odscan-agent ($dir) did not enroll within 15 s"
    ASSET_ID=$(identity_field "$dir" asset_id)
    [[ $ASSET_ID =~ ^[0-9]+$ ]] || fail "identity.json of $dir has asset_id '$ASSET_ID'"
}

# identity_field DIR KEY prints one member of DIR/identity.json.
identity_field() {
    python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
        "$1/identity.json" "$2"
}

# stop_agent PID: SIGTERM, wait up to 10 s; sets STOP_RC to the exit status.
stop_agent() {
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && fail "odscan-agent $pid still running 10 s after SIGTERM"
    wait "$pid" && STOP_RC=0 || STOP_RC=$?
}

# kill9_agent PID kills an agent without warning and reaps it.
kill9_agent() {
    kill -9 "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# agent_req DIR METHOD PATH [curl args...]: req with the agent credentials of
# DIR/identity.json (Bearer uuid:secret) instead of REQ_USER.
agent_req() {
    local dir=$1 saved=$REQ_USER uuid secret
    shift
    uuid=$(identity_field "$dir" agent_uuid)
    secret=$(identity_field "$dir" agent_secret)
    REQ_USER=""
    req "$@" -H "Authorization: Bearer $uuid:$secret" -H 'Content-Type: application/json'
    REQ_USER=$saved
}

# json_of EXPR prints eval(EXPR) over the JSON body as d (like assert_json, no check).
json_of() {
    python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
v = eval(sys.argv[2])
print(json.dumps(v) if isinstance(v, (dict, list, bool)) or v is None else v)' "$BODY" "$1" 2>/dev/null ||
        fail "${CASE:-request}: cannot evaluate $1 over the body: $(body_excerpt)"
}

# wait_job ID STATES SECONDS: poll GET /api/v1/jobs/ID (as REQ_USER) every 0.1 s until
# its state is one of STATES (a |-separated list), at most SECONDS. Sets JOB_STATE;
# the job's JSON is left in $BODY. Fails on timeout.
wait_job() {
    local id=$1 states=$2 secs=$3 deadline
    deadline=$(( $(date +%s%N) + secs * 1000000000 ))
    while :; do
        req GET "/api/v1/jobs/$id"
        [ "$STATUS" = 200 ] || fail "GET /api/v1/jobs/$id: status $STATUS; body: $(body_excerpt)"
        JOB_STATE=$(json_of 'd["state"]')
        case "|$states|" in *"|$JOB_STATE|"*) return 0 ;; esac
        [ "$(date +%s%N)" -lt "$deadline" ] ||
            fail "${CASE:-job}: job $id is $JOB_STATE after $secs s, expected $states; body: $(body_excerpt)"
        sleep 0.1
    done
}
