#!/usr/bin/env bash
# t_keys_api.sh - activation keys over the QPS API: create (each type), search, get,
# update, delete, in XML and JSON; the CLI and the API act on the same keys.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/doc_examples.sh"

start_server
add_user alice manager 'alice-pw-1'
add_user sam scanner 'sam-pw-1'
REQ_USER='alice:alice-pw-1'
ctl tag create prod >/dev/null

CASE="create COUNT_LIMITED (XML)"
req POST /qps/rest/1.0/create/ca/agentactkey -H 'Content-Type: text/xml' \
    --data-binary '<ServiceRequest><data><AgentActKey><title>web</title><type>COUNT_LIMITED</type><countPurchased>2</countPurchased><modules><list><ActivationKeyModule><license>VM_LICENSE</license></ActivationKeyModule></list></modules><tags><list><TagSimple><name>prod</name></TagSimple></list></tags></AgentActKey></data></ServiceRequest>'
assert_status 200
assert_xpath /ServiceResponse/data/AgentActKey/type COUNT_LIMITED
assert_xpath /ServiceResponse/data/AgentActKey/countPurchased 2
assert_xpath /ServiceResponse/data/AgentActKey/countUsed 0
assert_xpath /ServiceResponse/data/AgentActKey/modules/list/ActivationKeyModule/license VM
assert_xpath /ServiceResponse/data/AgentActKey/tags/list/TagSimple/name prod
KID=$(xpath /ServiceResponse/data/AgentActKey/id)
TOKEN=$(xpath /ServiceResponse/data/AgentActKey/activationKey)
ok "create a COUNT_LIMITED key $KID with a module and a tag"

CASE="create UNLIMITED / TIME_LIMITED / COUNT_TIME_LIMITED (JSON)"
req POST /qps/rest/1.0/create/ca/agentactkey -H 'Accept: application/json' \
    --data-binary '{"ServiceRequest":{"data":{"AgentActKey":{"title":"any"}}}}'
assert_json 'd["ServiceResponse"]["data"][0]["AgentActKey"]["type"]' UNLIMITED
req POST /qps/rest/1.0/create/ca/agentactkey -H 'Accept: application/json' \
    --data-binary '{"ServiceRequest":{"data":{"AgentActKey":{"title":"t","type":"TIME_LIMITED","expireDate":"2099-01-01T00:00:00Z"}}}}'
assert_json 'd["ServiceResponse"]["data"][0]["AgentActKey"]["type"]' TIME_LIMITED
assert_json 'd["ServiceResponse"]["data"][0]["AgentActKey"]["expireDate"]' 2099-01-01T00:00:00Z
req POST /qps/rest/1.0/create/ca/agentactkey -H 'Accept: application/json' \
    --data-binary '{"ServiceRequest":{"data":{"AgentActKey":{"title":"ct","countPurchased":5,"expireDate":"2099-01-01T00:00:00Z"}}}}'
assert_json 'd["ServiceResponse"]["data"][0]["AgentActKey"]["type"]' COUNT_TIME_LIMITED
CT=$(json_of 'd["ServiceResponse"]["data"][0]["AgentActKey"]["id"]')
ok "UNLIMITED, TIME_LIMITED and (derived) COUNT_TIME_LIMITED keys"

CASE="inconsistent type"
req POST /qps/rest/1.0/create/ca/agentactkey \
    --data-binary '<ServiceRequest><data><AgentActKey><type>COUNT_LIMITED</type></AgentActKey></data></ServiceRequest>'
assert_qps_error 400 INVALID_REQUEST
req POST /qps/rest/1.0/create/ca/agentactkey \
    --data-binary '<ServiceRequest><data><AgentActKey><type>WEEKLY</type></AgentActKey></data></ServiceRequest>'
assert_qps_error 400 INVALID_REQUEST
ok "COUNT_LIMITED without countPurchased, or an unknown type: 400"

