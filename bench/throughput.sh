#!/usr/bin/env bash
# throughput.sh - launch throughput of odscand against nginx serving the same bytes.
# wrk sends the vendor's single-asset launch (bench/launch.lua) with the same
# connections and duration to (a) odscand over plain HTTP with SQLite at full
# durability, (b) nginx answering the same URL with a static file holding odscand's
# exact response body, and (c) odscand over HTTPS. After (a) odscand is killed with
# SIGKILL and every job id it acknowledged must be in the database.
# Options: see bench/lib.sh.
source "$(dirname "$0")/lib.sh"

if [ "$SMOKE" = 1 ]; then
    ASSETS=3 DURATION=1 CONNS=4
else
    ASSETS=${BENCH_ASSETS:-1000} DURATION=${BENCH_DURATION:-10} CONNS=${BENCH_CONNS:-64}
fi
FIRST_ASSET=100001
USER_NAME=bench
USER_PW=bench-password-0123456789
GOAL_RATIO=0.6
LAUNCH_PATH="/qps/rest/1.0/ods/ca/agentasset/$FIRST_ASSET?scan=Inventory_Scan&OverrideConfigCpu=false"
LAUNCH_BODY=$'<?xml version="1.0" encoding="UTF-8" ?>\n<ServiceRequest></ServiceRequest>'

R_HTTP="launch rate, odscand plain HTTP (req/s)"
R_NGINX="launch rate, nginx static file (req/s)"
R_RATIO="odscand / nginx"
R_P50="odscand launch latency p50 (ms)"
R_P99="odscand launch latency p99 (ms)"
R_DURABLE="acknowledged jobs found after kill -9"
R_TLS="launch rate, odscand HTTPS (req/s)"

all_not_run() {
    local why=$1
    not_run "$R_HTTP" "-" "$why"
    not_run "$R_NGINX" "-" "$why"
    not_run "$R_RATIO" ">= $GOAL_RATIO" "$why"
    not_run "$R_P50" "-" "$why"
    not_run "$R_P99" "-" "$why"
    not_run "$R_DURABLE" "all" "$why"
    not_run "$R_TLS" "-" "$why"
}

for tool in wrk nginx; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        all_not_run "$tool is not installed (scripts/bootstrap installs it)"
        exit 0
    fi
done
NGINX=$(command -v nginx)

