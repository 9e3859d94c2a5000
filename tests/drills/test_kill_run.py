"""Drill: `audit run --submit` killed with SIGKILL at random moments, then re-run.

Twenty kills over eight local sites, spread over as many waves as they take: within a
wave the CLI is started, killed at a random moment (or, every fourth time, stalled by a fault
point right after a submit click was recorded, so that kill always lands there), and started again, until a run finishes by itself; a last run
must then send nothing. The sites count what they receive. Afterwards, in every wave:
no site received a form twice, every form a site received belongs to a submission that
is `submitted` or `uncertain`, every `submitted` one arrived, everything else completed
as `submitted`, and `audit status` shows the uncertain ones.
"""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
from drillkit import (
    kill_tree,
    plain_companies,
    quick_browser,
    run_audit,
    set_wave,
    start_submit_run,
    start_world,
    write_workspace,
)

pytestmark = [pytest.mark.slow, pytest.mark.browser]

KILLS = 20
SITES = 8
TARGETED_EVERY = 4  # every 4th kill waits for a recorded click, so `uncertain` is exercised
RUN_TIMEOUT_S = 240
CEILING_S = 120


def _clicked_running(db: Path) -> int:
    if not db.exists():
        return 0
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return int(
            con.execute(
                "select count(*) from submissions where state='running' and clicked_at is not null"
            ).fetchone()[0]
        )
    except sqlite3.Error:
        return 0
    finally:
        con.close()


def _wait_for_click(proc: subprocess.Popen[bytes], db: Path) -> None:
    """Until the stalled run has recorded a click (a ceiling, never reached when it works)
    or has ended: it ends when the wave had nothing left to send (the kill before it
    landed after the wave's last form, before that run exited)."""
    deadline = time.monotonic() + CEILING_S
    while not _clicked_running(db) and proc.poll() is None:
        assert time.monotonic() < deadline, "no click recorded within the ceiling"
        time.sleep(0.05)


def test_kill_9_never_submits_twice(tmp_path: Path) -> None:
    rng = random.Random(20260611)
    world = start_world(plain_companies(SITES, "kill"))
    try:
        ws = write_workspace(
            tmp_path / "ws",
            world,
            browser=quick_browser(2),
        )
        db = ws / "survey.db"
        log = tmp_path / "runs.log"
        kills = 0
        waves: list[str] = []
        while kills < KILLS:
            wave = f"wave-{len(waves) + 1}"
            waves.append(wave)
            set_wave(ws, wave)
            while True:
                targeted = kills < KILLS and (kills + 1) % TARGETED_EVERY == 0
                proc = start_submit_run(ws, log, "after-click-recorded" if targeted else None)
                if kills < KILLS:
                    if targeted:
                        # A run that ended instead must have exited cleanly (below) with
                        # the wave complete (the run after the wave then sends nothing);
                        # the next wave's first run is targeted again.
                        _wait_for_click(proc, db)
                    else:  # a random moment: whatever it hits, the invariants must hold
                        time.sleep(rng.uniform(0.5, 8.0))
                if proc.poll() is None and kills < KILLS:
                    kill_tree(proc)
                    kills += 1
                    continue
                rc = proc.wait(timeout=RUN_TIMEOUT_S)
                assert rc == 0, log.read_text(errors="replace")[-3000:]
                break
            # the wave is complete: one more run sends nothing
            again = json.loads(run_audit("run", "--submit", "-w", str(ws), "--json").stdout)
            assert all(r["outcome"].startswith("already-") for r in again["results"]), again

        con = sqlite3.connect(db)
        rows = con.execute(
            "select w.name, c.slug, s.token, s.state from submissions s "
            "join waves w on w.id = s.wave_id join companies c on c.id = s.company_id"
        ).fetchall()
        con.close()
        assert len(rows) == SITES * len(waves)
        received = Counter(r.token for s in world.sites for r in s.received)
        per_site_wave: Counter[tuple[str, str]] = Counter()
        by_token = {token: (wave, slug, state) for wave, slug, token, state in rows}
        for site in world.sites:
            for rec in site.received:
                assert rec.token in by_token, f"{site.company.slug} got a form with no submission"
                wave, slug, state = by_token[rec.token]
                assert slug == site.company.slug
                per_site_wave[(slug, wave)] += 1
                assert state in ("submitted", "uncertain"), (slug, wave, state)
        assert max(per_site_wave.values()) == 1, per_site_wave  # never twice in a wave
        assert max(received.values()) == 1
        states = Counter(state for _, _, _, state in rows)
        assert set(states) <= {"submitted", "uncertain"}, states
        for _wave, slug, token, state in rows:
            if state == "submitted":
                assert received[token] == 1, (slug, token)
        uncertain = {(w, s) for w, s, _, st in rows if st == "uncertain"}
        assert uncertain, "no kill landed after a recorded click (the targeted kills should)"
        shown = json.loads(run_audit("status", "-w", str(ws), "--json").stdout)
        names = {s.company.name: s.company.slug for s in world.sites}
        shown_uncertain = {
            (r["wave"], names[r["company"]]) for r in shown if r["state"] == "uncertain"
        }
        assert shown_uncertain == uncertain
        print(f"{kills} kills over {len(waves)} waves: {dict(states)}")
    finally:
        world.stop()
