"""Fixtures of the fault drills: a real Dovecot and its SMTP door (module-scoped).

The helpers live in drillkit.py beside this file (put on sys.path here, since tests/
is not a package and pytest runs with --import-mode=importlib).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from audit.demo.mailserver import MailServer, SmtpEntry, dovecot_available  # noqa: E402


@pytest.fixture(scope="module")
def mail() -> Iterator[MailServer]:
    reason = dovecot_available()
    if reason:
        pytest.fail(f"Dovecot is part of the test setup (make test installs it): {reason}")
    server = MailServer(user="survey", password="drill-Pa55word-7q")
    server.start()
    yield server
    server.stop()
    server.cleanup()


@pytest.fixture(scope="module")
def smtp(mail: MailServer) -> Iterator[SmtpEntry]:
    entry = SmtpEntry(mail)
    entry.start()
    yield entry
    entry.stop()
