"""One way for a command to open what it needs: the workspace, the store, the clock and,
for commands that record what they did, a row in ``runs`` (STYLE 2).

    with session(root, kind="report", clock=clock) as s:
        ...  s.ws, s.store, s.clock, s.run_id
        s.finish({"index": ...})

The store is closed however the block ends; a run that was begun and not finished keeps
``finished_at`` empty, which is how a crashed or interrupted run looks in the store.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from audit import __version__
from audit.clock import Clock, current_clock
from audit.config import Workspace, load_workspace
from audit.store import Store


@dataclass
class Session:
    ws: Workspace
    store: Store
    clock: Clock
    run_id: int | None = None

    def finish(self, summary: Any = None) -> None:
        """Record the run's end (and its summary) when the command began one."""
        if self.run_id is not None:
            self.store.update_run(self.run_id, finished_at=self.clock.now(), summary=summary)


@contextmanager
def session(
    root: str | os.PathLike[str] | None = None,
    *,
    kind: str | None = None,
    clock: Clock | None = None,
    config: dict[str, Any] | None = None,
    ws: Workspace | None = None,
) -> Iterator[Session]:
    """Open the workspace (or use ``ws``) and its store; begin a run of ``kind`` if given."""
    clock = clock or current_clock()
    if ws is None:
        if root is None:
            raise ValueError("session() needs a workspace root or a loaded workspace")
        ws = load_workspace(root)
    store = Store.open(ws.store_url)
    try:
        run_id = None
        if kind is not None:
            run_id = store.begin_run(
                kind, __version__, config=config, clock_offset_s=clock.offset_s, now=clock.now()
            )
        yield Session(ws, store, clock, run_id)
    finally:
        store.close()
