"""The library API behind every command: one function per command, no presentation.

Each function takes the workspace and explicit settings, talks to the stages only
through the store and audit's models, and returns plain data for the CLI to show.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import shutil
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from audit import __version__, lifecycle
from audit.clock import Clock, current_clock
from audit.config import (
    COMPANIES_FILE,
    SURVEY_FILE,
    Workspace,
    load_workspace,
    mailbox_host_problem,
    reply_domain_problem,
)
from audit.errors import AuditError, ConfigError, InboxError, ProbeError
from audit.lifecycle import Submission
from audit.models import (
    BLOCK_OUTSIDE_ENV,
    DECIDED_BY_HAND,
    DEFAULT_MAX_CONSECUTIVE_FAILURES,
    BrowserSettings,
    Channel,
    Company,
    Mailbox,
    MatchMethod,
    MessageKind,
    Outcome,
    ProbeRequest,
    ProbeResult,
    ReviewState,
    SubmissionState,
    parse_duration,
)
from audit.store import Store
from audit.tokens import new_token, reference_code

log = logging.getLogger(__name__)

FAULT_ENV = "AUDIT_FAULT"  # fault drills only (tests/drills): the point where a run stalls


def fault_point(name: str) -> None:
    """Stall here until killed when AUDIT_FAULT names this point: a drill forces its race.

    A drill that must kill a run between two writes sets the variable, waits (by reading
    the store) until the run reached the point, and kills it: no timing is hoped for.
    """
    if os.environ.get(FAULT_ENV) == name:
        log.warning("fault point %s reached: stalled until killed (%s)", name, FAULT_ENV)
        threading.Event().wait()


TEMPLATES = Path(__file__).parent / "templates"
# Outcomes that say "something is wrong on our side" when they come many in a row.
_LOCAL_TROUBLE = {Outcome.UNREACHABLE, Outcome.ERROR, Outcome.TIMEOUT}


# ---------------------------------------------------------------------------------------
# init
# ---------------------------------------------------------------------------------------
def init_workspace(
    directory: str | os.PathLike[str],
    force: bool = False,
    on_backup: Callable[[Path, Path], None] | None = None,
    clock: Clock | None = None,
) -> Path:
    """Scaffold a survey workspace: survey.yaml, companies.yaml, evidence/, reports/.

    With ``force`` the templates replace the YAML files, but a file the consultant edited
    is first copied to ``<name>.bak-<UTC time>`` (``on_backup(original, backup)``).
    """
    root = Path(directory).resolve()
    root.mkdir(parents=True, exist_ok=True)
    for name in (SURVEY_FILE, COMPANIES_FILE):
        target = root / name
        if target.exists() and not force:
            log.info("%s exists, kept", target)
            continue
        if target.exists() and target.read_bytes() != (TEMPLATES / name).read_bytes():
            backup = _backup(target, clock or current_clock())
            if on_backup:
                on_backup(target, backup)
        shutil.copyfile(TEMPLATES / name, target)
    (root / "evidence").mkdir(exist_ok=True)
    (root / "reports").mkdir(exist_ok=True)
    return root


def _backup(target: Path, clock: Clock) -> Path:
    """Copy ``target`` to a new ``<name>.bak-<UTC time>[-n]`` beside it; never overwrite one."""
    stamp = clock.now().astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    backup, n = target.with_name(f"{target.name}.bak-{stamp}"), 2
    while backup.exists():
        backup, n = target.with_name(f"{target.name}.bak-{stamp}-{n}"), n + 1
    shutil.copy2(target, backup)
    return backup


# ---------------------------------------------------------------------------------------
# check
# ---------------------------------------------------------------------------------------
@dataclass
class CheckItem:
    name: str
    ok: bool
    detail: str


def check(
    root: str | os.PathLike[str], browser: bool = True, mailbox: bool = True
) -> list[CheckItem]:
    """Validate config, browser and mailbox login; every problem named, nothing raised."""
    items: list[CheckItem] = []
    try:
        ws = load_workspace(root)
    except ConfigError as exc:
        return [CheckItem("config", False, str(exc))]
    items.append(
        CheckItem("config", True, f"{len(ws.companies)} companies, wave {ws.survey.survey.wave!r}")
    )
    placeholder = reply_domain_problem(ws)
    example = ws.survey.reply_address.address_for("TOKEN")
    items.append(CheckItem("reply", placeholder is None, placeholder or f"replies to {example}"))
    try:
        clock = current_clock()
        items.append(CheckItem("clock", True, f"{clock.describe()}: now {clock.now().isoformat()}"))
    except ConfigError as exc:
        items.append(CheckItem("clock", False, str(exc)))
    try:
        store = Store.open(ws.store_url)
        items.append(CheckItem("store", True, f"schema version {store.schema_version}"))
        store.close()
    except AuditError as exc:
        items.append(CheckItem("store", False, str(exc)))
    if browser:
        items.append(_check_browser(ws.survey.browser))
    if mailbox:
        items.append(_check_mailbox(ws))
    return items


def _check_browser(settings: BrowserSettings) -> CheckItem:
    from probes.browser import find_browser
    from probes.runner import ProbeSession

    try:
        info = find_browser(settings.executable)

        async def _version() -> str:
            async with ProbeSession(settings, block_outside=True) as session:
                return session.browser_version

        version = asyncio.run(_version())
        return CheckItem("browser", True, f"{version} ({info.source})")
    except AuditError as exc:
        return CheckItem("browser", False, str(exc))
    except Exception as exc:  # a launch failure of any kind is a finding, not a crash
        return CheckItem("browser", False, f"cannot launch the browser: {exc}".splitlines()[0])


def _check_mailbox(ws: Workspace) -> CheckItem:
    from inbox.watcher import check_login

    mb = ws.survey.mailbox
    problem = mailbox_host_problem(ws) or tls_mode_problem(mb)
    if problem:
        return CheckItem("mailbox", False, problem)
    try:
        detail = check_login(mb)
        return CheckItem("mailbox", True, detail)
    except InboxError as exc:
        return CheckItem("mailbox", False, str(exc))


# How long a server may take to greet before its silence counts (IMAP greets at once).
TLS_PROBE_S = 3.0
_GREETINGS = (b"* OK", b"* PREAUTH", b"* BYE")


def tls_mode_verdict(tls: str, port: int, greeting: bytes | None, speaks_tls: bool) -> str | None:
    """Name a TLS mode that does not fit the port, from what the server did first.

    An IMAPS port says nothing in clear (it waits for our TLS hello); a plain IMAP port
    (STARTTLS) greets in clear with ``* OK``. ``greeting`` is what arrived before we sent
    anything (None: silence), ``speaks_tls`` whether a TLS handshake then succeeded.
    """
    if tls == "ssl" and greeting is not None and greeting.startswith(_GREETINGS):
        first = greeting.splitlines()[0].decode("ascii", "replace")[:40]
        return (
            f"port {port} greets in clear ({first!r}): "
            "it is plain IMAP, not IMAPS; use tls: starttls (or tls: ssl with the IMAPS port, "
            "usually 993)"
        )
    if tls in ("starttls", "plain") and greeting is None and speaks_tls:
        return (
            f"port {port} speaks TLS from the first byte (IMAPS) and sends no greeting in "
            f"clear: use tls: ssl (tls: {tls} waits for a greeting that never comes)"
        )
    return None


def tls_mode_problem(mb: Mailbox, wait_s: float = TLS_PROBE_S) -> str | None:
    """A short look at how the server opens the conversation (no login, nothing sent in
    clear but a TLS hello). Costs one extra connection when the mode fits the port; waits
    up to ``wait_s`` only where the server stays silent, which is the mismatch named."""
    import socket
    import ssl

    host, port = mb.host, mb.resolved_port
    wait = max(0.2, min(float(mb.timeout_s), wait_s))

    def greeting() -> bytes | None:
        """What the server sends before we say anything (None: silence)."""
        with socket.create_connection((host, port), timeout=wait) as sock:
            try:
                return sock.recv(64) or b""
            except TimeoutError:
                return None

    def speaks_tls() -> bool:
        ctx = ssl.create_default_context()
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE  # only: is it TLS at all?
        try:
            with (
                socket.create_connection((host, port), timeout=wait) as raw,
                ctx.wrap_socket(raw, server_hostname=host),
            ):
                return True
        except ssl.SSLError:
            return False

    try:
        if mb.tls == "ssl":
            if speaks_tls():
                return None
            return tls_mode_verdict(mb.tls, port, greeting(), False)
        first = greeting()
        return tls_mode_verdict(mb.tls, port, first, first is None and speaks_tls())
    except OSError:
        return None  # refused, unreachable, timed out: the login check names it


# ---------------------------------------------------------------------------------------
# run
# ---------------------------------------------------------------------------------------
@dataclass
class RunOptions:
    submit: bool = False
    only: list[str] = field(default_factory=list)
    concurrency: int | None = None
    assist: bool = False
    proxy: str | None = None
    ignore_https_errors: bool | None = None
    retry_failed: bool = False
    block_outside: bool = False  # tests and the demo: nothing leaves loopback
    min_fill_seconds: float | None = None
    typing_delay_ms: tuple[int, int] | None = None
    site_delay_s: float | None = None


@dataclass
class CompanyRun:
    """What one company's turn in a run came to (``outcome`` is a probe outcome, or
    ``not-started`` / ``interrupted`` when the run was stopped before or during it)."""

    company: str
    slug: str
    outcome: str
    reason: str = ""
    state: str = ""
    submitted_at: datetime | None = None
    skipped: bool = False


@dataclass
class RunSummary:
    run_id: int
    wave: str
    submit: bool
    results: list[CompanyRun]
    stopped_early: str | None = None
    interrupted: str | None = None  # "interrupted: N done, M left, K uncertain"

    @property
    def counts(self) -> dict[str, int]:
        return dict(Counter(r.outcome for r in self.results))


def render_message(ws: Workspace, company: Company, token: str) -> tuple[str, str]:
    """The subject and body sent to a company, with its reference code."""
    env = SandboxedEnvironment(
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True
    )
    ctx = {
        "ref": reference_code(token),
        "persona": ws.survey.persona,
        "company": company,
    }
    out = []
    for key in ("subject", "body"):
        try:
            out.append(env.from_string(getattr(ws.survey.message, key)).render(ctx).strip())
        except TemplateError as exc:
            raise ConfigError(f"{SURVEY_FILE}: message.{key}: template error: {exc}") from None
    return out[0], out[1]


def resolved_browser_settings(ws: Workspace, opts: RunOptions) -> BrowserSettings:
    """Named default <- survey.yaml <- command-line flag, and HTTP(S)_PROXY from the env."""
    b = ws.survey.browser.model_copy()
    if opts.concurrency is not None:
        b.concurrency = opts.concurrency
    if opts.proxy is not None:
        b.proxy = opts.proxy
    elif b.proxy is None:
        b.proxy = os.environ.get("HTTPS_PROXY") or os.environ.get("HTTP_PROXY") or None
    if opts.ignore_https_errors is not None:
        b.ignore_https_errors = opts.ignore_https_errors
    if opts.min_fill_seconds is not None:
        b.min_fill_seconds = opts.min_fill_seconds
    if opts.typing_delay_ms is not None:
        b.typing_delay_ms = opts.typing_delay_ms
    if opts.site_delay_s is not None:
        b.site_delay_s = opts.site_delay_s
    if opts.assist:
        b.headless = False
        b.concurrency = 1
    return b


def _site_key(company: Company) -> str:
    parts = urlsplit(company.start_url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    return f"{host}:{parts.port}" if parts.port else host


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _public_config(ws: Workspace, browser: BrowserSettings) -> dict[str, Any]:
    cfg = ws.survey.model_dump(mode="json")
    cfg["browser"] = browser.model_dump(mode="json")
    if cfg["browser"].get("proxy"):
        cfg["browser"]["proxy"] = _redact_proxy(cfg["browser"]["proxy"])
    return cfg


def _redact_proxy(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


def _wave_close(ws: Workspace, opened_at: datetime) -> datetime:
    s = ws.survey.survey
    if s.close_at is not None:
        return s.close_at
    return opened_at + timedelta(seconds=parse_duration(s.close_after))


def run_survey(
    root: str | os.PathLike[str],
    opts: RunOptions,
    clock: Clock | None = None,
    on_result: Callable[[CompanyRun], None] | None = None,
    on_start: Callable[[int], None] | None = None,
    on_notice: Callable[[str], None] | None = None,
) -> RunSummary:
    """Submit (or, without opts.submit, dry-run) every company's form once in the wave.

    Ctrl-C / SIGTERM stop the run safely (see Interrupt); ``on_notice`` hears about it.
    """
    clock = clock or current_clock()
    ws = load_workspace(root)
    if opts.submit and (placeholder := reply_domain_problem(ws)):
        raise ConfigError(f"{placeholder} before run --submit (nothing was sent)")
    if os.environ.get(BLOCK_OUTSIDE_ENV) == "1":
        opts = replace(opts, block_outside=True)
    chosen = [c for c in ws.companies if not opts.only or c.slug in _only(ws, opts.only)]
    browser = resolved_browser_settings(ws, opts)
    store = Store.open(ws.store_url)
    try:
        interrupt = Interrupt(on_notice=on_notice)
        return asyncio.run(
            _run_async(ws, store, chosen, browser, opts, clock, on_result, on_start, interrupt)
        )
    finally:
        store.close()


@dataclass
class Interrupt:
    """Ctrl-C / SIGTERM during a run: the first stops starting companies and lets the ones
    in flight finish; the second stops those at once. Either way every company ends by the
    lifecycle rule: not clicked -> planned again, clicked and unconfirmed -> uncertain."""

    count: int = 0
    on_notice: Callable[[str], None] | None = None
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    probing: int = 0  # companies whose probe has started and not ended

    @property
    def requested(self) -> bool:
        return self.count > 0

    def signal(self) -> None:
        self.count += 1
        in_flight = self.probing
        if self.count == 1:
            self.notify(
                f"interrupt: no new company is started; {in_flight} in flight finish "
                "(Ctrl-C again to stop them now)"
            )
        else:
            self.notify(f"interrupt: stopping {in_flight} in flight now")
            for t in self.tasks:
                t.cancel()

    def notify(self, text: str) -> None:
        if self.on_notice:
            self.on_notice(text)
        else:
            log.warning("%s", text)

    def install(self, loop: asyncio.AbstractEventLoop) -> Callable[[], None]:
        """Handle SIGINT and SIGTERM on the loop (main thread only); returns the undo."""
        import signal

        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        sigs = [signal.SIGINT, signal.SIGTERM]
        for sig in sigs:
            loop.add_signal_handler(sig, self.signal)

        def undo() -> None:
            for sig in sigs:
                loop.remove_signal_handler(sig)

        return undo


def company_facts(ws: Workspace, company: Company) -> dict[str, Any]:
    """What a wave's report needs to know about a company, as the wave ran it."""
    return {
        "name": company.name,
        "sector": company.sector,
        "hours": company.hours or {},
        "promise": company.promise or "",
        "domains": company.domains,
        "calendar": ws.survey.calendar.model_dump(mode="json"),
    }


