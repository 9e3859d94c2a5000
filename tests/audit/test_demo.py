"""`audit demo` end to end, as `make demo` runs it: the truth check must pass."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from audit.demo.runner import simulated_start

pytestmark = [pytest.mark.browser, pytest.mark.imap, pytest.mark.slow]


def test_demo_replays_the_2010_survey_and_passes_its_truth_check(tmp_path: Path) -> None:
    directory = tmp_path / "demo"
    proc = subprocess.run(
        [sys.executable, "-m", "audit.cli", "demo", "--dir", str(directory)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "Simulated time" in proc.stderr and "Truth check passed" in proc.stderr
    truth_files = list((directory / "reports").glob("*/truth.json"))
    assert len(truth_files) == 1
    truth = json.loads(truth_files[0].read_text(encoding="utf-8"))
    assert truth["check"]["ok"] is True and truth["check"]["problems"] == []
    with (truth_files[0].parent / "results.csv").open(encoding="utf-8") as f:
        rows = {r["company"]: r for r in csv.DictReader(f)}
    # 33 min, 1 h, 2.5 h, 4 h, ~1 day, 2 days, 5 days, in that order, measured to the second.
    answered = sorted(
        (r for r in rows.values() if r["status"] == "answered"), key=lambda r: int(r["rank"])
    )
    seconds = [round(float(r["response_seconds"])) for r in answered]
    truths = [1980, 3600, 9000, 14400, 87600, 172800, 432000]
    assert all(abs(s - t) <= 1 for s, t in zip(seconds, truths, strict=True)), seconds
    assert rows["בנק השרון"]["status"] == "answered"
    assert rows["Golan Mobile"]["status"] == "blocked"
    assert (truth_files[0].parent / "index.html").is_file()


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("2026-11-25T10:00:00+00:00", "2026-11-15T07:00:00+00:00"),  # Wed -> Sunday 10 days before
        (
            "2026-11-22T07:30:00+00:00",
            "2026-11-15T07:00:00+00:00",
        ),  # Sunday 09:30 IL, exactly 7 days
        ("2026-11-22T06:30:00+00:00", "2026-11-08T07:00:00+00:00"),  # Sunday 08:30 IL: too recent
    ],
)
def test_simulated_start_is_a_sunday_morning_at_least_a_week_back(now: str, expected: str) -> None:
    from datetime import datetime

    assert simulated_start(datetime.fromisoformat(now)).isoformat() == expected
