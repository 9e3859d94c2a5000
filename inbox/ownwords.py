"""The company's own words: a reply's text minus what is not theirs. Pure.

Removed, each counted so the classifier can say what it ignored:

- quoted history: ``>`` lines, and everything from a quote header on ("On ... wrote:",
  "-----Original Message-----", an Outlook "From: / Sent:" block, in every language of
  inbox/phrases);
- echoes of what we sent: any line that repeats a value actually submitted (the message,
  the name, the e-mail address, the phone, the subject), quoted or not, labelled or not
  ("תוכן ההודעה: <our message>", "Your message: ..."), re-wrapped or not;
- the signature: after "-- ", or after a sign-off line ("Best regards,") near the end;
  the person named right after a sign-off is kept as ``signer``;
- disclaimers and help-desk boilerplate ("##- Please type your reply above this line -##",
  "To add additional comments, reply to this email", lone URLs and dates).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from inbox.phrases import Phrases, phrases

_NON_WORD = re.compile(r"[\W_]+")
_LABEL = re.compile(r"^\s*([^\W\d_][^:\n]{0,40}?)\s*:\s*(.*)$")
_URL_ONLY = re.compile(r"^\s*<?https?://\S+>?\s*$", re.IGNORECASE)
_DATE_LINE = re.compile(
    r"^(\w{2,10},?\s+)?(\d{1,2}[\s./-]\w{3,10}[\s./-]\d{4}|\w{3,10}\.?\s+\d{1,2},?\s+\d{4}|"
    r"\d{4}-\d{2}-\d{2}|\d{1,2}[./]\d{1,2}[./]\d{2,4})\b.{0,40}$",
    re.IGNORECASE,
)
_AUTHOR_LINE = re.compile(r"^[^()\n]{2,50}\s\([^()\n]{2,50}\)$")  # "Michal Levi (Acme Bank)"
_SIG_DASHES = re.compile(r"^--\s*$")
_HEADERISH = re.compile(r"^[^\W\d_][\w .'-]{0,24}\s?:\s.+")
_SEPARATOR = re.compile(r"^[_=*-]{8,}$")
SIGNATURE_MAX_LINES = 8  # a sign-off this close to the end starts the signature


@dataclass(frozen=True)
class OwnWords:
    text: str
    echoed: tuple[str, ...] = ()
    quoted: int = 0
    signature: tuple[str, ...] = ()
    signer: str | None = None
    disclaimer: tuple[str, ...] = ()
    boilerplate: tuple[str, ...] = ()
    lines: tuple[str, ...] = field(default=(), repr=False)

    @property
    def words(self) -> int:
        return len(self.text.split())

    def summary(self) -> str:
        parts = [
            f"{len(self.echoed)} echoing what we sent" if self.echoed else "",
            f"{self.quoted} quoted" if self.quoted else "",
            f"{len(self.signature)} signature" if self.signature else "",
            f"{len(self.disclaimer)} disclaimer" if self.disclaimer else "",
            f"{len(self.boilerplate)} help-desk boilerplate" if self.boilerplate else "",
        ]
        removed = ", ".join(p for p in parts if p)
        return f"own words: {self.words} words" + (
            f" (lines removed: {removed})" if removed else ""
        )


def normalise(text: str) -> str:
    """Case, punctuation and spacing folded away, letters of every script kept."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_NON_WORD.sub(" ", text).split())


class Echo:
    """What we sent, ready to recognise in a reply line."""

    def __init__(self, sent: Iterable[str]) -> None:
        values = [normalise(v) for v in sent if v and v.strip()]
        self.values = {v for v in values if v}
        # Each value and each line of each value, so a line of our message matches alone.
        self.text = "\n".join(values)
        self.trigrams: set[tuple[str, ...]] = set()
        for v in values:
            w = v.split()
            self.trigrams.update(zip(w, w[1:], w[2:], strict=False))

    def __bool__(self) -> bool:
        return bool(self.values)

    def echoes(self, line: str) -> bool:
        n = normalise(line)
        if not n or not self.values:
            return False
        if n in self.values:
            return True
        m = _LABEL.match(line)
        if m and len(m.group(1).split()) <= 4:
            rest = normalise(m.group(2))
            if rest and (rest in self.values or rest in self.text):
                return True  # "Label: <a value we typed>": the label makes even one word count
        words = n.split()
        if len(words) >= 3 and len(n) >= 12 and n in self.text:
            return True
        if len(words) >= 6:
            grams = list(zip(words, words[1:], words[2:], strict=False))
            hits = sum(1 for g in grams if g in self.trigrams)
            return hits / len(grams) >= 0.8
        return False


