"""check_acked.py - compare what curl saw acknowledged with the jobs in the store.

Usage: python3 check_acked.py RESULTS JOBS ATTEMPTED
RESULTS: lines "HTTP_CODE URL" written by curl -w; JOBS: normalized job lines from
jobs.py; ATTEMPTED: how many distinct launches were sent.
Every launch answered 200 must have exactly one job (asset, scan type, override),
no (asset, scan type, override) may have two jobs, every job must belong to a launch
that was sent, and there may be no more jobs than launches. Exit 1 with reasons.
"""
import collections
import json
import os
import sys
from urllib.parse import urlparse, parse_qs

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jobs import scan_name, boolean  # noqa: E402


def key_of(url):
    u = urlparse(url)
    asset = int(u.path.rstrip("/").rsplit("/", 1)[1])
    q = {k.lower(): v for k, v in parse_qs(u.query, keep_blank_values=True).items()}
    ovr = boolean(q["overrideconfigcpu"][0]) if "overrideconfigcpu" in q else False
    return (asset, scan_name(q["scan"][0]), ovr)


def main():
    results, jobs_file, attempted = sys.argv[1], sys.argv[2], int(sys.argv[3])
    acked, seen, statuses = set(), set(), collections.Counter()
    for line in open(results):
        line = line.strip()
        if not line:
            continue
        code, url = line.split(" ", 1)
        statuses[code] += 1
        k = key_of(url)
        seen.add(k)
        if code == "200":
            acked.add(k)
    jobs = [json.loads(line) for line in open(jobs_file) if line.strip()]
    per_key = collections.Counter((j["asset"], j["scan"], j["override"]) for j in jobs)
    errors = []
    missing = sorted(k for k in acked if per_key[k] == 0)
    if missing:
        errors.append("%d acknowledged launches have no job, e.g. %s" % (len(missing), missing[:5]))
    dups = sorted(k for k, n in per_key.items() if n > 1)
    if dups:
        errors.append("%d launches have more than one job, e.g. %s" % (len(dups), dups[:5]))
    if len(jobs) > attempted:
        errors.append("%d jobs but only %d launches were attempted" % (len(jobs), attempted))
    if seen:
        strays = sorted(k for k in per_key if k not in seen)
        # a launch whose response never reached curl (killed mid-flight) may still
        # have committed: it shows in RESULTS with code 000, so it is in `seen`.
        if strays:
            errors.append("%d jobs match no launch that was sent, e.g. %s" % (len(strays), strays[:5]))
    bad_state = [j for j in jobs if j["state"] != "QUEUED"]
    if bad_state:
        errors.append("%d jobs are not QUEUED, e.g. %s" % (len(bad_state), bad_state[:3]))
    print("# responses: %s; acknowledged: %d; jobs after restart: %d; attempted: %d"
          % (dict(statuses), len(acked), len(jobs), attempted))
    for e in errors:
        print("# " + e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
