"""Classify a parsed message: human, auto_ack, bounce, marketing or unrelated. Pure.

Evidence is weighed, no single phrase decides (issue 11):

- headers are evidence, not proof (NOTES-mail.md): help desks stamp ``Auto-Submitted:
  auto-generated`` on their agents' personal answers too, and many acknowledgements carry
  no header at all;
- the text that counts is the company's own words (inbox/ownwords.py): what echoes the
  values we submitted, quoted history, signatures, disclaimers and help-desk boilerplate
  are removed first, so an auto-responder that repeats our inquiry is not "a long answer";
- wording comes from data (inbox/phrases/*.yaml, one file per language), sentence by
  sentence: a polite "Thank you for contacting <Company>" or a closing "we'll get back to
  you" weighs little next to a signed answer with prices in it;
- the subject of an earlier message ("Re: <the acknowledgement's subject>") is not
  evidence about this one;
- the thread: a message answering an acknowledgement of the same submission is a step
  after it, not another acknowledgement;
- the match and its certainty: mail matched to no submission is never a company's
  ``human`` answer (it is ``unrelated``, with what it reads as kept as a suggestion, and
  waits in review); a match by sender domain alone needs a clearer margin.

When the two sides are close, ``doubt`` is set and ``suggested`` holds the leading class:
the watcher records it for ``audit review``. ``reasons`` says, in order, what decided and
every piece of evidence with its weight.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from audit.models import MatchMethod, MessageKind
from audit.tokens import tokens_in_text
from inbox.match import Match
from inbox.ownwords import OwnWords, looks_like_name, own_words
from inbox.parse import ParsedMessage
from inbox.phrases import Phrases, phrases

# -- help desks --------------------------------------------------------------------------
# name -> (header prefixes, domains seen in From / Message-ID / Return-Path, X-Mailer words)
HELPDESKS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "zendesk": (("x-zendesk",), ("zendesk.com", "zdusercontent.com"), ("zendesk",)),
    "freshdesk": (("x-freshdesk", "x-fd-"), ("freshdesk.com", "freshemail.io"), ("freshdesk",)),
    "salesforce": (
        ("x-sfdc", "x-salesforce"),
        ("salesforce.com", "sfdc.net", "force.com", "exacttarget.com"),
        ("salesforce",),
    ),
    "hubspot": (("x-hubspot", "x-hs-"), ("hubspot.com", "hubspotemail.net", "hs-inbox"), ()),
    "servicenow": (("x-servicenow",), ("service-now.com", "servicenow.com"), ("servicenow",)),
    "zoho": (("x-zohodesk", "x-zoho"), ("zohodesk.com", "zoho.com", "zoho.eu"), ("zoho",)),
    "osticket": (("x-osticket",), (), ("osticket",)),
    "helpscout": (("x-helpscout",), ("helpscout.net", "helpscout.com"), ("help scout",)),
    "jira": (("x-jira",), ("atlassian.net",), ("jira",)),
    "intercom": (("x-intercom",), ("intercom-mail.com", "intercom.io"), ("intercom",)),
    "kayako": (("x-kayako",), ("kayako.com",), ("kayako",)),
    "gorgias": (("x-gorgias",), ("gorgias.io", "gorgias.com"), ("gorgias",)),
    "front": (("x-front",), ("frontapp.com",), ()),
}

# -- weights (named, so a change is one line and shows in a diff) ------------------------
W_AUTO_REPLIED = 3.0  # Auto-Submitted: auto-replied (RFC 3834: a vacation/auto responder)
W_AUTO_GENERATED = 1.5  # Auto-Submitted: auto-generated, no help desk
W_AUTO_GENERATED_HELPDESK = 0.3  # help desks stamp it on agents' answers too
W_AUTOREPLY_HEADER = 3.0  # X-Autoreply, X-Autorespond, Precedence: auto_reply
W_EXCHANGE_AUTORESPONSE = 2.0
W_SUPPRESS = 0.5  # X-Auto-Response-Suppress without a help desk
W_OOO_SUBJECT = 3.0
W_ACK_SUBJECT = 1.5
W_NOREPLY = 1.5
W_NULL_SENDER = 1.0
W_AUTOMATED = 3.0  # "this is an automated message", "do not reply", "ticket #1 created"
W_RECEIVED = 2.0  # "we have received your request"
W_OOO = 3.0
W_PROMISE = 1.0  # "we will get back to you": people write it too
W_COURTESY = 0.5  # "thank you for contacting us"
W_MORE = 0.5  # each further sentence of one kind
W_ONLY_ACK = 1.0  # nothing but acknowledgement in the own words
AUTO_CONTENT_CAP = 7.0

W_WORDS = 1.0  # per step of substantive own words (SUBSTANTIVE_STEPS)
SUBSTANTIVE_STEPS = (15, 35)
W_ANSWER = 1.0  # each distinct answer marker ("I can", "per month", "discount")
ANSWER_CAP = 3
W_PRICE = 1.5
W_QUESTION = 1.0  # asks the customer something back
W_SIGNER = 1.5  # signed by a person
W_SIGNER_IS_SENDER = 0.5
W_PERSONAL_CLIENT = 1.0
W_AFTER_ACK = 2.0  # answers an acknowledgement of the same submission
W_AFTER_HUMAN = 1.0  # follows a person's earlier answer

MIN_EVIDENCE = 2.0  # below this on both sides: doubt
DOUBT_MARGIN = 1.5  # a closer call than this: doubt
DOMAIN_MATCH_MARGIN = 2.5  # a human answer matched by sender domain alone needs this

PRICE = re.compile(
    r"(\d[\d,.\s]*\s?(nis|ils|usd|eur|\$|€|₪|₽|ש\"?ח|ש״ח|שקל|شيكل|دولار|руб|евро)"
    r"|(\$|€|₪|£)\s?\d)",
    re.IGNORECASE,
)
PERSONAL_MAILERS = re.compile(
    r"outlook|apple\s+mail|iphone\s+mail|ipad\s+mail|thunderbird|android|gmail|samsung|"
    r"microsoft\s+office|mutt|k-9|evolution|roundcube",
    re.IGNORECASE,
)
REPLY_PREFIX = re.compile(
    r"^\s*((\[[^\]]{1,60}\]\s*)*(re|aw|sv|vs|antw|wg|fw|fwd|tr|ответ|תגובה|השב|رد)\s*"
    r"(\[\d+\])?\s*:\s*)+",
    re.IGNORECASE,
)
SUBJECT_TAGS = re.compile(r"^\s*(\[[^\]]{1,60}\]\s*)+")
NOREPLY = re.compile(r"^(no-?reply|do-?not-?reply|donotreply|noreply|notifications?|auto|"
                     r"mailer|crm-noreply|system)", re.I)  # fmt: skip
# Addresses of a role, not a person: a name signed from one may be the company's.
ROLE_ADDRESS = re.compile(
    r"^(info|support|care|service|services|office|sales|hello|contact|team|help|helpdesk|"
    r"servicedesk|customer\w*|admin|mail|news|marketing|no-?reply|wordpress|crm\S*)[@+]",
    re.I,
)
BOUNCE_SENDER = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|bounce[s]?)\b", re.I)
PROVIDER_NOTICE_SENDERS = (
    "no-reply@accounts.google.com",
    "account-security-noreply@accountprotection.microsoft.com",
)
WEAK_KINDS = ("promise", "courtesy")  # wording people use too
SENTENCE_END = re.compile(r"(?<=[.!?؟])\s+")
GREETING_MAX_WORDS = 5


@dataclass(frozen=True)
class Evidence:
    side: str  # "auto" or "human"
    weight: float
    what: str
    key: str = ""  # the signal's name, e.g. "received", "price", "signer"

    def __str__(self) -> str:
        return f"{self.side} +{self.weight:g}: {self.what}"


@dataclass
class Classification:
    kind: MessageKind
    reasons: list[str] = field(default_factory=list)
    helpdesk: str | None = None
    evidence: list[Evidence] = field(default_factory=list)
    doubt: bool = False
    suggested: MessageKind | None = None  # what the content reads as (doubt, unmatched)
    auto: float = 0.0
    human: float = 0.0


def detect_helpdesk(msg: ParsedMessage) -> str | None:
    """The help-desk system behind a message, when its headers or addresses show it."""
    headers = msg.headers
    places = " ".join(
        [
            msg.sender or "",
            msg.message_id or "",
            msg.return_path or "",
            headers.get("message-id", ""),
            headers.get("received", ""),
        ]
    ).lower()
    mailer = f"{headers.get('x-mailer', '')} {headers.get('user-agent', '')}".lower()
    for name, (prefixes, domains, mailers) in HELPDESKS.items():
        if any(k.startswith(prefixes) for k in headers):
            return name
        if any(d in places for d in domains):
            return name
        if any(m in mailer for m in mailers):
            return name
    if re.search(r"\bref:_[0-9a-z]{5,}\.[_0-9a-z]+:ref\b", msg.searchable_text, re.I):
        return "salesforce"
    return None


def own_text(text: str) -> str:
    """The message's new text: quoted replies and the quoted original removed."""
    return own_words(text).text


