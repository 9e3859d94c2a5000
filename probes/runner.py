"""ProbeSession: one browser per run, a fresh context per company, a ProbeResult per probe.

    async with ProbeSession(settings) as session:
        result = await session.probe(request)

``probe`` never raises for a site's failure: every outcome is data (STYLE 6). Steps:
open the start URL -> find the contact page -> dismiss cookie banners -> pick the form ->
roles -> CAPTCHA check -> fill -> read the values back -> screenshot -> (dry run stops) ->
before_submit() -> click -> verify -> evidence. Each step is its own module, a function
over the probe's state (``probes.state.Probe``): ``locate``, ``filling``, ``submit``,
``phone_retry``, ``evidence``; ``run_probe`` below is the sequence.

Public postings (comment, review, forum reply, guest book, share / send-to-a-friend
forms) are never filled or sent, whatever the overrides say. A form whose fields do not
hold what was meant after filling is never sent (``failed`` with the reason).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import async_playwright

from audit.errors import ProbeError
from audit.models import BrowserSettings, Outcome, ProbeRequest, ProbeResult, site_of
from probes import browser as br
from probes import evidence, fill, filling, locate, phone_retry, submit, verify
from probes.analyze import PageAnalysis
from probes.roles import POSTING_KINDS, FormView
from probes.state import InvalidSelector, Probe, short
from probes.submit import ASSIST_WAIT_S, MAX_CONFIRM_STEPS

log = logging.getLogger(__name__)

REOPEN_PAUSES_S = (1.0, 2.0, 4.0)  # a browser that went away is opened again, or given up
# The longest a company waits for the one started just before it to have its page loaded
# and its form found (``ProbeSession._take_turn``).
START_SPACING_S = 1.0


class ProbeSession:
    """One launched browser serving many probes (concurrently, one per site at a time)."""

    def __init__(
        self, settings: BrowserSettings, assist: bool = False, block_outside: bool = False
    ) -> None:
        self.settings = settings
        self.assist = assist
        self.block_outside = block_outside
        self.browser_version = ""
        self.browser_source = ""
        self._pw: Any = None
        self._browser: Any = None
        self._site_locks: dict[str, asyncio.Lock] = {}
        self._reopening: asyncio.Lock | None = None
        self._lost = False  # the browser stopped answering (see _still_there)
        # The next companies' contexts and blank pages, made while the companies in flight
        # are being filled (headless only: a visible browser would show an empty window).
        self._spares: list[asyncio.Future[tuple[Any, Any] | None]] = []
        self._in_flight = 0  # probes begun and not ended
        self._to_come: int | None = None  # probes the caller will still ask for (expect)
        self._started: asyncio.Event | None = None  # set once the last begun has its form

    async def __aenter__(self) -> ProbeSession:
        self._pw = await async_playwright().start()
        headless = self.settings.headless and not self.assist
        try:
            self._browser, info = await br.open_browser(
                self._pw, self.settings, headless=headless, block_outside=self.block_outside
            )
        except ProbeError:
            await self._pw.stop()
            raise
        self.browser_version = self._browser.version
        self.browser_source = info.source
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._drop_spares()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._browser.close(), 15)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._pw.stop(), 15)

    @property
    def connected(self) -> bool:
        return self._browser is not None and self._browser.is_connected() and not self._lost

    async def _still_there(self) -> bool:
        """Whether the browser still answers (a new context opens). A browser server that
        died does not always show as disconnected at once; this is asked only after a
        probe that did not end submitted, so a healthy run pays nothing for it."""
        if self.connected:
            try:
                context = await asyncio.wait_for(self._browser.new_context(), 30)
            except Exception as exc:
                log.warning("the browser does not answer: %s", short(exc))
            else:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(context.close(), 5)
                return True
        self._lost = True
        return False

    async def _reopen(self) -> None:
        """The browser went away (a browser server died, Chromium crashed): open it again
        (reconnect, or launch) before the next probe; ProbeError when it cannot be had."""
        self._reopening = self._reopening or asyncio.Lock()
        problem = ""
        async with self._reopening:
            await self._drop_spares()  # made by the browser that went away
            for pause in (0.0, *REOPEN_PAUSES_S):
                if self.connected:
                    return
                await asyncio.sleep(pause)
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._browser.close(), 5)
                try:
                    self._lost = False
                    self._browser, _info = await br.open_browser(
                        self._pw, self.settings,
                        headless=self.settings.headless and not self.assist,
                        block_outside=self.block_outside,
                    )  # fmt: skip
                    log.warning("the browser went away and was opened again")
                    return
                except ProbeError as exc:
                    self._lost = True
                    problem = str(exc)
            raise ProbeError(f"the browser went away and cannot be opened again: {problem}")

    def expect(self, companies: int) -> None:
        """The caller will ask for ``companies`` more probes (a hint: no spare context is
        made for a company that will not come; without it, one per company in flight)."""
        self._to_come = companies

    async def fresh_context(self) -> tuple[Any, Any]:
        """A fresh context and its blank page for the next company: a spare when there is
        one (``prepare_spare``; a ready one first), so starting Chromium's new renderer
        process (~0.1 s alone, ~0.3 s with four companies at once) is off the company's
        clock. Either way the context is new and unused: cookies and storage are never
        shared."""
        while self._spares:
            spare = next((f for f in self._spares if f.done()), self._spares[0])
            self._spares.remove(spare)
            made = await spare
            if made is not None:
                return made
        return await self._new_context(self._browser)

    def prepare_spare(self) -> None:
        """Begin contexts and pages for the companies that will follow the ones in flight:
        one per company in flight, ready or on its way (two that end together both find
        one), never more than the companies still to come (``expect``). Called when a
        company's filling starts: its browser work is then mostly done, and its typing
        leaves the machine room (begun with the navigation, the spare slowed it).
        Headless only: a visible browser would show an empty window. A blank context
        costs ~23 MB (PSS)."""
        if not self.settings.headless or self.assist:
            return
        wanted = self._in_flight if self._to_come is None else min(self._in_flight, self._to_come)
        while len(self._spares) < wanted:
            self._spares.append(asyncio.ensure_future(self._make_spare(self._browser)))

    async def _take_turn(self, found: asyncio.Event) -> None:
        """Companies start one after another: each once the company begun before it has
        its page loaded and its form found (its event is set then, or when its
        probe ends: ``found``), or after START_SPACING_S. Four page loads begun at one
        instant share the CPU and each takes about four times as long; the companies then
        stay in step (typing together, submitting together) for rounds. A company that
        starts while the last one is past its page waits for nothing."""
        before, self._started = self._started, found
        if before is not None and not before.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(before.wait(), START_SPACING_S)

    async def _new_context(self, browser: Any) -> tuple[Any, Any]:
        context = await browser.new_context(
            **br.context_options(self.settings, self.browser_version)
        )
        try:
            return context, await context.new_page()
        except BaseException:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(context.close(), 10)
            raise

    async def _make_spare(self, browser: Any) -> tuple[Any, Any] | None:
        """A spare, or None (the browser went away meanwhile: the taker makes its own)."""
        try:
            return await self._new_context(browser)
        except Exception as exc:
            log.debug("no spare context: %s", short(exc))
            return None

    async def _drop_spares(self) -> None:
        """The spares closed (the session ends, or its browser went away)."""
        spares, self._spares = self._spares, []
        if not spares:
            return
        # One still being made is not waited for (a dying browser may never answer); a
        # context the browser makes after that goes with the browser, which is closing.
        for spare in spares:
            spare.cancel()
        outcome: list[Any] = await asyncio.gather(*spares, return_exceptions=True)
        for made in outcome:
            if isinstance(made, tuple):
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(made[0].close(), 10)

    def _lock(self, url: str) -> asyncio.Lock:
        port = urlsplit(url).port  # one site = host and port, as pipeline._site_key has it
        site = f"{site_of(url) or url}:{port}" if port else site_of(url) or url
        return self._site_locks.setdefault(site, asyncio.Lock())

    async def probe(self, req: ProbeRequest) -> ProbeResult:
        """Find, fill, (submit,) verify one company's contact form. Never raises for a site."""
        result = ProbeResult(outcome=Outcome.ERROR, reason="not started")
        s = self.settings
        budget = s.timeout_s * 6 + s.min_fill_seconds + 90 + (ASSIST_WAIT_S if self.assist else 0)
        if not self.connected:
            await self._reopen()
        async with self._lock(req.company.start_url):
            job = Probe(self, req, result)
            self._in_flight += 1
            if self._to_come is not None:
                self._to_come = max(0, self._to_come - 1)
            try:
                await self._take_turn(job.found)
                await asyncio.wait_for(run_probe(job), budget)
            except TimeoutError:
                if result.clicked:
                    result.outcome = Outcome.UNCERTAIN
                    result.reason = f"timed out after the submit click (step {job.step})"
                else:
                    result.outcome = Outcome.TIMEOUT
                    result.reason = f"timed out after {budget:.0f} s at step {job.step}"
            except Exception as exc:
                log.exception("probe of %s failed", req.company.name)
                if result.clicked:
                    result.outcome = Outcome.UNCERTAIN
                    result.reason = f"error after the submit click: {short(exc)}"
                else:
                    result.outcome = Outcome.ERROR
                    result.reason = f"{job.step}: {short(exc)}"
            finally:
                job.found.set()
                self._in_flight -= 1
                step = job.step
                await job.close()
            settled = result.outcome in (Outcome.SUBMITTED, Outcome.FILLED)
            if not settled and not await self._still_there():
                # Whatever the probe made of a dying browser is no evidence: the caller ends
                # the submission by the lifecycle rule (clicked: uncertain; else planned).
                result.browser_lost = f"the browser went away during step {step}"
            if job.notes:
                result.reason = "; ".join(x for x in (result.reason, *job.notes) if x)
        log.info(
            "%s: %s %s", req.company.name, result.outcome.value, result.reason or result.signal
        )
        return result


