"""The one stats object (audit/stats.py): counts by key for every stage, their summary
lines, and what the run and the watcher print and store from it."""

from __future__ import annotations

import json

from audit.app.common import to_json
from audit.app.run import CompanyRun, RunSummary
from audit.stats import Stats, SyncStats, counts_line


def test_counts_by_key_in_the_order_first_seen() -> None:
    s = Stats()
    for outcome in ("submitted", "failed", "submitted", "no_form"):
        s.inc(f"outcome/{outcome}")
    s.inc("state/uncertain", 2)
    assert s.section("outcome") == {"submitted": 2, "failed": 1, "no_form": 1}
    assert list(s.section("outcome")) == ["submitted", "failed", "no_form"]
    assert s.get("state/uncertain") == 2 and s.get("state/planned") == 0
    assert s.total("outcome", ("failed", "no_form", "timeout")) == 2
    assert s.summary("outcome") == "failed 1, no_form 1, submitted 2"
    assert s.section("nothing") == {}


def test_summary_lines() -> None:
    assert counts_line({"submitted": 2, "failed": 1}) == "failed 1, submitted 2"
    assert counts_line({}) == ""
    s = Stats({"new": 3, "duplicates": 1})
    assert s.line(("new", "duplicates", "errors")) == "3 new, 1 duplicates, 0 errors"


def test_merge_sums_and_keeps_the_largest_of_maxed_keys() -> None:
    a, b = Stats({"new": 1, "folders": 2}), Stats({"new": 2, "folders": 1, "kind/human": 1})
    a.merge(b, maxed=("folders",))
    assert a.as_dict() == {"new": 3, "folders": 2, "kind/human": 1}


def test_sync_stats_names_its_counts_and_keeps_its_json_shape() -> None:
    one = SyncStats()
    one.new += 2
    one.fetched = 3
    one.fetched -= 1
    one.folders = 2
    one.seconds = 0.5
    one.inc("kind/human")
    one.inc("kind/auto_ack")
    one.inc("kind/human")
    total = SyncStats()
    total.add(one)
    total.add(one)
    assert (total.new, total.fetched, total.folders, total.seconds) == (4, 4, 2, 1.0)
    assert total.kinds == {"human": 4, "auto_ack": 2}
    assert list(total.as_dict()) == [
        "fetched", "bodies", "new", "duplicates", "matched", "unmatched", "unparseable",
        "errors", "rescans", "folders", "seconds", "kinds",
    ]  # fmt: skip
    assert json.loads(to_json(total))["kinds"] == {"human": 4, "auto_ack": 2}
    assert total.summary_line() == (
        "4 new, 0 duplicates, 0 matched, 0 unmatched, 0 unparseable, 0 errors; "
        "by kind: {'human': 4, 'auto_ack': 2}"
    )
    assert SyncStats().summary_line() == (
        "0 new, 0 duplicates, 0 matched, 0 unmatched, 0 unparseable, 0 errors"
    )


def test_a_run_summary_counts_from_its_stats_and_keeps_them_out_of_its_json() -> None:
    stats = Stats()
    results = [
        CompanyRun("Acme", "acme", "submitted", state="submitted"),
        CompanyRun("Bolt", "bolt", "not-started", state="planned", skipped=True),
    ]
    for r in results:
        stats.inc(f"outcome/{r.outcome}")
        stats.inc(f"state/{r.state}")
    summary = RunSummary(1, "2026-Q1", True, results, stats=stats)
    assert summary.counts == {"submitted": 1, "not-started": 1}
    data = json.loads(to_json(summary))
    assert set(data) == {"run_id", "wave", "submit", "results", "stopped_early", "interrupted"}
