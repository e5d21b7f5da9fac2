#!/usr/bin/python3
"""Checks `hactl events --json` (read on stdin) against what a lab step expects.

  event_timeline.py [--same-incident] [--late] EXPECT...
EXPECT is NODE:COMPONENT/KIND:WORDS -- an event of that node, component and
kind whose text contains WORDS. --same-incident: the matched events share one
incident id (not empty). --late: each matched event is marked late. Exit 0
when all hold; else 1, printing what is missing and the timeline read."""
import json
import sys


def main(argv):
    same_incident = "--same-incident" in argv
    late = "--late" in argv
    expects = [a for a in argv if not a.startswith("--")]
    doc = json.load(sys.stdin)
    events = doc.get("events", [])
    problems, matched = [], []
    for expect in expects:
        node, what, words = expect.split(":", 2)
        component, kind = what.split("/", 1)
        found = [e for e in events if e.get("node") == node and e.get("component") == component
                 and e.get("kind") == kind and words in e.get("text", "")]
        if not found:
            problems.append("no event " + expect)
            continue
        matched.append(found[-1])
        if late and not found[-1].get("late"):
            problems.append("not marked late: " + expect)
    if same_incident and matched:
        ids = {e.get("incident", "") for e in matched}
        if len(ids) != 1 or "" in ids:
            problems.append("not one incident: " + ", ".join(sorted(i or "(none)" for i in ids)))
    if problems:
        for p in problems:
            print("    " + p)
        for e in events[-25:]:
            print("      %s %s %s/%s %s%s [%s]" % (e.get("at"), e.get("node"), e.get("component"), e.get("kind"),
                                                e.get("text"), " (late)" if e.get("late") else "", e.get("incident", "")))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
