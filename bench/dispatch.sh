#!/usr/bin/env bash
# dispatch.sh - launch-to-arrival latency and server memory per connected agent.
# For each N, a fresh odscand (plain HTTP on loopback, SQLite) gets N simulated agents
# from bench/agentsim, all enrolled and holding their long-poll check-in; agentsim's
# driver then launches Inventory scans on random idle agents at a fixed rate and
# times each job's arrival at its agent. Server RSS is read with 0 and with N
# agents connected. An N above what one process can hold (20,000 descriptors here)
# runs on NODES odscand nodes sharing one throw-away PostgreSQL cluster
# (scripts/pg-test-cluster): agents spread over the nodes, launches through each node
# in turn, RSS summed over the nodes. Options: see bench/lib.sh.
source "$(dirname "$0")/lib.sh"

if [ "$SMOKE" = 1 ]; then
    COUNTS="20" RATE=20 DURATION=1
else
    COUNTS=${BENCH_AGENTS:-"1000 10000 50000"} RATE=${BENCH_RATE:-100} DURATION=${BENCH_DURATION:-10}
fi
PER_PROCESS_MAX=18000   # client sockets per agentsim process, under the 20,000 fd cap
NODES=${BENCH_NODES:-3} # odscand nodes on PostgreSQL when one process cannot hold N
USER_NAME=bench
USER_PW=bench-password-0123456789
FD_HARD=$(ulimit -Hn)

goal_p99() { case $1 in 10000) echo "p99 <= 20" ;; 50000) echo "p99 <= 100" ;; *) echo "-" ;; esac; }
goal_rss() { case $1 in 50000) echo "<= 32" ;; *) echo "-" ;; esac; }
lat_fig() { echo "dispatch latency at $1 agents, p50 / p99 / max (ms)"; }
rss_fig() { echo "odscand RSS per connected agent at $1 agents (KiB)"; }

