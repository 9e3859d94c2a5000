"""`audit schedule`: waves on a cadence, run by the consultant's own machine.

We write no daemon: the command prints (or installs) what runs the survey, a crontab block
or systemd user units, from ``schedule:`` in survey.yaml and/or the command's options.
Each scheduled run is ``audit run --submit --wave auto:<every>``: the wave is named by its
period in the survey's time zone (``2026-12``, ``2026-W49``, ``2026-Q4``), so every run
inside one period joins the same wave and no form is ever sent twice in it, and the next
period opens the next wave. The watcher syncs every few minutes (``audit watch --once``);
once a day, an hour after the run time, the report is rebuilt and ``audit alerts`` runs,
silent unless something got worse (cron mails the consultant a job's output).

The cadence maths (``wave_for``, ``next_fires``) and the texts (``plan``, ``merge_crontab``)
are pure; ``install_crontab`` and ``install_systemd`` are the thin adapters.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from audit.config import load_workspace
from audit.errors import AuditError, ConfigError
from audit.models import WEEKDAYS, Schedule, parse_duration

AUTO_WAVE = "auto"
CRONTAB_ENV = "AUDIT_CRONTAB"  # the crontab command (tests point it at a temporary one)
# cron's day of week: 0 = Sunday; WEEKDAYS is Monday-first (datetime.weekday())
_CRON_DOW = {d: (i + 1) % 7 for i, d in enumerate(WEEKDAYS)}
_SYSTEMD_DOW = {d: d.capitalize() for d in WEEKDAYS}
_QUARTER_MONTHS = (1, 4, 7, 10)
_PERIOD_DAYS = {"weekly": 7, "monthly": 28, "quarterly": 90}  # the shortest period


def wave_for(schedule: Schedule, instant: datetime, timezone: str) -> str:
    """The wave a scheduled run at ``instant`` belongs to: its period, named."""
    local = instant.astimezone(ZoneInfo(timezone))
    if schedule.every == "weekly":
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    if schedule.every == "quarterly":
        return f"{local.year}-Q{(local.month - 1) // 3 + 1}"
    return f"{local.year}-{local.month:02d}"


def auto_wave(schedule: Schedule) -> str:
    """The ``--wave`` value a scheduled run passes: ``auto:monthly`` names the cadence, so
    the wave does not depend on survey.yaml having the same schedule as the options."""
    return f"{AUTO_WAVE}:{schedule.every}"


def fires_on(schedule: Schedule, day: date) -> bool:
    """Whether the schedule runs on this local calendar day: the first ``weekday`` of the
    period (every ``weekday`` when weekly)."""
    if day.weekday() != WEEKDAYS.index(schedule.weekday):
        return False
    if schedule.every == "weekly":
        return True
    if schedule.every == "quarterly" and day.month not in _QUARTER_MONTHS:
        return False
    return day.day <= 7


def local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """``day`` at wall time ``at`` in ``tz``, as cron and systemd read it across DST: a wall
    time the clocks skip (spring forward) fires at the first minute that exists after it; a
    wall time that happens twice (fall back) fires once, at its first occurrence."""
    wall = datetime.combine(day, at)
    for minutes in range(0, 24 * 60):
        candidate = (wall + timedelta(minutes=minutes)).replace(tzinfo=tz, fold=0)
        # a wall time that exists survives the round trip through UTC unchanged
        if candidate.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == candidate.replace(
            tzinfo=None
        ):
            return candidate.astimezone(UTC)
    raise ValueError(f"no existing wall time after {wall} in {tz}")  # pragma: no cover


def next_fires(schedule: Schedule, timezone: str, after: datetime, n: int = 5) -> list[datetime]:
    """The next ``n`` instants (aware UTC) strictly after ``after`` that the schedule fires."""
    if after.tzinfo is None:
        raise ValueError("after needs a time zone")
    tz = ZoneInfo(timezone)
    hh, mm = (int(x) for x in schedule.at.split(":"))
    at = time(hh, mm)
    day = after.astimezone(tz).date() - timedelta(days=1)  # a fire may shift across midnight
    out: list[datetime] = []
    while len(out) < n:
        if fires_on(schedule, day):
            instant = local_instant(day, at, tz)
            if instant > after:
                out.append(instant)
        day += timedelta(days=1)
    return out


def resolve_schedule(
    configured: Schedule | None,
    every: str | None = None,
    on: str | None = None,
    at: str | None = None,
    watch_every_min: int | None = None,
) -> Schedule:
    """survey.yaml's ``schedule:`` with the command's options over it (STYLE 6)."""
    given = {
        k: v
        for k, v in (
            ("every", every),
            ("weekday", on),
            ("at", at),
            ("watch_every_min", watch_every_min),
        )
        if v is not None
    }
    if configured is None and "every" not in given:
        raise ConfigError(
            "survey.yaml has no schedule: add e.g. `schedule: {every: monthly, weekday: tue, "
            "at: '10:00'}` (weekly | monthly | quarterly; the calendar's time zone), or pass "
            "--every month --on tuesday --at 10:00"
        )
    base = configured.model_dump() if configured is not None else {}
    try:
        return Schedule.model_validate({**base, **given})
    except ValueError as exc:
        first = exc.errors()[0] if hasattr(exc, "errors") else {"msg": str(exc), "loc": ()}
        where = ".".join(str(x) for x in first.get("loc", ())) or "schedule"
        raise ConfigError(f"schedule {where}: {first['msg']}") from None


@dataclass(frozen=True)
class Plan:
    """What runs a scheduled survey, ready to print or install."""

    schedule: Schedule
    timezone: str
    workspace: Path
    crontab: str  # the block, between begin and end markers
    units: dict[str, str]  # systemd user unit file name -> text
    unit_name: str

    @property
    def timers(self) -> list[str]:
        return [name for name in self.units if name.endswith(".timer")]

    # kept for the callers of the first version
    @property
    def timer(self) -> str:
        return self.units[f"{self.unit_name}.timer"]

    @property
    def service(self) -> str:
        return self.units[f"{self.unit_name}.service"]


def markers(workspace: Path) -> tuple[str, str]:
    """The lines around the crontab block of one workspace (an install replaces it)."""
    return (
        f"# >>> contact-audit {workspace} (audit schedule --install; edits here are replaced)",
        f"# <<< contact-audit {workspace}",
    )


def plan(
    schedule: Schedule, timezone: str, workspace: Path, audit_cmd: str, env_file: str | None
) -> Plan:
    """The crontab block and the systemd units for ``schedule`` (pure)."""
    hh, mm = (int(x) for x in schedule.at.split(":"))
    ws = shlex.quote(str(workspace))
    audit = shlex.quote(audit_cmd)
    env = f"set -a && . {shlex.quote(env_file)} && set +a && " if env_file else ""
    log = shlex.quote(str(workspace / "logs" / "scheduled.log"))
    wave = auto_wave(schedule)
    dow = _CRON_DOW[schedule.weekday]
    days = "*" if schedule.every == "weekly" else "1-7"
    months = "1,4,7,10" if schedule.every == "quarterly" else "*"
    # Standard cron ORs day-of-month and day-of-week when both are set, so the weekday is
    # tested in the command, in the survey's zone (CRON_TZ sets when cron fires, not the
    # job's TZ): the run happens on the first <weekday> of the period only.
    day_test = f'[ "$(TZ={shlex.quote(timezone)} date +\\%w)" = {dow} ] && '
    slug = "".join(ch if ch.isalnum() else "-" for ch in workspace.name).strip("-") or "survey"
    unit = f"contact-audit-{slug}"
    begin, end = markers(workspace)
    crontab = "\n".join(
        [
            begin,
            f"# {schedule.every} waves on the first {schedule.weekday} at {schedule.at} "
            f"({timezone}); watch every {schedule.watch_every_min} min; report and alerts daily",
            f"CRON_TZ={timezone}",
            f"{mm} {hh} {days} {months} * {day_test}cd {ws} && "
            f"{env}{audit} run --submit --wave {wave} >> {log} 2>&1",
            f"*/{schedule.watch_every_min} * * * * cd {ws} && {env}{audit} watch --once "
            f">> {log} 2>&1",
            # daily, an hour after the run time: the report rebuilt, then the alerts, silent
            # unless something got worse (cron mails a job's output): then the alert table
            f"{mm} {(hh + 1) % 24} * * * cd {ws} && {env}{audit} report >> {log} 2>&1; "
            f"{audit} alerts > /dev/null 2>&1 || {audit} alerts",
            end,
        ]
    )
    period = {
        "weekly": f"{_SYSTEMD_DOW[schedule.weekday]} *-*-*",
        "monthly": f"{_SYSTEMD_DOW[schedule.weekday]} *-*-01..07",
        "quarterly": f"{_SYSTEMD_DOW[schedule.weekday]} *-01,04,07,10-01..07",
    }[schedule.every]
    env_line = f"EnvironmentFile={env_file}\n" if env_file else ""
    what = f"contact-audit {schedule.every} waves of {workspace}"

    def service(desc: str, *commands: str) -> str:
        execs = "".join(f"ExecStart={audit_cmd} {c}\n" for c in commands)
        return (
            f"[Unit]\nDescription={what}: {desc}\n\n[Service]\nType=oneshot\n"
            f"WorkingDirectory={workspace}\n{env_line}{execs}"
        )

    def timer(desc: str, calendar: str, persistent: bool) -> str:
        keep = "Persistent=true\n" if persistent else ""
        return (
            f"[Unit]\nDescription={what}: {desc}\n\n[Timer]\nOnCalendar={calendar}\n{keep}\n"
            "[Install]\nWantedBy=timers.target\n"
        )

    units = {
        f"{unit}.service": service("the wave's run", f"run --submit --wave {wave}"),
        # Persistent: a run missed while the machine was off happens at the next boot
        f"{unit}.timer": timer("the wave's run", f"{period} {schedule.at}:00 {timezone}", True),
        f"{unit}-watch.service": service("mailbox sync", "watch --once"),
        f"{unit}-watch.timer": timer(
            "mailbox sync", f"*-*-* *:00/{schedule.watch_every_min:02d}:00", False
        ),
        # the alerts' exit code (3 when something got worse) marks the unit failed
        f"{unit}-alerts.service": service("report and alerts", "report", "alerts"),
        f"{unit}-alerts.timer": timer(
            "report and alerts", f"*-*-* {(hh + 1) % 24:02d}:{mm:02d}:00 {timezone}", True
        ),
    }
    return Plan(schedule, timezone, workspace, crontab, units, unit)


def schedule_plan(
    root: str | os.PathLike[str],
    env_file: str | None = None,
    audit_cmd: str | None = None,
    every: str | None = None,
    on: str | None = None,
    at: str | None = None,
    watch_every_min: int | None = None,
) -> Plan:
    """The plan for the workspace's ``schedule:`` with the options over it."""
    ws = load_workspace(root)
    sched = resolve_schedule(ws.survey.schedule, every, on, at, watch_every_min)
    if env_file is not None:
        env_file = str(Path(env_file).absolute())
    cmd = audit_cmd or str(Path(sys.executable).with_name("audit"))
    return plan(sched, ws.survey.calendar.timezone, ws.root.absolute(), cmd, env_file)


