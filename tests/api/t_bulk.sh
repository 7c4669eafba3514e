#!/usr/bin/env bash
# t_bulk.sh - launch by filter: the documented examples (XML and JSON), eligibility
# (requested minus returned), one transaction per request, malformed filters, and
# the 10,000 limits (values of an IN, and assets matched).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/doc_examples.sh"

start_server
add_user alice manager 'alice-pw-1'
add_user rita reader 'rita-pw-1'
REQ_USER='alice:alice-pw-1'
add_asset 111 VM
add_asset 222
add_asset 333 VM
DB=$(server_db)
db_query "$DB" "INSERT INTO tags(id, name, created_ms) VALUES (7, 'Cloud Agent', 0)"
db_query "$DB" "INSERT INTO asset_tags(asset_id, tag_id) VALUES (111, 7), (222, 7)"

L=/qps/rest/1.0/ods/ca/agentasset
post_filter() {   # post_filter QUERY BODY [curl args...]
    local q=$1 body=$2
    shift 2
    req POST "$L?$q" -H 'Content-Type: text/xml' --data-binary "$body" "$@"
}

CASE="documented XML bulk launch"
run_doc_example bulk-xml
assert_status 200
assert_xpath /ServiceResponse/responseCode SUCCESS
assert_xpath /ServiceResponse/data/SingleModuleResponse/module "Inventory Scan"
assert_xpath /ServiceResponse/data/SingleModuleResponse/count 2
assert_xpath /ServiceResponse/data/SingleModuleResponse/assetIds "[111,222]"
assert_valid_xsd
# one transaction, committed before the answer: both jobs are there already
[ "$(jobs_norm --asset 111 | wc -l)" = 1 ] && [ "$(jobs_norm --asset 222 | wc -l)" = 1 ] ||
    fail "$CASE: jobs not all visible right after the answer"
[ "$(jobs_norm --asset 333 | wc -l)" = 0 ] || fail "$CASE: asset 333 (no tag) got a job"
ok "bulk launch (XML, id IN + tagName): both tagged assets, jobs committed before the answer"

CASE="documented JSON bulk launch, ineligible asset left out"
run_doc_example bulk-json
assert_status 200
assert_json 'd["ServiceResponse"]["data"][0]["SingleModuleResponse"]["module"]' "Vulnerability Scan"
assert_json 'json.loads(d["ServiceResponse"]["data"][0]["SingleModuleResponse"]["assetIds"])' "[111]"
assert_json 'd["ServiceResponse"]["data"][0]["SingleModuleResponse"]["count"]' 1
[ "$(jobs_norm --asset 222 | wc -l)" = 1 ] || fail "$CASE: asset 222 without VM got a Vulnerability job"
ok "bulk launch (JSON): asset without VM left out, requested minus returned = 1"

CASE="JSON Criteria array, scanner alias values"
req POST "$L?scan=Inventory_Scan&overrideConfigCpu=True" -H 'Content-Type: application/json' \
    -H 'Accept: application/json' \
    --data '{"ServiceRequest":{"filters":{"Criteria":[{"field":"name","operator":"CONTAINS","value":"HOST-"},{"field":"id","operator":"GREATER","value":200}]}}}'
assert_status 200
assert_json 'json.loads(d["ServiceResponse"]["data"][0]["SingleModuleResponse"]["assetIds"])' "[222, 333]"
ok "bulk launch with a Criteria array (AND of two)"

CASE="no match"
post_filter "scan=Inventory_Scan" '<ServiceRequest><filters><Criteria field="id" operator="EQUALS">999</Criteria></filters></ServiceRequest>'
assert_status 200
assert_xpath /ServiceResponse/data/SingleModuleResponse/count 0
assert_xpath /ServiceResponse/data/SingleModuleResponse/assetIds "[]"
ok "no asset matched: SUCCESS, count 0, []"

bad() {   # bad NAME QUERY BODY WORD: 400 INVALID_REQUEST whose message contains WORD
    CASE=$1
    post_filter "$2" "$3"
    assert_qps_error 400 INVALID_REQUEST
    xpath /ServiceResponse/responseErrorDetails/errorMessage | grep -qF -- "$4" ||
        fail "$CASE: message does not name '$4': $(xpath /ServiceResponse/responseErrorDetails/errorMessage)"
    ok "$CASE: 400 naming '$4'"
}
bad "empty filters" "scan=Inventory_Scan" '<ServiceRequest><filters></filters></ServiceRequest>' "at least one criterion"
bad "empty body" "scan=Inventory_Scan" '' "at least one criterion"
bad "unknown field" "scan=Inventory_Scan" '<ServiceRequest><filters><Criteria field="colour" operator="EQUALS">x</Criteria></filters></ServiceRequest>' "colour"
bad "operator not for the field" "scan=Inventory_Scan" '<ServiceRequest><filters><Criteria field="name" operator="GREATER">x</Criteria></filters></ServiceRequest>' "GREATER"
bad "bad date" "scan=Inventory_Scan" '<ServiceRequest><filters><Criteria field="lastCheckedIn" operator="LESSER">2024-02-30</Criteria></filters></ServiceRequest>' "2024-02-30"
bad "non-numeric id" "scan=Inventory_Scan" '<ServiceRequest><filters><Criteria field="id" operator="IN">1,two</Criteria></filters></ServiceRequest>' "two"
bad "missing scan" "" '<ServiceRequest><filters><Criteria field="id" operator="IN">1</Criteria></filters></ServiceRequest>' "scan"

CASE="reader may not launch"
REQ_USER='rita:rita-pw-1'
post_filter "scan=Inventory_Scan" '<ServiceRequest><filters><Criteria field="id" operator="IN">111</Criteria></filters></ServiceRequest>'
assert_qps_error 403 OPERATION_NOT_PERMITTED
REQ_USER='alice:alice-pw-1'
ok "reader: 403"

CASE="10,000 ids"
ids=$(seq 1 10000 | paste -sd, -)
post_filter "scan=Inventory_Scan" "<ServiceRequest><filters><Criteria field=\"id\" operator=\"IN\">$ids</Criteria></filters></ServiceRequest>"
assert_status 200
assert_xpath /ServiceResponse/data/SingleModuleResponse/assetIds "[111,222,333]"
ok "IN with 10,000 ids: accepted"
CASE="10,001 ids"
ids="$ids,10001"
post_filter "scan=Inventory_Scan" "<ServiceRequest><filters><Criteria field=\"id\" operator=\"IN\">$ids</Criteria></filters></ServiceRequest>"
assert_qps_error 400 INVALID_REQUEST
assert_xpath_nonempty /ServiceResponse/responseErrorDetails/errorResolution
ok "IN with 10,001 ids: 400 with a resolution"

CASE="more than 10,000 matches"
db_query "$DB" "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 10001)
  INSERT INTO assets(id, hostname, os_family, modules, created_ms, updated_ms)
  SELECT 500000 + i, 'many-' || i, 'linux', 0, 0, 0 FROM s"
before=$(jobs_norm | wc -l)
post_filter "scan=Inventory_Scan" '<ServiceRequest><filters><Criteria field="name" operator="CONTAINS">many-</Criteria></filters></ServiceRequest>'
assert_qps_error 400 INVALID_REQUEST
grep -q "10000" <(xpath /ServiceResponse/responseErrorDetails/errorMessage) ||
    fail "$CASE: message does not give the limit"
[ "$(jobs_norm | wc -l)" = "$before" ] || fail "$CASE: jobs were created"
ok "a filter matching 10,001 assets: 400, nothing launched"
