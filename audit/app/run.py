"""`audit run`: submit (or dry-run) every company's form once per wave, safe to interrupt."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from audit import __version__, lifecycle
from audit.app.common import fault_point, new_worker_id, process_alive, sha256_file
from audit.app.session import session
from audit.clock import Clock, current_clock
from audit.config import (
    SURVEY_FILE,
    Workspace,
    load_workspace,
    reply_domain_problem,
)
from audit.errors import AuditError, ConfigError, ProbeError
from audit.lifecycle import Submission
from audit.logs import redact_url
from audit.models import (
    BLOCK_OUTSIDE_ENV,
    DEFAULT_MAX_CONSECUTIVE_FAILURES,
    BrowserSettings,
    Company,
    Outcome,
    ProbeRequest,
    ProbeResult,
    SubmissionChannel,
    SubmissionState,
    check_browser_endpoint,
    parse_duration,
)
from audit.stats import Stats
from audit.store import Store
from audit.tokens import new_token, reference_code

log = logging.getLogger(__name__)

# Outcomes that say "something is wrong on our side" when they come many in a row.
_LOCAL_TROUBLE = {Outcome.UNREACHABLE, Outcome.ERROR, Outcome.TIMEOUT}


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
    wave: str | None = None  # overrides survey.wave; "auto": the schedule's current period
    browser_endpoint: str | None = None  # a Playwright browser server instead of a local one


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
    channel: str = "form"  # SubmissionChannel: form | email


@dataclass
class RunSummary:
    run_id: int
    wave: str
    submit: bool
    results: list[CompanyRun]
    stopped_early: str | None = None
    interrupted: str | None = None  # "interrupted: N done, M left, K uncertain"
    # outcome/<outcome> and state/<state> of the results (not in the JSON: the results are)
    stats: Stats = field(default_factory=Stats, repr=False, metadata={"json": False})

    @property
    def counts(self) -> dict[str, int]:
        """Results by outcome, in the order first seen."""
        return self.stats.section("outcome")


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
    if opts.browser_endpoint:
        try:
            b.endpoint = check_browser_endpoint(opts.browser_endpoint)
        except ValueError as exc:
            raise ConfigError(f"--browser-endpoint: {exc}") from None
    if opts.assist:
        if b.endpoint:
            raise ConfigError(
                "--assist needs a visible browser on this machine, not a browser server "
                "(browser.endpoint / --browser-endpoint)"
            )
        b.headless = False
        b.concurrency = 1
    return b


def _site_key(company: Company) -> str:
    parts = urlsplit(company.start_url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    return f"{host}:{parts.port}" if parts.port else host


def _public_config(ws: Workspace, browser: BrowserSettings) -> dict[str, Any]:
    cfg = ws.survey.model_dump(mode="json")
    cfg["browser"] = browser.model_dump(mode="json")
    if cfg["browser"].get("proxy"):
        cfg["browser"]["proxy"] = _redact_proxy(cfg["browser"]["proxy"])
    if cfg["browser"].get("endpoint"):
        cfg["browser"]["endpoint"] = redact_url(cfg["browser"]["endpoint"])
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
    ws = _with_wave(load_workspace(root), opts.wave, clock)
    if opts.submit and (placeholder := reply_domain_problem(ws)):
        raise ConfigError(f"{placeholder} before run --submit (nothing was sent)")
    if os.environ.get(BLOCK_OUTSIDE_ENV) == "1":
        opts = replace(opts, block_outside=True)
    chosen = [c for c in ws.companies if not opts.only or c.slug in _only(ws, opts.only)]
    browser = resolved_browser_settings(ws, opts)
    interrupt = Interrupt(on_notice=on_notice)
    interrupt.hold()
    try:
        with session(ws=ws, clock=clock) as s:  # the run row is begun once the wave is known
            return asyncio.run(
                _with_signals(
                    interrupt,
                    _run_companies(
                        ws, s.store, chosen, browser, opts, clock, on_result, on_start, interrupt
                    ),
                )
            )
    finally:
        interrupt.release()


def _with_wave(ws: Workspace, wave: str | None, clock: Clock) -> Workspace:
    """The workspace with the wave ``run --wave`` names (``auto``: the scheduled period;
    ``auto:monthly``: the period of that cadence, as `audit schedule` writes it)."""
    if not wave:
        return ws
    if wave == "auto" or wave.startswith("auto:"):
        from audit.app.schedule import resolve_schedule, wave_for

        every = wave.partition(":")[2] or None
        if ws.survey.schedule is None and every is None:
            raise ConfigError(
                "--wave auto names the wave by survey.yaml's schedule: add one, or say the "
                "cadence (--wave auto:weekly, auto:monthly, auto:quarterly)"
            )
        sched = resolve_schedule(ws.survey.schedule, every=every)
        wave = wave_for(sched, clock.now(), ws.survey.calendar.timezone)
    section = ws.survey.survey.model_copy(update={"wave": wave})
    return replace(ws, survey=ws.survey.model_copy(update={"survey": section}))


@dataclass
class Interrupt:
    """Ctrl-C / SIGTERM during a run: the first stops starting companies and lets the ones
    in flight finish; the second stops those at once. Either way every company ends by the
    lifecycle rule: not clicked -> planned again, clicked and unconfirmed -> uncertain."""

    count: int = 0
    on_notice: Callable[[str], None] | None = None
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    probing: int = 0  # companies whose probe has started and not ended
    _saved: dict[Any, Any] = field(default_factory=dict)  # handlers before hold()

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

    def hold(self) -> None:
        """Outside the event loop (opening and closing the store), a signal is counted,
        not raised: a KeyboardInterrupt while the store closes would print a traceback
        and stop the clean-up half-way. ``release`` puts the previous handlers back."""
        import signal

        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._saved.setdefault(sig, signal.getsignal(sig))
            signal.signal(sig, lambda *_: self.signal())

    def release(self) -> None:
        import signal

        for sig, handler in self._saved.items():
            signal.signal(sig, handler)
        self._saved.clear()

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


async def _with_signals(interrupt: Interrupt, work: Coroutine[Any, Any, RunSummary]) -> RunSummary:
    """Run ``work`` with Ctrl-C / SIGTERM handled by ``interrupt`` (see Interrupt)."""
    undo_signals = interrupt.install(asyncio.get_running_loop())
    try:
        return await work
    finally:
        undo_signals()
        interrupt.hold()  # until the command's end (see Interrupt.hold)


def _begin(
    ws: Workspace, store: Store, browser: BrowserSettings, opts: RunOptions, clock: Clock, kind: str
) -> tuple[int, int]:
    """The wave's id and a new run row (``kind``: run, dry-run, work)."""
    wave_id = store.ensure_wave(ws.survey.survey.wave, ws.survey.survey.close_at, now=clock.now())
    run_id = store.begin_run(
        kind,
        __version__,
        config=_public_config(ws, browser),
        clock_offset_s=clock.offset_s,
        now=clock.now(),
    )
    return wave_id, run_id