def classify(
    msg: ParsedMessage,
    match: Match | None = None,
    *,
    sent: Sequence[str] = (),
    thread: Sequence[str] = (),
) -> Classification:
    """Decide a message's class from all its evidence.

    ``match``: the submission it was matched to (None: unmatched, never ``human``);
    ``sent``: the values we submitted to that company (message, name, e-mail, phone,
    subject); ``thread``: the classes of earlier messages of the same submission that
    this one replies to (In-Reply-To / References)."""
    book = phrases()
    helpdesk = detect_helpdesk(msg)
    h = msg.headers
    subject = msg.subject or ""
    sender = (msg.sender or "").lower()
    local = sender.split("@", 1)[0]
    own = own_words(msg.text, sent, book)

    early = _bounce_or_notice(msg, own, book, sender, local, helpdesk)
    if early is not None:
        return early

    ev: list[Evidence] = []
    notes: list[str] = []
    _header_evidence(msg, helpdesk, local, ev)
    _subject_evidence(subject, book, ev, notes)
    _content_evidence(msg, own, book, ev)
    for kind in dict.fromkeys(thread):
        if kind == MessageKind.AUTO_ACK.value:
            ev.append(Evidence("human", W_AFTER_ACK, "replies in the thread of an acknowledgement"))
        elif kind == MessageKind.HUMAN.value:
            ev.append(Evidence("human", W_AFTER_HUMAN, "follows a person's answer in the thread"))

    auto = round(sum(e.weight for e in ev if e.side == "auto"), 2)
    human = round(sum(e.weight for e in ev if e.side == "human"), 2)
    evidence_lines = [str(e) for e in ev] + notes + [own.summary()]

    # -- marketing -------------------------------------------------------------------------
    list_headers = [k for k in ("list-unsubscribe", "list-id", "list-post") if k in h]
    bulk = h.get("precedence", "").strip().lower() in ("bulk", "list", "junk")
    ack_said = any(e.key in ("automated", "received") for e in ev)
    carries_ref = bool(tokens_in_text(f"{subject}\n{own.text}"))
    if (list_headers or (bulk and book.first("marketing", msg.text))) and not (
        carries_ref or ack_said or human >= 4
    ):
        why = [f"{k} header" for k in list_headers] + (["Precedence: bulk"] if bulk else [])
        return Classification(
            MessageKind.MARKETING,
            [f"marketing: {', '.join(why)}, no acknowledgement or answer in the text",
             *evidence_lines],
            helpdesk, ev, auto=auto, human=human,
        )  # fmt: skip

    # -- automatic or human ----------------------------------------------------------------
    leading = MessageKind.AUTO_ACK if auto > human else MessageKind.HUMAN
    margin = abs(auto - human)
    needed = DOUBT_MARGIN
    if (
        leading is MessageKind.HUMAN
        and match is not None
        and match.method is MatchMethod.SENDER_DOMAIN
    ):
        needed = DOMAIN_MATCH_MARGIN
    score = f"automatic {auto:g} vs human {human:g}"
    if match is None:
        return Classification(
            MessageKind.UNRELATED,
            [f"unrelated: matched to no submission, so no company's answer; reads as "
             f"{leading.value} ({score}); review assigns it", *evidence_lines],
            helpdesk, ev, doubt=False, suggested=leading, auto=auto, human=human,
        )  # fmt: skip
    if max(auto, human) < MIN_EVIDENCE or margin < needed:
        close = "little evidence either way" if max(auto, human) < MIN_EVIDENCE else "close call"
        return Classification(
            leading,
            [f"doubt ({close}): suggested {leading.value} ({score}, margin {margin:g} < "
             f"{needed:g}); review confirms or corrects", *evidence_lines],
            helpdesk, ev, doubt=True, suggested=leading, auto=auto, human=human,
        )  # fmt: skip
    decided = [e for e in ev if e.side == ("auto" if leading is MessageKind.AUTO_ACK else "human")]
    top = ", ".join(e.what for e in sorted(decided, key=lambda e: -e.weight)[:3])
    return Classification(
        leading,
        [f"{leading.value}: {score}, margin {margin:g}; decided by {top}", *evidence_lines],
        helpdesk, ev, auto=auto, human=human,
    )  # fmt: skip


