"""Drills: several `audit work --submit` processes share one wave over local sites that
count the forms they receive, on SQLite and on a real PostgreSQL.

1. Three workers, ten sites: each site receives exactly one form, every company ends
   submitted, and `audit status --workers` accounts for every claim.
2. A worker is killed (SIGKILL) mid-wave at two known moments, forced by fault points:
   one right after its submit click was recorded (its company must end `uncertain`, the
   site having received nothing from anyone), one right after it claimed a company and
   before it filled anything (that company must be planned again and submitted by a
   surviving worker, once). No site ever receives two forms.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa
from drillkit import (
    kill_tree,
    plain_companies,
    quick_browser,
    run_audit,
    start_audit,
    start_world,
    write_workspace,
)

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SITES = 10
RUN_TIMEOUT_S = 300
CEILING_S = 120  # a wait for a fault point: a ceiling, never reached when it works


def _work(ws: Path, log: Path, fault: str | None = None) -> subprocess.Popen[bytes]:
    return start_audit(
        ["work", "--submit", "-w", str(ws), "--heartbeat", "1", "--concurrency", "2"], log, fault
    )


def _rows(url: str) -> list[sa.Row]:  # type: ignore[type-arg]
    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            return list(
                c.exec_driver_sql(
                    "select c.slug, s.token, s.state, s.clicked_at, s.claimed_by, s.reason "
                    "from submissions s join companies c on c.id = s.company_id"
                )
            )
    finally:
        engine.dispose()


def _wait_for(url: str, proc: subprocess.Popen[bytes], log: Path, what: str) -> str:
    """Until the worker ``proc`` stalls at its fault point; returns the company's slug."""
    deadline = time.monotonic() + CEILING_S
    while True:
        assert proc.poll() is None, f"worker ended before {what}: {log.read_text()[-2000:]}"
        assert time.monotonic() < deadline, f"no {what} within the ceiling"
        try:
            rows = _rows(url)
        except sa.exc.DBAPIError:  # the store is being created
            rows = []
        for slug, _t, state, clicked_at, claimed_by, _r in rows:
            if state != "running" or not claimed_by or f":{proc.pid}:" not in claimed_by:
                continue
            if (what == "click") == (clicked_at is not None):
                return str(slug)
        time.sleep(0.05)


def _kill_the_rest(workers: list[subprocess.Popen[bytes]]) -> None:
    """Kill the workers still running, so that a failed check leaves none running into
    the next test (where its Popen, collected, fails that test with a ResourceWarning)."""
    for proc in workers:
        if proc.poll() is None:
            kill_tree(proc)


def _store_url(store_url: str, ws: Path) -> str:
    return store_url if store_url.startswith("postgresql") else f"sqlite:///{ws / 'survey.db'}"


def test_three_workers_send_every_form_exactly_once(tmp_path: Path, store_url: str) -> None:
    world = start_world(plain_companies(SITES, "work"))
    workers: list[subprocess.Popen[bytes]] = []
    try:
        ws = tmp_path / "ws"
        url = _store_url(store_url, ws)
        write_workspace(ws, world, browser=quick_browser(2), store=url)
        logs = [tmp_path / f"worker-{i}.log" for i in range(3)]
        workers += [_work(ws, log) for log in logs]
        for proc, log in zip(workers, logs, strict=True):
            rc = proc.wait(timeout=RUN_TIMEOUT_S)
            text = log.read_text(errors="replace")
            assert rc == 0 and "Traceback" not in text, text[-3000:]
        rows = _rows(url)
        assert len(rows) == SITES
        received = Counter(r.token for s in world.sites for r in s.received)
        for site in world.sites:
            assert len(site.received) == 1, (site.company.slug, len(site.received))
        assert {state for _s, _t, state, *_ in rows} == {"submitted"}, rows
        assert all(received[token] == 1 for _s, token, *_ in rows)
        shown = json.loads(run_audit("status", "-w", str(ws), "--workers", "--json").stdout)
        assert sum(w["claims"] for w in shown) == SITES
        assert all(w["looks"] == "idle" for w in shown), shown
        print(f"workers' claims: {sorted(w['claims'] for w in shown)}")
    finally:
        _kill_the_rest(workers)
        world.stop()


