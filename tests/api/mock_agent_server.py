#!/usr/bin/env python3
"""mock_agent_server.py - a minimal plain-HTTP stand-in for odscand's /agent/v1/
side (docs/agent.md), for testing odscan-agent without the real server.

usage: mock_agent_server.py PORTFILE LOGFILE [--jobs TYPE,...] [--fail-results N]
Writes the chosen port to PORTFILE; appends one JSON line per request to LOGFILE.
The first N result uploads answer 503 (to exercise the spool)."""
import json, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

args = sys.argv[1:]
portfile, logfile = args[0], args[1]
jobs = []
fail_results = 0
if '--jobs' in args:
    jobs = [{"id": 40 + i, "scan_type": t, "override_cpu": False, "lease_s": 30}
            for i, t in enumerate(args[args.index('--jobs') + 1].split(','))]
if '--fail-results' in args:
    fail_results = int(args[args.index('--fail-results') + 1])
lock = threading.Lock()
PROFILE = {"id": 1, "name": "linux-default", "cpu_limit": 50, "cpu_throttle": 0,
           "checkin_hold_s": 1, "lease_s": 30, "max_concurrent": 1}

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def reply(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def do_POST(self):
        global fail_results
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            doc = json.loads(body)
        except ValueError:
            return self.reply(400, {"error": "bad json"})
        auth = self.headers.get("Authorization")
        with lock:
            with open(logfile, "a") as f:
                f.write(json.dumps({"path": self.path, "auth": auth, "body": doc}) + "\n")
            if self.path == "/agent/v1/enroll":
                if doc.get("activation_key") != "good-key":
                    return self.reply(403, {"error": "activation key refused"})
                return self.reply(200, {"asset_id": 100001, "agent_uuid": "u-1",
                                        "agent_secret": "s-1", "profile": PROFILE})
            if auth != "Bearer u-1:s-1":
                return self.reply(401, {"error": "bad credentials"})
            if self.path == "/agent/v1/checkin":
                out, jobs[:] = jobs[:], []
                return self.reply(200, {"profile": PROFILE, "jobs": out})
            if self.path.endswith("/result") and fail_results > 0:
                fail_results -= 1
                return self.reply(503, {"error": "try later"})
            return self.reply(200, {})

srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(portfile, "w") as f:
    f.write(str(srv.server_address[1]))
srv.serve_forever()