def suggestion_in(reasons: Sequence[str]) -> MessageKind | None:
    """The class a stored message's reasons suggest (doubt or unmatched), if any."""
    if not reasons:
        return None
    m = re.search(r"\b(suggested|reads as) (human|auto_ack|bounce|marketing|unrelated)\b",
                  reasons[0])  # fmt: skip
    return MessageKind(m.group(2)) if m else None


# -- evidence ----------------------------------------------------------------------------
def _bounce_or_notice(
    msg: ParsedMessage,
    own: OwnWords,
    book: Phrases,
    sender: str,
    local: str,
    helpdesk: str | None,
) -> Classification | None:
    h = msg.headers
    report = h.get("content-type", "").lower().replace(" ", "").replace('"', "")
    if "report-type=delivery-status" in report or "message/delivery-status" in msg.part_types:
        return Classification(
            MessageKind.BOUNCE, ["bounce: RFC 3464 delivery-status report"], helpdesk
        )
    if "x-failed-recipients" in h:
        return Classification(MessageKind.BOUNCE, ["bounce: X-Failed-Recipients header"], helpdesk)
    null_sender = msg.return_path == ""
    bounce_words = bool(book.first("bounce_subject", msg.subject or "")) or bool(
        book.first("bounce_text", own.text or msg.text)
    )
    if BOUNCE_SENDER.match(local) and (bounce_words or null_sender):
        return Classification(
            MessageKind.BOUNCE, [f"bounce: sender {local}, delivery-failure wording"], helpdesk
        )
    if null_sender and bounce_words:
        return Classification(
            MessageKind.BOUNCE, ["bounce: null sender and delivery-failure wording"], helpdesk
        )
    if sender in PROVIDER_NOTICE_SENDERS:
        return Classification(
            MessageKind.UNRELATED, [f"unrelated: mailbox provider notice from {sender}"], helpdesk
        )
    return None