# --- the probe: one step after another; a step that ends the probe sets its outcome ----
async def run_probe(p: Probe) -> None:
    if not await open_start(p):
        return
    p.mark("find")
    try:
        found = await locate.find_form(p)
    except InvalidSelector as exc:
        p.done(Outcome.ERROR, str(exc))
        return
    if found is None or not await may_fill(p, *found):
        return  # outcome already set
    analysis, view = found
    family = analysis.captcha_for(view)  # here only with --assist
    p.mark("fill")
    p.found.set()  # the next company may start
    p.session.prepare_spare()
    filled = await fill_and_check(p, analysis, view)
    if filled is None:
        return
    analysis, view = filled
    p.mark("screenshot")
    await evidence.screenshot(p, "screenshot_before", "screenshot_before.png")
    evidence.save_values(p)
    if not p.req.submit and not (family and p.session.assist):
        await evidence.save_html(p)
        n = sum(1 for x in p.filled.values() if x.kind != "skip")
        p.done(Outcome.FILLED, f"dry run: {n} field(s) filled, not sent")
        return
    p.mark("submit")
    before = await submit.form_state(p, analysis, view) or {}
    if not await send(p, analysis, view, family):
        return
    p.mark("verify")
    await verify_sent(p, analysis, view, before)
    p.mark("evidence")  # the viewport and the page's HTML of one moment, taken together
    await asyncio.gather(
        evidence.screenshot(p, "screenshot_after", "screenshot_after.png"), evidence.save_html(p)
    )
    evidence.save_request(p)


