"""Company content is untrusted: helpers that make it inert in HTML, file names and sheets.

Escaping itself is jinja2's autoescape; these cover what escaping does not: bidirectional
control characters that reorder text (a name that displays as something else), link
schemes (``javascript:``), file names taken from company ids, and spreadsheet formulas.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, urlsplit

# LRE RLE PDF LRO RLO, LRI RLI FSI PDI, LRM RLM ALM: shown as a visible marker instead.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
_OTHER_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
BIDI_MARKER = "\ufffd"
_ANY_CONTROL = re.compile(f"{_BIDI_CONTROLS.pattern}|{_OTHER_CONTROLS.pattern}")


def neutralise(text: str) -> str:
    """Replace bidi control characters by U+FFFD and drop C0 control characters.

    Direction is then decided by the element (``dir="auto"``), not by the company.
    """
    if not text or not _ANY_CONTROL.search(text):  # the common case: one scan, no copy
        return text
    text = _BIDI_CONTROLS.sub(BIDI_MARKER, text)
    return _OTHER_CONTROLS.sub("", text)


def safe_href(url: object) -> str | None:
    """An http(s) URL as given, else None (javascript:, data:, relative, garbage)."""
    if not isinstance(url, str) or not url.strip():
        return None
    url = url.strip()
    if any(ch in url for ch in "\x00\r\n\t") or _BIDI_CONTROLS.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def safe_filename(slug: str, taken: set[str]) -> str:
    """A file-name stem for a company page: word characters and dashes, unique in ``taken``."""
    norm = unicodedata.normalize("NFKC", slug)
    stem = re.sub(r"[^\w-]+", "_", norm, flags=re.UNICODE).strip("._-")[:80] or "company"
    candidate, n = stem, 2
    while candidate.lower() in taken:
        candidate = f"{stem}-{n}"
        n += 1
    taken.add(candidate.lower())
    return candidate


def relative_href(path: str) -> str:
    """A relative URL from path segments, every segment percent-encoded (no scheme possible)."""
    return "/".join(quote(seg, safe="") for seg in path.split("/"))


def sheet_safe(value: object) -> object:
    """Cell values for a spreadsheet: strings that a spreadsheet would run get a quote.

    OWASP's rule for CSV injection: a text cell starting with =, +, -, @, tab or carriage
    return is prefixed with a single quote. Numbers, booleans and None pass unchanged (a
    negative number is a number, not text); ISO times start with a digit.
    """
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
