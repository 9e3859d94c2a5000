"""`audit demo` end to end, as `make demo` runs it: the truth check must pass."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from audit.demo.runner import closed_days, parse_start, replay_start, simulated_start, true_ranks
from audit.errors import AuditError

pytestmark = [pytest.mark.browser, pytest.mark.imap, pytest.mark.slow]


def _demo(directory: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "audit.cli", "demo", "--dir", str(directory), *extra],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc


def _results(directory: Path) -> tuple[dict[str, object], dict[str, dict[str, str]]]:
    [truth_file] = list((directory / "reports").glob("*/truth.json"))
    truth = json.loads(truth_file.read_text(encoding="utf-8"))
    with (truth_file.parent / "results.csv").open(encoding="utf-8") as f:
        return truth, {r["company"]: r for r in csv.DictReader(f)}


@pytest.mark.clock
def test_demo_replays_the_2010_survey_and_passes_its_truth_check(tmp_path: Path) -> None:
    directory = tmp_path / "demo"
    proc = _demo(directory)
    assert "Simulated time" in proc.stderr and "Truth check passed" in proc.stderr
    truth_files = list((directory / "reports").glob("*/truth.json"))
    assert len(truth_files) == 1
    truth = json.loads(truth_files[0].read_text(encoding="utf-8"))
    assert truth["check"]["ok"] is True and truth["check"]["problems"] == []
    with (truth_files[0].parent / "results.csv").open(encoding="utf-8") as f:
        rows = {r["company"]: r for r in csv.DictReader(f)}
    # 33 min, 1 h, 2.5 h, 3 h (by e-mail), 4 h, ~1 day, 2 days, 5 days, in that order,
    # measured to the second.
    answered = sorted(
        (r for r in rows.values() if r["status"] == "answered"), key=lambda r: int(r["rank"])
    )
    # Each company answers a set delay after its server got the form; the tool counts from
    # its own submit instant, so the form's trip (longer on a busy machine) is included.
    lag = {t["company"]: t.get("submit_to_server_s", 0.0) for t in truth["check"]["rows"]}
    seconds = [float(r["response_seconds"]) - lag[r["company"]] for r in answered]
    truths = [1980, 3600, 9000, 10800, 14400, 87600, 172800, 432000]
    assert all(abs(s - t) <= 1 for s, t in zip(seconds, truths, strict=True)), seconds
    assert rows["בנק השרון"]["status"] == "answered"
    assert rows["Golan Mobile"]["status"] == "blocked"
    # the two companies surveyed by e-mail: one answers (in the thread), one never does
    assert (rows["Hula Post"]["channel"], rows["Hula Post"]["status"]) == ("email", "answered")
    assert (rows["Dead Sea Spa"]["channel"], rows["Dead Sea Spa"]["status"]) == (
        "email",
        "no_reply",
    )
    assert rows["Carmel Bank"]["channel"] == "form"
    assert (truth_files[0].parent / "index.html").is_file()
    assert truth["closed_days"] == {}  # the default replay week has no holiday


@pytest.mark.parametrize(
    ("start", "holiday"),
    [
        ("2025-04-13", "Pesach"),  # the first day is a holiday: the four same-day answers tie
        ("2025-09-21", "Rosh Hashanah"),  # Tue-Wed closed: the 2-day answer lands on a holiday
    ],
)
def test_demo_in_a_holiday_week_ranks_by_the_survey_calendar(
    tmp_path: Path, start: str, holiday: str
) -> None:
    directory = tmp_path / "demo"
    proc = _demo(directory, "--start", start)
    assert "Truth check passed" in proc.stderr and "Holidays in the replayed week" in proc.stderr
    truth, rows = _results(directory)
    assert holiday in " ".join(truth["closed_days"].values())  # type: ignore[union-attr]
    assert truth["check"]["ok"] is True  # type: ignore[index]
    wall = [float(r["response_seconds"]) for r in rows.values() if r["status"] == "answered"]
    business = [float(r["business_seconds"]) for r in rows.values() if r["status"] == "answered"]
    assert len(wall) == 8 and sum(business) < sum(wall)
    if start == "2025-04-13":
        same_day = ("Carmel Bank", "Galil Insurance", "Negev Telecom", "בנק השרון")
        assert {rows[n]["rank"] for n in same_day} == {"1"}
        assert all(float(rows[n]["business_seconds"]) == 0 for n in same_day)


def test_true_ranks_share_ties_and_allow_near_ties_either_order() -> None:
    ranks = true_ranks({"a": 0, "b": 0, "c": 60, "d": 3600, "e": 3600.5})
    assert ranks == {"a": (1, 2), "b": (1, 2), "c": (3, 3), "d": (4, 5), "e": (4, 5)}


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("2026-12-04T01:00:00+00:00", "2026-11-22"),  # a quiet week: the latest Sunday
        ("2026-09-28T10:00:00+00:00", "2026-08-30"),  # skips Yom Kippur and Rosh Hashanah weeks
        ("2025-04-25T10:00:00+00:00", "2025-04-06"),  # skips the Pesach week
    ],
)
def test_the_default_replay_week_has_no_holiday(now: str, expected: str) -> None:
    from datetime import datetime

    start = replay_start(datetime.fromisoformat(now))
    assert start.date().isoformat() == expected and closed_days(start) == {}


def test_start_option_parses_dates_and_instants() -> None:
    assert parse_start("2025-04-13").isoformat() == "2025-04-13T06:00:00+00:00"
    assert parse_start("2025-04-13T10:00+03:00").isoformat() == "2025-04-13T07:00:00+00:00"
    with pytest.raises(AuditError, match="--start"):
        parse_start("next sunday")


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
