#!/usr/bin/env bash
# vuln.sh - vulnerability assessment speed with bench/vuln_bench: one host's packages
# (this machine's, from dpkg-query) against 50,000 synthetic advisories, and the
# re-assessment odscand runs after a knowledge-base import over 10,000 stored hosts
# (SQLite: manifests read, matcher built from the stored advisories, findings written).
# Options: see bench/lib.sh.
source "$(dirname "$0")/lib.sh"

F1="vulnerability assessment: us per host (~800 packages, 50k advisories)"
F2="re-assess 10,000 hosts: seconds"
HOSTS=10000
[ "$SMOKE" = 1 ] && HOSTS=200
if [ ! -x "$BIN/vuln_bench" ] || [ ! -x "$BIN/odscan-agent" ] || ! command -v dpkg-query >/dev/null; then
    not_run "$F1" "-" "vuln_bench, odscan-agent or dpkg-query missing"
    not_run "$F2" "-" "vuln_bench, odscan-agent or dpkg-query missing"
    exit 0
fi
dpkg-query -W -f='${Package}\t${source:Package}\t${source:Version}\t${Version}\n' >"$BENCH_TMP/pkgs.tsv"
"$BIN/odscan-agent" scan Vulnerability_Scan >"$BENCH_TMP/manifest.json" 2>/dev/null
out=$("$BIN/vuln_bench" --packages "$BENCH_TMP/pkgs.tsv" --synthetic 50000 --rounds 2000)
us=$(sed -n 's/.*assessments: \([0-9.]*\) us CPU per host.*/\1/p' <<<"$out")
line=$(grep '^host:' <<<"$out")
row "$F1" "${us:-?}" "-" "-"
out=$("$BIN/vuln_bench" --packages "$BENCH_TMP/pkgs.tsv" --synthetic 50000 --reassess "$HOSTS" \
    --db "sqlite:$BENCH_TMP/reassess.db" --manifest "$BENCH_TMP/manifest.json")
secs=$(sed -n 's/.*total \([0-9.]*\) s$/\1/p' <<<"$out")
row "$F2" "${secs:-?}$([ "$HOSTS" != 10000 ] && echo " ($HOSTS hosts)")" "-" "-"
note "- **Vulnerability assessment.** \`vuln_bench\` (always -O2): this machine's dpkg packages"
note "  against 50,000 synthetic Debian advisories (30 % naming installed packages): $line."
note "  Re-assessment: $HOSTS assets each holding this machine's manifest stored through the agent"
note "  path's store calls, the advisories imported, then (timed) the knowledge base loaded and"
note "  indexed and every asset assessed from its stored manifest with its findings written in"
note "  batches of 100 assets (assess.c, what odscand's thread runs): $(tail -n 1 <<<"$out")."
