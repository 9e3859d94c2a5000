"""`audit alerts`: what changed for the worse since the previous wave, per company."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from audit.app.session import session
from audit.clock import Clock
from audit.errors import ReportError


@dataclass
class AlertList:
    wave: str
    previous: str | None
    alerts: list[Any] = field(default_factory=list)  # reports.changes.Alert
    closed: bool = True  # the wave's close has passed (else: what is known so far)

    def as_dict(self) -> dict[str, Any]:
        return {
            "wave": self.wave,
            "previous": self.previous,
            "closed": self.closed,
            "alerts": [a.as_dict() for a in self.alerts],
        }


def alerts(
    root: str | os.PathLike[str], wave: str | None = None, clock: Clock | None = None
) -> AlertList:
    """The alerts of ``wave`` (default: the latest) against the wave before it."""
    import pandas as pd

    from reports.changes import changes_for_worse, previous_wave
    from reports.metrics import compute, load_frames

    with session(root, clock=clock) as s:
        frames = load_frames(s.store)
        if frames.waves.empty:
            raise ReportError("no wave recorded yet: run `audit run --submit` first")
        names = frames.waves.sort_values(["created_at", "id"])["name"].tolist()
        wave = wave or names[-1]
        if wave not in names:
            raise ReportError(f"no wave named {wave!r} (waves: {', '.join(names)})")
        prev = previous_wave(frames.waves, wave)
        if prev is None:
            return AlertList(wave, None)
        now = s.clock.now()
        results = compute(frames, s.ws.survey, s.ws.companies, now)
        row = frames.waves.loc[frames.waves["name"] == wave].iloc[0]
        close = row["close_at"]
        # a wave without a close is judged as it stands (no rule says to wait)
        closed = close is None or pd.isna(close) or pd.Timestamp(close) <= now
        found = changes_for_worse(results, wave, prev, s.ws.survey.tiers, closed=closed)
        return AlertList(wave, prev, found, closed)
