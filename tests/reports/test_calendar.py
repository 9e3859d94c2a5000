"""Business time on the default Israeli calendar: Sun-Thu 08-20, Fri 08-13, Sat closed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from audit.errors import ReportError
from audit.models import Calendar
from reports.calendar import BusinessCalendar

IL = ZoneInfo("Asia/Jerusalem")
H = 3600.0


def il(*args: int) -> datetime:
    return datetime(*args, tzinfo=IL)  # type: ignore[misc]


@pytest.fixture(scope="module")
def cal() -> BusinessCalendar:
    return BusinessCalendar.from_config(Calendar())


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        # same day, inside hours
        (il(2026, 11, 18, 9, 0), il(2026, 11, 18, 9, 33), 33 / 60),
        # Thu 18:00 -> Sun 09:00: Thu 2 h + Fri half day 5 h + Sat 0 + Sun 1 h
        (il(2026, 11, 19, 18, 0), il(2026, 11, 22, 9, 0), 8),
        # Friday half day: Fri 12:00 -> Fri 15:00 counts 12:00-13:00 only
        (il(2026, 11, 20, 12, 0), il(2026, 11, 20, 15, 0), 1),
        # sent Friday after closing, answered Saturday: before opening -> 0
        (il(2026, 11, 20, 14, 0), il(2026, 11, 21, 10, 0), 0),
        # sent Thursday night, answered Friday 07:00 (before opening) -> 0
        (il(2026, 11, 19, 21, 0), il(2026, 11, 20, 7, 0), 0),
        # Yom Kippur (Mon 2026-09-21) is closed: Sun 19:00 -> Tue 09:00 = 1 h + 0 + 1 h
        (il(2026, 9, 20, 19, 0), il(2026, 9, 22, 9, 0), 2),
        # Rosh Hashanah (Sat-Sun 2026-09-12/13): Fri 12:00 -> Mon 09:00 = 1 h + 0 + 0 + 1 h
        (il(2026, 9, 11, 12, 0), il(2026, 9, 14, 9, 0), 2),
        # a full week Sun 08:00 -> next Sun 08:00 = 5 x 12 h + 5 h
        (il(2026, 11, 15, 8, 0), il(2026, 11, 22, 8, 0), 65),
        # end before start -> 0, never negative
        (il(2026, 11, 18, 12, 0), il(2026, 11, 18, 9, 0), 0),
    ],
)
def test_business_seconds(cal: BusinessCalendar, start: datetime, end: datetime, hours: float):
    assert cal.business_seconds(start, end) == pytest.approx(hours * H)


def test_across_dst_change(cal: BusinessCalendar):
    # Israel leaves summer time on Sun 2026-10-25 at 02:00; opening hours are unaffected.
    assert cal.business_seconds(il(2026, 10, 22, 19, 0), il(2026, 10, 25, 9, 0)) == 7 * H
    # wall-clock across it is one hour longer than the local difference suggests
    start, end = il(2026, 10, 24, 12, 0), il(2026, 10, 25, 12, 0)
    assert (end.astimezone(UTC) - start.astimezone(UTC)) == timedelta(hours=25)


def test_utc_inputs_are_converted(cal: BusinessCalendar):
    start = datetime(2026, 11, 18, 7, 0, tzinfo=UTC)  # 09:00 in Israel (UTC+2)
    assert cal.business_seconds(start, start + timedelta(hours=2)) == 2 * H


def test_naive_datetimes_are_refused(cal: BusinessCalendar):
    with pytest.raises(ValueError):
        cal.business_seconds(datetime(2026, 11, 18, 9), datetime(2026, 11, 18, 10))


def test_extra_holidays_and_company_hours():
    cal = BusinessCalendar.from_config(
        Calendar(holidays=["2026-11-18"]), company_hours={"fri": None, "sat": "09:00-12:00"}
    )
    # Wed 2026-11-18 closed by the survey calendar
    assert cal.business_seconds(il(2026, 11, 18, 8, 0), il(2026, 11, 18, 20, 0)) == 0
    # this company is closed on Friday but open Saturday morning
    assert cal.business_seconds(il(2026, 11, 20, 8, 0), il(2026, 11, 21, 23, 0)) == 3 * H


def test_no_country_means_no_public_holidays():
    cal = BusinessCalendar.from_config(Calendar(country=None))
    assert cal.business_seconds(il(2026, 9, 21, 8, 0), il(2026, 9, 21, 20, 0)) == 12 * H


def test_bad_inputs_are_report_errors():
    with pytest.raises(ReportError, match="not a date"):
        BusinessCalendar.from_config(Calendar(holidays=["tomorrow"]))
    with pytest.raises(ReportError, match="country"):
        BusinessCalendar.from_config(Calendar(country="XX"))


def test_end_of_business_days(cal: BusinessCalendar):
    # Thu -> 1st business day Fri (close 13:00), 2nd Sun (close 20:00)
    assert cal.end_of_business_days(il(2026, 11, 19, 10, 0), 1) == il(2026, 11, 20, 13, 0)
    assert cal.end_of_business_days(il(2026, 11, 19, 10, 0), 2) == il(2026, 11, 22, 20, 0)
    # Sun 2026-09-20 -> Mon is Yom Kippur, so day 1 is Tuesday
    assert cal.end_of_business_days(il(2026, 9, 20, 10, 0), 1) == il(2026, 9, 22, 20, 0)


def test_vectorised_matches_scalar(cal: BusinessCalendar):
    """Their speed is a benchmark's business (bench/bench_calendar.py), not an assert."""
    rng = np.random.default_rng(7)
    n = 10_000
    base = pd.Timestamp("2026-09-01T00:00:00Z")
    starts = base + pd.to_timedelta(rng.integers(0, 60 * 24 * 90, n), unit="min")
    ends = starts + pd.to_timedelta(rng.integers(-60, 60 * 24 * 12, n), unit="min")
    many = cal.business_seconds_many(pd.Series(starts), pd.Series(ends))
    scalar = [cal.business_seconds(a, b) for a, b in zip(starts, ends, strict=True)]
    np.testing.assert_allclose(many, scalar)
    assert (many >= 0).all()


def test_vectorised_missing_values(cal: BusinessCalendar):
    s = pd.Series([pd.Timestamp("2026-11-18T07:00Z"), pd.NaT])
    e = pd.Series([pd.Timestamp("2026-11-18T08:00Z"), pd.Timestamp("2026-11-18T09:00Z")])
    out = cal.business_seconds_many(s, e)
    assert out[0] == H and np.isnan(out[1])