def test_a_worker_killed_mid_wave_never_causes_a_second_form(
    tmp_path: Path, store_url: str
) -> None:
    world = start_world(plain_companies(SITES, "wkill"))
    workers: list[subprocess.Popen[bytes]] = []
    try:
        ws = tmp_path / "ws"
        url = _store_url(store_url, ws)
        write_workspace(ws, world, browser=quick_browser(1), store=url)
        log = tmp_path / "workers.log"
        clicker = _work(ws, log, fault="after-click-recorded")
        workers.append(clicker)
        clicked = _wait_for(url, clicker, log, "click")
        claimer = _work(ws, log, fault="after-claim")
        workers.append(claimer)
        claimed = _wait_for(url, claimer, log, "claim")
        survivor = _work(ws, log)
        workers.append(survivor)
        # mid-wave: the survivor is at work when the other two die
        deadline = time.monotonic() + CEILING_S
        while not any(state == "submitted" for _s, _t, state, *_ in _rows(url)):
            assert survivor.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline
            time.sleep(0.05)
        kill_tree(clicker)
        kill_tree(claimer)
        rc = survivor.wait(timeout=RUN_TIMEOUT_S)
        assert rc == 0, log.read_text(errors="replace")[-3000:]
        rows = {
            slug: (token, state, clicked_at, by, reason)
            for slug, token, state, clicked_at, by, reason in _rows(url)
        }
        got = {s.company.slug: len(s.received) for s in world.sites}
        assert all(n <= 1 for n in got.values()), got  # never two forms to one site
        assert rows[clicked][1] == "uncertain" and got[clicked] == 0, rows[clicked]
        assert f":{clicker.pid}:" in rows[clicked][3] and "after the click" in rows[clicked][4]
        assert rows[claimed][1] == "submitted" and got[claimed] == 1, rows[claimed]
        assert f":{survivor.pid}:" in rows[claimed][3]  # planned again, sent by the survivor
        others = {slug: v for slug, v in rows.items() if slug not in (clicked, claimed)}
        assert {v[1] for v in others.values()} == {"submitted"}, others
        assert all(got[slug] == 1 for slug in others)
        print(f"killed after a click: {clicked} uncertain; after a claim: {claimed} resent once")
    finally:
        _kill_the_rest(workers)
        world.stop()


def test_ctrl_c_stops_a_worker_by_the_rule_of_run(tmp_path: Path) -> None:
    """Ctrl-C (SIGINT to the process group) while a worker probes a company it claimed:
    no new claim, the one in flight finishes, exit 130 with no traceback; a second worker
    then sends the rest. Each site receives exactly one form."""
    world = start_world(plain_companies(4, "wint"))
    workers: list[subprocess.Popen[bytes]] = []
    try:
        ws = tmp_path / "ws"
        url = f"sqlite:///{ws / 'survey.db'}"
        write_workspace(ws, world, browser=quick_browser(1))
        log = tmp_path / "workers.log"
        first = _work(ws, log)
        workers.append(first)
        _wait_for(url, first, log, "claim")
        os.killpg(first.pid, signal.SIGINT)
        rc = first.wait(timeout=RUN_TIMEOUT_S)
        text = log.read_text(errors="replace")
        assert rc == 130 and "Traceback" not in text, text[-3000:]
        assert "interrupt: no new company is started" in text
        states = Counter(state for _s, _t, state, *_ in _rows(url))
        assert set(states) <= {"planned", "submitted"} and states["submitted"] >= 1, states
        second = _work(ws, log)
        workers.append(second)
        assert second.wait(timeout=RUN_TIMEOUT_S) == 0, log.read_text(errors="replace")[-3000:]
        assert {state for _s, _t, state, *_ in _rows(url)} == {"submitted"}
        assert all(len(s.received) == 1 for s in world.sites)
    finally:
        _kill_the_rest(workers)
        world.stop()
