"""The demo's real mail stack: Dovecot from a temp folder plus an SMTP entry point."""

from __future__ import annotations

import smtplib
import ssl
from datetime import UTC, datetime, timedelta

import pytest
from imapclient import IMAPClient

from audit.demo.mailserver import MailServer, SmtpEntry, dovecot_available

pytestmark = pytest.mark.imap
RCPT = "survey@replies.example.com"


def _headers(server: MailServer, folder: str = "INBOX") -> list[tuple[datetime, bytes]]:
    with IMAPClient(server.host, server.imap_port, ssl=False) as c:
        c.normalise_times = False
        c.login(server.user, server.password)
        c.select_folder(folder, readonly=True)
        uids = c.search(["ALL"])
        data = c.fetch(uids, ["INTERNALDATE", "BODY.PEEK[HEADER]"])
        return [(data[u][b"INTERNALDATE"], data[u][b"BODY[HEADER]"]) for u in sorted(data)]


def test_available_names_the_apt_command_when_missing() -> None:
    assert dovecot_available() is None


def test_tls_modes_all_log_in_with_verified_certificates(mailserver: MailServer) -> None:
    for tls in ("plain", "starttls", "ssl"):
        with mailserver.client(tls) as c:
            assert c.select_folder("INBOX", readonly=True)[b"UIDVALIDITY"]
    # A client that does not trust the test CA is refused: verification is real.
    with pytest.raises(ssl.SSLError):
        IMAPClient(mailserver.host, mailserver.imaps_port, ssl=True, timeout=5)
    box = mailserver.mailbox_config()
    assert box.tls == "ssl" and box.resolved_port == mailserver.imaps_port
    assert box.ca_file == mailserver.ca_file


def test_junk_folder_has_special_use(mailserver: MailServer) -> None:
    with mailserver.client() as c:
        flags = {name: f for f, _sep, name in c.list_folders()}
    assert b"\\Junk" in flags["Junk"]


@pytest.mark.parametrize(
    "rcpt", ["survey@replies.example.com", "survey+abcd2345@replies.example.com",
             "abcd2345@replies.example.com", "anyone@elsewhere.example"],
)  # fmt: skip
def test_lmtp_delivers_any_recipient_with_delivered_to(mailserver: MailServer, rcpt: str) -> None:
    mailserver.deliver(b"From: a@b.example\nSubject: hi\n\nbody\n", rcpt)
    [(_when, head)] = _headers(mailserver)
    assert f"Delivered-To: {rcpt}".encode() in head


def test_append_back_dates_internaldate(mailserver: MailServer) -> None:
    when = datetime(2024, 3, 5, 7, 8, 9, tzinfo=UTC)
    mailserver.append(b"Subject: old\r\n\r\nx\r\n", internaldate=when)
    [(got, _head)] = _headers(mailserver)
    assert got == when


def test_smtp_entry_lmtp_and_backdated_append(mailserver: MailServer) -> None:
    with SmtpEntry(mailserver) as entry, smtplib.SMTP(entry.host, entry.port) as smtp:
        long_line = b"y" * 5000
        smtp.sendmail("", ["a@x.example", "b+q@x.example"], b"Subject: dsn\r\n\r\n" + long_line)
        smtp.sendmail(
            "agent@acme.example",
            ["survey+abcd2345@replies.example.com"],
            b"Subject: late\r\nX-Demo-Arrival: 2025-01-02T10:00:00+02:00\r\n\r\nhello\r\n",
        )
    got = _headers(mailserver)
    assert len(got) == 3
    live = [h for w, h in got if b"Subject: dsn" in h]
    assert {b"Delivered-To: a@x.example" in h for h in live} == {True, False}
    assert all(b"Return-Path: <>" in h for h in live)
    [(when, head)] = [(w, h) for w, h in got if b"Subject: late" in h]
    assert when == datetime(2025, 1, 2, 8, 0, tzinfo=UTC)
    assert b"Delivered-To: survey+abcd2345@replies.example.com" in head
    assert b"X-Demo-Arrival" in head


def test_restart_keeps_mail_and_ports(mailserver: MailServer) -> None:
    mailserver.deliver(b"Subject: keep\r\n\r\nx\r\n", "survey@replies.example.com")
    port = mailserver.imap_port
    mailserver.restart()
    assert mailserver.imap_port == port
    assert len(_headers(mailserver)) == 1


def test_own_server_cleans_up(tmp_path: object) -> None:
    with MailServer() as server:
        root = server.root
        assert server.running and root.stat().st_mode & 0o777 == 0o711
    assert not server.running and not root.exists()


def test_far_future_arrival_is_refused_not_silently_clamped(mailserver: MailServer) -> None:
    # Dovecot stores "now" for an APPEND dated > 2 h ahead; we refuse instead of lying.
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=90)
    mailserver.append(b"Subject: soon\r\n\r\nx\r\n", internaldate=soon)
    assert [w for w, _h in _headers(mailserver)] == [soon]
    with pytest.raises(ValueError, match="2 h in the future"):
        mailserver.append(b"Subject: late\r\n\r\nx\r\n", internaldate=soon + timedelta(hours=1))
    late = (soon + timedelta(hours=1)).isoformat().encode()
    with (
        SmtpEntry(mailserver) as entry,
        smtplib.SMTP(entry.host, entry.port) as smtp,
        pytest.raises(smtplib.SMTPDataError) as err,
    ):
        smtp.sendmail("a@b.example", [RCPT], b"X-Demo-Arrival: " + late + b"\r\n\r\nx\r\n")
    assert err.value.smtp_code == 554
