"""Parse a raw e-mail into the fields the watcher needs. Never raises.

Mail from companies is untrusted and often broken: unknown or wrong charsets, RFC 2047
encoded words split inside a multi-byte character, raw 8-bit headers, HTML-only bodies,
MIME with missing boundaries, a missing Date. ``parse_message`` returns what it could
read and records the first problem in ``parse_error`` instead of raising.
"""

from __future__ import annotations

import email
import email.header
import email.utils
import logging
import re
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message
from typing import Any

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 200_000  # text kept per message; enough for any reply, bounded for spam
# Headers the classifier looks at (lower case). Kept verbatim, decoded.
CLASSIFY_HEADERS = (
    "auto-submitted",
    "x-autoreply",
    "x-autorespond",
    "x-auto-reply",
    "x-auto-response-suppress",
    "precedence",
    "list-unsubscribe",
    "list-id",
    "list-post",
    "x-failed-recipients",
    "return-path",
    "x-mailer",
    "user-agent",
    "x-campaign",
    "x-mailgun-tag",
    "feedback-id",
    "x-ms-exchange-generated-message-source",
    "x-ms-exchange-inbox-rules-loop",
    "thread-topic",
    "content-type",
)
# Header prefixes that identify help-desk systems; every header starting with one is kept.
HELPDESK_HEADER_PREFIXES = (
    "x-zendesk",
    "x-freshdesk",
    "x-fd-",
    "x-sfdc",
    "x-salesforce",
    "x-hubspot",
    "x-hs-",
    "x-servicenow",
    "x-zohodesk",
    "x-zoho",
    "x-osticket",
    "x-helpscout",
    "x-jira",
    "x-kayako",
    "x-gorgias",
    "x-intercom",
    "x-front",
    "x-ms-exchange-organization-autoresponse",
)
# Charset names seen in the wild that Python does not know, or knows under another name.
CHARSET_ALIASES = {
    "iso-8859-8-i": "iso-8859-8",
    "iso-8859-8-e": "iso-8859-8",
    "visual": "iso-8859-8",
    "logical": "iso-8859-8",
    "x-mac-hebrew": "mac-roman",
    "ks_c_5601-1987": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "windows-874": "cp874",
    "unicode-1-1-utf-7": "utf-7",
    "utf8": "utf-8",
    "x-unknown": "",
    "unknown-8bit": "",
    "unknown": "",
    "default": "",
    "us-ascii": "utf-8",  # 8-bit bytes in "us-ascii" parts are usually utf-8
    "ascii": "utf-8",
}
_MSGID_RE = re.compile(r"<[^<>\s]+>")
_WS_RE = re.compile(r"[ \t\u00a0]+")
_BLANKS_RE = re.compile(r"\n{3,}")


@dataclass
class ParsedMessage:
    """What the watcher, classifier and matcher need from one e-mail."""

    message_id: str | None = None
    date: datetime | None = None  # Date header, aware UTC; None when missing or unreadable
    sender: str | None = None  # From address, lower case
    sender_name: str | None = None
    sender_domain: str | None = None
    return_path: str | None = None  # "" for the null sender <>
    recipients: list[str] = field(default_factory=list)  # To + Cc addresses
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    delivered_to: list[str] = field(default_factory=list)
    x_original_to: list[str] = field(default_factory=list)
    subject: str = ""
    text: str = ""  # the message's own text (HTML turned into text), attachments excluded
    attached_text: str = ""  # returned message / delivery-status parts (bounces)
    html_only: bool = False
    content_type: str = "text/plain"
    part_types: list[str] = field(default_factory=list)
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # classification headers
    size: int = 0
    parse_error: str | None = None

    @property
    def searchable_text(self) -> str:
        return f"{self.subject}\n{self.text}\n{self.attached_text}"


def parse_message(raw: bytes) -> ParsedMessage:
    """raw bytes -> ParsedMessage; every failure lands in ``parse_error``, never raised."""
    out = ParsedMessage(size=len(raw or b""))
    problems: list[str] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            msg = email.message_from_bytes(raw or b"")
    except Exception as exc:  # pragma: no cover - the compat32 parser is very lenient
        out.parse_error = f"unparseable: {type(exc).__name__}: {exc}"
        return out
    hint = _charset_hint(msg)
    for step in (_headers, _addresses, _body):
        try:
            step(msg, out, hint, problems)
        except Exception as exc:
            log.debug("parse step %s failed", step.__name__, exc_info=True)
            problems.append(f"{step.__name__.strip('_')}: {type(exc).__name__}: {exc}")
    defects = [type(d).__name__ for d in getattr(msg, "defects", [])]
    if defects and not problems:
        problems.append("MIME defects: " + ", ".join(sorted(set(defects))))
    out.parse_error = "; ".join(problems) or None
    return out


