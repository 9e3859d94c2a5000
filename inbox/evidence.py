"""What a sync keeps of a message (issue 12: the Watcher split along its seams): its raw
.eml on disk (named by sha256; a huge one written from slices), its DKIM verdict, its
``messages`` row, and the batch's rows, evidence, contact events and checkpoint stored
in one transaction (one at a time when the batch will not go in whole).
"""

from __future__ import annotations

import functools
import json
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from imapclient import IMAPClient

from audit.models import MessageKind
from audit.stats import SyncStats
from audit.store import Store
from inbox import imapio
from inbox.classify import Classification
from inbox.match import Match
from inbox.origin import TEMPERROR, Origin, TxtLookup, verify_origin
from inbox.parse import ParsedMessage

log = logging.getLogger(__name__)

EVENT_KINDS = (MessageKind.HUMAN, MessageKind.AUTO_ACK, MessageKind.BOUNCE)
TEXT_STORE_CHARS = 100_000
DKIM_MAX_BYTES = 32 << 20  # a larger message is not verified (temperror, with the reason)


@dataclass
class Ready:
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


def message_row(folder: str, uidvalidity: int, r: Ready) -> dict[str, Any]:
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
        kind_reasons=_reasons_json(tuple(cls.reasons)),
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


@functools.lru_cache(maxsize=256)
def _reasons_json(reasons: tuple[str, ...]) -> str:
    """The reasons as stored (the light rows of a sync share a few: made once each)."""
    return json.dumps(list(reasons), ensure_ascii=False)


def body_values(parsed: ParsedMessage, cls: Classification, origin: Origin) -> dict[str, Any]:
    """What a light row learns when its body is fetched later (``Store.attach_eml``)."""
    return dict(
        text=parsed.text[:TEXT_STORE_CHARS],
        kind=cls.kind.value,
        kind_reasons=json.dumps(cls.reasons, ensure_ascii=False),
        helpdesk=cls.helpdesk,
        parse_error=parsed.parse_error,
        dkim=origin.verdict,
        dkim_domain=origin.domain,
        dkim_evidence=origin.evidence_json(),
    )


def keep_eml(
    client: IMAPClient,
    workspace: Path,
    uid: int,
    raw: bytes,
    truncated: bool,
    size: int,
    cap: int,
) -> tuple[str, str]:
    """The raw message as evidence/mail/<sha256>.eml; a truncated one is fetched whole,
    a slice at a time, into its file. (path relative to the workspace, sha256)"""
    chunks = imapio.body_slices(client, uid, raw, size, cap) if truncated else None
    return imapio.keep_eml(workspace, uid, raw, chunks)


class EmlWriter:
    """A part's .eml files written on two threads while the sync reads on (creating a file
    is mostly the kernel's time: 0.02-1 ms on these VMs, thousands of files in a large
    first sync). Leaving the ``with`` block waits for every write; ``written`` then keeps
    the messages whose file is on disk, so no row is stored without its .eml."""

    def __init__(self, workspace: Path):
        self.workspace = workspace
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="eml")
        self._writes: dict[int, Future[None]] = {}

    def __enter__(self) -> EmlWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True)

    def keep(self, uid: int, raw: bytes) -> tuple[str, str]:
        """keep_eml's answer now (path relative to the workspace, sha256); the file is
        written on a thread."""
        rel, digest = imapio.eml_name(raw)
        self._writes[uid] = self._pool.submit(imapio.write_eml, self.workspace, uid, raw, rel)
        return rel, digest

    def written(self, folder: str, ready: list[Ready], stats: SyncStats) -> list[Ready]:
        """After the block: the messages whose .eml is on disk; one whose file could not be
        written is not stored (counted as an error, as a message that fails otherwise)."""
        kept: list[Ready] = []
        for r in ready:
            w = self._writes.get(r.uid)
            exc = w.exception() if w is not None else None
            if exc is not None:
                stats.errors += 1
                log.error("%s UID %d: could not record this message: %s", folder, r.uid, exc)
                continue
            kept.append(r)
        return kept


def check_origin(
    workspace: Path,
    raw: bytes,
    truncated: bool,
    rel: str,
    size: int,
    parsed: ParsedMessage,
    lookup: TxtLookup,
) -> Origin:
    """The DKIM verdict, on the whole message (a large one read back from its .eml).
    Never raises: whatever goes wrong is a temperror with the reason."""
    try:
        if truncated:
            head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
            if b"dkim-signature:" not in head.lower():  # unsigned: no need to read it
                return verify_origin(head + b"\r\n\r\n", parsed.sender_domain, lookup)
            if size > DKIM_MAX_BYTES:
                return Origin(
                    TEMPERROR, None, None,
                    f"not verified: {size} bytes, above the {DKIM_MAX_BYTES}-byte cap",
                    parsed.sender_domain,
                )  # fmt: skip
            raw = (workspace / rel).read_bytes()
        return verify_origin(raw, parsed.sender_domain, lookup)
    except Exception as exc:
        log.warning("DKIM verification failed: %s", exc)
        return Origin(
            TEMPERROR, None, None, f"verifier error: {type(exc).__name__}: {exc}",
            parsed.sender_domain,
        )  # fmt: skip


def record(
    store: Store,
    folder: str,
    uidvalidity: int,
    last_uid: int,
    ready: list[Ready],
    now: datetime,
    stats: SyncStats,
) -> list[tuple[Ready, int]]:
    """The batch's new messages, their evidence and contact events and the checkpoint, in
    one transaction; the messages stored (with their ids), in UID order. One bad message
    must not cost the others: when the batch fails, its messages are stored one by one
    (those that fail counted as errors; those stored meanwhile by another process as
    duplicates)."""
    rows = [message_row(folder, uidvalidity, r) for r in ready]
    kinds = [r.cls.kind.value if r.m and r.cls.kind in EVENT_KINDS else None for r in ready]
    failed: set[int] = set()
    try:
        ids = store.add_messages(rows, kinds, (folder, uidvalidity, last_uid), now)
    except imapio.TRANSIENT_ERRORS:
        raise
    except Exception:
        log.warning("%s: recording a batch failed; recording its messages one by one", folder)
        ids = []
        for i, (row, kind) in enumerate(zip(rows, kinds, strict=True)):
            try:
                ids.extend(store.add_messages([row], [kind], None, now))
            except imapio.TRANSIENT_ERRORS:
                raise
            except Exception:
                failed.add(i)
                ids.append(None)
                stats.errors += 1
                log.exception("%s UID %d: could not record this message", folder, ready[i].uid)
        store.set_checkpoint(folder, uidvalidity, last_uid, now)
    stored: list[tuple[Ready, int]] = []
    for i, (r, msg_id) in enumerate(zip(ready, ids, strict=True)):
        if i in failed:
            continue
        if msg_id is None:  # stored meanwhile by another process
            stats.duplicates += 1
            continue
        stored.append((r, msg_id))
    return stored


def count_stored(stats: SyncStats, r: Ready) -> None:
    """A new message in the sync's counts: new, by kind, unparseable, matched or not."""
    parsed = r.parsed
    stats.new += 1
    stats.inc(f"kind/{r.cls.kind.value}")
    if parsed.parse_error and not parsed.text and not parsed.subject and r.eml_path:
        stats.unparseable += 1
    if r.m:
        stats.matched += 1
    else:
        stats.unmatched += 1