async def open_start(p: Probe) -> bool:
    """A fresh context (network capture attached) on the company's start page (its
    homepage when the contact URL cannot be reached). False: unreachable."""
    s, req = p.settings, p.req
    p.evidence_dir.mkdir(parents=True, exist_ok=True)
    p.mark("open")
    p.context, p.page = await p.session.fresh_context()
    p.context.set_default_timeout(s.timeout_s * 1000)
    p.context.set_default_navigation_timeout(s.timeout_s * 1000)
    if p.session.block_outside or s.block_resources:
        await p.context.route("**/*", p.route)
    p.context.on("request", p.capture.on_request)
    p.context.on("response", p.capture.on_response)
    p.context.on("requestfailed", p.capture.on_failed)
    p.net.attach(p.context)
    err = await locate.goto(p, req.company.start_url)
    if err and req.company.contact_url and req.company.homepage:
        err = await locate.goto(p, req.company.homepage)
    if err:
        p.done(Outcome.UNREACHABLE, err)
        return False
    return True


async def may_fill(p: Probe, analysis: PageAnalysis, view: FormView) -> bool:
    """False (the outcome set) for a form never to be filled: a public posting, one that
    would be sent without TLS, one with a CAPTCHA (unless --assist)."""
    p.form_shot = analysis.frame_of(view).locator(fill.selector_for(view.ref)).first
    p.result.url = p.page.url
    if view.kind in POSTING_KINDS:  # an override named it: a public posting is never sent
        p.done(Outcome.FAILED, f"public posting form ({view.kind}): never sent")
        return False
    filling.report_fields(p, view)
    insecure = verify.insecure_target(
        str(view.raw.get("frame_url") or p.page.url), view.raw.get("action")
    )
    if insecure:  # Chromium would stop it with its "not secure" warning: never sent
        await evidence.screenshot(p, "screenshot_before", "screenshot_before.png")
        await evidence.save_html(p)
        evidence.save_json(
            p,
            "insecure_form",
            "insecure_form.json",
            {"page": p.page.url, "action": insecure, "sent": False,
             "why": verify.INSECURE_FORM_REASON},
        )  # fmt: skip
        p.done(Outcome.FAILED, verify.INSECURE_FORM_REASON)
        return False
    family = analysis.captcha_for(view)
    if family and not p.session.assist:
        await evidence.screenshot(p, "screenshot_before", "screenshot_before.png")
        await evidence.save_html(p)
        p.done(Outcome.CAPTCHA, f"captcha: {family}")
        return False
    return True