def _only(ws: Workspace, names: list[str]) -> set[str]:
    return {ws.company(n).slug for n in names}


async def _run_async(
    ws: Workspace,
    store: Store,
    chosen: list[Company],
    browser: BrowserSettings,
    opts: RunOptions,
    clock: Clock,
    on_result: Callable[[CompanyRun], None] | None,
    on_start: Callable[[int], None] | None,
    interrupt: Interrupt | None = None,
) -> RunSummary:
    from probes.runner import ProbeSession

    interrupt = interrupt or Interrupt()
    undo_signals = interrupt.install(asyncio.get_running_loop())
    try:
        return await _run_companies(
            ws, store, chosen, browser, opts, clock, on_result, on_start, interrupt, ProbeSession
        )
    finally:
        undo_signals()


async def _run_companies(
    ws: Workspace,
    store: Store,
    chosen: list[Company],
    browser: BrowserSettings,
    opts: RunOptions,
    clock: Clock,
    on_result: Callable[[CompanyRun], None] | None,
    on_start: Callable[[int], None] | None,
    interrupt: Interrupt,
    session_type: Any,
) -> RunSummary:
    wave_name = ws.survey.survey.wave
    wave_id = store.ensure_wave(wave_name, ws.survey.survey.close_at, now=clock.now())
    run_id = store.begin_run(
        "run" if opts.submit else "dry-run",
        __version__,
        config=_public_config(ws, browser),
        clock_offset_s=clock.offset_s,
        now=clock.now(),
    )
    results: list[CompanyRun] = []
    todo: list[tuple[Company, Any]] = []
    for company in chosen:
        company_id = store.upsert_company(company)
        if company.skip:
            results.append(
                CompanyRun(company.name, company.slug, "skipped", "skip: true", skipped=True)
            )
            continue
        token = new_token()
        addr = (
            ws.survey.reply_address.fallback_for(token)
            if company.overrides.accepts_plus is False
            else ws.survey.reply_address.address_for(token)
        )
        sub = store.plan_submission(company_id, wave_id, token, addr, now=clock.now())
        store.snapshot_company(wave_id, company_id, company_facts(ws, company), clock.now())
        sub = _recover(store, sub, opts, clock)
        if sub.state != SubmissionState.PLANNED.value:
            hint = lifecycle.retry_hint(sub)
            results.append(
                CompanyRun(
                    company.name,
                    company.slug,
                    "already-" + sub.state,
                    f"{sub.state} in wave {wave_name}; not sent again{hint}",
                    state=sub.state,
                    submitted_at=sub.submitted_at,
                    skipped=True,
                )
            )
            continue
        todo.append((company, sub))
    for r in results:
        if on_result:
            on_result(r)
    if on_start:
        on_start(len(todo))

    sem = asyncio.Semaphore(browser.concurrency)
    site_locks: dict[str, asyncio.Lock] = {}
    stop_reason: list[str] = []
    consecutive = [0]

    def not_started(company: Company, why: str) -> CompanyRun:
        return CompanyRun(
            company.name, company.slug, "not-started", why, state="planned", skipped=True
        )

    if todo and not interrupt.requested:
        try:
            async with session_type(
                browser, assist=opts.assist, block_outside=opts.block_outside
            ) as session:
                store.update_run(run_id, browser_version=session.browser_version)

                def count(res: CompanyRun) -> None:
                    results.append(res)
                    if on_result:
                        on_result(res)
                    if res.outcome in _LOCAL_TROUBLE:
                        consecutive[0] += 1
                        if consecutive[0] >= DEFAULT_MAX_CONSECUTIVE_FAILURES and not stop_reason:
                            stop_reason.append(
                                f"stopped after {consecutive[0]} consecutive failures "
                                "(is the network or the browser broken here?)"
                            )
                    elif res.outcome not in ("interrupted", "not-started"):
                        consecutive[0] = 0

                async def one(company: Company, sub: Any) -> None:
                    lock = site_locks.setdefault(_site_key(company), asyncio.Lock())
                    try:
                        async with lock, sem:
                            if stop_reason or interrupt.requested:
                                why = "interrupted" if interrupt.requested else stop_reason[0]
                                count(not_started(company, f"not started: {why}"))
                                return
                            interrupt.probing += 1
                            try:
                                res = await _probe_one(
                                    ws, store, session, company, sub, wave_id, run_id, opts, clock
                                )
                            finally:
                                interrupt.probing -= 1
                            count(res)
                            if browser.site_delay_s and not interrupt.requested:
                                await asyncio.sleep(browser.site_delay_s)  # polite to one site
                    except asyncio.CancelledError:
                        if not interrupt.requested:
                            raise
                        if not any(r.slug == company.slug for r in results):
                            count(not_started(company, "not started: interrupted"))

                tasks = [asyncio.ensure_future(one(c, s)) for c, s in todo]
                interrupt.tasks.update(tasks)
                await asyncio.gather(*tasks)
        except Exception:
            # Ctrl-C while the Playwright driver was still starting reaches the driver too
            # (it ignores SIGINT only once started): that is the interrupt, not a failure.
            if not interrupt.requested:
                raise
            log.info("run interrupted while the browser started or stopped", exc_info=True)
            for _c, sub in todo:  # anything left half-way ends by the lifecycle rule
                fresh = store.submission_by_id(sub.id)
                if opts.submit and fresh is not None:
                    _recover(store, fresh, opts, clock)
            started = {r.slug for r in results}
            results.extend(
                not_started(c, "not started: interrupted") for c, _ in todo if c.slug not in started
            )
    elif todo:
        results.extend(not_started(c, "not started: interrupted") for c, _ in todo)
    summary = RunSummary(
        run_id, wave_name, opts.submit, results, stop_reason[0] if stop_reason else None
    )
    if interrupt.requested:
        left = sum(1 for r in results if r.outcome in ("not-started", "interrupted"))
        uncertain = sum(1 for r in results if r.state == SubmissionState.UNCERTAIN.value)
        done = len(todo) - left
        summary.interrupted = f"interrupted: {done} done, {left} left, {uncertain} uncertain"
    store.update_run(
        run_id,
        finished_at=clock.now(),
        summary={
            "counts": summary.counts,
            "stopped": summary.stopped_early,
            "interrupted": summary.interrupted,
        },
    )
    return summary


