"""Logging helpers: a filter that redacts secrets from every record (STYLE 8).

Every stage registers the secrets it handles (IMAP password, OAuth2 token) here; the
filter sits on the root logger's handlers and on our loggers, so no log line carries them.
"""

from __future__ import annotations

import logging
import os
import re
from urllib.parse import unquote, urlsplit, urlunsplit

from audit.models import DEFAULT_PASSWORD_ENV

REDACTED = "***"
# Query parameters that carry a credential (?token=, ?apiKey=, ?access_token=, ?auth=, ...).
_SECRET_PARAM = re.compile(
    r"(token|key|secret|password|passwd|pwd|auth|authorization|signature|sig|credentials?)$",
    re.IGNORECASE,
)


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


def _query_pairs(query: str) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for part in query.split("&") if query else []:
        name, eq, value = part.partition("=")
        out.append((name, value if eq else None))
    return out


def redact_url(url: str) -> str:
    """A URL as it may be shown, logged or stored: its password and the values of query
    parameters that carry a credential (``?token=``, ``?apiKey=``) replaced by ***.

    ``ws://user:pw@host:3000/pw?token=abc`` -> ``ws://user:***@host:3000/pw?token=***``.
    """
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "<url>"
    netloc = parts.netloc
    if password is not None:
        userinfo, _, hostport = netloc.rpartition("@")
        netloc = f"{userinfo.split(':', 1)[0]}:{REDACTED}@{hostport}"
    query = "&".join(
        name if value is None else f"{name}={REDACTED if _SECRET_PARAM.search(name) else value}"
        for name, value in _query_pairs(parts.query)
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def url_secrets(url: str) -> list[str]:
    """The secrets a URL carries (its password, credential query values), raw and decoded,
    for the logging filter: a library's error message that quotes the URL stays clean."""
    try:
        parts = urlsplit(url)
        found = [parts.password] if parts.password else []
    except ValueError:
        return []
    found += [v for n, v in _query_pairs(parts.query) if v and _SECRET_PARAM.search(n)]
    return sorted({s for v in found for s in (v, unquote(v)) if s})
