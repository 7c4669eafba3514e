# lib.sh - shared by the benchmark scripts (bench/*.sh): options, rows of the results
# table, starting odscand on loopback and stopping everything at exit.
#
# Every benchmark script takes the same options:
#   --bin DIR     directory holding odscand, odscanctl, odscan-agent, agentsim
#   --rows FILE   append result rows here (figure<TAB>value<TAB>goal<TAB>status)
#   --notes FILE  append method notes here (markdown lines)
#   --smoke       a seconds-long run that only shows the benchmark works
# Rows with no measurement say "not run: <reason>" in the value column.

set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR=$(cd "$BENCH_DIR/.." && pwd)
BIN=""
ROWS=/dev/stdout
NOTES=/dev/null
SMOKE=0
BENCH_PIDS=()      # every process a script started, stopped at exit
BENCH_PG=()        # scripts/pg-test-cluster directories, stopped at exit
BENCH_TMP=""

while [ $# -gt 0 ]; do
    case $1 in
    --bin) BIN=$2; shift 2 ;;
    --rows) ROWS=$2; shift 2 ;;
    --notes) NOTES=$2; shift 2 ;;
    --smoke) SMOKE=1; shift ;;
    *) echo "${0##*/}: unknown option $1" >&2; exit 2 ;;
    esac
done
[ -n "$BIN" ] || BIN="$SRC_DIR/build-bench/bin"
BIN=$(cd "$BIN" && pwd)
BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/odscan-bench.XXXXXX")

log() { printf '[%s] %s\n' "${0##*/}" "$*" >&2; }

# row FIGURE VALUE GOAL STATUS appends one line of the results table.
row() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$ROWS"; }

# not_run FIGURE GOAL REASON
not_run() { row "$1" "not run: $3" "$2" "-"; }

note() { printf '%s\n' "$*" >>"$NOTES"; }

# verdict VALUE OP LIMIT prints pass or short (OP is le or ge; decimals allowed).
verdict() {
    if awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN { exit !((op == "le" && v <= l) || (op == "ge" && v >= l)) }'; then
        echo pass
    else
        echo short
    fi
}

# stop_pid PID: SIGTERM, wait up to 10 s, then SIGKILL.
stop_pid() {
    local pid=$1 i
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

_bench_cleanup() {
    local rc=$? pid
    set +e
    for pid in "${BENCH_PIDS[@]}"; do stop_pid "$pid"; done
    for pid in "${BENCH_PG[@]}"; do "$SRC_DIR/scripts/pg-test-cluster" stop "$pid" >/dev/null 2>&1; done
    if [ -z "${KEEP_TMP:-}" ]; then rm -rf "$BENCH_TMP"; else log "kept $BENCH_TMP"; fi
    exit "$rc"
}
trap _bench_cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# wait_http URL [CURL ARGS...]: wait up to 15 s for URL to answer 200.
wait_http() {
    local url=$1 i code
    shift
    for i in $(seq 1 150); do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$@" "$url" || true)
        [ "$code" = 200 ] && return 0
        sleep 0.1
    done
    return 1
}

# start_odscand DIR PORT [odscand args...]: start odscand on 127.0.0.1:PORT with state in
# DIR; sets SRV_PID and SRV_URL (http or https after --insecure-http). Returns 1 when the
# server does not come up within 15 s.
start_odscand() {
    local dir=$1 port=$2 scheme=https a
    shift 2
    for a in "$@"; do [ "$a" = --insecure-http ] && scheme=http; done
    "$BIN/odscand" --state-dir "$dir" --listen "127.0.0.1:$port" --log-level warn "$@" \
        >>"$dir/server.log" 2>&1 &
    SRV_PID=$!
    BENCH_PIDS+=("$SRV_PID")
    SRV_URL="$scheme://127.0.0.1:$port"
    if [ "$scheme" = https ]; then
        for a in $(seq 1 50); do [ -f "$dir/tls/cert.pem" ] && break; sleep 0.1; done
        wait_http "$SRV_URL/healthz" --cacert "$dir/tls/cert.pem" && return 0
    else
        wait_http "$SRV_URL/healthz" && return 0
    fi
    log "odscand did not start: $(tail -n 3 "$dir/server.log" | tr '\n' ' ')"
    return 1
}

# rss_kib PID prints VmRSS of PID in KiB.
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

ctl() { "$BIN/odscanctl" --state-dir "$1" "${@:2}"; }
