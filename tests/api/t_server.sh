#!/usr/bin/env bash
# t_server.sh - the server as a process: health and schema endpoints, TLS material,
# restart persistence, plain HTTP on loopback only, command line and config file,
# graceful shutdown under load.
. "$(dirname "$0")/lib.sh"

L=/qps/rest/1.0/ods/ca/agentasset
XMLBODY='<?xml version="1.0" encoding="UTF-8" ?> <ServiceRequest></ServiceRequest>'

start_server
add_user alice scanner 'alice-pw-1'
REQ_USER='alice:alice-pw-1'
add_asset 19105105

# --- health and schema -------------------------------------------------------------
CASE="healthz"
REQ_USER='' req GET /healthz
assert_status 200
assert_json 'd["status"]' ok
ok "GET /healthz: 200 {\"status\":\"ok\"} without credentials"

CASE="schema"
REQ_USER='' req GET /qps/xsd/1.0/ca/agentasset.xsd
assert_status 200
cp "$BODY" "$T/schema.xsd"
xmllint --noout "$T/schema.xsd" 2>"$T/err" || fail "$CASE: the schema is not well-formed XML: $(head -n 3 "$T/err")"
[ "$(xmllint --xpath 'local-name(/*)' "$T/schema.xsd")" = schema ] &&
    [ "$(xmllint --xpath 'namespace-uri(/*)' "$T/schema.xsd")" = http://www.w3.org/2001/XMLSchema ] ||
    fail "$CASE: the document element is not xs:schema"
launch 19105105 Inventory_Scan false
assert_status 200
xmllint --noout --schema "$T/schema.xsd" "$BODY" 2>"$T/err" ||
    fail "$CASE: a launch response does not validate: $(head -n 3 "$T/err")"
printf '<ServiceResponse><bogus/></ServiceResponse>\n' >"$T/bogus.xml"
if xmllint --noout --schema "$T/schema.xsd" "$T/bogus.xml" 2>/dev/null; then
    fail "$CASE: the schema accepts <ServiceResponse><bogus/></ServiceResponse>; it constrains nothing"
fi
printf '<Other/>\n' >"$T/other.xml"
if xmllint --noout --schema "$T/schema.xsd" "$T/other.xml" 2>/dev/null; then
    fail "$CASE: the schema accepts a document whose root is <Other/>"
fi
ok "GET /qps/xsd/1.0/ca/agentasset.xsd is a compiling xs:schema that accepts a launch response and rejects junk"

# --- TLS ---------------------------------------------------------------------------
CASE="TLS files"
[ -s "$SRV_DIR/tls/cert.pem" ] || fail "$CASE: no $SRV_DIR/tls/cert.pem"
[ -s "$SRV_DIR/tls/key.pem" ] || fail "$CASE: no $SRV_DIR/tls/key.pem"
mode=$(stat -c %a "$SRV_DIR/tls/key.pem")
[ "$mode" = 600 ] || fail "$CASE: key.pem has mode $mode, expected 600"
ok "tls/cert.pem exists, tls/key.pem has mode 600"

CASE="untrusted certificate"
rc=0
curl -s -o /dev/null --max-time 10 "$BASE/healthz" || rc=$?
[ "$rc" -ne 0 ] || fail "$CASE: curl without --cacert trusted the self-signed certificate"
[ "$rc" = 60 ] || note "curl without --cacert exited $rc (60 = certificate problem expected)"
ok "curl without --cacert refuses the self-signed certificate (exit $rc)"

CASE="plain HTTP on the HTTPS port"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$SRV_PORT/healthz" || true)
[ "$code" != 200 ] || fail "$CASE: the HTTPS port answered plain HTTP with 200"
ok "plain HTTP to the HTTPS port gets no answer"

fingerprint() { openssl x509 -noout -fingerprint -sha256 -in "$1" | sed 's/.*=//'; }
CASE="openssl s_client"
openssl s_client -connect "127.0.0.1:$SRV_PORT" -CAfile "$CACERT" -verify_return_error \
    </dev/null >"$T/sclient" 2>&1 || fail "$CASE: s_client failed: $(tail -n 5 "$T/sclient" | tr '\n' ' ')"
grep -q 'Verify return code: 0 (ok)' "$T/sclient" || fail "$CASE: verification did not pass: $(grep 'Verify' "$T/sclient")"
sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' "$T/sclient" >"$T/served.pem"
FP=$(fingerprint "$CACERT")
[ "$(fingerprint "$T/served.pem")" = "$FP" ] || fail "$CASE: the served certificate is not cert.pem"
ok "openssl s_client verifies the served certificate, which is cert.pem ($FP)"

# --- restart persistence ------------------------------------------------------------
CASE="restart"
launch 19105105 Vulnerability_Scan false
assert_status 400   # no VM on this asset: also proves rejected launches store nothing
launch 19105105 Inventory_Scan true
assert_launch_ok "Inventory Scan" 19105105
JOB=$(header X-Odscan-Job-Id)
DIR1=$SRV_DIR
stop_server
[ "$STOP_RC" = 0 ] || fail "$CASE: odscand exited with $STOP_RC after SIGTERM"
grep -q 'stopped' "$DIR1/server.log" || fail "$CASE: the log does not say 'stopped'"
ok "SIGTERM: exit status 0 and 'stopped' in the log"
restart_server "$DIR1"
XSD_FILE=""
[ "$(fingerprint "$CACERT")" = "$FP" ] || fail "$CASE: cert.pem changed across the restart"
openssl s_client -connect "127.0.0.1:$SRV_PORT" -CAfile "$CACERT" </dev/null 2>/dev/null |
    sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' >"$T/served2.pem"
[ "$(fingerprint "$T/served2.pem")" = "$FP" ] || fail "$CASE: a different certificate is served after the restart"
jobs_norm --asset 19105105 >"$T/jobs"
python3 - "$T/jobs" "$JOB" <<'EOF' || fail "$CASE: job $JOB missing after restart: $(cat "$T/jobs")"
import json, sys
jobs = {j["id"]: j for j in map(json.loads, open(sys.argv[1]))}
j = jobs[int(sys.argv[2])]
assert (j["scan"], j["override"], j["state"]) == ("Inventory_Scan", True, "QUEUED"), j
assert len(jobs) == 2, "expected 2 jobs, got %d" % len(jobs)
EOF
launch 19105105 Inventory_Scan true
assert_launch_ok "Inventory Scan" 19105105
assert_header X-Odscan-Job-Existing true
assert_header X-Odscan-Job-Id "$JOB"
ok "after restart on the same state dir: same certificate, job $JOB still listed and de-duplicated"

# --- plain HTTP, loopback only ------------------------------------------------------
CASE="--insecure-http"
start_server --insecure-http
XSD_FILE=""
add_user alice scanner 'alice-pw-1'
add_asset 19105105
[[ $BASE == http://* ]] || fail "$CASE: BASE is $BASE"
launch 19105105 Inventory_Scan false
assert_launch_ok "Inventory Scan" 19105105
[ "$(xmllint --xpath 'string(/*/@*[local-name()="noNamespaceSchemaLocation"])' "$BODY")" = "$BASE/qps/xsd/1.0/ca/agentasset.xsd" ] ||
    fail "$CASE: schema location is not $BASE/qps/xsd/1.0/ca/agentasset.xsd"
[ ! -e "$SRV_DIR/tls/key.pem" ] || note "--insecure-http still created a TLS key"
ok "--insecure-http on 127.0.0.1 serves launches over http://"

# refuse DESC ARGS...: odscand must exit non-zero within 10 s, printing exactly one
# reason line "odscand: ..." (log lines, which start with a timestamp, may precede it).
refuse() {
    local desc=$1 dir rc=0 lines
    shift
    new_state_dir
    dir=$NEW_DIR
    timeout 10 "$ODS_BIN/odscand" --state-dir "$dir" "$@" >"$T/refuse.out" 2>&1 || rc=$?
    [ "$rc" != 124 ] || fail "$desc: odscand was still running after 10 s"
    [ "$rc" != 0 ] || fail "$desc: odscand exited 0"
    lines=$(grep -vcE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' "$T/refuse.out" || true)
    [ "$lines" = 1 ] || fail "$desc: expected one reason line, got $lines: $(head -c 600 "$T/refuse.out")"
    REFUSE_MSG=$(grep -vE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' "$T/refuse.out")
    [[ $REFUSE_MSG == "odscand: "* ]] || fail "$desc: reason line does not start with 'odscand: ': $REFUSE_MSG"
    REFUSE_RC=$rc
}

CASE="--insecure-http on 0.0.0.0"
P=$(free_port)
refuse "$CASE" --insecure-http --listen "0.0.0.0:$P"
grep -qi 'loopback\|insecure' <<<"$REFUSE_MSG" || fail "$CASE: reason does not explain: $REFUSE_MSG"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$P/healthz" || true)
[ "$code" = 000 ] || fail "$CASE: something answers on port $P"
ok "--insecure-http --listen 0.0.0.0:PORT refuses to start (exit $REFUSE_RC): $REFUSE_MSG"

CASE="bad flag"
refuse "$CASE" --listen "127.0.0.1:$(free_port)" --no-such-flag
[ "$REFUSE_RC" = 2 ] || fail "$CASE: exit status $REFUSE_RC, expected 2"
ok "unknown flag: exit 2 with one line: $REFUSE_MSG"

CASE="flag without its value"
refuse "$CASE" --listen
[ "$REFUSE_RC" = 2 ] || fail "$CASE: exit status $REFUSE_RC, expected 2"
ok "--listen without a value: exit 2 with one line"

CASE="bad number"
refuse "$CASE" --listen "127.0.0.1:$(free_port)" --threads 0
[ "$REFUSE_RC" = 2 ] || fail "$CASE: exit status $REFUSE_RC, expected 2"
ok "--threads 0: exit 2 with one line"

CASE="no state dir"
rc=0
timeout 10 "$ODS_BIN/odscand" --listen "127.0.0.1:$(free_port)" >"$T/refuse.out" 2>&1 || rc=$?
[ "$rc" = 2 ] && [ "$(grep -c '' "$T/refuse.out")" = 1 ] ||
    fail "$CASE: exit $rc, output: $(head -c 300 "$T/refuse.out")"
ok "missing --state-dir: exit 2 with one line"


# --- config file -----------------------------------------------------------------------
CASE="--config"
P1=$(free_port)
printf '# test configuration\nlisten = 127.0.0.1:%s\nthreads = 3\n' "$P1" >"$T/odscand.conf"
new_state_dir
D=$NEW_DIR
run_server "$D" "$P1" https --config "$T/odscand.conf"
ok "--config FILE with listen = 127.0.0.1:$P1 is obeyed"
stop_server
[ "$STOP_RC" = 0 ] || fail "$CASE: exit status $STOP_RC after SIGTERM"

CASE="flag overrides --config"
P2=$(free_port)
new_state_dir
D=$NEW_DIR
run_server "$D" "$P2" https --config "$T/odscand.conf" --listen "127.0.0.1:$P2"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --cacert "$CACERT" "https://127.0.0.1:$P1/healthz" || true)
[ "$code" = 000 ] || fail "$CASE: the config file's port $P1 answered $code too"
ok "--listen on the command line overrides listen in --config (placed after it)"
stop_server

CASE="flag before --config still wins"
P3=$(free_port)
new_state_dir
D=$NEW_DIR
run_server "$D" "$P3" https --listen "127.0.0.1:$P3" --config "$T/odscand.conf"
ok "--listen placed before --config still overrides the file"
stop_server

CASE="bad config file"
printf 'listen = 127.0.0.1:%s\nno_such_setting = 1\n' "$(free_port)" >"$T/bad.conf"
refuse "$CASE" --config "$T/bad.conf"
grep -q 'no_such_setting' <<<"$REFUSE_MSG" || fail "$CASE: message does not name the setting: $REFUSE_MSG"
ok "an unknown setting in --config refuses to start: $REFUSE_MSG"

# --- graceful shutdown under load ----------------------------------------------------
CASE="graceful shutdown"
start_server
XSD_FILE=""
add_user alice scanner 'alice-pw-1'
for a in $(seq 5001 5020); do add_asset "$a" VM,PC,SWCA,UDC; done
: >"$T/urls.cfg"
n=0
for a in $(seq 5001 5020); do
    for s in Inventory_Scan Vulnerability_Scan PolicyCompliance_Scan UDC_Scan SWCA_scan; do
        for o in false true; do
            n=$((n + 1))
            [ "$n" -le 200 ] || continue
            printf 'url = "%s%s/%s?scan=%s&overrideConfigCpu=%s"\noutput = "/dev/null"\n' \
                "$BASE" "$L" "$a" "$s" "$o" >>"$T/urls.cfg"
        done
    done
done
[ "$(grep -c '^url' "$T/urls.cfg")" = 200 ] || fail "$CASE: expected 200 URLs"
: >"$T/results"
# Connection: close - one connection per launch, so launches keep arriving as new
# connections while the server shuts down (keep-alive connections would be drained).
curl --parallel --parallel-max 50 -s --cacert "$CACERT" -u 'alice:alice-pw-1' -X POST \
    -H 'Connection: close' -H 'Content-Type: text/xml' --data-binary "$XMLBODY" --max-time 30 \
    -w '%{http_code} %{url_effective}\n' --config "$T/urls.cfg" >"$T/results" 2>/dev/null &
CURL_PID=$!
for i in $(seq 1 200); do
    [ "$(grep -c '' "$T/results")" -ge 20 ] && break
    kill -0 "$CURL_PID" 2>/dev/null || break
    sleep 0.01
done
DIR1=$SRV_DIR
stop_server
wait "$CURL_PID" || true
[ "$STOP_RC" = 0 ] || fail "$CASE: exit status $STOP_RC after SIGTERM under load"
acked=$(grep -c '^200 ' "$T/results" || true)
note "$acked of 200 launches acknowledged; statuses: $(cut -d' ' -f1 "$T/results" | sort | uniq -c | tr '\n' ' ')"
[ "$acked" -ge 1 ] || fail "$CASE: no launch was acknowledged before the shutdown"
bad=$(grep -Ev '^(200|503|000) ' "$T/results" || true)
[ -z "$bad" ] || fail "$CASE: unexpected statuses during shutdown: $(head -n 5 <<<"$bad")"
restart_server "$DIR1"
jobs_norm >"$T/jobs"
python3 "$API_DIR/check_acked.py" "$T/results" "$T/jobs" 200 ||
    fail "$CASE: acknowledged launches missing after restart"
ok "SIGTERM during 200 concurrent launches: exit 0, all $acked acknowledged launches have their job"

# --- a second server on a port already taken ------------------------------------------
# It must fail to bind rather than share the port: with SO_REUSEPORT two odscand
# processes (on different databases) would split the clients between them.
CASE="port in use"
refuse "$CASE" --listen "127.0.0.1:$SRV_PORT"
ok "listening on a port in use fails with one line (exit $REFUSE_RC): $REFUSE_MSG"

exit 0
