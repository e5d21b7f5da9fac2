"""The fault suite's checker and schedule, fed histories made up to break each
rule: each rule must name what broke, and a clean history must pass.
  python3 -m unittest discover -s tests/chaos"""
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "chaos.d"))
import checker  # noqa: E402
import schedule  # noqa: E402

T0 = 1_000_000


def uploads_every(ms, start, end, status=201):
    return [{"id": f"u{t}", "start": t - 50, "end": t, "status": status, "sha256": "x", "error": ""}
            for t in range(start, end, ms)]


def whats(findings):
    return sorted({f.what for f in findings})


class CheckerTest(unittest.TestCase):
    def clean(self):
        fault = checker.Fault(1, "crash-primary", "n1", T0 + 10_000, T0 + 20_000, T0 + 25_000)
        uploads = uploads_every(100, T0, T0 + 10_000) + uploads_every(100, T0 + 15_000, T0 + 30_000)
        return checker.History(
            faults=[fault], uploads=uploads,
            commits={"via n2": list(range(T0, T0 + 10_000, 100)) + list(range(T0 + 13_000, T0 + 30_000, 100))},
            probes={"n1": list(range(T0, T0 + 10_000, 100)), "n2": list(range(T0 + 14_000, T0 + 30_000, 100))},
            vip=[(T0, ["n1"]), (T0 + 10_500, ["n1", "n2"]), (T0 + 10_800, ["n2"])],
            readback={"uploads": {"u1000100": {"db": "ok", "files": {"n1": "ok", "n2": "ok"}}},
                      "commits": {"via n2": {"acked": 10, "lost": []}}},
            end_ms=T0 + 30_000)

    def test_a_clean_history_has_no_finding(self):
        self.assertEqual(checker.check(self.clean(), {"crash-primary": 30_000}, 2000), [])

    def test_an_acknowledged_upload_missing_on_one_node_is_lost(self):
        h = self.clean()
        h.readback["uploads"]["u1000100"]["files"]["n2"] = "missing"
        found = checker.check(h, {}, 2000)
        self.assertEqual(whats(found), ["lost-upload"])
        self.assertIn("n2's files: missing", found[0].detail)
        self.assertTrue(found[0].fatal)

    def test_an_acknowledged_upload_different_in_the_database_is_lost(self):
        h = self.clean()
        h.readback["uploads"]["u1000100"]["db"] = "different"
        self.assertEqual(whats(checker.check(h, {}, 2000)), ["lost-upload"])

    def test_a_lost_commit_fails_and_an_unreadable_stream_too(self):
        h = self.clean()
        h.readback["commits"]["via n2"] = {"acked": 10, "lost": [4, 5], "lost_count": 2}
        found = checker.check(h, {}, 2000)
        self.assertEqual(whats(found), ["lost-commit"])
        self.assertIn("2 of 10", found[0].detail)
        h.readback["commits"]["via n2"] = {"error": "cannot connect"}
        self.assertEqual(whats(checker.check(h, {}, 2000)), ["lost-commit"])

    def test_two_nodes_committing_over_overlapping_spans_are_two_primaries(self):
        h = self.clean()
        h.probes["n2"] = list(range(T0 + 9_000, T0 + 30_000, 100))  # n1 still commits until T0+9900
        found = checker.check(h, {}, 2000)
        self.assertEqual(whats(found), ["two-primaries"])
        self.assertIn("n1 and n2", found[0].detail)

    def test_a_handover_is_not_two_primaries_however_close(self):
        h = self.clean()
        h.probes["n2"] = list(range(T0 + 9_950, T0 + 30_000, 100))  # first ack 50 ms after n1's last
        self.assertEqual(checker.check_primaries(h.probes), [])

    def test_two_holders_past_the_allowed_window(self):
        h = self.clean()
        h.vip = [(T0, ["n1"]), (T0 + 10_000, ["n1", "n2"]), (T0 + 13_000, ["n2"])]
        found = checker.check(h, {}, 2000)
        self.assertEqual(whats(found), ["two-holders"])
        self.assertIn("3000 ms", found[0].detail)
        h.vip = [(T0, ["n1", "n2"])]  # and still at the end
        self.assertEqual(whats(checker.check(h, {}, 2000)), ["two-holders"])

    def test_writes_stopped_past_the_bound_is_slow_recovery(self):
        h = self.clean()  # from 9.9 s to 15.0 s: 5.1 s without an acknowledged upload
        self.assertEqual(whats(checker.check(h, {"crash-primary": 3000}, 2000)), ["slow-recovery"])
        h.uploads = [u for u in h.uploads if u["end"] < T0 + 10_000]  # nothing after the fault
        found = checker.check(h, {"crash-primary": 30_000}, 2000)
        self.assertEqual(whats(found), ["slow-recovery"])
        self.assertIn("no upload acknowledged", found[0].detail)

    def test_a_cluster_that_never_settled_fails(self):
        h = self.clean()
        h.faults[0].settled_ms = 0
        self.assertIn("not-settled", whats(checker.check(h, {}, 2000)))

    def test_applied_but_unacknowledged_and_read_anomalies_are_shown_not_failed(self):
        h = self.clean()
        h.readback["unacked_applied"] = ["u9"]
        h.reads = [{"id": "u1", "start": T0, "end": T0 + 5, "status": 404}]
        found = checker.check(h, {}, 2000)
        self.assertEqual(whats(found), ["applied-unacknowledged", "read-anomaly"])
        self.assertFalse(any(f.fatal for f in found))

    def test_the_table_counts_recovery_gap_and_failures_per_kind(self):
        h = self.clean()
        h.uploads += [{"id": "f1", "start": T0 + 11_000, "end": T0 + 12_500, "status": 502, "sha256": "y",
                       "error": ""}]
        h.faults.append(checker.Fault(2, "netem", "", T0, T0, T0, "no netem here"))
        rows = {r["kind"]: r for r in checker.table(h)}
        self.assertEqual(rows["crash-primary"]["count"], 1)
        self.assertEqual(rows["crash-primary"]["failed"], 1)
        self.assertEqual(rows["crash-primary"]["gap_max"], 5000)       # the fault at 10.0 s -> 15.0 s
        self.assertEqual(rows["crash-primary"]["recovery_max"], 5000)  # the first upload started after it ends at 15.0 s
        self.assertEqual(rows["crash-primary"]["db_gap_max"], 3000)    # commits: 10.0 s -> 13.0 s
        self.assertEqual(rows["netem"]["skipped"], "no netem here")

    def test_an_outage_before_the_injection_is_not_the_faults(self):
        # Seen in a 30-minute run: writes stopped 11 s after kill-syncthing,
        # and the next fault's row (kill-keepalived) showed those 11 s.
        h = self.clean()
        h.uploads = [u for u in h.uploads if not T0 + 2_000 < u["end"] < T0 + 10_000]
        h.uploads += uploads_every(100, T0 + 10_100, T0 + 12_000)
        h.commits = {"via n2": [T0 + 1_000, T0 + 10_200] + list(range(T0 + 10_300, T0 + 30_000, 100))}
        rows = {r["kind"]: r for r in checker.table(h)}
        self.assertEqual(rows["crash-primary"]["recovery_max"], 100)   # started at 10.05 s, acknowledged at 10.1 s
        self.assertEqual(rows["crash-primary"]["gap_max"], 3100)       # 11.9 s -> 15.0 s, not 2.0 s -> 10.1 s
        self.assertEqual(rows["crash-primary"]["db_gap_max"], 200)     # 10.0 s -> 10.2 s


