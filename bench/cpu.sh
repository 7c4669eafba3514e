#!/usr/bin/env bash
# cpu.sh - CPU-limit fidelity: `odscan-agent diag cpu-burn` runs a CPU-bound workload
# in a scan child under each limit and reports the share of one core it got.
# Options: see bench/lib.sh.
source "$(dirname "$0")/lib.sh"

if [ "$SMOKE" = 1 ]; then SECONDS_EACH=1; else SECONDS_EACH=${BENCH_BURN_SECONDS:-10}; fi
LIMITS="10 25 50"
TOLERANCE=3
fig() { echo "CPU share under --cpu-limit $1 (% of one core)"; }

for l in $LIMITS; do
    if [ ! -x "$BIN/odscan-agent" ]; then
        not_run "$(fig "$l")" "$l +/- $TOLERANCE" "odscan-agent not built yet"
        continue
    fi
    out="$BENCH_TMP/burn-$l.json"
    if ! timeout $((SECONDS_EACH * 3 + 30)) "$BIN/odscan-agent" diag cpu-burn --seconds "$SECONDS_EACH" \
        --cpu-limit "$l" >"$out" 2>"$out.err"; then
        not_run "$(fig "$l")" "$l +/- $TOLERANCE" "cpu-burn failed: $(tail -n 1 "$out.err" | cut -c1-160)"
        continue
    fi
    read -r share method <<<"$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print("%.1f" % d["share_pct"], d.get("method", "?"))' "$out")"
    st=$(awk -v s="$share" -v l="$l" -v t="$TOLERANCE" 'BEGIN { d = s - l; if (d < 0) d = -d; print (d <= t ? "pass" : "short") }')
    row "$(fig "$l")" "$share" "$l +/- $TOLERANCE" "$st"
    METHOD=$method
done
note "- **CPU-limit fidelity.** \`odscan-agent diag cpu-burn --seconds $SECONDS_EACH --cpu-limit L\` for L in"
note "  {$LIMITS}, one after another; share = CPU time / wall time of the scan child, as the"
note "  agent reports it (limit method: ${METHOD:-none measured})."
