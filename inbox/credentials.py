"""IMAP and SMTP secrets: from the environment, the system keyring or a token command. Never logged.

DESIGN: secrets never come from the YAML, the store, the logs or the reports. The
watcher registers each secret with ``audit.logs.install_secret_filter`` so that a secret
that slips into a log line is replaced by ``***``.
"""

from __future__ import annotations

import logging
import os
import shlex
import subprocess
from collections.abc import Mapping

from audit.errors import InboxError
from audit.models import Mailbox, Smtp

log = logging.getLogger(__name__)

TOKEN_COMMAND_TIMEOUT_S = 30.0


def imap_password(mailbox: Mailbox, env: Mapping[str, str] | None = None) -> str:
    """The IMAP password: env var ``mailbox.password_env``, else the keyring."""
    return password_for(mailbox, "IMAP", "mailbox", env)


def smtp_password(smtp: Smtp, env: Mapping[str, str] | None = None) -> str:
    """The SMTP password (the e-mail channel): env var ``smtp.password_env``, else the
    keyring, exactly like the IMAP one."""
    return password_for(smtp, "SMTP", "smtp", env)


def password_for(
    box: Mailbox | Smtp, what: str, section: str, env: Mapping[str, str] | None = None
) -> str:
    """A login's password: env var ``box.password_env``, else the keyring under
    ``box.keyring_service`` and ``box.user``. ``what`` and ``section`` name it in errors."""
    env = os.environ if env is None else env
    value = env.get(box.password_env)
    if value:
        return value
    if box.keyring_service:
        try:
            import keyring

            value = keyring.get_password(box.keyring_service, box.user)
        except Exception as exc:  # no backend, locked keyring, ...
            raise InboxError(
                f"cannot read the {what} password from the keyring service "
                f"{box.keyring_service!r}: {exc}; set {box.password_env} instead"
            ) from None
        if value:
            return value
        raise InboxError(
            f"no {what} password for user {box.user!r} in keyring service "
            f"{box.keyring_service!r}; store one with `keyring set "
            f"{box.keyring_service} {box.user}` or set {box.password_env}"
        )
    raise InboxError(
        f"no {what} password: set the environment variable {box.password_env} "
        f"(or {section}.keyring_service in survey.yaml)"
    )


def uses_oauth2(mailbox: Mailbox) -> bool:
    return bool(mailbox.oauth2_token_env or mailbox.oauth2_token_command)


def oauth2_token(mailbox: Mailbox, env: Mapping[str, str] | None = None) -> str:
    """An XOAUTH2 access token from ``oauth2_token_env`` or ``oauth2_token_command``."""
    env = os.environ if env is None else env
    if mailbox.oauth2_token_env:
        value = env.get(mailbox.oauth2_token_env)
        if value:
            return value.strip()
        if not mailbox.oauth2_token_command:
            raise InboxError(
                f"no OAuth2 token: set the environment variable {mailbox.oauth2_token_env}"
            )
    if mailbox.oauth2_token_command:
        try:
            res = subprocess.run(
                shlex.split(mailbox.oauth2_token_command),
                capture_output=True,
                text=True,
                timeout=TOKEN_COMMAND_TIMEOUT_S,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise InboxError(f"the OAuth2 token command failed to run: {exc}") from None
        token = res.stdout.strip()
        if res.returncode != 0 or not token:
            raise InboxError(
                f"the OAuth2 token command exited with {res.returncode} and no token"
                + (f": {res.stderr.strip()[:200]}" if res.stderr.strip() else "")
            )
        return token
    raise InboxError("no OAuth2 token source configured")
