"""Watch the survey mailbox: sync by UID, IDLE in short rounds, reconnect, never lose mail.

Facts behind the design are in NOTES-mail.md. In short:

- every folder is opened read-only (EXAMINE) and fetched with BODY.PEEK, so the
  consultant's \\Seen flags are untouched; headers and sizes first, then at most
  ``BODY_FETCH_CAP`` bytes of a body in the loop (a 25 MiB message is streamed to its
  .eml in slices, never held whole);
- messages are taken in batches of ``FETCH_BATCH`` UIDs (bodies ``BATCH_BYTES`` at a
  time): each message parsed once, deduplicated by fingerprint (Message-ID, else a hash
  of From, Date, Subject and body), its raw .eml written as
  ``evidence/mail/<sha256>.eml``; then the batch's rows, evidence and contact events and
  the folder's checkpoint (UIDVALIDITY, last UID) are stored in one transaction. A crash
  before that commit means the batch is fetched again and deduplicated; a new
  UIDVALIDITY means a rescan from UID 1, deduplicated the same way, so nothing is counted
  twice;
- INTERNALDATE (the server's arrival time, aware UTC) is the reply time, so mail that
  arrived while the watcher was down keeps its true time;
- IDLE rounds of ``mailbox.idle_round_s`` with a command after each, polling when the
  server has no IDLE, a socket timeout always, reconnect with exponential backoff and
  jitter, and a catch-up by UID after every reconnect. A refused login raises AuthError
  at once; it is never retried in a loop.

The Watcher drives the sync; its parts live apart (issue 12): the IMAP connection and
primitives in inbox/imapio.py, the sync's pure decisions (which UIDs, headers first,
parts, checkpoint, fingerprint) in inbox/syncplan.py, the .eml files and stored rows in
inbox/evidence.py, and the counts in audit/stats.py's SyncStats.
"""

from __future__ import annotations

import logging
import random
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from imapclient import IMAPClient

from audit.clock import SYSTEM_CLOCK, Clock
from audit.errors import AuthError, InboxError
from audit.models import Mailbox, MessageKind
from audit.stats import SyncStats
from audit.store import Store
from inbox import assign, evidence, imapio
from inbox import syncplan as plan
from inbox.classify import Classification
from inbox.evidence import Ready
from inbox.imapio import TRANSIENT_ERRORS, check_login
from inbox.match import Candidate, Match, candidates_from_rows
from inbox.origin import Origin, TxtLookup, caching, system_lookup
from inbox.parse import ParsedMessage
from inbox.relevance import Window, window
from inbox.syncplan import BODY_FETCH_CAP, Fetched, fingerprint

log = logging.getLogger(__name__)

POLL_INTERVAL_S = 30.0  # when the server has no IDLE
BACKOFF_BASE_S = 1.0
BACKOFF_MAX_S = 120.0
CLOCK_WARN_S = 2.0
# Unmatched messages recorded this recently are matched again on each sync: a fast reply
# can be recorded while its submission is still being written.
REMATCH_WINDOW = timedelta(minutes=15)


@dataclass(frozen=True)
class NewMessage:
    """Passed to ``watch(on_event=...)`` for every message stored."""

    id: int
    folder: str
    uid: int
    kind: MessageKind
    internaldate: datetime
    recorded_at: datetime
    submission_id: int | None
    method: str | None
    subject: str


