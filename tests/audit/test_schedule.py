"""Waves on a schedule: the wave of a period (pure), the crontab and systemd units (pure),
and `audit run --wave auto` / `audit schedule` end to end with the clock pinned."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from audit.app.schedule import (
    fires_on,
    markers,
    merge_crontab,
    next_fires,
    plan,
    resolve_schedule,
    wave_for,
)
from audit.errors import ConfigError
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
    begin, end = markers(Path("/srv/s 1"))
    assert lines[0] == begin and lines[-1] == end
    assert lines[2] == "CRON_TZ=Asia/Jerusalem"
    run = lines[3]
    # the weekday is tested in the survey's zone: CRON_TZ does not set the job's TZ
    assert run.startswith(
        "30 9 1-7 * * [ \"$(TZ=Asia/Jerusalem date +\\%w)\" = 0 ] && cd '/srv/s 1' && "
    )
    assert "set -a && . /srv/env && set +a" in run and run.count("--wave auto:monthly") == 1
    assert lines[4].startswith("*/10 * * * * cd '/srv/s 1' && ") and "watch --once" in lines[4]
    assert lines[5].startswith("30 10 * * * ") and " report >> " in lines[5]
    assert lines[5].endswith("alerts > /dev/null 2>&1 || /v/audit alerts")
    assert "OnCalendar=Sun *-*-01..07 09:30:00 Asia/Jerusalem" in p.timer
    assert "ExecStart=/v/audit run --submit --wave auto:monthly" in p.service
    assert "EnvironmentFile=/srv/env" in p.service
    assert p.units["contact-audit-s-1-watch.timer"].count("OnCalendar=*-*-* *:00/10:00") == 1
    alerts_unit = p.units["contact-audit-s-1-alerts.service"]
    assert "ExecStart=/v/audit report\nExecStart=/v/audit alerts\n" in alerts_unit
    assert "OnCalendar=*-*-* 10:30:00 Asia/Jerusalem" in p.units["contact-audit-s-1-alerts.timer"]
    assert p.timers == [
        "contact-audit-s-1.timer",
        "contact-audit-s-1-watch.timer",
        "contact-audit-s-1-alerts.timer",
    ]
    q = plan(Schedule(every="quarterly", weekday="tue"), TZ, Path("/s"), "audit", None)
    assert q.crontab.splitlines()[3].startswith(
        '0 10 1-7 1,4,7,10 * [ "$(TZ=Asia/Jerusalem date +\\%w)" = 2 ]'
    )
    w = plan(Schedule(every="weekly", weekday="mon", at="08:00"), TZ, Path("/s"), "audit", None)
    assert w.crontab.splitlines()[3].startswith(
        '0 8 * * * [ "$(TZ=Asia/Jerusalem date +\\%w)" = 1 ]'
    )
    assert "OnCalendar=Mon *-*-* 08:00:00 Asia/Jerusalem" in w.timer


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.mark.parametrize(
    ("schedule", "after", "expected"),
    [
        # the first Tuesday of each month at 10:00 Israel time: 08:00 UTC in winter, 07:00 in
        # summer (Israel's DST began on Friday 26 March 2027)
        (
            Schedule(every="month", weekday="tuesday", at="10:00"),
            "2027-02-02T08:00Z",  # exactly a fire instant: the next one is strictly after
            ["2027-03-02T08:00Z", "2027-04-06T07:00Z", "2027-05-04T07:00Z"],
        ),
        # back to winter time on Sunday 31 October 2027
        (
            Schedule(every="month", weekday="tue", at="10:00"),
            "2027-10-01T00:00Z",
            ["2027-10-05T07:00Z", "2027-11-02T08:00Z"],
        ),
        # 02:30 does not exist on 26 March 2027 (02:00 -> 03:00): fires at 03:00 IDT
        (
            Schedule(every="weekly", weekday="fri", at="02:30"),
            "2027-03-15T00:00Z",
            ["2027-03-19T00:30Z", "2027-03-26T00:00Z", "2027-04-01T23:30Z"],
        ),
        # 01:30 happens twice on 31 October 2027 (02:00 -> 01:00): fires once, the first
        (
            Schedule(every="weekly", weekday="sun", at="01:30"),
            "2027-10-20T00:00Z",
            ["2027-10-23T22:30Z", "2027-10-30T22:30Z", "2027-11-06T23:30Z"],
        ),
        # quarterly: the first Sunday of January, April, July, October
        (
            Schedule(every="quarter", weekday="sun", at="09:00"),
            "2026-12-04T12:00Z",
            ["2027-01-03T07:00Z", "2027-04-04T06:00Z", "2027-07-04T06:00Z", "2027-10-03T06:00Z"],
        ),
        # a local day that starts the day before in UTC: Monday 00:15 Israel = Sunday UTC
        (
            Schedule(every="weekly", weekday="mon", at="00:15"),
            "2026-12-06T21:00Z",
            ["2026-12-06T22:15Z", "2026-12-13T22:15Z"],
        ),
    ],
)
def test_next_fires_in_the_survey_zone_across_dst(
    schedule: Schedule, after: str, expected: list[str]
) -> None:
    got = next_fires(schedule, TZ, _utc(after), len(expected))
    assert got == [_utc(x) for x in expected]
    assert all(fires_on(schedule, g.astimezone(ZoneInfo(TZ)).date()) for g in got)


def test_options_override_the_survey_schedule_and_bad_ones_are_one_line() -> None:
    base = Schedule(every="monthly", weekday="sun", at="10:00")
    s = resolve_schedule(base, every="week", on="Tuesday", at="9:05")
    assert (s.every, s.weekday, s.at, s.watch_every_min) == ("weekly", "tue", "09:05", 10)
    assert resolve_schedule(None, every="quarter").every == "quarterly"
    with pytest.raises(ConfigError, match="has no schedule"):
        resolve_schedule(None, on="tue")
    with pytest.raises(ConfigError, match="weekday.*unknown weekday 'someday'"):
        resolve_schedule(base, on="someday")
    with pytest.raises(ConfigError, match="every"):
        resolve_schedule(base, every="fortnight")
    with pytest.raises(ConfigError, match="at.*10h"):
        resolve_schedule(base, at="10h")


def test_an_install_replaces_its_own_block_and_keeps_the_rest() -> None:
    ws = Path("/srv/a")
    block = plan(Schedule(), TZ, ws, "audit", None).crontab
    mine = "MAILTO=me@example.com\n0 3 * * * backup\n"
    once = merge_crontab(mine, block, ws)
    assert once.startswith(mine) and once.count(markers(ws)[0]) == 1
    other = plan(Schedule(every="weekly"), TZ, Path("/srv/b"), "audit", None).crontab
    both = merge_crontab(once, other, Path("/srv/b"))
    newer = plan(Schedule(at="11:00"), TZ, ws, "audit", None).crontab
    again = merge_crontab(both, newer, ws)
    assert again.count(markers(ws)[0]) == 1 and again.count(markers(Path("/srv/b"))[0]) == 1
    assert "0 11 1-7" in again and "0 10 1-7" not in again and again.startswith(mine)
    assert merge_crontab("", block, ws) == block + "\n"


def _audit(
    *args: str, clock: str | None = None, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, AUDIT_BLOCK_OUTSIDE="1", **(extra_env or {}))
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
    printed = _audit("schedule", "-w", str(root), clock="frozen:2027-03-20T12:00+02:00")
    assert printed.returncode == 0 and "--wave auto:monthly" in printed.stdout
    assert printed.stdout.splitlines()[2] == "CRON_TZ=Asia/Jerusalem"
    # the next five runs, DST-correct, each with the wave it opens
    assert "2027-04-04 10:00 IDT  (2027-04-04T07:00:00Z)  wave 2027-04" in printed.stderr
    assert "2027-08-01 10:00 IDT  (2027-08-01T07:00:00Z)  wave 2027-08" in printed.stderr
    assert "2027-09-05" not in printed.stderr
    units = _audit("schedule", "-w", str(root), "--systemd")
    assert "OnCalendar=Sun *-*-01..07 10:00:00 Asia/Jerusalem" in units.stdout
    # options over survey.yaml, as JSON for scripts
    opts = _audit(
        "schedule", "-w", str(root), "--every", "week", "--on", "tuesday", "--at", "9:00",
        "--next", "2", "--json", clock="frozen:2026-12-04T12:00+02:00",
    )  # fmt: skip
    doc = json.loads(opts.stdout)
    assert doc["schedule"]["every"] == "weekly" and doc["installed"] == []
    assert [n["at"] for n in doc["next"]] == ["2026-12-08T07:00:00Z", "2026-12-15T07:00:00Z"]
    assert [n["wave"] for n in doc["next"]] == ["2026-W50", "2026-W51"]
    assert "--wave auto:weekly" in doc["crontab"]
    bad = _audit("schedule", "-w", str(root), "--on", "someday")
    assert bad.returncode == 2 and "unknown weekday 'someday'" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    # the cadence the command names wins over survey.yaml's: a weekly wave
    proc = _audit(
        "run", "-w", str(root), "--wave", "auto:weekly", clock="frozen:2027-01-05T09:00+02:00"
    )
    assert proc.returncode == 0, proc.stderr
    con = sqlite3.connect(root / "survey.db")
    assert [r[0] for r in con.execute("select name from waves order by id")][-1] == "2027-W01"
    con.close()


FAKE_CRONTAB = """#!/bin/sh
# a crontab command over one file: -l lists it, - replaces it from stdin
f="$FAKE_CRONTAB_FILE"
case "$1" in
  -l) [ -f "$f" ] || { echo "no crontab for $(id -un)" >&2; exit 1; }; cat "$f" ;;
  -) cat > "$f" ;;
  *) exit 2 ;;
