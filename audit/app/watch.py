"""`audit watch`: sync the mailbox once, or watch it (IMAP IDLE) until stopped."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from audit.app.common import _as_dict
from audit.app.mailbox_lock import watching
from audit.app.session import session
from audit.app.workspace import tls_mode_problem
from audit.clock import Clock, current_clock
from audit.config import (
    load_workspace,
)
from audit.errors import InboxError

log = logging.getLogger(__name__)


def watch_mailbox(
    root: str | os.PathLike[str],
    once: bool = False,
    clock: Clock | None = None,
    stop: threading.Event | None = None,
    on_event: Callable[[Any], None] | None = None,
    on_notice: Callable[[str], None] | None = None,
) -> Any:
    """Sync the mailbox (once) or watch it until stop is set; returns the sync stats.

    One watcher per mailbox (audit.app.mailbox_lock): a second one waits and takes over
    when the first dies; a second ``once`` sync says so and syncs nothing.
    """
    clock = clock or current_clock()
    from inbox.watcher import SyncStats, Watcher

    ws = load_workspace(root)
    problem = tls_mode_problem(ws.survey.mailbox)  # instead of a long timeout, the cause
    if problem:
        raise InboxError(f"survey.yaml mailbox: {problem}")
    config = ws.survey.mailbox.model_dump(mode="json")
    stop = stop or threading.Event()
    with session(ws=ws, kind="watch", clock=clock, config=config) as s:
        with watching(
            s.store, ws.survey.mailbox, ws.root, clock, stop, on_notice or log.warning, not once
        ) as held:
            watcher = Watcher(s.store, ws.survey.mailbox, ws.root, clock=clock, run_id=s.run_id)
            if not held:
                stats = SyncStats()
            elif once:
                stats = watcher.sync_once()
            else:
                stats = watcher.watch(stop, on_event=on_event)
        s.finish(_as_dict(stats))
        return stats
