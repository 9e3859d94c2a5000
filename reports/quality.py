"""Automatic signals of a reply's quality, from its text alone (pure, no I/O).

They complement the consultant's grade (`audit grade`), never replace it: a reply that
greets the persona by name, is long enough to answer a question and is not only a quote of
the inquiry is more likely a real answer than a template.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MIN_ANSWER_WORDS = 40
_QUOTE_LINE = re.compile(r"^\s*>", re.MULTILINE)
_WORD = re.compile(r"\w+", re.UNICODE)
# "On Tue, ... wrote:" and Hebrew/Outlook separators: what follows is quoted history.
_HISTORY = re.compile(
    r"^(On .{0,200}wrote:|-{2,}\s*Original Message|ב-.{0,200}כתב|From: .+$)", re.MULTILINE
)


@dataclass(frozen=True)
class ReplySignals:
    words: int  # words written by the company, quotes removed
    greets_by_name: bool  # the persona's first name in the opening lines
    quotes_inquiry: bool  # the reply quotes our message


def own_text(text: str) -> str:
    """The part of a reply its writer typed: quoted lines and quoted history removed."""
    m = _HISTORY.search(text)
    head = text[: m.start()] if m else text
    return "\n".join(line for line in head.splitlines() if not _QUOTE_LINE.match(line))


def reply_signals(text: str | None, first_name: str | None) -> ReplySignals:
    text = text or ""
    mine = own_text(text)
    opening = "\n".join(mine.strip().splitlines()[:3]).casefold()
    greets = bool(first_name) and first_name.casefold() in opening  # type: ignore[union-attr]
    return ReplySignals(
        words=len(_WORD.findall(mine)),
        greets_by_name=greets,
        quotes_inquiry=bool(_QUOTE_LINE.search(text) or _HISTORY.search(text)),
    )
