"""The checker: reads a run's history and says what went wrong. Pure (no I/O):
tests/chaos feeds it histories made up to break each rule.

Findings that fail the run:
  lost-upload     an acknowledged upload (201) missing or different at the end,
                  in the database (through the floating IP) or in a node's files
  lost-commit     an acknowledged commit missing from the final primary
  two-primaries   two nodes acknowledging commits over overlapping spans
  two-holders     two live nodes holding the floating IP longer than VRRP allows
  slow-recovery   a fault after which writes stopped for longer than its bound
  not-settled     the cluster did not come back whole after a heal
Counted and shown, not failures:
  applied-unacknowledged  an upload that got no 201 but is there at the end: its
                  client learns it with GET /api/v3.1/blueprints/ID (the sha256
                  it sent) and, uploads being PUTs by id, may simply send it again
  read-anomaly    a read of an acknowledged upload answered 404 or other bytes
"""
from dataclasses import dataclass, field
import statistics

from schedule import step_bound_ms

FATAL = ("lost-upload", "lost-commit", "two-primaries", "two-holders", "slow-recovery", "not-settled")


@dataclass
class Finding:
    what: str
    detail: str
    at_ms: int = 0

    @property
    def fatal(self):
        return self.what in FATAL


@dataclass
class Fault:
    step: int
    kind: str
    target: str           # the node(s) hit, "n1" or "n1,n2"
    inject_ms: int
    heal_ms: int
    settled_ms: int       # when the cluster was whole again; 0: it never was
    skipped: str = ""     # why it did not run here (then nothing else counts)


@dataclass
class History:
    faults: list = field(default_factory=list)      # Fault
    uploads: list = field(default_factory=list)     # {"id", "start", "end", "status", "sha256", "error"}
    reads: list = field(default_factory=list)       # {"id", "start", "end", "status", "match"}
    commits: dict = field(default_factory=dict)     # stream -> [at_ms of each acknowledged commit]
    probes: dict = field(default_factory=dict)      # node -> [at_ms of each commit it acknowledged]
    vip: list = field(default_factory=list)         # (t_ms, [live holders]) at every change
    readback: dict = field(default_factory=dict)    # see check_readback
    end_ms: int = 0


def spans(times, merge_ms):
    """Acknowledgement times -> [first, last] spans; gaps over merge_ms split them."""
    out = []
    for t in sorted(times):
        if out and t - out[-1][1] <= merge_ms:
            out[-1][1] = t
        else:
            out.append([t, t])
    return out


def check_primaries(probes, merge_ms=1000):
    """Each node's own commits (a stream to that node alone) give the spans in
    which it acted as primary; two nodes' spans must never overlap. A handover
    shows as one node's last commit before the other's first."""
    found = []
    by_node = {n: spans(ts, merge_ms) for n, ts in probes.items()}
    names = sorted(by_node)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            for sa in by_node[a]:
                for sb in by_node[b]:
                    lo, hi = max(sa[0], sb[0]), min(sa[1], sb[1])
                    if lo <= hi:
                        found.append(Finding("two-primaries",
                                             f"{a} and {b} both acknowledged commits from {lo} to {hi} "
                                             f"({hi - lo} ms; {a}'s span {sa[0]}..{sa[1]}, {b}'s {sb[0]}..{sb[1]})", lo))
    return found


def check_holders(vip, end_ms, allowed_ms):
    """vip: (t, live holders) at each change. Two holders at once is allowed
    for the short window VRRP needs to settle (allowed_ms), not longer."""
    found = []
    since = None
    for i, (t, holders) in enumerate(vip):
        if len(holders) >= 2 and since is None:
            since = (t, holders)
        elif len(holders) < 2 and since is not None:
            if t - since[0] > allowed_ms:
                found.append(Finding("two-holders", f"{' and '.join(since[1])} held the floating IP together for "
                                     f"{t - since[0]} ms (allowed {allowed_ms})", since[0]))
            since = None
    if since is not None and end_ms - since[0] > allowed_ms:
        found.append(Finding("two-holders", f"{' and '.join(since[1])} still held the floating IP together at the end "
                             f"({end_ms - since[0]} ms)", since[0]))
    return found


def check_readback(readback):
    """readback = {"uploads": {id: {"db": state, "files": {node: state}}},
                   "commits": {stream: {"acked": N, "lost": [ids]}},
                   "unacked_applied": [ids]}; state is "ok", "missing" or "different"."""
    found = []
    for upload_id, where in sorted(readback.get("uploads", {}).items()):
        bad = []
        if where.get("db") != "ok":
            bad.append(f"database: {where.get('db')}")
        bad += [f"{node}'s files: {state}" for node, state in sorted(where.get("files", {}).items()) if state != "ok"]
        if bad:
            found.append(Finding("lost-upload", f"{upload_id} was acknowledged; at the end " + ", ".join(bad)))
    for stream, result in sorted(readback.get("commits", {}).items()):
        if result.get("error"):
            found.append(Finding("lost-commit", f"{stream}: could not be checked: {result['error']}"))
        elif result.get("lost"):
            ids = result["lost"]
            found.append(Finding("lost-commit", f"{stream}: {result.get('lost_count', len(ids))} of {result.get('acked')} acknowledged commits "
                                 f"missing on the final primary (ids {', '.join(map(str, ids[:10]))})"))
    for upload_id in readback.get("unacked_applied", []):
        found.append(Finding("applied-unacknowledged", f"{upload_id} got no 201 but is stored"))
    return found