def _recover(store: Store, sub: Submission, opts: RunOptions, clock: Clock) -> Submission:
    """Bring a submission left behind by a crash or a failure into a safe state."""
    return store.apply(sub, lifecycle.recover(sub, opts.retry_failed and opts.submit, clock.now()))


async def _probe_one(
    ws: Workspace,
    store: Store,
    session: Any,
    company: Company,
    sub: Any,
    wave_id: int,
    run_id: int,
    opts: RunOptions,
    clock: Clock,
) -> CompanyRun:
    started = clock.now()
    if opts.submit and not store.claim_submission(sub.id, run_id, started):
        return CompanyRun(
            company.name, company.slug, "already-running", "claimed by another run", skipped=True
        )
    subject, body = render_message(ws, company, sub.token)
    folder = "dry-run" if not opts.submit else "submissions"
    evidence_dir = ws.evidence_dir / folder / ws.survey.survey.wave / company.slug
    if not opts.submit:
        evidence_dir = evidence_dir / f"run-{run_id}"

    def before_submit() -> None:
        # Written before the click: a crash after this point is never re-sent blindly.
        store.update_submission(sub.id, clicked_at=clock.now())
        fault_point("after-click-recorded")

    req = ProbeRequest(
        company=company,
        token=sub.token,
        reply_address=sub.reply_address,
        fallback_address=ws.survey.reply_address.fallback_for(sub.token),
        subject=subject,
        message=body,
        persona=ws.survey.persona,
        submit=opts.submit,
        evidence_dir=str(evidence_dir),
        workspace=str(ws.root),
        before_submit=before_submit,
        now=clock.now,
    )
    try:
        result: ProbeResult = await session.probe(req)
    except asyncio.CancelledError:
        return _interrupted(store, sub, company, opts, clock)
    except ProbeError:
        raise
    except Exception as exc:  # the probe promises outcomes; a bug must not lose the state
        log.exception("probe crashed on %s", company.name)
        result = ProbeResult(
            outcome=Outcome.ERROR, reason=f"internal error: {type(exc).__name__}: {exc}"
        )
    finished = clock.now()
    values = {f.role: f.value_sent for f in result.fields if f.value_sent is not None}
    attempt_id = store.add_attempt(
        run_id=run_id,
        submission_id=sub.id,
        company_id=sub.company_id,
        wave_id=wave_id,
        dry_run=not opts.submit,
        outcome=result.outcome.value,
        reason=result.reason,
        signal=result.signal,
        url=result.url,
        fields=[f.__dict__ for f in result.fields],
        timings=result.timings,
        started_at=started,
        finished_at=finished,
    )
    for ev in result.evidence:
        path = ws.root / ev.path
        if path.is_file():
            store.add_evidence(
                ev.kind,
                ev.path,
                sha256_file(path),
                now=finished,
                submission_id=sub.id if opts.submit else None,
                attempt_id=attempt_id,
            )
    state = sub.state
    if opts.submit:
        running = store.submission_by_id(sub.id) or sub  # clicked_at as recorded
        updates: dict[str, Any] = lifecycle.finish(
            running, result.outcome, result.reason, result.clicked, finished
        )
        new_state = SubmissionState(updates["state"])
        updates.update(
            signal=result.signal,
            page_url=result.url,
            values=values,
            request=result.request,
        )
        email_sent = values.get("email")
        if email_sent and email_sent != sub.reply_address:
            updates["reply_address"] = email_sent
        if result.submitted_at is not None:
            updates["submitted_at"] = result.submitted_at
        store.update_submission(sub.id, **updates)
        state = new_state.value
        if new_state is SubmissionState.SUBMITTED:
            _open_wave(ws, store, wave_id, result.submitted_at or finished)
    return CompanyRun(
        company.name,
        company.slug,
        result.outcome.value,
        result.reason,
        state=state,
        submitted_at=result.submitted_at,
    )