async def fill_and_check(
    p: Probe, analysis: PageAnalysis, view: FormView
) -> tuple[PageAnalysis, FormView] | None:
    """The form filled, every value read back, and min_fill_seconds spent; None (the
    outcome set) when it must not be sent."""
    fill_started = time.monotonic()
    try:
        view, analysis = await filling.fill_form(p, analysis, view)
    except fill.Unanswerable as exc:
        await evidence.screenshot(p, "screenshot_before", "screenshot_before.png")
        p.done(Outcome.FAILED, str(exc))
        evidence.save_values(p)
        return None
    except InvalidSelector as exc:
        p.done(Outcome.ERROR, str(exc))
        return None
    problem = await filling.read_back(p, analysis, view)
    if problem:
        await evidence.screenshot(p, "screenshot_before", "screenshot_before.png")
        evidence.save_values(p)
        p.done(Outcome.FAILED, f"not sent: {problem}")
        return None
    wait = p.settings.min_fill_seconds - (time.monotonic() - fill_started)
    if wait > 0:
        await asyncio.sleep(wait)
    return analysis, view


async def send(p: Probe, analysis: PageAnalysis, view: FormView, family: str | None) -> bool:
    """Click the submit control (with --assist and a CAPTCHA: wait for the consultant to
    submit). False (the outcome set) when nothing was sent."""
    if family and p.session.assist:
        await submit.assist_wait(p, analysis, view)
        if not p.capture.sent:
            p.result.clicked, p.result.submitted_at = False, None
            p.done(Outcome.CAPTCHA, f"captcha: {family} (not completed by hand)")
            await evidence.screenshot(p, "screenshot_after", "screenshot_after.png")
            return False
        return True
    return await submit.click_submit(p, analysis, view)


async def verify_sent(
    p: Probe, analysis: PageAnalysis, view: FormView, before: dict[str, Any]
) -> None:
    """The verdict after the click; then a confirmation screen's button, a phone
    refused for its format, and a note when our values left more than once."""
    await submit.await_verdict(p, analysis, view, before)
    for _ in range(MAX_CONFIRM_STEPS):
        if not await submit.confirm_step(p, view):
            break
    if p.result.outcome is Outcome.VALIDATION_ERROR:
        await phone_retry.retry_phone(p, view)
    sends = [x for x in p.capture.carrying() if x.navigation or x.method != "GET"]
    if len(sends) > 1:
        p.note(f"our values left the browser {len(sends)} times")
