#!/usr/bin/env bash
# t_launch.sh - successful launches: the vendor's sample request byte for byte, every
# scan type, the spellings and encodings clients in the field send, JSON answers,
# the job it creates, de-duplication and the audit entry.
. "$(dirname "$0")/lib.sh"

start_server
add_user alice scanner 'alice-pw-1'
REQ_USER='alice:alice-pw-1'
add_asset 19105105
add_asset 2002
add_asset 3001 VM,PC,SWCA
add_asset 3002 VM,SCA

# --- the vendor's sample, exactly as documented -----------------------------------
CASE="vendor sample request"
printf '%s\n%s\n' '<?xml version="1.0" encoding="UTF-8" ?>' '<ServiceRequest></ServiceRequest>' \
    >"$T/SingleAgent_ODS.xml"
AUTH=$(printf '%s' 'alice:alice-pw-1' | base64 -w0)
STATUS=$(cd "$T" && curl -s -o "$BODY" -D "$HEADERS" -w '%{http_code}' --cacert "$CACERT" \
    -X POST -H "Content-Type: text/xml" -H "Authorization: Basic $AUTH" \
    -H "Cache-Control: no-cache" --data @SingleAgent_ODS.xml \
    "$BASE/qps/rest/1.0/ods/ca/agentasset/19105105?scan=Inventory_Scan&OverrideConfigCpu=false")
assert_status 200
cat >"$T/expected.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<ServiceResponse xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="$BASE/qps/xsd/1.0/ca/agentasset.xsd">
    <responseCode>SUCCESS</responseCode>
    <count>1</count>
    <data>
        <SingleModuleResponse>
            <module>Inventory Scan</module>
            <count>1</count>
            <assetIds>[19105105]</assetIds>
            <responseCode>SUCCESS</responseCode>
        </SingleModuleResponse>
    </data>
</ServiceResponse>
EOF
diff -u "$T/expected.xml" "$BODY" >"$T/diff" || fail "$CASE: body differs from the documented response: $(cat "$T/diff")"
assert_valid_xsd
assert_header X-Odscan-Job-Existing false
JOB1=$(header X-Odscan-Job-Id)
[[ $JOB1 =~ ^[0-9]+$ ]] || fail "$CASE: X-Odscan-Job-Id is '$JOB1'"
ok "vendor sample request: 200 and the documented body byte for byte"

CASE="job created"
jobs_norm --asset 19105105 >"$T/jobs"
python3 - "$T/jobs" "$JOB1" <<'EOF' || fail "$CASE: job list: $(cat "$T/jobs")"
import json, sys
jobs = [json.loads(l) for l in open(sys.argv[1])]
want = int(sys.argv[2])
assert len(jobs) == 1, "expected exactly one job, got %d" % len(jobs)
j = jobs[0]
assert j["id"] == want, "job id %s != X-Odscan-Job-Id %s" % (j["id"], want)
assert (j["asset"], j["scan"], j["override"], j["state"]) == (19105105, "Inventory_Scan", False, "QUEUED"), j
EOF
ok "the launch created one QUEUED Inventory_Scan job (override false) for asset 19105105"

CASE="identical launch"
launch 19105105 Inventory_Scan false
assert_launch_ok "Inventory Scan" 19105105
assert_header X-Odscan-Job-Existing true
assert_header X-Odscan-Job-Id "$JOB1"
[ "$(jobs_norm --asset 19105105 | wc -l)" = 1 ] || fail "$CASE: a second job was created"
ok "identical launch again: SUCCESS, same job $JOB1, no second job"

CASE="identical launch, override absent"
launch 19105105 Inventory_Scan
assert_launch_ok "Inventory Scan" 19105105
assert_header X-Odscan-Job-Existing true
assert_header X-Odscan-Job-Id "$JOB1"
ok "overrideConfigCpu absent means false: same job $JOB1"

CASE="different override flag"
launch 19105105 Inventory_Scan true
assert_launch_ok "Inventory Scan" 19105105
assert_header X-Odscan-Job-Existing false
JOB2=$(header X-Odscan-Job-Id)
[ "$JOB2" != "$JOB1" ] || fail "$CASE: same job id $JOB1 for override=true"
jobs_norm --asset 19105105 >"$T/jobs"
python3 - "$T/jobs" "$JOB1" "$JOB2" <<'EOF' || fail "$CASE: job list: $(cat "$T/jobs")"
import json, sys
jobs = {j["id"]: j for j in map(json.loads, open(sys.argv[1]))}
assert len(jobs) == 2, "expected two jobs, got %d" % len(jobs)
assert jobs[int(sys.argv[2])]["override"] is False
assert jobs[int(sys.argv[3])]["override"] is True and jobs[int(sys.argv[3])]["state"] == "QUEUED"
EOF
ok "override flag true: a new job $JOB2 beside $JOB1"

