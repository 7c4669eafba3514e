"""jobs.py - read `odscanctl job list --json` / `audit list --json` for the API tests.

Usage: python3 jobs.py jobs|audit < cli-output
Prints one normalized JSON object per line:
  jobs:  {"id", "asset", "scan", "override", "state"}  (scan = canonical query value)
  audit: {"user", "remote", "action", "target", "result", "detail"}
Accepts a JSON array, an object holding one array (e.g. {"jobs": [...]}) or JSON lines.
"""
import json
import sys

SCANS = ["Inventory_Scan", "Vulnerability_Scan", "PolicyCompliance_Scan",
         "UDC_Scan", "SCA_Scan", "SWCA_scan"]
MODULES = ["Inventory Scan", "Vulnerability Scan", "Policy Compliance Scan",
           "UDC Scan", "SCA Scan", "SwCA Scan"]


def records(text):
    text = text.strip()
    if not text:
        return []
    try:
        doc = json.loads(text)
    except ValueError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        lists = [v for v in doc.values() if isinstance(v, list)]
        if len(lists) == 1:
            return lists[0]
        return [doc]
    raise ValueError("unexpected JSON: %r" % (doc,))


def pick(rec, *names):
    for n in names:
        if n in rec:
            return rec[n]
    raise KeyError("none of %s in %r" % (names, rec))


def scan_name(v):
    if isinstance(v, int):
        return SCANS[v]
    s = str(v)
    for i, name in enumerate(SCANS):
        if s.lower() in (name.lower(), MODULES[i].lower(), name.lower()[:-5]):
            return name
    raise ValueError("unknown scan type %r" % (v,))


def boolean(v):
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return v != 0
    s = str(v).lower()
    if s in ("true", "1", "yes"):
        return True
    if s in ("false", "0", "no"):
        return False
    raise ValueError("not a boolean: %r" % (v,))


def main():
    kind = sys.argv[1]
    for rec in records(sys.stdin.read()):
        if kind == "jobs":
            out = {
                "id": int(pick(rec, "id", "job_id", "job")),
                "asset": int(pick(rec, "asset_id", "asset", "assetId")),
                "scan": scan_name(pick(rec, "scan_type", "scan", "scanType", "type")),
                "override": boolean(pick(rec, "override_cpu", "override", "overrideConfigCpu")),
                "state": str(pick(rec, "state", "status")).upper(),
            }
        else:
            out = {k: str(rec.get(k, "")) for k in
                   ("user", "remote", "action", "target", "result", "detail")}
        print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
