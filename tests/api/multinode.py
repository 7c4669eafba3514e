#!/usr/bin/env python3
"""multinode.py - many concurrent clients for the multi-node tests (t_multinode.sh,
t_pg_restart.sh): enroll agents, launch scans spread over several nodes, and drain the
queued jobs with check-ins from every node at once.

  multinode.py enroll CACERT BASE KEY N             -> one JSON agent per line
  multinode.py launch CACERT USER:PW BASES PLAN PAR [SECONDS]
        PLAN: lines "asset scan override"; launches them PAR at a time, node after node
        (BASES is a comma list); with SECONDS, stops starting new ones after that long.
        Prints one JSON line per launch: asset, scan, override, base, status,
        job (X-Odscan-Job-Id), existing, code (the QPS responseCode).
  multinode.py drain CACERT AGENTS BASES            -> one JSON line per job handed out
        Every agent checks in on every node at once, again and again, until each of its
        check-ins comes back empty.
"""
import base64
import concurrent.futures
import http.client
import json
import re
import ssl
import sys
import threading
import time
import urllib.parse

TIMEOUT_S = 90


def connect(base, ctx):
    u = urllib.parse.urlsplit(base)
    if u.scheme == "https":
        return http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=TIMEOUT_S)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=TIMEOUT_S)


def request(base, ctx, method, path, body=None, headers=None):
    c = connect(base, ctx)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()
    finally:
        c.close()


def tls(cacert):
    ctx = ssl.create_default_context(cafile=cacert)
    return ctx


def enroll(cacert, base, key, n):
    ctx = tls(cacert)

    def one(i):
        body = json.dumps({"activation_key": key, "hostname": "node-agent-%d" % i,
                           "fqdn": "node-agent-%d.example" % i, "os_family": "linux",
                           "os_name": "Debian GNU/Linux", "os_version": "12", "arch": "x86_64",
                           "machine_id": "m%d" % i, "agent_version": "0.1.0"})
        st, _, out = request(base, ctx, "POST", "/agent/v1/enroll", body,
                             {"Content-Type": "application/json"})
        if st != 200:
            raise SystemExit("enroll %d: HTTP %d %r" % (i, st, out[:200]))
        d = json.loads(out)
        return {"asset_id": d["asset_id"], "uuid": d["agent_uuid"], "secret": d["agent_secret"]}

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        for a in pool.map(one, range(n)):
            print(json.dumps(a))


LAUNCH_BODY = b'<?xml version="1.0" encoding="UTF-8" ?><ServiceRequest></ServiceRequest>'
CODE_RE = re.compile(rb"<responseCode>([A-Z_]+)</responseCode>")


def launch(cacert, userpw, bases, plan_file, par, seconds=None):
    ctx = tls(cacert)
    auth = "Basic " + base64.b64encode(userpw.encode()).decode()
    bases = bases.split(",")
    plan = [line.split() for line in open(plan_file) if line.strip()]
    stop_at = time.monotonic() + seconds if seconds else None
    lock = threading.Lock()

    def one(i):
        if stop_at is not None and time.monotonic() > stop_at:
            return None
        asset, scan, ovr = plan[i]
        base = bases[i % len(bases)]
        path = "/qps/rest/1.0/ods/ca/agentasset/%s?scan=%s&overrideConfigCpu=%s" % (asset, scan, ovr)
        rec = {"asset": int(asset), "scan": scan, "override": ovr == "true", "base": base}
        try:
            st, hdr, out = request(base, ctx, "POST", path, LAUNCH_BODY,
                                   {"Authorization": auth, "Content-Type": "text/xml"})
            m = CODE_RE.search(out)
            rec.update(status=st, job=int(hdr.get("x-odscan-job-id", "0")),
                       existing=hdr.get("x-odscan-job-existing") == "true",
                       code=m.group(1).decode() if m else "")
        except (OSError, http.client.HTTPException) as e:
            rec.update(status=0, job=0, existing=False, code="transport: %s" % e)
        with lock:
            print(json.dumps(rec), flush=True)
        return rec

    with concurrent.futures.ThreadPoolExecutor(par) as pool:
        list(pool.map(one, range(len(plan))))


def drain(cacert, agents_file, bases):
    ctx = tls(cacert)
    bases = bases.split(",")
    agents = [json.loads(line) for line in open(agents_file) if line.strip()]
    lock = threading.Lock()
    errors = []

    def claimer(agent, base):
        hdr = {"Authorization": "Bearer %s:%s" % (agent["uuid"], agent["secret"]),
               "Content-Type": "application/json"}
        body = json.dumps({"agent_version": "0.1.0", "running": []})
        while True:
            st, _, out = request(base, ctx, "POST", "/agent/v1/checkin", body, hdr)
            if st != 200:
                errors.append("checkin %s on %s: HTTP %d %r" % (agent["asset_id"], base, st, out[:200]))
                return
            jobs = json.loads(out).get("jobs", [])
            if not jobs:
                return
            with lock:
                for j in jobs:
                    print(json.dumps({"asset": agent["asset_id"], "job": j["id"], "base": base}),
                          flush=True)

    with concurrent.futures.ThreadPoolExecutor(len(agents) * len(bases)) as pool:
        futs = [pool.submit(claimer, a, b) for a in agents for b in bases]
        for f in futs:
            f.result()
    if errors:
        raise SystemExit("; ".join(errors[:5]))


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "enroll" and len(argv) == 6:
        enroll(argv[2], argv[3], argv[4], int(argv[5]))
    elif cmd == "launch" and len(argv) in (7, 8):
        launch(argv[2], argv[3], argv[4], argv[5], int(argv[6]),
               float(argv[7]) if len(argv) == 8 else None)
    elif cmd == "drain" and len(argv) == 5:
        drain(argv[2], argv[3], argv[4])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
