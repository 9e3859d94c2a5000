"""One clock for the whole tool (STYLE 5, 7): real time unless pinned from outside.

Every command reads "now" from a Clock. By default it is the real clock. A test, the demo
or a consultant who replays a survey pins it with the ``AUDIT_CLOCK`` environment variable
(or ``audit --clock``), in one of these forms:

    2026-11-03T10:00+02:00                     starts at that instant and runs on from
                                               there (per process)
    2026-11-03T10:00+02:00@2026-12-04T01:00Z   that instant is what the real instant after
                                               the @ maps to: a fixed offset that every
                                               process agrees on (for a chain of commands)
    frozen:2026-11-03T10:00+02:00              never moves (reports, status)
    -7d, +90m, -3600s                          real time shifted by that much

The offset from real time is stored with every run and the report shows it in a banner,
so simulated time is never hidden.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from audit.errors import ConfigError

CLOCK_ENV = "AUDIT_CLOCK"
_DURATION = re.compile(r"^([+-])(\d+(?:\.\d+)?)([smhd])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Clock:
    """Real time, timezone-aware UTC, minus ``offset_s``; or one frozen instant.

    ``offset_s`` is real time minus the clock's time (positive: the clock is behind real
    time, as when a survey is replayed in the past). A frozen clock keeps the offset it had
    when it was made, for the record.
    """

    offset_s: float = 0.0
    frozen_at: datetime | None = None

    def now(self) -> datetime:
        if self.frozen_at is not None:
            return self.frozen_at
        return datetime.now(UTC) - timedelta(seconds=self.offset_s)

    @property
    def simulated(self) -> bool:
        return self.offset_s != 0.0 or self.frozen_at is not None

    def __call__(self) -> datetime:
        return self.now()

    @classmethod
    def starting_at(cls, instant: datetime, real_now: datetime | None = None) -> Clock:
        """A running clock that reads ``instant`` at ``real_now`` (default: now)."""
        real = real_now or datetime.now(UTC)
        return cls(offset_s=(real - _aware(instant)).total_seconds())

    @classmethod
    def frozen(cls, instant: datetime, real_now: datetime | None = None) -> Clock:
        instant = _aware(instant).astimezone(UTC)
        real = real_now or datetime.now(UTC)
        return cls(offset_s=(real - instant).total_seconds(), frozen_at=instant)

    def describe(self) -> str:
        if not self.simulated:
            return "real time"
        kind = f"frozen at {self.frozen_at.isoformat()}" if self.frozen_at else "running"
        return f"pinned ({kind}; {self.offset_s / 86400:+.3f} days behind real time)"


def _aware(t: datetime) -> datetime:
    if t.tzinfo is None:
        raise ValueError("needs a time zone (e.g. +02:00 or Z)")
    return t


def _instant(text: str) -> datetime:
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    return _aware(datetime.fromisoformat(value))


def parse_clock(text: str | None, real_now: datetime | None = None) -> Clock:
    """The clock that ``text`` (an AUDIT_CLOCK value, see the module doc) pins."""
    spec = (text or "").strip()
    if spec in ("", "real", "system"):
        return Clock()
    real = real_now or datetime.now(UTC)
    try:
        if spec.lower().startswith("frozen:"):
            return Clock.frozen(_instant(spec[len("frozen:") :]), real)
        m = _DURATION.match(spec)
        if m:
            sign = 1 if m.group(1) == "+" else -1
            return Clock(offset_s=-sign * float(m.group(2)) * _UNIT_S[m.group(3)])
        if "@" in spec:
            simulated, anchor = spec.split("@", 1)
            return Clock.starting_at(_instant(simulated), _instant(anchor))
        return Clock.starting_at(_instant(spec), real)
    except ValueError as exc:
        raise ConfigError(
            f"{CLOCK_ENV}={text!r} is not a clock ({exc}); use an ISO instant with a time zone "
            "(2026-11-03T10:00+02:00), INSTANT@REAL_INSTANT, frozen:INSTANT, or a shift "
            "such as -7d, +90m, -3600s"
        ) from None


_env_cache: dict[str, Clock] = {}


def current_clock() -> Clock:
    """The process's clock: ``AUDIT_CLOCK`` when set (read once per value), else real time."""
    spec = os.environ.get(CLOCK_ENV, "")
    if spec not in _env_cache:
        _env_cache[spec] = parse_clock(spec)
    return _env_cache[spec]


def pin_clock(spec: str) -> Clock:
    """Pin this process's clock (and its children's, through the environment) to ``spec``."""
    clock = parse_clock(spec)
    _env_cache[spec] = clock
    os.environ[CLOCK_ENV] = spec
    return clock


SYSTEM_CLOCK = Clock()