def _plan(
    ws: Workspace,
    store: Store,
    chosen: list[Company],
    wave_id: int,
    opts: RunOptions,
    clock: Clock,
    skip_planned: bool = False,
) -> tuple[list[CompanyRun], list[tuple[Company, Submission]]]:
    """Plan each company's submission in the wave (safe when workers plan at once).

    Returns what is not to be sent (skipped, done, held by a live worker) as results, and
    the (company, planned submission) pairs to send. ``skip_planned`` (workers): companies
    already planned in the wave are left to the claims, one query instead of one each.
    """
    wave_name = ws.survey.survey.wave
    planned = store.planned_slugs(wave_id) if skip_planned else set()
    results: list[CompanyRun] = []
    todo: list[tuple[Company, Submission]] = []
    for company in chosen:
        if company.skip:
            store.upsert_company(company)
            results.append(
                CompanyRun(company.name, company.slug, "skipped", "skip: true", skipped=True)
            )
            continue
        if company.slug in planned or not company.has_form:
            continue  # (a company surveyed by e-mail only: _plan_mails)
        company_id = store.upsert_company(company)
        token = new_token()
        addr = (
            ws.survey.reply_address.fallback_for(token)
            if company.overrides.accepts_plus is False
            else ws.survey.reply_address.address_for(token)
        )
        sub = store.plan_submission(
            company_id, wave_id, token, addr, now=clock.now(), site_key=_site_key(company)
        )
        store.snapshot_company(wave_id, company_id, company_facts(ws, company), clock.now())
        if sub.state is not SubmissionState.RUNNING:  # a live claim is its holder's business
            sub = _recover(store, sub, opts, clock)
        if sub.state is not SubmissionState.PLANNED:
            results.append(_not_again(company, sub, wave_name))
            continue
        todo.append((company, sub))
    return results, todo


