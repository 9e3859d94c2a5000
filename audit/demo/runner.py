"""`audit demo`: a whole survey against a local demo world, checked against the truth.

Simulated time, explicitly: the survey is replayed as if it had started on a Sunday
09:00 (Asia/Jerusalem) at least a week ago, in the latest week without a public holiday
(or from ``--start``, any week). The tool's clock runs that far behind real
time (the offset is stored with every run and shown in the report), forms are really
submitted in real Chromium, and each simulated company sends its replies through a real
SMTP entry point; the entry point delivers them into a real Dovecot by IMAP APPEND with
the simulated arrival time as INTERNALDATE. The watcher then reads those arrival times
exactly as it would in a live survey.

The truth the result is checked against is computed with the survey's own calendar: a
reply's business time is counted in the demo survey's opening hours and holidays, so the
true ranking holds in a holiday week too (replies on a closed day tie, as they should).
"""

from __future__ import annotations

import csv
import json
import os
import secrets
import shutil
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from rich.console import Console
from rich.table import Table

from audit import pipeline
from audit.clock import Clock
from audit.demo.scenario import COMPANIES, DemoCompany
from audit.demo.sites import DemoWorld
from audit.errors import AuditError
from audit.models import DEFAULT_PASSWORD_ENV, DEFAULT_SMTP_PASSWORD_ENV, Calendar

DEMO_ZONE = ZoneInfo("Asia/Jerusalem")
REPLY_DOMAIN = "replies.demo.test"
MARKER = ".contact-audit-demo"
TOLERANCE_S = 1.0
WAVE_DAYS = 6  # the wave closes six days after it opens (Saturday 09:00)


DEMO_CALENDAR = Calendar(timezone="Asia/Jerusalem", country="IL")  # default opening hours


def simulated_start(now: datetime, min_days_ago: int = 7) -> datetime:
    """The latest Sunday 09:00 in Israel that is at least `min_days_ago` days before now."""
    local = (now - timedelta(days=min_days_ago)).astimezone(DEMO_ZONE)
    days_back = (local.weekday() + 1) % 7  # Monday=0 ... Sunday=6 -> days since Sunday
    sunday = (local - timedelta(days=days_back)).replace(hour=9, minute=0, second=0, microsecond=0)
    if sunday > local:
        sunday -= timedelta(days=7)
    return sunday.astimezone(UTC)


def closed_days(start: datetime, calendar: Calendar = DEMO_CALENDAR) -> dict[date, str]:
    """Public holidays and extra closed dates in the replay week that begins at `start`."""
    from reports.calendar import BusinessCalendar

    cal = BusinessCalendar.from_config(calendar)
    first = start.astimezone(DEMO_ZONE).date()
    last = (start + timedelta(days=WAVE_DAYS)).astimezone(DEMO_ZONE).date()
    names = cal.holidays_in(range(first.year, last.year + 1))
    return {d: n for d, n in sorted(names.items()) if first <= d <= last}


def replay_start(now: datetime, calendar: Calendar = DEMO_CALENDAR) -> datetime:
    """The latest Sunday 09:00 at least a week back whose week has no holiday.

    The truth check holds in any week (it uses the calendar); a week without holidays
    just makes the demo's leaderboard the familiar one, with no ties.
    """
    start = simulated_start(now)
    for _ in range(52):
        if not closed_days(start, calendar):
            return start
        start -= timedelta(days=7)
    return simulated_start(now)


def parse_start(text: str) -> datetime:
    """`--start`: a date (09:00 Israel time that day) or an instant with a time zone."""
    value = text.strip()
    try:
        if len(value) == 10:
            d = date.fromisoformat(value)
            return datetime(d.year, d.month, d.day, 9, 0, tzinfo=DEMO_ZONE).astimezone(UTC)
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise AuditError(f"--start {text!r}: use a date (2025-04-13) or an ISO instant") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=DEMO_ZONE)
    return t.astimezone(UTC)


def _prepare_dir(directory: Path) -> Path:
    root = directory.resolve()
    if root.exists() and any(root.iterdir()) and not (root / MARKER).exists():
        raise AuditError(f"{root} exists and is not a demo workspace; choose another --dir")
    if root.exists():
        shutil.rmtree(root)  # a fresh world each time: the demo's mail server is new too
    root.mkdir(parents=True)
    (root / MARKER).write_text("created by `audit demo`; safe to delete\n")
    return root