def parse_headers(raw: bytes) -> ParsedMessage:
    """A header block -> the header fields of a ParsedMessage, by a minimal scan: no MIME
    parse and no body (``text`` stays empty). For the sync's first look at every message
    (inbox/watcher.py): cheap enough for a mailbox of 100,000 messages, and the same
    values ``parse_message`` gives for these fields. Never raises."""
    out = ParsedMessage(size=len(raw or b""))
    try:
        fields = _scan_headers(raw or b"")
        ctype = fields.get("content-type", [""])[0]
        m = _CHARSET_RE.search(ctype)
        hint = m.group(1) if m else None
        _header_fields(fields, out, hint)
    except Exception as exc:
        out.parse_error = f"headers: {type(exc).__name__}: {exc}"
    return out


_CHARSET_RE = re.compile(r'charset\s*=\s*"?([\w.:-]+)', re.IGNORECASE)


def _scan_headers(raw: bytes) -> dict[str, list[str]]:
    """name (lower case) -> its values, unfolded, in order. Raw 8-bit bytes come through as
    surrogate escapes, as the stdlib parser hands them to ``decode_header_value``."""
    end = raw.find(b"\r\n\r\n")
    if end < 0:
        end = raw.find(b"\n\n")
    block = (raw if end < 0 else raw[:end]).decode("ascii", "surrogateescape")
    fields: dict[str, list[str]] = {}
    last: list[str] | None = None
    for line in block.replace("\r\n", "\n").split("\n"):
        if line[:1] in (" ", "\t"):
            if last is not None:
                last[-1] += line
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or " " in name:
            last = None
            continue
        last = fields.setdefault(name.strip().lower(), [])
        last.append(value.strip())
    return fields


def _header_fields(fields: dict[str, list[str]], out: ParsedMessage, hint: str | None) -> None:
    def first(name: str) -> str | None:
        values = fields.get(name)
        return values[0] if values else None

    out.subject = decode_header_value(first("subject"), hint)
    out.message_id = _first_msgid(first("message-id"))
    out.in_reply_to = _first_msgid(first("in-reply-to"))
    refs = _MSGID_RE.findall(first("references") or "")
    out.references = _unique([r.strip() for r in refs])
    date_raw = first("date")
    if date_raw:
        try:
            out.date = date_utc(date_raw)
        except (TypeError, ValueError, IndexError, OverflowError):
            out.parse_error = f"unreadable Date header {date_raw[:60]!r}"
    keep: dict[str, str] = {}
    for key, values in fields.items():
        if key in CLASSIFY_HEADERS or key.startswith(HELPDESK_HEADER_PREFIXES):
            keep[key] = "\n".join(decode_header_value(v, hint) for v in values)
    if "message-id" in fields:
        keep["message-id"] = fields["message-id"][0]
    if "received" in fields:
        keep["received"] = "\n".join(fields["received"][:3])
    out.headers = keep
    ctype = (first("content-type") or "").split(";", 1)[0].strip().lower()
    out.content_type = ctype if "/" in ctype else "text/plain"
    name, addr = _one_address(first("from"), hint)
    if not addr:
        name2, addr2 = _one_address(first("sender"), hint)
        name, addr = name or name2, addr2
    out.sender = addr or None
    out.sender_name = name or None
    if addr and "@" in addr:
        out.sender_domain = addr.rsplit("@", 1)[1].strip(".") or None
    rp = first("return-path")
    if rp is not None:
        m = re.search(r"<([^>]*)>", rp)
        out.return_path = (m.group(1) if m else rp).strip().lower()
    out.to = _address_list(fields.get("to"), hint)
    out.cc = _address_list(fields.get("cc"), hint)
    out.recipients = _unique(out.to + out.cc)
    out.delivered_to = _address_list(fields.get("delivered-to"), hint)
    out.x_original_to = _address_list(fields.get("x-original-to"), hint)


