"""Which messages can belong to the survey, decided from their headers alone. Pure.

The sync (inbox/watcher.py) fetches the headers of every message and the body only of
those this module says may belong to the survey (issue 15): a 100,000-message mailbox is
mostly newsletters and personal mail, and reading all of it whole cost 10x a bare fetch.

A body is fetched when the headers
- match a submission (inbox/match.py on the headers: the token in an address or the
  subject, the sender's domain), or name a company's domain at all;
- answer a message of the survey (In-Reply-To / References of a matched message);
- carry no Message-ID (the duplicate check then needs the body);
- arrived recently (``recent_from``: the watcher matches recent unmatched mail again on
  later syncs, from its .eml), or after the wave opened and are not bulk mail: a company
  can answer from another domain, to the plain address, with the reference code only in
  the text, and only the body can tell.

Everything else (mail that arrived before the first submission, bulk mail with
List-Unsubscribe / List-Id / Precedence: bulk) is stored as a light row (headers only);
``audit review`` fetches its body by UID if it ever assigns it. The limit, documented in
docs/watch.md: a reply with the reference only in its text, from a domain of no company,
sent as bulk mail (List-Unsubscribe) to the plain address and synced more than
``REMATCH_WINDOW`` after it arrived is not matched automatically; it waits in review.
"""

from __future__ import annotations

from collections.abc import Container, Sequence
from dataclasses import dataclass
from datetime import datetime

from audit.models import MessageKind
from inbox.match import ARRIVAL_GRAIN, Candidate, match
from inbox.parse import ParsedMessage

LIST_HEADERS = ("list-unsubscribe", "list-id", "list-post")
BULK_PRECEDENCE = ("bulk", "list", "junk")


@dataclass(frozen=True)
class Window:
    """What the relevance of a message depends on besides its headers, fixed per sync."""

    opened_at: datetime | None  # the earliest submission; None: no submission to answer
    recent_from: datetime  # mail that arrived from here on is always read whole
    domains: frozenset[str]  # every company domain, lower case


def window(candidates: Sequence[Candidate], recent_from: datetime) -> Window:
    times = [c.submitted_at for c in candidates]
    if not times:
        opened = None
    elif any(t is None for t in times):
        opened = datetime.min.replace(tzinfo=recent_from.tzinfo)  # unknown: open already
    else:
        opened = min(t for t in times if t is not None)
    domains = frozenset(d.lower().strip(".") for c in candidates for d in c.domains if d)
    return Window(opened, recent_from, domains)


def bulk_reason(head: ParsedMessage) -> str | None:
    """Why the headers say bulk mail (a list or a campaign), or None."""
    h = head.headers
    names = [k for k in LIST_HEADERS if k in h]
    if names:
        return ", ".join(f"{k} header" for k in names)
    if h.get("precedence", "").strip().lower() in BULK_PRECEDENCE:
        return f"Precedence: {h['precedence'].strip()}"
    return None


def _company_domain(domain: str | None, domains: frozenset[str]) -> bool:
    """The sender's domain is a company's domain or below one (inbox.match.domain_matches)."""
    labels = (domain or "").lower().strip(".").split(".")
    return any(".".join(labels[i:]) in domains for i in range(len(labels) - 1))


def body_reason(
    head: ParsedMessage, at: datetime, candidates: Sequence[Candidate], win: Window,
    thread_ids: Container[str],
) -> str | None:  # fmt: skip
    """Why this message's body must be fetched (it can belong to the survey), or None.

    ``head``: parse_headers of its header fields; ``at``: its INTERNALDATE;
    ``thread_ids``: Message-IDs of messages matched to a submission (stored, or earlier in
    this batch and themselves relevant)."""
    if _company_domain(head.sender_domain, win.domains):
        return "from a company's domain"
    # The sender's domain is no company's: match()'s last rule (by domain) cannot match,
    # so it is skipped (its loop over every candidate is most of match()'s cost here).
    domain, head.sender_domain = head.sender_domain, None
    try:
        m = match(head, candidates, None, at=at)
    finally:
        head.sender_domain = domain
    if m is not None:
        return f"matched by its headers ({m.method.value}: {m.detail})"
    if any(i in thread_ids for i in [head.in_reply_to, *head.references] if i):
        return "answers a message of the survey"
    if not head.message_id:
        return "no Message-ID: the duplicate check needs its body"
    if at >= win.recent_from:
        return "arrived recently: matched again on later syncs"
    opened = win.opened_at is not None and at + ARRIVAL_GRAIN >= win.opened_at
    if opened and bulk_reason(head) is None:
        return "arrived after the wave opened, not bulk mail: its text may hold a reference"
    return None


def light_kind(head: ParsedMessage, at: datetime, win: Window) -> tuple[MessageKind, str]:
    """The class and the reason stored for a message read from its headers only."""
    bulk = bulk_reason(head)
    if win.opened_at is None:
        why = "no submission to answer yet"
    elif at + ARRIVAL_GRAIN < win.opened_at:
        why = "arrived before the first submission"
    else:
        why = f"bulk mail ({bulk})"
    kind = MessageKind.MARKETING if bulk else MessageKind.UNRELATED
    return kind, (
        f"{kind.value}: headers only ({why}; no reference, company domain or thread in "
        "them); body not fetched: review fetches it if it assigns this message"
    )


__all__ = ["Window", "body_reason", "bulk_reason", "light_kind", "window"]
