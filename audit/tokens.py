"""Submission tokens: carried by the reply address and, as a reference code, by the message.

A token is 8 characters from an alphabet without look-alikes (no 0/o, 1/i/l), so a
person who retypes the reference code by hand still gets it right, case-insensitively.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
TOKEN_LEN = 8
REF_PREFIX = "CA-"
_TOKEN_CHARS = "[2-9a-hj-km-np-z]"
REF_RE = re.compile(rf"\bCA[-\s]?({_TOKEN_CHARS}{{{TOKEN_LEN}}})\b", re.IGNORECASE)
PLUS_RE = re.compile(rf"\+({_TOKEN_CHARS}{{{TOKEN_LEN}}})@", re.IGNORECASE)
LOCAL_RE = re.compile(rf"^<?({_TOKEN_CHARS}{{{TOKEN_LEN}}})@", re.IGNORECASE)


def new_token() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(TOKEN_LEN))


def reference_code(token: str) -> str:
    """The short code put in the message text: CA-7K2M9QXD."""
    return REF_PREFIX + token.upper()


def tokens_in_address(address: str) -> list[str]:
    """Tokens carried by an address, plus-tag or catch-all local part."""
    address = address.strip()
    found = [m.group(1).lower() for m in PLUS_RE.finditer(address)]
    m = LOCAL_RE.match(address)
    if m:
        found.append(m.group(1).lower())
    return found


def tokens_in_text(text: str) -> list[str]:
    """Reference codes in a subject or body, in order, without repeats."""
    out: list[str] = []
    for m in REF_RE.finditer(text or ""):
        t = m.group(1).lower()
        if t not in out:
            out.append(t)
    return out