def own_words(text: str, sent: Sequence[str] = (), book: Phrases | None = None) -> OwnWords:
    """``text`` (a parsed message's text) -> the company's own words and what was removed."""
    book = book or phrases()
    echo = Echo(sent)
    lines = [ln.strip() for ln in (text or "").splitlines()]

    # 1. quoted history: '>' lines, and everything after a quote header
    kept: list[str] = []
    quoted = 0
    for i, line in enumerate(lines):
        if line.startswith(">"):
            quoted += 1
            continue
        if _is_quote_header(lines, i, book):
            if any(k for k in kept):
                quoted += len(lines) - i
                break
            quoted += 1
            continue
        kept.append(line)

    # 2. echoes of what we sent (label-only lines go with the echo that follows them)
    echoed: list[str] = []
    flags = [bool(echo) and echo.echoes(ln) for ln in kept]
    for i, line in enumerate(kept):
        if flags[i] or not line:
            continue
        m = _LABEL.match(line)
        if m and not m.group(2).strip() and len(m.group(1).split()) <= 4:
            nxt = next((j for j in range(i + 1, len(kept)) if kept[j]), None)
            if nxt is not None and flags[nxt]:
                flags[i] = True
    rest: list[str] = []
    for line, is_echo in zip(kept, flags, strict=True):
        if is_echo:
            echoed.append(line)
        else:
            rest.append(line)

    # 3. disclaimers (the whole paragraph) and help-desk boilerplate
    disclaimer: list[str] = []
    boiler: list[str] = []
    body: list[str] = []
    in_disclaimer = False
    for line in rest:
        if not line:
            in_disclaimer = False
            body.append(line)
            continue
        if in_disclaimer or book.first("disclaimer", line):
            in_disclaimer = True
            disclaimer.append(line)
            continue
        if (
            book.first("boilerplate", line)
            or _URL_ONLY.match(line)
            or _DATE_LINE.match(line)
            or _AUTHOR_LINE.match(line)
            or _SEPARATOR.match(line)
        ):
            boiler.append(line)
            continue
        body.append(line)

    # 4. the signature
    body, signature, signer = _split_signature(body, book)
    own = "\n".join(body).strip()
    own = re.sub(r"\n{3,}", "\n\n", own)
    return OwnWords(
        text=own,
        echoed=tuple(echoed),
        quoted=quoted,
        signature=tuple(signature),
        signer=signer,
        disclaimer=tuple(disclaimer),
        boilerplate=tuple(boiler),
        lines=tuple(ln for ln in body if ln),
    )


def _is_quote_header(lines: list[str], i: int, book: Phrases) -> bool:
    line = lines[i]
    if not line:
        return False
    hit = book.first("quote_header", line)
    if hit is None:
        if _SEPARATOR.match(line) and line.startswith("_"):
            # Outlook: a line of underscores, then a From:/Sent: block
            nxt = [ln for ln in lines[i + 1 : i + 3] if ln]
            return bool(nxt) and bool(_HEADERISH.match(nxt[0]))
        return False
    if _HEADERISH.match(line) and not line.endswith(":"):
        # "From: x" alone may be the company's own line: a header block needs two in a row
        nxt = [ln for ln in lines[i + 1 : i + 4] if ln]
        return any(book.first("quote_header", ln) and _HEADERISH.match(ln) for ln in nxt[:2])
    return True


def _split_signature(body: list[str], book: Phrases) -> tuple[list[str], list[str], str | None]:
    for i, line in enumerate(body):
        if _SIG_DASHES.match(line):
            return body[:i], [ln for ln in body[i:] if ln], None
    filled = [i for i, ln in enumerate(body) if ln]
    tail = filled[-SIGNATURE_MAX_LINES:]
    for i in tail:
        line = body[i]
        lead, _, after = line.partition(",")
        if book.first("signoff", line):
            following = [ln for ln in body[i + 1 :] if ln]
            signer = following[0] if following else ""
            name = signer if looks_like_name(signer, book) else None
            return body[:i], [ln for ln in body[i:] if ln], name
        if book.first("signoff", lead + ",") and looks_like_name(after, book):
            return (
                body[:i],
                [ln for ln in body[i:] if ln],
                after.strip().rstrip(",.!"),
            )  # "Thanks, Noa"
    return body, [], None


def looks_like_name(text: str, book: Phrases | None = None) -> bool:
    """A person's name (one to three words), not a team, an address or a number."""
    book = book or phrases()
    text = text.strip().rstrip(",.")
    if not text or len(text.split()) > 3 or len(text) > 40:
        return False
    if book.first("team_words", text) or any(ch.isdigit() for ch in text) or "@" in text:
        return False
    if any(ch in text for ch in "|:/()[]"):
        return False
    return all(w[:1].isupper() or not w[:1].isascii() for w in text.split())