# --- overrideConfigCpu spellings: the job's flag shows how each was read ----------
# value  expected-flag  expected-existing
for row in "True true false" "1 true true" "FALSE false false" "0 false true" "tRuE true true"; do
    set -- $row
    CASE="overrideConfigCpu=$1"
    launch 2002 Inventory_Scan "$1"
    assert_launch_ok "Inventory Scan" 2002
    assert_header X-Odscan-Job-Existing "$3"
    id=$(header X-Odscan-Job-Id)
    got=$(jobs_norm --asset 2002 | python3 -c 'import json, sys
for j in map(json.loads, sys.stdin):
    if j["id"] == int(sys.argv[1]): print(str(j["override"]).lower())' "$id")
    [ "$got" = "$2" ] || fail "$CASE: job $id has override '$got', expected $2"
    ok "overrideConfigCpu=$1 is read as $2"
done

# --- every scan type with its module -----------------------------------------------
for row in "Inventory_Scan 3001 Inventory Scan" \
           "Vulnerability_Scan 3001 Vulnerability Scan" \
           "PolicyCompliance_Scan 3001 Policy Compliance Scan" \
           "UDC_Scan 3001 UDC Scan" \
           "SWCA_scan 3001 SwCA Scan" \
           "SCA_Scan 3002 SCA Scan"; do
    read -r scan asset module <<<"$row"
    CASE="scan=$scan"
    launch "$asset" "$scan" false
    assert_launch_ok "$module" "$asset"
    assert_header X-Odscan-Job-Existing false
    ok "scan=$scan on asset $asset: 200, module '$module', schema-valid"
done
jobs_norm --asset 3001 >"$T/jobs"
python3 - "$T/jobs" <<'EOF' || fail "scan types stored: $(cat "$T/jobs")"
import json, sys
got = sorted(j["scan"] for j in map(json.loads, open(sys.argv[1])))
want = sorted(["Inventory_Scan", "Vulnerability_Scan", "PolicyCompliance_Scan", "UDC_Scan", "SWCA_scan"])
assert got == want, got
EOF
ok "each scan type was stored as its own type"

for scan in SWCA_Scan swca_scan; do
    CASE="scan=$scan"
    launch 3001 "$scan" false
    assert_launch_ok "SwCA Scan" 3001
    assert_header X-Odscan-Job-Existing true
    ok "scan=$scan is the SwCA scan (same job as SWCA_scan)"
done

# --- what clients put around the request -------------------------------------------
U="/qps/rest/1.0/ods/ca/agentasset/19105105?scan=Inventory_Scan&overrideConfigCpu=false"
XMLBODY='<?xml version="1.0" encoding="UTF-8" ?> <ServiceRequest></ServiceRequest>'

CASE="no Content-Type"
req POST "$U" -H 'Content-Type:' --data-binary "$XMLBODY"
assert_launch_ok "Inventory Scan" 19105105
ok "XML body without Content-Type (the Python SDK's request)"

CASE="application/xml"
req POST "$U" -H 'Content-Type: application/xml' --data-binary "$XMLBODY"
assert_launch_ok "Inventory Scan" 19105105
ok "Content-Type application/xml"

CASE="JSON body"
req POST "$U" -H 'Content-Type: application/json' --data-binary '{"ServiceRequest":{}}'
assert_launch_ok "Inventory Scan" 19105105
ok "JSON body {\"ServiceRequest\":{}} with Content-Type application/json"

CASE="empty body"
req POST "$U" -H 'Content-Type: text/xml' --data-binary ''
assert_launch_ok "Inventory Scan" 19105105
ok "empty body"

CASE="no body at all"
req POST "$U"
assert_launch_ok "Inventory Scan" 19105105
ok "POST without a body or Content-Length"

CASE="<ServiceRequest/> with leading whitespace"
req POST "$U" -H 'Content-Type: text/xml' --data-binary $'  \n\t<ServiceRequest/>'
assert_launch_ok "Inventory Scan" 19105105
ok "<ServiceRequest/> after leading whitespace"

CASE="PowerShell style"
req POST "$U" -H 'Content-Type: text/xml' --data-binary '<ServiceRequest></ServiceRequest>'
assert_launch_ok "Inventory Scan" 19105105
ok "text/xml <ServiceRequest></ServiceRequest> without declaration"

CASE="extra query parameters"
req POST "$U&_=12345" -H 'Content-Type: text/xml' --data-binary "$XMLBODY"
assert_launch_ok "Inventory Scan" 19105105
ok "unknown query parameters (cache busters) are ignored"

CASE="JSON response"
req POST "$U" -H 'Accept: application/json' -H 'Content-Type: application/json' \
    -H 'Cache-Control: no-cache' --data-binary '{"ServiceRequest":{}}'
assert_status 200
want='{"ServiceResponse":{"responseCode":"SUCCESS","count":1,"data":[{"SingleModuleResponse":{"module":"Inventory Scan","count":1,"assetIds":"[19105105]","responseCode":"SUCCESS"}}]}}'
[ "$(cat "$BODY")" = "$want" ] || fail "$CASE: body is '$(cat "$BODY")', expected '$want'"
assert_header Content-Type 'application/json.*'
assert_json 'json.loads(d["ServiceResponse"]["data"][0]["SingleModuleResponse"]["assetIds"])' '[19105105]'
ok "Accept: application/json gives the exact JSON document"

CASE="XML content type"
launch 19105105 Inventory_Scan false
assert_header Content-Type '(application|text)/xml.*'
ok "XML responses are labelled as XML"

# --- the audit trail -----------------------------------------------------------------
CASE="audit"
audit_norm >"$T/audit"
python3 - "$T/audit" <<'EOF' || fail "$CASE: no matching launch entry in: $(head -c 1500 "$T/audit")"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
hits = [r for r in rows if r["action"] == "launch" and r["user"] == "alice"
        and r["remote"] == "127.0.0.1" and r["result"] == "SUCCESS" and "19105105" in r["target"]]
assert hits, "no launch entry by alice from 127.0.0.1 with result SUCCESS for 19105105"
EOF
ok "audit list has the launch by alice from 127.0.0.1 with result SUCCESS"

exit 0
