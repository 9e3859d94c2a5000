"""One watcher per mailbox, however many are started (issue 13).

On SQLite the lock is a file next to the store, held with ``fcntl.flock`` (exclusive,
non-blocking) for the watcher's life; on PostgreSQL it is ``pg_try_advisory_lock`` on a
key derived from the mailbox (host, user, folders), held on a connection of its own.
Either is let go by the operating system or the server when the holder dies, however it
dies, so a waiting watcher takes over by polling. Who holds it (pid, host, since) is
written in the store's ``meta`` table for the others to say.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa

from audit.clock import Clock
from audit.models import Mailbox
from audit.store import Store, meta

log = logging.getLogger(__name__)

POLL_S = 2.0  # a waiting watcher tries to take the lock over this often


def mailbox_name(mailbox: Mailbox) -> str:
    return f"{mailbox.user}@{mailbox.host}:{mailbox.resolved_port}/{','.join(mailbox.folders)}"


def mailbox_key(mailbox: Mailbox) -> tuple[str, int]:
    """(hex digest, signed 64-bit advisory key) of the mailbox: host + user + folders."""
    digest = hashlib.sha256(mailbox_name(mailbox).encode()).hexdigest()
    key = int(digest[:16], 16)
    return digest[:16], key - (1 << 64) if key >= 1 << 63 else key


class MailboxLock:
    """The right to watch one mailbox. ``try_acquire`` never blocks; ``release`` lets go."""

    def __init__(self, store: Store, mailbox: Mailbox, lock_dir: Path, clock: Clock):
        self.store, self.mailbox, self.clock = store, mailbox, clock
        self.name = mailbox_name(mailbox)
        self.digest, self.key = mailbox_key(mailbox)
        self.meta_key = f"watcher:{self.digest}"
        self.path = lock_dir / f".watch-{self.digest}.lock"
        self._file: IO[str] | None = None
        self._conn: Any = None

    @property
    def on_postgresql(self) -> bool:
        return self.store.engine.dialect.name == "postgresql"

    def try_acquire(self) -> bool:
        if self.on_postgresql:
            if self._conn is None:
                self._conn = self.store.engine.connect()
            got = bool(
                self._conn.execute(sa.select(sa.func.pg_try_advisory_lock(self.key))).scalar()
            )
            self._conn.commit()  # the lock is the session's, not the transaction's
        else:
            fh = self.path.open("a+", encoding="utf-8")
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                fh.close()
                return False
            self._file, got = fh, True
        if got:
            self._write_holder()
        return got

    def _write_holder(self) -> None:
        text = f"pid {os.getpid()} on {socket.gethostname()} since {self.clock.now():%Y-%m-%d %H:%M:%S} UTC"
        with self.store.tx() as c:
            c.execute(meta.delete().where(meta.c.key == self.meta_key))
            c.execute(meta.insert().values(key=self.meta_key, value=text))

    def holder(self) -> str:
        with self.store.engine.connect() as c:
            text = c.execute(sa.select(meta.c.value).where(meta.c.key == self.meta_key)).scalar()
        return str(text) if text else "unknown"

    def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.execute(sa.select(sa.func.pg_advisory_unlock(self.key)))
                self._conn.commit()
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
        if self._file is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def lock_dir(store_url: str, root: Path) -> Path:
    """Where the lock file goes: beside the SQLite store file, else in the workspace."""
    url = sa.engine.make_url(store_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).resolve().parent
    return root


@contextmanager
def watching(
    store: Store,
    mailbox: Mailbox,
    root: Path,
    clock: Clock,
    stop: threading.Event,
    on_notice: Callable[[str], None],
    wait: bool = True,
) -> Iterator[bool]:
    """Hold the mailbox's lock for the block; yields False when it could not be had (the
    watcher was stopped while waiting, or ``wait`` is False and another holds it)."""
    lock = MailboxLock(store, mailbox, lock_dir(str(store.engine.url), root), clock)
    try:
        waited = False
        while not lock.try_acquire():
            if not wait:
                on_notice(f"another watcher ({lock.holder()}) holds mailbox {lock.name}")
                yield False
                return
            if not waited:
                on_notice(f"another watcher ({lock.holder()}) holds mailbox {lock.name}; waiting")
                waited = True
            if stop.wait(POLL_S):
                yield False
                return
        if waited:
            on_notice(f"took over mailbox {lock.name}")
        yield True
    finally:
        lock.release()