def _plan_mails(
    ws: Workspace,
    store: Store,
    chosen: list[Company],
    wave_id: int,
    opts: RunOptions,
    clock: Clock,
) -> tuple[list[CompanyRun], list[tuple[Company, Submission]]]:
    """Plan the e-mail submissions of the companies surveyed by e-mail (``channel: email``
    or ``both``): what is not to be sent again as results, and those to send."""
    results: list[CompanyRun] = []
    todo: list[tuple[Company, Submission]] = []
    for company in chosen:
        if company.skip or company.channel not in ("email", "both"):
            continue
        company_id = store.upsert_company(company)
        note = f"channel: {company.channel} in companies.yaml"
        mail = _plan_mail(ws, store, company, company_id, wave_id, note, opts, clock)
        if mail.state is not SubmissionState.PLANNED:
            results.append(_not_again(company, mail, ws.survey.survey.wave))
        else:
            todo.append((company, mail))
    return results, todo


@dataclass
class WaveRun:
    """What `audit run` and `audit work` share while they send a wave: the per-company
    routine (``company``), the heartbeat on the claims held, the outcome counts and the
    stop after many local failures. One per process; ``worker`` names its claims."""

    ws: Workspace
    store: Store
    browser: BrowserSettings
    opts: RunOptions
    clock: Clock
    interrupt: Interrupt
    wave_id: int
    run_id: int
    on_result: Callable[[CompanyRun], None] | None = None
    worker: str = field(default_factory=new_worker_id)
    heartbeat_s: float = lifecycle.DEFAULT_HEARTBEAT_S
    results: list[CompanyRun] = field(default_factory=list)
    stop_reason: list[str] = field(default_factory=list)
    held: set[int] = field(default_factory=set)  # submissions claimed and not finished
    session: Any = None
    stats: Stats = field(default_factory=Stats)  # outcome/..., state/... of the results
    _consecutive: int = 0

    @property
    def stale_after_s(self) -> float:
        return self.heartbeat_s * lifecycle.STALE_AFTER_BEATS

    def recover_stale(self) -> list[Submission]:
        """End the wave's stale claims (a crashed run or worker) by the lifecycle."""
        return self.store.recover_stale_claims(
            self.wave_id, self.clock.now(), self.stale_after_s, process_alive, self.worker
        )

    def record(self, res: CompanyRun) -> None:
        """A company's result, counted by outcome and state."""
        self.results.append(res)
        self.stats.inc(f"outcome/{res.outcome}")
        if res.state:
            self.stats.inc(f"state/{res.state}")

    def count(self, res: CompanyRun) -> None:
        """``record``, told to on_result, and the stop after many local failures."""
        self.record(res)
        if self.on_result:
            self.on_result(res)
        if res.outcome in _LOCAL_TROUBLE:
            self._consecutive += 1
            if self._consecutive >= DEFAULT_MAX_CONSECUTIVE_FAILURES and not self.stop_reason:
                self.stop_reason.append(
                    f"stopped after {self._consecutive} consecutive failures "
                    "(is the network or the browser broken here?)"
                )
        elif res.outcome not in ("interrupted", "not-started"):
            self._consecutive = 0

    def not_started(self, company: Company, why: str) -> CompanyRun:
        return CompanyRun(
            company.name, company.slug, "not-started", why, state="planned", skipped=True
        )

    async def company(self, company: Company, sub: Submission, claimed: bool = False) -> None:
        """One company's turn: probe it (claiming it first unless ``claimed``), record the
        outcome, then keep its site quiet for site_delay_s."""
        if self.stop_reason or self.interrupt.requested:
            why = "interrupted" if self.interrupt.requested else self.stop_reason[0]
            if claimed:  # nothing was done with it: planned again for anyone
                fresh = self.store.submission_by_id(sub.id) or sub
                _recover(self.store, fresh, self.opts, self.clock)
                self.held.discard(sub.id)
            self.count(self.not_started(company, f"not started: {why}"))
            return
        self.interrupt.probing += 1
        try:
            res = await _probe_one(self, company, sub, claimed)
        except ProbeError as exc:  # no browser: stop starting companies, end cleanly
            if not self.stop_reason:
                self.stop_reason.append(f"{exc}; start it again when the browser is back")
            res = self.not_started(company, f"not started: {exc}")
        finally:
            self.interrupt.probing -= 1
            self.held.discard(sub.id)
        self.count(res)
        if self.browser.site_delay_s and not self.interrupt.requested:
            await asyncio.sleep(self.browser.site_delay_s)  # polite to one site

    async def beat(self) -> None:
        """The heartbeat: every heartbeat_s, stamp the claims this process holds."""
        while True:
            await asyncio.sleep(self.heartbeat_s)
            if self.held:
                held = set(self.held)
                alive = self.store.heartbeat(self.worker, held, self.clock.now())
                for lost in held - alive:
                    log.warning("claim of submission %s was taken over; not clicked", lost)

    def summary(self, todo: int) -> RunSummary:
        results = self.results
        summary = RunSummary(
            self.run_id,
            self.ws.survey.survey.wave,
            self.opts.submit,
            results,
            self.stop_reason[0] if self.stop_reason else None,
            stats=self.stats,
        )
        if self.interrupt.requested:
            left = self.stats.total("outcome", ("not-started", "interrupted"))
            uncertain = self.stats.get(f"state/{SubmissionState.UNCERTAIN.value}")
            done = todo - left
            summary.interrupted = f"interrupted: {done} done, {left} left, {uncertain} uncertain"
        self.store.update_run(
            self.run_id,
            finished_at=self.clock.now(),
            summary={
                "counts": summary.counts,
                "stopped": summary.stopped_early,
                "interrupted": summary.interrupted,
                "worker": self.worker,
            },
        )
        return summary