_DATE_RE = re.compile(
    r"\s*(?:[A-Za-z]{3},\s*)?(\d{1,2}) ([A-Za-z]{3}) ([1-9]\d{3}) (\d\d):(\d\d)(?::(\d\d))? "
    r"([+-])(\d\d)(\d\d)\s*(?:\([A-Za-z ]*\))?\s*"
)
MONTHS = {  # month abbreviation, lower case -> number
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}


def date_utc(value: str) -> datetime:
    """A Date header as an aware UTC datetime, as ``email.utils.parsedate_to_datetime``
    reads it (a time without a zone, or -0000, taken as UTC). The usual form
    (``Wed, 04 Dec 2026 16:36:41 +0200``) is read directly, at a fifth of the cost (a
    sync reads the Date of every message); any other goes to the stdlib. Raises what the
    stdlib raises for a date it cannot read."""
    m = _DATE_RE.fullmatch(value)
    month = MONTHS.get(m.group(2).lower()) if m is not None else None
    if m is not None and month is not None:
        day, year, hh, mm, ss, sign, oh, om = m.group(1, 3, 4, 5, 6, 7, 8, 9)
        try:
            local = datetime(int(year), month, int(day), int(hh), int(mm), int(ss or 0), tzinfo=UTC)
        except ValueError:
            local = None
        if local is not None and int(oh) < 24 and int(om) < 60:
            offset = timedelta(hours=int(oh), minutes=int(om))
            return local - offset if sign == "+" else local + offset
    d = email.utils.parsedate_to_datetime(value)
    return (d if d.tzinfo else d.replace(tzinfo=UTC)).astimezone(UTC)


# -- headers -----------------------------------------------------------------------------
def decode_header_value(value: Any, hint: str | None = None) -> str:
    """An RFC 2047 / raw 8-bit header value -> text. Tolerates split multi-byte words."""
    if value is None:
        return ""
    if isinstance(value, email.header.Header):
        # compat32 hands back raw 8-bit header values as Header(charset=unknown-8bit)
        try:
            chunks = email.header.decode_header(value)
        except Exception:
            chunks = [(str(value), None)]
        return _clean_header(
            "".join(
                c if isinstance(c, str) else decode_bytes(c, None if cs == "unknown-8bit" else cs)
                for c, cs in chunks
            )
        )
    s = str(value)
    if s.isascii() and "=?" not in s:  # most header values: nothing to decode
        return _clean_header(s)
    raw_bytes = s.encode("ascii", "surrogateescape") if _has_surrogates(s) else None
    if raw_bytes is not None:
        # Raw 8-bit in a header (no encoded words): guess the charset.
        return _clean_header(decode_bytes(raw_bytes, hint))
    if "=?" not in s:
        return _clean_header(s)
    try:
        # decode_header joins adjacent words of one charset before decoding, so a
        # character split across two encoded words comes out whole.
        parts = email.header.decode_header(s)
    except Exception:
        return _clean_header(s)
    out: list[str] = []
    for chunk, charset in parts:
        if isinstance(chunk, str):
            out.append(chunk)
        else:
            out.append(decode_bytes(chunk, charset or hint))
    # decode_header keeps whitespace between an encoded word and plain text verbatim.
    return _clean_header("".join(out))


def _headers(msg: Message, out: ParsedMessage, hint: str | None, problems: list[str]) -> None:
    out.subject = decode_header_value(msg.get("Subject"), hint)
    mid = _first_msgid(msg.get("Message-ID"))
    out.message_id = mid
    out.in_reply_to = _first_msgid(msg.get("In-Reply-To"))
    refs = _MSGID_RE.findall(str(msg.get("References") or ""))
    out.references = _unique([r.strip() for r in refs])
    date_raw = msg.get("Date")
    if date_raw:
        try:
            out.date = date_utc(str(date_raw))
        except (TypeError, ValueError, IndexError, OverflowError):
            problems.append(f"unreadable Date header {str(date_raw)[:60]!r}")
    keep: dict[str, str] = {}
    for name, value in msg.items():
        key = name.lower()
        if key in CLASSIFY_HEADERS or key.startswith(HELPDESK_HEADER_PREFIXES):
            text = decode_header_value(value, hint)
            keep[key] = f"{keep[key]}\n{text}" if key in keep else text
    for key in ("message-id", "received"):
        vals = msg.get_all(key) or []
        if vals:
            keep[key] = "\n".join(str(v) for v in vals[:3]) if key == "received" else str(vals[0])
    out.headers = keep
    out.content_type = msg.get_content_type()


