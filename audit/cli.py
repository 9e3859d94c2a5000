"""The `audit` command. Thin: parse options, call one pipeline function, show the result.

Human progress goes to stderr (rich); stdout carries machine output only (--json).
Known errors (AuditError) become a one-line message and an exit code, no traceback.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from audit import __version__, pipeline
from audit.clock import pin_clock
from audit.errors import AuditError
from audit.models import Channel
from audit.stats import counts_line

app = typer.Typer(
    help="contact-audit: submit companies' contact forms as a mystery shopper and rank their replies.",
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)
err_line = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

Workspace = Annotated[
    Path, typer.Option("--workspace", "-w", help="Survey folder (survey.yaml, companies.yaml).")
]
_TIME_FORMATS = ["%Y-%m-%dT%H:%M%z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M%z"]
JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")]
BrowserEndpoint = Annotated[
    str | None,
    typer.Option(
        "--browser-endpoint",
        envvar="AUDIT_BROWSER_ENDPOINT",
        help="A Playwright browser server (ws://host:port/path) to use instead of launching "
        "Chromium here (overrides browser.endpoint in survey.yaml).",
    ),
]


def _setup_logging(verbose: bool) -> None:
    from audit.logs import install_redaction

    handler = RichHandler(console=err, show_path=False, show_time=False)
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING, handlers=[handler], force=True
    )
    install_redaction()


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Debug logging on stderr.")
    ] = False,
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
    clock: Annotated[
        str | None,
        typer.Option(
            "--clock",
            envvar="AUDIT_CLOCK",
            help="Pin the tool's clock: an instant (2026-11-03T10:00+02:00), INSTANT@REAL, "
            "frozen:INSTANT or a shift (-7d). Stored with every run; reports show a banner.",
        ),
    ] = None,
) -> None:
    if version:
        out.print(__version__)
        raise typer.Exit()
    if ctx.invoked_subcommand is None:
        out.print(ctx.get_help())
        raise typer.Exit()
    _setup_logging(verbose)
    if clock:  # recorded with every run and shown in reports; `audit check` shows it too
        pinned = pin_clock(clock)
        logging.getLogger("audit").info("clock %s: now %s", pinned.describe(), pinned.now())


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to create.")] = Path("."),
    force: Annotated[
        bool, typer.Option(help="Overwrite existing YAML files (an edited one is backed up).")
    ] = False,
) -> None:
    """Scaffold a survey workspace: survey.yaml, companies.yaml, evidence/, reports/."""

    def on_backup(original: Path, backup: Path) -> None:
        err_line.print(
            escape(f"{original.name} replaced by the template; your version is kept in {backup}"),
            highlight=False,
        )

    root = pipeline.init_workspace(directory, force=force, on_backup=on_backup)
    err.print(
        f"Workspace ready in [bold]{root}[/]. Edit survey.yaml and companies.yaml, then run 'audit check'."
    )


@app.command()
def check(
    workspace: Workspace = Path("."),
    browser: Annotated[bool, typer.Option(help="Launch the browser.")] = True,
    mailbox: Annotated[bool, typer.Option(help="Log in to the mailbox.")] = True,
    browser_endpoint: BrowserEndpoint = None,
    as_json: JsonFlag = False,
) -> None:
    """Validate the config, launch the browser and log in to the mailbox."""
    items = pipeline.check(
        workspace, browser=browser, mailbox=mailbox, browser_endpoint=browser_endpoint
    )
    if as_json:
        out.print_json(pipeline.to_json(items))
    else:
        for item in items:
            mark = "[green]ok[/]" if item.ok else "[red]FAIL[/]"
            err_line.print(f"{mark:>14} {item.name:8} {escape(item.detail)}", highlight=False)
    if not all(i.ok for i in items):
        raise typer.Exit(1)


@app.command()
def run(
    workspace: Workspace = Path("."),
    submit: Annotated[
        bool, typer.Option("--submit", help="Really submit (default: dry run).")
    ] = False,
    only: Annotated[
        list[str] | None, typer.Option("--only", help="Only this company (repeatable).")
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option(min=1, max=32, help="Browser contexts at once.")
    ] = None,
    assist: Annotated[
        bool, typer.Option(help="Visible browser: complete a CAPTCHA form by hand.")
    ] = False,
    proxy: Annotated[str | None, typer.Option(help="HTTP proxy URL for the browser.")] = None,
    ignore_https_errors: Annotated[
        bool | None, typer.Option("--ignore-https-errors", help="Accept TLS-inspecting proxies.")
    ] = None,
    retry_failed: Annotated[
        bool, typer.Option(help="Retry failed/blocked forms that were never clicked.")
    ] = False,
    wave: Annotated[
        str | None,
        typer.Option(
            help="The wave (default: survey.yaml's); 'auto' (or auto:monthly, ...): the schedule's period."
        ),
    ] = None,
    browser_endpoint: BrowserEndpoint = None,
    as_json: JsonFlag = False,
) -> None:
    """Fill each company's contact form; with --submit, send it (once per wave)."""
    opts = pipeline.RunOptions(
        wave=wave,
        browser_endpoint=browser_endpoint,
        submit=submit,
        only=only or [],
        concurrency=concurrency,
        assist=assist,
        proxy=proxy,
        ignore_https_errors=ignore_https_errors,
        retry_failed=retry_failed,
    )
    summary = _run_with_progress(workspace, opts)
    _print_run(summary, as_json)