@asynccontextmanager
async def _browsing(wr: WaveRun, session_type: Any) -> AsyncIterator[Any]:
    """The browser session and, when submitting, the heartbeat on the claims held."""
    if session_type is None:
        from probes.runner import ProbeSession as session_type
    async with session_type(
        wr.browser, assist=wr.opts.assist, block_outside=wr.opts.block_outside
    ) as session:
        wr.session = session
        wr.store.update_run(wr.run_id, browser_version=session.browser_version)
        beat = asyncio.ensure_future(wr.beat()) if wr.opts.submit else None
        try:
            yield session
        finally:
            if beat is not None:
                beat.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await beat


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
    session_type: Any = None,
) -> RunSummary:
    wave_id, run_id = _begin(ws, store, browser, opts, clock, "run" if opts.submit else "dry-run")
    wr = WaveRun(ws, store, browser, opts, clock, interrupt, wave_id, run_id, on_result)
    if opts.submit:  # left by a crashed run or a vanished worker: ended by the lifecycle
        wr.recover_stale()
    results, todo = _plan(ws, store, chosen, wave_id, opts, clock)
    mail_results, mail_todo = _plan_mails(ws, store, chosen, wave_id, opts, clock)
    results += mail_results
    for r in results:
        wr.count(r)
    if on_start:
        on_start(len(todo))

    sem = asyncio.Semaphore(browser.concurrency)
    site_locks: dict[str, asyncio.Lock] = {}

    if todo and not interrupt.requested:
        try:
            async with _browsing(wr, session_type) as session:
                session.expect(len(todo))  # no spare context made for a company not to come

                async def one(company: Company, sub: Submission) -> None:
                    lock = site_locks.setdefault(_site_key(company), asyncio.Lock())
                    try:
                        async with lock, sem:
                            await wr.company(company, sub)
                    except asyncio.CancelledError:
                        if not interrupt.requested:
                            raise
                        if not any(r.slug == company.slug for r in wr.results):
                            wr.count(wr.not_started(company, "not started: interrupted"))

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
            started = {r.slug for r in wr.results}
            for c, _ in todo:
                if c.slug not in started:
                    wr.record(wr.not_started(c, "not started: interrupted"))
    elif todo:
        for c, _ in todo:
            wr.record(wr.not_started(c, "not started: interrupted"))
    # The e-mail channel: companies surveyed by e-mail, then the fallback for those whose
    # form could not be submitted (this run's or an earlier run's, never after a click).
    mail_todo += _fallbacks(ws, store, chosen, wave_id, {c.slug for c, _ in mail_todo}, opts, clock)
    if mail_todo:
        password = _smtp_password(ws) if opts.submit else None
        for company, mail in mail_todo:
            if wr.stop_reason or interrupt.requested:
                why = "interrupted" if interrupt.requested else wr.stop_reason[0]
                res = wr.not_started(company, f"not started: {why}")
                res.channel = "email"
            else:
                res = await _mail_one(wr, company, mail, password)
            wr.count(res)
    return wr.summary(len(todo) + len(mail_todo))


