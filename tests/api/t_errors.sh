#!/usr/bin/env bash
# t_errors.sh - every way a launch is refused: status, responseCode, a message and a
# resolution, a schema-valid body (or JSON when asked); hostile bodies; roles; the
# credential cache following password and role changes; account lock-out.
. "$(dirname "$0")/lib.sh"

start_server
add_user alice scanner 'alice-pw-1'
add_user rita reader 'rita-pw-1'
add_asset 19105105
add_asset 4001
REQ_USER='alice:alice-pw-1'
L=/qps/rest/1.0/ods/ca/agentasset
XMLBODY='<?xml version="1.0" encoding="UTF-8" ?> <ServiceRequest></ServiceRequest>'

# post PATH_AND_QUERY [BODY] [curl args...]: a launch-shaped POST with an XML body.
post() {
    local path=$1 body=${2-$XMLBODY}
    shift $(( $# >= 2 ? 2 : 1 ))
    req POST "$path" -H 'Content-Type: text/xml' --data-binary "$body" "$@"
}

# --- bad parameters: 400 INVALID_REQUEST -----------------------------------------
while IFS='|' read -r name query; do
    CASE=$name
    post "$query"
    assert_qps_error 400 INVALID_REQUEST
    ok "$name: 400 INVALID_REQUEST"
done <<EOF
scan missing|$L/19105105?overrideConfigCpu=false
scan missing, no query at all|$L/19105105
scan empty|$L/19105105?scan=
scan without a value|$L/19105105?scan
unknown scan|$L/19105105?scan=Foo_Scan
two scan types in one value|$L/19105105?scan=Inventory_Scan,Vulnerability_Scan
scan given twice|$L/19105105?scan=Inventory_Scan&scan=Inventory_Scan
scan given twice, different case|$L/19105105?scan=Inventory_Scan&SCAN=Vulnerability_Scan
bad boolean|$L/19105105?scan=Inventory_Scan&overrideConfigCpu=maybe
empty boolean|$L/19105105?scan=Inventory_Scan&overrideConfigCpu=
overrideConfigCpu given twice|$L/19105105?scan=Inventory_Scan&overrideConfigCpu=true&overrideConfigCpu=false
asset id abc|$L/abc?scan=Inventory_Scan
asset id 0|$L/0?scan=Inventory_Scan
asset id negative|$L/-5?scan=Inventory_Scan
asset id with sign|$L/+5?scan=Inventory_Scan
asset id with trailing junk|$L/19105105x?scan=Inventory_Scan
asset id 20 digits|$L/99999999999999999999?scan=Inventory_Scan
asset id 2^63|$L/9223372036854775808?scan=Inventory_Scan
EOF

CASE="message names the scan types"
post "$L/19105105?scan=Foo_Scan"
grep -q 'Inventory_Scan' "$BODY" || fail "$CASE: the error does not list the valid scan types: $(body_excerpt)"
ok "unknown scan: the error lists the valid values"

CASE="filters on the single-asset launch"
post "$L/19105105?scan=Inventory_Scan" \
    '<ServiceRequest><filters><Criteria field="id" operator="EQUALS">1</Criteria></filters></ServiceRequest>'
assert_qps_error 400 INVALID_REQUEST
ok "a ServiceRequest with filters on the single-asset URL: 400"

# --- authentication ------------------------------------------------------------------
CASE="no credentials"
REQ_USER='' post "$L/19105105?scan=Inventory_Scan"
assert_qps_error 401 UNAUTHORIZED
assert_header WWW-Authenticate 'Basic realm="odscan"'
ok "no credentials: 401 UNAUTHORIZED with WWW-Authenticate: Basic realm=\"odscan\""

CASE="wrong password"
REQ_USER='alice:wrong' post "$L/19105105?scan=Inventory_Scan"
assert_qps_error 401 UNAUTHORIZED
assert_header WWW-Authenticate 'Basic realm="odscan"'
ok "wrong password: 401"

CASE="unknown user"
REQ_USER='mallory:whatever' post "$L/19105105?scan=Inventory_Scan"
assert_qps_error 401 UNAUTHORIZED
ok "unknown user: 401"

CASE="malformed Authorization"
post "$L/19105105?scan=Inventory_Scan" "$XMLBODY" -H 'Authorization: Basic !!!notbase64'
assert_qps_error 401 UNAUTHORIZED
ok "malformed Basic credentials: 401"

CASE="Bearer scheme"
REQ_USER='' post "$L/19105105?scan=Inventory_Scan" "$XMLBODY" -H 'Authorization: Bearer abc'
assert_qps_error 401 UNAUTHORIZED
ok "non-Basic Authorization scheme: 401"

CASE="reader role"
REQ_USER='rita:rita-pw-1' post "$L/19105105?scan=Inventory_Scan"
assert_qps_error 403 OPERATION_NOT_PERMITTED
ok "reader launching: 403 OPERATION_NOT_PERMITTED"

# --- the asset and its modules --------------------------------------------------------
CASE="unknown asset"
post "$L/424242?scan=Inventory_Scan"
assert_qps_error 404 NOT_FOUND
ok "unknown asset: 404 NOT_FOUND"

CASE="module not activated"
post "$L/4001?scan=Vulnerability_Scan"
assert_qps_error 400 INVALID_REQUEST
grep -qw VM <(xpath /ServiceResponse/responseErrorDetails/errorMessage) ||
    fail "$CASE: message does not name VM: $(xpath /ServiceResponse/responseErrorDetails/errorMessage)"
ok "Vulnerability_Scan without VM: 400 naming VM"

for row in "PolicyCompliance_Scan PC" "UDC_Scan PC" "SCA_Scan SCA" "SWCA_scan SWCA"; do
    read -r scan mod <<<"$row"
    CASE="$scan without $mod"
    post "$L/4001?scan=$scan"
    assert_qps_error 400 INVALID_REQUEST
    grep -qiw "$mod" <(xpath /ServiceResponse/responseErrorDetails/errorMessage) ||
        fail "$CASE: message does not name $mod: $(xpath /ServiceResponse/responseErrorDetails/errorMessage)"
    ok "$scan without module $mod: 400 naming $mod"
done
[ "$(jobs_norm --asset 4001 | wc -l)" = 0 ] || fail "a refused launch created a job: $(jobs_norm --asset 4001)"
ok "refused launches created no job"

# --- HTTP level --------------------------------------------------------------------
CASE="body over 64 KiB"
head -c 70000 /dev/zero | tr '\0' ' ' >"$T/big"
printf '<ServiceRequest/>' >>"$T/big"
req POST "$L/19105105?scan=Inventory_Scan" -H 'Content-Type: text/xml' --data-binary @"$T/big"
assert_qps_error 413 INVALID_REQUEST
ok "body over 64 KiB: 413"

CASE="body of exactly 64 KiB"
head -c $((65536 - 17)) /dev/zero | tr '\0' ' ' >"$T/edge"
printf '<ServiceRequest/>' >>"$T/edge"
[ "$(stat -c %s "$T/edge")" = 65536 ] || fail "$CASE: test body is not 65536 bytes"
req POST "$L/19105105?scan=Inventory_Scan" -H 'Content-Type: text/xml' --data-binary @"$T/edge"
assert_launch_ok "Inventory Scan" 19105105
ok "body of exactly 64 KiB is accepted"

CASE="GET on the launch URL"
req GET "$L/19105105?scan=Inventory_Scan"
assert_qps_error 405 INVALID_REQUEST
assert_header Allow 'POST'
ok "GET on the launch URL: 405 with Allow: POST"

CASE="unknown path"
req POST "/qps/rest/1.0/ods/ca/nosuchthing/1?scan=Inventory_Scan" --data-binary ''
assert_qps_error 404 NOT_FOUND
ok "unknown path: 404 NOT_FOUND"

CASE="asset id with a slash"
post "$L/19105105/extra?scan=Inventory_Scan"
assert_qps_error 404 NOT_FOUND
ok "extra path segment after the asset id: 404"

# --- hostile and malformed bodies ------------------------------------------------------
BL='<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;"><!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;"><!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;"><!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;"><!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;"><!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]><ServiceRequest>&lol9;</ServiceRequest>'
DEEP=$(python3 -c 'print("<a>" * 5000 + "</a>" * 5000)')
DEEPJSON=$(python3 -c 'print("{\"ServiceRequest\":" + "[" * 5000 + "]" * 5000 + "}")')
while IFS='|' read -r name ctype body; do
    CASE=$name
    post "$L/19105105?scan=Inventory_Scan" "$body" -H "Content-Type: $ctype"
    assert_qps_error 400 INVALID_REQUEST
    assert_body_lacks 'root:'
    ok "$name: 400"
done <<EOF
malformed XML|text/xml|<ServiceRequest><foo></ServiceRequest>
unterminated XML|text/xml|<ServiceRequest>
XML with trailing junk|text/xml|<ServiceRequest/>junk
two root elements|text/xml|<ServiceRequest/><ServiceRequest/>
wrong root element|text/xml|<ServiceResponse></ServiceResponse>
XXE body|text/xml|<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><ServiceRequest>&x;</ServiceRequest>
XXE parameter entity|text/xml|<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><ServiceRequest/>
DOCTYPE without entities|text/xml|<!DOCTYPE ServiceRequest><ServiceRequest/>
billion laughs|text/xml|$BL
deeply nested XML|text/xml|$DEEP
malformed JSON|application/json|{"ServiceRequest":
JSON with trailing junk|application/json|{"ServiceRequest":{}} x
wrong JSON root|application/json|{"ServiceResponse":{}}
JSON with filters|application/json|{"ServiceRequest":{"filters":{"Criteria":{"field":"id","operator":"EQUALS","value":"1"}}}}
deeply nested JSON|application/json|$DEEPJSON
plain text body|text/plain|scan please
EOF

# --- JSON error bodies -----------------------------------------------------------------
while IFS='|' read -r name status code user path; do
    CASE="JSON: $name"
    REQ_USER=$user req POST "$path" -H 'Accept: application/json' -H 'Content-Type: application/json' \
        --data-binary '{"ServiceRequest":{}}'
    assert_status "$status"
    assert_json 'd["ServiceResponse"]["responseCode"]' "$code"
    assert_json 'bool(d["ServiceResponse"]["responseErrorDetails"]["errorMessage"])' true
    assert_json 'bool(d["ServiceResponse"]["responseErrorDetails"]["errorResolution"])' true
    assert_header Content-Type 'application/json.*'
    ok "JSON error, $name: $status $code"
done <<EOF
missing scan|400|INVALID_REQUEST|alice:alice-pw-1|$L/19105105
unknown asset|404|NOT_FOUND|alice:alice-pw-1|$L/424242?scan=Inventory_Scan
no credentials|401|UNAUTHORIZED||$L/19105105?scan=Inventory_Scan
reader|403|OPERATION_NOT_PERMITTED|rita:rita-pw-1|$L/19105105?scan=Inventory_Scan
module not activated|400|INVALID_REQUEST|alice:alice-pw-1|$L/4001?scan=Vulnerability_Scan
EOF

# --- refused launches are audited ---------------------------------------------------
CASE="audit of refused launches"
audit_norm >"$T/audit"
python3 - "$T/audit" <<'EOF' || fail "$CASE: $(head -c 1500 "$T/audit")"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
launches = [r for r in rows if r["action"] == "launch" and r["user"] == "alice"]
results = {r["result"] for r in launches}
for want in ("NOT_FOUND", "INVALID_REQUEST"):
    assert want in results, "no audited launch with result %s (have %s)" % (want, sorted(results))
assert all(r["remote"] == "127.0.0.1" for r in launches), "remote address missing"
EOF
ok "refused launches are in the audit log with their result"

# --- the credential cache follows changes within ~2 s -----------------------------
# wait_for_status WANT SECONDS CMD...: repeat CMD (which sets STATUS) until STATUS=WANT.
wait_for_status() {
    local want=$1 secs=$2 start now
    shift 2
    start=$(date +%s%N)
    while :; do
        "$@"
        [ "$STATUS" = "$want" ] && return 0
        now=$(date +%s%N)
        [ $(( (now - start) / 1000000 )) -lt $(( secs * 1000 )) ] || return 1
        sleep 0.1
    done
}

add_user bob scanner 'bob-old-pw'
CASE="cached credentials"
REQ_USER='bob:bob-old-pw' post "$L/19105105?scan=Inventory_Scan"
assert_status 200
REQ_USER='bob:bob-old-pw' post "$L/19105105?scan=Inventory_Scan"
assert_status 200
printf '%s\n' 'bob-new-pw' | ctl user passwd bob --password-stdin >/dev/null || fail "odscanctl user passwd bob failed"
t0=$(date +%s%N)
old_pw_launch() { REQ_USER='bob:bob-old-pw' post "$L/19105105?scan=Inventory_Scan"; }
wait_for_status 401 2 old_pw_launch ||
    fail "$CASE: the old (cached) password still works 2 s after 'user passwd' (status $STATUS)"
ok "after user passwd the old cached password is refused within $(( ($(date +%s%N) - t0) / 1000000 )) ms"
CASE="new password"
REQ_USER='bob:bob-new-pw' post "$L/19105105?scan=Inventory_Scan"
assert_status 200
ok "the new password works"

CASE="role change"
REQ_USER='bob:bob-new-pw' post "$L/19105105?scan=Inventory_Scan"
assert_status 200
ctl user role bob reader >/dev/null || fail "odscanctl user role bob reader failed"
t0=$(date +%s%N)
bob_launch() { REQ_USER='bob:bob-new-pw' post "$L/19105105?scan=Inventory_Scan"; }
wait_for_status 403 2 bob_launch ||
    fail "$CASE: bob still launches 2 s after becoming a reader (status $STATUS)"
assert_qps_error 403 OPERATION_NOT_PERMITTED
ok "after user role bob reader, launching is refused 403 within $(( ($(date +%s%N) - t0) / 1000000 )) ms"

# --- lock-out ------------------------------------------------------------------------
start_server --lockout-failures 3 --lockout-window 60 --lockout-duration 60
add_user carol scanner 'carol-pw-1'
add_asset 19105105
XSD_FILE=""   # a new server: fetch its schema again
CASE="lock-out"
for i in 1 2 3; do
    REQ_USER='carol:wrong' post "$L/19105105?scan=Inventory_Scan"
    assert_qps_error 401 UNAUTHORIZED
done
REQ_USER='carol:carol-pw-1' post "$L/19105105?scan=Inventory_Scan"
assert_qps_error 401 UNAUTHORIZED
grep -qi 'locked' <(xpath /ServiceResponse/responseErrorDetails/errorMessage) ||
    fail "$CASE: message does not mention the lock: $(xpath /ServiceResponse/responseErrorDetails/errorMessage)"
assert_header WWW-Authenticate 'Basic realm="odscan"'
ok "3 wrong passwords lock the account: the right password gets 401 'locked'"

CASE="lock lifted by passwd"
printf '%s\n' 'carol-pw-2' | ctl user passwd carol --password-stdin >/dev/null || fail "odscanctl user passwd carol failed"
t0=$(date +%s%N)
carol_launch() { REQ_USER='carol:carol-pw-2' post "$L/19105105?scan=Inventory_Scan"; }
wait_for_status 200 2 carol_launch ||
    fail "$CASE: the new password is still refused 2 s after 'user passwd' (status $STATUS: $(body_excerpt))"
assert_launch_ok "Inventory Scan" 19105105
ok "user passwd lifts the lock: the new password works within $(( ($(date +%s%N) - t0) / 1000000 )) ms"

CASE="failures under the limit do not lock"
add_user dave scanner 'dave-pw-1'
for i in 1 2; do
    REQ_USER='dave:wrong' post "$L/19105105?scan=Inventory_Scan"
    assert_status 401
done
REQ_USER='dave:dave-pw-1' post "$L/19105105?scan=Inventory_Scan"
assert_launch_ok "Inventory Scan" 19105105
for i in 1 2; do
    REQ_USER='dave:wrong' post "$L/19105105?scan=Inventory_Scan"
    assert_status 401
done
REQ_USER='dave:dave-pw-1' post "$L/19105105?scan=Inventory_Scan"
assert_launch_ok "Inventory Scan" 19105105
ok "2 failures, a success, 2 failures: not locked (a success clears the count)"

# --- strictness about the root element's namespace ----------------------------------
# The vendor's ServiceRequest has no namespace; an element that only shares its local
# name is another element and must be refused like any wrong root.
REQ_USER='dave:dave-pw-1'
for body in '<x:ServiceRequest xmlns:x="urn:x"/>' '<ServiceRequest xmlns="urn:other"/>'; do
    CASE="root element in a foreign namespace: $body"
    post "$L/19105105?scan=Inventory_Scan" "$body"
    assert_qps_error 400 INVALID_REQUEST
    ok "$CASE: 400"
done

# --- a storage failure: 500 INTERNAL_ERROR and nothing written ------------------------
# A trigger makes every insert into jobs fail inside the launch transaction, as a full
# disk or a broken database would; the launch must fail whole (no job, no audit line).
CASE="storage failure"
add_asset 7777
jobs_before=$(ctl job list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
audit_before=$(ctl audit list --limit 100000 --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
if pg_mode; then
    db_query "$(server_db)" "CREATE FUNCTION fail_jobs() RETURNS trigger LANGUAGE plpgsql AS
        \$\$BEGIN RAISE EXCEPTION 'injected failure'; END\$\$;
        CREATE TRIGGER fail_jobs BEFORE INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION fail_jobs();"
else
    sqlite3 "$SRV_DIR/odscan.db" "CREATE TRIGGER fail_jobs BEFORE INSERT ON jobs BEGIN SELECT RAISE(ABORT, 'injected failure'); END;"
fi
launch 7777 Inventory_Scan true
assert_qps_error 500 INTERNAL_ERROR
jobs_after=$(ctl job list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
audit_after=$(ctl audit list --limit 100000 --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$jobs_after" = "$jobs_before" ] || fail "$CASE: jobs went from $jobs_before to $jobs_after"
[ "$audit_after" = "$audit_before" ] || fail "$CASE: audit went from $audit_before to $audit_after"
if pg_mode; then
    db_query "$(server_db)" "DROP TRIGGER fail_jobs ON jobs; DROP FUNCTION fail_jobs();"
else
    sqlite3 "$SRV_DIR/odscan.db" "DROP TRIGGER fail_jobs;"
fi
launch 7777 Inventory_Scan true
assert_launch_ok "Inventory Scan" 7777
ok "$CASE: 500 INTERNAL_ERROR, no job and no audit line written; the next launch succeeds"

exit 0