# run_count N NODES: NODES odscand processes (1: SQLite; more: one PostgreSQL database
# shared by all), N agents; appends the two rows for N.
run_count() {
    local n=$1 nodes=$2 state key procs per rate_per p first pids=() outs=() rss0=0 i
    local db="" ctl_db srv_pids=() srv_urls=() why
    state="$BENCH_TMP/dispatch-$n"
    mkdir -p "$state"
    ctl_db=(--state-dir "$state/node0")
    mkdir -p "$state/node0"
    if [ "$nodes" -gt 1 ]; then
        if ! "$SRC_DIR/scripts/pg-test-cluster" start "$state/pg" >"$state/pg.log" 2>&1 ||
            [ ! -s "$state/pg/url" ]; then
            why="no PostgreSQL for $nodes nodes: $(tail -n 1 "$state/pg.log")"
            not_run "$(lat_fig "$n")" "$(goal_p99 "$n")" "$why"
            not_run "$(rss_fig "$n")" "$(goal_rss "$n")" "$why"
            return 0
        fi
        BENCH_PG+=("$state/pg")
        db="postgresql://odscan@127.0.0.1:$(cat "$state/pg/port")/odscan_bench"
        "$(cat "$state/pg/bin")/psql" -q -d "$(cat "$state/pg/url")" -c 'CREATE DATABASE odscan_bench' >/dev/null
        ctl_db=(--db "$db")
    fi
    # odscand needs a descriptor per held check-in: take the hard limit.
    ulimit -n "$FD_HARD"
    for i in $(seq 0 $((nodes - 1))); do
        mkdir -p "$state/node$i"
        if ! start_odscand "$state/node$i" "$(free_port)" --insecure-http \
            --connection-limit $((FD_HARD - 100)) ${db:+--db "$db"}; then
            not_run "$(lat_fig "$n")" "$(goal_p99 "$n")" "odscand did not start"
            not_run "$(rss_fig "$n")" "$(goal_rss "$n")" "odscand did not start"
            return 0
        fi
        srv_pids+=("$SRV_PID")
        srv_urls+=("$SRV_URL")
    done
    key=$("$BIN/odscanctl" "${ctl_db[@]}" key create --name bench --modules VM) || {
        not_run "$(lat_fig "$n")" "$(goal_p99 "$n")" "odscanctl key create failed (no agent support in this build)"
        not_run "$(rss_fig "$n")" "$(goal_rss "$n")" "odscanctl key create failed"
        return 0
    }
    printf '%s\n' "$USER_PW" | "$BIN/odscanctl" "${ctl_db[@]}" user add "$USER_NAME" --role scanner \
        --password-stdin >/dev/null
    sleep 1
    for p in "${srv_pids[@]}"; do rss0=$(( rss0 + $(rss_kib "$p") )); done
    procs=$(( (n + PER_PROCESS_MAX - 1) / PER_PROCESS_MAX ))
    per=$(( n / procs ))
    rate_per=$(( RATE / procs > 0 ? RATE / procs : 1 ))
    local urls pidlist
    urls=$(IFS=,; echo "${srv_urls[*]}")
    pidlist=$(IFS=,; echo "${srv_pids[*]}")
    log "$n agents in $procs agentsim process(es) against $urls, $RATE launches/s for ${DURATION}s"
    for p in $(seq 0 $((procs - 1))); do
        first=$(( 2 + p * 8 ))
        [ "$p" -eq $((procs - 1)) ] && per=$(( n - per * (procs - 1) ))
        timeout 600 "$BIN/agentsim" --server "$urls" --key "$key" --agents "$per" \
            --launch-auth "$(printf '%s:%s' "$USER_NAME" "$USER_PW" | base64 -w0)" \
            --rate "$rate_per" --duration "$DURATION" --sources 8 --first-source "$first" \
            --enroll-parallel 256 --deadline 420 --rss-pid "$pidlist" \
            --latencies "$state/lat.$p" >"$state/sim.$p.json" 2>"$state/sim.$p.log" &
        pids+=("$!")
        outs+=("$state/sim.$p.json")
    done
    for p in "${pids[@]}"; do wait "$p" || true; done
    # SIGKILL: nothing is left to verify, and a graceful stop waits for check-ins that
    # agentsim's exit left suspended until their hold time runs out.
    for p in "${srv_pids[@]}"; do
        kill -KILL "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    if [ "$nodes" -gt 1 ]; then
        "$SRC_DIR/scripts/pg-test-cluster" stop "$state/pg" >/dev/null 2>&1 || true
    fi
    python3 - "$n" "$rss0" "$state" "${outs[@]}" >"$state/summary" <<'EOF'
import glob, json, os, sys
n, rss0, state, outs = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4:]
sims = []
for o in outs:
    try:
        sims.append(json.loads(open(o).read().strip().splitlines()[-1]))
    except (OSError, ValueError, IndexError):
        pass
# lat.N: "sent_ms latency_us" per arrived job
lat = sorted(int(l.split()[1]) for f in glob.glob(os.path.join(state, "lat.*")) for l in open(f) if l.strip())
tot = lambda k: sum(s.get(k, 0) for s in sims)
enrolled = tot("enrolled")
# With several agentsim processes each read the server's RSS when it was ready; the
# last one to get ready saw every agent connected.
rss = max((s.get("rss_ready_kib", 0) for s in sims), default=0)
pct = lambda p: lat[min(len(lat) - 1, int(p / 100.0 * (len(lat) - 1) + 0.5))] / 1000.0
print(len(sims), enrolled, tot("launches"), tot("arrived"), tot("completed"),
      tot("launch_errors"), tot("launch_skipped"), tot("failures"), tot("reconnects"),
      "%.2f" % pct(50) if lat else "-", "%.2f" % pct(99) if lat else "-",
      "%.2f" % (lat[-1] / 1000.0) if lat else "-",
      "%.1f" % ((rss - rss0) / enrolled) if enrolled and rss else "-",
      max((s.get("setup_s", 0) for s in sims), default=0))
