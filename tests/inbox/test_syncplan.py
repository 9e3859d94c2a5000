"""The sync's pure decisions (inbox/syncplan.py), without a server: where a folder's sync
starts, which UIDs in which batches and parts, which bodies are fetched, where the
checkpoint moves, fingerprints and the reconnect delay. The same decisions against a real
Dovecot are in test_watcher.py and test_sync_headers_first.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import inbox.syncplan as plan
from audit.models import MessageKind
from inbox.match import Candidate
from inbox.parse import parse_headers
from inbox.relevance import window

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ACME = Candidate(1, "acme2345", "acme-bank", 1, ("acmebank.example",), T0, "s+acme2345@r.ex")


@pytest.mark.parametrize(
    ("checkpoint", "uidvalidity", "expected"),
    [
        (None, 7, (1, False)),  # never synced: from the first UID
        ((7, 41), 7, (42, False)),  # after the last UID seen
        ((6, 41), 7, (1, True)),  # the folder was recreated: every UID again, a rescan
    ],
)
def test_sync_start(
    checkpoint: tuple[int, int] | None, uidvalidity: int, expected: tuple[int, bool]
) -> None:
    assert plan.sync_start(checkpoint, uidvalidity) == expected


def test_uids_from_drops_the_last_message_that_n_star_always_returns() -> None:
    assert plan.uids_from([9, 12, 10], 10) == [10, 12]
    assert plan.uids_from([9], 10) == []


def test_batches_of_fetch_batch_uids(monkeypatch: pytest.MonkeyPatch) -> None:
    assert list(plan.batches(list(range(1, 8)), 3)) == [[1, 2, 3], [4, 5, 6], [7]]
    monkeypatch.setattr(plan, "FETCH_BATCH", 4)
    assert list(plan.batches([1, 2, 3, 4, 5])) == [[1, 2, 3, 4], [5]]
    assert list(plan.batches([])) == []


@pytest.mark.parametrize(
    ("start", "uids", "uidnext", "expected"),
    [
        (1, [], 0, 0),  # an empty folder, a server without UIDNEXT
        (5, [], 5, 4),  # nothing new: stays
        (5, [5, 6], 7, 6),
        (5, [5, 6], 10, 9),  # 7..9 expunged since: the checkpoint passes them
        (5, [5, 6], 0, 6),  # no UIDNEXT: the last UID seen
    ],
)
def test_checkpoint_after(start: int, uids: list[int], uidnext: int, expected: int) -> None:
    assert plan.checkpoint_after(start, uids, uidnext) == expected


@pytest.mark.parametrize(
    ("checkpoint", "uidvalidity", "uidnext", "expected"),
    [
        (None, 7, 1, True),
        ((6, 3), 7, 4, True),  # recreated
        ((7, 3), 7, 4, False),  # up to date
        ((7, 3), 7, 5, True),  # UID 4 arrived
    ],
)
def test_behind(
    checkpoint: tuple[int, int] | None, uidvalidity: int, uidnext: int, expected: bool
) -> None:
    assert plan.behind(checkpoint, uidvalidity, uidnext) is expected


def _head(mid: str, sender: str = "news@shop.example", extra: str = "") -> bytes:
    return (
        f"From: {sender}\r\nTo: survey@r.ex\r\nSubject: hello\r\nMessage-ID: <{mid}>\r\n{extra}"
    ).encode()


def _answer(at: datetime, size: int, header: bytes) -> dict[bytes, Any]:
    return {b"INTERNALDATE": at, b"RFC822.SIZE": size, b"BODY[HEADER]": header}


def test_headers_first_fetches_only_the_bodies_that_can_belong_to_the_survey() -> None:
    """Before the wave opened, bulk mail from no company's domain is stored from its
    headers (light); mail from a company's domain, an answer to a message of the survey,
    and mail without a Message-ID have their bodies fetched."""
    before = T0 - timedelta(days=2)
    heads = {
        1: _answer(before, 500, _head("n1@shop.example")),
        2: _answer(before, 900, _head("r1@acmebank.example", "help@acmebank.example")),
        3: _answer(before, 700, _head("t1@other.example", extra="In-Reply-To: <r1@acmebank.example>\r\n")),
        4: _answer(before, 300, b"From: x@y.example\r\nSubject: no id\r\n"),
        5: {b"INTERNALDATE": "not a date", b"RFC822.SIZE": 1, b"BODY[HEADER]": b""},
    }  # fmt: skip
    looks = plan.look_at_headers([1, 2, 3, 4, 5, 6], heads)
    assert sorted(looks) == [1, 2, 3, 4]  # 5: unreadable (the whole-message path), 6: gone
    assert plan.thread_refs(looks) == {"<r1@acmebank.example>"}
    win = window([ACME], recent_from=T0 + timedelta(days=1))
    thread_ids: set[str] = set()
    plan.choose_light(looks, [ACME], win, thread_ids)
    light = {u for u, f in looks.items() if f.light is not None}
    assert light == {1}
    assert looks[1].light_why is not None and looks[1].light_why[0] is MessageKind.UNRELATED
    assert looks[1].fingerprint == plan.fingerprint(parse_headers(heads[1][b"BODY[HEADER]"]), b"")
    assert "<r1@acmebank.example>" in thread_ids  # 3 answers 2, which is relevant
    assert plan.small_bodies([1, 2, 3, 4, 6], heads, looks, cap=800) == [3, 4]  # 2 > cap


def test_parts_cut_a_batch_by_body_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each part holds at most BATCH_BYTES of bodies (each counted up to the cap); a
    message stored from its headers weighs nothing; a part is never empty."""
    monkeypatch.setattr(plan, "BATCH_BYTES", 1000)
    heads = {u: _answer(T0, size, b"") for u, size in {1: 600, 2: 600, 3: 5000, 4: 10}.items()}
    assert plan.parts([1, 2, 3, 4], heads, {}, cap=10_000) == [[1], [2], [3], [4]]
    assert plan.parts([1, 2, 3, 4], heads, {}, cap=400) == [[1, 2], [3, 4]]
    light = plan.Fetched(2, T0, 600, b"", None, light=parse_headers(b"Message-ID: <a@b>\r\n"))
    assert plan.parts([1, 2, 4], heads, {2: light}, cap=10_000) == [[1, 2, 4]]


