"""Which submission a new message answers and which class it gets (issue 12: apart from
the Watcher), with its thread's help: the messages it answers, stored (looked up through
the callables the store provides) or earlier in the same batch. Never raises: a bug here
sends the message to review instead of losing it. ``rematch``: messages waiting for
review matched again once their submission is written."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from audit.clock import Clock
from audit.models import Channel, MessageKind
from audit.store import Store
from inbox.classify import Classification, classify
from inbox.evidence import EVENT_KINDS, Ready
from inbox.match import Candidate, Match, match
from inbox.parse import ParsedMessage, parse_message

log = logging.getLogger(__name__)

REMATCH_READ_BYTES = 2 << 20

SubmissionFor = Callable[[list[str]], int | None]  # Store.submission_for_message_ids
ThreadKinds = Callable[[list[str]], list[tuple[int | None, str | None]]]  # Store.thread_kinds


def match_message(
    parsed: ParsedMessage,
    candidates: Sequence[Candidate],
    at: datetime,
    submission_for: SubmissionFor,
    batch: Sequence[Ready] = (),
) -> Match | None:
    """``batch``: messages of this batch not stored yet, for thread matching."""

    def thread_lookup(ids: list[str]) -> int | None:
        sid = submission_for(ids)
        if sid is None:
            sid = next(
                (r.m.submission_id for r in batch if r.m and r.parsed.message_id in ids),
                None,
            )
        return sid

    try:
        return match(parsed, candidates, thread_lookup, at=at)
    except Exception:
        log.exception("matching failed; the message goes to review")
        return None


def classify_message(
    parsed: ParsedMessage,
    m: Match | None,
    candidates: Sequence[Candidate],
    thread_kinds: ThreadKinds,
    batch: Sequence[Ready] = (),
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
                earlier = thread_kinds(refs) + [
                    (r.m.submission_id if r.m else None, r.cls.kind.value)
                    for r in batch
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


# An unmatched message read whole is stored by the sync with this one reason: what it
# reads as (its classification as an unmatched message) is worked out when review first
# shows it (``classify_unread``), not for each of the thousands a big mailbox can hold.
UNREAD_REASON = (
    "unrelated: matched to no submission, so no company's answer; what it reads as is "
    "worked out when review first shows it"
)
UNREAD = Classification(MessageKind.UNRELATED, [UNREAD_REASON])
UNREAD_JSON = json.dumps([UNREAD_REASON])


def classify_unread(store: Store, workspace: Path, rows: Iterable[Any]) -> int:
    """Classify the ``rows`` (``messages`` rows) that a sync stored unread (UNREAD: matched
    to nothing, classified later): each read back from its .eml and classified as an
    unmatched message, the result stored unless the row was matched or classified
    meanwhile. How many were stored."""
    done = 0
    for row in rows:
        if row.kind_reasons != UNREAD_JSON or row.submission_id is not None or not row.eml_path:
            continue
        path = workspace / row.eml_path
        try:
            with path.open("rb") as f:
                parsed = parse_message(f.read(REMATCH_READ_BYTES))
        except OSError as exc:
            log.warning("message %d: cannot read %s to classify it: %s", row.id, path, exc)
            continue
        cls = classify_message(parsed, None, (), store.thread_kinds)
        done += store.classify_unread_message(
            row.id,
            UNREAD_JSON,
            kind=cls.kind.value,
            kind_reasons=json.dumps(cls.reasons, ensure_ascii=False),
            helpdesk=cls.helpdesk,
        )
    return done


def rematch(
    store: Store,
    workspace: Path,
    pending: Iterable[Any],
    candidates: Sequence[Candidate],
    clock: Clock,
) -> int:
    """Match again the ``pending`` messages (``messages`` rows waiting for review, read
    back from their .eml): each that matches now gets its submission, class and, for a
    reply, its contact event at its arrival time (INTERNALDATE). How many matched."""
    matched = 0
    for row in pending:
        if row.submission_id is not None or not row.eml_path:
            continue
        path = workspace / row.eml_path
        if not path.is_file():
            continue
        with path.open("rb") as f:
            parsed = parse_message(f.read(REMATCH_READ_BYTES))
        m = match_message(parsed, candidates, row.internaldate, store.submission_for_message_ids)
        if m is None:
            continue
        # Unmatched until now, it could not be human: classified again with its match.
        cls = classify_message(parsed, m, candidates, store.thread_kinds)
        store.update_message(
            row.id,
            submission_id=m.submission_id,
            match_method=m.method.value,
            review="pending" if cls.doubt else None,
            kind=cls.kind.value,
            kind_reasons=json.dumps(cls.reasons, ensure_ascii=False),
        )
        if cls.kind in EVENT_KINDS:
            store.add_contact_event(
                submission_id=m.submission_id,
                channel=Channel.EMAIL.value,
                kind=cls.kind.value,
                at=row.internaldate,
                source="imap",
                now=clock.now(),
                message_id=row.id,
            )
        log.info("message %d matched on a later sync: submission %d", row.id, m.submission_id)
        matched += 1
    return matched
