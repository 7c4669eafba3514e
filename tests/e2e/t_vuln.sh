#!/usr/bin/env bash
# t_vuln.sh - Vulnerability_Scan end to end with a real agent on this machine: a
# knowledge base built at test time from this machine's own source packages (so the
# expected findings are exact whatever is installed) imported with odscanctl and over
# the API, transactional and incremental imports, the vendor's launch, the findings,
# who is affected by a CVE, the fleet summary, hash-only uploads of an unchanged
# manifest, the server asking for a manifest it does not hold, and re-assessment after
# an import.
. "$(dirname "$0")/../api/lib.sh"

command -v dpkg-query >/dev/null || { note "skip: no dpkg on this machine"; exit 0; }
. /etc/os-release
case "$ID" in debian) ECO="Debian:$VERSION_ID" ;; ubuntu) ECO="Ubuntu:$VERSION_ID" ;;
    *) note "skip: $ID is not a dpkg distribution the fixtures know"; exit 0 ;; esac

start_server
add_user alice scanner 'alice-pw-1'
add_user mona manager 'mona-pw-1'
add_user rita reader 'rita-pw-1'
REQ_USER='rita:rita-pw-1'
KEY=$(ctl key create --modules VM,PC) || fail "odscanctl key create failed"

# --- fixtures from this machine's packages ---------------------------------------------
KB="$T/kb"
mkdir -p "$KB"
dpkg-query -W -f '${source:Package} ${source:Version}\n' | sort -u >"$T/sources"
python3 - "$T/sources" "$KB" "$ECO" "${VERSION_CODENAME:-}" "$T" <<'EOF' || fail "fixtures not built"
import json, os, sys
sources, kb, eco, codename, tmp = sys.argv[1:6]
pkgs = []
seen = set()
for line in open(sources):
    name, version = line.split()
    # one version per source (a source built twice at two versions would be ambiguous)
    if name in seen or not version[0].isdigit():
        continue
    seen.add(name)
    pkgs.append((name, version))
assert len(pkgs) >= 6, "need six source packages, have %d" % len(pkgs)
p = pkgs[:6]
other = "Debian:11" if eco != "Debian:11" else "Debian:10"
def rec(id, name, events, eco=eco, **extra):
    d = {"id": id, "modified": "2024-01-01T00:00:00Z", "aliases": [id.replace("FIX", "CVE")],
         "affected": [{"package": {"ecosystem": eco, "name": name},
                       "ranges": [{"type": "ECOSYSTEM", "events": events}]}]}
    d.update(extra)
    return d
