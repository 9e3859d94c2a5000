"""`audit report`: build one wave's report folder."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from audit.app.session import session
from audit.clock import Clock, current_clock


def report(
    root: str | os.PathLike[str],
    lang: str = "en",
    wave: str | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    clock: Clock | None = None,
    as_of: datetime | None = None,
) -> Any:
    """Build the report as of now (or `as_of`, e.g. the wave's close)."""
    clock = clock or current_clock()
    from reports.render import build_report

    with session(root, kind="report", clock=clock) as s:
        paths = build_report(
            s.store,
            s.ws,
            out_dir=Path(out_dir) if out_dir else None,
            lang=lang,
            now=as_of or clock.now(),
            wave=wave,
        )
        s.finish({"index": str(paths.index_html)})
        return paths
