#!/usr/bin/env bash
# t_hostasset.sh - agent search, get and count: the documented examples, the HostAsset
# shape in XML and JSON (with the latest inventory's lists), paging through more than
# 1,000 agents by lastId and by startFromOffset, and malformed requests.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/doc_examples.sh"

start_server
add_user alice manager 'alice-pw-1'
add_user rita reader 'rita-pw-1'
REQ_USER='alice:alice-pw-1'
add_asset 111 VM,PC
add_asset 222
add_asset 333 VM
DB=$(server_db)
db_query "$DB" "INSERT INTO tags(id, name, created_ms) VALUES (7, 'Cloud Agent', 0)"
db_query "$DB" "INSERT INTO asset_tags(asset_id, tag_id) VALUES (111, 7), (222, 7)"
db_query "$DB" "UPDATE assets SET fqdn = 'web1.example.com', last_address = '192.0.2.2', agent_version = '0.1.0', last_checkin_ms = 1714564800000 WHERE id = 111"
db_query "$DB" "INSERT INTO inventory(asset_id, job_id, collected_ms, document) VALUES (111, 1, 1714564800000,
 '{\"packages\":[{\"manager\":\"dpkg\",\"name\":\"libssl3\",\"version\":\"3.0.11-1~deb12u2\"}],
   \"interfaces\":[{\"name\":\"eth0\",\"mac\":\"02:fc:00:00:00:01\",\"ipv4\":[\"192.0.2.2\"],\"ipv6\":[\"fd00::2\"]}],
   \"listening\":[{\"proto\":\"tcp\",\"address\":\"0.0.0.0\",\"port\":22,\"pid\":612,\"process\":\"sshd\"}]}')"

H=/qps/rest/2.0

CASE="documented XML search"
run_doc_example search-xml
assert_status 200
assert_xpath /ServiceResponse/responseCode SUCCESS
assert_xpath /ServiceResponse/count 2
assert_xpath /ServiceResponse/hasMoreRecords false
assert_xpath "count(/ServiceResponse/data/HostAsset)" 2
assert_xpath "/ServiceResponse/data/HostAsset[1]/id" 111
assert_xpath "/ServiceResponse/data/HostAsset[1]/dnsHostName" web1.example.com
assert_xpath "/ServiceResponse/data/HostAsset[1]/agentInfo/lastCheckedIn" 2024-05-01T12:00:00Z
assert_xpath "/ServiceResponse/data/HostAsset[1]/agentInfo/activatedModule" AGENT_VM,AGENT_PC
assert_xpath "/ServiceResponse/data/HostAsset[1]/agentInfo/agentConfiguration/name" linux-default
assert_xpath "/ServiceResponse/data/HostAsset[1]/tags/list/TagSimple/name" "Cloud Agent"
assert_xpath "/ServiceResponse/data/HostAsset[1]/tags/list/TagSimple/id" 7
assert_xpath "/ServiceResponse/data/HostAsset[1]/software/list/HostAssetSoftware/name" libssl3
assert_xpath "/ServiceResponse/data/HostAsset[1]/software/list/HostAssetSoftware/version" "3.0.11-1~deb12u2"
assert_xpath "count(/ServiceResponse/data/HostAsset[1]/networkInterface/list/HostAssetInterface)" 2
assert_xpath "/ServiceResponse/data/HostAsset[1]/networkInterface/list/HostAssetInterface[1]/macAddress" 02:fc:00:00:00:01
assert_xpath "/ServiceResponse/data/HostAsset[1]/openPort/list/HostAssetOpenPort/port" 22
assert_xpath "/ServiceResponse/data/HostAsset[1]/openPort/list/HostAssetOpenPort/protocol" TCP
assert_xpath "/ServiceResponse/data/HostAsset[1]/openPort/list/HostAssetOpenPort/serviceName" sshd
assert_xpath "/ServiceResponse/data/HostAsset[2]/id" 222
ok "search by tagName (XML): the two tagged agents with agentInfo, tags and inventory lists"