def _not_again(company: Company, sub: Submission, wave_name: str) -> CompanyRun:
    """What a re-run says about a submission it will not send again."""
    hint = lifecycle.retry_hint(sub)
    held = f" (held by {sub.claimed_by})" if sub.claimed_by and not sub.final else ""
    return CompanyRun(
        company.name,
        company.slug,
        "already-" + sub.state,
        f"{sub.state} in wave {wave_name}; not sent again{hint}{held}",
        state=sub.state,
        submitted_at=sub.submitted_at,
        skipped=True,
        channel=sub.channel,
    )


def _plan_mail(
    ws: Workspace,
    store: Store,
    company: Company,
    company_id: int,
    wave_id: int,
    note: str,
    opts: RunOptions,
    clock: Clock,
) -> Submission:
    """The company's e-mail submission in the wave (planned, or as it was left)."""
    token = new_token()
    sub = store.plan_submission(
        company_id,
        wave_id,
        token,
        ws.survey.reply_address.address_for(token),
        now=clock.now(),
        channel=SubmissionChannel.EMAIL.value,
        channel_note=note,
    )
    store.snapshot_company(wave_id, company_id, company_facts(ws, company), clock.now())
    return _recover(store, sub, opts, clock)


def _fallbacks(
    ws: Workspace,
    store: Store,
    chosen: list[Company],
    wave_id: int,
    planned: set[str],
    opts: RunOptions,
    clock: Clock,
) -> list[tuple[Company, Submission]]:
    """E-mail submissions for companies whose form failed or was blocked before any click
    (survey.yaml ``fallback: email``, the company's published ``email``)."""
    if ws.survey.fallback != "email":
        return []
    out: list[tuple[Company, Submission]] = []
    for company in chosen:
        if company.skip or not company.email or company.slug in planned:
            continue
        row = store.company_row(company.slug)
        form = store.submission(row.id, wave_id) if row is not None else None
        why = lifecycle.fallback_reason(form) if form is not None else None
        if why is None or not opts.submit:
            continue
        mail = _plan_mail(ws, store, company, form.company_id, wave_id, why, opts, clock)  # type: ignore[union-attr]
        if mail.state == SubmissionState.PLANNED.value:
            out.append((company, mail))
    return out


def _smtp_password(ws: Workspace) -> str | None:
    """The SMTP password, read like the IMAP one (environment, else keyring)."""
    from inbox.credentials import smtp_password

    smtp = ws.survey.smtp
    assert smtp is not None  # load_workspace refuses a survey that mails without smtp:
    if smtp.tls == "plain" and not smtp.keyring_service and not os.environ.get(smtp.password_env):
        return None  # a loopback relay without a login (tests, the demo)
    return smtp_password(smtp)