def _interrupted(
    store: Store, sub: Submission, company: Company, opts: RunOptions, clock: Clock
) -> CompanyRun:
    """A probe stopped by a second Ctrl-C ends by the lifecycle rule (as after a crash)."""
    fresh = store.submission_by_id(sub.id) or sub
    state = _recover(store, fresh, opts, clock).state if opts.submit else fresh.state
    if state == SubmissionState.UNCERTAIN.value:
        reason = "interrupted after the submit click; not re-sent"
    else:
        reason = "interrupted before the submit click; tried again on the next run"
    return CompanyRun(company.name, company.slug, "interrupted", reason, state=state)


def _open_wave(ws: Workspace, store: Store, wave_id: int, at: datetime) -> None:
    with store.engine.connect() as c:
        from audit.store import waves

        row = c.execute(sa.select(waves).where(waves.c.id == wave_id)).one()
    if row.opened_at is None or at < row.opened_at:
        values: dict[str, Any] = {"opened_at": at}
        if row.close_at is None:
            values["close_at"] = _wave_close(ws, at)
        store.update_wave(wave_id, **values)


# ---------------------------------------------------------------------------------------
# watch
# ---------------------------------------------------------------------------------------
def watch_mailbox(
    root: str | os.PathLike[str],
    once: bool = False,
    clock: Clock | None = None,
    stop: threading.Event | None = None,
    on_event: Callable[[Any], None] | None = None,
) -> Any:
    """Sync the mailbox (once) or watch it until stop is set; returns the sync stats."""
    clock = clock or current_clock()
    from inbox.watcher import Watcher

    ws = load_workspace(root)
    problem = tls_mode_problem(ws.survey.mailbox)  # instead of a long timeout, the cause
    if problem:
        raise InboxError(f"survey.yaml mailbox: {problem}")
    store = Store.open(ws.store_url)
    run_id = store.begin_run(
        "watch",
        __version__,
        config=ws.survey.mailbox.model_dump(mode="json"),
        clock_offset_s=clock.offset_s,
        now=clock.now(),
    )
    try:
        watcher = Watcher(store, ws.survey.mailbox, ws.root, clock=clock, run_id=run_id)
        if once:
            stats = watcher.sync_once()
        else:
            stats = watcher.watch(stop or threading.Event(), on_event=on_event)
        store.update_run(run_id, finished_at=clock.now(), summary=_as_dict(stats))
        return stats
    finally:
        store.close()


