"""A real Dovecot for the inbox tests (session-scoped), and a store with a tiny survey."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from audit.demo.mailserver import MailServer, dovecot_available
from audit.models import Company, SubmissionState
from audit.store import Store

EML_DIR = Path(__file__).parent / "eml"


@pytest.fixture(autouse=True)
def _no_dns_leaves_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Watcher built without a stub resolver gets the refusing one (verdict temperror)."""
    monkeypatch.setenv("AUDIT_BLOCK_OUTSIDE", "1")


@pytest.fixture(scope="session")
def dovecot() -> Iterator[MailServer]:
    reason = dovecot_available()
    if reason:
        pytest.skip(reason)
    with MailServer(user="survey", password="s3cret-Pw") as server:
        yield server


@pytest.fixture
def mailserver(dovecot: MailServer) -> MailServer:
    """The session Dovecot with INBOX and Junk emptied (UIDs keep rising, as on a real one)."""
    if not dovecot.running:
        dovecot.start()
    for folder in ("INBOX", "Junk"):
        dovecot.doveadm("expunge", "-u", dovecot.user, "mailbox", folder, "all", check=False)
    return dovecot


SURVEY = [
    # slug, name, homepage, reply_domains, token
    ("acme-bank", "Acme Bank", "https://www.acmebank.example", ["acme.zendesk.com"], "acme2345"),
    ("globex", "Globex Telecom", "https://globex.example", ["globex.freshdesk.com"], "gbxq6789"),
    ("initech", "Initech Insurance", "https://initech.example", [], "ntch2345"),
]
REPLY_DOMAIN = "replies.example.com"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A real SQLite store with three submitted companies in wave-1, submitted 3 days ago."""
    s = survey_store(tmp_path / "s.db")
    yield s
    s.close()


@pytest.fixture
def make_store() -> Callable[[Path], Store]:
    """``store``'s store at another path, for a second one in the same test."""
    return survey_store


def survey_store(path: Path) -> Store:
    """The ``store`` fixture's store, at ``path``."""
    s = Store.open(f"sqlite:///{path}")
    now = datetime.now(UTC)
    wave = s.ensure_wave("wave-1", now=now - timedelta(days=4))
    for slug, name, home, extra, token in SURVEY:
        cid = s.upsert_company(Company(name=name, id=slug, homepage=home, reply_domains=extra))
        row = s.plan_submission(cid, wave, token, f"survey+{token}@{REPLY_DOMAIN}", now)
        s.update_submission(
            row.id,
            state=SubmissionState.SUBMITTED.value,
            submitted_at=now - timedelta(days=3),
        )
    return s
