#!/usr/bin/env bash
# t_agent_loop.sh - the daemon's side of the protocol against a mock of odscand's
# /agent/v1/ (tests/api/mock_agent_server.py, plain HTTP on loopback): enrollment
# (refused and accepted), identity reuse, spool flush before check-in, start/result
# calls, the unsupported-type failure, a 503 on upload kept and retried, SIGTERM.
set -euo pipefail

: "${ODS_BIN:?}" "${ODS_TMP:?}" "${ODS_SRC:?}"
AGENT="$ODS_BIN/odscan-agent"
WORK=$(mktemp -d "$ODS_TMP/agent-loop.XXXXXX")
STATE="$WORK/state"
LOG="$WORK/requests"
mock=""
agent=""
cleanup() {
    [ -n "$agent" ] && kill "$agent" 2>/dev/null || true
    [ -n "$mock" ] && kill "$mock" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
    echo "not ok - $*" >&2
    echo "--- requests:" >&2; cut -c1-300 "$LOG" >&2 || true
    echo "--- agent:" >&2; cat "$WORK/agent.err" >&2 || true
    exit 1
}
ok() { echo "ok - $*"; }

# start_mock ARGS...: the mock on a free port; sets $URL.
start_mock() {
    rm -f "$WORK/port"
    python3 "$ODS_SRC/tests/api/mock_agent_server.py" "$WORK/port" "$LOG" "$@" &
    mock=$!
    for _ in $(seq 50); do [ -s "$WORK/port" ] && break; sleep 0.1; done
    [ -s "$WORK/port" ] || fail "mock server did not start"
    URL="http://127.0.0.1:$(cat "$WORK/port")"
}
stop_mock() { kill "$mock"; wait "$mock" 2>/dev/null || true; mock=""; }

# requests PY-EXPR: evaluate over the list of logged requests `r`.
requests() {
    python3 -c "import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; print($1)" "$LOG"
}

# wait_for PY-EXPR: until it prints True (10 s at most).
wait_for() {
    for _ in $(seq 100); do
        [ "$(requests "$1" 2>/dev/null)" = True ] && return 0
        sleep 0.1
    done
    fail "timed out waiting for: $1"
}

stop_agent() {
    kill -TERM "$agent"
    rc=0
    wait "$agent" || rc=$?
    agent=""
    [ "$rc" -eq 0 ] || fail "agent exit $rc after SIGTERM, want 0"
}

# --- a refused activation key ----------------------------------------------------------
start_mock
rc=0
"$AGENT" --server "$URL" --state-dir "$STATE" --activation-key bad-key --foreground \
    2>"$WORK/agent.err" || rc=$?
[ "$rc" -eq 1 ] || fail "refused key: exit $rc, want 1"
[ "$(tail -n 1 "$WORK/agent.err")" = "odscan-agent: the activation key was refused" ] \
    || fail "refused key: last line '$(tail -n 1 "$WORK/agent.err")'"
[ ! -e "$STATE/identity.json" ] || fail "refused key: identity written"
ok "a refused activation key exits 1 and writes no identity"
stop_mock

# --- enrollment, jobs, a failed upload kept in the spool ------------------------------
: >"$LOG"
start_mock --jobs Inventory_Scan,PolicyCompliance_Scan --fail-results 1
"$AGENT" --server "$URL/" --state-dir "$STATE" --activation-key good-key --foreground \
    2>"$WORK/agent.err" &
agent=$!
# Done when a check-in follows both jobs' results: the agent has settled its spool
# (a round flushes it before checking in). Stopping earlier may legitimately leave a
# result whose 200 had not arrived yet in the spool.
wait_for 'sum(1 for x in r if x["path"] == "/agent/v1/jobs/40/result") >= 2 and max(i for i, x in enumerate(r) if x["path"] == "/agent/v1/checkin") > max(i for i, x in enumerate(r) if x["path"].endswith("/result"))'
stop_agent
[ "$(requests 'r[0]["path"]')" = /agent/v1/enroll ] || fail "first request is not enroll"
[ "$(requests 'sorted(k for k in r[0]["body"])')" = "['activation_key', 'agent_version', 'arch', 'fqdn', 'hostname', 'machine_id', 'os_family', 'os_name', 'os_version']" ] \
    || fail "enroll body members"
[ "$(requests 'r[0]["body"]["os_family"]')" = linux ] || fail "os_family"
[ "$(stat -c %a "$STATE/identity.json")" = 600 ] || fail "identity.json mode"
ok "enrolls once; identity.json is 0600"
[ "$(requests 'all(x["auth"] == "Bearer u-1:s-1" for x in r[1:])')" = True ] || fail "Bearer on every call"
ok "every call after enrollment carries the Bearer credentials"
[ "$(requests '[x["body"] for x in r if x["path"] == "/agent/v1/jobs/40/start"][0]')" = \
    "{'cpu_limit': 50, 'cpu_throttle': 0, 'unthrottled': False}" ] || fail "start body"
ok "start reports the profile's CPU budget"
[ "$(requests '[x["body"]["status"] for x in r if x["path"] == "/agent/v1/jobs/40/result"]')" = \
    "['COMPLETED', 'COMPLETED']" ] || fail "job 40 result uploads"
[ "$(requests '"packages" in [x["body"] for x in r if x["path"] == "/agent/v1/jobs/40/result"][-1]["result"]')" = True ] \
    || fail "job 40 result holds the inventory"
ok "a 503 on upload keeps the result and it is sent again"
[ "$(requests '[x["body"] for x in r if x["path"] == "/agent/v1/jobs/41/result"][0]')" = \
    "{'status': 'FAILED', 'reason': 'PolicyCompliance_Scan is not supported by this agent version'}" ] \
    || fail "job 41 result"
ok "an unsupported scan type is reported FAILED with its reason"
[ -z "$(ls -A "$STATE/spool")" ] || fail "spool not empty after delivery"
ok "the spool is empty once the server acknowledged"

# --- restart: identity reused, spooled result flushed before the check-in -------------
: >"$LOG"
printf '{"status":"FAILED","reason":"left over"}' >"$STATE/spool/77.json"
printf '{"partial' >"$STATE/spool/78.json.tmp"
"$AGENT" --server "$URL" --state-dir "$STATE" --foreground 2>"$WORK/agent.err" &
agent=$!
wait_for 'any(x["path"] == "/agent/v1/checkin" for x in r)'
stop_agent
[ "$(requests 'r[0]["path"]')" = /agent/v1/jobs/77/result ] || fail "spool not flushed first"
[ "$(requests 'any(x["path"] == "/agent/v1/enroll" for x in r)')" = False ] || fail "enrolled again"
[ ! -e "$STATE/spool/77.json" ] || fail "flushed entry not removed"
ok "a restart reuses the identity and flushes the spool before checking in"
