#!/usr/bin/env bash
# t_tags.sh - tags over the QPS API (create, rename, search, get, delete; put on and
# taken off assets) in XML and JSON, the CLI's tag group, and key tags on enrollment.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/doc_examples.sh"

start_server
add_user alice manager 'alice-pw-1'
add_user rita reader 'rita-pw-1'
REQ_USER='alice:alice-pw-1'
add_asset 7001

CASE="create tag (XML)"
req POST /qps/rest/2.0/create/am/tag -H 'Content-Type: text/xml' \
    --data-binary '<ServiceRequest><data><Tag><name>prod</name></Tag></data></ServiceRequest>'
assert_status 200
assert_xpath /ServiceResponse/responseCode SUCCESS
assert_xpath /ServiceResponse/data/Tag/name prod
PROD=$(xpath /ServiceResponse/data/Tag/id)
[[ $PROD =~ ^[0-9]+$ ]] || fail "$CASE: tag id '$PROD'"
ok "create tag prod (XML): id $PROD"

CASE="create tag (JSON)"
req POST /qps/rest/2.0/create/am/tag -H 'Content-Type: application/json' -H 'Accept: application/json' \
    --data-binary '{"ServiceRequest":{"data":{"Tag":{"name":"staging"}}}}'
assert_status 200
assert_json 'd["ServiceResponse"]["responseCode"]' SUCCESS
assert_json 'd["ServiceResponse"]["data"][0]["Tag"]["name"]' staging
STAGING=$(json_of 'd["ServiceResponse"]["data"][0]["Tag"]["id"]')
ok "create tag staging (JSON, data as an array of one-key objects): id $STAGING"

CASE="duplicate tag"
req POST /qps/rest/2.0/create/am/tag --data-binary '<ServiceRequest><data><Tag><name>prod</name></Tag></data></ServiceRequest>'
assert_qps_error 400 INVALID_REQUEST
ok "a second tag named prod: 400 INVALID_REQUEST"

CASE="tag without a name"
req POST /qps/rest/2.0/create/am/tag --data-binary '<ServiceRequest><data><Tag></Tag></data></ServiceRequest>'
assert_qps_error 400 INVALID_REQUEST
req POST /qps/rest/2.0/create/am/tag --data-binary '<ServiceRequest><data><Tag><name>a,b</name></Tag>'
assert_qps_error 400 INVALID_REQUEST
ok "a tag without a name, or malformed XML: 400"

CASE="reader may not create"
REQ_USER='rita:rita-pw-1'
req POST /qps/rest/2.0/create/am/tag --data-binary '<ServiceRequest><data><Tag><name>x</name></Tag></data></ServiceRequest>'
assert_qps_error 403 OPERATION_NOT_PERMITTED
ok "a reader creating a tag: 403"

CASE="search tags by name (reader)"
req POST /qps/rest/2.0/search/am/tag \
    --data-binary '<ServiceRequest><filters><Criteria field="name" operator="CONTAINS">PRO</Criteria></filters></ServiceRequest>'
assert_status 200
assert_xpath /ServiceResponse/count 1
assert_xpath /ServiceResponse/data/Tag/name prod
req POST /qps/rest/2.0/search/am/tag -H 'Accept: application/json' \
    --data-binary '{"ServiceRequest":{"filters":{"Criteria":[{"field":"name","operator":"EQUALS","value":"staging"}]}}}'
assert_json 'd["ServiceResponse"]["count"]' 1
assert_json 'd["ServiceResponse"]["data"][0]["Tag"]["id"]' "$STAGING"
req POST /qps/rest/2.0/search/am/tag --data-binary ''
assert_xpath /ServiceResponse/count 2
ok "search tags: CONTAINS (case-insensitive), EQUALS (JSON), no filter"
REQ_USER='alice:alice-pw-1'

CASE="rename"
req POST "/qps/rest/2.0/update/am/tag/$STAGING" \
    --data-binary '<ServiceRequest><data><Tag><name>stage</name></Tag></data></ServiceRequest>'
assert_status 200
assert_xpath /ServiceResponse/data/Tag/name stage
req GET "/qps/rest/2.0/get/am/tag/$STAGING"
assert_xpath /ServiceResponse/data/Tag/name stage
req POST /qps/rest/2.0/update/am/tag/999999 \
    --data-binary '<ServiceRequest><data><Tag><name>zz</name></Tag></data></ServiceRequest>'
