#!/usr/bin/env python3
"""The member records' schemas as one supervisor read them from Consul, from
`hactl status --json` on stdin: each live member as NAME WRITTEN/READS (the
schema its record is written in / the newest its supervisor reads), then
"unreadable N" (records it could not read). With --self: this node's own
READS and HEALTH only."""
import json
import sys

doc = json.load(sys.stdin)
members = [m for m in doc.get("members", []) if m.get("role") != "down"]
if sys.argv[1:] == ["--self"]:
    me = [m for m in members if m.get("name") == doc["self"]["name"]]
    print(f"{me[0]['record_schema']['reads']} {me[0]['health']}" if me else "none")
else:
    seen = [f"{m['name']} {m['record_schema']['written']}/{m['record_schema']['reads']}" for m in members]
    print(" ".join(seen), "unreadable", len(doc.get("unreadable", [])))