def test_fingerprint_by_message_id_else_by_content() -> None:
    raw = b"From: a@b.example\r\nDate: Mon, 2 Mar 2026 09:00:00 +0000\r\nSubject: s\r\n\r\nbody\r\n"
    with_id = plan.read_fetched(1, _answer(T0, len(raw), b"Message-ID: <X@Y>\r\n"), None)
    assert with_id.fingerprint == plan.fingerprint(parse_headers(b"Message-ID: <x@y>\r\n"), b"")
    whole = plan.read_fetched(2, _answer(T0, len(raw), raw.split(b"\r\n\r\n")[0]), raw)
    again = plan.read_fetched(3, _answer(T0, len(raw), b""), raw.replace(b"\r\n", b"\n"))
    assert whole.parsed is not None and whole.fingerprint is not None
    other = raw.replace(b"body", b"other body")
    assert plan.read_fetched(4, _answer(T0, len(other), b""), other).fingerprint != (
        whole.fingerprint
    )
    assert again.fingerprint != whole.fingerprint  # the Date header counts when it is known
    no_id = plan.read_fetched(5, _answer(T0, 10**9, b"Subject: big\r\n"), None)
    assert no_id.fingerprint is None  # a large message without an id: known after its body


def test_parse_raw_says_when_the_body_was_cut() -> None:
    raw = b"From: a@b.example\r\nSubject: big\r\n\r\nfirst bytes"
    assert plan.parse_raw(raw, 0, False).size == len(raw)
    cut = plan.parse_raw(raw, 5000, True)
    assert cut.size == 5000
    assert cut.parse_error == f"body cut at {len(raw)} of 5000 bytes for parsing"


@pytest.mark.parametrize(
    ("failures", "jitter", "expected"),
    [(0, 1.0, 1.0), (3, 1.0, 8.0), (3, 0.5, 4.0), (10, 1.0, 120.0), (10, 0.5, 60.0)],
)
def test_backoff_delay_doubles_up_to_the_cap(failures: int, jitter: float, expected: float) -> None:
    assert plan.backoff_delay(failures, 1.0, 120.0, jitter) == expected