# run_wrk NAME URL: drive URL with wrk; leaves wrk's output in $BENCH_TMP/NAME.wrk and
# sets W_RPS, W_P50_MS, W_P99_MS, W_NEW, W_DEDUP, W_CODES; job ids acknowledged with
# 200 go to $BENCH_TMP/NAME.ids.
run_wrk() {
    local name=$1 url=$2 line
    log "wrk -t1 -c$CONNS -d${DURATION}s against $url"
    BENCH_AUTH=$(printf '%s:%s' "$USER_NAME" "$USER_PW" | base64 -w0) \
    BENCH_ASSET_FIRST=$FIRST_ASSET BENCH_ASSETS=$ASSETS BENCH_IDS_OUT="$BENCH_TMP/$name.ids" \
        timeout $((DURATION + 30)) wrk -t1 -c"$CONNS" -d"${DURATION}s" --timeout 10s --latency \
        -s "$BENCH_DIR/launch.lua" "$url" >"$BENCH_TMP/$name.wrk" 2>&1 || {
        log "wrk failed: $(tail -n 3 "$BENCH_TMP/$name.wrk" | tr '\n' ' ')"
        return 1
    }
    line=$(grep '^BENCH ' "$BENCH_TMP/$name.wrk") || return 1
    field() { printf '%s\n' "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
    W_RPS=$(field rps)
    W_P50_MS=$(awk -v u="$(field p50_us)" 'BEGIN { printf "%.2f", u / 1000 }')
    W_P99_MS=$(awk -v u="$(field p99_us)" 'BEGIN { printf "%.2f", u / 1000 }')
    W_NEW=$(field new_jobs)
    W_DEDUP=$(field deduplicated)
    W_CODES=$(field codes)
    log "$name: $W_RPS req/s, p50 $W_P50_MS ms, p99 $W_P99_MS ms, statuses $W_CODES"
}

# --- odscand state: a scanner user and ASSETS assets with every module -------------
STATE="$BENCH_TMP/odscand"
mkdir -p "$STATE"
printf '%s\n' "$USER_PW" | ctl "$STATE" user add "$USER_NAME" --role scanner --password-stdin >/dev/null
log "creating $ASSETS assets with odscanctl"
for i in $(seq "$FIRST_ASSET" $((FIRST_ASSET + ASSETS - 1))); do
    ctl "$STATE" asset add --id "$i" --hostname "bench-$i" --os linux --modules VM,PC,SCA,SWCA,UDC >/dev/null
done
COMBOS=$((ASSETS * 12))

# --- (a) odscand, plain HTTP ----------------------------------------------------------
PORT=$(free_port)
if ! start_odscand "$STATE" "$PORT" --insecure-http; then
    all_not_run "odscand did not start"
    exit 0
fi
# The body nginx will serve: odscand's own answer to the same request.
curl -s -o "$BENCH_TMP/launch.xml" -u "$USER_NAME:$USER_PW" -X POST -H 'Content-Type: text/xml' \
    --data-binary "$LAUNCH_BODY" "$SRV_URL$LAUNCH_PATH"
if ! run_wrk odscand "$SRV_URL"; then
    all_not_run "wrk against odscand failed"
    exit 0
fi
HTTP_RPS=$W_RPS HTTP_P50=$W_P50_MS HTTP_P99=$W_P99_MS HTTP_NEW=$W_NEW HTTP_DEDUP=$W_DEDUP HTTP_CODES=$W_CODES

# Durability: kill without warning, then every acknowledged job id must be stored.
kill -KILL "$SRV_PID"
wait "$SRV_PID" 2>/dev/null || true
ctl "$STATE" job list --json >"$BENCH_TMP/jobs.json"
DURABLE=$(python3 - "$BENCH_TMP/odscand.ids" "$BENCH_TMP/jobs.json" <<'EOF'
import json, sys
acked = {int(l) for l in open(sys.argv[1]) if l.strip()}
doc = json.load(open(sys.argv[2]))
if isinstance(doc, dict):
    doc = next(v for v in doc.values() if isinstance(v, list))
stored = {int(j["id"]) for j in doc}
combos = {(j["asset_id"], j["scan_type"], j["override_cpu"]) for j in doc}
print(len(acked & stored), len(acked), len(stored), len(combos))
EOF
)
read -r D_FOUND D_ACKED D_STORED D_COMBOS <<<"$DURABLE"

# --- (b) nginx, static file of the same bytes ----------------------------------------
NGX="$BENCH_TMP/nginx"
NPORT=$(free_port)
mkdir -p "$NGX/www" "$NGX/logs" "$NGX/tmp"
cp "$BENCH_TMP/launch.xml" "$NGX/www/launch.xml"
# A POST to a static file is refused with 405; error_page turns that into an internal
# GET of the file answered 200, so nginx reads and discards the body and sends the
# file, as a static server would for GET.
NGX_USER=""
# As root nginx would drop its workers to "nobody", who cannot read the temp dir.
[ "$(id -u)" = 0 ] && NGX_USER="user $(id -un) $(id -gn);"
cat >"$NGX/nginx.conf" <<EOF
$NGX_USER
daemon off;
master_process on;
worker_processes $(nproc);
pid $NGX/nginx.pid;
error_log $NGX/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $NGX/tmp/body;
    proxy_temp_path $NGX/tmp/proxy;
    fastcgi_temp_path $NGX/tmp/fastcgi;
    uwsgi_temp_path $NGX/tmp/uwsgi;
    scgi_temp_path $NGX/tmp/scgi;
    keepalive_requests 100000000;
    server {
        listen 127.0.0.1:$NPORT;
        root $NGX/www;
        default_type "application/xml; charset=utf-8";
        location / {
            rewrite ^ /launch.xml break;
            error_page 405 =200 /launch.xml;
        }
        location = /launch.xml { }
    }
}
EOF
"$NGINX" -p "$NGX" -c "$NGX/nginx.conf" -e "$NGX/logs/error.log" >"$NGX/logs/stdout" 2>&1 &
NGINX_PID=$!
BENCH_PIDS+=("$NGINX_PID")
NGINX_RPS=""
if wait_http "http://127.0.0.1:$NPORT$LAUNCH_PATH" -X POST --data-binary "$LAUNCH_BODY" &&
    run_wrk nginx "http://127.0.0.1:$NPORT"; then
    NGINX_RPS=$W_RPS
    NGINX_CODES=$W_CODES