def _addresses(msg: Message, out: ParsedMessage, hint: str | None, problems: list[str]) -> None:
    name, addr = _one_address(msg.get("From"), hint)
    if not addr:
        name2, addr2 = _one_address(msg.get("Sender"), hint)
        name, addr = name or name2, addr2
    out.sender = addr or None
    out.sender_name = name or None
    if addr and "@" in addr:
        out.sender_domain = addr.rsplit("@", 1)[1].strip(".") or None
    rp = msg.get("Return-Path")
    if rp is not None:
        m = re.search(r"<([^>]*)>", str(rp))
        out.return_path = (m.group(1) if m else str(rp)).strip().lower()
    out.to = _address_list(msg.get_all("To"), hint)
    out.cc = _address_list(msg.get_all("Cc"), hint)
    out.recipients = _unique(out.to + out.cc)
    out.delivered_to = _address_list(msg.get_all("Delivered-To"), hint)
    out.x_original_to = _address_list(msg.get_all("X-Original-To"), hint)


def _one_address(value: Any, hint: str | None) -> tuple[str, str]:
    if value is None:
        return "", ""
    text = decode_header_value(value, hint)
    pairs = _getaddresses([text])
    for name, addr in pairs:
        if addr:
            return name.strip(), addr.strip().lower()
    return text.strip(), ""


def _address_list(values: list[Any] | None, hint: str | None) -> list[str]:
    if not values:
        return []
    texts = [decode_header_value(v, hint) for v in values]
    out = [a.strip().lower() for _n, a in _getaddresses(texts) if a and "@" in a]
    return _unique(out)


def _unique(items: list[str]) -> list[str]:
    """The items in order, each once (most headers hold one address: no dict for it)."""
    return items if len(items) < 2 else list(dict.fromkeys(items))


def _first_msgid(value: Any) -> str | None:
    if value is None:
        return None
    s = str(value).strip()
    m = _MSGID_RE.search(s)
    if m:
        return m.group(0)
    return f"<{s}>" if s and " " not in s else None


# -- body --------------------------------------------------------------------------------
def _body(msg: Message, out: ParsedMessage, hint: str | None, problems: list[str]) -> None:
    plain: list[str] = []
    html: list[str] = []
    attached: list[str] = []
    for part, inside_attachment in _walk(msg):
        ctype = part.get_content_type()
        out.part_types.append(ctype)
        if part.is_multipart():
            continue
        if ctype.startswith("multipart/"):
            # Broken MIME (boundary never found): the whole body is one string.
            plain.append(_unwrap_broken_multipart(_part_text(part, hint)))
            continue
        disposition = str(part.get("Content-Disposition") or "").lower()
        if ctype in ("message/delivery-status", "text/rfc822-headers", "message/rfc822-headers"):
            attached.append(_part_text(part, hint))
            continue
        if not ctype.startswith("text/"):
            continue
        if inside_attachment:
            attached.append(_html_to_text(_part_text(part, hint)) if ctype == "text/html" else
                            _part_text(part, hint))  # fmt: skip
            continue
        if disposition.startswith("attachment") and ctype not in ("text/plain", "text/html"):
            continue
        if ctype == "text/html":
            html.append(_part_text(part, hint))
        elif ctype in ("text/plain", "text/enriched") or not disposition.startswith("attachment"):
            plain.append(_part_text(part, hint))
    if plain and any(p.strip() for p in plain):
        text = "\n".join(plain)
    elif html:
        text = "\n".join(_html_to_text(h) for h in html)
        out.html_only = True
    else:
        text = ""
    out.text = _tidy(text)[:MAX_TEXT_CHARS]
    out.attached_text = _tidy("\n".join(attached))[:MAX_TEXT_CHARS]


_MIME_LINE_RE = re.compile(r"^(--\S+|content-[\w-]+:.*|mime-version:.*)$", re.IGNORECASE)


def _unwrap_broken_multipart(text: str) -> str:
    lines = [ln for ln in text.splitlines() if not _MIME_LINE_RE.match(ln.strip())]
    return "\n".join(lines)


