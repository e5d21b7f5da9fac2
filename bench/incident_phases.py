#!/usr/bin/python3
"""The newest incident of `hactl incidents --json` (stdin) in one line: each
phase's offset from the first sign, where it was seen. For the benchmarks, to
print the flight recorder's figures beside what they measure from outside."""
import json
import sys

doc = json.load(sys.stdin)
incidents = doc.get("incidents", [])
if not incidents:
    print("no incident recorded")
    sys.exit(1)
last = incidents[-1]
parts = []
for phase in last.get("phases", []):
    e = phase.get("event", {})
    parts.append("%s +%d ms (%s %s/%s)" % (phase["name"], phase["after_ms"], e.get("node"), e.get("component"), e.get("kind")))
print("incident %s: %s" % (last["id"], ", ".join(parts)))
