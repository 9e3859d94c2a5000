"""Clocks come in as arguments (STYLE 5). A shifted clock replays a survey in the past.

The demo uses ShiftedClock to replay a survey as if it had started days ago; the offset
is stored with every run and printed, so simulated time is never hidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class Clock:
    """Real time, timezone-aware UTC, minus an optional offset (0 for real surveys)."""

    offset_s: float = 0.0

    def now(self) -> datetime:
        return datetime.now(UTC) - timedelta(seconds=self.offset_s)

    @property
    def simulated(self) -> bool:
        return self.offset_s != 0.0

    def __call__(self) -> datetime:
        return self.now()


SYSTEM_CLOCK = Clock()