assert_qps_error 404 NOT_FOUND
ok "rename tag $STAGING to stage; an unknown tag id: 404"

CASE="assign by asset update"
req POST /qps/rest/2.0/update/am/asset/7001 -H 'Content-Type: text/xml' \
    --data-binary "<ServiceRequest><data><Asset><tags><add><TagSimple><id>$PROD</id></TagSimple><TagSimple><id>$STAGING</id></TagSimple></add></tags></Asset></data></ServiceRequest>"
assert_status 200
assert_xpath /ServiceResponse/data/Asset/id 7001
got=$(db_query "$(server_db)" "SELECT count(*) FROM asset_tags WHERE asset_id = 7001")
[ "$got" = 2 ] || fail "$CASE: asset 7001 has $got tags"
ok "asset update with <tags><add> of two TagSimple: 200"

CASE="remove by asset update (JSON)"
req POST /qps/rest/2.0/update/am/asset/7001 -H 'Accept: application/json' \
    --data-binary "{\"ServiceRequest\":{\"data\":{\"Asset\":{\"tags\":{\"remove\":{\"TagSimple\":[{\"id\":$STAGING}]}}}}}}"
assert_status 200
assert_json 'd["ServiceResponse"]["data"][0]["Asset"]["id"]' 7001
req POST /qps/rest/2.0/update/am/asset/7999 \
    --data-binary "<ServiceRequest><data><Asset><tags><add><TagSimple><id>$PROD</id></TagSimple></add></tags></Asset></data></ServiceRequest>"
assert_qps_error 404 NOT_FOUND
req POST /qps/rest/2.0/update/am/asset/7001 \
    --data-binary '<ServiceRequest><data><Asset><tags><add><TagSimple><id>424242</id></TagSimple></add></tags></Asset></data></ServiceRequest>'
assert_qps_error 404 NOT_FOUND
ok "remove a tag (JSON); unknown asset or tag: 404"

CASE="the CLI sees the API's tags"
ctl tag list >"$T/tags" || fail "$CASE: tag list failed"
grep -q '^.*prod' "$T/tags" && grep -q 'stage' "$T/tags" || fail "$CASE: $(cat "$T/tags")"
ctl tag create dev >/dev/null || fail "$CASE: tag create dev"
ctl tag assign dev --asset 7001 >/dev/null || fail "$CASE: tag assign"
ctl tag remove dev --asset 7001 >/dev/null || fail "$CASE: tag remove"
ctl tag assign nosuch --asset 7001 2>/dev/null && fail "$CASE: unknown tag assigned"
ctl tag del dev >/dev/null || fail "$CASE: tag del"
ok "odscanctl tag create/list/assign/remove/del on the same tags"

CASE="delete"
req POST "/qps/rest/2.0/delete/am/tag/$STAGING" --data-binary ''
assert_status 200
req GET "/qps/rest/2.0/get/am/tag/$STAGING"
assert_qps_error 404 NOT_FOUND
ok "delete tag $STAGING; get answers 404 afterwards"

CASE="key tags on enrollment"
KEY=$(ctl key create --name tagged --tags prod) || fail "$CASE: key create --tags"
req POST /agent/v1/enroll -H 'Content-Type: application/json' \
    -d '{"activation_key":"'"$KEY"'","hostname":"web1","os_family":"linux","agent_version":"0.1.0"}'
assert_status 200
AID=$(json_of 'd["asset_id"]')
got=$(db_query "$(server_db)" "SELECT t.name FROM asset_tags a JOIN tags t ON t.id = a.tag_id WHERE a.asset_id = $AID" 2>/dev/null || echo "?")
[ "$got" = prod ] || fail "$CASE: asset $AID has tags '$got'"
ok "an agent enrolling with a key tagged prod gets tag prod (asset $AID)"

CASE="the documented examples"
REQ_USER='alice:alice-pw-1'
run_doc_example tag-create
assert_status 200
assert_xpath /ServiceResponse/data/Tag/name web-tier
run_doc_example tag-assign
assert_status 200
assert_xpath /ServiceResponse/data/Asset/id 7001
got=$(db_query "$(server_db)" "SELECT count(*) FROM asset_tags x JOIN tags t ON t.id = x.tag_id WHERE x.asset_id = 7001 AND t.name = 'web-tier'")
[ "$got" = 1 ] || fail "$CASE: asset 7001 does not carry web-tier"
ok "docs/api.md's tag examples, as written: web-tier created and put on asset 7001"