EOF
    local nsim enrolled launches arrived completed lerr lskip fails recon p50 p99 max rssper setup
    read -r nsim enrolled launches arrived completed lerr lskip fails recon p50 p99 max rssper setup <"$state/summary"
    if [ "$nsim" -eq 0 ] || [ "$p99" = "-" ]; then
        local why="agentsim measured nothing: $(tail -n 2 "$state"/sim.*.log 2>/dev/null | tr '\n' ' ' | cut -c1-200)"
        not_run "$(lat_fig "$n")" "$(goal_p99 "$n")" "$why"
    else
        local goal st="-"
        goal=$(goal_p99 "$n")
        [ "$goal" != "-" ] && st=$(verdict "$p99" le "${goal##* }")
        row "$(lat_fig "$n")" "$p50 / $p99 / $max" "$goal" "$st"
    fi
    if [ "$rssper" = "-" ]; then
        not_run "$(rss_fig "$n")" "$(goal_rss "$n")" "no agent enrolled"
    else
        local goal st="-"
        goal=$(goal_rss "$n")
        [ "$goal" != "-" ] && st=$(verdict "$rssper" le "${goal##* }")
        row "$(rss_fig "$n")" "$rssper" "$goal" "$st"
    fi
    if [ "$nodes" -gt 1 ]; then
        note "  - $n agents on $nodes odscand nodes sharing one PostgreSQL $("$(cat "$state/pg/bin")/postgres" -V 2>/dev/null | awk '{ print $3 }')"
        note "    database (throw-away cluster, synchronous_commit on), about $((n / nodes)) agents per node;"
        note "    launches through each node in turn, so most jobs reach their agent through another"
        note "    node's wake-up (LISTEN/NOTIFY). RSS per agent sums the nodes' RSS."
    fi
    note "  - $n agents ($nsim agentsim process(es)): $enrolled enrolled and waiting after ${setup}s;"
    note "    $launches launches, $arrived arrived, $completed completed (start + result), $lerr launch"
    note "    errors, $lskip launches skipped (no idle agent or launch connection), $fails agent-side"
    note "    errors, $recon reconnects; server RSS $rss0 KiB with 0 agents."
}

note "- **Dispatch latency and connected agents.** \`bench/agentsim\` (C, epoll, one process per"
note "  $PER_PROCESS_MAX agents) enrolls N agents with an activation key and holds each one's long-poll"
note "  check-in open over **plain HTTP** to \`odscand --insecure-http\` (SQLite; PostgreSQL for several nodes), from 8 source addresses"
note "  per process (127.0.0.x). Its driver, in the same process and epoll loop, sends launches"
note "  (QPS endpoint, Basic auth, Inventory_Scan) to random idle agents at $RATE/s for ${DURATION}s;"
note "  latency is from the launch's send to the job's arrival in the check-in answer, both on one"
note "  CLOCK_MONOTONIC. Each job is then started and completed, and the agent checks in again."
note "  Before driving, each of the driver's 16 launch connections sends one authenticated GET, so"
note "  the first launches do not pay connect + argon2id on a cold credential cache (~100 ms)."
note "  RSS per agent: (odscand VmRSS with N agents waiting - VmRSS with 0) / N, so it includes what"
note "  enrollment added to SQLite's cache."
for n in $COUNTS; do
    nodes=1
    [ "$n" -ge $((FD_HARD - 100)) ] && nodes=$NODES
    if [ $(( n / nodes )) -ge $((FD_HARD - 100)) ]; then
        why="needs more odscand nodes than $nodes (fd cap $FD_HARD/process)"
        not_run "$(lat_fig "$n")" "$(goal_p99 "$n")" "$why"
        not_run "$(rss_fig "$n")" "$(goal_rss "$n")" "$why"
        continue
    fi
    if [ ! -x "$BIN/agentsim" ]; then
        not_run "$(lat_fig "$n")" "$(goal_p99 "$n")" "agentsim not built"
        not_run "$(rss_fig "$n")" "$(goal_rss "$n")" "agentsim not built"
        continue
    fi
    run_count "$n" "$nodes"
done
