"""Our own failures. The CLI catches AuditError and prints its message, no traceback.

A site's failure is not an exception: probes return an outcome that is stored.
These are for things that stop a command: bad configuration, no browser, a mailbox
that refuses the login, a store that cannot be opened.
"""

from __future__ import annotations


class AuditError(Exception):
    """Base of every error we raise on purpose. The message is shown to the user as is."""

    exit_code = 1


class ConfigError(AuditError):
    """companies.yaml / survey.yaml is missing, unparseable or invalid."""

    exit_code = 2


class StoreError(AuditError):
    """The survey store cannot be opened, or its schema is from another version."""


class ProbeError(AuditError):
    """The browser stage cannot work at all (no browser, cannot launch)."""


class InboxError(AuditError):
    """The mailbox cannot be reached or refuses us (wrong password, TLS failure)."""


class AuthError(InboxError):
    """The IMAP server refused the credentials. Never retried in a loop."""


class ReportError(AuditError):
    """A report cannot be built or written."""
