#!/usr/bin/env bash
# agent.sh - the real odscan-agent's footprint: enrolled and idle (holding its
# check-in) it is measured from /proc for IDLE seconds; then an Inventory scan of this
# machine is timed under /usr/bin/time -v. Options: see bench/lib.sh.
source "$(dirname "$0")/lib.sh"

if [ "$SMOKE" = 1 ]; then IDLE=3; else IDLE=${BENCH_IDLE:-60}; fi
GOAL_RSS=4096     # KiB
GOAL_CPU=0.1      # percent of one core
F_RSS="odscan-agent idle RSS (KiB)"
F_CPU="odscan-agent idle CPU (% of one core)"
F_WAKE="odscan-agent idle wakeups (voluntary context switches per minute)"
F_SWALL="Inventory scan wall time (s)"
F_SCPU="Inventory scan CPU time (s)"
F_SRSS="Inventory scan peak RSS (KiB)"

idle_not_run() {
    not_run "$F_RSS" "<= $GOAL_RSS" "$1"
    not_run "$F_CPU" "<= $GOAL_CPU" "$1"
    not_run "$F_WAKE" "-" "$1"
}
scan_not_run() {
    not_run "$F_SWALL" "-" "$1"
    not_run "$F_SCPU" "-" "$1"
    not_run "$F_SRSS" "-" "$1"
}

if [ ! -x "$BIN/odscan-agent" ]; then
    idle_not_run "odscan-agent not built yet"
    scan_not_run "odscan-agent not built yet"
    exit 0
fi

# cpu_ticks PID: utime + stime of every thread (fields 14 and 15 of /proc/PID/stat).
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
# wakeups PID: voluntary context switches summed over the threads.
wakeups() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^voluntary_ctxt_switches/ { s += $2 } END { print s + 0 }'; }

# --- idle -----------------------------------------------------------------------------
run_idle() {
    local state="$BENCH_TMP/odscand" agent_dir="$BENCH_TMP/agent" port key i apid
    local t0 t1 c0 c1 w0 w1 rss hz
    mkdir -p "$state" "$agent_dir"
    key=$(ctl "$state" key create --name bench --modules VM) || { idle_not_run "odscanctl key create failed"; return 0; }
    port=$(free_port)
    start_odscand "$state" "$port" || { idle_not_run "odscand did not start"; return 0; }
    "$BIN/odscan-agent" --server "https://127.0.0.1:$port" --ca-cert "$state/tls/cert.pem" \
        --activation-key "$key" --state-dir "$agent_dir" --foreground --log-level warn \
        >"$agent_dir/stdout.log" 2>&1 &
    apid=$!
    BENCH_PIDS+=("$apid")
    for i in $(seq 1 100); do
        [ -s "$agent_dir/identity.json" ] && break
        kill -0 "$apid" 2>/dev/null || break
        sleep 0.1
    done
    if [ ! -s "$agent_dir/identity.json" ] || ! kill -0 "$apid" 2>/dev/null; then
        idle_not_run "the agent did not enroll: $(tail -n 2 "$agent_dir/stdout.log" | tr '\n' ' ' | cut -c1-160)"
        return 0
    fi
    sleep 1    # its first check-in is now held by the server
    hz=$(getconf CLK_TCK)
    t0=$(date +%s.%N); c0=$(cpu_ticks "$apid"); w0=$(wakeups "$apid")
    sleep "$IDLE"
    t1=$(date +%s.%N); c1=$(cpu_ticks "$apid"); w1=$(wakeups "$apid")
    rss=$(rss_kib "$apid")
    local secs cpu_pct per_min cpu_s
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    cpu_s=$(awk -v c=$((c1 - c0)) -v hz="$hz" 'BEGIN { printf "%.3f", c / hz }')
    cpu_pct=$(awk -v c="$cpu_s" -v s="$secs" 'BEGIN { printf "%.3f", 100 * c / s }')
    per_min=$(awk -v w=$((w1 - w0)) -v s="$secs" 'BEGIN { printf "%.1f", w * 60 / s }')
    row "$F_RSS" "$rss" "<= $GOAL_RSS" "$(verdict "$rss" le "$GOAL_RSS")"
    row "$F_CPU" "$cpu_pct" "<= $GOAL_CPU" "$(verdict "$cpu_pct" le "$GOAL_CPU")"
    row "$F_WAKE" "$per_min" "-" "-"
    note "- **Agent footprint.** The real \`odscan-agent\` enrolled over HTTPS with odscand on loopback,"
    note "  then idle (holding its long-poll check-in) for ${secs}s: VmRSS at the end; CPU = utime + stime"
    note "  of all its threads from /proc/PID/stat (${cpu_s}s over the window, ${hz} ticks/s, so the"
    note "  resolution is $(awk -v h="$hz" -v s="$secs" 'BEGIN { printf "%.3f", 100 / h / s }') %); wakeups = voluntary context switches from"
    note "  /proc/PID/task/*/status (hardware counters are not available to perf here)."
    stop_pid "$apid"
    stop_pid "$SRV_PID"
}

# --- an Inventory scan of this machine ----------------------------------------------------
run_scan() {
    local out="$BENCH_TMP/scan" wall cpu rss
    mkdir -p "$out"
    if [ ! -x /usr/bin/time ]; then
        scan_not_run "/usr/bin/time is not installed (package time)"
        return 0
    fi
    if ! timeout 300 /usr/bin/time -v -o "$out/time" "$BIN/odscan-agent" scan Inventory_Scan \
        --output "$out/result.json" >"$out/stdout" 2>"$out/stderr"; then
        scan_not_run "the scan failed: $(tail -n 2 "$out/stderr" | tr '\n' ' ' | cut -c1-160)"
        return 0
    fi
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0
        for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.2f", s }' "$out/time")
    cpu=$(awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { printf "%.2f", u + s }' "$out/time")
    rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$out/time")
    row "$F_SWALL" "$wall" "-" "-"
    row "$F_SCPU" "$cpu" "-" "-"
    row "$F_SRSS" "$rss" "-" "-"
    note "  Inventory scan: \`odscan-agent scan Inventory_Scan\` under \`/usr/bin/time -v\` (wait4 rusage:"
    note "  CPU of the agent and its scan child, peak RSS of the largest of them); result"
    note "  $(wc -c <"$out/result.json" 2>/dev/null || echo 0) bytes of JSON."
}

run_idle
run_scan
