"""The watcher against a real Dovecot, with fault drills: 0 lost, 0 counted twice."""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from imapclient import IMAPClient

from audit.demo.mailserver import MailServer, SmtpEntry
from audit.errors import AuthError
from audit.models import Mailbox
from audit.store import Store, contact_events, evidence, messages, runs, submissions
from inbox.watcher import NewMessage, Watcher

pytestmark = pytest.mark.imap
EML = Path(__file__).parent / "eml"
RCPT = "survey@replies.example.com"
CEILING_S = 60  # a wait's ceiling, reached only when the behaviour is broken


def _rows(store: Store, table: sa.Table) -> list[sa.Row]:
    with store.engine.connect() as c:
        return list(c.execute(sa.select(table)))


def _reply(n: int, token: str = "acme2345", mid: str | None = None) -> bytes:
    mid = mid or f"<reply-{n}-{time.time_ns()}@acmebank.example>"
    return (
        f"From: Agent {n} <agent{n}@acmebank.example>\r\nTo: survey+{token}@replies.example.com\r\n"
        f"Subject: Re: your question {n}\r\nMessage-ID: {mid}\r\n"
        "Date: Tue, 24 Nov 2026 10:00:00 +0200\r\n\r\n"
        f"Hi Dana, the account costs {n} NIS per month.\r\nRegards,\r\nAgent\r\n"
    ).encode()


def _watcher(store: Store, server: MailServer, tmp: Path, **box: object) -> Watcher:
    w = Watcher(store, server.mailbox_config(**box), tmp, password=server.password)
    w.backoff_base_s = 0.05
    w.backoff_max_s = 0.5
    return w


@contextlib.contextmanager
def _watching(w: Watcher) -> Iterator[list[tuple[float, NewMessage]]]:
    events: list[tuple[float, NewMessage]] = []
    stop = threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            w.watch(stop, on_event=lambda e: events.append((time.monotonic(), e)))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    _until(lambda: w._client is not None, CEILING_S)
    try:
        yield events
    finally:
        stop.set()
        t.join(15)
        assert not t.is_alive(), "watch() did not stop"
        assert not errors, errors


