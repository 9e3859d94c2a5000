from __future__ import annotations

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


def test_naive_datetimes_are_refused(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 's.db'}")
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        store.ensure_wave("w", now=datetime(2026, 1, 1))


def test_the_store_is_wal_and_opening_waits_for_a_slow_writer(tmp_path: Path) -> None:
    """A store opened while another process holds the file (here: a rollback-journal file
    locked for 6 s, longer than sqlite3's default 5 s) waits instead of failing with
    "database is locked"; the demo's status polling once failed that way in CI."""
    import sqlite3
    import threading
    import time

    path = tmp_path / "s.db"
    url = f"sqlite:///{path}"
    store = Store.open(url)
    with store.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    store.close()

    locked = threading.Event()

    def hold() -> None:
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("INSERT INTO meta(key, value) VALUES ('held', 'yes')")
        locked.set()
        time.sleep(6)
        conn.execute("COMMIT")
        conn.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(10)
    try:
        other = Store.open(url)
        run_id = other.begin_run("probe", "test")
        assert run_id > 0
        with other.engine.connect() as c:
            assert c.exec_driver_sql("SELECT value FROM meta WHERE key='held'").scalar() == "yes"
        other.close()
    finally:
        holder.join()