class Watcher:
    """Sync and watch one mailbox into the store."""

    def __init__(
        self,
        store: Store,
        mailbox: Mailbox,
        workspace: Path,
        password: str | None = None,
        clock: Clock = SYSTEM_CLOCK,
        run_id: int | None = None,
        dns_lookup: TxtLookup | None = None,
    ):
        """``dns_lookup``: TXT lookups for DKIM keys (default: the system's DNS, refused
        when AUDIT_BLOCK_OUTSIDE=1); each sync asks for a key once."""
        self.store = store
        self.dns_lookup = dns_lookup or system_lookup()
        self._lookup = caching(self.dns_lookup)
        self.mailbox = mailbox
        self.workspace = Path(workspace)
        self.clock = clock
        self.run_id = run_id
        self.conn = imapio.Connection(mailbox, password)
        self.use_idle: bool | None = None  # None: when the server offers it
        self.poll_interval_s = min(POLL_INTERVAL_S, mailbox.idle_round_s)
        self.backoff_base_s = BACKOFF_BASE_S
        self.backoff_max_s = BACKOFF_MAX_S
        self.body_fetch_cap = BODY_FETCH_CAP
        self.fetch_batch = plan.FETCH_BATCH  # UIDs per header FETCH
        self.reconnects = 0
        self.measure_clock_at_start = True  # issue 4 item 7: once per watch()
        self.clock_offset_s: float | None = None
        self.totals = SyncStats()
        self._rematched_for: frozenset[Candidate] = frozenset()
        self._window: Window | None = None  # set at the start of each sync
        self._on_event: Callable[[NewMessage], None] | None = None
        self._eml: evidence.EmlWriter | None = None  # while a part is read
        # Called once the server has answered "+ idling": a fault point for tests that
        # must deliver mail while the watcher is in IDLE (forced, not hoped for).
        self.on_idle: Callable[[], None] | None = None

    # -- connection (inbox/imapio.py) ----------------------------------------------------
    @property
    def imap_client_class(self) -> type[IMAPClient]:
        """The connection's class: an IMAPClient subclass that records its commands lets
        a test see what was fetched from a real server."""
        return self.conn.client_class

    @imap_client_class.setter
    def imap_client_class(self, cls: type[IMAPClient]) -> None:
        self.conn.client_class = cls

    @property
    def _client(self) -> IMAPClient | None:
        return self.conn.client

    def connect(self) -> IMAPClient:
        """Connect and log in. AuthError when the server refuses the credentials."""
        return self.conn.connect()

    def close(self) -> None:
        self.conn.close()

    def folders(self, client: IMAPClient) -> list[str]:
        """mailbox.folders plus the SPECIAL-USE \\Junk folder when asked for."""
        return self.conn.folders(client)

    def _connect_or_raise(self) -> IMAPClient:
        return self.conn.connect_or_raise()

    # -- sync ------------------------------------------------------------------------
    def sync_once(self) -> SyncStats:
        """Connect (when needed), catch up every folder by UID, return what happened."""
        own = self._client is None
        client = self._client or self._connect_or_raise()
        try:
            return self._sync_all(client)
        finally:
            if own:
                self.close()

    def _sync_all(self, client: IMAPClient) -> SyncStats:
        started = time.monotonic()
        stats = SyncStats()
        self._lookup = caching(self.dns_lookup)  # keys fetched once per sync
        rows = self.store.all_submissions()
        candidates = candidates_from_rows(rows)
        self._window = window(candidates, self.clock.now() - REMATCH_WINDOW)
        stats.matched += self._rematch_pending(rows, candidates)
        for folder in self.folders(client):
            self._sync_folder(client, folder, candidates, stats)
            stats.folders += 1
        stats.seconds = time.monotonic() - started
        self.totals.add(stats)
        if stats.new or stats.duplicates:
            log.info(
                "synced %d folder(s) in %.2fs: %s",
                stats.folders,
                stats.seconds,
                stats.line(("new", "duplicates", "matched", "unmatched")),
            )
        return stats

    def _rematch_pending(self, rows: list[Any], candidates: Sequence[Candidate]) -> int:
        """Try again to match messages waiting for review: a reply can be recorded while
        its submission is still being written. Only messages recorded before the latest
        submission change (and within REMATCH_WINDOW) can match now, so only those are
        re-read; with nothing changed since the last pass, nothing is. Manual decisions stay."""
        changes = [t for r in rows for t in (r.finished_at, r.clicked_at) if t is not None]
        if not changes or frozenset(candidates) == self._rematched_for:
            return 0
        self._rematched_for = frozenset(candidates)
        pending = self.store.messages_for_review(
            recorded_from=self.clock.now() - REMATCH_WINDOW, recorded_until=max(changes)
        )
        return assign.rematch(self.store, self.workspace, pending, candidates, self.clock)

    def _sync_folder(
        self, client: IMAPClient, folder: str, candidates: Sequence[Candidate], stats: SyncStats
    ) -> None:
        info = client.select_folder(folder, readonly=True)  # EXAMINE
        uidvalidity = int(info[b"UIDVALIDITY"])
        checkpoint = self.store.checkpoint(folder)
        start, rescan = plan.sync_start(checkpoint, uidvalidity)
        if rescan:
            assert checkpoint is not None
            stats.rescans += 1
            log.warning(
                "%s: UIDVALIDITY changed %d -> %d; rescanning (deduplicated by Message-ID)",
                folder,
                checkpoint[0],
                uidvalidity,
            )
        # IMAPClient 4: fetch("N:*") raises; search, then drop UIDs below N.
        uids = plan.uids_from(client.search(["UID", f"{start}:*"]), start)
        batches = list(plan.batches(uids, self.fetch_batch))
        for batch, heads, ahead in imapio.HeadersAhead(client, batches, plan.HEADER_ITEMS):
            self._sync_batch(client, folder, uidvalidity, batch, heads, candidates, stats, ahead)
        done = plan.checkpoint_after(start, uids, int(info.get(b"UIDNEXT") or 0))
        if checkpoint != (uidvalidity, done):
            self.store.set_checkpoint(folder, uidvalidity, done, self.clock.now())

    def _sync_batch(
        self,
        client: IMAPClient,
        folder: str,
        uidvalidity: int,
        batch: list[int],
        heads: dict[int, dict[bytes, Any]],
        candidates: Sequence[Candidate],
        stats: SyncStats,
        ahead: Callable[[], None] = lambda: None,
    ) -> None:
        """The header fields and sizes of up to FETCH_BATCH messages in one FETCH; which of
        them can belong to the survey, from those alone (inbox/relevance.py); then the
        bodies of those and the store, a part of at most BATCH_BYTES of bodies at a time
        (a message read from its headers only weighs nothing)."""
        if not batch:
            return
        looks = plan.look_at_headers(batch, heads)
        refs = plan.thread_refs(looks)
        thread_ids = self.store.matched_message_ids(refs) if refs else set()
        win = self._window or window(candidates, self.clock.now() - REMATCH_WINDOW)
        plan.choose_light(looks, candidates, win, thread_ids)
        parts = plan.parts(batch, heads, looks, self.body_fetch_cap)
        for n, part in enumerate(parts, 1):
            then = ahead if n == len(parts) else lambda: None  # the last part's bodies in
            self._sync_part(
                client, folder, uidvalidity, part, heads, looks, candidates, stats, then
            )

    def _sync_part(
        self,
        client: IMAPClient,
        folder: str,
        uidvalidity: int,
        batch: list[int],
        heads: dict[int, dict[bytes, Any]],
        looks: dict[int, Fetched],
        candidates: Sequence[Candidate],
        stats: SyncStats,
        then: Callable[[], None],
    ) -> None:
        """Fetch the bodies of the messages that can belong to the survey, parse,
        deduplicate, classify and match them, write their .eml files, then record the
        part (light rows included) in ONE store transaction with the folder's checkpoint.

        A crash anywhere before the commit leaves the checkpoint before the part: it is
        fetched again and deduplicated by fingerprint, and its .eml files (named by their
        sha256, written via rename) are written again to the same names. No message row
        with a body fetched exists without its .eml, evidence row and contact event.
        """
        small = plan.small_bodies(batch, heads, looks, self.body_fetch_cap)
        bodies = {
            u: bytes(d.get(b"BODY[]") or b"")
            for u, d in (client.fetch(small, ["BODY.PEEK[]"]) if small else {}).items()
        }
        fetched = plan.read_part(folder, batch, heads, looks, bodies, stats)
        if all(f.raw is not None or f.light is not None for f in fetched):
            then()  # no body left to fetch (a large or vanished one): the connection is free
        # One query for the batch's duplicates (a rescan after a UIDVALIDITY change, the
        # same message delivered twice, a batch fetched again after a crash); ``known``
        # then takes in the batch's own new messages as they come.
        known = self.store.known_fingerprints({f.fingerprint for f in fetched if f.fingerprint})
        ready: list[Ready] = []
        # The part's .eml files are written on two threads while the next messages are
        # read; all of them are on disk (or failed) before the part is stored.
        with evidence.EmlWriter(self.workspace) as self._eml:
            try:
                for f in fetched:
                    try:
                        r = self._prepare(client, f, known, ready, candidates, stats)
                    except TRANSIENT_ERRORS:
                        raise  # the connection is gone: reconnect and catch up from here
                    except Exception:
                        stats.errors += 1
                        log.exception("%s UID %d: could not record this message", folder, f.uid)
                        continue
                    if r is not None:
                        ready.append(r)
                        known.add(r.fingerprint)
            finally:
                writer, self._eml = self._eml, None
        ready = writer.written(folder, ready, stats)
        now = self.clock.now()
        for r, msg_id in evidence.record(
            self.store, folder, uidvalidity, batch[-1], ready, now, stats
        ):
            evidence.count_stored(stats, r)
            self._stored(folder, r, msg_id)

    def _prepare(
        self,
        client: IMAPClient,
        f: Fetched,
        known: set[str],
        ready: list[Ready],
        candidates: Sequence[Candidate],
        stats: SyncStats,
    ) -> Ready | None:
        """A new message classified, matched and its .eml on disk; None for a duplicate or a
        message expunged meanwhile. ``known``: fingerprints stored or earlier in the batch;
        ``ready``: the batch's new messages so far."""
        if f.fingerprint is not None and f.fingerprint in known:
            stats.duplicates += 1
            return None
        if f.light is not None and f.light_why is not None and f.fingerprint is not None:
            head, (kind, why) = f.light, f.light_why
            head.size = f.size
            cls = Classification(kind, [why])
            now = self.clock.now()
            return Ready(f.uid, f.internaldate, now, head, f.fingerprint, cls, None, None, None)
        raw, truncated, parsed, fp = f.raw, False, f.parsed, f.fingerprint
        if raw is None:
            raw, truncated = self._fetch_body(client, f.uid, f.size)
            if raw is None:  # expunged meanwhile
                stats.fetched -= 1
                return None
        if parsed is None or fp is None:
            parsed = plan.parse_raw(raw, f.size, truncated)
            date_raw = plan.header_value(f.header, b"date")
            checked = fp  # a large message's Message-ID fingerprint, looked up already
            fp = fingerprint(parsed, raw if not truncated else f.header + raw[:65536], date_raw)
            if fp in known or (fp != checked and self.store.has_message(fp)):
                stats.duplicates += 1
                return None
        m = self._match(parsed, candidates, f.internaldate, ready)
        cls = self._classify(parsed, m, candidates, ready) if m is not None else assign.UNREAD
        now = self.clock.now()
        rel, digest = self._keep_eml(client, f.uid, raw, truncated, f.size)
        origin = self._verify_origin(raw, truncated, rel, f.size, parsed)
        return Ready(f.uid, f.internaldate, now, parsed, fp, cls, m, rel, digest, origin)

    def _verify_origin(
        self, raw: bytes, truncated: bool, rel: str, size: int, parsed: ParsedMessage
    ) -> Origin:
        return evidence.check_origin(
            self.workspace, raw, truncated, rel, size, parsed, self._lookup
        )

    def _stored(self, folder: str, r: Ready, msg_id: int) -> None:
        parsed, cls, m = r.parsed, r.cls, r.m
        log.info(
            "%s UID %d: %s%s from %s, arrived %s -> %s",
            folder,
            r.uid,
            cls.kind.value,
            f" ({cls.helpdesk})" if cls.helpdesk else "",
            parsed.sender_domain or "?",
            r.internaldate.isoformat(),
            f"submission {m.submission_id} by {m.method.value}" if m else "review",
        )
        if self._on_event is not None:
            event = NewMessage(
                id=msg_id,
                folder=folder,
                uid=r.uid,
                kind=cls.kind,
                internaldate=r.internaldate,
                recorded_at=r.recorded_at,
                submission_id=m.submission_id if m else None,
                method=m.method.value if m else None,
                subject=parsed.subject,
            )
            try:
                self._on_event(event)
            except Exception:
                log.exception("on_event callback failed")

    def _match(
        self,
        parsed: ParsedMessage,
        candidates: Sequence[Candidate],
        at: datetime,
        batch: list[Ready],
    ) -> Match | None:
        return assign.match_message(
            parsed, candidates, at, self.store.submission_for_message_ids, batch
        )

    def _classify(
        self,
        parsed: ParsedMessage,
        m: Match | None,
        candidates: Sequence[Candidate],
        batch: list[Ready],
    ) -> Classification:
        return assign.classify_message(parsed, m, candidates, self.store.thread_kinds, batch)

    def _fetch_body(self, client: IMAPClient, uid: int, size: int) -> tuple[bytes | None, bool]:
        return imapio.fetch_body(client, uid, size, self.body_fetch_cap)

    def _keep_eml(
        self, client: IMAPClient, uid: int, raw: bytes, truncated: bool, size: int
    ) -> tuple[str, str]:
        if self._eml is not None and not truncated:
            return self._eml.keep(uid, raw)
        return evidence.keep_eml(
            client, self.workspace, uid, raw, truncated, size, self.body_fetch_cap
        )

    # -- a light row's body, later -----------------------------------------------------
    def fetch_light_body(self, row: Any) -> bool:
        """The body of a message stored from its headers only (a ``messages`` row without
        .eml), fetched by UID when ``audit review`` assigns it: its .eml written and kept as
        evidence, its text, class (what it reads as), DKIM verdict and parse problems
        stored. By Message-ID instead when the folder's UIDVALIDITY changed. False when the
        message is no longer on the server; InboxError when the server cannot be reached."""
        own = self._client is None
        client = self._client or self._connect_or_raise()
        try:
            return self._fetch_light_body(client, row)
        except TRANSIENT_ERRORS as exc:
            raise InboxError(
                f"cannot fetch message #{row.id} from {self.mailbox.host}: {exc}"
            ) from None
        finally:
            if own:
                self.close()

    def _fetch_light_body(self, client: IMAPClient, row: Any) -> bool:
        info = client.select_folder(row.folder, readonly=True)
        uids: list[int] = []
        if int(info[b"UIDVALIDITY"]) == int(row.uidvalidity):
            uids.append(int(row.uid))
        if row.message_id:
            uids += [u for u in client.search(["HEADER", "Message-ID", row.message_id])]
        for uid in dict.fromkeys(uids):
            data = client.fetch([uid], ["RFC822.SIZE"]).get(uid)
            if data is None:
                continue  # expunged
            size = int(data.get(b"RFC822.SIZE") or 0)
            raw, truncated = self._fetch_body(client, uid, size)
            if raw is None:
                continue
            parsed = plan.parse_raw(raw, size, truncated)
            if row.message_id and parsed.message_id != row.message_id:
                continue  # another message under that UID
            rel, digest = self._keep_eml(client, uid, raw, truncated, size)
            origin = self._verify_origin(raw, truncated, rel, size, parsed)
            cls = self._classify(parsed, None, [], [])  # unmatched: what it reads as
            values = evidence.body_values(parsed, cls, origin)
            self.store.attach_eml(int(row.id), rel, digest, self.clock.now(), **values)
            log.info("message %d: body fetched by UID %d for review", row.id, uid)
            return True
        return False

    # -- watching --------------------------------------------------------------------
    def watch(
        self, stop: threading.Event, on_event: Callable[[NewMessage], None] | None = None
    ) -> SyncStats:
        """Sync, then IDLE (or poll) until ``stop`` is set; reconnect on any failure."""
        self._on_event = on_event
        failures = 0
        try:
            while not stop.is_set():
                try:
                    client = self._client or self.connect()
                    if self.measure_clock_at_start and self.clock_offset_s is None:
                        self._measure_quietly()
                    self._sync_all(client)  # catch-up by UID after every (re)connect
                    failures = 0
                    self._watch_connected(client, stop)
                except AuthError:
                    raise
                except InboxError as exc:
                    if isinstance(exc.__cause__, ssl.SSLCertVerificationError):
                        raise
                    failures = self._backoff(stop, failures, exc)
                except ssl.SSLCertVerificationError as exc:
                    raise InboxError(f"TLS certificate not trusted: {exc}") from None
                except TRANSIENT_ERRORS as exc:
                    failures = self._backoff(stop, failures, exc)
        finally:
            self.close()
            self._on_event = None
        return self.totals

    def _backoff(self, stop: threading.Event, failures: int, exc: BaseException) -> int:
        self.conn.drop()
        jitter = random.uniform(0.5, 1.0)
        delay = plan.backoff_delay(failures, self.backoff_base_s, self.backoff_max_s, jitter)
        self.reconnects += 1
        log.warning(
            "IMAP connection lost (%s: %s); reconnecting in %.1fs",
            type(exc).__name__,
            exc,
            delay,
        )
        stop.wait(delay)
        return failures + 1

    def _watch_connected(self, client: IMAPClient, stop: threading.Event) -> None:
        idle = self.use_idle if self.use_idle is not None else client.has_capability("IDLE")
        folders = self.folders(client)
        while not stop.is_set():
            if idle:
                info = client.select_folder(folders[0], readonly=True)
                if self._behind(folders[0], info):
                    self._sync_all(client)  # arrived between the sync and this EXAMINE
                    continue
                self._idle_round(client, stop)
            else:
                stop.wait(self.poll_interval_s)
                client.noop()
            if stop.is_set():
                break
            self._sync_all(client)  # the command after each round; all folders

    def _behind(self, folder: str, info: dict[bytes, Any]) -> bool:
        return plan.behind(
            self.store.checkpoint(folder),
            int(info.get(b"UIDVALIDITY") or 0),
            int(info.get(b"UIDNEXT") or 0),
        )

    def _idle_round(self, client: IMAPClient, stop: threading.Event) -> None:
        """One IDLE round: until the server reports something, the round ends, or stop."""
        imapio.idle_round(
            client,
            stop,
            self.mailbox.idle_round_s,
            on_idle=self.on_idle,
            still_current=lambda: self._client is client,
        )

    # -- clock -----------------------------------------------------------------------
    def _measure_quietly(self) -> None:
        try:
            self.clock_offset_s = self.measure_clock_offset()
        except TRANSIENT_ERRORS:
            raise
        except Exception as exc:  # e.g. a server that refuses CREATE: not a reason to stop
            self.clock_offset_s = float("nan")
            log.warning("could not measure the IMAP server's clock offset: %s", exc)

    def measure_clock_offset(self) -> float:
        """Server clock minus ours, in seconds (APPEND a probe, read its INTERNALDATE).

        INTERNALDATE has whole seconds, so the figure is good to about +-0.5 s.
        """
        own = self._client is None
        client = self._client or self._connect_or_raise()
        try:
            offset = imapio.server_clock_offset(client)
        finally:
            if own:
                self.close()
        self.clock_offset_s = offset
        if self.run_id is not None:
            self.store.update_run(self.run_id, server_clock_offset_s=offset)
        if abs(offset) > CLOCK_WARN_S:
            log.warning(
                "the IMAP server's clock is %+.1f s off ours; reply times use the server's "
                "INTERNALDATE, submission times use ours",
                offset,
            )
        else:
            log.info("IMAP server clock offset %+.2f s", offset)
        return offset


__all__ = ["NewMessage", "SyncStats", "Watcher", "check_login", "fingerprint"]
