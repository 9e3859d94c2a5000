"""`audit watch`: sync the mailbox once, or watch it (IMAP IDLE) until stopped."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

from audit.app.common import _as_dict
from audit.app.session import session
from audit.app.workspace import tls_mode_problem
from audit.clock import Clock, current_clock
from audit.config import (
    load_workspace,
)
from audit.errors import InboxError


def watch_mailbox(
    root: str | os.PathLike[str],
    once: bool = False,
    clock: Clock | None = None,
    stop: threading.Event | None = None,
    on_event: Callable[[Any], None] | None = None,
) -> Any:
    """Sync the mailbox (once) or watch it until stop is set; returns the sync stats."""
    clock = clock or current_clock()
    from inbox.watcher import Watcher

    ws = load_workspace(root)
    problem = tls_mode_problem(ws.survey.mailbox)  # instead of a long timeout, the cause
    if problem:
        raise InboxError(f"survey.yaml mailbox: {problem}")
    config = ws.survey.mailbox.model_dump(mode="json")
    with session(ws=ws, kind="watch", clock=clock, config=config) as s:
        watcher = Watcher(s.store, ws.survey.mailbox, ws.root, clock=clock, run_id=s.run_id)
        if once:
            stats = watcher.sync_once()
        else:
            stats = watcher.watch(stop or threading.Event(), on_event=on_event)
        s.finish(_as_dict(stats))
        return stats
