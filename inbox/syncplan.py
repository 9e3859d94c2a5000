"""The sync's decisions, apart from the IMAP connection and the store (issue 12: the
Watcher split along its seams). Pure functions of what the server and the store said:
where a folder's sync starts (and whether it is a rescan), which UIDs in which batches,
which messages need a body (headers first: inbox/relevance.py), how a batch is cut into
parts of at most ``BATCH_BYTES`` of bodies, where the checkpoint may move, a message's
fingerprint, and how long to wait before reconnecting. Tested without a server.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from audit.errors import InboxError
from audit.models import MessageKind
from audit.stats import SyncStats
from inbox.match import Candidate
from inbox.parse import ParsedMessage, parse_headers, parse_message
from inbox.relevance import Window, body_reason, light_kind

log = logging.getLogger(__name__)

BODY_FETCH_CAP = 2_000_000  # bytes of a message fetched in the loop
FETCH_BATCH = 1000  # UIDs per FETCH of header fields
BATCH_BYTES = 16_000_000  # bodies held, and stored in one transaction, at a time
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

Heads = Mapping[int, Mapping[bytes, Any]]  # uid -> a FETCH answer's items


@dataclass
class Fetched:
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


# -- a folder ------------------------------------------------------------------------------
def sync_start(checkpoint: tuple[int, int] | None, uidvalidity: int) -> tuple[int, bool]:
    """The first UID to fetch, and whether it is a rescan (the folder's UIDVALIDITY is not
    the checkpoint's: every UID again, deduplicated by fingerprint)."""
    if checkpoint is None:
        return 1, False
    if checkpoint[0] != uidvalidity:
        return 1, True
    return checkpoint[1] + 1, False


def uids_from(found: Sequence[int], start: int) -> list[int]:
    """The UIDs a SEARCH "UID start:*" found, from ``start`` on, in order ("N:*" always
    returns the last message, even when its UID is below N)."""
    return sorted(u for u in found if u >= start)


def batches(uids: Sequence[int], size: int | None = None) -> Iterator[list[int]]:
    """The UIDs in batches of ``size`` (FETCH_BATCH): one FETCH of headers each."""
    size = size or FETCH_BATCH
    for i in range(0, len(uids), size):
        yield list(uids[i : i + size])


def checkpoint_after(start: int, uids: Sequence[int], uidnext: int) -> int:
    """The last UID a folder's sync has seen. Every UID below UIDNEXT (as of the EXAMINE)
    exists now or was expunged, and the search saw all that exist: the checkpoint may
    advance to UIDNEXT - 1."""
    return max([start - 1, *uids[-1:], uidnext - 1])


def behind(checkpoint: tuple[int, int] | None, uidvalidity: int, uidnext: int) -> bool:
    """Mail arrived since the last sync (or the folder was never synced or recreated)."""
    if checkpoint is None or checkpoint[0] != uidvalidity:
        return True
    return uidnext > checkpoint[1] + 1


def aware_utc(value: Any) -> datetime:
    """An INTERNALDATE as an aware UTC datetime (IMAPClient with normalise_times=False)."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    raise InboxError(f"the server sent no usable INTERNALDATE ({value!r})")


# -- a batch: headers first ------------------------------------------------------------------
def header_bytes(data: Mapping[bytes, Any]) -> bytes:
    """The header fields of a FETCH answer (BODY[HEADER.FIELDS (...)] or BODY[HEADER])."""
    for key, value in data.items():
        if isinstance(key, bytes) and key.startswith(b"BODY[HEADER"):
            return bytes(value or b"")
    return b""


def header_value(header: bytes, name: bytes) -> str | None:
    for line in header.split(b"\n"):
        if line.lower().startswith(name + b":"):
            return line.split(b":", 1)[1].strip().decode("ascii", "replace")
    return None


def size_of(data: Mapping[bytes, Any] | None) -> int:
    return int((data or {}).get(b"RFC822.SIZE") or 0)


def look_at_headers(batch: Sequence[int], heads: Heads) -> dict[int, Fetched]:
    """Every message of the batch read from its header fields (``light`` set for now);
    one whose answer cannot be read is left out (the whole-message path records it)."""
    looks: dict[int, Fetched] = {}
    for uid in batch:
        data = heads.get(uid)
        if data is None:
            continue
        try:
            header = header_bytes(data)
            f = Fetched(
                uid,
                aware_utc(data.get(b"INTERNALDATE")),
                size_of(data),
                header,
                None,
                light=parse_headers(header),
            )
        except Exception:
            continue
        looks[uid] = f
    return looks


def thread_refs(looks: Mapping[int, Fetched]) -> set[str]:
    """The Message-IDs the batch's messages answer (In-Reply-To, References)."""
    refs: set[str] = set()
    for f in looks.values():
        if f.light is not None:
            refs.update(i for i in [f.light.in_reply_to, *f.light.references] if i)
    return refs


def choose_light(
    looks: Mapping[int, Fetched],
    candidates: Sequence[Candidate],
    win: Window,
    thread_ids: set[str],
) -> None:
    """Keep ``light`` (stored from its headers only, with the fingerprint of its
    Message-ID and the class it reads as) on the messages that cannot belong to the survey;
    clear it on the others, whose body is fetched. ``thread_ids``: Message-IDs of messages
    matched to a submission; it takes in the batch's relevant ones, in UID order (a reply
    may answer an earlier one)."""
    for f in looks.values():
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


def parts(
    batch: Sequence[int], heads: Heads, looks: Mapping[int, Fetched], cap: int
) -> list[list[int]]:
    """The batch cut into parts of at most BATCH_BYTES of bodies (each body counted up to
    ``cap``; a light message weighs nothing); each part is fetched and stored at once."""
    out: list[list[int]] = []
    part: list[int] = []
    part_bytes = 0
    for uid in batch:
        f = looks.get(uid)
        size = 0 if f is not None and f.light is not None else min(size_of(heads.get(uid)), cap)
        if part and part_bytes + size > BATCH_BYTES:
            out.append(part)
            part, part_bytes = [], 0
        part.append(uid)
        part_bytes += size
    out.append(part)
    return out


def small_bodies(
    part: Sequence[int], heads: Heads, looks: Mapping[int, Fetched], cap: int
) -> list[int]:
    """The part's messages whose whole body is fetched in one round trip: not light, not
    expunged, not above ``cap`` (a large one is fetched alone, capped)."""
    return [
        u
        for u in part
        if u in heads
        and not (u in looks and looks[u].light is not None)
        and size_of(heads[u]) <= cap
    ]


# -- a message -------------------------------------------------------------------------------
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


def read_fetched(uid: int, data: Mapping[bytes, Any], body: bytes | None) -> Fetched:
    """A fetched message; parsed and fingerprinted when its body is in hand. A large one
    (above body_fetch_cap) gets the fingerprint of its Message-ID, when it has one, so a
    duplicate is never fetched."""
    header = header_bytes(data)
    size = size_of(data)
    f = Fetched(uid, aware_utc(data.get(b"INTERNALDATE")), size, header, body)
    if body is not None:
        f.parsed = parse_message(body)
        f.parsed.size = size or len(body)
        f.fingerprint = fingerprint(f.parsed, body, header_value(header, b"date"))
    else:
        head = parse_headers(header)
        if head.message_id:
            f.fingerprint = fingerprint(head, header)
    return f


def read_part(
    folder: str,
    part: Sequence[int],
    heads: Heads,
    looks: Mapping[int, Fetched],
    bodies: Mapping[int, bytes],
    stats: SyncStats,
) -> list[Fetched]:
    """The part's messages as fetched, in UID order: light ones as looked at, the others
    read from their bodies (a large one, not in ``bodies``, is fetched later, capped). One
    that cannot be read is counted as an error and left out."""
    fetched: list[Fetched] = []
    for uid in part:
        data = heads.get(uid)
        if data is None:  # expunged between SEARCH and FETCH
            continue
        stats.fetched += 1
        if uid in looks and looks[uid].light is not None:
            fetched.append(looks[uid])
            continue
        stats.bodies += 1
        try:
            fetched.append(read_fetched(uid, data, bodies.get(uid)))
        except Exception:
            stats.errors += 1
            log.exception("%s UID %d: could not record this message", folder, uid)
    return fetched


def parse_raw(raw: bytes, size: int, truncated: bool) -> ParsedMessage:
    """A message parsed from its body (its first bytes when ``truncated``, said so in its
    parse_error)."""
    parsed = parse_message(raw)
    parsed.size = size or len(raw)
    if truncated:
        note = f"body cut at {len(raw)} of {size} bytes for parsing"
        parsed.parse_error = f"{parsed.parse_error}; {note}" if parsed.parse_error else note
    return parsed


# -- the connection --------------------------------------------------------------------------
def backoff_delay(failures: int, base_s: float, max_s: float, jitter: float) -> float:
    """Seconds before reconnecting after ``failures`` failures in a row: exponential,
    capped, times ``jitter`` (drawn from 0.5..1)."""
    return min(max_s, base_s * (2**failures)) * jitter
