"""Match a parsed message to the submission it answers. Pure: no store, no network.

Most certain first (issue 4, DESIGN "Reply address and token"):

1. ADDRESS_TAG: a submission's token in Delivered-To, X-Original-To, To or Cc
   (``survey+TOKEN@domain`` or ``TOKEN@catch-all.domain``);
2. TOKEN: the reference code (``CA-TOKEN``) or the reply address in subject or text,
   returned messages of bounces included;
3. THREAD: In-Reply-To / References name the inquiry we e-mailed (the e-mail channel's
   stored Message-ID) or a stored message already matched;
4. SENDER_DOMAIN: the sender's domain is one of exactly one company's domains, counting
   only submissions made before the message arrived, the latest one per company.

Anything else (or an ambiguous domain) is None: the message goes to the review queue.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from audit.models import MatchMethod, SubmissionState
from audit.tokens import PLUS_RE, tokens_in_address, tokens_in_text
from inbox.parse import ParsedMessage

MATCHABLE_STATES = (SubmissionState.SUBMITTED.value, SubmissionState.UNCERTAIN.value)


@dataclass(frozen=True)
class Candidate:
    """A submission a reply may answer (state submitted or uncertain)."""

    submission_id: int
    token: str
    company: str  # slug
    wave_id: int
    domains: tuple[str, ...]
    submitted_at: datetime | None
    reply_address: str = ""
    sent: tuple[str, ...] = ()  # the values submitted (message, name, e-mail, ...), for echoes
    sent_message_id: str | None = None  # e-mail channel: the Message-ID of our inquiry


@dataclass(frozen=True)
class Match:
    submission_id: int
    method: MatchMethod
    detail: str


class Candidates(tuple[Candidate, ...]):
    """Candidates, with what ``match`` looks up in them made once (by token, our e-mailed
    inquiries' Message-IDs): a sync matches every message of a mailbox against the same
    candidates, and building these for each message cost O(candidates) a message.
    Immutable, so what is made from it stays true."""

    @functools.cached_property
    def by_token(self) -> dict[str, Candidate]:
        return {c.token: c for c in self}

    @functools.cached_property
    def ids(self) -> frozenset[int]:
        return frozenset(c.submission_id for c in self)

    @functools.cached_property
    def inquiries(self) -> dict[str, Candidate]:
        """Our e-mailed inquiries' Message-IDs -> their candidate (the last one wins, as
        the dict built in match() did)."""
        return {c.sent_message_id: c for c in self if c.sent_message_id}

    @functools.cached_property
    def with_reply_address(self) -> tuple[Candidate, ...]:
        return tuple(c for c in self if c.reply_address)


def indexed(candidates: Sequence[Candidate]) -> Candidates:
    return candidates if isinstance(candidates, Candidates) else Candidates(candidates)


def candidates_from_rows(rows: Iterable[Any]) -> Candidates:
    """Rows of Store.all_submissions() -> candidates: submitted or uncertain, or running
    with the submit already clicked (a fast auto-reply can beat the final state write)."""
    out: list[Candidate] = []
    for r in rows:
        clicked_running = r.state == SubmissionState.RUNNING.value and r.clicked_at is not None
        if r.state not in MATCHABLE_STATES and not clicked_running:
            continue
        try:
            domains = tuple(d.lower() for d in json.loads(r.domains_json or "[]"))
        except (TypeError, ValueError):
            domains = ()
        out.append(
            Candidate(
                submission_id=int(r.id),
                token=str(r.token).lower(),
                company=str(r.slug),
                wave_id=int(r.wave_id),
                domains=domains,
                submitted_at=r.submitted_at or r.clicked_at,
                reply_address=str(r.reply_address or "").lower(),
                sent=sent_values(getattr(r, "values_json", None)),
                sent_message_id=_msgid(getattr(r, "sent_message_id", None)),
            )
        )
    return Candidates(out)


def sent_values(values_json: str | None) -> tuple[str, ...]:
    """The values a submission sent (``values_json``: role -> value), as text, longest first."""
    try:
        values = json.loads(values_json or "{}")
    except (TypeError, ValueError):
        return ()
    if not isinstance(values, dict):
        return ()
    out = {str(v).strip() for v in values.values() if isinstance(v, str | int) and str(v).strip()}
    return tuple(sorted(out, key=lambda v: (-len(v), v)))


def match(
    msg: ParsedMessage,
    candidates: Sequence[Candidate],
    thread_lookup: Callable[[list[str]], int | None] | None = None,
    at: datetime | None = None,
) -> Match | None:
    """The submission ``msg`` answers and how we know, or None (review)."""
    index = indexed(candidates)
    by_token, known_ids, ours = index.by_token, index.ids, index.inquiries
    if msg.message_id and msg.message_id in ours:
        return None  # our own e-mailed inquiry (a copy, or a company that sent it back)

    # 1. the token in an envelope or header address
    for header, addresses in (
        ("Delivered-To", msg.delivered_to),
        ("X-Original-To", msg.x_original_to),
        ("To", msg.to),
        ("Cc", msg.cc),
    ):
        for address in addresses:
            for token in tokens_in_address(address):
                if token in by_token:
                    return Match(by_token[token].submission_id, MatchMethod.ADDRESS_TAG, header)

    # 2. the reference code or the reply address in the subject or the text
    for where, text in (
        ("subject", msg.subject),
        ("text", msg.text),
        ("returned message", msg.attached_text),
    ):
        for token in tokens_in_text(text):
            if token in by_token:
                return Match(by_token[token].submission_id, MatchMethod.TOKEN, f"ref in {where}")
        for m in PLUS_RE.finditer(text or ""):
            token = m.group(1).lower()
            if token in by_token:
                return Match(by_token[token].submission_id, MatchMethod.TOKEN, f"addr in {where}")
        low = (text or "").lower()
        if "@" in low:  # every reply address has one
            for c in index.with_reply_address:
                if c.reply_address in low:
                    return Match(c.submission_id, MatchMethod.TOKEN, f"reply address in {where}")

    # 3. the thread: our e-mailed inquiry, or a stored, matched message this one answers
    ids = [i for i in [msg.in_reply_to, *reversed(msg.references)] if i]
    for i in ids:
        inquiry = ours.get(_msgid(i) or "")
        if inquiry is not None:
            return Match(inquiry.submission_id, MatchMethod.THREAD, "In-Reply-To: our inquiry")
    if thread_lookup is not None and ids:
        sid = thread_lookup(ids)
        if sid is not None and (not known_ids or sid in known_ids):
            return Match(sid, MatchMethod.THREAD, "In-Reply-To/References")

    # 4. the sender's domain, among companies submitted before the message
    return _by_sender_domain(msg, candidates, at)


def _msgid(value: str | None) -> str | None:
    """A Message-ID compared as written between its angle brackets (case kept: RFC 5322)."""
    if not value:
        return None
    v = value.strip()
    return v if v.startswith("<") else f"<{v}>"


# INTERNALDATE has whole seconds: a reply that arrived 0.3 s after the click can carry an
# arrival time up to a second before it.
ARRIVAL_GRAIN = timedelta(seconds=1)


def domain_matches(sender_domain: str, company_domain: str) -> bool:
    """mail.acme.example matches acme.example; acme.example.evil.test does not."""
    s, d = sender_domain.lower().strip("."), company_domain.lower().strip(".")
    return s == d or s.endswith("." + d)


def _by_sender_domain(
    msg: ParsedMessage, candidates: Sequence[Candidate], at: datetime | None
) -> Match | None:
    domain = (msg.sender_domain or "").lower()
    if not domain or not _valid_domain(domain):
        return None
    latest: dict[str, Candidate] = {}
    for c in candidates:
        if not any(domain_matches(domain, d) for d in c.domains):
            continue
        if at is not None and (c.submitted_at is None or c.submitted_at > at + ARRIVAL_GRAIN):
            continue  # a reply cannot answer a form submitted after it arrived
        prev = latest.get(c.company)
        if prev is None or _later(c, prev):
            latest[c.company] = c
    if len(latest) != 1:
        return None  # none, or ambiguous: a person decides
    only = next(iter(latest.values()))
    return Match(only.submission_id, MatchMethod.SENDER_DOMAIN, domain)


def _later(a: Candidate, b: Candidate) -> bool:
    if a.submitted_at is None or b.submitted_at is None:
        return a.submission_id > b.submission_id
    return a.submitted_at > b.submitted_at


_DOMAIN_RE = re.compile(r"^[a-z0-9.-]+\.[a-z0-9-]{2,}$")


def _valid_domain(domain: str) -> bool:
    return bool(_DOMAIN_RE.match(domain))