records = {
    # affected, fixed above the installed version: a finding with a fix
    "FIX-2099-0001": rec("FIX-2099-0001", p[0][0], [{"introduced": "0"}, {"fixed": p[0][1] + "+fix1"}],
        severity=[{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]),
    # fixed below the installed version: no finding
    "FIX-2099-0002": rec("FIX-2099-0002", p[1][0], [{"introduced": "0"}, {"fixed": "0~"}]),
    # last_affected equal to the installed version: a finding without a fix
    "FIX-2099-0003": rec("FIX-2099-0003", p[2][0], [{"introduced": "0"}, {"last_affected": p[2][1]}]),
    # withdrawn: ignored
    "FIX-2099-0004": rec("FIX-2099-0004", p[3][0], [{"introduced": "0"}, {"fixed": p[3][1] + "+fix1"}],
        withdrawn="2024-01-02T00:00:00Z"),
    # another release: ignored
    "FIX-2099-0005": rec("FIX-2099-0005", p[4][0], [{"introduced": "0"}, {"fixed": p[4][1] + "+fix1"}],
        eco=other),
}
for k, d in records.items():
    json.dump(d, open(os.path.join(kb, k + ".json"), "w"))
# the Debian tracker's format, for the sixth package (Debian only: it names releases
# by codename)
tracker = {p[5][0]: {"CVE-2099-0006": {"description": "fixture", "releases": {
    codename or "bookworm": {"status": "resolved", "fixed_version": p[5][1] + "+fix1",
                             "urgency": "high", "repositories": {}}}}}}
json.dump(tracker, open(os.path.join(tmp, "tracker.json"), "w"))
json.dump({"p": p, "tracker": eco.startswith("Debian:") and bool(codename)},
          open(os.path.join(tmp, "fixture.json"), "w"))
EOF
fx() { python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$T/fixture.json" "$1"; }
TRACKER=$(fx 'd["tracker"]')
ok "fixtures for $ECO from this machine's source packages: $(fx '" ".join(n for n, v in d["p"])')"

# --- imports: strict, then rejecting the bad record by name ---------------------------
CASE="strict import"
printf '{"id": "BAD-1", "modified": "yesterday"}' >"$KB/bad.json"
ctl kb import "$KB" --strict >"$T/out" 2>"$T/err" && fail "$CASE: succeeded with a malformed file"
grep -q "bad.json" "$T/err" || fail "$CASE: stderr does not name bad.json: $(cat "$T/err")"
ctl kb status >"$T/out" || fail "$CASE: kb status failed"
[ "$(cat "$T/out")" = "advisories 0, epoch 0" ] || fail "$CASE: after a refused import: $(cat "$T/out")"
ok "kb import --strict with one malformed file fails, names it, and imports nothing"

CASE="lenient import"
ctl kb import "$KB" >"$T/out" 2>"$T/err" || fail "$CASE: failed: $(cat "$T/err")"
[ "$(cat "$T/out")" = "added 5, updated 0, skipped 0, rejected 1" ] || fail "$CASE: $(cat "$T/out")"
grep -q "rejected bad.json: modified" "$T/err" || fail "$CASE: reject not named: $(cat "$T/err")"
ok "kb import without --strict: 5 added, bad.json rejected by name with its reason"

CASE="re-import"
rm "$KB/bad.json"
ctl kb import "$KB" >"$T/out" 2>&1 || fail "$CASE: failed"
[ "$(cat "$T/out")" = "added 0, updated 0, skipped 5, rejected 0" ] || fail "$CASE: $(cat "$T/out")"
ok "importing the same records again skips them all (same modified time)"

CASE="API import"
req POST /api/v1/kb/import --data-binary @"$T/tracker.json"
assert_status 403
REQ_USER='mona:mona-pw-1'
req POST "/api/v1/kb/import?strict=true" --data-binary '{"id": 7}'
assert_status 422
assert_json 'd["imported"]' false
assert_json 'd["rejected"]' 1
req POST /api/v1/kb/import --data-binary @"$T/tracker.json"
assert_status 200
assert_json 'd["added"]' 1
assert_json 'd["rejected"]' 0
REQ_USER='rita:rita-pw-1'
ok "POST /api/v1/kb/import: managers only (403 for a reader), strict 422 for a malformed record, the tracker export added"

# --- the vendor's launch ------------------------------------------------------------
A="$T/agent-a"
start_agent "$A" "$KEY"
PID_A=$AGENT_PID
wait_enrolled "$A" "$PID_A"
ID_A=$ASSET_ID
sleep 1
CASE="vendor launch"
printf '%s\n%s\n' '<?xml version="1.0" encoding="UTF-8" ?>' '<ServiceRequest></ServiceRequest>' \
    >"$T/SingleAgent_ODS.xml"
AUTH=$(printf '%s' 'alice:alice-pw-1' | base64 -w0)
vendor_launch() {
    STATUS=$(cd "$T" && curl -s -o "$BODY" -D "$HEADERS" -w '%{http_code}' --cacert "$CACERT" \
        -X POST -H "Content-Type: text/xml" -H "Authorization: Basic $AUTH" \
        -H "Cache-Control: no-cache" --data @SingleAgent_ODS.xml \
        "$BASE/qps/rest/1.0/ods/ca/agentasset/$ID_A?scan=Vulnerability_Scan&OverrideConfigCpu=false")
    assert_launch_ok "Vulnerability Scan" "$ID_A"
    JOB=$(header X-Odscan-Job-Id)
    wait_job "$JOB" "COMPLETED|FAILED|EXPIRED" 60
    [ "$JOB_STATE" = COMPLETED ] || fail "$CASE: job $JOB is $JOB_STATE: $(json_of 'd["reason"]')"
}
vendor_launch
JOB1=$JOB
ok "the vendor's curl request launched Vulnerability_Scan on asset $ID_A: job $JOB1 COMPLETED"

CASE="manifest"
req GET "/api/v1/jobs/$JOB1/result"
assert_status 200
assert_json 'len(d["result"]["packages"])' "$(dpkg-query -W | wc -l)"
cp "$BODY" "$T/result1.json"
# the canonical hash of docs/agent.md, computed independently
python3 - "$T/result1.json" <<'EOF' || fail "$CASE: manifest_hash is not the documented canonical hash"
import hashlib, json, sys
r = json.load(open(sys.argv[1]))["result"]
os_ = r["os"]
lines = sorted("pkg\t%s\t%s\t%s\t%s\t%s\t%s\n" % (p["manager"], p["name"], p["version"], p["arch"] or "",
               p["source"] or p["name"], p["source_version"] or p["version"]) for p in r["packages"])
text = "odscan-manifest-v1\n" + "os\t%s\t%s\t%s\n" % (os_["id"] or "", os_["version"] or "", os_["kernel"] or "") + "".join(lines)
assert hashlib.sha256(text.encode()).hexdigest() == r["manifest_hash"]
EOF
ok "the manifest lists every installed package; its manifest_hash is SHA-256 of the documented canonical form"

# wait_findings N: poll the asset's findings until there are N (the assessment runs
# in the background after the result commits).
wait_findings() {
    local want=$1 i
    for i in $(seq 1 100); do
        req GET "/api/v1/assets/$ID_A/vulns?status=${2:-all}"
        [ "$STATUS" = 200 ] || fail "GET vulns: $STATUS $(body_excerpt)"
        [ "$(json_of 'd["count"]')" = "$want" ] && return 0
        sleep 0.1
    done
    fail "${CASE}: asset $ID_A has $(json_of 'd["count"]') findings after 10 s, want $want: $(body_excerpt)"
}

CASE="findings"
WANT=2
[ "$TRACKER" = True ] && WANT=3
wait_findings "$WANT"
cp "$BODY" "$T/vulns1.json"
python3 - "$T/vulns1.json" "$T/fixture.json" <<'EOF' || fail "$CASE: $(cat "$T/vulns1.json")"
import json, sys
d = json.load(open(sys.argv[1]))
fx = json.load(open(sys.argv[2]))
p = fx["p"]
got = {(f["advisory_id"], f["package"], f["installed_version"], f["fixed_version"], f["severity"],
        f["status"], tuple(f["aliases"])) for f in d["findings"]}
want = {("FIX-2099-0001", p[0][0], p[0][1], p[0][1] + "+fix1", "CRITICAL", "open", ("CVE-2099-0001",)),
        ("FIX-2099-0003", p[2][0], p[2][1], None, "UNKNOWN", "open", ("CVE-2099-0003",))}
if fx["tracker"]:
    want.add(("DEBIAN-CVE-2099-0006", p[5][0], p[5][1], p[5][1] + "+fix1", "HIGH", "open", ("CVE-2099-0006",)))
assert got == want, "got %r\nwant %r" % (got, want)
assert d["last_vuln_scan"], d
for f in d["findings"]:
    assert f["first_seen"] and f["last_seen"] and f["fixed"] is None, f
EOF
ok "asset $ID_A shows exactly the $WANT findings the fixtures imply (fixed-below, withdrawn and other-release records give none)"

CASE="hostasset views"
# Vendor-style clients read lastVulnScan and the vuln list from HostAsset, and filter on
# lastVulnScan.
req GET "/qps/rest/2.0/get/am/hostasset/$ID_A" -H 'Accept: application/json'
assert_status 200
cp "$BODY" "$T/host.json"
python3 - "$T/host.json" "$WANT" <<'EOF' || fail "$CASE: $(head -c 600 "$T/host.json")"
import json, sys
d = json.load(open(sys.argv[1]))
h = d["ServiceResponse"]["data"][0]["HostAsset"]
assert h["lastVulnScan"], h.get("lastVulnScan")
vulns = [v["HostAssetVuln"] for v in h["vuln"]["list"]]
ids = sorted(v["qid"] for v in vulns)
assert len(ids) == int(sys.argv[2]), ids
assert "FIX-2099-0001" in ids and "FIX-2099-0003" in ids, ids
assert all(v["firstFound"] and v["lastFound"] for v in vulns), vulns
EOF
req POST /qps/rest/2.0/search/am/hostasset -H 'Content-Type: text/xml' --data-binary \
    '<ServiceRequest><filters><Criteria field="lastVulnScan" operator="GREATER">2020-01-01</Criteria></filters></ServiceRequest>'
assert_status 200
[ "$(xpath 'count(/ServiceResponse/data/HostAsset)')" -ge 1 ] || fail "$CASE: lastVulnScan GREATER found nothing"
[ "$(xpath '/ServiceResponse/data/HostAsset[1]/id')" = "$ID_A" ] || fail "$CASE: lastVulnScan GREATER: $(body_excerpt)"
req POST /qps/rest/2.0/count/am/hostasset -H 'Content-Type: text/xml' --data-binary \
    '<ServiceRequest><filters><Criteria field="lastVulnScan" operator="LESSER">2020-01-01</Criteria></filters></ServiceRequest>'
assert_status 200
assert_xpath /ServiceResponse/count 0
ok "HostAsset $ID_A carries lastVulnScan and its $WANT open findings as vuln/list/HostAssetVuln; lastVulnScan filters find it"

CASE="filters"
req GET "/api/v1/assets/$ID_A/vulns?severity=critical"
assert_json 'd["count"]' 1
req GET "/api/v1/assets/$ID_A/vulns?package=$(fx 'd["p"][2][0]')"
assert_json '[f["advisory_id"] for f in d["findings"]]' '["FIX-2099-0003"]'
req GET "/api/v1/assets/$ID_A/vulns?status=fixed"
assert_json 'd["count"]' 0
req GET "/api/v1/assets/$ID_A/vulns?severity=BOGUS"
assert_status 400
ok "filters: severity, package, status; an unknown severity is a 400"

CASE="who"
req GET /api/v1/vulns/CVE-2099-0001/assets
assert_status 200
assert_json '[(f["asset_id"], f["advisory_id"]) for f in d["findings"]]' "[[$ID_A, \"FIX-2099-0001\"]]"
req GET /api/v1/vulns/FIX-2099-0004/assets
assert_json 'd["count"]' 0
ctl vuln who CVE-2099-0001 --json >"$T/who.json" || fail "$CASE: odscanctl vuln who failed"
python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert [f["asset_id"] for f in d] == [int(sys.argv[2])], d' \
    "$T/who.json" "$ID_A" || fail "$CASE: odscanctl vuln who: $(cat "$T/who.json")"
ctl vuln list --asset "$ID_A" --json >"$T/list.json" || fail "$CASE: odscanctl vuln list failed"
python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert len(d) == int(sys.argv[2]), d' \
    "$T/list.json" "$WANT" || fail "$CASE: odscanctl vuln list: $(cat "$T/list.json")"
ok "GET /api/v1/vulns/CVE-2099-0001/assets and odscanctl vuln who/list agree: asset $ID_A"

CASE="summary"
req GET /api/v1/vulns/summary
assert_status 200
assert_json 'd["severities"]["CRITICAL"]["open"]' 1
assert_json 'd["severities"]["UNKNOWN"]["open"]' 1
assert_json 'd["assets_affected"]' 1
assert_json 'd["assets_scanned"]' 1
ok "GET /api/v1/vulns/summary counts open findings by severity"

# --- an unchanged manifest goes as its hash -----------------------------------------
CASE="hash only"
vendor_launch
JOB2=$JOB
req GET "/api/v1/jobs/$JOB2/result"
assert_json 'd["result"]' "{\"manifest_hash\": \"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["result"]["manifest_hash"])' "$T/result1.json")\", \"unchanged\": true}"
grep -q "job $JOB2: manifest unchanged; sent its hash only" "$A.log" || fail "$CASE: agent log"
ok "a second, unchanged scan (job $JOB2) uploads only the manifest hash"

# --- the server does not hold the hash: the agent sends it in full -----------------
CASE="manifest unknown"
stop_agent "$PID_A"
launch "$ID_A" Vulnerability_Scan false -u 'alice:alice-pw-1'
JOB3=$(header X-Odscan-Job-Id)
agent_req "$A" POST "/agent/v1/jobs/$JOB3/result" \
    --data '{"status":"COMPLETED","result":{"manifest_hash":"'"$(printf '%064d' 0)"'","unchanged":true}}'
assert_status 409
assert_json 'd["error"]' "manifest unknown: send it in full"
# a full manifest that differs (one package less) replaces the stored one
python3 - "$T/result1.json" >"$T/smaller.json" <<'EOF'
import hashlib, json, sys
r = json.load(open(sys.argv[1]))["result"]
r["packages"] = r["packages"][1:]
os_ = r["os"]
lines = sorted("pkg\t%s\t%s\t%s\t%s\t%s\t%s\n" % (p["manager"], p["name"], p["version"], p["arch"] or "",
               p["source"] or p["name"], p["source_version"] or p["version"]) for p in r["packages"])
text = "odscan-manifest-v1\n" + "os\t%s\t%s\t%s\n" % (os_["id"] or "", os_["version"] or "", os_["kernel"] or "") + "".join(lines)
r["manifest_hash"] = hashlib.sha256(text.encode()).hexdigest()
print(json.dumps({"status": "COMPLETED", "result": r}))
EOF
agent_req "$A" POST "/agent/v1/jobs/$JOB3/result" --data-binary @"$T/smaller.json"
assert_status 200
agent_req "$A" POST "/agent/v1/jobs/$JOB3/result" \
    --data '{"status":"COMPLETED","result":{"manifest_hash":"'"$(printf '%064d' 0)"'","unchanged":true}}'
assert_status 200
assert_json 'd["duplicate"]' true
python3 - "$T/smaller.json" >"$T/badhash.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["result"]["manifest_hash"] = "0" * 64
print(json.dumps(d))
EOF
launch "$ID_A" Vulnerability_Scan false -u 'alice:alice-pw-1'
JOB4=$(header X-Odscan-Job-Id)
agent_req "$A" POST "/agent/v1/jobs/$JOB4/result" --data-binary @"$T/badhash.json"
assert_status 400
ok "a hash-only result whose hash the server does not hold: 409 'manifest unknown: send it in full'; a wrong hash: 400; uploads stay idempotent by job id"

start_agent "$A" ""
PID_A=$AGENT_PID
wait_job "$JOB4" "COMPLETED|FAILED|EXPIRED" 60
[ "$JOB_STATE" = COMPLETED ] || fail "$CASE: job $JOB4 is $JOB_STATE"
req GET "/api/v1/jobs/$JOB4/result"
assert_json 'len(d["result"]["packages"])' "$(dpkg-query -W | wc -l)"
grep -q "job $JOB4: the server does not hold manifest" "$A.log" || fail "$CASE: agent log"
ok "the agent, whose hash the server no longer holds, gets the 409 and sends the whole manifest (job $JOB4)"

# --- an incremental import re-assesses the fleet in the background ---------------
CASE="re-assessment"
python3 - "$KB" "$T/fixture.json" <<'EOF'
import json, os, sys
kb, fx = sys.argv[1], json.load(open(sys.argv[2]))
p = fx["p"]
d = json.load(open(os.path.join(kb, "FIX-2099-0001.json")))
d["modified"] = "2024-02-01T00:00:00Z"
d["affected"][0]["ranges"][0]["events"] = [{"introduced": "0"}, {"fixed": "0~"}]
json.dump(d, open(os.path.join(kb, "FIX-2099-0001.json"), "w"))
d = json.load(open(os.path.join(kb, "FIX-2099-0003.json")))
d["modified"] = "2024-02-01T00:00:00Z"
d["affected"][0]["ranges"][0]["events"] = [{"introduced": "0"}, {"fixed": p[2][1] + "+fix2"}]
json.dump(d, open(os.path.join(kb, "FIX-2099-0003.json"), "w"))
EOF
ctl kb import "$KB" >"$T/out" 2>&1 || fail "$CASE: import failed"
[ "$(cat "$T/out")" = "added 0, updated 2, skipped 3, rejected 0" ] || fail "$CASE: $(cat "$T/out")"
wait_findings 1 fixed
assert_json '[f["advisory_id"] for f in d["findings"]]' '["FIX-2099-0001"]'
assert_json 'd["findings"][0]["fixed"] is not None' true
req GET "/api/v1/assets/$ID_A/vulns?package=$(fx 'd["p"][2][0]')"
assert_json 'd["findings"][0]["fixed_version"]' "$(fx 'd["p"][2][1]')+fix2"
grep -q "re-assessed 1 assets" "$SRV_DIR/server.log" || fail "$CASE: no re-assessment in the server log"
ok "a newer record is an update (2 updated, 3 skipped); the server re-assesses in the background: FIX-2099-0001 is now fixed, FIX-2099-0003 has a fix"