async def _mail_one(
    wr: WaveRun, company: Company, sub: Submission, password: str | None
) -> CompanyRun:
    """Send (or, in a dry run, only write) one company's e-mail inquiry."""
    ws, store, opts, clock = wr.ws, wr.store, wr.opts, wr.clock
    wave_id, run_id = wr.wave_id, wr.run_id
    from probes.mailer import MailRequest, build_inquiry, new_message_id, send_inquiry

    assert company.email is not None and ws.survey.smtp is not None
    started = clock.now()
    if opts.submit and not store.claim_submission(sub.id, run_id, started, worker=wr.worker):
        return CompanyRun(
            company.name,
            company.slug,
            "already-running",
            "claimed by another run",
            skipped=True,
            channel="email",
        )
    subject, body = render_message(ws, company, sub.token)
    message_id = sub.sent_message_id or new_message_id(sub.token, ws.survey.reply_address.domain)
    folder = "dry-run" if not opts.submit else "submissions"
    evidence_dir = ws.evidence_dir / folder / ws.survey.survey.wave / company.slug / "email"
    if opts.submit:
        store.update_submission(sub.id, sent_message_id=message_id)  # before anything is sent
    else:
        evidence_dir = evidence_dir / f"run-{run_id}"

    def before_data() -> None:
        # Written before DATA: a crash after this point is never re-sent blindly.
        # Fenced like a form's click: only while this process still holds the claim.
        if not store.record_click(sub.id, wr.worker, clock.now()):
            raise ClaimLost(f"the claim on {company.name} was taken over: not sent")
        fault_point("after-click-recorded")

    req = MailRequest(
        to=company.email,
        from_addr=sub.reply_address,
        from_name=ws.survey.persona.name,
        subject=subject,
        body=body,
        message_id=message_id,
        smtp=ws.survey.smtp,
        password=password,
        evidence_dir=str(evidence_dir),
        workspace=str(ws.root),
        now=clock.now,
        before_data=before_data,
        after_accept=lambda: fault_point("after-smtp-accept"),
    )
    if not opts.submit:
        evidence_dir.mkdir(parents=True, exist_ok=True)
        (evidence_dir / "inquiry.eml").write_bytes(build_inquiry(req).as_bytes())
        return CompanyRun(
            company.name,
            company.slug,
            Outcome.FILLED.value,
            f"dry run: e-mail to {company.email} written, not sent",
            state=sub.state,
            channel="email",
        )
    try:
        result = await asyncio.shield(asyncio.to_thread(send_inquiry, req))
    except ClaimLost as exc:  # raised by before_data: nothing was sent
        now_row = store.submission_by_id(sub.id) or sub
        return _taken_over(company, now_row, ProbeResult(outcome=Outcome.ERROR, reason=str(exc)))
    finished = clock.now()
    _record_attempt(wr, sub, result, started, finished)
    running = store.submission_by_id(sub.id) or sub
    updates: dict[str, Any]
    if result.retry_later and not running.clicked:
        updates = dict(lifecycle.defer(running, result.reason, finished))
    else:
        updates = lifecycle.finish(running, result.outcome, result.reason, result.clicked, finished)
        updates.update(
            signal=result.signal,
            page_url=result.url,
            values={"email": sub.reply_address, "subject": subject, "message": body},
            request=result.request,
        )
        if result.submitted_at is not None:
            updates["submitted_at"] = result.submitted_at
    if not store.finish_claimed(sub.id, wr.worker, updates):  # fenced, as the click
        return _taken_over(company, store.submission_by_id(sub.id) or running, result)
    state = updates["state"]
    if state == SubmissionState.SUBMITTED.value:
        _open_wave(ws, store, wave_id, result.submitted_at or finished)
    return CompanyRun(
        company.name,
        company.slug,
        result.outcome.value,
        result.reason,
        state=state,
        submitted_at=result.submitted_at,
        channel="email",
    )