def _walk(msg: Message) -> list[tuple[Message, bool]]:
    """Every part, flagged when it sits inside an attached message (message/rfc822)."""
    out: list[tuple[Message, bool]] = []

    def visit(part: Message, inside: bool, depth: int) -> None:
        if depth > 20:
            return
        out.append((part, inside))
        ctype = part.get_content_type()
        payload = part.get_payload()
        if isinstance(payload, list):
            for sub in payload:
                if isinstance(sub, Message):
                    visit(sub, inside or ctype == "message/rfc822", depth + 1)

    visit(msg, False, 0)
    return out


def _part_text(part: Message, hint: str | None) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if payload is None:
        raw = part.get_payload()
        if isinstance(raw, str):
            payload = raw.encode("ascii", "surrogateescape")
        else:
            return ""
    if not isinstance(payload, bytes):
        return str(payload)
    charset = part.get_content_charset() or part.get_param("charset") or None
    if isinstance(charset, tuple):  # RFC 2231 encoded parameter
        charset = charset[2]
    return decode_bytes(payload, str(charset) if charset else hint)


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Bytes -> text with the declared charset when it works, else a careful guess."""
    name = _normalise_charset(charset)
    if name:
        try:
            return data.decode(name)
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if name:
        try:
            return data.decode(name, errors="replace")
        except LookupError:
            pass
    # Hebrew mail without a declared charset is nearly always windows-1255.
    if sum(1 for b in data if 0xE0 <= b <= 0xFA) >= max(
        2, len([b for b in data if b >= 0x80]) // 2
    ):
        return data.decode("cp1255", errors="replace")
    return data.decode("cp1252", errors="replace")


def _normalise_charset(charset: str | None) -> str:
    if not charset:
        return ""
    name = str(charset).strip().strip('"').lower()
    name = CHARSET_ALIASES.get(name, name)
    if name.startswith("windows-"):
        name = "cp" + name[len("windows-") :]
    return name


def _charset_hint(msg: Message) -> str | None:
    try:
        cs = msg.get_content_charset()
        if cs:
            return str(cs)
        for part in msg.walk():
            cs = part.get_content_charset()
            if cs:
                return str(cs)
    except Exception:
        return None
    return None


def _html_to_text(html: str) -> str:
    from bs4 import BeautifulSoup

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "head", "title", "meta"]):
        tag.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for block in soup.find_all(["p", "div", "tr", "li", "h1", "h2", "h3", "h4", "blockquote"]):
        block.insert_before("\n")
        block.insert_after("\n")
    for bq in soup.find_all("blockquote"):
        bq.replace_with("\n".join("> " + line for line in bq.get_text().splitlines()))
    return soup.get_text()


def _tidy(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    lines = [_WS_RE.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANKS_RE.sub("\n\n", "\n".join(lines)).strip()


def _clean_header(s: str) -> str:
    if "  " not in s and "\t" not in s and "\n" not in s and "\r" not in s and "\xa0" not in s:
        return s.strip()  # one space at most between words already
    return _WS_RE.sub(" ", s.replace("\r", "").replace("\n", " ")).strip()


def _has_surrogates(s: str) -> bool:
    return _SURROGATE_RE.search(s) is not None


_SURROGATE_RE = re.compile("[\udc80-\udcff]")
# One plain address, bare or as ``Plain Name <addr>``: what most headers hold. Anything
# else (quotes, comments, groups, lists) goes to email.utils.getaddresses.
_PLAIN_ADDR_RE = re.compile(
    r"\s*(?:([A-Za-z0-9 .'_-]*?)\s*<([A-Za-z0-9._%+=-]+@[A-Za-z0-9.-]+)>|"
    r"([A-Za-z0-9._%+=-]+@[A-Za-z0-9.-]+))\s*"
)


def _getaddresses(texts: list[str]) -> list[tuple[str, str]]:
    """email.utils.getaddresses, with a fast path for one plain address per value (the
    stdlib's parser costs ~60 us an address: most of a header scan)."""
    out: list[tuple[str, str]] = []
    for text in texts:
        m = _PLAIN_ADDR_RE.fullmatch(text)
        if m is None:
            out.extend(email.utils.getaddresses([text]))
        elif m.group(3):
            out.append(("", m.group(3)))
        else:
            out.append((" ".join(m.group(1).split()), m.group(2)))
    return out
