"""`audit schedule`: waves on a cadence, run by the consultant's own machine.

We write no daemon: the command prints (or installs) what runs the survey, a crontab block
or a systemd timer, from ``schedule:`` in survey.yaml. Each scheduled run is
``audit run --submit --wave auto``: the wave is named by its period in the survey's time
zone (``2026-12``, ``2026-W49``, ``2026-Q4``), so every run inside one period joins the
same wave and no form is ever sent twice in it, and the next period opens the next wave.
The watcher syncs every few minutes (``audit watch --once``), and ``audit alerts`` runs
after each sync of a new period's first day, so cron mails the consultant what got worse.
"""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from audit.config import load_workspace
from audit.errors import ConfigError
from audit.models import WEEKDAYS, Schedule

AUTO_WAVE = "auto"
# cron's day of week: 0 = Sunday; WEEKDAYS is Monday-first (datetime.weekday())
_CRON_DOW = {d: (i + 1) % 7 for i, d in enumerate(WEEKDAYS)}
_SYSTEMD_DOW = {d: d.capitalize() for d in WEEKDAYS}


def wave_for(schedule: Schedule, instant: datetime, timezone: str) -> str:
    """The wave a scheduled run at ``instant`` belongs to: its period, named."""
    local = instant.astimezone(ZoneInfo(timezone))
    if schedule.every == "weekly":
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    if schedule.every == "quarterly":
        return f"{local.year}-Q{(local.month - 1) // 3 + 1}"
    return f"{local.year}-{local.month:02d}"


def _period_days(schedule: Schedule) -> str:
    """Days of the month the run may fall on (the first <weekday> of the period)."""
    return "*" if schedule.every == "weekly" else "1-7"


def _months(schedule: Schedule) -> str:
    return "1,4,7,10" if schedule.every == "quarterly" else "*"


@dataclass(frozen=True)
class Plan:
    """What runs a scheduled survey, ready to print or install."""

    crontab: str
    timer: str
    service: str
    unit_name: str


def plan(
    schedule: Schedule, timezone: str, workspace: Path, audit_cmd: str, env_file: str | None
) -> Plan:
    """The crontab block and the systemd units for ``schedule`` (pure)."""
    hh, mm = (int(x) for x in schedule.at.split(":"))
    ws = shlex.quote(str(workspace))
    audit = shlex.quote(audit_cmd)
    env = f"set -a && . {shlex.quote(env_file)} && set +a && " if env_file else ""
    log = shlex.quote(str(workspace / "logs" / "scheduled.log"))
    dow = _CRON_DOW[schedule.weekday]
    # Standard cron ORs day-of-month and day-of-week when both are set, so the weekday is
    # tested in the command: the run happens on the first <weekday> of the period only.
    day_test = f'[ "$(date +\\%w)" = {dow} ] && '
    slug = "".join(ch if ch.isalnum() else "-" for ch in workspace.name).strip("-") or "survey"
    unit = f"contact-audit-{slug}"
    crontab = "\n".join(
        [
            f"# contact-audit: {schedule.every} waves of {workspace} ({timezone})",
            f"CRON_TZ={timezone}",
            f"{mm} {hh} {_period_days(schedule)} {_months(schedule)} * {day_test}cd {ws} && "
            f"{env}{audit} run --submit --wave {AUTO_WAVE} >> {log} 2>&1",
            f"*/{schedule.watch_every_min} * * * * cd {ws} && {env}{audit} watch --once "
            f">> {log} 2>&1",
            # daily, an hour after the run time: silent unless something got worse (cron
            # mails a job's output), then the alert table
            f"{mm} {(hh + 1) % 24} * * * cd {ws} && {env}{audit} alerts > /dev/null 2>&1 || "
            f"{audit} alerts",
        ]
    )
    period = {
        "weekly": f"{_SYSTEMD_DOW[schedule.weekday]} *-*-*",
        "monthly": f"{_SYSTEMD_DOW[schedule.weekday]} *-*-01..07",
        "quarterly": f"{_SYSTEMD_DOW[schedule.weekday]} *-01,04,07,10-01..07",
    }[schedule.every]
    timer = "\n".join(
        [
            "[Unit]",
            f"Description=contact-audit {schedule.every} wave of {workspace}",
            "",
            "[Timer]",
            f"OnCalendar={period} {schedule.at}:00 {timezone}",
            "Persistent=true",
            "",
            "[Install]",
            "WantedBy=timers.target",
        ]
    )
    env_line = f"EnvironmentFile={env_file}\n" if env_file else ""
    service = (
        "[Unit]\n"
        f"Description=contact-audit {schedule.every} wave of {workspace}\n\n"
        "[Service]\n"
        "Type=oneshot\n"
        f"WorkingDirectory={workspace}\n"
        f"{env_line}"
        f"ExecStart={audit_cmd} run --submit --wave {AUTO_WAVE}\n"
    )
    return Plan(crontab=crontab, timer=timer, service=service, unit_name=unit)


def schedule_plan(
    root: str | os.PathLike[str], env_file: str | None = None, audit_cmd: str | None = None
) -> Plan:
    """The plan for the workspace's ``schedule:`` (a ConfigError when it has none)."""
    ws = load_workspace(root)
    if ws.survey.schedule is None:
        raise ConfigError(
            "survey.yaml has no schedule: add e.g. `schedule: {every: monthly, weekday: sun, "
            "at: '10:00'}` (weekly | monthly | quarterly; the calendar's time zone)"
        )
    cmd = audit_cmd or str(Path(sys.executable).with_name("audit"))
    return plan(ws.survey.schedule, ws.survey.calendar.timezone, ws.root, cmd, env_file)