def _run_with_progress(
    workspace: Path,
    opts: pipeline.RunOptions,
    clock: Any = None,
    work: pipeline.WorkOptions | None = None,
) -> pipeline.RunSummary:
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[last]}"),
        console=err,
        transient=True,
    )
    task = progress.add_task("submitting" if opts.submit else "dry run", total=None, last="")

    def on_start(n: int) -> None:
        progress.update(task, total=n)

    def on_result(r: pipeline.CompanyRun) -> None:
        if not r.skipped:
            progress.update(task, advance=1, last=f"{r.company}: {r.outcome}")

    def on_notice(text: str) -> None:
        progress.console.print(f"[yellow]{text}[/]")

    kwargs: dict[str, Any] = {"on_result": on_result, "on_start": on_start, "on_notice": on_notice}
    if clock is not None:
        kwargs["clock"] = clock
    with progress:
        if work is not None:
            return pipeline.work(workspace, opts, work, **kwargs)
        return pipeline.run_survey(workspace, opts, **kwargs)


def _print_run(summary: pipeline.RunSummary, as_json: bool) -> None:
    if as_json:
        out.print_json(pipeline.to_json(summary))
        if summary.interrupted:
            err_line.print(summary.interrupted)
            raise typer.Exit(130)
        return
    table = Table(title=f"{'Submissions' if summary.submit else 'Dry run'} in wave {summary.wave}")
    for col in ("company", "channel", "outcome", "reason"):
        table.add_column(col)
    for r in sorted(summary.results, key=lambda r: (r.company.lower(), r.channel)):
        table.add_row(r.company, r.channel, r.outcome, r.reason[:90])
    err.print(table)
    err.print("Counts: " + summary.stats.summary("outcome"))
    if summary.interrupted:
        err_line.print(f"[red]{summary.interrupted}[/]", highlight=False)
        raise typer.Exit(130)
    if summary.stopped_early:
        err.print(f"[red]{summary.stopped_early}[/]")
        raise typer.Exit(3)


