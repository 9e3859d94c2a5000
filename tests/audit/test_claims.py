"""Claims by workers (`audit work`) on a real store, SQLite and PostgreSQL: never the same
company twice, one site at a time, stale claims ended by the lifecycle, fenced writes."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from audit.models import Company
from audit.store import Store

NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
A, B = "host-a:101:aaaaaa", "host-b:202:bbbbbb"


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = Store.open(store_url)
    yield s
    s.close()


def _wave(store: Store, n: int, sites: int | None = None) -> tuple[int, list[int]]:
    """A wave with n planned companies over ``sites`` sites (default: one site each)."""
    wid = store.ensure_wave("w1", now=NOW)
    ids = []
    for i in range(n):
        site = f"s{i % (sites or n):04d}.example"
        cid = store.upsert_company(Company(name=f"Company {i}", homepage=f"https://{site}"))
        sub = store.plan_submission(cid, wid, f"t{i:07d}", f"s+t{i:07d}@x", NOW, site_key=site)
        ids.append(sub.id)
    return wid, ids


def test_workers_racing_claim_next_never_get_one_company_twice(
    store_url: str, store: Store
) -> None:
    wid, ids = _wave(store, 120)
    workers = [Store.open(store_url) for _ in range(4)]
    won: list[list[int]] = [[] for _ in workers]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(workers))

    def drain(i: int) -> None:
        try:
            barrier.wait()
            while (sub := workers[i].claim_next(wid, f"w{i}", None, NOW)) is not None:
                won[i].append(sub.id)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=drain, args=(i,)) for i in range(len(workers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for w in workers:
        w.close()
    assert not errors, errors
    claimed = [sid for w in won for sid in w]
    assert sorted(claimed) == ids  # each exactly once
    holders = {s.id: s.claimed_by for s in store.running_in_wave(wid)}
    for i, w in enumerate(won):
        assert all(holders[sid] == f"w{i}" for sid in w)
    print(f"claims per worker: {[len(w) for w in won]}")


def test_one_site_at_a_time_across_workers_and_its_delay(store: Store) -> None:
    wid, ids = _wave(store, 4, sites=2)  # sites s0000 (ids 0, 2) and s0001 (ids 1, 3)
    first = store.claim_next(wid, A, None, NOW)
    second = store.claim_next(wid, B, None, NOW)
    assert first is not None and second is not None
    assert {first.site_key, second.site_key} == {"s0000.example", "s0001.example"}
    assert store.claim_next(wid, B, None, NOW) is None  # both sites busy
    # the index holds even for a claim that does not look first (run's claim_submission)
    assert not store.claim_submission(ids[2], None, NOW, worker=B)
    finished = NOW + timedelta(seconds=5)
    assert store.finish_claimed(first.id, A, {"state": "submitted", "finished_at": finished})
    later = finished + timedelta(seconds=3)
    assert store.claim_next(wid, A, None, later, site_delay_s=10) is None  # site resting
    third = store.claim_next(wid, A, None, finished + timedelta(seconds=11), site_delay_s=10)
    assert third is not None and third.site_key == first.site_key


def test_a_stale_claim_is_planned_again_or_uncertain_never_requeued_after_a_click(
    store: Store,
) -> None:
    wid, _ = _wave(store, 3)
    subs = [store.claim_next(wid, A, None, NOW) for _ in range(3)]
    assert all(s is not None for s in subs)
    clicked, fresh, unclicked = subs  # type: ignore[misc]
    assert store.record_click(clicked.id, A, NOW)
    later = NOW + timedelta(seconds=61)
    assert store.heartbeat(A, [fresh.id], later) == {fresh.id}  # this one keeps beating
    back = store.recover_stale_claims(wid, later, 60.0, lambda w: None)
    by_id = {s.id: s for s in back}
    assert set(by_id) == {clicked.id, unclicked.id}
    assert by_id[clicked.id].state == "uncertain" and by_id[clicked.id].claimed_by == A
    assert "after the click" in (by_id[clicked.id].reason or "")
    assert by_id[unclicked.id].state == "planned" and by_id[unclicked.id].claimed_by is None
    assert store.submission_by_id(fresh.id).state == "running"  # type: ignore[union-attr]
    # a dead local process is recovered at once, however fresh its heartbeat
    gone = store.recover_stale_claims(wid, later, 60.0, lambda w: False)
    assert [s.id for s in gone] == [fresh.id] and gone[0].state == "planned"


def test_a_click_after_the_claim_was_taken_over_is_refused(store: Store) -> None:
    wid, _ = _wave(store, 1)
    mine = store.claim_next(wid, A, None, NOW)
    assert mine is not None
    later = NOW + timedelta(seconds=120)  # A stalled: no heartbeat for two minutes
    [back] = store.recover_stale_claims(wid, later, 60.0, lambda w: None)
    assert back.state == "planned"
    theirs = store.claim_next(wid, B, None, later)
    assert theirs is not None and theirs.id == mine.id
    assert store.heartbeat(A, [mine.id], later) == set()  # A learns it lost the claim
    assert not store.record_click(mine.id, A, later)  # A must not click
    assert not store.finish_claimed(mine.id, A, {"state": "failed", "finished_at": later})
    assert store.record_click(theirs.id, B, later)
    row = store.submission_by_id(mine.id)
    assert row is not None and row.claimed_by == B and row.state == "running"
    assert row.clicked_at is not None


def test_a_take_over_never_overwrites_a_worker_that_just_moved_on(store: Store) -> None:
    """A recovery decided on an old reading of the row writes nothing (a click or a
    heartbeat came in between): the write is conditional on the row as it was read."""
    wid, _ = _wave(store, 1)
    sub = store.claim_next(wid, A, None, NOW)
    assert sub is not None
    seen = store.running_in_wave(wid)[0]
    assert store.record_click(sub.id, A, NOW + timedelta(seconds=1))
    assert not store.apply_if_unchanged(seen, {"state": "planned", "claimed_by": None})
    row = store.submission_by_id(sub.id)
    assert row is not None and row.state == "running" and row.claimed_by == A


def test_workers_planning_one_wave_at_once_plan_each_company_once(
    store_url: str, store: Store
) -> None:
    wid = store.ensure_wave("w1", now=NOW)
    companies = [Company(name=f"Shared {i}", homepage=f"https://p{i}.example") for i in range(40)]
    workers = [Store.open(store_url) for _ in range(3)]
    barrier = threading.Barrier(len(workers))
    errors: list[BaseException] = []

    def plan(i: int) -> None:
        try:
            barrier.wait()
            for n, c in enumerate(companies):
                cid = workers[i].upsert_company(c)
                workers[i].plan_submission(cid, wid, f"w{i}t{n:05d}", "x@x", NOW, site_key="k")
                workers[i].snapshot_company(wid, cid, {"name": c.name}, NOW)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=plan, args=(i,)) for i in range(len(workers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for w in workers:
        w.close()
    assert not errors, errors
    rows = store.submissions_in_wave(wid)
    assert len(rows) == 40 and Counter(r.company_id for r in rows).most_common(1)[0][1] == 1


def test_claims_by_worker_for_status(store: Store) -> None:
    wid, _ = _wave(store, 3)
    a1 = store.claim_next(wid, A, None, NOW)
    store.claim_next(wid, B, None, NOW)
    assert a1 is not None
    store.finish_claimed(a1.id, A, {"state": "submitted", "finished_at": NOW})
    store.claim_next(wid, A, None, NOW + timedelta(seconds=2))
    rows = {r["worker"]: r for r in store.claims_by_worker()}
    assert rows[A]["states"] == {"submitted": 1, "running": 1} and rows[A]["claims"] == 2
    assert rows[A]["last_heartbeat_at"] == NOW + timedelta(seconds=2)
    assert rows[B]["states"] == {"running": 1}


def test_on_postgresql_a_claim_passes_over_a_row_another_is_claiming(
    store_url: str, store: Store
) -> None:
    """FOR UPDATE SKIP LOCKED: while another transaction holds the first planned row (a
    worker in the middle of claiming it), a claim takes the next one instead of waiting."""
    if not store_url.startswith("postgresql"):
        pytest.skip("SQLite claims in one statement under its single write lock")
    wid, ids = _wave(store, 2)
    other = Store.open(store_url)
    try:
        with store.engine.connect() as holder:
            holder.exec_driver_sql(f"SELECT id FROM submissions WHERE id = {ids[0]} FOR UPDATE")
            sub = other.claim_next(wid, B, None, NOW)
            assert sub is not None and sub.id == ids[1]
            holder.rollback()
        first = other.claim_next(wid, A, None, NOW)
        assert first is not None and first.id == ids[0]
    finally:
        other.close()