class ScheduleTest(unittest.TestCase):
    def take(self, seed, kinds, n):
        it = schedule.steps(seed, kinds)
        return [next(it) for _ in range(n)]

    def test_the_same_seed_replays_the_same_schedule(self):
        self.assertEqual(self.take(42, schedule.DEFAULT_KINDS, 30), self.take(42, schedule.DEFAULT_KINDS, 30))
        self.assertNotEqual(self.take(42, schedule.DEFAULT_KINDS, 30), self.take(43, schedule.DEFAULT_KINDS, 30))

    def test_every_kind_comes_once_a_round(self):
        kinds = ["crash-primary", "kill-gate", "cut-pair"]
        steps = self.take(1, kinds, 6)
        self.assertEqual(sorted(s.kind for s in steps[:3]), sorted(kinds))
        self.assertEqual(sorted(s.kind for s in steps[3:]), sorted(kinds))
        self.assertTrue(all(5 <= s.hold_s <= 15 and 2 <= s.pause_s <= 6 for s in steps))

    def test_overlap_zero_keeps_every_seeds_schedule(self):
        plain = self.take(7, schedule.DEFAULT_KINDS, 30)
        it = schedule.steps(7, schedule.DEFAULT_KINDS, overlap=0.0)
        self.assertEqual([next(it) for _ in range(30)], plain)
        self.assertTrue(all(s.second == "" and s.name == s.kind for s in plain))

    def test_an_overlapped_step_strikes_another_kind_while_the_first_holds(self):
        it = schedule.steps(5, schedule.DEFAULT_KINDS + ["join-leave"], overlap=1.0)
        steps = [next(it) for _ in range(60)]
        for s in steps:
            if s.kind in schedule.ALONE:
                self.assertEqual(s.second, "", s)
                continue
            self.assertNotEqual(s.second, "", s)
            self.assertNotEqual(s.second, s.kind)
            self.assertNotIn(s.second, schedule.ALONE)
            self.assertLessEqual(s.second_after_s, s.hold_s - 1.0)
            self.assertEqual(s.name, s.kind + "+" + s.second)
        some = schedule.steps(5, schedule.DEFAULT_KINDS, overlap=0.3)
        paired = sum(1 for _ in range(100) if next(some).second)
        self.assertTrue(10 < paired < 60, paired)

    def test_an_overlapped_pairs_bound_is_the_sum_of_both(self):
        bounds = {"crash-primary": 30_000, "kill-gate": 15_000}
        self.assertEqual(schedule.step_bound_ms("crash-primary+kill-gate", bounds), 45_000)
        self.assertEqual(schedule.step_bound_ms("kill-gate", bounds), 15_000)
        self.assertIsNone(schedule.step_bound_ms("kill-gate+netem", bounds))
        h = CheckerTest.clean(None)  # 5.1 s without an acknowledged upload
        h.faults[0].kind = "crash-primary+kill-gate"
        self.assertEqual(whats(checker.check(h, {"crash-primary": 3000, "kill-gate": 3000}, 2000)), [])
        self.assertEqual(whats(checker.check(h, {"crash-primary": 2000, "kill-gate": 2000}, 2000)), ["slow-recovery"])

    def test_an_unknown_kind_is_named(self):
        with self.assertRaisesRegex(ValueError, "crash-everything"):
            schedule.parse_kinds("crash-primary,crash-everything")
        self.assertEqual(schedule.parse_kinds(" kill-gate ,cut-pair"), ["kill-gate", "cut-pair"])


if __name__ == "__main__":
    unittest.main()
