#!/usr/bin/env bash
# t_scope.sh - a scanner or reader limited to assets carrying some tags sees nothing
# else: every endpoint answers an out-of-scope asset exactly like a missing one (404)
# and leaves it out of lists and bulk operations; managers see everything; a scope
# change reaches a running server within about a second.
#
# The enforcement lives in src/server/scope.c; before it exists the enforcement cases
# report `ok - skipped`. Endpoints that answer 404 "No API endpoint" are skipped too.
. "$(dirname "$0")/lib.sh"

start_server
add_user mgr manager 'mgr-pw-1'
add_user sam scanner 'sam-pw-1'
add_user rita reader 'rita-pw-1'
add_asset 9001 VM
add_asset 9002 VM
ctl tag create prod >/dev/null
ctl tag create dev >/dev/null
ctl tag assign prod --asset 9001 >/dev/null
ctl tag assign dev --asset 9002 >/dev/null
ENFORCED=0
[ -f "$ODS_SRC/src/server/scope.c" ] && ENFORCED=1

# jobs on both assets, launched by the manager
REQ_USER='mgr:mgr-pw-1'
launch 9001 Inventory_Scan
assert_status 200
JOB_IN=$(header X-Odscan-Job-Id)
launch 9002 Inventory_Scan
assert_status 200
JOB_OUT=$(header X-Odscan-Job-Id)

CASE="scope set"
ctl user scope sam --tags prod >/dev/null || fail "$CASE: user scope sam"
ctl user scope rita --tags prod >/dev/null || fail "$CASE: user scope rita"
ctl user scope sam | grep -q 'scope: prod$' || fail "$CASE: $(ctl user scope sam)"
sleep 1.5
ok "sam and rita are limited to tag prod"

CASE="in scope"
REQ_USER='sam:sam-pw-1'
launch 9001 Inventory_Scan
assert_status 200
req GET "/api/v1/jobs/$JOB_IN"
assert_status 200
ok "sam launches on and reads the jobs of asset 9001 (tag prod)"

# endpoint_present METHOD PATH: false (and a skip line) when the server has no such
# endpoint yet.
endpoint_present() {
    req "$1" "$2" --data-binary '<ServiceRequest/>'
    if [ "$STATUS" = 404 ] && grep -q 'No API endpoint' "$BODY"; then
        ok "skipped: $1 $2 not present"
        return 1
    fi
    return 0
}

# out_of_scope_404 WHAT METHOD PATH [curl args]: the call answers 404 for sam and rita.
out_of_scope_404() {
    local what=$1 user
    shift
    for user in 'sam:sam-pw-1' 'rita:rita-pw-1'; do
        REQ_USER=$user
        req "$@"
        [ "$STATUS" = 404 ] || fail "$what as ${user%%:*}: status $STATUS, expected 404; body: $(body_excerpt)"
    done
}

if [ "$ENFORCED" = 0 ]; then
    ok "skipped: scope enforcement (src/server/scope.c) not present"
    exit 0
fi

CASE="single launch"
REQ_USER='sam:sam-pw-1'
launch 9002 Inventory_Scan
assert_qps_error 404 NOT_FOUND
cp "$BODY" "$T/out.xml"
launch 9999 Inventory_Scan
sed -e 's/9002/ID/g' "$T/out.xml" >"$T/a"
sed -e 's/9999/ID/g' "$BODY" >"$T/b"
diff -q "$T/a" "$T/b" >/dev/null || fail "$CASE: out-of-scope and missing assets answer differently: $(diff "$T/a" "$T/b")"
ok "launch on out-of-scope asset 9002: 404 exactly like a missing asset"

CASE="JSON API"
out_of_scope_404 "GET /api/v1/jobs/$JOB_OUT" GET "/api/v1/jobs/$JOB_OUT"
out_of_scope_404 "GET /api/v1/jobs/$JOB_OUT/result" GET "/api/v1/jobs/$JOB_OUT/result"
out_of_scope_404 "GET /api/v1/assets/9002/jobs" GET /api/v1/assets/9002/jobs
out_of_scope_404 "GET /api/v1/assets/9002/inventory" GET /api/v1/assets/9002/inventory
out_of_scope_404 "GET /api/v1/assets/9002/vulns" GET /api/v1/assets/9002/vulns
ok "jobs, results, asset jobs, inventory and findings of asset 9002: 404 for sam and rita"

CASE="bulk launch"
REQ_USER='sam:sam-pw-1'
if endpoint_present POST "/qps/rest/1.0/ods/ca/agentasset?scan=Inventory_Scan"; then
    req POST "/qps/rest/1.0/ods/ca/agentasset?scan=Inventory_Scan&overrideConfigCpu=true" \
        --data-binary '<ServiceRequest><filters><Criteria field="id" operator="IN">9001,9002</Criteria></filters></ServiceRequest>'
    assert_status 200
    assert_xpath /ServiceResponse/data/SingleModuleResponse/assetIds '[9001]'
    ok "bulk launch on 9001,9002: only 9001 launched"
fi

CASE="search, count, get"
for ep in "search/am/hostasset" "count/am/hostasset"; do
    if endpoint_present POST "/qps/rest/2.0/$ep"; then
        for user in 'sam:sam-pw-1' 'rita:rita-pw-1'; do
            REQ_USER=$user
            req POST "/qps/rest/2.0/$ep" --data-binary '<ServiceRequest/>'
            assert_status 200
            assert_xpath /ServiceResponse/count 1
            assert_body_lacks 9002
        done
        ok "$ep as sam and rita: count 1, asset 9002 absent"
    fi
done
REQ_USER='sam:sam-pw-1'
if endpoint_present GET /qps/rest/2.0/get/am/hostasset/9002; then
    out_of_scope_404 "get hostasset 9002" GET /qps/rest/2.0/get/am/hostasset/9002
    ok "get/am/hostasset/9002: 404"
fi

CASE="activate"
REQ_USER='sam:sam-pw-1'
if endpoint_present POST "/qps/rest/2.0/activate/am/asset/9002?module=AGENT_PC"; then
    req POST "/qps/rest/2.0/activate/am/asset/9002?module=AGENT_PC" --data-binary '<ServiceRequest/>'
    [ "$STATUS" = 404 ] || [ "$STATUS" = 403 ] || fail "$CASE: status $STATUS"
    ok "activate on 9002 by a scoped scanner: $STATUS, nothing changed"
fi

CASE="manager sees everything"
REQ_USER='mgr:mgr-pw-1'
req GET "/api/v1/jobs/$JOB_OUT"
assert_status 200
ok "the manager reads job $JOB_OUT of asset 9002"

CASE="scope change within a second"
ctl user scope sam --tags '' >/dev/null || fail "$CASE"
sleep 1.5
REQ_USER='sam:sam-pw-1'
req GET "/api/v1/jobs/$JOB_OUT"
assert_status 200
ctl user scope sam --tags dev >/dev/null || fail "$CASE"
sleep 1.5
req GET "/api/v1/jobs/$JOB_IN"
assert_status 404
ok "clearing and changing sam's scope takes effect on the running server"
