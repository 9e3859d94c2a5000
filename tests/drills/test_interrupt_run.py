"""Drill: Ctrl-C (SIGINT to the process group, as a terminal sends it) during `audit run
--submit`, twenty times over ten local sites.

Every third time a second Ctrl-C follows the first (stop what is in flight now). After
each interrupt the run must end by itself with a non-zero exit code and no traceback; the
wave goes on with the next run until a run finishes. Afterwards, in every wave: no site
received a form twice; every form a site received belongs to a `submitted` or `uncertain`
submission; no submission is `failed` (every site works: a company that was never opened,
or was stopped before its click, is planned again, not failed); every `uncertain` one was
clicked; and everything ends `submitted` or `uncertain`.
"""

from __future__ import annotations

import json
import os
import random
import signal
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

INTERRUPTS = 20
SITES = 10
SECOND_EVERY = 3
CEILING_S = 240  # an interrupted run ends within this (it is waited on, never timed)


def test_ctrl_c_never_lies_and_never_submits_twice(tmp_path: Path) -> None:
    rng = random.Random(20261204)
    world = start_world(plain_companies(SITES, "intr"))
    try:
        ws = write_workspace(
            tmp_path / "ws",
            world,
            browser=quick_browser(3),
        )
        db = ws / "survey.db"
        interrupts = 0
        waves: list[str] = []
        codes: list[int] = []
        while interrupts < INTERRUPTS:
            wave = f"wave-{len(waves) + 1}"
            waves.append(wave)
            set_wave(ws, wave)
            while True:
                log = tmp_path / f"run-{interrupts:02d}.log"
                proc = start_submit_run(ws, log)
                if interrupts < INTERRUPTS:
                    time.sleep(rng.uniform(1.0, 8.0))  # a random moment: any must be safe
                    if proc.poll() is None:
                        os.killpg(proc.pid, signal.SIGINT)
                        if (interrupts + 1) % SECOND_EVERY == 0:
                            time.sleep(0.3)
                            if proc.poll() is None:
                                os.killpg(proc.pid, signal.SIGINT)
                        try:
                            rc = proc.wait(timeout=CEILING_S)
                        except subprocess.TimeoutExpired:
                            kill_tree(proc)
                            raise AssertionError(
                                f"run did not stop after Ctrl-C: {log.read_text()[-2000:]}"
                            ) from None
                        text = log.read_text(errors="replace")
                        assert "Traceback" not in text, text[-3000:]
                        if rc == 0:  # it had just finished on its own: the wave is complete
                            assert "interrupt" not in text, text[-2000:]
                            break
                        interrupts += 1
                        codes.append(rc)
                        continue
                rc = proc.wait(timeout=CEILING_S)
                assert rc == 0, log.read_text(errors="replace")[-3000:]
                break
            again = json.loads(run_audit("run", "--submit", "-w", str(ws), "--json").stdout)
            assert all(r["outcome"].startswith("already-") for r in again["results"]), again

        con = sqlite3.connect(db)
        rows = con.execute(
            "select w.name, c.slug, s.token, s.state, s.clicked_at from submissions s "
            "join waves w on w.id = s.wave_id join companies c on c.id = s.company_id"
        ).fetchall()
        con.close()
        assert len(rows) == SITES * len(waves)
        by_token = {token: (wave, slug, state) for wave, slug, token, state, _ in rows}
        per_site_wave: Counter[tuple[str, str]] = Counter()
        for site in world.sites:
            for rec in site.received:
                wave, slug, state = by_token[rec.token]
                per_site_wave[(slug, wave)] += 1
                assert state in ("submitted", "uncertain"), (slug, wave, state)
        assert not per_site_wave or max(per_site_wave.values()) == 1, per_site_wave
        states = Counter(state for _, _, _, state, _ in rows)
        assert set(states) <= {"submitted", "uncertain"}, states  # never `failed`
        for _w, slug, _t, state, clicked_at in rows:
            if state == "uncertain":
                assert clicked_at is not None, slug
        print(
            f"{interrupts} interrupts over {len(waves)} waves: {dict(states)}, exit codes {set(codes)}"
        )
    finally:
        world.stop()