def _header_evidence(
    msg: ParsedMessage, helpdesk: str | None, local: str, ev: list[Evidence]
) -> None:
    h = msg.headers
    auto_sub = h.get("auto-submitted", "").strip().lower()
    if auto_sub.startswith("auto-replied"):
        ev.append(Evidence("auto", W_AUTO_REPLIED, "Auto-Submitted: auto-replied"))
    elif auto_sub and auto_sub != "no":
        if helpdesk:
            ev.append(Evidence("auto", W_AUTO_GENERATED_HELPDESK,
                               f"Auto-Submitted: {auto_sub} (from {helpdesk}, which stamps "
                               "agents' answers too)"))  # fmt: skip
        else:
            ev.append(Evidence("auto", W_AUTO_GENERATED, f"Auto-Submitted: {auto_sub}"))
    for key in ("x-autoreply", "x-autorespond", "x-auto-reply"):
        if key in h:
            ev.append(Evidence("auto", W_AUTOREPLY_HEADER, f"{key} header"))
    if h.get("precedence", "").strip().lower() in ("auto_reply", "auto-reply"):
        ev.append(Evidence("auto", W_AUTOREPLY_HEADER, "Precedence: auto_reply"))
    if any(
        k in h
        for k in (
            "x-ms-exchange-generated-message-source",
            "x-ms-exchange-inbox-rules-loop",
            "x-ms-exchange-organization-autoresponse",
        )
    ):
        ev.append(Evidence("auto", W_EXCHANGE_AUTORESPONSE, "Exchange auto-response headers"))
    if "x-auto-response-suppress" in h and not helpdesk:
        ev.append(Evidence("auto", W_SUPPRESS, "X-Auto-Response-Suppress"))
    if msg.return_path == "":
        ev.append(Evidence("auto", W_NULL_SENDER, "null sender <>"))
    if NOREPLY.match(local):
        ev.append(Evidence("auto", W_NOREPLY, f"sender address {local}@"))
    mailer = f"{h.get('x-mailer', '')} {h.get('user-agent', '')}"
    if PERSONAL_MAILERS.search(mailer) or (msg.message_id or "").endswith("@mail.gmail.com>"):
        what = mailer.strip() or "Gmail Message-ID"
        ev.append(Evidence("human", W_PERSONAL_CLIENT, f"personal mail client ({what})"))