esac
"""


def test_install_into_a_crontab_and_into_systemd_user_units(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    assert _audit("init", str(root)).returncode == 0
    (root / "companies.yaml").write_text("companies: []\n", "utf-8")
    fake = tmp_path / "crontab"
    fake.write_text(FAKE_CRONTAB, "utf-8")
    fake.chmod(0o755)
    tab = tmp_path / "tab"
    env = {"AUDIT_CRONTAB": str(fake), "FAKE_CRONTAB_FILE": str(tab)}
    args = ("schedule", "-w", str(root), "--every", "month", "--on", "tue", "--install")
    first = _audit(*args, extra_env=env)
    assert first.returncode == 0, first.stderr
    assert "Installed in your crontab" in first.stderr
    installed = tab.read_text("utf-8")
    assert installed.count("--wave auto:monthly") == 1 and "CRON_TZ=Asia/Jerusalem" in installed
    tab.write_text("MAILTO=me@example.com\n" + installed, "utf-8")
    again = _audit(*args[:-1], "--at", "11:30", "--install", extra_env=env)
    assert again.returncode == 0, again.stderr
    text = tab.read_text("utf-8")
    assert text.startswith("MAILTO=me@example.com\n")
    assert text.count("contact-audit " + str(root)) == 2  # one begin, one end marker
    assert "30 11 1-7 * * " in text and "0 10 1-7" not in text
    # a crontab that cannot be read is one line, nothing written
    broken = _audit(*args, extra_env={"AUDIT_CRONTAB": str(tmp_path / "missing")})
    assert broken.returncode == 1 and "cannot run" in broken.stderr
    # systemd: the unit files written where the user's units live
    xdg = tmp_path / "config"
    units = _audit(*args, "--systemd", extra_env={"XDG_CONFIG_HOME": str(xdg)})
    assert units.returncode == 0, units.stderr
    folder = xdg / "systemd" / "user"
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(
        f"contact-audit-ws{s}" for s in (
            ".service", ".timer", "-watch.service", "-watch.timer", "-alerts.service",
            "-alerts.timer",
        )
    )  # fmt: skip
    timer = (folder / "contact-audit-ws.timer").read_text("utf-8")
    assert "OnCalendar=Tue *-*-01..07 10:00:00 Asia/Jerusalem" in timer
    assert "systemctl --user enable --now contact-audit-ws.timer" in units.stderr


SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="no systemd-analyze")
@pytest.mark.parametrize(
    ("schedule", "base"),
    [
        (Schedule(every="monthly", weekday="tue", at="10:00"), "2027-01-15T00:00Z"),
        (Schedule(every="quarterly", weekday="sun", at="09:00"), "2026-12-04T12:00Z"),
        (Schedule(every="weekly", weekday="sun", at="01:30"), "2027-10-20T00:00Z"),  # fall back
        (Schedule(every="weekly", weekday="mon", at="00:15"), "2026-12-06T21:00Z"),
    ],
)
def test_next_fires_agree_with_systemd_on_the_timer_we_write(schedule: Schedule, base: str) -> None:
    """The timer's OnCalendar, evaluated by systemd itself, fires when we say it will."""
    p = plan(schedule, TZ, Path("/s"), "audit", None)
    calendar = next(
        line.split("=", 1)[1] for line in p.timer.splitlines() if line.startswith("OnCalendar=")
    )
    after = _utc(base)
    proc = subprocess.run(
        [
            str(SYSTEMD_ANALYZE),
            "calendar",
            f"--base-time={after:%Y-%m-%d %H:%M:%S} UTC",
            "--iterations=4",
            calendar,
        ],
        capture_output=True,
        text=True,
        env=dict(os.environ, TZ="UTC"),
    )
    assert proc.returncode == 0, proc.stderr
    theirs = [
        datetime.strptime(line.split(": ", 1)[1].strip()[4:], "%Y-%m-%d %H:%M:%S UTC").replace(
            tzinfo=UTC
        )
        for line in proc.stdout.splitlines()
        if line.strip().startswith(("Next elapse:", "Iter. #"))
    ]
    assert theirs == next_fires(schedule, TZ, after, 4)
