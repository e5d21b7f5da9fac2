"""What a run prints and draws: the table per fault kind, the findings, and
the timeline picture (availability per second, faults marked)."""


def seconds(ms):
    return "-" if ms is None else f"{ms / 1000:.1f}"


def table_text(rows, acked, lost):
    w = max([20] + [len(r["kind"]) for r in rows])  # an overlapped pair's name is longer
    head = (f"{'fault':{w}} {'count':>5} {'recovery s':>11} {'upload gap s':>13} {'commit gap s':>13} "
            f"{'failed':>6} {'lost':>4}")
    lines = [head, "-" * len(head)]
    for r in rows:
        if r["count"] == 0 and r["skipped"]:
            lines.append(f"{r['kind']:{w}} skipped: {r['skipped']}")
            continue
        lines.append(f"{r['kind']:{w}} {r['count']:>5} "
                     f"{seconds(r['recovery_median']) + '/' + seconds(r['recovery_max']):>11} "
                     f"{seconds(r['gap_median']) + '/' + seconds(r['gap_max']):>13} "
                     f"{seconds(r['db_gap_median']) + '/' + seconds(r['db_gap_max']):>13} "
                     f"{r['failed']:>6} {r['lost']:>4}")
    lines += [f"acknowledged uploads: {acked}, lost: {lost}",
              "recovery: the fault to the first acknowledged upload started after it; upload gap, commit gap: the",
              "longest time from the fault until the cluster was whole again with no upload (commit) acknowledged;",
              "seconds, median/max. failed: uploads answered with an error or not at all; lost: acknowledged, gone."]
    return "\n".join(lines)


def timeline_png(path, history, title):
    """Uploads acknowledged and failed per second, commits per second, and the
    faults as shaded spans (injection to heal) labelled by kind."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    starts = [u["start"] for u in history.uploads] + [f.inject_ms for f in history.faults if not f.skipped]
    if not starts:
        return False
    t0 = min(starts)
    length = max(1, (history.end_ms - t0) // 1000 + 1)
    ok = [0] * length
    bad = [0] * length
    commits = [0] * length
    for u in history.uploads:
        i = (u["end"] - t0) // 1000
        if 0 <= i < length:
            (ok if u["status"] == 201 else bad)[i] += 1
    for times in history.commits.values():
        for t in times:
            i = (t - t0) // 1000
            if 0 <= i < length:
                commits[i] += 1
    fig, ax = plt.subplots(figsize=(max(8, min(40, length / 30)), 4.5))
    xs = range(length)
    ax.plot(xs, ok, color="tab:green", linewidth=0.8, label="uploads acknowledged /s")
    ax.plot(xs, bad, color="tab:red", linewidth=0.8, label="uploads failed /s")
    ax.plot(xs, commits, color="tab:blue", linewidth=0.6, alpha=0.6, label="commits acknowledged /s")
    top = max(ok + bad + commits + [1])
    for f in history.faults:
        if f.skipped:
            continue
        a, b = (f.inject_ms - t0) / 1000, ((f.heal_ms or f.inject_ms) - t0) / 1000
        ax.axvspan(a, b, color="tab:orange", alpha=0.2)
        ax.text(a, top * 1.02, f.kind, rotation=60, fontsize=6, va="bottom")
    ax.set_xlabel("seconds since the start")
    ax.set_ylim(0, top * 1.45)
    ax.set_title(title, fontsize=9)
    ax.legend(loc="lower left", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
