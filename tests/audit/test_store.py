from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from audit.errors import StoreError
from audit.models import Company
from audit.store import SCHEMA_VERSION, Store, meta


def test_schema_version_is_recorded_and_a_newer_store_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
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


def test_one_submission_per_company_per_wave_and_aware_utc(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 's.db'}")
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


def test_naive_datetimes_are_refused(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 's.db'}")
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
    tmp_path: Path,
) -> None:
    from audit.store import contact_events, evidence, messages

    store = Store.open(f"sqlite:///{tmp_path / 's.db'}")
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


def test_indexes_added_later_are_created_in_an_existing_store(tmp_path: Path) -> None:
    """A store created before the Message-ID index existed gets it when it is opened."""
    url = f"sqlite:///{tmp_path / 's.db'}"
    Store.open(url).close()
    engine = sa.create_engine(url)
    with engine.begin() as c:
        c.exec_driver_sql("DROP INDEX ix_messages_message_id")
    engine.dispose()
    store = Store.open(url)
    with store.engine.connect() as c:
        plan = c.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT submission_id FROM messages WHERE message_id IN ('<a@b>')"
        ).all()
    store.close()
    assert any("ix_messages_message_id" in str(row) for row in plan), plan


def test_a_message_matched_later_takes_its_eml_evidence_with_it(tmp_path: Path) -> None:
    """Re-matching or `audit review --company` sets the message's submission; the .eml's
    evidence row must follow, or the company's report page would not list it."""
    from audit.store import evidence

    store = Store.open(f"sqlite:///{tmp_path / 's.db'}")
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
    tmp_path: Path,
) -> None:
    """A store written before proof of origin (schema 1: no dkim columns) opens, gains the
    columns in migration 2_message_dkim, and keeps every message, unverified (NULL)."""
    from audit.store import MIGRATIONS, messages

    url = f"sqlite:///{tmp_path / 's.db'}"
    at = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    store = Store.open(url)
    [mid] = store.add_messages([_message_row(1, None, at)], [None], None, at)
    store.close()
    conn = sqlite3.connect(tmp_path / "s.db")  # make it the schema-1 file it would have been
    for col in ("dkim", "dkim_domain", "dkim_evidence"):
        conn.execute(f"ALTER TABLE messages DROP COLUMN {col}")
    conn.execute("DROP TABLE wave_facts")
    conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()

    store = Store.open(url)
    assert store.schema_version == SCHEMA_VERSION == 3
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
    assert Store.open(url).message_row(mid).dkim == "pass"  # type: ignore[union-attr]
