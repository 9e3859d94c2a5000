"""Secrets: environment, keyring, token command; never in a log line."""

from __future__ import annotations

import logging
import sys

import pytest

from audit.errors import InboxError
from audit.logs import SecretFilter, install_secret_filter
from audit.models import Mailbox
from inbox.credentials import imap_password, oauth2_token


def test_password_from_the_named_env_var() -> None:
    box = Mailbox(password_env="MY_PW")
    assert imap_password(box, {"MY_PW": "hunter22"}) == "hunter22"


def test_missing_password_names_the_env_var() -> None:
    with pytest.raises(InboxError, match="AUDIT_IMAP_PASSWORD"):
        imap_password(Mailbox(), {})


def test_keyring_failure_is_an_inbox_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring

    def boom(service: str, user: str) -> str:
        raise RuntimeError("no backend")

    monkeypatch.setattr(keyring, "get_password", boom)
    with pytest.raises(InboxError, match="keyring"):
        imap_password(Mailbox(keyring_service="contact-audit"), {})
    monkeypatch.setattr(keyring, "get_password", lambda s, u: "from-keyring")
    assert imap_password(Mailbox(keyring_service="contact-audit"), {}) == "from-keyring"


def test_oauth2_token_from_env_and_command() -> None:
    assert oauth2_token(Mailbox(oauth2_token_env="TOK"), {"TOK": "ya29.x\n"}) == "ya29.x"
    cmd = f"{sys.executable} -c 'print(\"ya29.cmd\")'"
    assert oauth2_token(Mailbox(oauth2_token_command=cmd), {}) == "ya29.cmd"
    with pytest.raises(InboxError, match="exited with 3"):
        oauth2_token(Mailbox(oauth2_token_command=f"{sys.executable} -c 'exit(3)'"), {})
    with pytest.raises(InboxError, match="TOK"):
        oauth2_token(Mailbox(oauth2_token_env="TOK"), {})


def test_secret_filter_redacts(caplog: pytest.LogCaptureFixture) -> None:
    install_secret_filter("p4ss-w0rd-xyz")
    log = logging.getLogger("inbox.test")
    with caplog.at_level(logging.INFO):
        log.info("login with %s failed", "p4ss-w0rd-xyz")
        logging.getLogger("imapclient.imaplib").info("> LOGIN survey p4ss-w0rd-xyz")
    assert "p4ss-w0rd-xyz" not in caplog.text
    assert caplog.text.count("***") == 2


def test_filter_leaves_other_records_alone() -> None:
    f = SecretFilter(["abc123"])
    rec = logging.LogRecord("x", logging.INFO, "f", 1, "hello %s", ("world",), None)
    assert f.filter(rec) and rec.getMessage() == "hello world"
