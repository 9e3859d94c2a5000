"""Headers first (issue 15): against a real Dovecot, the body of a message that cannot
belong to the survey is never fetched; a reply with the reference only in its text still
is, and is matched; and `audit review` assigning a message stored from its headers only
fetches its body by UID then and keeps its .eml as evidence.

What was fetched is read off the wire: the Watcher's connection is an IMAPClient subclass
that records every FETCH it sends to the server (no mock: the server answers them)."""

from __future__ import annotations

import hashlib
import json
import re
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
    """An IMAPClient whose connection notes every FETCH command it sends to the server, as
    sent (whichever code path built it): (UIDs, data items)."""

    fetches: list[tuple[list[int], list[str]]] = []

    def _create_IMAP4(self) -> Any:
        imap = super()._create_IMAP4()
        send = imap.send

        def recording_send(data: bytes) -> None:
            m = re.search(rb"\bFETCH ([0-9:,]+) \((.*)\)\r\n$", data)
            if m:
                type(self).fetches.append((_uid_set(m.group(1)), _items(m.group(2).decode())))
            send(data)

        imap.send = recording_send
        return imap


def _uid_set(text: bytes) -> list[int]:
    out: list[int] = []
    for part in text.decode().split(","):
        lo, _, hi = part.partition(":")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return out


def _items(text: str) -> list[str]:
    """FETCH items, a bracketed section (HEADER.FIELDS (...)) kept whole."""
    return re.findall(r"[\w.]+(?:\[[^\]]*\](?:<[\d.]+>)?)?", text)


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
        if any(i.upper().startswith(("BODY.PEEK[]", "BODY[]", "RFC822", "BODY.PEEK[TEXT]"))
               and not i.upper().startswith("RFC822.SIZE") for i in items)
        for uid in uids
    }  # fmt: skip


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


def _acme_workspace(
    tmp_path: Path, mailserver: MailServer, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Store, Any]:
    """A workspace whose mailbox is ``mailserver``'s, with Acme Bank submitted 3 days ago:
    its root, its store and the submission."""
    import yaml

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
    return root, store, sub


def test_review_assigning_a_light_message_fetches_its_body_and_keeps_its_eml(
    mailserver: MailServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    recording: type[RecordingIMAPClient],
) -> None:
    from audit.app.review import review_decide
    from audit.config import load_workspace

    root, store, sub = _acme_workspace(tmp_path, mailserver, monkeypatch)
    ws = load_workspace(root)
    now = datetime.now(UTC)
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


