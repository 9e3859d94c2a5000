from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from pgserver import PgServer

from audit.errors import StoreError
from audit.models import Company
from audit.store import SCHEMA_VERSION, Store, meta, waves


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """An empty store on each back end (SQLite, PostgreSQL), closed after the test."""
    s = Store.open(store_url)
    yield s
    s.close()


def test_schema_version_is_recorded_and_a_newer_store_is_refused(store_url: str) -> None:
    url = store_url
    store = Store.open(url)
    assert store.schema_version == SCHEMA_VERSION
    with store.tx() as c:
        c.execute(
            meta.update()
            .where(meta.c.key == "schema_version")
            .values(value=str(SCHEMA_VERSION + 1))
        )
    store.close()
    with pytest.raises(StoreError, match="upgrade contact-audit"):
        Store.open(url)


def test_one_submission_per_company_per_wave_and_aware_utc(store: Store) -> None:
    cid = store.upsert_company(Company(name="Acme", homepage="https://acme.example"))
    assert (
        store.upsert_company(Company(name="Acme", homepage="https://acme.example", sector="x"))
        == cid
    )
    wid = store.ensure_wave("w1")
    local = datetime(2026, 11, 25, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    first = store.plan_submission(cid, wid, "aaaabbbb", "s+aaaabbbb@x", now=local)
    again = store.plan_submission(cid, wid, "ccccdddd", "s+ccccdddd@x", now=local)
    assert again.id == first.id and again.token == "aaaabbbb"
    assert first.created_at == datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    with pytest.raises(sa.exc.IntegrityError), store.tx() as c:
        from audit.store import submissions

        c.execute(
            submissions.insert().values(
                company_id=cid,
                wave_id=wid,
                state="planned",
                token="eeeeffff",
                reply_address="x",
                created_at=local,
            )
        )
    assert store.claim_submission(first.id, run_id=None, now=local)  # type: ignore[arg-type]
    assert not store.claim_submission(first.id, run_id=None, now=local)  # type: ignore[arg-type]


SQLITE3_DEFAULT_TIMEOUT_S = 5.0  # what the store must not fall back to


def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        store.ensure_wave("w", now=datetime(2026, 1, 1))


def test_the_store_is_wal_and_opening_waits_for_a_slow_writer(tmp_path: Path) -> None:
    """A store opened while another process holds the file waits instead of failing with
    "database is locked" at sqlite3's default 5 s (the demo's status polling once failed
    that way in CI). The order is forced: the lock is taken first, the opener is seen still
    waiting after sqlite3's default timeout, then the lock is released."""
    path = tmp_path / "s.db"
    url = f"sqlite:///{path}"
    store = Store.open(url)
    with store.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    store.close()

    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=DELETE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("INSERT INTO meta(key, value) VALUES ('held', 'yes')")
    results: list[object] = []

    def open_and_write() -> None:
        try:
            other = Store.open(url)
            results.append(other.begin_run("probe", "test"))
            with other.engine.connect() as c:
                results.append(
                    c.exec_driver_sql("SELECT value FROM meta WHERE key='held'").scalar()
                )
            other.close()
        except Exception as exc:  # surfaced by the asserts below
            results.append(exc)

    opener = threading.Thread(target=open_and_write)
    try:
        opener.start()
        opener.join(SQLITE3_DEFAULT_TIMEOUT_S + 1)
        assert opener.is_alive() and results == [], f"gave up while the file was held: {results}"
    finally:
        holder.execute("COMMIT")
        holder.close()
    opener.join(60)  # a ceiling: the open completes as soon as the lock is gone
    assert not opener.is_alive()
    assert len(results) == 2 and isinstance(results[0], int) and results[1] == "yes", results


def _message_row(n: int, submission_id: int | None, at: datetime) -> dict[str, object]:
    return dict(
        folder="INBOX",
        uidvalidity=7,
        uid=n,
        message_id=f"<m{n}@x.example>",
        fingerprint=f"fp{n}",
        internaldate=at + timedelta(minutes=n),
        date_header=None,
        recorded_at=at,
        sender="a@x.example",
        recipients="s@x",
        subject=f"subject {n}",
        text="hello",
        size=5,
        kind="human",
        kind_reasons="[]",
        helpdesk=None,
        submission_id=submission_id,
        match_method="token" if submission_id else None,
        review=None if submission_id else "pending",
        parse_error=None,
        eml_path=f"evidence/mail/{n}.eml",
        eml_sha256=f"{n:064d}",
        in_reply_to=None,
        references=None,
    )


def test_a_batch_of_messages_is_recorded_whole_with_evidence_events_and_checkpoint(
    store: Store,
) -> None:
    from audit.store import contact_events, evidence, messages

    at = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    cid = store.upsert_company(Company(name="Acme", homepage="https://acme.example"))
    sid = store.plan_submission(cid, store.ensure_wave("w1"), "aaaabbbb", "s+aaaabbbb@x", at).id
    assert store.add_messages([_message_row(1, None, at)], [None], None, at)[0] is not None
    rows = [_message_row(n, sid if n % 2 else None, at) for n in (1, 2, 3, 3)]
    kinds = ["human", None, "auto_ack", "auto_ack"]
    ids = store.add_messages(rows, kinds, ("INBOX", 7, 3), at)
    assert ids[0] is None and ids[3] is None  # stored already; earlier in the batch
    assert ids[1] is not None and ids[2] is not None and ids[1] < ids[2]
    assert store.known_fingerprints(["fp1", "fp2", "fp9"]) == {"fp1", "fp2"}
    assert store.checkpoint("INBOX") == (7, 3)
    with store.engine.connect() as c:
        ev = {r.message_id: r for r in c.execute(sa.select(evidence))}
        events = list(c.execute(sa.select(contact_events)))
        stored = {r.id: r for r in c.execute(sa.select(messages))}
    assert ev[ids[2]].path == "evidence/mail/3.eml" and ev[ids[2]].submission_id == sid
    assert ev[ids[1]].sha256 == stored[ids[1]].eml_sha256 == f"{2:064d}"
    [event] = events  # only the matched message with an event kind
    assert (event.message_id, event.submission_id, event.kind) == (ids[2], sid, "auto_ack")
    assert event.at == stored[ids[2]].internaldate == at + timedelta(minutes=3)
    assert (event.channel, event.source) == ("email", "imap")

    # all or nothing: a bad row fails the batch, the checkpoint included
    bad = [_message_row(4, None, at), _message_row(5, None, at)]
    bad[1]["internaldate"] = datetime(2026, 11, 25, 10, 0)  # naive: refused
    with pytest.raises(sa.exc.StatementError):
        store.add_messages(bad, [None, None], ("INBOX", 7, 5), at)
    assert store.known_fingerprints(["fp4", "fp5"]) == set()
    assert store.checkpoint("INBOX") == (7, 3)


def test_indexes_added_later_are_created_in_an_existing_store(store_url: str) -> None:
    """A store created before the Message-ID index existed gets it when it is opened."""
    url = store_url
    Store.open(url).close()
    engine = sa.create_engine(url)
    with engine.begin() as c:
        c.exec_driver_sql("DROP INDEX ix_messages_message_id")
    engine.dispose()
    store = Store.open(url)
    with store.engine.connect() as c:
        indexes = {ix["name"] for ix in sa.inspect(c).get_indexes("messages")}
        if c.dialect.name == "sqlite":  # and the planner uses it
            plan = c.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT submission_id FROM messages "
                "WHERE message_id IN ('<a@b>')"
            ).all()
            assert any("ix_messages_message_id" in str(row) for row in plan), plan
    store.close()
    assert "ix_messages_message_id" in indexes, indexes


