"""Waves on a schedule: the wave of a period (pure), the crontab and systemd units (pure),
and `audit run --wave auto` / `audit schedule` end to end with the clock pinned."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from audit.app.schedule import plan, wave_for
from audit.models import Schedule

TZ = "Asia/Jerusalem"


@pytest.mark.parametrize(
    ("every", "instant", "wave"),
    [
        ("monthly", datetime(2026, 12, 6, 8, 0, tzinfo=UTC), "2026-12"),
        # 23:30 UTC on 31 December is already January in Israel
        ("monthly", datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "2027-01"),
        ("quarterly", datetime(2026, 11, 1, 8, 0, tzinfo=UTC), "2026-Q4"),
        ("weekly", datetime(2026, 12, 6, 8, 0, tzinfo=UTC), "2026-W49"),
    ],
)
def test_the_wave_is_the_period_in_the_survey_time_zone(
    every: str, instant: datetime, wave: str
) -> None:
    assert wave_for(Schedule(every=every), instant, TZ) == wave  # type: ignore[arg-type]


def test_the_crontab_runs_on_the_first_weekday_of_the_period_in_the_survey_zone() -> None:
    p = plan(
        Schedule(every="monthly", weekday="sun", at="9:30"),
        TZ,
        Path("/srv/s 1"),
        "/v/audit",
        "/srv/env",
    )
    lines = p.crontab.splitlines()
    assert lines[1] == "CRON_TZ=Asia/Jerusalem"
    run = lines[2]
    assert run.startswith("30 9 1-7 * * [ \"$(date +\\%w)\" = 0 ] && cd '/srv/s 1' && ")
    assert "set -a && . /srv/env && set +a" in run and run.count("--wave auto") == 1
    assert lines[3].startswith("*/10 * * * * cd '/srv/s 1' && ") and "watch --once" in lines[3]
    assert lines[4].startswith("30 10 * * * ") and "alerts > /dev/null 2>&1 || " in lines[4]
    assert "OnCalendar=Sun *-*-01..07 09:30:00 Asia/Jerusalem" in p.timer
    assert "ExecStart=/v/audit run --submit --wave auto" in p.service
    assert "EnvironmentFile=/srv/env" in p.service
    q = plan(Schedule(every="quarterly", weekday="tue"), TZ, Path("/s"), "audit", None)
    assert q.crontab.splitlines()[2].startswith('0 10 1-7 1,4,7,10 * [ "$(date +\\%w)" = 2 ]')
    w = plan(Schedule(every="weekly", weekday="mon", at="08:00"), TZ, Path("/s"), "audit", None)
    assert w.crontab.splitlines()[2].startswith('0 8 * * * [ "$(date +\\%w)" = 1 ]')
    assert "OnCalendar=Mon *-*-* 08:00:00 Asia/Jerusalem" in w.timer


def _audit(*args: str, clock: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, AUDIT_BLOCK_OUTSIDE="1")
    if clock:
        env["AUDIT_CLOCK"] = clock
    return subprocess.run(
        [sys.executable, "-m", "audit.cli", *args], capture_output=True, text=True, env=env
    )


def test_run_wave_auto_joins_the_period_and_schedule_prints_it(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    assert _audit("init", str(root)).returncode == 0
    (root / "companies.yaml").write_text("companies: []\n", "utf-8")
    missing = _audit("schedule", "-w", str(root))
    assert missing.returncode == 2 and "has no schedule" in missing.stderr
    survey = yaml.safe_load((root / "survey.yaml").read_text("utf-8"))
    survey["schedule"] = {"every": "monthly", "weekday": "sun", "at": "10:00"}
    (root / "survey.yaml").write_text(yaml.safe_dump(survey), "utf-8")
    # two dry runs in the same month join one wave; the next month opens the next one
    for clock in ("frozen:2026-12-06T10:00+02:00", "frozen:2026-12-20T10:00+02:00",
                  "frozen:2027-01-03T10:00+02:00"):  # fmt: skip
        proc = _audit("run", "-w", str(root), "--wave", "auto", clock=clock)
        assert proc.returncode == 0, proc.stderr
    con = sqlite3.connect(root / "survey.db")
    waves = [r[0] for r in con.execute("select name from waves order by id")]
    con.close()
    assert waves == ["2026-12", "2027-01"]
    printed = _audit("schedule", "-w", str(root))
    assert printed.returncode == 0 and "--wave auto" in printed.stdout
    assert printed.stdout.splitlines()[1] == "CRON_TZ=Asia/Jerusalem"
    units = _audit("schedule", "-w", str(root), "--systemd")
    assert "OnCalendar=Sun *-*-01..07 10:00:00 Asia/Jerusalem" in units.stdout