def _record_attempt(
    wr: WaveRun, sub: Submission, result: ProbeResult, started: datetime, finished: datetime
) -> None:
    """One attempt row with its evidence files (a form's probe or an e-mail's sending)."""
    store, submit = wr.store, wr.opts.submit
    attempt_id = store.add_attempt(
        run_id=wr.run_id,
        submission_id=sub.id,
        company_id=sub.company_id,
        wave_id=wr.wave_id,
        dry_run=not submit,
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
        path = wr.ws.root / ev.path
        if path.is_file():
            store.add_evidence(
                ev.kind,
                ev.path,
                sha256_file(path),
                now=finished,
                submission_id=sub.id if submit else None,
                attempt_id=attempt_id,
            )


def _recover(store: Store, sub: Submission, opts: RunOptions, clock: Clock) -> Submission:
    """Bring a submission left behind by a crash or a failure into a safe state."""
    return store.apply(sub, lifecycle.recover(sub, opts.retry_failed and opts.submit, clock.now()))


class ClaimLost(AuditError):
    """The claim on a submission was taken over (stale): this process must not click."""


async def _probe_one(wr: WaveRun, company: Company, sub: Submission, claimed: bool) -> CompanyRun:
    ws, store, opts, clock, run_id = wr.ws, wr.store, wr.opts, wr.clock, wr.run_id
    started = clock.now()
    if (
        opts.submit
        and not claimed
        and not store.claim_submission(sub.id, run_id, started, worker=wr.worker)
    ):
        return CompanyRun(
            company.name, company.slug, "already-running", "claimed by another run", skipped=True
        )
    if opts.submit:
        wr.held.add(sub.id)
    subject, body = render_message(ws, company, sub.token)
    folder = "dry-run" if not opts.submit else "submissions"
    evidence_dir = ws.evidence_dir / folder / ws.survey.survey.wave / company.slug
    if not opts.submit:
        evidence_dir = evidence_dir / f"run-{run_id}"

    def before_submit() -> None:
        # Written before the click: a crash after this point is never re-sent blindly.
        # Fenced: only while this process still holds the claim; else no click at all.
        if opts.submit and not store.record_click(sub.id, wr.worker, clock.now()):
            raise ClaimLost(f"the claim on {company.name} was taken over: not clicked")
        if not opts.submit:
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
        result: ProbeResult = await wr.session.probe(req)
    except asyncio.CancelledError:
        return _interrupted(store, sub, company, opts, clock)
    except ProbeError:
        # No browser to be had (it went away and cannot be opened again): nothing was
        # done with this company, so it is planned again for anyone; the run stops.
        if opts.submit:
            fresh = store.submission_by_id(sub.id) or sub
            if fresh.state is SubmissionState.RUNNING and fresh.claimed_by == wr.worker:
                store.apply_if_unchanged(fresh, lifecycle.recover(fresh, False, clock.now()) or {})
        raise
    except Exception as exc:  # the probe promises outcomes; a bug must not lose the state
        log.exception("probe crashed on %s", company.name)
        result = ProbeResult(
            outcome=Outcome.ERROR, reason=f"internal error: {type(exc).__name__}: {exc}"
        )
    finished = clock.now()
    values = {f.role: f.value_sent for f in result.fields if f.value_sent is not None}
    _record_attempt(wr, sub, result, started, finished)
    state = sub.state.value
    if opts.submit:
        running = store.submission_by_id(sub.id) or sub  # clicked_at as recorded
        if running.state is not SubmissionState.RUNNING or running.claimed_by != wr.worker:
            return _taken_over(company, running, result)
        if result.browser_lost:  # no evidence either way: the crash rule, never `failed`
            lost = lifecycle.lost_browser(running, result.browser_lost, finished)
            if not store.finish_claimed(sub.id, wr.worker, lost):
                return _taken_over(company, store.submission_by_id(sub.id) or running, result)
            return CompanyRun(
                company.name, company.slug, "browser-lost", str(lost["reason"]),
                state=str(lost["state"]),
            )  # fmt: skip
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
        if not store.finish_claimed(sub.id, wr.worker, updates):  # fenced, as the click
            return _taken_over(company, store.submission_by_id(sub.id) or running, result)
        state = new_state.value
        if new_state is SubmissionState.SUBMITTED:
            _open_wave(ws, store, wr.wave_id, result.submitted_at or finished)
    return CompanyRun(
        company.name,
        company.slug,
        result.outcome.value,
        result.reason,
        state=state,
        submitted_at=result.submitted_at,
    )


def _taken_over(company: Company, now_row: Submission, result: ProbeResult) -> CompanyRun:
    """The claim went stale and was taken over while this process probed: the row keeps
    what the take-over wrote (planned if never clicked, else uncertain); the attempt is
    recorded all the same."""
    return CompanyRun(
        company.name,
        company.slug,
        "taken-over",
        f"claim taken over while probing ({result.outcome.value}); now {now_row.state.value}",
        state=now_row.state.value,
        skipped=True,
        channel=now_row.channel,
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
    row = store.wave_by_id(wave_id)
    if row.opened_at is None or at < row.opened_at:
        values: dict[str, Any] = {"opened_at": at}
        if row.close_at is None:
            values["close_at"] = _wave_close(ws, at)
        store.update_wave(wave_id, **values)