@app.command()
def work(
    workspace: Workspace = Path("."),
    submit: Annotated[
        bool, typer.Option("--submit", help="Really submit (required: a worker only submits).")
    ] = False,
    worker_id: Annotated[
        str | None,
        typer.Option("--worker-id", help="Name of this worker's claims (default host:pid:random)."),
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option(min=1, max=32, help="Browser contexts at once.")
    ] = None,
    heartbeat: Annotated[
        float,
        typer.Option(
            "--heartbeat", min=0.1, help="Seconds between heartbeats; a claim is stale after 6."
        ),
    ] = 10.0,
    proxy: Annotated[str | None, typer.Option(help="HTTP proxy URL for the browser.")] = None,
    ignore_https_errors: Annotated[
        bool | None, typer.Option("--ignore-https-errors", help="Accept TLS-inspecting proxies.")
    ] = None,
    wave: Annotated[
        str | None,
        typer.Option(
            help="The wave (default: survey.yaml's); 'auto' (or auto:monthly, ...): the schedule's period."
        ),
    ] = None,
    browser_endpoint: BrowserEndpoint = None,
    as_json: JsonFlag = False,
) -> None:
    """Claim companies of the wave from the shared store and submit them; run as many
    workers on as many hosts as you like. Exits when no company is left to claim."""
    opts = pipeline.RunOptions(
        wave=wave,
        browser_endpoint=browser_endpoint,
        submit=submit,
        concurrency=concurrency,
        proxy=proxy,
        ignore_https_errors=ignore_https_errors,
    )
    wopts = pipeline.WorkOptions(worker_id=worker_id, heartbeat_s=heartbeat)
    summary = _run_with_progress(workspace, opts, work=wopts)
    _print_run(summary, as_json)


