#!/usr/bin/env bash
# t_bench_smoke.sh - every benchmark runs in its seconds-long smoke form and produces
# its rows. Speeds are never checked here: only that the harness works, so that
# `make bench` does not rot between runs.
source "$(dirname "$0")/lib.sh"

OUT="$T/results.md"
LOG="$T/bench.log"
bench_rc=0
bash "$ODS_SRC/bench/run" --smoke --bin "$ODS_BIN" --out "$OUT" >"$LOG" 2>&1 || bench_rc=$?
if [ "$bench_rc" -ne 0 ]; then
    tail -n 40 "$LOG" | sed 's/^/#   /'
    fail "bench/run --smoke exited with status $bench_rc"
fi
ok "bench/run --smoke finished"

[ -s "$OUT" ] || fail "bench/run wrote no results file"
grep -q '^- machine: ' "$OUT" || fail "results file has no machine description"
grep -q '^- kernel: ' "$OUT" || fail "results file has no kernel line"
grep -q '^- date: ' "$OUT" || fail "results file has no date"
ok "results file describes the machine and the date"

# value_of FIGURE prints the value column of the row FIGURE in the markdown table.
value_of() {
    awk -F' [|] ' -v f="$1" '$1 == "| " f { print $2; found = 1 } END { exit !found }' "$OUT"
}

# expect_row FIGURE numeric|any: the row exists; numeric: its value starts with a number.
expect_row() {
    local v
    v=$(value_of "$1") || fail "no row '$1' in the results"
    case $2 in
    numeric) printf '%s' "$v" | grep -Eq '^[0-9]' || fail "row '$1' has no figure: '$v'" ;;
    any) [ -n "$v" ] || fail "row '$1' is empty" ;;
    esac
}

# The launch benchmark needs only odscand, wrk and nginx: it must measure.
for f in "launch rate, odscand plain HTTP (req/s)" "launch rate, nginx static file (req/s)" \
    "odscand / nginx" "odscand launch latency p50 (ms)" "odscand launch latency p99 (ms)" \
    "acknowledged jobs found after kill -9" "launch rate, odscand HTTPS (req/s)"; do
    expect_row "$f" numeric
done
ok "launch throughput rows have figures"

# The other benchmarks need agent support: a row either has a figure or says why not.
for f in "dispatch latency at 20 agents, p50 / p99 / max (ms)" \
    "odscand RSS per connected agent at 20 agents (KiB)" \
    "odscan-agent idle RSS (KiB)" "odscan-agent idle CPU (% of one core)" \
    "odscan-agent idle wakeups (voluntary context switches per minute)" \
    "Inventory scan wall time (s)" "Inventory scan CPU time (s)" "Inventory scan peak RSS (KiB)" \
    "CPU share under --cpu-limit 10 (% of one core)" "CPU share under --cpu-limit 25 (% of one core)" \
    "CPU share under --cpu-limit 50 (% of one core)"; do
    if [ -x "$ODS_BIN/odscan-agent" ] && [ -x "$ODS_BIN/agentsim" ]; then
        expect_row "$f" numeric
    else
        expect_row "$f" any
    fi
done
ok "dispatch, agent footprint and CPU-limit rows are present"

grep -q 'not run: the benchmark script failed' "$OUT" && fail "a benchmark script failed: $(grep 'script failed' "$OUT")"
ok "every benchmark produced its own rows"
