"""Logging helpers: a filter that redacts secrets from every record (STYLE 8)."""

from __future__ import annotations

import logging
import os

from audit.models import DEFAULT_PASSWORD_ENV

_SECRETS: set[str] = set()
REDACTED = "***"


def register_secret(value: str | None) -> None:
    """Never let this value reach a log line again (passwords, tokens)."""
    if value and len(value) >= 3:
        _SECRETS.add(value)


def redact(text: str) -> str:
    for secret in _SECRETS:
        text = text.replace(secret, REDACTED)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if _SECRETS:
            record.msg = redact(record.getMessage())
            record.args = None
        return True


def install_redaction() -> None:
    """Redact registered secrets (and $AUDIT_IMAP_PASSWORD) in every handler's output."""
    register_secret(os.environ.get(DEFAULT_PASSWORD_ENV))
    f = RedactingFilter()
    for handler in logging.getLogger().handlers:
        if not any(isinstance(x, RedactingFilter) for x in handler.filters):
            handler.addFilter(f)