@app.command()
def watch(
    workspace: Workspace = Path("."),
    once: Annotated[bool, typer.Option("--once", help="Sync once and exit (for cron).")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Watch the mailbox (IMAP IDLE) and record every reply; --once syncs and exits."""
    stop = threading.Event()
    if not once:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        err.print("Watching the mailbox; Ctrl-C to stop.")
    stats = pipeline.watch_mailbox(
        workspace,
        once=once,
        stop=stop,
        on_notice=lambda text: err_line.print(f"[yellow]{escape(text)}[/]", highlight=False),
    )
    if as_json:
        out.print_json(pipeline.to_json(stats))
    else:
        err.print("Mailbox: " + stats.summary_line())


@app.command()
def status(
    workspace: Workspace = Path("."),
    wave: Annotated[str | None, typer.Option(help="Only this wave.")] = None,
    workers: Annotated[
        bool, typer.Option("--workers", help="Per worker: claims by state, last heartbeat.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Where each company stands: submission state, first contact, messages; and the
    workers that claimed them (--workers: only those)."""
    claims = pipeline.worker_status(workspace, wave=wave)
    if workers:
        if as_json:
            out.print_json(pipeline.to_json(claims))
        else:
            _print_workers(claims)
        return
    rows = pipeline.status(workspace, wave=wave)
    if as_json:
        out.print_json(pipeline.to_json(rows))
        return
    table = Table(title="Survey status")
    for col in (
        "wave",
        "company",
        "channel",
        "state",
        "outcome",
        "submitted (UTC)",
        "first contact (UTC)",
        "msgs",
    ):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["wave"],
            r["company"],
            r["channel"],
            r["state"],
            r["outcome"] or "",
            _t(r["submitted_at"]),
            _t(r["first_contact_at"]),
            str(r["messages"]),
        )
    err.print(table)
    if claims:
        _print_workers(claims)


def _print_workers(claims: list[dict[str, Any]]) -> None:
    table = Table(title="Workers")
    for col in ("wave", "worker", "claims", "by state", "last heartbeat (UTC)", "looks"):
        table.add_column(col)
    for w in claims:
        table.add_row(
            w["wave"],
            w["worker"],
            str(w["claims"]),
            counts_line(w["states"]),
            _t(w["last_heartbeat_at"]),
            w["looks"],
        )
    err.print(table)


def _t(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


@app.command()
def report(
    workspace: Workspace = Path("."),
    lang: Annotated[str, typer.Option(help="Interface language: en or he.")] = "en",
    wave: Annotated[
        str | None, typer.Option(help="Wave to report (default: survey.yaml's).")
    ] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Output folder.")] = None,
    as_of: Annotated[
        datetime | None,
        typer.Option(
            "--as-of",
            help="Report as of this time (with zone); default now.",
            formats=_TIME_FORMATS,
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Build the HTML leaderboard and the CSV/JSON/XLSX exports."""
    if lang not in ("en", "he"):
        raise AuditError(f"--lang must be en or he, not {lang!r}")
    if as_of is not None and as_of.tzinfo is None:
        raise AuditError("--as-of needs a time zone, e.g. 2026-12-09T18:00+02:00")
    paths = pipeline.report(workspace, lang=lang, wave=wave, out_dir=out_dir, as_of=as_of)
    if as_json:
        out.print_json(pipeline.to_json(paths))
    else:
        err.print(f"Leaderboard: [bold]{paths.index_html}[/]\nResults: {paths.results_csv}")


@app.command()
def inspect(
    targets: Annotated[list[str], typer.Argument(help="URLs or local .html files.")],
    browser_endpoint: BrowserEndpoint = None,
    as_json: JsonFlag = False,
) -> None:
    """Show the forms on a page, the one picked and every field's role; submits nothing."""
    results = pipeline.inspect(targets, browser_endpoint=browser_endpoint)
    if as_json:
        for r in results:
            sys.stdout.write(json.dumps(r, ensure_ascii=False) + "\n")
        return
    for r in results:
        err.print(f"[bold]{r['target']}[/]" + (f"  [red]{r['error']}[/]" if r["error"] else ""))
        for f in r["forms"]:
            picked = " <- contact form" if f["index"] == r["contact_form"] else ""
            err.print(f"  form {f['index']} ({f['kind']}){picked}")
            for fld in f["fields"]:
                err.print(f"    {fld['name'] or '(no name)':30} {fld['role']}")


@app.command("log")
def log_contact(
    company: Annotated[str, typer.Argument(help="Company name or id.")],
    channel: Annotated[Channel, typer.Option(help="phone, sms or email.")],
    at: Annotated[
        datetime,
        typer.Option(
            help="When, with time zone: 2026-11-25T14:30+02:00.",
            formats=_TIME_FORMATS,
        ),
    ],
    note: Annotated[str | None, typer.Option(help="Free text.")] = None,
    kind: Annotated[str, typer.Option(help="human or auto_ack.")] = "human",
    workspace: Workspace = Path("."),
) -> None:
    """Record a call, SMS or e-mail received outside the watched mailbox."""
    event_id = pipeline.log_contact(workspace, company, channel, at, kind=kind, note=note)
    err.print(f"Recorded contact event #{event_id}.")


@app.command()
def review(
    workspace: Workspace = Path("."),
    message: Annotated[int | None, typer.Option(help="Message id to decide on.")] = None,
    company: Annotated[str | None, typer.Option(help="Assign the message to this company.")] = None,
    kind: Annotated[
        str | None,
        typer.Option(
            help="Set the kind: human, auto_ack, bounce; alone: reclassify a matched one."
        ),
    ] = None,
    dismiss: Annotated[bool, typer.Option(help="Dismiss the message.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """List unmatched and doubtful messages, or assign/reclassify/dismiss one."""
    if message is not None:
        err.print(pipeline.review_decide(workspace, message, company, dismiss=dismiss, kind=kind))
        return
    rows = pipeline.review_list(workspace)
    if as_json:
        out.print_json(pipeline.to_json(rows))
        return
    table = Table(title=f"{len(rows)} message(s) to review")
    for col in ("id", "arrived (UTC)", "from", "subject", "kind", "why"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            str(r["id"]),
            _t(r["internaldate"]),
            r["sender"] or "",
            (r["subject"] or "")[:60],
            r["kind"] or "",
            (r["why"] or "")[:90],
        )
    err.print(table)


@app.command()
def messages(
    workspace: Workspace = Path("."),
    wave: Annotated[
        str | None, typer.Option(help="Only messages matched to this wave's companies.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Every recorded message: company, match, class, by hand or not, DKIM, why, arrival."""
    rows = pipeline.message_list(workspace, wave=wave)
    if as_json:
        out.print_json(pipeline.to_json(rows))
        return
    table = Table(title=f"{len(rows)} message(s)")
    for col in ("id", "arrived (UTC)", "company", "matched by", "kind", "by hand", "dkim", "why"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            str(r["id"]),
            _t(r["internaldate"]),
            r["company"] or "(none)",
            r["match_method"] or "",
            r["kind"] or "",
            r["review"] if r["decided_by_hand"] else "",
            f"{r['dkim']} {r['dkim_domain'] or ''}".strip() if r["dkim"] else "",
            (r["why"] or "")[:80],
        )
    err.print(table)


@app.command()
def grade(
    company: Annotated[str, typer.Argument(help="Company name or id.")],
    score: Annotated[float, typer.Option(min=0, max=10, help="Quality 0-10.")],
    note: Annotated[str | None, typer.Option(help="Free text.")] = None,
    used_name: Annotated[bool | None, typer.Option(help="Used the persona's name.")] = None,
    answered: Annotated[bool | None, typer.Option(help="Answered the question.")] = None,
    next_step: Annotated[bool | None, typer.Option(help="Gave a way to continue.")] = None,
    tone: Annotated[int | None, typer.Option(min=0, max=2, help="Tone 0-2.")] = None,
    workspace: Workspace = Path("."),
) -> None:
    """Grade the quality of a company's reply."""
    rubric = {
        k: v
        for k, v in dict(
            used_name=used_name, answered=answered, next_step=next_step, tone=tone
        ).items()
        if v is not None
    }
    pipeline.grade(workspace, company, score, rubric, note)
    err.print(f"Graded {company}: {score}/10.")


ALERTS_EXIT = 3  # something got worse (1 and 2 are errors)


@app.command()
def alerts(
    workspace: Workspace = Path("."),
    wave: Annotated[
        str | None, typer.Option(help="The wave to check (default: the latest).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """What changed for the worse since the previous wave; exit 3 when anything did (cron)."""
    from audit.app.alerts import alerts as find_alerts

    found = find_alerts(workspace, wave=wave)
    if as_json:
        out.print_json(json.dumps(found.as_dict(), ensure_ascii=False))
    elif found.previous is None:
        err.print(f"Wave {found.wave!r} is the first: nothing to compare with.")
    elif not found.alerts:
        err.print(f"Nothing changed for the worse in {found.wave!r} since {found.previous!r}.")
    else:
        still = "" if found.closed else " (the wave is open: what is known so far)"
        table = Table(title=f"Changes for the worse: {found.previous} -> {found.wave}{still}")
        for col in ("company", "change", "before", "after", "detail"):
            table.add_column(col)
        for a in found.alerts:
            table.add_row(
                escape(a.company), a.kind, escape(a.before), escape(a.after), escape(a.detail[:90])
            )
        err.print(table)
    if found.alerts:
        raise typer.Exit(ALERTS_EXIT)


@app.command()
def schedule(
    workspace: Workspace = Path("."),
    every: Annotated[
        str | None,
        typer.Option(help="week, month or quarter (overrides schedule.every in survey.yaml)."),
    ] = None,
    on: Annotated[
        str | None,
        typer.Option(help="Weekday: the first such day of the period, e.g. tuesday."),
    ] = None,
    at: Annotated[
        str | None, typer.Option(help="Local time in the survey's time zone, e.g. 10:00.")
    ] = None,
    watch_every: Annotated[
        int | None, typer.Option(help="Minutes between mailbox syncs (1-59).")
    ] = None,
    systemd: Annotated[
        bool, typer.Option("--systemd", help="systemd user timers instead of a crontab block.")
    ] = False,
    install: Annotated[
        bool,
        typer.Option(
            "--install",
            help="Install: into your crontab (crontab -), or with --systemd the unit files "
            "into ~/.config/systemd/user. Installing again replaces this survey's entries.",
        ),
    ] = False,
    env_file: Annotated[
        str | None,
        typer.Option(help="A file of KEY=value lines (the IMAP password) read before each run."),
    ] = None,
    next_n: Annotated[
        int, typer.Option("--next", help="How many of the next run instants to show.", min=0)
    ] = 5,
    as_json: JsonFlag = False,
) -> None:
    """Print (or --install) what runs the survey's waves on a cadence: cron or systemd."""
    from audit.app.schedule import (
        install_crontab,
        install_systemd,
        next_fires,
        overlap_note,
        schedule_plan,
        systemd_user_dir,
        wave_for,
    )
    from audit.clock import current_clock

    plan = schedule_plan(workspace, env_file, None, every, on, at, watch_every)
    fires = next_fires(plan.schedule, plan.timezone, current_clock().now(), next_n)
    nexts = [
        {
            "at": f.isoformat().replace("+00:00", "Z"),
            "local": f.astimezone(ZoneInfo(plan.timezone)).strftime("%Y-%m-%d %H:%M %Z"),
            "wave": wave_for(plan.schedule, f, plan.timezone),
        }
        for f in fires
    ]
    installed: list[str] = []
    if install and systemd:
        installed = [str(p) for p in install_systemd(plan)]
    elif install:
        install_crontab(plan)
        installed = ["crontab"]
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "schedule": plan.schedule.model_dump(),
                    "timezone": plan.timezone,
                    "crontab": plan.crontab,
                    "units": plan.units,
                    "next": nexts,
                    "installed": installed,
                },
                ensure_ascii=False,
            )
        )
    elif not install and systemd:
        for name, text in plan.units.items():
            out.print(f"# {systemd_user_dir() / name}", highlight=False, markup=False)
            out.print(text, highlight=False, markup=False)
    elif not install:
        out.print(plan.crontab, highlight=False, markup=False)
    if install and systemd:
        err_line.print(
            f"Wrote {len(installed)} units in {systemd_user_dir()}. Then: systemctl --user "
            f"daemon-reload && systemctl --user enable --now {' '.join(plan.timers)}",
            highlight=False,
            markup=False,
        )
    elif install:
        err_line.print(
            "Installed in your crontab (crontab -l shows it).", highlight=False, markup=False
        )
    elif not as_json:
        how = "the units in that folder" if systemd else "these lines with crontab -e"
        err_line.print(f"Add {how}, or run again with --install.", highlight=False, markup=False)
    if fires and not as_json:
        err_line.print(f"Next runs ({plan.timezone}):", highlight=False, markup=False)
        for n in nexts:
            err_line.print(
                f"  {n['local']}  ({n['at']})  wave {n['wave']}", highlight=False, markup=False
            )
    if note := overlap_note(workspace, plan.schedule):
        err_line.print(f"Note: {note}", highlight=False, markup=False)


@app.command()
def demo(
    directory: Annotated[Path, typer.Option("--dir", help="Workspace for the demo survey.")] = Path(
        "demo-survey"
    ),
    keep_running: Annotated[
        bool, typer.Option(help="Keep the demo servers up until Ctrl-C.")
    ] = False,
    start: Annotated[
        str | None,
        typer.Option(
            help="Replay the survey from this date (09:00 Israel time) or instant, e.g. a "
            "holiday week; default: the latest Sunday at least a week back without holidays."
        ),
    ] = None,
) -> None:
    """Run a whole survey against a local demo world and check it against the truth."""
    from audit.demo.runner import parse_start, run_demo

    ok = run_demo(
        directory,
        console=err,
        keep_running=keep_running,
        start=parse_start(start) if start else None,
    )
    if not ok:
        raise typer.Exit(1)


def main() -> None:
    try:
        app()
    except AuditError as exc:
        # escape: a message may hold brackets (contact-audit[postgres], input[name=...])
        err_line.print(f"[red]error:[/] {escape(str(exc))}", highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted; everything recorded so far is kept.")
        sys.exit(130)


if __name__ == "__main__":
    main()
