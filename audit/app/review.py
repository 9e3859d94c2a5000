"""`audit review`, `audit messages`, `audit log`, `audit grade`: the consultant's decisions."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import datetime
from typing import Any

from audit.app.session import session
from audit.clock import Clock, current_clock
from audit.config import (
    Workspace,
)
from audit.errors import ConfigError
from audit.models import (
    DECIDED_BY_HAND,
    Channel,
    MatchMethod,
    MessageKind,
    ReviewState,
)
from audit.store import Store


def _submission_for(ws: Workspace, store: Store, company_name: str, wave: str | None) -> Any:
    company = ws.company(company_name)
    crow = store.company_row(company.slug)
    wave_name = wave or ws.survey.survey.wave
    wrow = store.wave_row(wave_name)
    sub = store.submission(crow.id, wrow.id) if crow and wrow else None
    if sub is None:
        raise ConfigError(f"{company.name} has no submission in wave {wave_name!r}")
    return sub


def log_contact(
    root: str | os.PathLike[str],
    company_name: str,
    channel: Channel,
    at: datetime,
    kind: str = "human",
    note: str | None = None,
    wave: str | None = None,
    clock: Clock | None = None,
) -> int:
    """Record a call, SMS or e-mail the consultant received outside the mailbox."""
    clock = clock or current_clock()
    if at.tzinfo is None:
        raise ConfigError("--at needs a time zone, e.g. 2026-11-25T14:30+02:00")
    with session(root) as s:
        ws, store = s.ws, s.store
        sub = _submission_for(ws, store, company_name, wave)
        if sub.submitted_at and at < sub.submitted_at:
            raise ConfigError(
                f"--at {at.isoformat()} is before the submission ({sub.submitted_at.isoformat()})"
            )
        event_id = store.add_contact_event(
            sub.id, channel.value, kind, at, "manual", now=clock.now(), note=note
        )
        assert event_id is not None
        return event_id


def _classified(ws: Workspace, store: Store, read: Callable[[], list[Any]]) -> list[Any]:
    """The rows ``read()`` gives, read again after the unmatched messages among them that
    a sync left unclassified were classified and stored (what each reads as is worked out
    on first showing: inbox.assign.classify_unread)."""
    from inbox.assign import classify_unread

    rows = read()
    return read() if classify_unread(store, ws.root, rows) else rows


def review_list(root: str | os.PathLike[str]) -> list[dict[str, Any]]:
    with session(root) as s:
        store = s.store
        pending = _classified(s.ws, store, store.messages_for_review)
        return [
            {
                "id": m.id,
                "internaldate": m.internaldate,
                "sender": m.sender,
                "subject": m.subject,
                "kind": m.kind,
                "matched": m.submission_id is not None,
                "why": (json.loads(m.kind_reasons or "[]") or [""])[0],
                "parse_error": m.parse_error,
            }
            for m in pending
        ]


def message_list(root: str | os.PathLike[str], wave: str | None = None) -> list[dict[str, Any]]:
    """Every recorded message, one row each, for an analyst to audit: its company and
    wave, how it was matched, its class, whether that was decided by hand, the deciding
    evidence line (``why``) and all of it (``evidence``), its arrival time (INTERNALDATE)
    and its DKIM verdict (signing domain, alignment with From)."""
    with session(root) as s:
        store = s.store
        wave_id = None
        if wave is not None:
            wrow = store.wave_row(wave)
            if wrow is None:
                raise ConfigError(f"no wave named {wave!r} in the store")
            wave_id = int(wrow.id)
        rows = _classified(s.ws, store, lambda: store.message_listing(wave_id))
        return [_message_entry(m) for m in rows]


def _message_entry(m: Any) -> dict[str, Any]:
    try:
        reasons = json.loads(m.kind_reasons or "[]")
    except ValueError:
        reasons = [str(m.kind_reasons)]
    return {
        "id": m.id,
        "internaldate": m.internaldate,
        "wave": m.wave,
        "company": m.company,
        "sender": m.sender,
        "subject": m.subject,
        "match_method": m.match_method,
        "kind": m.kind,
        "review": m.review,
        "decided_by_hand": m.review in DECIDED_BY_HAND,
        "why": reasons[0] if reasons else "",
        "evidence": reasons,
        "helpdesk": m.helpdesk,
        "dkim": m.dkim,
        "dkim_domain": m.dkim_domain,
        "dkim_aligned": _aligned_in(m.dkim_evidence),
        "eml_path": m.eml_path,
        "eml_sha256": m.eml_sha256,
    }


def _aligned_in(evidence_json: str | None) -> bool | None:
    """DMARC relaxed alignment of the signing domain with From, from the DKIM evidence."""
    try:
        value = json.loads(evidence_json or "null")
    except ValueError:
        return None
    aligned = value.get("aligned") if isinstance(value, dict) else None
    return aligned if isinstance(aligned, bool) else None


# The classes `audit review --kind` accepts: a contact event (human, auto_ack, bounce) or
# not (marketing, unrelated: the message stays out of every company's figures).
REVIEW_KINDS = tuple(k.value for k in MessageKind)


_EVENT_KINDS = (MessageKind.HUMAN.value, MessageKind.AUTO_ACK.value, MessageKind.BOUNCE.value)


def review_decide(
    root: str | os.PathLike[str],
    message_id: int,
    company_name: str | None = None,
    dismiss: bool = False,
    kind: str | None = None,
    wave: str | None = None,
    clock: Clock | None = None,
) -> str:
    """Assign a message to a company's submission (as --kind, else as the class its
    evidence suggested), reclassify a matched message (--kind alone), or dismiss it."""
    clock = clock or current_clock()
    if kind is not None and kind not in REVIEW_KINDS:
        raise ConfigError(f"--kind must be one of {', '.join(REVIEW_KINDS)}, not {kind!r}")
    with session(root) as s:
        ws, store = s.ws, s.store
        msg = store.message_row(message_id)
        if msg is None:
            raise ConfigError(f"no message #{message_id} in the store")
        now = clock.now()
        if dismiss:
            store.record_review(message_id, ReviewState.DISMISSED.value, now)
            return f"message #{message_id} dismissed"
        if not company_name and kind and msg.submission_id is not None:
            # reclassify a matched message (a doubtful one, or a correction)
            store.record_review(
                message_id,
                ReviewState.RECLASSIFIED.value,
                now,
                kind=kind,
                event_kind=kind if kind in _EVENT_KINDS else None,
            )
            return f"message #{message_id} reclassified as {kind}"
        if not company_name:
            raise ConfigError(
                "give --company NAME to assign, --kind KIND to reclassify, or --dismiss"
                + (
                    ""
                    if msg.submission_id is not None
                    else " (this message is matched to no company)"
                )
            )
        from inbox.assign import classify_unread
        from inbox.classify import suggestion_in

        sub = _submission_for(ws, store, company_name, wave)
        note = ""
        if not msg.eml_path:
            # Stored from its headers only (inbox/relevance.py): its body and .eml evidence
            # are fetched now, by UID, before the decision is recorded.
            from inbox.watcher import Watcher

            if Watcher(store, ws.survey.mailbox, ws.root, clock=clock).fetch_light_body(msg):
                msg = store.message_row(message_id) or msg
            else:
                note = " (its body is no longer on the IMAP server: no .eml evidence)"
        if classify_unread(store, ws.root, [msg]):  # unread until now: classified first
            msg = store.message_row(message_id) or msg
        suggested = suggestion_in(json.loads(msg.kind_reasons or "[]"))
        new_kind = kind or (suggested.value if suggested else None) or msg.kind or "human"
        store.record_review(
            message_id,
            ReviewState.ASSIGNED.value,
            now,
            kind=new_kind,
            submission_id=sub.id,
            match_method=MatchMethod.MANUAL.value,
            event_kind=new_kind if new_kind in _EVENT_KINDS else None,
        )
        return f"message #{message_id} assigned to {company_name} as {new_kind}{note}"


def grade(
    root: str | os.PathLike[str],
    company_name: str,
    score: float,
    rubric: dict[str, Any],
    note: str | None = None,
    wave: str | None = None,
    clock: Clock | None = None,
) -> None:
    clock = clock or current_clock()
    if not 0 <= score <= 10:
        raise ConfigError("--score must be between 0 and 10")
    with session(root) as s:
        ws, store = s.ws, s.store
        sub = _submission_for(ws, store, company_name, wave)
        store.add_grade(sub.id, score, rubric, note, clock.now())