def test_a_message_matched_later_takes_its_eml_evidence_with_it(store: Store) -> None:
    """Re-matching or `audit review --company` sets the message's submission; the .eml's
    evidence row must follow, or the company's report page would not list it."""
    from audit.store import evidence

    at = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    cid = store.upsert_company(Company(name="Acme", homepage="https://acme.example"))
    sid = store.plan_submission(cid, store.ensure_wave("w1"), "aaaabbbb", "s+aaaabbbb@x", at).id
    [mid] = store.add_messages([_message_row(1, None, at)], [None], None, at)
    assert mid is not None
    store.update_message(mid, submission_id=sid, match_method="manual", review="assigned")
    with store.engine.connect() as c:
        rows = c.execute(sa.select(evidence).where(evidence.c.message_id == mid)).all()
    assert [(r.kind, r.submission_id) for r in rows] == [("eml", sid)]


def test_a_version_1_store_is_migrated_to_2_message_dkim_and_keeps_its_messages(
    store_url: str,
) -> None:
    """A store written before proof of origin (schema 1: no dkim columns) opens, gains the
    columns in migration 2_message_dkim, and keeps every message, unverified (NULL)."""
    from audit.store import MIGRATIONS, messages

    url = store_url
    at = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    store = Store.open(url)
    [mid] = store.add_messages([_message_row(1, None, at)], [None], None, at)
    store.close()
    engine = sa.create_engine(url)  # make it the schema-1 store it would have been
    with engine.begin() as c:
        for col in ("dkim", "dkim_domain", "dkim_evidence"):
            c.exec_driver_sql(f"ALTER TABLE messages DROP COLUMN {col}")
        c.exec_driver_sql("DROP TABLE wave_facts")
        _to_schema_3(c)
        c.exec_driver_sql("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    engine.dispose()

    store = Store.open(url)
    assert store.schema_version == SCHEMA_VERSION == 5
    assert MIGRATIONS[2][0] == "2_message_dkim" and MIGRATIONS[3][0] == "3_wave_facts"
    with store.engine.connect() as c:
        names = dict(c.execute(sa.select(meta.c.key, meta.c.value)).all())
        row = c.execute(sa.select(messages).where(messages.c.id == mid)).one()
    assert names["migration:2"] == "2_message_dkim" and names["migration:3"] == "3_wave_facts"
    assert (row.subject, row.dkim, row.dkim_domain, row.dkim_evidence) == (
        "subject 1",
        None,
        None,
        None,
    )
    store.update_message(mid, dkim="pass", dkim_domain="x.example")
    store.close()
    store = Store.open(url)
    assert store.message_row(mid).dkim == "pass"  # type: ignore[union-attr]
    store.close()


def _drop_claims(c: sa.Connection) -> None:
    """Make a store's submissions what they were before schema 4 (no claim columns)."""
    for index in ("ux_submissions_running_site", "ix_submissions_wave_state"):
        c.exec_driver_sql(f"DROP INDEX {index}")
    for col in ("claimed_by", "claimed_at", "heartbeat_at", "site_key"):
        c.exec_driver_sql(f"ALTER TABLE submissions DROP COLUMN {col}")


def _to_schema_3(c: sa.Connection) -> None:
    """Make a store's submissions what they were at schema 3: no claim columns (schema 4),
    no channel columns and one submission per company and wave (schema 5)."""
    if c.dialect.name == "sqlite":
        c.exec_driver_sql("PRAGMA foreign_keys=OFF")
        c.exec_driver_sql(
            "CREATE TABLE sub3 (id INTEGER PRIMARY KEY, company_id INTEGER NOT NULL "
            "REFERENCES companies(id), wave_id INTEGER NOT NULL REFERENCES waves(id), "
            "state VARCHAR(16) NOT NULL, outcome VARCHAR(32), reason TEXT, signal TEXT, "
            "token VARCHAR(16) NOT NULL UNIQUE, reply_address TEXT NOT NULL, page_url TEXT, "
            "values_json TEXT, request_json TEXT, created_at DATETIME NOT NULL, "
            "started_at DATETIME, clicked_at DATETIME, submitted_at DATETIME, "
            "finished_at DATETIME, run_id INTEGER REFERENCES runs(id), "
            "CONSTRAINT one_submission_per_wave UNIQUE (company_id, wave_id))"
        )
        c.exec_driver_sql(
            "INSERT INTO sub3 SELECT id, company_id, wave_id, state, outcome, reason, "
            "signal, token, reply_address, page_url, values_json, request_json, "
            "created_at, started_at, clicked_at, submitted_at, finished_at, run_id "
            "FROM submissions"
        )
        c.exec_driver_sql("DROP TABLE submissions")
        c.exec_driver_sql("ALTER TABLE sub3 RENAME TO submissions")
    else:
        _drop_claims(c)
        c.exec_driver_sql("ALTER TABLE submissions DROP CONSTRAINT one_submission_per_channel")
        for col in ("channel", "sent_message_id", "channel_note"):
            c.exec_driver_sql(f"ALTER TABLE submissions DROP COLUMN {col}")
        c.exec_driver_sql(
            "ALTER TABLE submissions ADD CONSTRAINT one_submission_per_wave "
            "UNIQUE (company_id, wave_id)"
        )


def test_a_version_3_store_is_migrated_to_4_submission_claims(store_url: str) -> None:
    """A store from before claims (schema 3) opens, gains the claim columns and indexes in
    migration 4_submission_claims; a submission a crashed run left running has no holder,
    so the first claimer ends it by the lifecycle (never clicked: planned again)."""
    from audit.store import MIGRATIONS

    at = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    store = Store.open(store_url)
    [sid] = _planned(store, 1)
    store.update_submission(sid, state="running", started_at=at)
    store.close()
    engine = sa.create_engine(store_url)
    with engine.begin() as c:
        _to_schema_3(c)
        c.exec_driver_sql("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    engine.dispose()

    store = Store.open(store_url)
    try:
        assert MIGRATIONS[4][0] == "4_submission_claims"
        with store.engine.connect() as c:
            names = dict(c.execute(sa.select(meta.c.key, meta.c.value)).all())
            indexes = {i["name"] for i in sa.inspect(c).get_indexes("submissions")}
        assert names["migration:4"] == "4_submission_claims"
        assert {"ux_submissions_running_site", "ix_submissions_wave_state"} <= indexes
        sub = store.submission_by_id(sid)
        assert sub is not None and sub.state == "running" and sub.claimed_by is None
        [back] = store.recover_stale_claims(sub.wave_id, at, 60.0, lambda w: None)
        assert back.state == "planned" and back.claimed_by is None
    finally:
        store.close()


# -- the same store on SQLite and PostgreSQL ---------------------------------------------


def test_stores_opened_at_once_on_an_empty_database_all_open(store_url: str) -> None:
    """Workers started together all create or migrate the schema at the same moment: each
    open succeeds and the schema is made once (on PostgreSQL an advisory lock serialises
    them; on SQLite the file lock and the retries do)."""
    n = 4
    barrier = threading.Barrier(n)
    results: list[object] = []

    def open_one() -> None:
        barrier.wait()
        try:
            s = Store.open(store_url)
            results.append(s.schema_version)
            s.close()
        except Exception as exc:  # surfaced by the assert below
            results.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert results == [SCHEMA_VERSION] * n, results
    store = Store.open(store_url)
    with store.engine.connect() as c:
        keys = c.execute(sa.select(meta.c.key)).scalars().all()
    store.close()
    assert keys == ["schema_version"]


@pytest.mark.parametrize("what", ["wave", "company"])
def test_a_wave_or_company_inserted_by_another_worker_between_read_and_insert_is_taken(
    store_url: str, store: Store, what: str
) -> None:
    """Workers starting one wave at once each read "no such row" and then insert it: the
    one that inserts second must take the first one's row, not stop on the unique name
    (a CI run saw `audit work` die with UNIQUE constraint failed: waves.name). Here the
    other worker's insert is made, on its own connection, just before ours is sent."""
    other = Store.open(store_url)
    company = Company(name="Acme", homepage="https://acme.example")
    table = "waves" if what == "wave" else "companies"
    theirs: list[int] = []

    def insert_theirs_first(conn, cursor, statement, params, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if not theirs and statement.startswith(f"INSERT INTO {table} "):
            theirs.append(
                other.ensure_wave("w1") if what == "wave" else other.upsert_company(company)
            )

    sa.event.listen(store.engine, "before_cursor_execute", insert_theirs_first)
    try:
        ours = store.ensure_wave("w1") if what == "wave" else store.upsert_company(company)
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", insert_theirs_first)
        other.close()
    assert theirs and ours == theirs[0]
    with store.engine.connect() as c:
        assert c.exec_driver_sql(f"select count(*) from {table}").scalar() == 1


def _planned(store: Store, n: int) -> list[int]:
    at = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    wid = store.ensure_wave("w1", now=at)
    out = []
    for i in range(n):
        cid = store.upsert_company(Company(name=f"Company {i}", homepage="https://c.example"))
        out.append(store.plan_submission(cid, wid, f"tok{i:05d}", f"s+tok{i:05d}@x", at).id)
    return out


def test_two_stores_racing_to_claim_a_submission_exactly_one_wins(
    store_url: str, store: Store
) -> None:
    """Two workers (two Store objects, two connection pools) claim the same submissions at
    the same moment: each submission is claimed by exactly one of them.

    The race is forced: a third connection holds the rows (PostgreSQL) or the file
    (SQLite) while both claimers start, so both are inside their UPDATE when it lets go.
    On PostgreSQL the test waits until the server shows both claimers waiting for it.
    """
    [sid] = _planned(store, 1)
    now = datetime(2026, 11, 25, 10, 5, tzinfo=UTC)
    workers = [Store.open(store_url), Store.open(store_url)]
    runs = [w.begin_run("work", "test", now=now) for w in workers]
    results: dict[int, object] = {}
    barrier = threading.Barrier(3)

    def claim(i: int) -> None:
        barrier.wait()
        try:
            results[i] = workers[i].claim_submission(sid, runs[i], now)
        except Exception as exc:  # surfaced by the asserts below
            results[i] = exc

    threads = [threading.Thread(target=claim, args=(i,)) for i in (0, 1)]
    with store.engine.connect() as holder:
        if holder.dialect.name == "postgresql":
            holder.exec_driver_sql(f"SELECT id FROM submissions WHERE id = {sid} FOR UPDATE")
        else:
            holder.exec_driver_sql("BEGIN IMMEDIATE")
        for t in threads:
            t.start()
        barrier.wait()
        if holder.dialect.name == "postgresql":
            _wait_for_lock_waiters(store_url, 2)
        holder.rollback()
    for t in threads:
        t.join(60)
    for w in workers:
        w.close()
    assert sorted(results.values(), key=str) == [False, True], results
    winner = next(i for i, won in results.items() if won is True)
    row = store.submission_by_id(sid)
    assert row is not None and row.state == "running" and row.run_id == runs[winner]


def _wait_for_lock_waiters(store_url: str, n: int, event: str | None = None) -> None:
    """Until ``n`` other sessions of this database wait for a lock (of kind ``event``,
    e.g. 'advisory', when given); a ceiling, no verdict."""
    engine = sa.create_engine(store_url)
    try:
        with engine.connect() as c:
            for _ in range(600):
                waiting = c.exec_driver_sql(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock' "
                    "AND wait_event LIKE %(event)s",
                    {"event": event or "%"},
                ).scalar_one()
                if waiting >= n:
                    return
                c.rollback()  # a fresh snapshot of pg_stat_activity
                threading.Event().wait(0.05)
    finally:
        engine.dispose()
    raise AssertionError(f"no session waited for the held lock ({waiting} of {n})")


def test_many_claims_by_two_workers_never_claim_one_submission_twice(
    store_url: str, store: Store
) -> None:
    ids = _planned(store, 30)
    now = datetime(2026, 11, 25, 10, 5, tzinfo=UTC)
    workers = [Store.open(store_url), Store.open(store_url)]
    runs = [w.begin_run("work", "test", now=now) for w in workers]
    won: list[list[int]] = [[], []]
    barrier = threading.Barrier(2)

    def claim_all(i: int) -> None:
        barrier.wait()
        for sid in ids:
            if workers[i].claim_submission(sid, runs[i], now):
                won[i].append(sid)

    threads = [threading.Thread(target=claim_all, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for w in workers:
        w.close()
    assert sorted(won[0] + won[1]) == ids
    owners = {r.id: r.run_id for r in store.all_submissions()}
    assert all(owners[sid] == runs[0] for sid in won[0])
    assert all(owners[sid] == runs[1] for sid in won[1])


def test_long_ids_and_names_fit(store: Store) -> None:
    """A company id derived from a long name takes a whole file name (255 bytes); a wave's
    name is the consultant's free text: PostgreSQL checks VARCHAR lengths, SQLite never
    did."""
    from audit.models import MAX_SLUG_BYTES

    company = Company(name="Bank " * 100, homepage="https://bank.example")
    assert len(company.slug) == MAX_SLUG_BYTES
    cid = store.upsert_company(company)
    wave = "Q4 2026, " + "the long name of a wave " * 20
    wid = store.ensure_wave(wave)
    assert store.company_row(company.slug).id == cid  # type: ignore[union-attr]
    assert store.wave_row(wave).id == wid  # type: ignore[union-attr]


def test_mailbox_numbers_take_the_whole_32_bits(store: Store) -> None:
    """UIDVALIDITY and UIDs are unsigned 32-bit: above a signed INTEGER's range."""
    at = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    top = 2**32 - 1
    row = _message_row(1, None, at) | {"uidvalidity": top, "uid": top}
    [mid] = store.add_messages([row], [None], ("INBOX", top, top), at)
    assert store.checkpoint("INBOX") == (top, top)
    stored = store.message_row(mid)  # type: ignore[arg-type]
    assert stored is not None and (stored.uidvalidity, stored.uid) == (top, top)


def test_text_from_outside_with_a_nul_character_is_stored(store: Store) -> None:
    """A header or a page may carry U+0000, which PostgreSQL text cannot hold: the store
    keeps the row (the NUL shown as U+FFFD there) instead of failing the whole batch."""
    at = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    row = _message_row(1, None, at) | {"subject": "Re: a\x00b", "sender": "x\x00@y.example"}
    [mid] = store.add_messages([row], [None], None, at)
    stored = store.message_row(mid)  # type: ignore[arg-type]
    assert stored is not None
    nul = "\ufffd" if store.engine.dialect.name == "postgresql" else "\x00"
    assert (stored.subject, stored.sender) == (f"Re: a{nul}b", f"x{nul}@y.example")


def test_times_are_utc_whatever_the_session_time_zone(store_url: str) -> None:
    """On PostgreSQL the columns are timestamptz: a session in another zone reads the
    same instants, returned as aware UTC."""
    at = datetime(2026, 11, 25, 23, 30, tzinfo=timezone(timedelta(hours=-10)))
    store = Store.open(store_url)
    wid = store.ensure_wave("w1", close_at=at, now=at)
    store.close()
    url = store_url
    if url.startswith("postgresql"):
        url += "?options=-c%20timezone%3DPacific/Kiritimati"  # UTC+14
    store = Store.open(url)
    with store.engine.connect() as c:
        row = c.execute(sa.select(waves.c.close_at).where(waves.c.id == wid)).one()
        if c.dialect.name == "postgresql":
            assert c.exec_driver_sql("SHOW timezone").scalar() == "Pacific/Kiritimati"
            kind = c.exec_driver_sql(
                "SELECT data_type FROM information_schema.columns "
                "WHERE table_name = 'waves' AND column_name = 'close_at'"
            ).scalar()
            assert kind == "timestamp with time zone"
    store.close()
    assert row.close_at == at and row.close_at.tzinfo is UTC


# -- PostgreSQL only ---------------------------------------------------------------------


def test_a_postgresql_password_comes_from_libpq_not_the_url(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/configuration.md: `store:` names no password; libpq reads PGPASSWORD or a
    password file (~/.pgpass, or PGPASSFILE). A wrong one is an error that shows none."""
    url = sa.engine.make_url(pg_url)
    password = str(url.password)
    bare = sa.engine.URL.create(
        url.drivername, url.username, None, url.host, url.port, url.database
    ).render_as_string(hide_password=False)
    assert password not in bare
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "none"))

    with pytest.raises(StoreError, match="cannot open the store") as refused:
        Store.open(url.set(password="Wrong-pa55").render_as_string(hide_password=False))
    assert "Wrong-pa55" not in str(refused.value) and "***" in str(refused.value)

    monkeypatch.setenv("PGPASSWORD", password)
    Store.open(bare).close()

    monkeypatch.delenv("PGPASSWORD")
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"{url.host}:{url.port}:*:{url.username}:{password}\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    store = Store.open(bare)
    assert store.schema_version == SCHEMA_VERSION
    store.close()


def test_a_postgresql_store_is_created_or_migrated_by_one_process_at_a_time(
    pg_url: str,
) -> None:
    """The schema is made under an advisory lock: an opener waits while another holds it
    (forced: the test holds it and sees the opener wait), then opens."""
    from audit.store import _MIGRATION_LOCK

    results: list[object] = []

    def open_one() -> None:
        try:
            s = Store.open(pg_url)
            results.append(s.schema_version)
            s.close()
        except Exception as exc:  # surfaced by the assert below
            results.append(exc)

    engine = sa.create_engine(pg_url)
    opener = threading.Thread(target=open_one)
    try:
        with engine.connect() as holder:
            holder.execute(sa.select(sa.func.pg_advisory_lock(_MIGRATION_LOCK)))
            opener.start()
            _wait_for_lock_waiters(pg_url, 1, event="advisory")
            assert results == []
            holder.execute(sa.select(sa.func.pg_advisory_unlock(_MIGRATION_LOCK)))
            holder.commit()
        opener.join(60)
    finally:
        engine.dispose()
    assert results == [SCHEMA_VERSION], results


def test_a_version_3_store_is_migrated_to_5_channels_and_keeps_its_submissions(
    store_url: str,
) -> None:
    """A store from before the e-mail channel (one submission per company and wave, no
    channel column) opens, keeps every submission as a form submission with the messages
    that reference it, and then holds an e-mail submission beside the form one."""
    from audit.store import MIGRATIONS, submissions

    at = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    store = Store.open(store_url)
    cid = store.upsert_company(Company(name="Acme", homepage="https://acme.example"))
    wid = store.ensure_wave("w1")
    sid = store.plan_submission(cid, wid, "aaaabbbb", "s+aaaabbbb@x", at).id
    store.update_submission(sid, state="submitted", clicked_at=at, submitted_at=at)
    [mid] = store.add_messages([_message_row(1, sid, at)], ["human"], None, at)
    store.close()
    engine = sa.create_engine(store_url)  # make it the schema-3 store it would have been
    with engine.begin() as c:
        _to_schema_3(c)
        c.exec_driver_sql("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    engine.dispose()

    store = Store.open(store_url)
    assert store.schema_version == SCHEMA_VERSION == 5
    assert MIGRATIONS[5][0] == "5_channels"
    form = store.submission(cid, wid)
    assert form is not None and (form.id, form.channel, form.state) == (sid, "form", "submitted")
    assert store.message_row(mid).submission_id == sid  # type: ignore[union-attr]
    mail = store.plan_submission(cid, wid, "ccccdddd", "s+ccccdddd@x", at, channel="email")
    assert mail.id != sid and mail.channel == "email"
    again = store.plan_submission(cid, wid, "eeeeffff", "s+eeeeffff@x", at, channel="email")
    assert again.id == mail.id  # still one submission per channel per wave
    with pytest.raises(sa.exc.IntegrityError), store.tx() as c:
        c.execute(
            submissions.insert().values(
                company_id=cid, wave_id=wid, state="planned", token="gggghhhh",
                reply_address="x", created_at=at, channel="email",
            )
        )  # fmt: skip
    store.close()


def test_a_postgresql_restart_is_ridden_out_and_a_long_outage_is_one_line(
    pg_server: PgServer, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 13: `pg_ctl restart -m fast` closes every connection of the pool; the next
    store calls wait for the server and go on (a claim, its fenced click and finish).
    Past STORE_OUTAGE_S (here a server that is not there) the call is a StoreError with
    one line, not a driver traceback."""
    import audit.store as store_module

    store = Store.open(pg_url)
    try:
        now = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
        wid = store.ensure_wave("w", now=now)
        for i in range(2):
            cid = store.upsert_company(Company(name=f"R{i}", homepage=f"https://r{i}.example"))
            store.plan_submission(cid, wid, f"tokr{i}xyz", "x@x", now, site_key=f"r{i}")
        assert store.claim_next(wid, "w1", None, now) is not None  # the pool holds a connection
        pg_server.restart()
        sub = store.claim_next(wid, "w1", None, now)
        assert sub is not None and store.record_click(sub.id, "w1", now)
        assert store.finish_claimed(sub.id, "w1", {"state": "submitted", "finished_at": now})
        assert store.wave_work_left(wid, "w1") == (0, 0)
    finally:
        store.close()
    monkeypatch.setattr(store_module, "STORE_OUTAGE_S", 0.5)
    gone = Store(sa.create_engine(pg_server.url("nowhere").replace(str(pg_server.port), "9")))
    with pytest.raises(StoreError, match=r"has been unreachable for \d+ s: .+") as err:
        gone.wave_work_left(1, "w1")
    assert "\n" not in str(err.value) and "pg-Test" not in str(err.value)
    gone.close()