def outage(fault, uploads):
    """(recovery_ms, longest_gap_ms, failed) of one fault, from the uploads.
    recovery: the injection to the end of the first upload started after it
    that was acknowledged (the issue's "first acknowledged write after the
    fault"); longest gap: the widest span, from the injection to the cluster
    settled, without one (it also catches a disruption at the heal). It starts
    at the injection, not at the last acknowledgement before it: an outage
    left by the previous step is that step's (its own row shows it)."""
    end = fault.settled_ms or fault.heal_ms
    after = [u["end"] for u in uploads if u["status"] == 201 and u["start"] >= fault.inject_ms]
    recovery = (min(after) - fault.inject_ms) if after else None
    inside = sorted(u["end"] for u in uploads if u["status"] == 201 and fault.inject_ms < u["end"] <= end)
    points = [fault.inject_ms] + inside + [end]
    gap = max(b - a for a, b in zip(points, points[1:]))
    failed = sum(1 for u in uploads if u["status"] != 201 and fault.inject_ms <= u["end"] <= end)
    return recovery, gap, failed


def commit_gap(fault, commits):
    """The widest span, from the injection to the cluster settled, without
    an acknowledged commit on any stream (the database's own outage, beside
    the uploads')."""
    end = fault.settled_ms or fault.heal_ms
    inside = sorted(t for times in commits.values() for t in times if fault.inject_ms < t <= end)
    points = [fault.inject_ms] + inside + [end]
    return max(b - a for a, b in zip(points, points[1:]))


def check_faults(faults, uploads, bounds_ms):
    found = []
    for f in faults:
        if f.skipped:
            continue
        if not f.settled_ms:
            found.append(Finding("not-settled", f"step {f.step} {f.kind} ({f.target}): the cluster was not whole "
                                 f"again after the heal", f.heal_ms))
        recovery, gap, _ = outage(f, uploads)
        bound = step_bound_ms(f.kind, bounds_ms)
        if bound is not None and (recovery is None or gap > bound):
            said = "no upload acknowledged after it" if recovery is None else f"writes stopped for {gap} ms"
            found.append(Finding("slow-recovery", f"step {f.step} {f.kind} ({f.target}): {said} (bound {bound} ms)",
                                 f.inject_ms))
    return found


def check_reads(reads):
    return [Finding("read-anomaly", f"read of acknowledged {r['id']} answered {r['status']}"
                    + (" with other bytes" if r["status"] == 200 else ""), r["end"])
            for r in reads if r["status"] == 404 or (r["status"] == 200 and not r.get("match", True))]


def check(history, bounds_ms, vip_allowed_ms):
    found = (check_readback(history.readback) + check_primaries(history.probes)
             + check_holders(history.vip, history.end_ms, vip_allowed_ms)
             + check_faults(history.faults, history.uploads, bounds_ms) + check_reads(history.reads))
    return sorted(found, key=lambda f: (not f.fatal, f.at_ms))


def table(history):
    """One row per fault kind: count, recovery median/max, longest gap
    median/max (ms), the same for commits, uploads failed, acknowledged
    uploads lost."""
    lost_ids = {i for i, w in history.readback.get("uploads", {}).items()
                if w.get("db") != "ok" or any(s != "ok" for s in w.get("files", {}).values())}
    rows = {}
    for f in history.faults:
        row = rows.setdefault(f.kind, {"kind": f.kind, "count": 0, "recovery": [], "gap": [], "db_gap": [], "failed": 0,
                                       "lost": 0, "skipped": f.skipped})
        if f.skipped:
            continue
        row["count"] += 1
        recovery, gap, failed = outage(f, history.uploads)
        if recovery is not None:
            row["recovery"].append(recovery)
        row["gap"].append(gap)
        row["db_gap"].append(commit_gap(f, history.commits))
        row["failed"] += failed
        end = f.settled_ms or f.heal_ms
        row["lost"] += sum(1 for u in history.uploads
                           if u["id"] in lost_ids and f.inject_ms <= u["end"] <= end)
    out = []
    for row in rows.values():
        def med_max(values):
            return (int(statistics.median(values)), max(values)) if values else (None, None)
        row["recovery_median"], row["recovery_max"] = med_max(row.pop("recovery"))
        row["gap_median"], row["gap_max"] = med_max(row.pop("gap"))
        row["db_gap_median"], row["db_gap_max"] = med_max(row.pop("db_gap"))
        out.append(row)
    return sorted(out, key=lambda r: r["kind"])