CASE="documented JSON get"
run_doc_example get-json
assert_status 200
assert_json 'd["ServiceResponse"]["count"]' 1
assert_json 'd["ServiceResponse"]["data"][0]["HostAsset"]["id"]' 111
assert_json 'd["ServiceResponse"]["data"][0]["HostAsset"]["tags"]["list"][0]["TagSimple"]["name"]' "Cloud Agent"
assert_json 'd["ServiceResponse"]["data"][0]["HostAsset"]["software"]["list"][0]["HostAssetSoftware"]' '{"name": "libssl3", "version": "3.0.11-1~deb12u2"}'
assert_json 'd["ServiceResponse"]["data"][0]["HostAsset"]["openPort"]["list"][0]["HostAssetOpenPort"]["port"]' 22
assert_json 'd["ServiceResponse"]["data"][0]["HostAsset"]["agentInfo"]["status"]' STATUS_ACTIVE
ok "get one agent (JSON): data is [{HostAsset}], lists are {list:[{Type:{...}}]}"

CASE="documented JSON count"
run_doc_example count-json
assert_status 200
assert_xpath /ServiceResponse/count 3
ok "count by os CONTAINS linux: 3"

CASE="get missing"
req GET "$H/get/am/hostasset/999"
assert_qps_error 404 NOT_FOUND
req GET "$H/get/am/hostasset/abc"
assert_qps_error 400 INVALID_REQUEST
ok "get: 404 for a missing asset, 400 for a bad id"

CASE="reader may search"
REQ_USER='rita:rita-pw-1'
req POST "$H/search/am/hostasset" -H 'Accept: application/json' --data '{"ServiceRequest":{}}'
assert_status 200
assert_json 'd["ServiceResponse"]["count"]' 3
REQ_USER='alice:alice-pw-1'
ok "reader: search with an empty ServiceRequest lists every agent"

CASE="bad preferences"
req POST "$H/search/am/hostasset" --data '<ServiceRequest><preferences><limitResults>1001</limitResults></preferences></ServiceRequest>'
assert_qps_error 400 INVALID_REQUEST
req POST "$H/search/am/hostasset" --data '<ServiceRequest><filters><Criteria field="lastCheckedIn" operator="IN">2024-01-01</Criteria></filters></ServiceRequest>'
assert_qps_error 400 INVALID_REQUEST
ok "limitResults 1001 and IN on a date: 400"

# --- paging through more than 1,000 agents ------------------------------------------
db_query "$DB" "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 1100)
  INSERT INTO assets(id, hostname, os_family, modules, created_ms, updated_ms)
  SELECT 200000 + i, 'agent-' || i, 'linux', 0, 0, 0 FROM s"
CASE="paging by lastId"
last=0
pages=0
: >"$T/seen"
while :; do
    req POST "$H/search/am/hostasset" -H 'Content-Type: text/xml' --data "<ServiceRequest><filters><Criteria field=\"id\" operator=\"GREATER\">$last</Criteria></filters><preferences><limitResults>1000</limitResults></preferences></ServiceRequest>"
    assert_status 200
    xmllint --xpath '/ServiceResponse/data/HostAsset/id/text()' "$BODY" 2>/dev/null | tr ' ' '\n' >>"$T/seen" || true
    echo >>"$T/seen"
    pages=$((pages + 1))
    [ "$pages" -le 5 ] || fail "$CASE: more than 5 pages"
    [ "$(xpath /ServiceResponse/hasMoreRecords)" = true ] || break
    last=$(xpath /ServiceResponse/lastId)
    [[ $last =~ ^[0-9]+$ ]] || fail "$CASE: lastId '$last'"
done
sed -i '/^$/d' "$T/seen"
[ "$pages" = 2 ] || fail "$CASE: $pages pages, expected 2"
[ "$(wc -l <"$T/seen")" = 1103 ] || fail "$CASE: $(wc -l <"$T/seen") ids, expected 1103"
[ "$(sort -u "$T/seen" | wc -l)" = 1103 ] || fail "$CASE: an id came twice"
ok "1,103 agents in 2 pages of limitResults 1000 following lastId: each id exactly once"

CASE="paging by startFromOffset"
req POST "$H/search/am/hostasset" -H 'Accept: application/json' --data '{"ServiceRequest":{"preferences":{"limitResults":"1000","startFromOffset":"1001"}}}'
assert_status 200
assert_json 'd["ServiceResponse"]["count"]' 103
assert_json 'd["ServiceResponse"]["hasMoreRecords"]' false
assert_json 'd["ServiceResponse"]["data"][0]["HostAsset"]["id"]' 200998
ok "startFromOffset 1001 (1-based): the last 103 agents"