def _write_config(
    root: Path, mail: Any, world: DemoWorld, start: datetime, smtp: Any = None
) -> None:
    survey = {
        "survey": {
            "name": "Demo: the 2010 customer-service survey, replayed",
            "wave": f"demo-{start.astimezone(DEMO_ZONE):%Y-%m-%d}",
            "close_at": (start + timedelta(days=WAVE_DAYS)).isoformat(),
        },
        "persona": {"name": "Dana Cohen", "phone": "050-555-0134"},
        "reply_address": {"scheme": "plus", "local": "survey", "domain": REPLY_DOMAIN},
        "mailbox": {
            "host": "127.0.0.1",
            "port": mail.imaps_port,
            "tls": "ssl",
            "user": mail.user,
            "ca_file": str(mail.ca_file),
            "idle_round_s": 60,
            "timeout_s": 10,
        },
        "calendar": DEMO_CALENDAR.model_dump(),
        "browser": {
            "concurrency": 4,
            "min_fill_seconds": 1.0,
            "typing_delay_ms": [5, 15],
            "site_delay_s": 0,
            "timeout_s": 20,
        },
    }
    if smtp is not None:  # the e-mail channel's submission server (STARTTLS, login)
        survey["smtp"] = smtp.smtp_config()
    companies = []
    for site in world.sites:
        c = site.company
        entry: dict[str, Any] = {"name": c.name, "id": c.slug, "sector": c.sector}
        entry["homepage"] = site.url
        if not c.footer_only:  # footer-only companies are found from the homepage
            entry["contact_url"] = site.url + "contact"
        if c.channel == "email":
            entry.update(channel="email", email=c.email)
            entry.pop("contact_url", None)
        entry["reply_domains"] = [c.domain] + ([c.helpdesk_domain] if c.helpdesk_domain else [])
        if c.promise:
            entry["promise"] = c.promise
        companies.append(entry)
    (root / "survey.yaml").write_text(
        "# Written by `audit demo`. Simulated time: see the demo's output.\n"
        + yaml.safe_dump(survey, allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )
    (root / "companies.yaml").write_text(
        yaml.safe_dump({"companies": companies}, allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )


@dataclass
class TruthCheck:
    ok: bool
    lines: list[str]
    table: list[dict[str, Any]]


def true_ranks(
    business_s: dict[str, float], tolerance_s: float = TOLERANCE_S
) -> dict[str, tuple[int, int]]:
    """The ranks each answered company may truly hold: (best, worst).

    Ranks share the lowest rank on ties, as the report's do. Two true business times
    within twice the measuring tolerance may come out in either order, so such a pair
    allows both ranks; everything else has exactly one true rank.
    """
    out = {}
    for slug, v in business_s.items():
        others = [w for k, w in business_s.items() if k != slug]
        best = 1 + sum(1 for w in others if w < v - 2 * tolerance_s)
        worst = 1 + sum(1 for w in others if w < v + 2 * tolerance_s)
        out[slug] = (best, worst)
    return out


def check_truth(
    results_csv: Path,
    world: DemoWorld,
    submitted_at: dict[str, datetime],
    calendar: Calendar = DEMO_CALENDAR,
) -> TruthCheck:
    """Every measured time maps back to the simulated one within 1 s; ranks are true.

    A simulated company answers a set delay after its server received the form; the tool
    measures from its own submit instant. The form's trip between the two (``lag``, small,
    but longer on a busy machine) is part of what the tool truly measures, so the expected
    time is delay + lag, and the 1 s tolerance covers only INTERNALDATE's whole seconds.
    The true business time is counted with the survey's own calendar from the submit
    instant to the answer's simulated arrival; the true ranking orders those, ties sharing
    a rank as in the report.
    """
    from reports.calendar import BusinessCalendar

    cal = BusinessCalendar.from_config(calendar)
    rows = {r["company"]: r for r in csv.DictReader(results_csv.open(encoding="utf-8"))}
    problems: list[str] = []
    table: list[dict[str, Any]] = []
    by_slug = {s.company.slug: s for s in world.sites}
    true_business: dict[str, float] = {}
    lags: dict[str, float] = {}
    for c in COMPANIES:
        received = by_slug[c.slug].received
        if not received:
            continue
        sent = submitted_at.get(c.slug, received[0].at)
        lags[c.slug] = (received[0].at - sent).total_seconds()
        if c.expected_status == "answered" and c.first_human_s is not None:
            arrived = received[0].at + timedelta(seconds=c.first_human_s)
            true_business[c.slug] = cal.business_seconds(sent, arrived)
    rank_range = true_ranks(true_business)
    unanswered_rank = sum(1 for c in COMPANIES if c.expected_status == "answered") + 1
    for c in COMPANIES:
        row = rows.get(c.name)
        entry: dict[str, Any] = {"company": c.name, "expected_status": c.expected_status}
        if row is None:
            problems.append(f"{c.name}: missing from results.csv")
            table.append(entry | {"ok": False})
            continue
        entry["status"] = row["status"]
        entry["channel"] = row.get("channel", "form")
        ok = row["status"] == c.expected_status
        if not ok:
            problems.append(f"{c.name}: status {row['status']!r}, expected {c.expected_status!r}")
        received = by_slug[c.slug].received
        if entry["channel"] != c.channel:
            ok = False
            problems.append(f"{c.name}: surveyed by {entry['channel']}, expected {c.channel}")
        if c.channel == "email" and any(r.message_id is None for r in received):
            ok = False
            problems.append(f"{c.name}: the inquiry did not arrive as an e-mail with a Message-ID")
        if c.expected_status == "blocked":
            if received:
                ok = False
                problems.append(f"{c.name}: a CAPTCHA form must not be submitted, yet it arrived")
        elif len(received) != 1:
            ok = False
            problems.append(f"{c.name}: the site received {len(received)} submissions, expected 1")
        lag = lags.get(c.slug, 0.0)
        if received:
            entry["submit_to_server_s"] = round(lag, 3)
        if c.first_human_s is not None and c.expected_status == "answered":
            measured = float(row["response_seconds"] or "nan")
            entry["true_s"], entry["measured_s"] = c.first_human_s, measured
            if not abs(measured - (c.first_human_s + lag)) <= TOLERANCE_S:
                ok = False
                problems.append(
                    f"{c.name}: measured {measured} s, simulated truth {c.first_human_s} s "
                    f"+ {lag:.3f} s from submit to the company's server"
                )
            if c.slug in true_business:
                measured_b = float(row["business_seconds"] or "nan")
                entry["true_business_s"] = round(true_business[c.slug], 3)
                entry["measured_business_s"] = measured_b
                if not abs(measured_b - true_business[c.slug]) <= TOLERANCE_S:
                    ok = False
                    problems.append(
                        f"{c.name}: measured {measured_b} business s, "
                        f"truth {true_business[c.slug]:.3f} s (survey calendar)"
                    )
        if (
            c.first_contact_s is not None
            and c.expected_status != "blocked"
            and row["first_reply_at"]
        ):
            first = datetime.fromisoformat(row["first_reply_at"].replace("Z", "+00:00"))
            sub = submitted_at.get(c.slug)
            if sub is not None:
                measured_first = (first - sub).total_seconds()
                entry["first_contact_true_s"] = c.first_contact_s
                entry["first_contact_measured_s"] = round(measured_first, 3)
                if not abs(measured_first - (c.first_contact_s + lag)) <= TOLERANCE_S:
                    ok = False
                    problems.append(
                        f"{c.name}: first contact after {measured_first:.3f} s, truth "
                        f"{c.first_contact_s} s + {lag:.3f} s from submit to the server"
                    )
        if c.expected_status == "blocked":
            want: tuple[int, int] | None = None
        elif c.slug in rank_range:
            want = rank_range[c.slug]
        else:
            want = (unanswered_rank, unanswered_rank)
        got_rank = int(float(row["rank"])) if row["rank"] else None
        entry["rank"] = got_rank
        entry["true_rank"] = (
            None if want is None else (want[0] if want[0] == want[1] else list(want))
        )
        if (want is None and got_rank is not None) or (
            want is not None and (got_rank is None or not want[0] <= got_rank <= want[1])
        ):
            ok = False
            shown = "none" if want is None else "-".join(str(r) for r in sorted(set(want)))
            problems.append(f"{c.name}: rank {got_rank}, true rank {shown}")
        entry["ok"] = ok
        table.append(entry)
    if world.errors:
        problems.append("demo companies failed to reply: " + ", ".join(world.errors))
    return TruthCheck(not problems, problems, table)


def _fmt_duration(seconds: str) -> str:
    if not seconds:
        return "-"
    s = float(seconds)
    if s < 3600:
        return f"{s / 60:.0f} min"
    if s < 86400:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.1f} d"


def run_demo(
    directory: Path,
    console: Console,
    keep_running: bool = False,
    start: datetime | None = None,
) -> bool:
    from audit.demo.mailserver import MailServer, SmtpEntry, SubmissionServer, dovecot_available
    from probes.browser import find_browser

    t0 = time.monotonic()
    reason = dovecot_available()
    if reason:
        raise AuditError(f"the demo needs a local Dovecot: {reason}")
    find_browser(None)  # raises with install instructions when there is none

    real_now = datetime.now(UTC)
    start = start or replay_start(real_now)
    if start > real_now - timedelta(days=WAVE_DAYS + 1):
        raise AuditError(
            f"--start {start.isoformat()}: the replayed wave must have closed before now "
            f"(start at least {WAVE_DAYS + 1} days ago)"
        )
    clock = Clock.starting_at(start, real_now)
    closed = closed_days(start)
    root = _prepare_dir(directory)
    console.rule("[bold]contact-audit demo")
    console.print(
        f"[bold yellow]Simulated time:[/] the survey is replayed as if it began on "
        f"{start.astimezone(DEMO_ZONE):%A %Y-%m-%d %H:%M} Israel time; the tool's clock runs "
        f"{clock.offset_s / 86400:.2f} days behind real time.\nReplies are sent through a real "
        "SMTP entry point and delivered into a real Dovecot by IMAP APPEND with their simulated "
        "arrival time (INTERNALDATE), the time every measurement counts from."
    )
    if closed:
        console.print(
            "[bold yellow]Holidays in the replayed week[/] (closed in the survey calendar; "
            "business time does not run): "
            + ", ".join(f"{d:%a %Y-%m-%d} {n}" for d, n in closed.items())
        )
    password = secrets.token_urlsafe(16)
    previous_password = os.environ.get(DEFAULT_PASSWORD_ENV)
    os.environ[DEFAULT_PASSWORD_ENV] = password
    mail = MailServer(user="survey", password=password)
    mail.start()
    smtp = SmtpEntry(mail)
    smtp.start()
    world = DemoWorld(COMPANIES, clock, smtp.port, REPLY_DOMAIN).start()
    submission = SubmissionServer(mail, user="survey-sender", deliver=world.receive_mail)
    submission.start()
    previous_smtp_password = os.environ.get(DEFAULT_SMTP_PASSWORD_ENV)
    os.environ[DEFAULT_SMTP_PASSWORD_ENV] = submission.password
    stop = threading.Event()
    watcher_error: list[BaseException] = []
    try:
        _write_config(root, mail, world, start, submission)
        console.print(
            f"Demo world: {len(world.sites)} company websites on 127.0.0.1, Dovecot IMAPS on port "
            f"{mail.imaps_port}, SMTP entry on port {smtp.port}. Workspace: {root}"
        )

        def watch() -> None:
            try:
                pipeline.watch_mailbox(root, once=False, clock=clock, stop=stop)
            except BaseException as exc:  # reported after the run
                watcher_error.append(exc)

        watcher = threading.Thread(target=watch, name="demo-watcher", daemon=True)
        watcher.start()
        console.print(
            "[bold]1/4[/] audit watch (IMAP IDLE) started; [bold]2/4[/] audit run --submit ..."
        )
        summary = pipeline.run_survey(
            root, pipeline.RunOptions(submit=True, block_outside=True), clock=clock
        )
        for r in sorted(summary.results, key=lambda r: r.company):
            console.print(f"    {r.company:22} {r.channel:6} {r.outcome:12} {r.reason[:62]}")
        world.wait_idle(60)
        expected_msgs = sum(len(s.company.replies) for s in world.sites if s.received)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not watcher_error:
            if sum(r["messages"] for r in pipeline.status(root)) >= expected_msgs:
                break
            time.sleep(0.2)
        stop.set()
        watcher.join(30)
        if watcher_error:
            raise watcher_error[0]
        console.print("[bold]3/4[/] audit watch --once (final catch-up) ...")
        pipeline.watch_mailbox(root, once=True, clock=clock)
        console.print("[bold]4/4[/] audit report ...")
        # Reported as of the wave's close: the replay has delivered every reply by then.
        close = start + timedelta(days=WAVE_DAYS)
        paths = pipeline.report(root, clock=clock, as_of=close)
        he_dir = Path(paths.dir).with_name(Path(paths.dir).name + "-he")
        pipeline.report(root, lang="he", out_dir=he_dir, clock=clock, as_of=close)
        submitted = {
            r["company"]: r["submitted_at"] for r in pipeline.status(root) if r["submitted_at"]
        }
        by_name = {c.name: c.slug for c in COMPANIES}
        submitted_at = {by_name[k]: v for k, v in submitted.items() if k in by_name}
        truth = check_truth(Path(paths.results_csv), world, submitted_at)
        _write_truth(Path(paths.dir), world, start, clock, truth)
        _print_summary(console, Path(paths.results_csv), truth)
        console.print(f"Leaderboard: [bold]{paths.index_html}[/]")
        console.print(f"Results:     {paths.results_csv}")
        console.print(f"Truth:       {Path(paths.dir) / 'truth.json'}")
        if truth.ok:
            console.print(
                f"[green]Truth check passed[/]: every measured time within {TOLERANCE_S:.0f} s of the simulated one; ranking is the true one. ({time.monotonic() - t0:.1f} s)"
            )
        else:
            console.print("[red]Truth check FAILED:[/]")
            for line in truth.lines:
                console.print(f"  - {line}")
        if keep_running:
            console.print("Servers stay up; Ctrl-C to stop.")
            try:
                while True:
                    time.sleep(1)
            except KeyboardInterrupt:
                pass
        return truth.ok
    finally:
        stop.set()
        world.stop()
        submission.stop()
        smtp.stop()
        mail.stop()
        mail.cleanup()
        for env, previous in (
            (DEFAULT_PASSWORD_ENV, previous_password),
            (DEFAULT_SMTP_PASSWORD_ENV, previous_smtp_password),
        ):
            if previous is None:
                os.environ.pop(env, None)
            else:
                os.environ[env] = previous


def _write_truth(
    out: Path, world: DemoWorld, start: datetime, clock: Clock, truth: TruthCheck
) -> None:
    data = {
        "simulated_start": start.isoformat(),
        "calendar": DEMO_CALENDAR.model_dump(),
        "closed_days": {d.isoformat(): n for d, n in closed_days(start).items()},
        "clock_offset_s": clock.offset_s,
        "explanation": (
            "The survey was replayed with the tool's clock behind real time by clock_offset_s; "
            "replies were delivered by IMAP APPEND with their simulated arrival time."
        ),
        "companies": [
            {
                "slug": c.slug,
                "name": c.name,
                "expected_status": c.expected_status,
                "first_human_reply_s": c.first_human_s,
                "first_contact_s": c.first_contact_s,
                "replies": [r.__dict__ for r in c.replies],
                "received": [
                    {
                        "at": r.at.isoformat(),
                        "token": r.token,
                        "reply_to": r.reply_to,
                        "replies": r.replies,
                    }
                    for r in world.site(c.slug).received
                ],
            }
            for c in COMPANIES
        ],
        "check": {"ok": truth.ok, "problems": truth.lines, "rows": truth.table},
    }
    (out / "truth.json").write_text(
        json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8"
    )


def _print_summary(console: Console, results_csv: Path, truth: TruthCheck) -> None:
    ok_by = {t["company"]: t.get("ok") for t in truth.table}
    table = Table(title="Leaderboard (first human reply, business time ranks)")
    for col in ("rank", "company", "sector", "status", "wall-clock", "business", "tier", "truth"):
        table.add_column(col)
    for r in csv.DictReader(results_csv.open(encoding="utf-8")):
        table.add_row(
            r["rank"],
            r["company"],
            r["sector"],
            r["status"],
            _fmt_duration(r["response_seconds"]),
            _fmt_duration(r["business_seconds"]),
            r["tier"],
            "[green]ok[/]" if ok_by.get(r["company"]) else "[red]x[/]",
        )
    console.print(table)


__all__ = [
    "run_demo",
    "simulated_start",
    "replay_start",
    "parse_start",
    "check_truth",
    "true_ranks",
    "DemoCompany",
]
