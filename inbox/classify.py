"""Classify a parsed message: human, auto_ack, bounce, marketing or unrelated. Pure.

Headers are evidence, not proof (NOTES-mail.md): help desks put ``Auto-Submitted:
auto-generated`` and ``X-Auto-Response-Suppress: All`` on their agents' personal answers
too, and many acknowledgements carry no header at all. So header signals and text signals
are weighed together, and every signal that counted is kept in ``reasons``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from audit.models import MessageKind
from audit.tokens import tokens_in_text
from inbox.parse import ParsedMessage

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

# -- phrasing ----------------------------------------------------------------------------
# Acknowledgement phrasing: says the request arrived, not what the answer is.
ACK_PATTERNS = [
    r"\b(we|we'?ve|we have)\s+(successfully\s+)?(received|got)\s+your\b",
    r"\byour\s+(request|message|enquiry|inquiry|e-?mail|ticket|case|query|submission|"
    r"application|form)\b[^.\n]{0,40}\b(has\s+been|was|is\s+being)\s+(received|created|"
    r"logged|registered|submitted|opened|forwarded|recorded|reviewed)",
    r"\b(request|ticket|case|incident)\s+(#|no\.?|number)?\s*[\w-]*\d[\w-]*\s+has\s+been\s+"
    r"(created|opened|logged|received)",
    r"\bhas\s+been\s+opened\s+on\s+your\s+behalf\b",
    r"\bthis\s+is\s+an\s+automat(ed|ic)\s+(response|reply|message|e-?mail|notification)\b",
    r"\b(automated|automatic)\s+(response|reply|acknowledg(e)?ment)\b",
    r"\bwe\s+would\s+like\s+to\s+acknowledge\b",
    r"\b(will|shall)\s+(get\s+back|respond|reply|be\s+in\s+touch|contact\s+you|follow[- ]up)"
    r"[^.\n]{0,60}\b(soon|shortly|as\s+soon\s+as|within|next\s+business|possible)",
    r"\bwithin\s+\d+\s+(business\s+|working\s+)?(hours|days|h)\b",
    r"\b(a|one\s+of\s+our)\s+(support\s+)?(representative|agent|team\s+member|member\s+of\s+"
    r"our\s+team|advisor|consultant)s?\s+will\b",
    r"\b(please|kindly)\s+do\s+not\s+reply\b|\bdo\s+not\s+reply\s+to\s+this\b",
    r"\bthank\s+you\s+for\s+(contacting|writing\s+to|reaching\s+out\s+to)\s+(us|[A-Z])",
    r"\byour\s+(case|ticket|reference|request)\s+(number|no\.?|id)\s+(is|:)",
    # de / fr / es / it / nl / ru / ar
    r"\bwir\s+haben\s+ihre\s+(anfrage|nachricht|e-?mail)\b[^.\n]{0,30}\berhalten\b",
    r"\bnous\s+avons\s+(bien\s+)?re[çc]u\s+votre\b",
    r"\bhemos\s+recibido\s+su\b|\bsu\s+solicitud\s+ha\s+sido\s+recibida\b",
    r"\babbiamo\s+ricevuto\s+la\s+sua\b",
    r"\bwij\s+hebben\s+uw\s+\w+\s+ontvangen\b",
    r"мы\s+получили\s+ваш",
    r"تم\s+استلام",
    # Hebrew
    r"קיבלנו\s+את\s+(פנייתך|פנייתכם|הודעתך|בקשתך|פנייתך\s+ונחזור)",
    r"(פנייתך|פנייתכם|בקשתך|הודעתך|פנייה\s+מספר\s*\d*)\s+(התקבלה|התקבלו|נקלטה|נרשמה|הועברה)",
    r"מספר\s+(ה)?פנייה",
    r"מספר\s+(ה)?קריאה",
    r"(נחזור|נשוב|נציג\s+יחזור|ניצור\s+קשר|ניצור\s+עמך\s+קשר|נענה)\s+(אליך|אלייך|אליכם|עמך|"
    r"בהקדם|תוך|לפנייתך)",
    r"(הודעה|תשובה|מענה)\s+אוטומטי(ת)?",
    r"אין\s+להשיב\s+(להודעה|למייל|לדוא\"?ל)",
    r"זוהי\s+הודעה\s+אוטומטית",
]
OOO_PATTERNS = [
    r"\b(i\s+am|i'?m|i\s+will\s+be)\s+(currently\s+)?(out\s+of\s+(the\s+)?office|away|on\s+"
    r"(annual\s+)?leave|on\s+vacation|on\s+holiday)\b",
    r"\bout\s+of\s+(the\s+)?office\b",
    r"\blimited\s+access\s+to\s+e-?mail\b",
    r"\bich\s+bin\s+(bis|vom)\b[^.\n]{0,40}\b(abwesend|nicht\s+im\s+b[üu]ro)\b",
    r"\bje\s+suis\s+absent",
    r"(נמצא|נמצאת|אני)\s+(בחופשה|מחוץ\s+למשרד)",
    r"מחוץ\s+למשרד",
]
OOO_SUBJECT = re.compile(
    r"^\s*(automatic\s+reply|auto(matic)?[- ]?(reply|response)|auto\s*:|out\s+of\s+(the\s+)?"
    r"office|abwesenheitsnotiz|r[ée]ponse\s+automatique|respuesta\s+autom[áa]tica|"
    r"(תשובה|מענה)\s+אוטומטי(ת)?|מחוץ\s+למשרד)",
    re.IGNORECASE,
)
ACK_SUBJECT = re.compile(
    r"(request|ticket|case|enquiry|inquiry|message)\s+(has\s+been\s+)?(received|created|"
    r"opened|logged)|ticket\s+received|support\s+ticket\s+opened|"
    r"we\s+(have\s+)?received\s+your|"
    r"קיבלנו\s+את|התקבלה|נקלטה|אישור\s+(קבלת|פנייה)",
    re.IGNORECASE,
)
BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|delivery\s+(status\s+notification|failure|has\s+failed)|"
    r"returned\s+mail|mail\s+delivery\s+(failed|failure|subsystem)|failure\s+notice|"
    r"delivery\s+status|non-?delivery|could\s+not\s+be\s+delivered|nicht\s+zustellbar|"
    r"לא\s+נמסר|שגיאה\s+במסירה",
    re.IGNORECASE,
)
BOUNCE_TEXT = re.compile(
    r"(could\s+not\s+be\s+delivered|wasn'?t\s+delivered|address\s+(couldn'?t|could\s+not)\s+be"
    r"\s+found|mailbox\s+(unavailable|not\s+found|full)|user\s+unknown|550[ -]5\.\d\.\d|"
    r"delivery\s+to\s+the\s+following\s+recipients?\s+failed|permanent\s+(error|failure))",
    re.IGNORECASE,
)
MARKETING_TEXT = re.compile(
    r"\bunsubscribe\b|\bview\s+(this\s+e-?mail\s+)?in\s+(your\s+)?browser\b|"
    r"הסרה\s+מרשימת|להסרה|לביטול\s+(ה)?הרשמה",
    re.IGNORECASE,
)
# Signs of a person answering: prices, a personal sign-off, offers to call.
ANSWER_PATTERNS = [
    r"\d[\d,.]*\s*(nis|ils|usd|eur|\$|€|₪|ש\"?ח|ש״ח|שקל)",
    r"(nis|ils|usd|eur|\$|€|₪)\s*\d",
    r"\bper\s+(month|year|line)\b|\ba\s+(month|year)\b|לחודש|לשנה",
    r"\b(i|i'?ll|i\s+will|i\s+can|i'?d)\b\s+(call|send|arrange|prepare|be\s+happy|help)",
    r"\bcall\s+me\b|\bmy\s+(direct\s+)?(number|phone)\b",
    r"(אשמח|אחזור\s+אלי|אתקשר|התקשרי\s+אלי|תתקשרי)",
    r"\byou\s+can\s+(open|sign\s+up|order|apply|come|call)\b",
]
PERSONAL_MAILERS = re.compile(
    r"outlook|apple\s+mail|iphone\s+mail|thunderbird|android|gmail|samsung|"
    r"microsoft\s+office|mutt|k-9",
    re.IGNORECASE,
)
TEAM_WORDS = re.compile(
    r"\b(team|support|service|desk|department|care|center|centre|noreply|sales)\b|"
    r"צוות|שירות\s+הלקוחות|מוקד|מחלקת",
    re.IGNORECASE,
)
SIGNOFF = re.compile(
    r"^(best|kind|warm)?\s*(regards|wishes)|^(thanks|thank\s+you|cheers|sincerely|yours)\b|"
    r"^(בברכה|תודה|בהצלחה|שלך)",
    re.IGNORECASE,
)
QUOTE_HEADER = re.compile(
    r"^(on\s.{0,120}\swrote:|-{2,}\s*original\s+message|from:\s.+|-----\s*הודעה\s+מקורית|"
    r"ב-?\s?.{0,80}\sנכתב:|.{0,80}\sכתב(ה)?:$|_{10,})",
    re.IGNORECASE,
)
NOREPLY = re.compile(r"^(no-?reply|do-?not-?reply|donotreply|noreply|notifications?|auto)", re.I)
BOUNCE_SENDER = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|bounce[s]?)\b", re.I)
PROVIDER_NOTICE_SENDERS = (
    "no-reply@accounts.google.com",
    "account-security-noreply@accountprotection.microsoft.com",
)

_ACK = [re.compile(p, re.IGNORECASE) for p in ACK_PATTERNS]
_OOO = [re.compile(p, re.IGNORECASE) for p in OOO_PATTERNS]
_ANSWER = [re.compile(p, re.IGNORECASE) for p in ANSWER_PATTERNS]
_HELPDESK_BOILERPLATE = re.compile(
    r"^(##-.*-##|your\s+request\s+\(#?\d+\)\s+has\s+been\s+updated.*|to\s+add\s+additional\s+"
    r"comments.*|-{5,}|פנייתך\s+\(?\d+\)?\s+עודכנה.*|.*\bgmt[+-]\d+\s*$|"
    r"[a-z]{3}\s+\d{1,2},\s+\d{4}.*)$",
    re.IGNORECASE,
)


@dataclass
class Classification:
    kind: MessageKind
    reasons: list[str] = field(default_factory=list)
    helpdesk: str | None = None


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
    out: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith(">"):
            continue
        if QUOTE_HEADER.match(stripped) and out:
            break
        out.append(line)
    return "\n".join(out).strip()


def classify(msg: ParsedMessage) -> Classification:
    """Weigh header and text evidence; the reasons name every signal that counted."""
    helpdesk = detect_helpdesk(msg)
    h = msg.headers
    reasons: list[str] = []
    subject = msg.subject or ""
    body = own_text(msg.text)
    sender = (msg.sender or "").lower()
    local = sender.split("@", 1)[0]

    # -- bounces -----------------------------------------------------------------------
    report = h.get("content-type", "").lower()
    is_dsn = "report-type=delivery-status" in report.replace(" ", "").replace('"', "") or (
        "message/delivery-status" in msg.part_types
    )
    if is_dsn:
        return Classification(MessageKind.BOUNCE, ["RFC 3464 delivery-status report"], helpdesk)
    null_sender = msg.return_path == ""
    auto_sub = h.get("auto-submitted", "").strip().lower()
    auto_replied = auto_sub.startswith("auto-replied")
    bounce_words = bool(BOUNCE_SUBJECT.search(subject)) or bool(BOUNCE_TEXT.search(body))
    if "x-failed-recipients" in h:
        return Classification(MessageKind.BOUNCE, ["X-Failed-Recipients header"], helpdesk)
    if BOUNCE_SENDER.match(local) and (bounce_words or null_sender):
        return Classification(MessageKind.BOUNCE, [f"sender {local}"], helpdesk)
    if null_sender and bounce_words:
        return Classification(MessageKind.BOUNCE, ["null sender", "delivery failure"], helpdesk)

    if sender in PROVIDER_NOTICE_SENDERS:
        return Classification(MessageKind.UNRELATED, ["mailbox provider notice"], helpdesk)

    # -- automatic vs human ------------------------------------------------------------
    auto = 0.0
    human = 0.0
    if auto_replied:
        auto += 3
        reasons.append("Auto-Submitted: auto-replied")
    elif auto_sub and auto_sub != "no":
        # Help desks stamp this on their agents' answers too: weak evidence there.
        auto += 0.5 if helpdesk else 1.5
        reasons.append(f"Auto-Submitted: {auto_sub}" + (" (help desk: weak)" if helpdesk else ""))
    for key in ("x-autoreply", "x-autorespond", "x-auto-reply"):
        if key in h:
            auto += 3
            reasons.append(f"{key} header")
    precedence = h.get("precedence", "").strip().lower()
    if precedence in ("auto_reply", "auto-reply"):
        auto += 3
        reasons.append("Precedence: auto_reply")
    if "x-ms-exchange-generated-message-source" in h or "x-ms-exchange-inbox-rules-loop" in h:
        auto += 2
        reasons.append("Exchange rules/auto-reply agent")
    if "x-auto-response-suppress" in h and not helpdesk:
        auto += 0.5
        reasons.append("X-Auto-Response-Suppress")
    if OOO_SUBJECT.search(subject):
        auto += 3
        reasons.append("auto-reply subject")
    elif ACK_SUBJECT.search(subject):
        auto += 1.5
        reasons.append("acknowledgement subject")
    if null_sender:
        auto += 1
        reasons.append("null sender (auto-reply)")
    if NOREPLY.match(local):
        auto += 1
        reasons.append(f"sender {local}")

    ack_hits = [p.pattern[:40] for p in _ACK if p.search(body)]
    if ack_hits:
        auto += min(4.0, 2.0 * len(ack_hits))
        reasons.append(f"acknowledgement phrasing x{len(ack_hits)}")
    ooo_hits = [p for p in _OOO if p.search(body)]
    if ooo_hits:
        auto += 3
        reasons.append("out-of-office phrasing")

    content = _content_lines(body)
    answer_hits = [p for p in _ANSWER if p.search(body)]
    if answer_hits:
        human += 1.5 * min(3, len(answer_hits))
        reasons.append(f"answer content x{len(answer_hits)}")
    signer = _personal_signoff(body, msg.sender_name)
    if signer:
        human += 1.5
        reasons.append(f"signed by a person ({signer})")
    mailer = f"{h.get('x-mailer', '')} {h.get('user-agent', '')}"
    if PERSONAL_MAILERS.search(mailer) or (msg.message_id or "").endswith("@mail.gmail.com>"):
        human += 1
        reasons.append("personal mail client")
    words = sum(len(line.split()) for line in content)
    if words >= 35 and not ack_hits and not ooo_hits:
        human += 1
        reasons.append(f"{words} words of own text")

    # -- marketing ---------------------------------------------------------------------
    list_headers = [k for k in ("list-unsubscribe", "list-id", "list-post") if k in h]
    bulk = precedence in ("bulk", "list", "junk")
    carries_ref = bool(tokens_in_text(f"{subject}\n{body}"))
    if (list_headers or (bulk and MARKETING_TEXT.search(body))) and not (
        carries_ref or ack_hits or human >= 3
    ):
        why = [f"{k} header" for k in list_headers] + (["Precedence: bulk"] if bulk else [])
        return Classification(MessageKind.MARKETING, why, helpdesk)
    if bulk and not helpdesk:
        auto += 1
        reasons.append(f"Precedence: {precedence}")

    if auto >= 2 and auto > human:
        return Classification(MessageKind.AUTO_ACK, reasons, helpdesk)
    if not reasons:
        reasons.append("no automatic signal")
    return Classification(MessageKind.HUMAN, reasons, helpdesk)


def _content_lines(body: str) -> list[str]:
    return [
        line
        for line in (ln.strip() for ln in body.splitlines())
        if line and not _HELPDESK_BOILERPLATE.match(line)
    ]


def _personal_signoff(body: str, sender_name: str | None) -> str | None:
    """A sign-off followed by what looks like a person's name (not a team)."""
    lines = [ln.strip() for ln in body.splitlines() if ln.strip()]
    for i, line in enumerate(lines):
        if SIGNOFF.match(line) and len(line.split()) <= 4:
            tail = line.split(",", 1)[1].strip() if "," in line else ""
            name = tail or (lines[i + 1] if i + 1 < len(lines) else "")
            if _looks_like_name(name):
                return name
    # A bare first name as the last or second-to-last line, e.g. "Sarit" or "Moshe".
    for line in lines[-3:]:
        if _looks_like_name(line) and len(line.split()) <= 2 and not SIGNOFF.match(line):
            first = line.split()[0].lower()
            if sender_name and first in sender_name.lower():
                return line
    return None


def _looks_like_name(text: str) -> bool:
    text = text.strip().rstrip(",.")
    if not text or len(text.split()) > 3 or len(text) > 40:
        return False
    if TEAM_WORDS.search(text) or any(ch.isdigit() for ch in text) or "@" in text:
        return False
    return all(w[:1].isupper() or not w[:1].isascii() for w in text.split())
