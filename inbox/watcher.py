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
"""

from __future__ import annotations

import contextlib
import hashlib
import imaplib
import json
import logging
import random
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from audit.clock import SYSTEM_CLOCK, Clock
from audit.errors import AuthError, InboxError
from audit.logs import install_secret_filter
from audit.models import Channel, Mailbox, MessageKind
from audit.store import Store
from inbox import imapio
from inbox.classify import Classification, classify
from inbox.credentials import imap_password, oauth2_token, uses_oauth2
from inbox.match import Candidate, Match, candidates_from_rows, match
from inbox.origin import TEMPERROR, Origin, TxtLookup, caching, system_lookup, verify_origin
from inbox.parse import ParsedMessage, parse_headers, parse_message
from inbox.relevance import Window, body_reason, light_kind, window

log = logging.getLogger(__name__)

BODY_FETCH_CAP = 2_000_000  # bytes of a message fetched in the loop
FETCH_BATCH = 1000  # UIDs per FETCH of header fields
BATCH_BYTES = 16_000_000  # bodies held, and stored in one transaction, at a time
POLL_INTERVAL_S = 30.0  # when the server has no IDLE
BACKOFF_BASE_S = 1.0
BACKOFF_MAX_S = 120.0
CLOCK_WARN_S = 2.0
EVENT_KINDS = (MessageKind.HUMAN, MessageKind.AUTO_ACK, MessageKind.BOUNCE)
# Unmatched messages recorded this recently are matched again on each sync: a fast reply
# can be recorded while its submission is still being written.
REMATCH_WINDOW = timedelta(minutes=15)
REMATCH_READ_BYTES = 2 << 20
TEXT_STORE_CHARS = 100_000
DKIM_MAX_BYTES = 32 << 20  # a larger message is not verified (temperror, with the reason)
# What the first look at every message fetches: the header fields that matching, the
# duplicate check, the light row and the bulk-mail test read (inbox/relevance.py). Bodies
# follow only for messages that can belong to the survey.
HEADER_FIELDS = (
    "From", "Sender", "To", "Cc", "Delivered-To", "X-Original-To", "Subject", "Message-ID",
    "In-Reply-To", "References", "Date", "Return-Path", "Content-Type", "Auto-Submitted",
    "List-Unsubscribe", "List-Id", "List-Post", "Precedence",
)  # fmt: skip
HEADER_ITEMS = [
    "INTERNALDATE",
    "RFC822.SIZE",
    f"BODY.PEEK[HEADER.FIELDS ({' '.join(HEADER_FIELDS)})]",
]
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # socket errors, timeouts, connection refused/reset (ssl.SSLError included)
    imaplib.IMAP4.abort,
    imaplib.IMAP4.error,
    IMAPClientError,
    EOFError,
)


@dataclass
class SyncStats:
    fetched: int = 0
    bodies: int = 0  # messages whose body was fetched (the others: headers only)
    new: int = 0
    duplicates: int = 0
    matched: int = 0
    unmatched: int = 0
    unparseable: int = 0
    errors: int = 0
    rescans: int = 0
    folders: int = 0
    seconds: float = 0.0
    kinds: dict[str, int] = field(default_factory=dict)

    def add(self, other: SyncStats) -> None:
        names = ("fetched", "bodies", "new", "duplicates", "matched", "unmatched", "unparseable")
        for name in names:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors += other.errors
        self.rescans += other.rescans
        self.folders = max(self.folders, other.folders)
        self.seconds += other.seconds
        for k, v in other.kinds.items():
            self.kinds[k] = self.kinds.get(k, 0) + v

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


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


@dataclass
class _Fetched:
    """One message of a batch as fetched: its body when ordinary-sized, parsed then."""

    uid: int
    internaldate: datetime
    size: int
    header: bytes
    raw: bytes | None  # None: above body_fetch_cap (fetched capped later) or expunged
    parsed: ParsedMessage | None = None
    fingerprint: str | None = None  # None: not known before the body is fetched
    light: ParsedMessage | None = None  # headers only: stored without its body
    light_why: tuple[MessageKind, str] | None = None


@dataclass
class _Ready:
    """A new message of a batch, classified, matched, its .eml on disk; not stored yet."""

    uid: int
    internaldate: datetime
    recorded_at: datetime
    parsed: ParsedMessage
    fingerprint: str
    cls: Classification
    m: Match | None
    eml_path: str | None  # None: a light row, headers only (no body fetched, no .eml)
    eml_sha256: str | None
    origin: Origin | None = None


def _row(folder: str, uidvalidity: int, r: _Ready) -> dict[str, Any]:
    """The ``messages`` row of a new message."""
    parsed, cls, m = r.parsed, r.cls, r.m
    return dict(
        folder=folder,
        uidvalidity=uidvalidity,
        uid=r.uid,
        message_id=parsed.message_id,
        fingerprint=r.fingerprint,
        internaldate=r.internaldate,
        date_header=parsed.date,
        recorded_at=r.recorded_at,
        sender=parsed.sender,
        recipients=", ".join(parsed.recipients),
        subject=parsed.subject,
        text=parsed.text[:TEXT_STORE_CHARS] if r.eml_path else None,
        size=parsed.size,
        kind=cls.kind.value,
        kind_reasons=json.dumps(cls.reasons, ensure_ascii=False),
        helpdesk=cls.helpdesk,
        submission_id=m.submission_id if m else None,
        match_method=m.method.value if m else None,
        review="pending" if (m is None or cls.doubt) else None,
        parse_error=parsed.parse_error,
        eml_path=r.eml_path,
        eml_sha256=r.eml_sha256,
        in_reply_to=parsed.in_reply_to,
        references=" ".join(parsed.references) or None,
        dkim=r.origin.verdict if r.origin else None,
        dkim_domain=r.origin.domain if r.origin else None,
        dkim_evidence=r.origin.evidence_json() if r.origin else None,
    )


def fingerprint(msg: ParsedMessage, raw: bytes, date_header: str | None = None) -> str:
    """sha256 of the Message-ID; without one, of From + Date + Subject + body."""
    if msg.message_id:
        return hashlib.sha256(b"mid:" + msg.message_id.strip().lower().encode()).hexdigest()
    body = raw.split(b"\r\n\r\n", 1)[-1] if b"\r\n\r\n" in raw else raw.split(b"\n\n", 1)[-1]
    h = hashlib.sha256(b"nomid:")
    for part in (msg.sender or "", date_header or "", msg.subject or ""):
        h.update(part.encode("utf-8", "replace") + b"\x00")
    h.update(body.replace(b"\r\n", b"\n").rstrip())
    return h.hexdigest()


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
        self._password = password
        self._client: IMAPClient | None = None
        self._folders: list[str] | None = None
        # The connection's class: an IMAPClient subclass that records its commands lets a
        # test see what was fetched from a real server.
        self.imap_client_class: type[IMAPClient] = IMAPClient
        self.use_idle: bool | None = None  # None: when the server offers it
        self.poll_interval_s = min(POLL_INTERVAL_S, mailbox.idle_round_s)
        self.backoff_base_s = BACKOFF_BASE_S
        self.backoff_max_s = BACKOFF_MAX_S
        self.body_fetch_cap = BODY_FETCH_CAP
        self.reconnects = 0
        self.measure_clock_at_start = True  # issue 4 item 7: once per watch()
        self.clock_offset_s: float | None = None
        self.totals = SyncStats()
        self._rematched_for: frozenset[Candidate] = frozenset()
        self._window: Window | None = None  # set at the start of each sync
        self._on_event: Callable[[NewMessage], None] | None = None
        # Called once the server has answered "+ idling": a fault point for tests that
        # must deliver mail while the watcher is in IDLE (forced, not hoped for).
        self.on_idle: Callable[[], None] | None = None
        install_secret_filter(password)

    # -- connection ------------------------------------------------------------------
    def connect(self) -> IMAPClient:
        """Connect and log in. AuthError when the server refuses the credentials."""
        box = self.mailbox
        ctx: ssl.SSLContext | None = None
        if box.tls in ("ssl", "starttls"):
            ctx = ssl.create_default_context(cafile=box.ca_file)
        try:
            client = self.imap_client_class(
                box.host,
                port=box.resolved_port,
                ssl=box.tls == "ssl",
                ssl_context=ctx,
                timeout=box.timeout_s,
            )
        except ssl.SSLCertVerificationError as exc:
            raise InboxError(f"TLS certificate of {box.host} not trusted: {exc}") from None
        client.normalise_times = False
        try:
            if box.tls == "starttls":
                client.starttls(ctx)
            self._login(client)
        except BaseException:
            with contextlib.suppress(Exception):
                client.shutdown()
            raise
        self._client = client
        return client

    def _login(self, client: IMAPClient) -> None:
        box = self.mailbox
        try:
            if uses_oauth2(box):
                token = oauth2_token(box)
                install_secret_filter(token)
                client.oauth2_login(box.user, token)
            else:
                if self._password is None:
                    self._password = imap_password(box)
                    install_secret_filter(self._password)
                client.login(box.user, self._password)
        except LoginError as exc:
            text = str(exc)
            if "UNAVAILABLE" in text.upper() or "temporary" in text.lower():
                raise InboxError(f"the IMAP server cannot check logins now: {text}") from None
            raise AuthError(
                f"the IMAP server {box.host} refused the login for user {box.user!r} "
                f"({text}); check {box.password_env} or the keyring entry"
            ) from None

    def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.logout()
        except Exception:
            with contextlib.suppress(Exception):
                client.shutdown()

    def folders(self, client: IMAPClient) -> list[str]:
        """mailbox.folders plus the SPECIAL-USE \\Junk folder when asked for."""
        if self._folders is None:
            names = list(self.mailbox.folders)
            if self.mailbox.junk:
                try:
                    junk = client.find_special_folder(b"\\Junk")
                except Exception:
                    junk = None
                if junk and junk not in names:
                    names.append(junk)
            self._folders = names
        return self._folders

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

    def _connect_or_raise(self) -> IMAPClient:
        try:
            return self.connect()
        except (AuthError, InboxError):
            raise
        except TRANSIENT_ERRORS as exc:
            raise InboxError(
                f"cannot reach the IMAP server {self.mailbox.host}:"
                f"{self.mailbox.resolved_port}: {exc}"
            ) from None

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
                "synced %d folder(s) in %.2fs: %d new, %d duplicates, %d matched, %d unmatched",
                stats.folders,
                stats.seconds,
                stats.new,
                stats.duplicates,
                stats.matched,
                stats.unmatched,
            )
        return stats

    def _add_event(self, submission_id: int, kind: str, at: datetime, message_id: int) -> None:
        """A matched reply is a contact event at its arrival time (INTERNALDATE)."""
        self.store.add_contact_event(
            submission_id=submission_id,
            channel=Channel.EMAIL.value,
            kind=kind,
            at=at,
            source="imap",
            now=self.clock.now(),
            message_id=message_id,
        )

    def _rematch_pending(self, rows: list[Any], candidates: list[Candidate]) -> int:
        """Try again to match messages waiting for review: a reply can be recorded while
        its submission is still being written. Only messages recorded before the latest
        submission change (and within REMATCH_WINDOW) can match now, so only those are
        re-read; with nothing changed since the last pass, nothing is. Manual decisions stay."""
        changes = [t for r in rows for t in (r.finished_at, r.clicked_at) if t is not None]
        if not changes or frozenset(candidates) == self._rematched_for:
            return 0
        self._rematched_for = frozenset(candidates)
        matched = 0
        pending = self.store.messages_for_review(
            recorded_from=self.clock.now() - REMATCH_WINDOW, recorded_until=max(changes)
        )
        for row in pending:
            if row.submission_id is not None or not row.eml_path:
                continue
            path = self.workspace / row.eml_path
            if not path.is_file():
                continue
            with path.open("rb") as f:
                parsed = parse_message(f.read(REMATCH_READ_BYTES))
            m = self._match(parsed, candidates, row.internaldate)
            if m is None:
                continue
            cls = self._classify(parsed, m, candidates)  # unmatched, it could not be human
            self.store.update_message(
                row.id,
                submission_id=m.submission_id,
                match_method=m.method.value,
                review="pending" if cls.doubt else None,
                kind=cls.kind.value,
                kind_reasons=json.dumps(cls.reasons, ensure_ascii=False),
            )
            if cls.kind in EVENT_KINDS:
                self._add_event(m.submission_id, cls.kind.value, row.internaldate, row.id)
            log.info("message %d matched on a later sync: submission %d", row.id, m.submission_id)
            matched += 1
        return matched

    def _sync_folder(
        self, client: IMAPClient, folder: str, candidates: list[Candidate], stats: SyncStats
    ) -> None:
        info = client.select_folder(folder, readonly=True)  # EXAMINE
        uidvalidity = int(info[b"UIDVALIDITY"])
        checkpoint = self.store.checkpoint(folder)
        if checkpoint is None or checkpoint[0] != uidvalidity:
            if checkpoint is not None:
                stats.rescans += 1
                log.warning(
                    "%s: UIDVALIDITY changed %d -> %d; rescanning (deduplicated by Message-ID)",
                    folder,
                    checkpoint[0],
                    uidvalidity,
                )
            start = 1
        else:
            start = checkpoint[1] + 1
        # IMAPClient 4: fetch("N:*") raises; search, then drop UIDs below N ("N:*" always
        # returns the last message even when its UID is below N).
        # Every UID below UIDNEXT (as of this EXAMINE) exists now or was expunged, and the
        # search below sees all that exist: the checkpoint may advance to UIDNEXT - 1.
        uidnext = int(info.get(b"UIDNEXT") or 0)
        uids = sorted(u for u in client.search(["UID", f"{start}:*"]) if u >= start)
        for i in range(0, len(uids), FETCH_BATCH):
            self._sync_batch(
                client, folder, uidvalidity, uids[i : i + FETCH_BATCH], candidates, stats
            )
        done = max([start - 1, *uids[-1:], uidnext - 1])
        if checkpoint != (uidvalidity, done):
            self.store.set_checkpoint(folder, uidvalidity, done, self.clock.now())

    def _sync_batch(
        self,
        client: IMAPClient,
        folder: str,
        uidvalidity: int,
        batch: list[int],
        candidates: list[Candidate],
        stats: SyncStats,
    ) -> None:
        """The header fields and sizes of up to FETCH_BATCH messages in one FETCH; which of
        them can belong to the survey, from those alone (inbox/relevance.py); then the
        bodies of those and the store, a part of at most BATCH_BYTES of bodies at a time
        (a message read from its headers only weighs nothing)."""
        if not batch:
            return
        heads = imapio.fetch_headers(client, batch, HEADER_ITEMS)
        looks = self._first_look(batch, heads, candidates)
        part: list[int] = []
        part_bytes = 0
        for uid in batch:
            f = looks.get(uid)
            size = int((heads.get(uid) or {}).get(b"RFC822.SIZE") or 0)
            size = 0 if f is not None and f.light is not None else min(size, self.body_fetch_cap)
            if part and part_bytes + size > BATCH_BYTES:
                self._sync_part(client, folder, uidvalidity, part, heads, looks, candidates, stats)
                part, part_bytes = [], 0
            part.append(uid)
            part_bytes += size
        self._sync_part(client, folder, uidvalidity, part, heads, looks, candidates, stats)

    def _first_look(
        self, batch: list[int], heads: dict[int, dict[bytes, Any]], candidates: list[Candidate]
    ) -> dict[int, _Fetched]:
        """Every message of the batch read from its header fields; those that cannot belong
        to the survey marked ``light`` (stored without a body), with their fingerprint (of
        their Message-ID: a light message always has one). One store query for the batch's
        thread references."""
        win = self._window or window(candidates, self.clock.now() - REMATCH_WINDOW)
        looks: dict[int, _Fetched] = {}
        refs: set[str] = set()
        for uid in batch:
            data = heads.get(uid)
            if data is None:
                continue
            try:
                header = _header_bytes(data)
                f = _Fetched(
                    uid,
                    imapio.aware_utc(data.get(b"INTERNALDATE")),
                    int(data.get(b"RFC822.SIZE") or 0),
                    header,
                    None,
                    light=parse_headers(header),
                )
            except Exception:  # left to the whole-message path, which records the error
                continue
            looks[uid] = f
            assert f.light is not None
            refs.update(i for i in [f.light.in_reply_to, *f.light.references] if i)
        thread_ids = self.store.matched_message_ids(refs) if refs else set()
        for f in looks.values():  # in UID order: a reply may answer an earlier one
            head = f.light
            assert head is not None
            try:
                reason = body_reason(head, f.internaldate, candidates, win, thread_ids)
            except Exception:
                log.exception("UID %d: relevance check failed; fetching its body", f.uid)
                reason = "relevance check failed"
            if reason is None:
                f.light_why = light_kind(head, f.internaldate, win)
                f.fingerprint = fingerprint(head, b"")
            else:
                f.light = None
                if head.message_id:
                    thread_ids.add(head.message_id)
        return looks

    def _sync_part(
        self,
        client: IMAPClient,
        folder: str,
        uidvalidity: int,
        batch: list[int],
        heads: dict[int, dict[bytes, Any]],
        looks: dict[int, _Fetched],
        candidates: list[Candidate],
        stats: SyncStats,
    ) -> None:
        """Fetch the bodies of the messages that can belong to the survey, parse,
        deduplicate, classify and match them, write their .eml files, then record the
        part (light rows included) in ONE store transaction with the folder's checkpoint.

        A crash anywhere before the commit leaves the checkpoint before the part: it is
        fetched again and deduplicated by fingerprint, and its .eml files (named by their
        sha256, written via rename) are written again to the same names. No message row
        with a body fetched exists without its .eml, evidence row and contact event.
        """
        light = {u for u, f in looks.items() if f.light is not None}
        # Bodies of the ordinary-sized messages in one round trip; a large one is fetched
        # alone, capped, in _fetch_body.
        small = [
            u
            for u in batch
            if u in heads
            and u not in light
            and int(heads[u].get(b"RFC822.SIZE") or 0) <= self.body_fetch_cap
        ]
        bodies = {
            u: bytes(d.get(b"BODY[]") or b"")
            for u, d in (client.fetch(small, ["BODY.PEEK[]"]) if small else {}).items()
        }
        fetched: list[_Fetched] = []
        for uid in batch:
            data = heads.get(uid)
            if data is not None:  # None: expunged between SEARCH and FETCH
                stats.fetched += 1
                if uid in light:
                    fetched.append(looks[uid])
                    continue
                stats.bodies += 1
                try:
                    fetched.append(self._read(uid, data, bodies.get(uid)))
                except TRANSIENT_ERRORS:
                    raise
                except Exception:
                    stats.errors += 1
                    log.exception("%s UID %d: could not record this message", folder, uid)
        # One query for the batch's duplicates (a rescan after a UIDVALIDITY change, the
        # same message delivered twice, a batch fetched again after a crash); ``known``
        # then takes in the batch's own new messages as they come.
        known = self.store.known_fingerprints({f.fingerprint for f in fetched if f.fingerprint})
        ready: list[_Ready] = []
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
        self._record(folder, uidvalidity, batch[-1], ready, stats)

    def _read(self, uid: int, data: dict[bytes, Any], body: bytes | None) -> _Fetched:
        """A fetched message; parsed and fingerprinted when its body is in hand. A large one
        (above body_fetch_cap) gets the fingerprint of its Message-ID, when it has one, so a
        duplicate is never fetched."""
        header = _header_bytes(data)
        size = int(data.get(b"RFC822.SIZE") or 0)
        f = _Fetched(uid, imapio.aware_utc(data.get(b"INTERNALDATE")), size, header, body)
        if body is not None:
            f.parsed = parse_message(body)
            f.parsed.size = size or len(body)
            f.fingerprint = fingerprint(f.parsed, body, _header_value(header, b"date"))
        else:
            head = parse_headers(header)
            if head.message_id:
                f.fingerprint = fingerprint(head, header)
        return f

    def _prepare(
        self,
        client: IMAPClient,
        f: _Fetched,
        known: set[str],
        ready: list[_Ready],
        candidates: list[Candidate],
        stats: SyncStats,
    ) -> _Ready | None:
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
            return _Ready(f.uid, f.internaldate, now, head, f.fingerprint, cls, None, None, None)
        raw, truncated, parsed, fp = f.raw, False, f.parsed, f.fingerprint
        if raw is None:
            raw, truncated = self._fetch_body(client, f.uid, f.size)
            if raw is None:  # expunged meanwhile
                stats.fetched -= 1
                return None
        if parsed is None or fp is None:
            parsed = parse_message(raw)
            parsed.size = f.size or len(raw)
            if truncated:
                note = f"body cut at {len(raw)} of {f.size} bytes for parsing"
                parsed.parse_error = f"{parsed.parse_error}; {note}" if parsed.parse_error else note
            date_raw = _header_value(f.header, b"date")
            checked = fp  # a large message's Message-ID fingerprint, looked up already
            fp = fingerprint(parsed, raw if not truncated else f.header + raw[:65536], date_raw)
            if fp in known or (fp != checked and self.store.has_message(fp)):
                stats.duplicates += 1
                return None
        m = self._match(parsed, candidates, f.internaldate, ready)
        cls = self._classify(parsed, m, candidates, ready)
        now = self.clock.now()
        rel, digest = self._keep_eml(client, f.uid, raw, truncated, f.size)
        origin = self._verify_origin(raw, truncated, rel, f.size, parsed)
        return _Ready(f.uid, f.internaldate, now, parsed, fp, cls, m, rel, digest, origin)

    def _verify_origin(
        self, raw: bytes, truncated: bool, rel: str, size: int, parsed: ParsedMessage
    ) -> Origin:
        """The DKIM verdict, on the whole message (a large one read back from its .eml).
        Never raises: whatever goes wrong is a temperror with the reason."""
        try:
            if truncated:
                head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
                if b"dkim-signature:" not in head.lower():  # unsigned: no need to read it
                    return verify_origin(head + b"\r\n\r\n", parsed.sender_domain, self._lookup)
                if size > DKIM_MAX_BYTES:
                    return Origin(
                        TEMPERROR, None, None,
                        f"not verified: {size} bytes, above the {DKIM_MAX_BYTES}-byte cap",
                        parsed.sender_domain,
                    )  # fmt: skip
                raw = (self.workspace / rel).read_bytes()
            return verify_origin(raw, parsed.sender_domain, self._lookup)
        except Exception as exc:
            log.warning("DKIM verification failed: %s", exc)
            return Origin(
                TEMPERROR, None, None, f"verifier error: {type(exc).__name__}: {exc}",
                parsed.sender_domain,
            )  # fmt: skip

    def _record(
        self, folder: str, uidvalidity: int, last_uid: int, ready: list[_Ready], stats: SyncStats
    ) -> None:
        """The batch's new messages, their evidence and contact events and the checkpoint, in
        one transaction; then counts, log lines and on_event, in UID order."""
        rows = [_row(folder, uidvalidity, r) for r in ready]
        kinds = [r.cls.kind.value if r.m and r.cls.kind in EVENT_KINDS else None for r in ready]
        now = self.clock.now()
        failed: set[int] = set()
        try:
            ids = self.store.add_messages(rows, kinds, (folder, uidvalidity, last_uid), now)
        except TRANSIENT_ERRORS:
            raise
        except Exception:
            # One bad message must not cost the others: record them one at a time.
            log.warning("%s: recording a batch failed; recording its messages one by one", folder)
            ids = []
            for i, (row, kind) in enumerate(zip(rows, kinds, strict=True)):
                try:
                    ids.extend(self.store.add_messages([row], [kind], None, now))
                except TRANSIENT_ERRORS:
                    raise
                except Exception:
                    failed.add(i)
                    ids.append(None)
                    stats.errors += 1
                    log.exception("%s UID %d: could not record this message", folder, ready[i].uid)
            self.store.set_checkpoint(folder, uidvalidity, last_uid, now)
        for i, (r, msg_id) in enumerate(zip(ready, ids, strict=True)):
            if i in failed:
                continue
            if msg_id is None:  # stored meanwhile by another process
                stats.duplicates += 1
                continue
            self._stored(folder, r, msg_id, stats)

    def _stored(self, folder: str, r: _Ready, msg_id: int, stats: SyncStats) -> None:
        parsed, cls, m = r.parsed, r.cls, r.m
        stats.new += 1
        stats.kinds[cls.kind.value] = stats.kinds.get(cls.kind.value, 0) + 1
        if parsed.parse_error and not parsed.text and not parsed.subject and r.eml_path:
            stats.unparseable += 1
        if m:
            stats.matched += 1
        else:
            stats.unmatched += 1
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

    def _classify(
        self,
        parsed: ParsedMessage,
        m: Match | None,
        candidates: list[Candidate],
        batch: list[_Ready] | None = None,
    ) -> Classification:
        """Classified with its match, the values sent to that company and the classes of
        the earlier messages of its thread (stored, or earlier in this batch)."""
        try:
            sent: tuple[str, ...] = ()
            thread: list[str] = []
            if m is not None:
                c = next((c for c in candidates if c.submission_id == m.submission_id), None)
                if c is not None:
                    sent = (*c.sent, c.reply_address)
                refs = [i for i in [parsed.in_reply_to, *parsed.references] if i]
                if refs:
                    earlier = self.store.thread_kinds(refs) + [
                        (r.m.submission_id if r.m else None, r.cls.kind.value)
                        for r in batch or ()
                        if r.parsed.message_id in refs
                    ]
                    thread = [k for sid, k in earlier if sid == m.submission_id and k]
            return classify(parsed, m, sent=sent, thread=thread)
        except Exception as exc:  # a classifier bug must not lose the message: review it
            log.exception("classification failed")
            return Classification(
                MessageKind.HUMAN if m else MessageKind.UNRELATED,
                [f"doubt: classifier error: {exc}"],
                doubt=True,
                suggested=MessageKind.HUMAN,
            )

    def _match(
        self,
        parsed: ParsedMessage,
        candidates: list[Candidate],
        at: datetime,
        batch: list[_Ready] | None = None,
    ) -> Match | None:
        """``batch``: messages of this batch not stored yet, for thread matching."""

        def thread_lookup(ids: list[str]) -> int | None:
            sid = self.store.submission_for_message_ids(ids)
            if sid is None:
                sid = next(
                    (r.m.submission_id for r in batch or () if r.m and r.parsed.message_id in ids),
                    None,
                )
            return sid

        try:
            return match(parsed, candidates, thread_lookup, at=at)
        except Exception:
            log.exception("matching failed; the message goes to review")
            return None

    def _fetch_body(self, client: IMAPClient, uid: int, size: int) -> tuple[bytes | None, bool]:
        return imapio.fetch_body(client, uid, size, self.body_fetch_cap)

    def _keep_eml(
        self, client: IMAPClient, uid: int, raw: bytes, truncated: bool, size: int
    ) -> tuple[str, str]:
        chunks = (
            imapio.body_slices(client, uid, raw, size, self.body_fetch_cap) if truncated else None
        )
        return imapio.keep_eml(self.workspace, uid, raw, chunks)

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
            parsed = parse_message(raw)
            parsed.size = size or len(raw)
            if row.message_id and parsed.message_id != row.message_id:
                continue  # another message under that UID
            if truncated:
                note = f"body cut at {len(raw)} of {size} bytes for parsing"
                parsed.parse_error = f"{parsed.parse_error}; {note}" if parsed.parse_error else note
            rel, digest = self._keep_eml(client, uid, raw, truncated, size)
            origin = self._verify_origin(raw, truncated, rel, size, parsed)
            cls = self._classify(parsed, None, [])  # unmatched: what it reads as
            self.store.attach_eml(
                int(row.id),
                rel,
                digest,
                self.clock.now(),
                text=parsed.text[:TEXT_STORE_CHARS],
                kind=cls.kind.value,
                kind_reasons=json.dumps(cls.reasons, ensure_ascii=False),
                helpdesk=cls.helpdesk,
                parse_error=parsed.parse_error,
                dkim=origin.verdict,
                dkim_domain=origin.domain,
                dkim_evidence=origin.evidence_json(),
            )
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
        self._drop()
        delay = min(self.backoff_max_s, self.backoff_base_s * (2**failures))
        delay *= random.uniform(0.5, 1.0)  # jitter
        self.reconnects += 1
        log.warning(
            "IMAP connection lost (%s: %s); reconnecting in %.1fs",
            type(exc).__name__,
            exc,
            delay,
        )
        stop.wait(delay)
        return failures + 1

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.shutdown()

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
        checkpoint = self.store.checkpoint(folder)
        if checkpoint is None or checkpoint[0] != int(info.get(b"UIDVALIDITY") or 0):
            return True
        return int(info.get(b"UIDNEXT") or 0) > checkpoint[1] + 1

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


def check_login(mailbox: Mailbox, password: str | None = None) -> str:
    """Log in and out once (``audit check``): a one-line description, or InboxError."""
    probe = Watcher.__new__(Watcher)
    probe.mailbox = mailbox
    probe._password = password
    probe._client = None
    probe._folders = None
    probe.imap_client_class = IMAPClient
    install_secret_filter(password)
    client = probe._connect_or_raise()
    try:
        idle = "IDLE" if client.has_capability("IDLE") else "no IDLE (polling)"
        folders = probe.folders(client)
    finally:
        probe.close()
    return (
        f"{mailbox.user}@{mailbox.host}:{mailbox.resolved_port} ({mailbox.tls}), {idle}, "
        f"watching {', '.join(folders)}"
    )


def _header_bytes(data: dict[bytes, Any]) -> bytes:
    """The header fields of a FETCH answer (BODY[HEADER.FIELDS (...)] or BODY[HEADER])."""
    for key, value in data.items():
        if isinstance(key, bytes) and key.startswith(b"BODY[HEADER"):
            return bytes(value or b"")
    return b""


def _header_value(header: bytes, name: bytes) -> str | None:
    for line in header.split(b"\n"):
        if line.lower().startswith(name + b":"):
            return line.split(b":", 1)[1].strip().decode("ascii", "replace")
    return None


__all__ = ["NewMessage", "SyncStats", "Watcher", "check_login", "fingerprint"]
