#!/usr/bin/env bash
# t_limits.sh - per-user rate and concurrency limits: the headers on every answer to
# a user, 409 with Retry-After over the limit, success after ToWait-Sec, the
# concurrency limit, and per-family counting.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/doc_examples.sh"

start_server
add_user alice scanner 'alice-pw-1'
add_user bob scanner 'bob-pw-1'
REQ_USER='alice:alice-pw-1'
add_asset 8001

CASE="headers on success"
launch 8001 Inventory_Scan
assert_status 200
assert_header X-RateLimit-Limit 600000
assert_header X-RateLimit-Window-Sec 3600
assert_header X-RateLimit-Remaining 599999
assert_header X-RateLimit-ToWait-Sec 0
assert_header X-Concurrency-Limit-Limit 1000
assert_header X-Concurrency-Limit-Running 1
ok "a launch carries the six limit headers with the server defaults"

CASE="headers on errors"
launch 8999 Inventory_Scan
assert_status 404
assert_header X-RateLimit-Limit 600000
assert_header X-RateLimit-Remaining '59999[0-9]'
req GET /api/v1/jobs/987654
assert_status 404
assert_header X-RateLimit-Limit 600000
assert_header X-Concurrency-Limit-Running 1
ok "a 404 launch and a 404 JSON-API call carry the headers too"

CASE="rate limit"
ctl user limits alice --calls 3 --window 2 >/dev/null || fail "$CASE: user limits"
sleep 1.5                                      # the auth epoch moves within a second
for i in 1 2 3; do
    launch 8001 Inventory_Scan
    assert_status 200
    assert_header X-RateLimit-Limit 3
    assert_header X-RateLimit-Window-Sec 2
done
assert_header X-RateLimit-Remaining 0
launch 8001 Inventory_Scan
assert_status 409
assert_xpath /ServiceResponse/responseCode RATE_LIMIT_EXCEEDED
assert_xpath_nonempty /ServiceResponse/responseErrorDetails/errorMessage
assert_valid_xsd
WAIT=$(header X-RateLimit-ToWait-Sec)
[[ $WAIT =~ ^[1-9][0-9]*$ ]] || fail "$CASE: X-RateLimit-ToWait-Sec '$WAIT'"
assert_header Retry-After "$WAIT"
assert_header X-RateLimit-Remaining 0
ok "the 4th launch in 2 s: 409 RATE_LIMIT_EXCEEDED, Retry-After = ToWait-Sec = $WAIT"

CASE="other families and users are not throttled"
req GET /api/v1/jobs/1
assert_status 200
assert_header X-RateLimit-Remaining 2
REQ_USER='bob:bob-pw-1'
launch 8001 Inventory_Scan
assert_status 200
REQ_USER='alice:alice-pw-1'
ok "alice's jobs calls and bob's launches count apart"

CASE="JSON 409"
launch 8001 Inventory_Scan '' -H 'Accept: application/json'
assert_status 409
assert_json 'd["ServiceResponse"]["responseCode"]' RATE_LIMIT_EXCEEDED
ok "409 in JSON"

CASE="wait then succeed"
sleep "$(header X-RateLimit-ToWait-Sec)"
launch 8001 Inventory_Scan
assert_status 200
ok "after waiting X-RateLimit-ToWait-Sec the launch succeeds"

CASE="concurrency"
ctl user limits alice --calls 1000 --window 60 --concurrency 1 >/dev/null || fail "$CASE"
sleep 1.5
python3 - "$BASE" "$CACERT" <<'PY' >"$T/conc" 2>&1 || fail "$CASE: $(cat "$T/conc")"
# 40 launches released at once by a barrier: with concurrency 1 the ones arriving
# while another is admitted (suspended for its group commit) get 409; no 200 ever
# reports more than 1 running.
import base64, http.client, ssl, sys, threading
base, ca = sys.argv[1], sys.argv[2]
host, port = base.split("//")[1].split(":")
ctx = ssl.create_default_context(cafile=ca)
ctx.check_hostname = False
auth = "Basic " + base64.b64encode(b"alice:alice-pw-1").decode()
N = 40
conns = [http.client.HTTPSConnection(host, int(port), context=ctx, timeout=30) for _ in range(N)]
for c in conns:
    c.connect()
gate = threading.Barrier(N)
out = [None] * N
def go(i):
    gate.wait()
    conns[i].request("POST", "/qps/rest/1.0/ods/ca/agentasset/8001?scan=Inventory_Scan",
                     body="<ServiceRequest/>", headers={"Authorization": auth})
    r = conns[i].getresponse(); r.read()
    out[i] = (r.status, r.getheader("X-Concurrency-Limit-Running"), r.getheader("Retry-After"))
ts = [threading.Thread(target=go, args=(i,)) for i in range(N)]
for t in ts: t.start()
for t in ts: t.join()
ok = [o for o in out if o[0] == 200]
busy = [o for o in out if o[0] == 409]
assert len(ok) + len(busy) == N, out
assert all(o[1] == "1" for o in ok), out
assert all(o[2] == "1" and o[1] == "1" for o in busy), out
assert ok and busy, out
print(len(ok), len(busy))
PY
read -r N_OK N_BUSY <"$T/conc"
launch 8001 Inventory_Scan
assert_status 200
assert_header X-Concurrency-Limit-Running 1
ok "concurrency 1: of 40 simultaneous launches $N_OK ran and $N_BUSY got 409 (Running 1, Retry-After 1); afterwards 200"

CASE="the documented example"
REQ_USER='alice:alice-pw-1'
run_doc_example limits-headers
grep -qi '^X-RateLimit-Limit:' "$HEADERS" || fail "$CASE: no X-RateLimit-Limit header: $(cat "$HEADERS")"
grep -qi '^X-Concurrency-Limit-Running:' "$HEADERS" || fail "$CASE: no X-Concurrency-Limit-Running header"
ok "docs/api.md's limits example, as written: status $STATUS with the limit headers"