def _until(cond: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


def test_sync_records_the_catalogue(mailserver: MailServer, store: Store, tmp_path: Path) -> None:
    files = sorted(EML.glob("*.eml"))
    for p in files:
        mailserver.deliver(p.read_bytes(), RCPT)
    w = _watcher(store, mailserver, tmp_path)
    stats = w.sync_once()
    assert stats.new == len(files) and stats.errors == 0, stats
    rows = _rows(store, messages)
    assert len(rows) == len(files)
    assert all(r.internaldate.tzinfo is not None for r in rows)
    unmatched = [r for r in rows if r.submission_id is None]
    assert all(r.review == "pending" for r in unmatched)
    assert stats.matched == len(rows) - len(unmatched) >= 25
    # evidence: the raw .eml with its sha256, for every message
    for r in rows:
        data = (tmp_path / r.eml_path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == r.eml_sha256
    assert len(_rows(store, evidence)) == len(rows)
    events = _rows(store, contact_events)
    kinds = {e.kind for e in events}
    assert kinds <= {"human", "auto_ack", "bounce"} and "marketing" not in kinds
    assert {e.message_id for e in events} <= {r.id for r in rows if r.submission_id}
    # read-only: \Seen untouched; and a second sync finds nothing new
    with mailserver.client() as c:
        c.select_folder("INBOX", readonly=True)
        assert len(c.search(["UNSEEN"])) == len(files)
    assert w.sync_once().new == 0


def test_replies_that_arrived_while_down_keep_their_true_time(
    mailserver: MailServer, store: Store, tmp_path: Path
) -> None:
    arrived = datetime(2026, 11, 21, 7, 33, 0, tzinfo=UTC)
    with SmtpEntry(mailserver) as entry:
        import smtplib

        with smtplib.SMTP(entry.host, entry.port) as smtp:
            smtp.sendmail(
                "agent@acmebank.example",
                ["survey+acme2345@replies.example.com"],
                b"X-Demo-Arrival: " + arrived.isoformat().encode() + b"\r\n" + _reply(1),
            )
    w = _watcher(store, mailserver, tmp_path)
    w.sync_once()
    [row] = _rows(store, messages)
    assert row.internaldate == arrived
    [ev] = _rows(store, contact_events)
    assert ev.at == arrived and ev.kind == "human" and ev.source == "imap"


def test_duplicate_delivery_is_counted_once(
    mailserver: MailServer, store: Store, tmp_path: Path
) -> None:
    raw = _reply(2)
    mailserver.deliver(raw, "survey+acme2345@replies.example.com")
    mailserver.deliver(raw, "survey@replies.example.com")
    no_id = b"From: a@acmebank.example\r\nSubject: no id\r\n\r\nsame body\r\n"
    mailserver.deliver(no_id, RCPT)
    mailserver.deliver(no_id, RCPT)
    stats = _watcher(store, mailserver, tmp_path).sync_once()
    assert (stats.new, stats.duplicates) == (2, 2)
    assert len(_rows(store, messages)) == 2 and len(_rows(store, contact_events)) == 2


class _CountingClient(IMAPClient):
    """Counts its connections and the header FETCHes each sends (noted in ``wire`` too, in
    order); the connection numbered ``fail_on`` drops (OSError, as a reset would) at its
    ``fail_at``-th header FETCH."""

    opened = 0
    header_fetches: dict[int, int] = {}
    wire: list[str] = []
    fail_on: int | None = None
    fail_at = 0

    def _create_IMAP4(self) -> Any:
        cls = type(self)
        cls.opened += 1
        number = cls.opened
        imap = super()._create_IMAP4()
        send = imap.send

        def counting_send(data: bytes) -> None:
            if b"FETCH" in data and b"HEADER.FIELDS" in data:
                cls.header_fetches[number] = cls.header_fetches.get(number, 0) + 1
                cls.wire.append("headers")
                if number == cls.fail_on and cls.header_fetches[number] >= cls.fail_at:
                    raise ConnectionResetError("simulated reset of the prefetch connection")
            send(data)

        imap.send = counting_send
        return imap


def test_a_large_sync_asks_for_the_next_headers_ahead(
    mailserver: MailServer,
    store: Store,
    tmp_path: Path,
    make_store: Callable[[Path], Store],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """More than one batch of headers: the next batch's header FETCH is sent before the
    current batch is classified and stored (the server reads those headers meanwhile),
    and the result is the one a sync in one batch gives: every message once, the same
    matches. When the connection drops mid-way, the sync stops with the error; what was
    stored stays, with the checkpoint at its last batch, and the next sync records the
    rest once."""
    files = sorted(EML.glob("*.eml"))[:40]
    for p in files:
        mailserver.deliver(p.read_bytes(), RCPT)
    _CountingClient.opened, _CountingClient.header_fetches = 0, {}
    _CountingClient.fail_on = 1  # the first sync's connection ...
    _CountingClient.fail_at = 6  # ... drops when it asks for the 6th batch's headers
    w = _watcher(store, mailserver, tmp_path)
    w.imap_client_class = _CountingClient
    w.fetch_batch = 4
    with pytest.raises(ConnectionResetError):
        w.sync_once()
    kept = _rows(store, messages)
    assert 0 < len(kept) < len(files)
    checkpoint = store.checkpoint("INBOX")
    assert checkpoint is not None and checkpoint[1] == max(r.uid for r in kept)

    _CountingClient.fail_on = None
    _CountingClient.wire = []
    store_batch = store.add_messages

    def noted(*args: Any, **kw: Any) -> list[int | None]:  # the real store, its calls noted
        _CountingClient.wire.append("stored")
        return store_batch(*args, **kw)

    monkeypatch.setattr(store, "add_messages", noted)
    stats = w.sync_once()
    # every batch but the last is stored after the next one's headers were asked for
    wire = _CountingClient.wire
    assert wire[:3] == ["headers", "headers", "stored"], wire
    assert wire.count("stored") == wire.count("headers")
    assert all(wire[i + 1] == "headers" for i, x in enumerate(wire[:-2]) if x == "stored")
    rows = _rows(store, messages)
    assert stats.new == len(files) - len(kept) and stats.duplicates == 0
    assert len(rows) == len({r.fingerprint for r in rows}) == len(files)
    assert _CountingClient.header_fetches[2] == -(-(len(files) - len(kept)) // 4)

    # the same mailbox synced in one batch: the same rows and matches
    one = make_store(tmp_path / "one.db")
    _watcher(one, mailserver, tmp_path / "one").sync_once()
    tokens = {r.id: r.token for r in _rows(store, submissions)}
    tokens_one = {r.id: r.token for r in _rows(one, submissions)}

    def key(rows: list[sa.Row], tok: dict[int, str]) -> list[tuple[object, ...]]:
        return sorted(
            (r.fingerprint, tok.get(r.submission_id), r.kind, r.match_method) for r in rows
        )

    assert key(_rows(one, messages), tokens_one) == key(rows, tokens)
    one.close()


def test_a_batch_split_by_body_bytes_records_each_message_once(
    mailserver: MailServer, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a tiny BATCH_BYTES every message is a part of its own (own body fetch and
    transaction): duplicates across parts are still caught, the checkpoint still ends at
    the last UID."""
    import inbox.syncplan

    monkeypatch.setattr(inbox.syncplan, "BATCH_BYTES", 1)
    raw = _reply(1)
    for m in (raw, _reply(2), raw, _reply(3)):
        mailserver.deliver(m, RCPT)
    w = _watcher(store, mailserver, tmp_path)
    stats = w.sync_once()
    assert (stats.new, stats.duplicates, stats.errors) == (3, 1, 0)
    assert len(_rows(store, messages)) == 3 and len(_rows(store, contact_events)) == 3
    with mailserver.client() as c:
        c.select_folder("INBOX", readonly=True)
        last = max(c.search(["ALL"]))
    checkpoint = store.checkpoint("INBOX")
    assert checkpoint is not None and checkpoint[1] >= last


def test_uidvalidity_change_rescans_without_double_counting(
    mailserver: MailServer, store: Store, tmp_path: Path
) -> None:
    for n in range(3):
        mailserver.deliver(_reply(n), RCPT)
    w = _watcher(store, mailserver, tmp_path)
    assert w.sync_once().new == 3
    mailserver.set_uidvalidity(int(time.time()) + 12345)
    mailserver.deliver(_reply(9), RCPT)
    stats = w.sync_once()
    assert stats.rescans == 1 and stats.new == 1 and stats.duplicates == 3
    assert len(_rows(store, messages)) == 4


def test_mailbox_recreated_uids_restart(
    mailserver: MailServer, store: Store, tmp_path: Path
) -> None:
    first = [_reply(n) for n in range(2)]
    for raw in first:
        mailserver.deliver(raw, RCPT)
    w = _watcher(store, mailserver, tmp_path)
    assert w.sync_once().new == 2
    mailserver.stop()
    shutil.rmtree(mailserver.maildir)
    mailserver.start()
    for raw in [*first, _reply(7)]:  # the old mail restored, plus one new
        mailserver.deliver(raw, RCPT)
    stats = w.sync_once()
    assert (stats.new, stats.duplicates) == (1, 2)


@pytest.mark.slow
def test_a_25_mib_message_is_never_fetched_whole(
    mailserver: MailServer, store: Store, tmp_path: Path
) -> None:
    blob = (b"A" * 76 + b"\r\n") * (25 * 1024 * 1024 // 78)
    raw = _reply(25) + b"\r\n" + blob
    mailserver.deliver(raw, RCPT)
    w = _watcher(store, mailserver, tmp_path)
    stats = w.sync_once()
    assert stats.new == 1 and stats.matched == 1
    [row] = _rows(store, messages)
    assert row.size > 25_000_000 and "cut at" in row.parse_error
    eml = tmp_path / row.eml_path
    assert eml.stat().st_size == row.size  # the evidence is whole, streamed in slices
    assert hashlib.sha256(eml.read_bytes()).hexdigest() == row.eml_sha256


def test_wrong_password_fails_fast_without_retrying(
    mailserver: MailServer, store: Store, tmp_path: Path
) -> None:
    w = Watcher(store, mailserver.mailbox_config(), tmp_path, password="wrong-password")
    # watch() would loop forever if it retried: returning with AuthError is the proof.
    with pytest.raises(AuthError, match="refused the login"):
        w.watch(threading.Event())
    with pytest.raises(AuthError):
        w.sync_once()
    assert w.reconnects == 0


@pytest.mark.parametrize("tls", ["ssl", "starttls", "plain"])
def test_every_tls_mode_syncs(
    mailserver: MailServer, store: Store, tmp_path: Path, tls: str
) -> None:
    mailserver.deliver(_reply(3), RCPT)
    assert _watcher(store, mailserver, tmp_path, tls=tls).sync_once().new == 1


def test_junk_folder_is_watched(mailserver: MailServer, store: Store, tmp_path: Path) -> None:
    mailserver.append(_reply(4), folder="Junk")
    stats = _watcher(store, mailserver, tmp_path).sync_once()
    assert stats.new == 1
    assert _rows(store, messages)[0].folder == "Junk"


def test_clock_offset_is_measured_and_stored(
    mailserver: MailServer, store: Store, tmp_path: Path
) -> None:
    run_id = store.begin_run("watch", "test")
    w = Watcher(store, mailserver.mailbox_config(), tmp_path, mailserver.password, run_id=run_id)
    offset = w.measure_clock_offset()
    assert abs(offset) < 2
    [run] = _rows(store, runs)
    assert run.server_clock_offset_s == pytest.approx(offset)
    with mailserver.client() as c:
        assert not c.folder_exists("contact-audit-probe")


def test_one_bad_message_never_stops_the_loop(
    mailserver: MailServer, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store failure on one message fails its batch's transaction; the batch is then
    recorded message by message, and only the bad one is lost (counted as an error)."""
    for n in range(3):
        mailserver.deliver(_reply(n), RCPT)
    real = store.add_messages

    def flaky(rows: list[dict[str, object]], *args: object, **kw: object) -> list[int | None]:
        if any(r["subject"] == "Re: your question 1" for r in rows):
            raise ValueError("simulated store hiccup")
        return real(rows, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "add_messages", flaky)
    w = _watcher(store, mailserver, tmp_path)
    stats = w.sync_once()
    assert stats.errors == 1 and stats.new == 2
    rows = _rows(store, messages)
    assert sorted(r.subject for r in rows) == ["Re: your question 0", "Re: your question 2"]
    assert len(_rows(store, contact_events)) == 2 and len(_rows(store, evidence)) == 2
    assert all((tmp_path / r.eml_path).is_file() for r in rows)
    assert w.sync_once().new == 0  # the checkpoint moved on: no retry loop


def test_an_eml_that_cannot_be_written_keeps_its_message_out_of_the_store(
    mailserver: MailServer, store: Store, tmp_path: Path
) -> None:
    """The .eml files are written on threads while the sync reads on (inbox/evidence.py
    EmlWriter): one that cannot be written (here a folder stands where the file goes)
    keeps its message out of the store, counted as an error; the others are stored, each
    with its file on disk."""
    raws = [_reply(n) for n in range(3)]
    for raw in raws:
        mailserver.append(raw)  # stored byte for byte: the .eml's name is known
    blocked = tmp_path / "evidence" / "mail" / f"{hashlib.sha256(raws[1]).hexdigest()}.eml"
    blocked.mkdir(parents=True)
    stats = _watcher(store, mailserver, tmp_path).sync_once()
    assert (stats.new, stats.errors) == (2, 1), stats
    rows = _rows(store, messages)
    assert sorted(r.subject for r in rows) == ["Re: your question 0", "Re: your question 2"]
    assert all((tmp_path / r.eml_path).is_file() for r in rows)
    assert len(_rows(store, evidence)) == 2
    assert not list(blocked.parent.glob("*.part"))


class _Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs, no except-Exception handler sees it."""


def test_a_crash_before_the_batch_commit_loses_nothing_and_leaves_no_row_without_eml(
    mailserver: MailServer, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The .eml files are written before the batch's transaction; a crash between the two
    leaves no row and no checkpoint, and the next sync writes the same files again (named
    by their sha256) and records every message once, with its .eml and contact event."""
    for n in range(3):
        mailserver.deliver(_reply(n), RCPT)
    mailserver.deliver(b"From: a@unrelated.example\r\nSubject: hello\r\n\r\nhi\r\n", RCPT)

    def killed(*args: object, **kw: object) -> list[int | None]:
        raise _Killed

    with monkeypatch.context() as mp:
        mp.setattr(store, "add_messages", killed)
        with pytest.raises(_Killed):
            _watcher(store, mailserver, tmp_path).sync_once()
    mail_dir = tmp_path / "evidence" / "mail"
    written = sorted(mail_dir.glob("*.eml"))
    assert len(written) == 4  # written, not recorded
    assert _rows(store, messages) == [] and store.checkpoint("INBOX") is None

    stats = _watcher(store, mailserver, tmp_path).sync_once()
    assert (stats.new, stats.duplicates, stats.errors) == (4, 0, 0)
    rows = _rows(store, messages)
    assert len(rows) == 4
    for r in rows:
        data = (tmp_path / r.eml_path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == r.eml_sha256
    assert sorted(mail_dir.glob("*.eml")) == written  # the same files, none twice
    assert not list(mail_dir.glob("*.part"))
    ev = _rows(store, evidence)
    assert sorted((e.message_id, e.path, e.sha256) for e in ev) == sorted(
        (r.id, r.eml_path, r.eml_sha256) for r in rows
    )
    events = _rows(store, contact_events)
    assert sorted(e.message_id for e in events) == sorted(r.id for r in rows if r.submission_id)
    assert len(events) == 3


def test_a_reply_in_the_same_batch_as_the_message_it_answers_is_thread_matched(
    mailserver: MailServer, store: Store, tmp_path: Path
) -> None:
    """Thread matching sees the messages of its own batch before they are stored."""
    first = _reply(1, mid="<first-1@acmebank.example>")
    follow_up = (
        b"From: Someone <someone@elsewhere.example>\r\nTo: survey@replies.example.com\r\n"
        b"Subject: Re: Re: your question\r\nMessage-ID: <follow-1@elsewhere.example>\r\n"
        b"In-Reply-To: <first-1@acmebank.example>\r\n\r\nOne more thing.\r\n"
    )
    mailserver.deliver(first, RCPT)
    mailserver.deliver(follow_up, RCPT)
    stats = _watcher(store, mailserver, tmp_path).sync_once()
    assert (stats.new, stats.matched) == (2, 2)
    by_mid = {r.message_id: r for r in _rows(store, messages)}
    a, b = by_mid["<first-1@acmebank.example>"], by_mid["<follow-1@elsewhere.example>"]
    assert (a.match_method, b.match_method) == ("address_tag", "thread")
    assert a.submission_id == b.submission_id is not None
    assert len(_rows(store, contact_events)) == 2


def test_idle_push_restart_and_kick(mailserver: MailServer, store: Store, tmp_path: Path) -> None:
    """Replies reach the watcher by IDLE push: the round is far longer than the wait.

    No timing is asserted (the push latency is a benchmark: bench/bench_latency.py). The
    round lasts 10 minutes, so a reply seen within the ceiling can only have come by the
    server's push. Each reply is delivered once the watcher is in IDLE (forced, not hoped:
    Dovecot 2.3 reports mail that lands between the last command and IDLE only at DONE).
    """
    w = _watcher(store, mailserver, tmp_path, idle_round_s=600, timeout_s=5)
    idling = threading.Event()
    w.on_idle = idling.set
    with _watching(w) as events:
        for n in range(20):
            assert idling.wait(CEILING_S), "the watcher never entered IDLE"
            idling.clear()
            mailserver.deliver(_reply(n), RCPT)
            _until(lambda n=n: len(events) == n + 1, CEILING_S)
        assert [e.subject for _t, e in events] == [f"Re: your question {n}" for n in range(20)]
        # the server restarts mid-IDLE; mail delivered right after is caught up
        mailserver.restart()
        mailserver.deliver(_reply(100), RCPT)
        _until(lambda: len(events) == 21, CEILING_S)
        # every session kicked
        mailserver.kick()
        mailserver.deliver(_reply(101), RCPT)
        _until(lambda: len(events) == 22, CEILING_S)
    assert w.reconnects >= 2
    assert len(_rows(store, messages)) == 22
    assert len({e.id for _t, e in events}) == 22


def test_polling_when_idle_is_not_used(
    mailserver: MailServer, store: Store, tmp_path: Path
) -> None:
    w = _watcher(store, mailserver, tmp_path)
    w.use_idle = False
    w.poll_interval_s = 0.3
    with _watching(w) as events:
        mailserver.deliver(_reply(5), RCPT)
        _until(lambda: len(events) == 1, CEILING_S)


class _Proxy:
    """A TCP proxy that can go silent: no FIN, no RST, bytes simply stop flowing."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.frozen: set[int] = set()
        self.conns: list[tuple[socket.socket, socket.socket]] = []
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            key = len(self.conns)
            self.conns.append((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b, key), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, key: int) -> None:
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                return
            if not data:
                return
            if key in self.frozen:
                continue  # swallow: the network went silent
            try:
                dst.sendall(data)
            except OSError:
                return

    def freeze_all(self) -> None:
        self.frozen.update(range(len(self.conns)))

    def close(self) -> None:
        self._stop = True
        self.sock.close()
        for a, b in self.conns:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.close()


def test_silent_network_drop_reconnects_and_loses_nothing(
    mailserver: MailServer, store: Store, tmp_path: Path
) -> None:
    proxy = _Proxy((mailserver.host, mailserver.imap_port))
    try:
        box = Mailbox(
            host="127.0.0.1", port=proxy.port, tls="plain", user=mailserver.user,
            idle_round_s=2, timeout_s=2,
        )  # fmt: skip
        w = Watcher(store, box, tmp_path, password=mailserver.password)
        w.backoff_base_s = 0.05
        with _watching(w) as events:
            mailserver.deliver(_reply(1), RCPT)
            _until(lambda: len(events) == 1, CEILING_S)
            proxy.freeze_all()
            t0 = time.monotonic()
            for n in (2, 3):
                mailserver.deliver(_reply(n), RCPT)
            _until(lambda: len(events) == 3, CEILING_S)
            print(f"silent drop detected and caught up in {time.monotonic() - t0:.1f}s")
        assert w.reconnects >= 1
        assert len(_rows(store, messages)) == 3
    finally:
        proxy.close()


def test_killed_imap_session_reconnects(
    mailserver: MailServer, store: Store, tmp_path: Path
) -> None:
    import os
    import signal

    w = _watcher(store, mailserver, tmp_path, idle_round_s=5)
    with _watching(w) as events:
        mailserver.deliver(_reply(1), RCPT)
        _until(lambda: len(events) == 1, CEILING_S)
        ours = _imap_workers(mailserver)
        for pid in ours:
            os.kill(pid, signal.SIGKILL)  # EOF, no BYE
        mailserver.deliver(_reply(2), RCPT)
        _until(lambda: len(events) == 2, CEILING_S)
    assert ours and w.reconnects >= 1


def _imap_workers(server: MailServer) -> list[int]:
    """pids of this Dovecot's imap session processes (children of its master)."""
    master = server._master_pid()
    out = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            comm = (proc / "comm").read_text().strip()
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if comm == "imap" and ppid == master:
            out.append(int(proc.name))
    return out


def test_check_login_describes_the_mailbox_or_fails_clearly(mailserver: MailServer) -> None:
    from inbox.watcher import check_login

    detail = check_login(mailserver.mailbox_config(), password=mailserver.password)
    assert "IDLE" in detail and "Junk" in detail and mailserver.password not in detail
    with pytest.raises(AuthError):
        check_login(mailserver.mailbox_config(), password="nope-wrong")


def test_watch_measures_the_clock_offset_once(
    mailserver: MailServer, store: Store, tmp_path: Path
) -> None:
    run_id = store.begin_run("watch", "test")
    w = _watcher(store, mailserver, tmp_path)
    w.run_id = run_id
    with _watching(w):
        _until(lambda: w.clock_offset_s is not None, CEILING_S)
    assert _rows(store, runs)[0].server_clock_offset_s == pytest.approx(w.clock_offset_s)


def test_a_reply_racing_its_submissions_final_write_is_still_matched(
    mailserver: MailServer, store: Store, tmp_path: Path
) -> None:
    """An auto-reply can be recorded while its submission is still 'running' (clicked, the
    outcome not yet written), or before the row exists at all as far as matching goes: it
    is matched then, or on the next sync, never left in review."""
    from audit.models import SubmissionState
    from audit.store import submissions

    with store.engine.connect() as c:
        sub = c.execute(sa.select(submissions).where(submissions.c.token == "acme2345")).one()
    store.update_submission(
        sub.id, state=SubmissionState.RUNNING.value, submitted_at=None, clicked_at=datetime.now(UTC)
    )
    mailserver.deliver(_reply(1), RCPT)
    w = _watcher(store, mailserver, tmp_path)
    w.sync_once()
    [row] = _rows(store, messages)
    assert row.submission_id == sub.id and row.match_method == "address_tag"

    # Now a reply to a submission that is only planned (nothing clicked yet): review at
    # first; once the submission is recorded as sent, the next sync matches it.
    # (From a domain of no company: otherwise the sender-domain fallback may match it to
    # the running submission above, depending on whether its whole-second arrival time
    # falls before or after that submission's click.)
    other = _reply(2, token="bnkx2345").replace(b"acmebank.example>", b"mailer.elsewhere.example>")
    with store.engine.connect() as c:
        planned = c.execute(sa.select(submissions).where(submissions.c.token != "acme2345")).first()
    assert planned is not None
    store.update_submission(planned.id, token="bnkx2345", state=SubmissionState.PLANNED.value)
    mailserver.deliver(other, RCPT)
    w.sync_once()
    late = [r for r in _rows(store, messages) if r.id != row.id]
    assert [r.review for r in late] == ["pending"]
    store.update_submission(  # as the pipeline writes it when the outcome is known
        planned.id,
        state=SubmissionState.SUBMITTED.value,
        submitted_at=datetime.now(UTC) - timedelta(minutes=1),
        finished_at=datetime.now(UTC),
    )
    w.sync_once()
    [after] = [r for r in _rows(store, messages) if r.id != row.id]
    assert after.submission_id == planned.id and after.review is None
    assert {e.message_id for e in _rows(store, contact_events)} == {row.id, after.id}