def test_an_unmatched_message_read_whole_is_classified_when_review_first_shows_it(
    mailserver: MailServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A person's answer with no reference, from a personal address, after the wave opened:
    its body is read and kept (it may hold a reference) but it matches nothing. The sync
    stores it unclassified; `audit review`'s list works out what it reads as (human, as
    the classifier says of its .eml), stores that once, and assigning it without --kind
    takes that class. A row matched meanwhile is never overwritten by a late class."""
    from audit.app.review import message_list, review_decide, review_list
    from audit.config import load_workspace
    from inbox import assign
    from inbox.classify import classify
    from inbox.parse import parse_message

    root, store, sub = _acme_workspace(tmp_path, mailserver, monkeypatch)
    ws = load_workspace(root)
    answer = _msg(
        "dana.levi@gmail.example",
        "Your account",
        "answer-2@gmail.example",
        "Hi Noa,\r\nthe account costs 30 NIS a month, and I can open it for you "
        "tomorrow morning at the branch. Do you want me to call you at 10?\r\n"
        "Best regards,\r\nDana Levi",
    )
    mailserver.append(answer, internaldate=datetime.now(UTC) - timedelta(days=1))
    w = Watcher(store, ws.survey.mailbox, root, password=mailserver.password)
    assert w.sync_once().bodies == 1
    [row] = _rows(store, messages)
    assert row.eml_path and row.submission_id is None and row.review == "pending"
    assert (row.kind, row.kind_reasons) == ("unrelated", assign.UNREAD_JSON)
    expected = classify(parse_message((root / row.eml_path).read_bytes()), None)
    assert "reads as human" in expected.reasons[0]

    [listed] = review_list(root)
    assert listed["why"] == expected.reasons[0]
    [stored] = _rows(store, messages)
    assert (stored.kind, stored.helpdesk) == (expected.kind.value, expected.helpdesk)
    assert json.loads(stored.kind_reasons) == expected.reasons
    assert assign.classify_unread(store, root, [stored]) == 0  # once: it is stored
    assert message_list(root)[0]["why"] == expected.reasons[0]

    result = review_decide(root, row.id, company_name="Acme Bank")
    assert result == f"message #{row.id} assigned to Acme Bank as human"
    [event] = _rows(store, contact_events)
    assert (event.submission_id, event.kind) == (sub.id, "human")

    # a row matched by a sync between a listing's read and its write keeps its match's class
    store.update_message(
        row.id, submission_id=None, kind="unrelated", kind_reasons=assign.UNREAD_JSON
    )
    [unread] = _rows(store, messages)
    store.update_message(row.id, submission_id=sub.id, kind="human", kind_reasons='["human"]')
    assert assign.classify_unread(store, root, [unread]) == 0
    [kept] = _rows(store, messages)
    assert (kept.kind, kept.kind_reasons) == ("human", '["human"]')
    store.close()


# -- the first look's FETCH answers, parsed without IMAPClient's lexer (pure) ---------------
ITEM = b"BODY[HEADER.FIELDS (FROM SUBJECT)]"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(
            [
                (b'1 (UID 7 INTERNALDATE "04-Dec-2026 08:51:14 +0200" RFC822.SIZE 321 '
                 + ITEM + b" {26}", b"From: a@b.example\r\nX: y\r\n\r\n"),
                b")",
                (b'2 (UID 9 INTERNALDATE "03-Dec-2026 23:00:00 +0000" RFC822.SIZE 5 '
                 + ITEM + b" {2}", b"\r\n"),
                b")",
            ],
            {
                7: ("2026-12-04T06:51:14+00:00", 321, b"From: a@b.example\r\nX: y\r\n\r\n"),
                9: ("2026-12-03T23:00:00+00:00", 5, b"\r\n"),
            },
            id="two-answers",
        ),
        pytest.param(  # the items after the literal
            [(b"3 (UID 11 " + ITEM + b" {3}", b"a\r\n"),
             b' INTERNALDATE "01-Jan-2026 00:00:00 +0000" RFC822.SIZE 9)'],
            {11: ("2026-01-01T00:00:00+00:00", 9, b"a\r\n")},
            id="literal-first",
        ),
        pytest.param(  # no such header fields: an empty string, no literal
            [b'4 (UID 12 INTERNALDATE "01-Jan-2026 00:00:00 +0000" RFC822.SIZE 9 ' + ITEM
             + b' "")'],
            {12: ("2026-01-01T00:00:00+00:00", 9, b"")},
            id="no-literal",
        ),
    ],
)  # fmt: skip
def test_header_fetch_answers_are_parsed(data: list[Any], expected: dict[int, Any]) -> None:
    from inbox.imapio import HEADER_KEY, parse_header_fetch

    got = parse_header_fetch(data)
    assert got is not None
    assert {
        uid: (v[b"INTERNALDATE"].astimezone(UTC).isoformat(), v[b"RFC822.SIZE"], v[HEADER_KEY])
        for uid, v in got.items()
    } == expected


@pytest.mark.parametrize(
    "data",
    [
        [b"* 3 EXISTS"],  # no UID
        [(b"1 (UID 7 " + ITEM + b" {2}", b"\r\n"), b")"],  # no INTERNALDATE or size
        [12345],
    ],
)
def test_other_fetch_answer_shapes_fall_back(data: list[Any]) -> None:
    from inbox.imapio import parse_header_fetch

    assert parse_header_fetch(data) is None


def test_the_tight_fetch_reader_gives_what_imaplib_gives(mailserver: MailServer) -> None:
    """imapio.uid_fetch_lines reads a UID FETCH answer off the connection by itself: on a
    real Dovecot it gives exactly imaplib's ``uid("FETCH")`` data (header literals, NIL
    fields, a whole body with a literal and the items after it), leaves the connection in
    step for the next command, and a refused command raises as imaplib does."""
    import imaplib

    from inbox.imapio import uid_fetch_lines
    from inbox.syncplan import HEADER_ITEMS

    _fill(mailserver)
    mailserver.append(b"Subject: no from, no date\r\n\r\nbody {12}\r\n")  # a brace in a body
    with mailserver.client() as c:
        c.select_folder("INBOX", readonly=True)
        uids = ",".join(str(u) for u in c.search(["ALL"]))
        imap = c._imap
        for items in (
            f"({' '.join(HEADER_ITEMS)})",
            "(UID BODY.PEEK[HEADER.FIELDS (X-NONE)] RFC822.SIZE)",
            "(BODY.PEEK[] INTERNALDATE)",
        ):
            typ, want = imap.uid("FETCH", uids, items)
            assert typ == "OK" and want
            assert uid_fetch_lines(imap, uids, items) == want, items
        assert c.noop()[0]  # the next command's answer is its own
        with pytest.raises(imaplib.IMAP4.error, match="BAD|NO"):
            uid_fetch_lines(imap, uids, "(NOSUCHITEM)")
        assert c.search(["ALL"])  # still in step after a refusal
        assert not imap.tagged_commands
