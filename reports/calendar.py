"""Business time: how many seconds of a company's opening hours lie between two instants.

The calendar is a time zone, opening hours per weekday (half days allowed, a day may be
closed), the public holidays of a country (the ``holidays`` package) and extra closed
dates. Business time is computed by day arithmetic, not by walking minutes: every local
date gets its opening span, a cumulative sum of open seconds per date is kept, and

    business_seconds(a, b) = max(0, position(b) - position(a))

where ``position(t)`` is the number of open seconds from the start of the table to ``t``.
A reply that arrives before opening therefore counts as zero, never as negative time.
Opening hours are local wall-clock hours; daylight-saving changes happen at night, outside
them, so wall seconds inside opening hours are real seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays as holidays_lib
import numpy as np
import pandas as pd

from audit.errors import ReportError
from audit.models import WEEKDAYS, Calendar, opening_span

log = logging.getLogger(__name__)

_EPOCH = date(1970, 1, 1)
_DAY_NS = 86_400 * 10**9
_MARGIN_DAYS = 400  # the day table grows by at least this much when an instant falls outside


def _span_seconds(span: str | None) -> tuple[int, int]:
    if span is None:
        return 0, 0
    start, end = opening_span(span)
    return (
        start.hour * 3600 + start.minute * 60,
        end.hour * 3600 + end.minute * 60,
    )


def merged_hours(
    base: Mapping[str, str | None], override: Mapping[str, str | None] | None
) -> dict[str, str | None]:
    """The survey's opening hours with a company's per-day overrides on top."""
    out = {k.strip().lower()[:3]: v for k, v in base.items()}
    for day, span in (override or {}).items():
        key = day.strip().lower()[:3]
        if key not in WEEKDAYS:
            raise ReportError(f"unknown weekday {day!r} in company hours (use sun, mon, ... sat)")
        out[key] = span
    return out


@dataclass
class BusinessCalendar:
    """Opening hours in one time zone, with holidays. Build with ``from_config``."""

    timezone: str
    week: tuple[tuple[int, int], ...]  # (open, close) seconds after local midnight, Mon..Sun
    country: str | None = None
    extra_closed: frozenset[date] = frozenset()
    _base_day: int = field(default=0, init=False, repr=False)  # days since 1970-01-01
    _open: np.ndarray = field(default_factory=lambda: np.zeros(0), init=False, repr=False)
    _close: np.ndarray = field(default_factory=lambda: np.zeros(0), init=False, repr=False)
    _cum: np.ndarray = field(default_factory=lambda: np.zeros(1), init=False, repr=False)

    def __post_init__(self) -> None:
        self.tz = ZoneInfo(self.timezone)
        self._holiday_names: dict[date, str] = {}
        self._holiday_years: set[int] = set()

    # -- construction ----------------------------------------------------------------
    @classmethod
    def from_config(
        cls, cal: Calendar, company_hours: Mapping[str, str | None] | None = None
    ) -> BusinessCalendar:
        hours = merged_hours(cal.hours, company_hours)
        try:
            week = tuple(_span_seconds(hours.get(day)) for day in WEEKDAYS)
        except ValueError as exc:
            raise ReportError(f"opening hours: {exc}") from None
        extra: set[date] = set()
        for text in cal.holidays:
            try:
                extra.add(date.fromisoformat(str(text).strip()))
            except ValueError:
                raise ReportError(
                    f"calendar.holidays: {text!r} is not a date (use YYYY-MM-DD)"
                ) from None
        if cal.country:
            try:
                holidays_lib.country_holidays(cal.country)
            except NotImplementedError:
                raise ReportError(
                    f"calendar.country: the holidays package has no country {cal.country!r}"
                ) from None
        return cls(
            timezone=cal.timezone,
            week=week,
            country=cal.country,
            extra_closed=frozenset(extra),
        )

    # -- the day table ----------------------------------------------------------------
    def holidays_in(self, years: Iterable[int]) -> dict[date, str]:
        """Closed dates (public holidays and extra dates) of the given years, with names."""
        years = set(years)
        missing = sorted(years - self._holiday_years)
        if missing and self.country:
            for d, name in holidays_lib.country_holidays(self.country, years=missing).items():
                self._holiday_names[d] = name
        self._holiday_years |= set(missing)
        out = {d: n for d, n in self._holiday_names.items() if d.year in years}
        for d in self.extra_closed:
            if d.year in years:
                out.setdefault(d, "closed (survey calendar)")
        return out

    def _ensure(self, lo_day: int, hi_day: int) -> None:
        """Make the day table cover local days [lo_day, hi_day] (days since 1970-01-01)."""
        have_lo, have_hi = self._base_day, self._base_day + len(self._open) - 1
        if len(self._open) and lo_day >= have_lo and hi_day <= have_hi:
            return
        if len(self._open):
            lo_day, hi_day = min(lo_day, have_lo), max(hi_day, have_hi)
        lo_day -= _MARGIN_DAYS
        hi_day += _MARGIN_DAYS
        days = np.arange(lo_day, hi_day + 1)
        weekday = (days + 3) % 7  # 1970-01-01 was a Thursday (weekday 3)
        week = np.array(self.week, dtype=float)
        opens, closes = week[weekday, 0].copy(), week[weekday, 1].copy()
        first = _EPOCH + timedelta(days=int(lo_day))
        last = _EPOCH + timedelta(days=int(hi_day))
        for d in self.holidays_in(range(first.year, last.year + 1)):
            i = (d - _EPOCH).days - lo_day
            if 0 <= i < len(days):
                opens[i] = closes[i] = 0.0
        self._base_day = int(lo_day)
        self._open, self._close = opens, closes
        self._cum = np.concatenate([[0.0], np.cumsum(closes - opens)])

    def open_on(self, day: date) -> tuple[int, int] | None:
        """The local opening span of a date in seconds after midnight, None when closed."""
        n = (day - _EPOCH).days
        self._ensure(n, n)
        i = n - self._base_day
        if self._close[i] <= self._open[i]:
            return None
        return int(self._open[i]), int(self._close[i])

    # -- business time ----------------------------------------------------------------
    def _positions(self, local_ns: np.ndarray) -> np.ndarray:
        day = np.floor_divide(local_ns, _DAY_NS)
        sod = (local_ns - day * _DAY_NS) / 1e9
        self._ensure(int(day.min()), int(day.max()))
        i = (day - self._base_day).astype(np.int64)
        op, cl = self._open[i], self._close[i]
        return self._cum[i] + np.clip(sod, op, cl) - op

    def _local_ns(self, values: pd.Series | pd.DatetimeIndex) -> np.ndarray:
        idx = pd.DatetimeIndex(pd.to_datetime(values, utc=True))
        local = idx.tz_convert(self.tz).tz_localize(None).as_unit("ns")
        return local.asi8

    def business_seconds(self, start: datetime, end: datetime) -> float:
        """Open seconds between two aware instants; 0 when end is not after start."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("business_seconds needs timezone-aware datetimes")
        if end <= start:
            return 0.0
        a, b = (self._local_scalar(t) for t in (start, end))
        pos = self._positions(np.array([a, b], dtype=np.int64))
        return float(max(0.0, pos[1] - pos[0]))

    def _local_scalar(self, t: datetime) -> int:
        lt = t.astimezone(self.tz).replace(tzinfo=None)
        delta = lt - datetime(1970, 1, 1)
        return (delta.days * 86_400 + delta.seconds) * 10**9 + delta.microseconds * 1000

    def business_seconds_many(
        self, starts: pd.Series | pd.DatetimeIndex, ends: pd.Series | pd.DatetimeIndex
    ) -> np.ndarray:
        """Vectorised business_seconds; NaN where either instant is missing."""
        s = pd.Series(pd.to_datetime(starts, utc=True)).reset_index(drop=True)
        e = pd.Series(pd.to_datetime(ends, utc=True)).reset_index(drop=True)
        out = np.full(len(s), np.nan)
        ok = (s.notna() & e.notna()).to_numpy()
        if not ok.any():
            return out
        ps = self._positions(self._local_ns(s[ok]))
        pe = self._positions(self._local_ns(e[ok]))
        out[ok] = np.maximum(0.0, pe - ps)
        return out

    # -- promises -----------------------------------------------------------------------
    def end_of_business_days(self, start: datetime, n: int) -> datetime:
        """The closing instant of the n-th business day after the local date of ``start``.

        "We answer within 2 business days" of a message sent on Thursday means by the
        close of the second open day after Thursday. A day is a business day when it has
        opening hours and is not a holiday.
        """
        local = start.astimezone(self.tz)
        day = local.date()
        count = 0
        for _ in range(3660):
            day += timedelta(days=1)
            span = self.open_on(day)
            if span is None:
                continue
            count += 1
            if count >= n:
                close = datetime(day.year, day.month, day.day, tzinfo=self.tz) + timedelta(
                    seconds=span[1]
                )
                return close.astimezone(UTC)
        raise ReportError(f"no {n} business days within ten years of {start.isoformat()}")

    def describe(self) -> list[tuple[str, str]]:
        """(weekday, 'HH:MM-HH:MM' or 'closed') in Sunday-first order, for the methodology."""
        rows = []
        for name in ("sun", "mon", "tue", "wed", "thu", "fri", "sat"):
            op, cl = self.week[WEEKDAYS.index(name)]
            if cl <= op:
                rows.append((name, "closed"))
            else:
                rows.append(
                    (
                        name,
                        f"{op // 3600:02d}:{op % 3600 // 60:02d}-"
                        f"{cl // 3600:02d}:{cl % 3600 // 60:02d}",
                    )
                )
        return rows
