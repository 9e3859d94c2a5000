"""Headers first (issue 15): against a real Dovecot, the body of a message that cannot
belong to the survey is never fetched; a reply with the reference only in its text still
is, and is matched; and `audit review` assigning a message stored from its headers only
fetches its body by UID then and keeps its .eml as evidence.

What was fetched is read off the wire: the Watcher's connection is an IMAPClient subclass
that records every FETCH it sends to the server (no mock: the server answers them)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from imapclient import IMAPClient

from audit.demo.mailserver import MailServer
from audit.store import Store, contact_events, evidence, messages
from inbox.watcher import Watcher

pytestmark = pytest.mark.imap
RCPT = "survey@replies.example.com"


class RecordingIMAPClient(IMAPClient):
    """An IMAPClient that notes every FETCH: (UIDs, data items)."""

    fetches: list[tuple[list[int], list[str]]] = []

    def fetch(self, messages: Any, data: Any, modifiers: Any = None) -> Any:
        items = [d.decode() if isinstance(d, bytes) else str(d) for d in data]
        type(self).fetches.append((list(messages), items))
        return super().fetch(messages, data, modifiers)


@pytest.fixture
def recording() -> Iterator[type[RecordingIMAPClient]]:
    RecordingIMAPClient.fetches = []
    yield RecordingIMAPClient
    RecordingIMAPClient.fetches = []


def _bodies_fetched(cls: type[RecordingIMAPClient]) -> set[int]:
    """UIDs whose whole message (BODY.PEEK[] or a slice of it) was asked for."""
    return {
        uid
        for uids, items in cls.fetches
        if any(i.upper().startswith("BODY.PEEK[]") for i in items)
        for uid in uids
    }


def _msg(sender: str, subject: str, mid: str, body: str, extra: str = "", to: str = RCPT) -> bytes:
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{mid}>\r\n"
        f"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n{extra}\r\n{body}\r\n"
    ).encode()


OLD_PERSONAL = _msg("friend@mail.example", "Dinner?", "old-1@mail.example", "Free on Friday?")
NEWSLETTER = _msg(
    "news@shop.example",
    "Weekly deals",
    "news-1@shop.example",
    "Our best offers. Unsubscribe below.",
    extra="List-Unsubscribe: <mailto:unsubscribe@shop.example>\r\n",
)
# A company answering from a personal address, to the plain address, with the reference
# code only in its text: nothing in its headers ties it to the survey.
TOKEN_IN_BODY = _msg(
    "dana.levi@gmail.example",
    "your question",
    "body-ref-1@gmail.example",
    "Hi Noa,\r\nabout your request CA-ACME2345: the account costs 30 NIS a month.\r\nDana",
)
TAGGED = _msg(
    "agent@acmebank.example",
    "Re: your question",
    "tagged-1@acmebank.example",
    "Thanks, we will call you.",
    to="survey+acme2345@replies.example.com",
)


def _fill(server: MailServer) -> dict[str, int]:
    """The four messages, back-dated where it matters; subject -> UID."""
    now = datetime.now(UTC)
    server.append(OLD_PERSONAL, internaldate=now - timedelta(days=10))  # before the wave
    server.append(NEWSLETTER, internaldate=now - timedelta(days=1))  # bulk, after it
    server.append(TOKEN_IN_BODY, internaldate=now - timedelta(days=1))
    server.append(TAGGED, internaldate=now - timedelta(days=2))
    with server.client() as c:
        c.select_folder("INBOX", readonly=True)
        got = c.fetch(c.search(["ALL"]), ["BODY.PEEK[HEADER.FIELDS (SUBJECT)]"])
    return {
        bytes(d[b"BODY[HEADER.FIELDS (SUBJECT)]"]).decode().split(":", 1)[1].strip(): uid
        for uid, d in got.items()
    }


def _rows(store: Store, table: sa.Table) -> list[sa.Row[Any]]:
    with store.engine.connect() as c:
        return list(c.execute(sa.select(table)))


def test_unrelated_bodies_are_not_fetched_and_a_reference_in_the_text_still_matches(
    mailserver: MailServer,
    store: Store,
    tmp_path: Path,
    recording: type[RecordingIMAPClient],
) -> None:
    uids = _fill(mailserver)
    w = Watcher(store, mailserver.mailbox_config(), tmp_path, password=mailserver.password)
    w.imap_client_class = recording
    stats = w.sync_once()
    assert (stats.new, stats.fetched, stats.bodies, stats.errors) == (4, 4, 2, 0)

    bodies = _bodies_fetched(recording)
    assert uids["Dinner?"] not in bodies and uids["Weekly deals"] not in bodies
    assert {uids["your question"], uids["Re: your question"]} <= bodies
    # every message's header fields were fetched (one FETCH for the batch)
    headers = {
        u for us, items in recording.fetches if any("HEADER.FIELDS" in i for i in items) for u in us
    }
    assert set(uids.values()) <= headers

    by_subject = {r.subject: r for r in _rows(store, messages)}
    for light in ("Dinner?", "Weekly deals"):
        r = by_subject[light]
        assert r.eml_path is None and r.eml_sha256 is None and r.text is None
        assert r.submission_id is None and r.review == "pending"
        assert r.message_id and r.sender and r.size and r.internaldate
        assert "body not fetched" in r.kind_reasons
    assert by_subject["Weekly deals"].kind == "marketing"
    assert by_subject["Dinner?"].kind == "unrelated"
    body_ref = by_subject["your question"]
    assert body_ref.match_method == "token" and body_ref.submission_id is not None
    assert by_subject["Re: your question"].match_method == "address_tag"
    for r in (body_ref, by_subject["Re: your question"]):
        data = (tmp_path / r.eml_path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == r.eml_sha256
    # evidence rows only for the messages whose body was read; events for the matched
    assert {e.message_id for e in _rows(store, evidence)} == {
        body_ref.id,
        by_subject["Re: your question"].id,
    }
    assert len(_rows(store, contact_events)) == 2
    # a second sync finds nothing new and fetches no body
    recording.fetches = []
    assert w.sync_once().new == 0 and not _bodies_fetched(recording)


def test_review_assigning_a_light_message_fetches_its_body_and_keeps_its_eml(
    mailserver: MailServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    recording: type[RecordingIMAPClient],
) -> None:
    import yaml

    from audit.app.review import review_decide
    from audit.config import load_workspace
    from audit.models import SubmissionState
    from audit.pipeline import init_workspace

    root = tmp_path / "ws"
    init_workspace(root)
    survey = yaml.safe_load((root / "survey.yaml").read_text(encoding="utf-8"))
    survey["mailbox"] = {
        "host": "127.0.0.1",
        "port": mailserver.imap_port,
        "tls": "plain",
        "user": mailserver.user,
        "timeout_s": 10,
    }
    (root / "survey.yaml").write_text(yaml.safe_dump(survey, allow_unicode=True), "utf-8")
    companies = [{"name": "Acme Bank", "id": "acme-bank", "homepage": "https://acme.example/"}]
    (root / "companies.yaml").write_text(yaml.safe_dump({"companies": companies}), "utf-8")
    monkeypatch.setenv("AUDIT_IMAP_PASSWORD", mailserver.password)
    ws = load_workspace(root)
    store = Store.open(ws.store_url)
    now = datetime.now(UTC)
    wave = store.ensure_wave(ws.survey.survey.wave, None, now=now - timedelta(days=4))
    cid = store.upsert_company(ws.companies[0])
    sub = store.plan_submission(cid, wave, "acme2345", "survey+acme2345@replies.example", now)
    store.update_submission(
        sub.id, state=SubmissionState.SUBMITTED.value, submitted_at=now - timedelta(days=3)
    )
    # A person's answer sent as bulk mail from a domain of no company, without the
    # reference: stored from its headers only.
    answer = _msg(
        "sales@mailer.example",
        "Your account",
        "answer-1@mailer.example",
        "Hi Noa,\r\nthe account costs 30 NIS a month; call me at 03-555-1234.\r\nDana Levi",
        extra="List-Unsubscribe: <mailto:u@mailer.example>\r\n",
    )
    mailserver.append(answer, internaldate=now - timedelta(days=1))
    w = Watcher(store, ws.survey.mailbox, root, password=mailserver.password)
    w.imap_client_class = recording
    assert w.sync_once().bodies == 0
    [row] = _rows(store, messages)
    assert row.eml_path is None and row.review == "pending"
    assert _rows(store, evidence) == []

    result = review_decide(root, row.id, company_name="Acme Bank", kind="human")
    assert result == f"message #{row.id} assigned to Acme Bank as human"
    [after] = _rows(store, messages)
    assert after.submission_id == sub.id and after.review == "assigned"
    assert after.eml_path and after.text and "30 NIS" in after.text
    data = (root / after.eml_path).read_bytes()
    assert hashlib.sha256(data).hexdigest() == after.eml_sha256
    assert b"Message-ID: <answer-1@mailer.example>" in data
    [ev] = _rows(store, evidence)
    assert (ev.message_id, ev.submission_id, ev.path) == (row.id, sub.id, after.eml_path)
    [event] = _rows(store, contact_events)
    assert (event.submission_id, event.kind, event.at) == (sub.id, "human", row.internaldate)
    store.close()
