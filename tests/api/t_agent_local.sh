#!/usr/bin/env bash
# t_agent_local.sh - odscan-agent's local commands, no server: the inventory scan
# (valid JSON, dpkg count equal to dpkg-query's), the CPU limit under diag cpu-burn
# (loose), an unsupported scan type, and usage errors (exit 2, one line).
set -euo pipefail

: "${ODS_BIN:?}" "${ODS_TMP:?}"
AGENT="$ODS_BIN/odscan-agent"
WORK=$(mktemp -d "$ODS_TMP/agent-local.XXXXXX")
OUT="$WORK/out"
ERR="$WORK/err"
trap 'rm -rf "$WORK"' EXIT

fail() {
    echo "not ok - $*" >&2
    echo "--- stdout:" >&2; head -c 2000 "$OUT" >&2 || true
    echo "--- stderr:" >&2; cat "$ERR" >&2 || true
    exit 1
}
ok() { echo "ok - $*"; }

run() {
    rc=0
    "$AGENT" "$@" >"$OUT" 2>"$ERR" </dev/null || rc=$?
}

# py EXPR: evaluate a python expression over the parsed output `d`.
py() {
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($1)" "$OUT"
}

# expect_usage CASE MESSAGE ARGS...: exit 2 and exactly one line "odscan-agent: MESSAGE".
expect_usage() {
    local what=$1 msg=$2; shift 2
    run "$@"
    [ "$rc" -eq 2 ] || fail "$what: exit $rc, want 2"
    [ "$(wc -l <"$ERR")" -eq 1 ] || fail "$what: want one line on stderr"
    [ "$(cat "$ERR")" = "odscan-agent: $msg" ] || fail "$what: stderr '$(cat "$ERR")'"
    ok "$what"
}

# --- help and version ----------------------------------------------------------------
run --help
[ "$rc" -eq 0 ] && grep -q '^usage: odscan-agent' "$OUT" || fail "--help"
ok "--help"
run --version
[ "$rc" -eq 0 ] && grep -q '^odscan-agent [0-9]' "$OUT" || fail "--version"
ok "--version"

# --- the inventory scan --------------------------------------------------------------
run scan Inventory_Scan
[ "$rc" -eq 0 ] || fail "scan Inventory_Scan: exit $rc"
py 'd["collected_at"]' >/dev/null || fail "scan Inventory_Scan: not JSON"
for key in os host interfaces packages listening users services counts; do
    [ "$(py "'$key' in d")" = True ] || fail "scan Inventory_Scan: no $key"
done
ok "scan Inventory_Scan prints the inventory document"
if command -v dpkg-query >/dev/null; then
    want=$(dpkg-query -W | wc -l)
    got=$(py 'sum(1 for p in d["packages"] if p["manager"] == "dpkg")')
    [ "$got" -eq "$want" ] || fail "dpkg packages: $got, dpkg-query -W: $want"
    [ "$(py 'd["counts"]["packages"]')" -eq "$(py 'len(d["packages"])')" ] || fail "counts.packages"
    ok "dpkg package count equals dpkg-query -W ($want)"
else
    ok "# SKIP dpkg package count: no dpkg-query"
fi
run scan inventory_scan --cpu-limit 50 --cpu-throttle 10 --output "$WORK/inv.json"
[ "$rc" -eq 0 ] && [ ! -s "$OUT" ] || fail "scan --output: exit $rc or stdout not empty"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$WORK/inv.json" || fail "--output: not JSON"
ok "scan --output writes the file, type matched case-insensitively"

# --- CPU limit -----------------------------------------------------------------------
run diag cpu-burn --seconds 2 --cpu-limit 20
[ "$rc" -eq 0 ] || fail "cpu-burn: exit $rc"
share=$(py 'd["share_pct"]')
wall=$(py 'd["wall_s"]')
python3 -c "import sys; sys.exit(0 if $share < 40 and $wall >= 1.9 else 1)" \
    || fail "cpu-burn --cpu-limit 20: share $share %, wall $wall s"
ok "diag cpu-burn --cpu-limit 20: share $share % via $(py 'd["method"]')"

# --- unsupported and unknown scan types ----------------------------------------------
run scan PolicyCompliance_Scan
[ "$rc" -eq 1 ] || fail "scan PolicyCompliance_Scan: exit $rc, want 1"
[ "$(cat "$ERR")" = "odscan-agent: PolicyCompliance_Scan is not supported by this agent version" ] \
    || fail "scan PolicyCompliance_Scan: stderr '$(cat "$ERR")'"
ok "scan PolicyCompliance_Scan is not supported"

# --- usage errors ----------------------------------------------------------------------
expect_usage "unknown option" "unknown option '--bogus' (see odscan-agent --help)" --bogus
expect_usage "unknown command" "unknown top-level command 'frobnicate' (see odscan-agent --help)" frobnicate
expect_usage "unknown scan type" "unknown scan type 'Nope_Scan'" scan Nope_Scan
expect_usage "scan without type" "scan needs a scan type (e.g. Inventory_Scan)" scan
expect_usage "cpu-limit too low" "--cpu-limit expects a number from 2 to 100" scan Inventory_Scan --cpu-limit 1
expect_usage "cpu-limit not a number" "--cpu-limit expects a number from 2 to 100" diag cpu-burn --seconds 1 --cpu-limit 2x
expect_usage "cpu-throttle too high" "--cpu-throttle expects a number from 0 to 1000" diag cpu-burn --seconds 1 --cpu-throttle 1001
expect_usage "cpu-burn without seconds" "diag cpu-burn needs --seconds" diag cpu-burn
expect_usage "option without value" "--output needs a value" scan Inventory_Scan --output
expect_usage "daemon without server" "--server and --state-dir are required (see odscan-agent --help)" --foreground
expect_usage "http to a remote host" "--server: http:// is only allowed to a loopback address, not example.com" \
    --server http://example.com --state-dir "$WORK/state"
expect_usage "first start without key" "--activation-key is needed until $(cd "$WORK" && pwd -P)/state/identity.json exists" \
    --server https://127.0.0.1:1 --state-dir "$WORK/state"
