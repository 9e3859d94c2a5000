"""Phrase lists as data: one YAML file per language, loaded and compiled once. Pure.

Each file maps a category to a list of regular expressions (case-insensitive, matched
against one line of a message's own words, or its subject for ``*_subject``):

    automated       only a machine says this ("this is an automated message", "do not reply")
    received        says the request arrived ("we have received your ...")
    promise         promises an answer later; people say it too, so it weighs little
    courtesy        polite openers that carry no information ("thank you for contacting X")
    ooo             out-of-office wording;  ooo_subject, ack_subject: subject lines
    answer          signs of a person answering (an offer, a price, "I can call you")
    signoff         a closing line before a name ("Best regards,")
    quote_header    the line that introduces quoted history ("On ... wrote:")
    disclaimer      legal footers
    boilerplate     help-desk notification furniture ("##- Please type your reply ... -##")
    bounce_subject, bounce_text, marketing, team_words

A new language is a new file; a wrong key or a regex that does not compile is an error
naming the file (tests/inbox/test_phrases.py loads them all).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

CATEGORIES = (
    "automated",
    "received",
    "promise",
    "courtesy",
    "ooo",
    "ooo_subject",
    "ack_subject",
    "answer",
    "signoff",
    "quote_header",
    "disclaimer",
    "boilerplate",
    "bounce_subject",
    "bounce_text",
    "marketing",
    "team_words",
)


class PhraseError(ValueError):
    """A phrase file that does not load: names the file and the key."""


@dataclass(frozen=True)
class Phrase:
    language: str
    category: str
    regex: re.Pattern[str]

    def label(self) -> str:
        return f"{self.category}/{self.language}"


@dataclass(frozen=True)
class Phrases:
    by_category: dict[str, tuple[Phrase, ...]]
    languages: tuple[str, ...]

    def find(self, category: str, text: str) -> list[Phrase]:
        """The phrases of ``category`` that occur in ``text``."""
        return [p for p in self.by_category.get(category, ()) if p.regex.search(text)]

    def first(self, category: str, text: str) -> Phrase | None:
        for p in self.by_category.get(category, ()):
            if p.regex.search(text):
                return p
        return None


def parse_phrase_file(name: str, text: str) -> list[Phrase]:
    """One YAML document -> its phrases; PhraseError names the file and the key."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PhraseError(f"{name}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("language"), str):
        raise PhraseError(f"{name}: expected a mapping with 'language:' and categories")
    lang = data["language"]
    out: list[Phrase] = []
    for key, patterns in data.items():
        if key == "language":
            continue
        if key not in CATEGORIES:
            raise PhraseError(f"{name}: unknown category {key!r} (known: {', '.join(CATEGORIES)})")
        if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
            raise PhraseError(f"{name}: {key}: expected a list of regular expressions")
        for p in patterns:
            try:
                rx = re.compile(p, re.IGNORECASE)
            except re.error as exc:
                raise PhraseError(f"{name}: {key}: {p!r}: {exc}") from None
            out.append(Phrase(lang, key, rx))
    return out


@cache
def phrases() -> Phrases:
    """Every language file shipped in this package, compiled."""
    found: dict[str, list[Phrase]] = {c: [] for c in CATEGORIES}
    langs: list[str] = []
    files = sorted(
        (f for f in resources.files(__package__).iterdir() if f.name.endswith(".yaml")),
        key=lambda f: f.name,
    )
    for f in files:
        items = parse_phrase_file(f.name, f.read_text(encoding="utf-8"))
        if items:
            langs.append(items[0].language)
        for p in items:
            found[p.category].append(p)
    return Phrases({k: tuple(v) for k, v in found.items()}, tuple(langs))