def overlap_note(root: str | os.PathLike[str], schedule: Schedule) -> str:
    """A warning when a wave stays open longer than the period (waves would overlap)."""
    s = load_workspace(root).survey.survey
    if s.close_at is not None:
        return (
            f"survey.close_at is fixed ({s.close_at.isoformat()}): every scheduled wave would "
            "close then; use close_after (e.g. 14d) for waves on a cadence"
        )
    days = parse_duration(s.close_after) / 86400
    if days > _PERIOD_DAYS[schedule.every]:
        return (
            f"survey.close_after is {s.close_after}, longer than a {schedule.every} period: "
            "a wave is still open when the next one starts (replies still count to their own "
            "wave, by token)"
        )
    return ""


# ---------------------------------------------------------------------------------------
# Installing
# ---------------------------------------------------------------------------------------
def merge_crontab(current: str, block: str, workspace: Path) -> str:
    """``current`` with this workspace's block replaced (or appended at the end) (pure)."""
    begin, end = markers(workspace)
    lines = current.splitlines()
    kept: list[str] = []
    inside = False
    for line in lines:
        if line == begin:
            inside = True
            continue
        if inside:
            if line == end:
                inside = False
            continue
        kept.append(line)
    while kept and not kept[-1].strip():
        kept.pop()
    return "\n".join([*kept, *([""] if kept else []), block]) + "\n"


