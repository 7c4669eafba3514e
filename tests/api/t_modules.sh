#!/usr/bin/env bash
# t_modules.sh - module activation and deactivation: the documented examples, the
# rules (PC and SCA exclusive, SWCA needs VM) refusing a change whole, the vendor's
# AGENT_SwCA spelling, by filter, roles, and malformed calls.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/doc_examples.sh"

start_server
add_user alice manager 'alice-pw-1'
add_user sam scanner 'sam-pw-1'
REQ_USER='alice:alice-pw-1'
add_asset 111 VM
add_asset 222
add_asset 333
A=/qps/rest/2.0

modules_of() {   # modules_of ID prints agentInfo/activatedModule of the asset
    req GET "$A/get/am/hostasset/$1"
    [ "$STATUS" = 200 ] || fail "${CASE:-}: get $1: status $STATUS"
    xpath "/ServiceResponse/data/HostAsset/agentInfo/activatedModule"
}

CASE="documented activation"
run_doc_example activate
assert_status 200
assert_xpath /ServiceResponse/responseCode SUCCESS
assert_xpath /ServiceResponse/count 1
assert_xpath /ServiceResponse/data/Asset/id 111
assert_xpath /ServiceResponse/data/Asset/agentInfo/activatedModule AGENT_VM,AGENT_PC
ok "activate AGENT_VM,AGENT_PC on 111"

CASE="PC and SCA"
req POST "$A/activate/am/asset/111?module=AGENT_SCA"
assert_qps_error 400 INVALID_REQUEST
grep -q "AGENT_SCA" <(xpath /ServiceResponse/responseErrorDetails/errorMessage) || fail "$CASE: rule not named"
[ "$(modules_of 111)" = AGENT_VM,AGENT_PC ] || fail "$CASE: modules changed"
ok "SCA next to PC: refused, nothing changed"

CASE="SwCA without VM"
req POST "$A/activate/am/asset/222?module=AGENT_SwCA"
assert_qps_error 400 INVALID_REQUEST
grep -q "AGENT_VM" <(xpath /ServiceResponse/responseErrorDetails/errorMessage) || fail "$CASE: rule not named"
[ "$(modules_of 222)" = "" ] || fail "$CASE: modules changed"
req POST "$A/activate/am/asset/222?module=AGENT_VM,AGENT_SwCA"
assert_status 200
assert_xpath /ServiceResponse/data/Asset/agentInfo/activatedModule AGENT_VM,AGENT_SWCA
req POST "$A/deactivate/am/asset/222?module=AGENT_VM"
assert_qps_error 400 INVALID_REQUEST
ok "AGENT_SwCA (vendor spelling) needs VM; VM cannot go while SWCA stays"

CASE="by filter, refused whole"
req POST "$A/activate/am/asset?module=AGENT_SCA" -H 'Content-Type: text/xml' \
    --data '<ServiceRequest><filters><Criteria field="id" operator="IN">111,333</Criteria></filters></ServiceRequest>'
assert_qps_error 400 INVALID_REQUEST
[ "$(modules_of 333)" = "" ] || fail "$CASE: 333 changed although 111 broke the rule"
ok "activation by filter where one asset breaks a rule: nothing changed on any"

CASE="documented deactivation by filter"
run_doc_example deactivate-filter
assert_status 200
assert_xpath /ServiceResponse/count 2
assert_xpath "/ServiceResponse/data/Asset[1]/agentInfo/activatedModule" AGENT_VM
assert_xpath "/ServiceResponse/data/Asset[2]/agentInfo/activatedModule" AGENT_VM,AGENT_SWCA
ok "deactivate AGENT_PC by filter on 111 and 222"

CASE="JSON answer and UDC"
req POST "$A/activate/am/asset/333?module=agent_udc" -H 'Accept: application/json'
assert_status 200
assert_json 'd["ServiceResponse"]["data"][0]["Asset"]["agentInfo"]["activatedModule"]' AGENT_UDC
launch 333 UDC_Scan
assert_launch_ok "UDC Scan" 333
ok "AGENT_UDC alone allows UDC_Scan; JSON data is [{Asset}]"

bad() {   # bad NAME STATUS CODE PATH [curl args]
    local name=$1 st=$2 code=$3 path=$4
    shift 4
    CASE=$name
    req POST "$path" "$@"
    assert_qps_error "$st" "$code"
    ok "$name: $st $code"
}
bad "unsupported module" 400 INVALID_REQUEST "$A/activate/am/asset/111?module=AGENT_FIM"
bad "no module" 400 INVALID_REQUEST "$A/activate/am/asset/111"
bad "missing asset" 404 NOT_FOUND "$A/activate/am/asset/999?module=AGENT_VM"
bad "filter without criteria" 400 INVALID_REQUEST "$A/activate/am/asset?module=AGENT_VM" \
    --data '<ServiceRequest><filters/></ServiceRequest>'
bad "filters on one asset" 400 INVALID_REQUEST "$A/activate/am/asset/111?module=AGENT_VM" \
    --data '<ServiceRequest><filters><Criteria field="id" operator="IN">1</Criteria></filters></ServiceRequest>'
REQ_USER='sam:sam-pw-1'
bad "scanner may not activate" 403 OPERATION_NOT_PERMITTED "$A/activate/am/asset/111?module=AGENT_VM"
REQ_USER='alice:alice-pw-1'

CASE="audit"
audit_norm >"$T/audit"
grep -q '"activate"' "$T/audit" && grep -q '"deactivate"' "$T/audit" ||
    fail "$CASE: no activate/deactivate entries: $(head -c 400 "$T/audit")"
ok "activations and deactivations are audited"
