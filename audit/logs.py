"""Logging helpers: a filter that redacts secrets from every record (STYLE 8).

Every stage registers the secrets it handles (IMAP password, OAuth2 token) here; the
filter sits on the root logger's handlers and on our loggers, so no log line carries them.
"""

from __future__ import annotations

import logging
import os

from audit.models import DEFAULT_PASSWORD_ENV

REDACTED = "***"


class SecretFilter(logging.Filter):
    """Replaces every known secret in a log record's message (and arguments) by ***."""

    def __init__(self, secrets: list[str] | None = None):
        super().__init__("secrets")
        self.secrets: set[str] = {s for s in (secrets or []) if s and len(s) >= 3}

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= 3:
            self.secrets.add(secret)

    def redact(self, text: str) -> str:
        for s in self.secrets:
            text = text.replace(s, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:
            return True
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


_FILTER = SecretFilter()


def install_secret_filter(secret: str | None) -> SecretFilter:
    """Redact ``secret`` everywhere: on the root logger's handlers and our loggers."""
    _FILTER.add(secret)
    targets: list[logging.Filterer] = [logging.getLogger()]
    for name in ("audit", "probes", "inbox", "reports", "imapclient"):
        targets.append(logging.getLogger(name))
    targets.extend(logging.getLogger().handlers)
    for t in targets:
        if _FILTER not in t.filters:
            t.addFilter(_FILTER)
    return _FILTER


def install_redaction() -> None:
    """At start-up: redact $AUDIT_IMAP_PASSWORD and keep the filter on every handler."""
    install_secret_filter(os.environ.get(DEFAULT_PASSWORD_ENV))