def _crontab_cmd() -> list[str]:
    return shlex.split(os.environ.get(CRONTAB_ENV, "crontab"))


def install_crontab(p: Plan) -> str:
    """Put the plan's block into the user's crontab (``crontab -l`` then ``crontab -``);
    installing again replaces the block, other lines are kept. Returns the new crontab."""
    cmd = _crontab_cmd()
    try:
        listed = subprocess.run([*cmd, "-l"], capture_output=True, text=True, check=False)
    except OSError as exc:
        raise AuditError(
            f"cannot run {cmd[0]!r} ({exc.strerror}): install cron, or use --systemd"
        ) from None
    if listed.returncode == 0:
        current = listed.stdout
    elif "no crontab" in listed.stderr.lower():
        current = ""
    else:
        raise AuditError(f"`{shlex.join(cmd)} -l` failed: {listed.stderr.strip()[:200]}")
    new = merge_crontab(current, p.crontab, p.workspace)
    written = subprocess.run([*cmd, "-"], input=new, capture_output=True, text=True, check=False)
    if written.returncode != 0:
        raise AuditError(
            f"`{shlex.join(cmd)} -` refused the crontab: {written.stderr.strip()[:200]}"
        )
    return new


def systemd_user_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "systemd" / "user"


def install_systemd(p: Plan, directory: Path | None = None) -> list[Path]:
    """Write the plan's units into ~/.config/systemd/user (replacing this survey's)."""
    folder = directory or systemd_user_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for name, text in p.units.items():
            path = folder / name
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text(text, "utf-8")
            tmp.replace(path)
            written.append(path)
    except OSError as exc:
        raise AuditError(f"cannot write the systemd units in {folder}: {exc.strerror}") from None
    return written