else
    log "nginx: $(tail -n 3 "$NGX/logs/error.log" | tr '\n' ' ')"
fi
stop_pid "$NGINX_PID"

# --- (c) odscand, HTTPS with its self-signed certificate ------------------------------
TLS_RPS=""
TPORT=$(free_port)
if start_odscand "$STATE" "$TPORT" && run_wrk odscand-tls "$SRV_URL"; then
    TLS_RPS=$W_RPS
    TLS_CODES=$W_CODES
fi
stop_pid "$SRV_PID"

# --- rows ------------------------------------------------------------------------------
row "$R_HTTP" "$HTTP_RPS" "-" "-"
if [ -n "$NGINX_RPS" ]; then
    row "$R_NGINX" "$NGINX_RPS" "-" "-"
    RATIO=$(awk -v a="$HTTP_RPS" -v b="$NGINX_RPS" 'BEGIN { printf "%.2f", a / b }')
    row "$R_RATIO" "$RATIO" ">= $GOAL_RATIO" "$(verdict "$RATIO" ge "$GOAL_RATIO")"
else
    not_run "$R_NGINX" "-" "nginx did not start or wrk failed"
    not_run "$R_RATIO" ">= $GOAL_RATIO" "no nginx figure"
fi
row "$R_P50" "$HTTP_P50" "-" "-"
row "$R_P99" "$HTTP_P99" "-" "-"
row "$R_DURABLE" "$D_FOUND of $D_ACKED" "all" "$([ "$D_FOUND" = "$D_ACKED" ] && [ "$D_ACKED" -gt 0 ] && echo pass || echo short)"
if [ -n "$TLS_RPS" ]; then
    row "$R_TLS" "$TLS_RPS" "-" "-"
else
    not_run "$R_TLS" "-" "odscand over HTTPS did not start or wrk failed"
fi

note "- **Launch throughput.** \`wrk -t1 -c$CONNS -d${DURATION}s\` with \`bench/launch.lua\`: the vendor's"
note "  single-asset launch (POST, vendor body, Basic auth, keep-alive), cycling through $ASSETS assets"
note "  x 6 scan types x 2 override values ($COMBOS combinations). odscand: \`--insecure-http\`, SQLite"
note "  WAL \`synchronous=FULL\`, group commit, default 2 HTTP threads. Of odscand's 200s, $HTTP_NEW created a"
note "  job and $HTTP_DEDUP were de-duplicated onto a QUEUED job (expected behaviour; every launch still"
note "  writes its audit row in a durable transaction), so the figure is mostly the de-duplicating path."
note "  Statuses: odscand $HTTP_CODES; nginx ${NGINX_CODES:-none}; HTTPS ${TLS_CODES:-none}."
note "  Durability: odscand was killed with SIGKILL right after the run; $D_FOUND of the $D_ACKED distinct job"
note "  ids it acknowledged were in the database ($D_STORED jobs, $D_COMBOS distinct (asset, scan, override))."
note "  nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///'): $(nproc) workers, access log off, the same URL answered"
note "  with a static file holding odscand's exact response body (POST turned into 200 by"
note "  \`error_page 405 =200\`). The HTTPS figure is odscand with its self-signed ECDSA certificate, wrk"
note "  keeping connections alive (handshakes are not what is measured), all launches de-duplicated."
note "  wrk, odscand and nginx share the machine's cores."