def _subject_evidence(subject: str, book: Phrases, ev: list[Evidence], notes: list[str]) -> None:
    bare = SUBJECT_TAGS.sub("", subject)
    prefix = REPLY_PREFIX.match(subject)
    stripped = subject[prefix.end() :] if prefix else bare
    ooo = book.first("ooo_subject", bare)
    if ooo:
        ev.append(Evidence("auto", W_OOO_SUBJECT, f"auto-reply subject ({ooo.label()})"))
        return
    ack = book.first("ack_subject", stripped)
    if ack and prefix:
        notes.append(
            f"not counted: the subject answers an earlier message ({prefix.group(0).strip()} "
            f"{stripped[:60]!r} reads as an acknowledgement's subject)"
        )
    elif ack:
        ev.append(Evidence("auto", W_ACK_SUBJECT, f"acknowledgement subject ({ack.label()})"))


def _content_evidence(msg: ParsedMessage, own: OwnWords, book: Phrases, ev: list[Evidence]) -> None:
    found: dict[str, list[str]] = {}
    substantive: list[str] = []
    answers: dict[str, str] = {}
    questions = 0
    price = ""
    for sentence in _sentences(own.lines):
        kind = _auto_kind(sentence, book)
        if kind:
            found.setdefault(kind, []).append(sentence)
            if kind not in WEAK_KINDS:
                continue  # an acknowledgement's sentence says nothing else
        elif _is_greeting(sentence):
            continue
        else:
            substantive.append(sentence)
        # what a sentence answers counts even next to a promise ("... and we'll call you")
        for p in book.find("answer", sentence):
            answers.setdefault(p.regex.pattern, p.label())
        m = PRICE.search(sentence)
        if m and not price:
            price = m.group(0).strip()
        if sentence.rstrip().endswith(("?", "؟")):
            questions += 1

    weights = {"automated": W_AUTOMATED, "received": W_RECEIVED, "ooo": W_OOO,
               "promise": W_PROMISE, "courtesy": W_COURTESY}  # fmt: skip
    names = {"automated": "automated-message wording", "received": "says the request arrived",
             "ooo": "out-of-office wording", "promise": "promises a later answer",
             "courtesy": "polite opener"}  # fmt: skip
    total = 0.0
    for kind in ("automated", "received", "ooo", "promise", "courtesy"):
        hits = found.get(kind, [])
        if not hits:
            continue
        w = min(weights[kind] + W_MORE * (len(hits) - 1), AUTO_CONTENT_CAP - total)
        if w <= 0:
            continue
        total += w
        more = f" (+{len(hits) - 1} more)" if len(hits) > 1 else ""
        ev.append(Evidence("auto", w, f"{names[kind]}: {_quote(hits[0])}{more}", kind))
    words = sum(len(s.split()) for s in substantive)
    if found and words < SUBSTANTIVE_STEPS[0] and not (price or answers or questions):
        ev.append(Evidence("auto", W_ONLY_ACK, "nothing in the own words but acknowledgement",
                           "only_ack"))  # fmt: skip
    steps = sum(1 for s in SUBSTANTIVE_STEPS if words >= s)
    if steps:
        ev.append(Evidence("human", W_WORDS * steps, f"{words} words of substance in own words"))
    if answers:
        n = min(len(answers), ANSWER_CAP)
        ev.append(Evidence("human", W_ANSWER * n,
                           f"answers the inquiry ({', '.join(sorted(set(answers.values())))}, "
                           f"{len(answers)} marker(s))"))  # fmt: skip
    if price:
        ev.append(Evidence("human", W_PRICE, f"names a price ({price})"))
    if questions:
        ev.append(Evidence("human", W_QUESTION, "asks the customer a question"))
    if own.signer:
        ev.append(Evidence("human", W_SIGNER, f"signed by a person ({own.signer})"))
        first = own.signer.split()[0].lower()
        if msg.sender_name and first in msg.sender_name.lower():
            ev.append(Evidence("human", W_SIGNER_IS_SENDER, "the signer is the sender"))
    elif own.lines and msg.sender_name and not ROLE_ADDRESS.match(msg.sender or ""):
        last = own.lines[-1]
        if (
            len(last.split()) <= 2
            and looks_like_name(last, book)
            and last.split()[0].lower() in msg.sender_name.lower()
        ):
            ev.append(Evidence("human", W_SIGNER, f"signed with the sender's name ({last})"))


def _sentences(lines: Sequence[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        out += [s.strip() for s in SENTENCE_END.split(line) if s.strip()]
    return out


def _auto_kind(sentence: str, book: Phrases) -> str | None:
    for kind in ("automated", "received", "ooo", "promise", "courtesy"):
        if book.first(kind, sentence):
            return kind
    return None


def _is_greeting(sentence: str) -> bool:
    words = sentence.split()
    return len(words) <= GREETING_MAX_WORDS and sentence.rstrip().endswith((",", "،", "!", ":"))


def _quote(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")
