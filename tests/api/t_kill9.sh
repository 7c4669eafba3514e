#!/usr/bin/env bash
# t_kill9.sh - durability: ~3000 distinct launches fired concurrently, the server killed
# with SIGKILL while they are in flight, then restarted on the same state dir. Every
# launch that was answered 200 must have exactly one job; nothing may be duplicated or
# invented. The kill must land mid-flight: with no acknowledged launch yet, or with all
# of them already answered, the attempt is repeated with other timing.
. "$(dirname "$0")/lib.sh"

L=/qps/rest/1.0/ods/ca/agentasset
XMLBODY='<?xml version="1.0" encoding="UTF-8" ?> <ServiceRequest></ServiceRequest>'
ASSETS=300
FIRST_ASSET=700001
SCANS=(Inventory_Scan Vulnerability_Scan PolicyCompliance_Scan UDC_Scan SWCA_scan)
ATTEMPTED=$((ASSETS * ${#SCANS[@]} * 2))
ATTEMPTS=3

# prepare: a fresh server with a user, the assets and the URL list in $T/urls.cfg.
prepare() {
    local a s o
    start_server
    add_user kim scanner 'kim-pw-1'
    for a in $(seq "$FIRST_ASSET" $((FIRST_ASSET + ASSETS - 1))); do
        ctl asset add --id "$a" --hostname "host-$a" --os linux --modules VM,PC,SWCA,UDC >/dev/null ||
            fail "odscanctl asset add --id $a failed"
    done
    : >"$T/urls.cfg"
    for o in false true; do
        for s in "${SCANS[@]}"; do
            for a in $(seq "$FIRST_ASSET" $((FIRST_ASSET + ASSETS - 1))); do
                printf 'url = "%s%s/%s?scan=%s&overrideConfigCpu=%s"\noutput = "/dev/null"\n' \
                    "$BASE" "$L" "$a" "$s" "$o"
            done
        done
    done >"$T/urls.cfg"
    [ "$(grep -c '^url' "$T/urls.cfg")" = "$ATTEMPTED" ] || fail "expected $ATTEMPTED URLs"
}

ms_now() { echo $(( $(date +%s%N) / 1000000 )); }

delay_ms=150   # the kill waits for this long and for one acknowledged launch
for attempt in $(seq 1 "$ATTEMPTS"); do
    prepare
    : >"$T/results"
    t0=$(ms_now)
    curl --parallel --parallel-max 64 -s --cacert "$CACERT" -u 'kim:kim-pw-1' -X POST \
        -H 'Content-Type: text/xml' --data-binary "$XMLBODY" --max-time 60 \
        -w '%{http_code} %{url_effective}\n' --config "$T/urls.cfg" >"$T/results" 2>/dev/null &
    CURL_PID=$!
    # Kill once at least one launch is acknowledged and delay_ms have passed.
    while :; do
        acked=$(grep -c '^200 ' "$T/results" || true)
        elapsed=$(( $(ms_now) - t0 ))
        [ "$acked" -ge 1 ] && [ "$elapsed" -ge "$delay_ms" ] && break
        kill -0 "$CURL_PID" 2>/dev/null || break
        [ "$elapsed" -lt 30000 ] || break
        sleep 0.02
    done
    kill9_server
    killed_at=$(( $(ms_now) - t0 ))
    wait "$CURL_PID" || true
    acked=$(grep -c '^200 ' "$T/results" || true)
    answered=$(grep -c '' "$T/results" || true)
    note "attempt $attempt: SIGKILL after $killed_at ms; $acked of $ATTEMPTED launches acknowledged before the kill"
    note "statuses: $(cut -d' ' -f1 "$T/results" | sort | uniq -c | tr '\n' ' ')"
    [ "$answered" = "$ATTEMPTED" ] || fail "curl reported $answered of $ATTEMPTED transfers"
    bad=$(grep -Ev '^(200|000) ' "$T/results" || true)
    [ -z "$bad" ] || fail "statuses other than 200 before the kill: $(head -n 3 <<<"$bad")"
    if [ "$acked" -ge 1 ] && [ "$acked" -lt "$ATTEMPTED" ]; then
        break
    fi
    [ "$attempt" -lt "$ATTEMPTS" ] ||
        fail "could not kill the server mid-flight in $ATTEMPTS attempts ($acked acknowledged)"
    if [ "$acked" -ge "$ATTEMPTED" ]; then delay_ms=0; else delay_ms=$((delay_ms * 2)); fi
    note "retrying with delay $delay_ms ms"
done
ok "SIGKILL landed mid-flight: $acked of $ATTEMPTED launches acknowledged before the kill"

CASE="restart after SIGKILL"
restart_server "$SRV_DIR"
ok "the server restarts on the state dir of the killed server"

CASE="acknowledged launches survive"
jobs_norm >"$T/jobs"
python3 "$API_DIR/check_acked.py" "$T/results" "$T/jobs" "$ATTEMPTED" ||
    fail "$CASE: the store does not match what was acknowledged"
ok "every acknowledged launch has exactly one job; no duplicates; $(grep -c '' "$T/jobs") jobs <= $ATTEMPTED attempted"

CASE="launching again after recovery"
REQ_USER='kim:kim-pw-1'
first=$(awk '$1 == "200" { print $2; exit }' "$T/results" | sed 's#^https://[^/]*##')
req POST "$first" -H 'Content-Type: text/xml' --data-binary "$XMLBODY"
assert_status 200
assert_valid_xsd
assert_header X-Odscan-Job-Existing true
ok "an acknowledged launch sent again after recovery finds its job (X-Odscan-Job-Existing: true)"

exit 0