def _as_dict(obj: Any) -> Any:
    if hasattr(obj, "__dataclass_fields__"):
        return {k: _as_dict(getattr(obj, k)) for k in obj.__dataclass_fields__}
    if isinstance(obj, dict):
        return {str(k): _as_dict(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_as_dict(v) for v in obj]
    return obj


# ---------------------------------------------------------------------------------------
# status, log, review, grade
# ---------------------------------------------------------------------------------------
def status(root: str | os.PathLike[str], wave: str | None = None) -> list[dict[str, Any]]:
    """One row per submission: state, outcome, submitted, first reply, messages."""
    from audit.store import companies, contact_events, messages, submissions, waves

    ws = load_workspace(root)
    store = Store.open(ws.store_url)
    try:
        q = (
            sa.select(
                companies.c.name.label("company"),
                waves.c.name.label("wave"),
                submissions.c.id,
                submissions.c.state,
                submissions.c.outcome,
                submissions.c.reason,
                submissions.c.submitted_at,
                submissions.c.reply_address,
            )
            .join(companies, companies.c.id == submissions.c.company_id)
            .join(waves, waves.c.id == submissions.c.wave_id)
            .order_by(waves.c.id, companies.c.name)
        )
        if wave:
            q = q.where(waves.c.name == wave)
        with store.engine.connect() as c:
            rows = [dict(r._mapping) for r in c.execute(q)]
            first = {
                r.submission_id: r
                for r in c.execute(
                    sa.select(
                        contact_events.c.submission_id,
                        sa.func.min(contact_events.c.at).label("first_contact"),
                        sa.func.count().label("events"),
                    ).group_by(contact_events.c.submission_id)
                )
            }
            nmsg: dict[int, int] = dict(
                c.execute(
                    sa.select(messages.c.submission_id, sa.func.count()).group_by(
                        messages.c.submission_id
                    )
                ).all()
            )
        for r in rows:
            f = first.get(r["id"])
            r["first_contact_at"] = f.first_contact if f else None
            r["contact_events"] = f.events if f else 0
            r["messages"] = nmsg.get(r["id"], 0)
        return rows
    finally:
        store.close()


def _submission_for(ws: Workspace, store: Store, company_name: str, wave: str | None) -> Any:
    company = ws.company(company_name)
    crow = store.company_row(company.slug)
    wave_name = wave or ws.survey.survey.wave
    wrow = store.wave_row(wave_name)
    sub = store.submission(crow.id, wrow.id) if crow and wrow else None
    if sub is None:
        raise ConfigError(f"{company.name} has no submission in wave {wave_name!r}")
    return sub


def log_contact(
    root: str | os.PathLike[str],
    company_name: str,
    channel: Channel,
    at: datetime,
    kind: str = "human",
    note: str | None = None,
    wave: str | None = None,
    clock: Clock | None = None,
) -> int:
    """Record a call, SMS or e-mail the consultant received outside the mailbox."""
    clock = clock or current_clock()
    if at.tzinfo is None:
        raise ConfigError("--at needs a time zone, e.g. 2026-11-25T14:30+02:00")
    ws = load_workspace(root)
    store = Store.open(ws.store_url)
    try:
        sub = _submission_for(ws, store, company_name, wave)
        if sub.submitted_at and at < sub.submitted_at:
            raise ConfigError(
                f"--at {at.isoformat()} is before the submission ({sub.submitted_at.isoformat()})"
            )
        event_id = store.add_contact_event(
            sub.id, channel.value, kind, at, "manual", now=clock.now(), note=note
        )
        assert event_id is not None
        return event_id
    finally:
        store.close()


def review_list(root: str | os.PathLike[str]) -> list[dict[str, Any]]:
    ws = load_workspace(root)
    store = Store.open(ws.store_url)
    try:
        return [
            {
                "id": m.id,
                "internaldate": m.internaldate,
                "sender": m.sender,
                "subject": m.subject,
                "kind": m.kind,
                "matched": m.submission_id is not None,
                "why": (json.loads(m.kind_reasons or "[]") or [""])[0],
                "parse_error": m.parse_error,
            }
            for m in store.messages_for_review()
        ]
    finally:
        store.close()


def message_list(root: str | os.PathLike[str], wave: str | None = None) -> list[dict[str, Any]]:
    """Every recorded message, one row each, for an analyst to audit: its company and
    wave, how it was matched, its class, whether that was decided by hand, the deciding
    evidence line (``why``) and all of it (``evidence``), its arrival time (INTERNALDATE)
    and its DKIM verdict (signing domain, alignment with From)."""
    ws = load_workspace(root)
    store = Store.open(ws.store_url)
    try:
        wave_id = None
        if wave is not None:
            wrow = store.wave_row(wave)
            if wrow is None:
                raise ConfigError(f"no wave named {wave!r} in the store")
            wave_id = int(wrow.id)
        return [_message_entry(m) for m in store.message_listing(wave_id)]
    finally:
        store.close()


def _message_entry(m: Any) -> dict[str, Any]:
    try:
        reasons = json.loads(m.kind_reasons or "[]")
    except ValueError:
        reasons = [str(m.kind_reasons)]
    return {
        "id": m.id,
        "internaldate": m.internaldate,
        "wave": m.wave,
        "company": m.company,
        "sender": m.sender,
        "subject": m.subject,
        "match_method": m.match_method,
        "kind": m.kind,
        "review": m.review,
        "decided_by_hand": m.review in DECIDED_BY_HAND,
        "why": reasons[0] if reasons else "",
        "evidence": reasons,
        "helpdesk": m.helpdesk,
        "dkim": m.dkim,
        "dkim_domain": m.dkim_domain,
        "dkim_aligned": _aligned_in(m.dkim_evidence),
        "eml_path": m.eml_path,
        "eml_sha256": m.eml_sha256,
    }


def _aligned_in(evidence_json: str | None) -> bool | None:
    """DMARC relaxed alignment of the signing domain with From, from the DKIM evidence."""
    try:
        value = json.loads(evidence_json or "null")
    except ValueError:
        return None
    aligned = value.get("aligned") if isinstance(value, dict) else None
    return aligned if isinstance(aligned, bool) else None


# The classes `audit review --kind` accepts: a contact event (human, auto_ack, bounce) or
# not (marketing, unrelated: the message stays out of every company's figures).
REVIEW_KINDS = tuple(k.value for k in MessageKind)
_EVENT_KINDS = (MessageKind.HUMAN.value, MessageKind.AUTO_ACK.value, MessageKind.BOUNCE.value)


def review_decide(
    root: str | os.PathLike[str],
    message_id: int,
    company_name: str | None = None,
    dismiss: bool = False,
    kind: str | None = None,
    wave: str | None = None,
    clock: Clock | None = None,
) -> str:
    """Assign a message to a company's submission (as --kind, else as the class its
    evidence suggested), reclassify a matched message (--kind alone), or dismiss it."""
    clock = clock or current_clock()
    if kind is not None and kind not in REVIEW_KINDS:
        raise ConfigError(f"--kind must be one of {', '.join(REVIEW_KINDS)}, not {kind!r}")
    ws = load_workspace(root)
    store = Store.open(ws.store_url)
    try:
        msg = store.message_row(message_id)
        if msg is None:
            raise ConfigError(f"no message #{message_id} in the store")
        now = clock.now()
        if dismiss:
            store.record_review(message_id, ReviewState.DISMISSED.value, now)
            return f"message #{message_id} dismissed"
        if not company_name and kind and msg.submission_id is not None:
            # reclassify a matched message (a doubtful one, or a correction)
            store.record_review(
                message_id,
                ReviewState.RECLASSIFIED.value,
                now,
                kind=kind,
                event_kind=kind if kind in _EVENT_KINDS else None,
            )
            return f"message #{message_id} reclassified as {kind}"
        if not company_name:
            raise ConfigError(
                "give --company NAME to assign, --kind KIND to reclassify, or --dismiss"
                + (
                    ""
                    if msg.submission_id is not None
                    else " (this message is matched to no company)"
                )
            )
        from inbox.classify import suggestion_in

        sub = _submission_for(ws, store, company_name, wave)
        suggested = suggestion_in(json.loads(msg.kind_reasons or "[]"))
        new_kind = kind or (suggested.value if suggested else None) or msg.kind or "human"
        store.record_review(
            message_id,
            ReviewState.ASSIGNED.value,
            now,
            kind=new_kind,
            submission_id=sub.id,
            match_method=MatchMethod.MANUAL.value,
            event_kind=new_kind if new_kind in _EVENT_KINDS else None,
        )
        return f"message #{message_id} assigned to {company_name} as {new_kind}"
    finally:
        store.close()


def grade(
    root: str | os.PathLike[str],
    company_name: str,
    score: float,
    rubric: dict[str, Any],
    note: str | None = None,
    wave: str | None = None,
    clock: Clock | None = None,
) -> None:
    clock = clock or current_clock()
    if not 0 <= score <= 10:
        raise ConfigError("--score must be between 0 and 10")
    ws = load_workspace(root)
    store = Store.open(ws.store_url)
    try:
        sub = _submission_for(ws, store, company_name, wave)
        store.add_grade(sub.id, score, rubric, note, clock.now())
    finally:
        store.close()


# ---------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------
def report(
    root: str | os.PathLike[str],
    lang: str = "en",
    wave: str | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    clock: Clock | None = None,
    as_of: datetime | None = None,
) -> Any:
    """Build the report as of now (or `as_of`, e.g. the wave's close)."""
    clock = clock or current_clock()
    from reports.render import build_report

    ws = load_workspace(root)
    store = Store.open(ws.store_url)
    try:
        run_id = store.begin_run(
            "report", __version__, clock_offset_s=clock.offset_s, now=clock.now()
        )
        paths = build_report(
            store,
            ws,
            out_dir=Path(out_dir) if out_dir else None,
            lang=lang,
            now=as_of or clock.now(),
            wave=wave,
        )
        store.update_run(run_id, finished_at=clock.now(), summary={"index": str(paths.index_html)})
        return paths
    finally:
        store.close()


def to_json(obj: Any) -> str:
    return json.dumps(
        _as_dict(obj),
        default=lambda o: o.isoformat() if isinstance(o, datetime) else str(o),
        ensure_ascii=False,
    )


# ---------------------------------------------------------------------------------------
# inspect
# ---------------------------------------------------------------------------------------
def inspect(targets: list[str], browser: BrowserSettings | None = None) -> list[dict[str, Any]]:
    """The forms on each target page, the one picked and every field's role."""
    from probes.inspect import inspect_targets

    return asyncio.run(inspect_targets(targets, browser or BrowserSettings()))