CASE="scanner may not"
REQ_USER='sam:sam-pw-1'
req POST /qps/rest/1.0/search/ca/agentactkey --data-binary ''
assert_qps_error 403 OPERATION_NOT_PERMITTED
REQ_USER='alice:alice-pw-1'
ok "a scanner searching keys: 403"

CASE="the CLI sees the API's key"
ctl key list --json | grep -q "$TOKEN" || fail "$CASE: token $TOKEN not in key list"
CLI_TOKEN=$(ctl key create --name fromcli --max-uses 3) || fail "$CASE: key create"
req POST /qps/rest/1.0/search/ca/agentactkey \
    --data-binary "<ServiceRequest><filters><Criteria field=\"activationKey\" operator=\"EQUALS\">$CLI_TOKEN</Criteria></filters></ServiceRequest>"
assert_status 200
assert_xpath /ServiceResponse/count 1
assert_xpath /ServiceResponse/data/AgentActKey/title fromcli
assert_xpath /ServiceResponse/data/AgentActKey/type COUNT_LIMITED
ok "keys made by the API are listed by the CLI and the reverse"

CASE="search by type and title"
req POST /qps/rest/1.0/search/ca/agentactkey -H 'Accept: application/json' \
    --data-binary '{"ServiceRequest":{"filters":{"Criteria":{"field":"type","operator":"EQUALS","value":"COUNT_LIMITED"}}}}'
assert_json 'd["ServiceResponse"]["count"]' 2
req POST /qps/rest/1.0/search/ca/agentactkey \
    --data-binary '<ServiceRequest><filters><Criteria field="title" operator="CONTAINS">we</Criteria></filters></ServiceRequest>'
assert_xpath /ServiceResponse/count 1
ok "search keys by type (a single Criteria object in JSON) and title"

CASE="update"
req POST "/qps/rest/1.0/update/ca/agentactkey/$CT" \
    --data-binary '<ServiceRequest><data><AgentActKey><type>UNLIMITED</type><isDisabled>true</isDisabled></AgentActKey></data></ServiceRequest>'
assert_status 200
assert_xpath /ServiceResponse/data/AgentActKey/type UNLIMITED
assert_xpath /ServiceResponse/data/AgentActKey/status DISABLED
req GET "/qps/rest/1.0/get/ca/agentactkey/$CT"
assert_xpath /ServiceResponse/data/AgentActKey/isDisabled true
ok "update: type UNLIMITED clears the limits; isDisabled revokes"

CASE="used count"
req POST /agent/v1/enroll -H 'Content-Type: application/json' \
    -d '{"activation_key":"'"$TOKEN"'","hostname":"web1","os_family":"linux","agent_version":"0.1.0"}'
assert_status 200
req GET "/qps/rest/1.0/get/ca/agentactkey/$KID"
assert_xpath /ServiceResponse/data/AgentActKey/countUsed 1
ok "an enrollment counts in countUsed"

CASE="delete"
req POST "/qps/rest/1.0/delete/ca/agentactkey/$KID" --data-binary ''
assert_status 200
assert_xpath /ServiceResponse/data/AgentActKey/id "$KID"
req GET "/qps/rest/1.0/get/ca/agentactkey/$KID"
assert_qps_error 404 NOT_FOUND
ctl key list --json | grep -q "$TOKEN" && fail "$CASE: the CLI still lists the deleted key"
req POST /agent/v1/enroll -H 'Content-Type: application/json' \
    -d '{"activation_key":"'"$TOKEN"'","hostname":"web2","os_family":"linux","agent_version":"0.1.0"}'
[ "$STATUS" != 200 ] || fail "$CASE: enrolled with a deleted key"
ok "delete removes the key for good; it no longer enrolls; get answers 404"

CASE="the documented example"
REQ_USER='alice:alice-pw-1'
run_doc_example key-create
assert_status 200
assert_xpath /ServiceResponse/data/AgentActKey/type COUNT_LIMITED
assert_xpath /ServiceResponse/data/AgentActKey/countPurchased 2
ok "docs/api.md's key example, as written: a COUNT_LIMITED key"
