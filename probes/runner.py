"""ProbeSession: one browser per run, a fresh context per company, a ProbeResult per probe.

    async with ProbeSession(settings) as session:
        result = await session.probe(request)

``probe`` never raises for a site's failure: every outcome is data (STYLE 6). Steps:
open the start URL -> find the contact page -> dismiss cookie banners -> pick the form ->
roles -> CAPTCHA check -> fill -> read the values back -> screenshot -> (dry run stops) ->
before_submit() -> click -> verify -> evidence.

Public postings (comment, review, forum reply, guest book, share / send-to-a-friend
forms) are never filled or sent, whatever the overrides say. A form whose fields do not
hold what was meant after filling is never sent (``failed`` with the reason).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import async_playwright

from audit.errors import ProbeError
from audit.models import (
    BrowserSettings,
    Evidence,
    FieldReport,
    Outcome,
    ProbeRequest,
    ProbeResult,
    site_of,
)
from probes import browser as br
from probes import discover, fill, roles, verify
from probes import lexicon as lx
from probes.analyze import NetActivity, PageAnalysis, analyze_page, evaluate, wait_for_form
from probes.roles import POSTING_KINDS, ROLES, FormView

log = logging.getLogger(__name__)

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
TRACKER_HOSTS = (
    "google-analytics.com",
    "googletagmanager.com",
    "doubleclick.net",
    "facebook.net",
    "connect.facebook.net",
    "hotjar.com",
    "clarity.ms",
    "mixpanel.com",
    "segment.io",
    "adservice.google.com",
)
MAX_STEPS = 6  # multi-step forms
MAX_CONFIRM_STEPS = 2  # "check your entries" screens after the first submit click
MAX_PASSES = 3  # conditional fields that appear after a choice
MAX_REVEAL_CLICKS = 3  # nested panels: an accordion inside a tab inside a modal
REVEAL_POLLS = 6  # looks, 0.25 s apart, for the opened panel (animations take ~0.35 s)
ASSIST_WAIT_S = 600.0
REOPEN_PAUSES_S = (1.0, 2.0, 4.0)  # a browser that went away is opened again, or given up


class _Invalid(Exception):
    """An override selector that is not valid CSS."""


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
                log.warning("the browser does not answer: %s", _short(exc))
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
            job = _Probe(self, req, result)
            try:
                await asyncio.wait_for(job.run(), budget)
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
                    result.reason = f"error after the submit click: {_short(exc)}"
                else:
                    result.outcome = Outcome.ERROR
                    result.reason = f"{job.step}: {_short(exc)}"
            finally:
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


class _Probe:
    """The state of one probe: its context, page, network capture and timings."""

    def __init__(self, session: ProbeSession, req: ProbeRequest, result: ProbeResult) -> None:
        self.session = session
        self.settings = session.settings
        self.req = req
        self.result = result
        self.step = "start"
        self.context: Any = None
        self.page: Any = None
        self.capture = verify.Capture()
        self.net = NetActivity()
        self.t0 = time.monotonic()
        self.t_step = self.t0
        self.evidence_dir = Path(req.evidence_dir)
        self.filled: dict[str, fill.Planned] = {}
        self.reports: dict[str, FieldReport] = {}
        self.notes: list[str] = []  # how values were fitted to fields, double sends, ...
        self.postings: set[str] = set()  # public-posting form kinds seen and left alone
        self.stepped = False  # a "Next" was pressed (earlier steps may leave the DOM)
        self.form_shot: Any = None  # the form's locator: the filled-form screenshot
        self.capture.ours.add_email(req.reply_address)
        self.capture.ours.add_email(req.fallback_address)
        self.capture.ours.add_message(req.message)

    # --- plumbing --------------------------------------------------------------------
    def mark(self, step: str) -> None:
        now = time.monotonic()
        self.result.timings[self.step] = round(
            self.result.timings.get(self.step, 0) + now - self.t_step, 3
        )
        self.step, self.t_step = step, now

    def now(self) -> datetime:
        return self.req.now() if self.req.now else datetime.now(UTC)

    def done(self, outcome: Outcome, reason: str = "", signal: str | None = None) -> None:
        self.result.outcome, self.result.reason, self.result.signal = outcome, reason, signal

    def note(self, text: str | None) -> None:
        if text and text not in self.notes:
            self.notes.append(text)

    async def close(self) -> None:
        self.mark("end")
        self.result.timings.pop("end", None)
        self.result.timings["total"] = round(time.monotonic() - self.t0, 3)
        if self.context is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.context.close(), 10)

    async def _route(self, route: Any) -> None:
        request = route.request
        url = request.url
        host = (urlsplit(url).hostname or "").lower()
        if url.startswith(("data:", "blob:", "about:")):
            await route.continue_()
            return
        if self.session.block_outside and host not in LOCAL_HOSTS:
            await route.abort("blockedbyclient")
            return
        if self.settings.block_resources and (
            request.resource_type in ("media", "font")
            or any(host == t or host.endswith("." + t) for t in TRACKER_HOSTS)
        ):
            await route.abort("blockedbyclient")
            return
        await route.continue_()

    def _evidence(self, kind: str, name: str) -> Path:
        path = self.evidence_dir / name
        rel = Path(path)
        with contextlib.suppress(ValueError):
            rel = path.resolve().relative_to(Path(self.req.workspace).resolve())
        self.result.evidence = [e for e in self.result.evidence if e.kind != kind]
        self.result.evidence.append(Evidence(kind, str(rel)))
        return path

    async def screenshot(self, kind: str, name: str) -> None:
        """PNG evidence at the cost it deserves (bench/bench_evidence.py): the filled form
        itself for ``screenshot_before`` (every field, readable, whatever the page's
        length), else what the visitor sees (the viewport). A full-page shot of a long
        page costs ~9x the CPU and ~15x the bytes; the page's whole text is kept in
        page.html."""
        path = str(self._evidence(kind, name))
        if kind == "screenshot_before" and self.form_shot is not None:
            try:
                await self.form_shot.screenshot(path=path, timeout=5000)
                return
            except Exception as exc:  # gone, hidden, zero-size: the viewport instead
                log.debug("form screenshot failed: %s", exc)
        try:
            await self.page.screenshot(path=path, timeout=15000)
        except Exception as exc:
            log.debug("screenshot %s failed: %s", name, exc)
            self.result.evidence = [e for e in self.result.evidence if e.kind != kind]

    async def save_html(self) -> None:
        try:
            html = await asyncio.wait_for(self.page.content(), 10)
            self._evidence("page_html", "page.html").write_text(html, encoding="utf-8")
        except Exception as exc:
            log.debug("page.html failed: %s", exc)

    def save_json(self, kind: str, name: str, data: Any) -> None:
        self._evidence(kind, name).write_text(
            json.dumps(data, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
        )

    # --- the probe -------------------------------------------------------------------
    async def run(self) -> None:
        s, req = self.settings, self.req
        self.evidence_dir.mkdir(parents=True, exist_ok=True)
        self.mark("open")
        self.context = await self.session._browser.new_context(
            **br.context_options(s, self.session.browser_version)
        )
        self.context.set_default_timeout(s.timeout_s * 1000)
        self.context.set_default_navigation_timeout(s.timeout_s * 1000)
        if self.session.block_outside or s.block_resources:
            await self.context.route("**/*", self._route)
        self.context.on("request", self.capture.on_request)
        self.context.on("response", self.capture.on_response)
        self.context.on("requestfailed", self.capture.on_failed)
        self.net.attach(self.context)
        self.page = await self.context.new_page()
        start = req.company.start_url
        err = await self.goto(start)
        if err and req.company.contact_url and req.company.homepage:
            err = await self.goto(req.company.homepage)
        if err:
            self.done(Outcome.UNREACHABLE, err)
            return
        self.mark("find")
        try:
            found = await self.find_form()
        except _Invalid as exc:
            self.done(Outcome.ERROR, str(exc))
            return
        if found is None:
            return  # outcome already set
        analysis, view = found
        self.form_shot = analysis.frame_of(view).locator(fill.selector_for(view.ref)).first
        self.result.url = self.page.url
        if view.kind in POSTING_KINDS:  # an override named it: a public posting is never sent
            self.done(Outcome.FAILED, f"public posting form ({view.kind}): never sent")
            return
        self.report_fields(view)
        insecure = verify.insecure_target(
            str(view.raw.get("frame_url") or self.page.url), view.raw.get("action")
        )
        if insecure:  # Chromium would stop it with its "not secure" warning: never sent
            await self.screenshot("screenshot_before", "screenshot_before.png")
            await self.save_html()
            self.save_json(
                "insecure_form",
                "insecure_form.json",
                {"page": self.page.url, "action": insecure, "sent": False,
                 "why": verify.INSECURE_FORM_REASON},
            )  # fmt: skip
            self.done(Outcome.FAILED, verify.INSECURE_FORM_REASON)
            return
        family = analysis.captcha_for(view)
        if family and not self.session.assist:
            await self.screenshot("screenshot_before", "screenshot_before.png")
            await self.save_html()
            self.done(Outcome.CAPTCHA, f"captcha: {family}")
            return
        self.mark("fill")
        fill_started = time.monotonic()
        try:
            view, analysis = await self.fill_form(analysis, view)
        except fill.Unanswerable as exc:
            await self.screenshot("screenshot_before", "screenshot_before.png")
            self.done(Outcome.FAILED, str(exc))
            self.save_values()
            return
        except _Invalid as exc:
            self.done(Outcome.ERROR, str(exc))
            return
        problem = await self.read_back(analysis, view)
        if problem:
            await self.screenshot("screenshot_before", "screenshot_before.png")
            self.save_values()
            self.done(Outcome.FAILED, f"not sent: {problem}")
            return
        wait = s.min_fill_seconds - (time.monotonic() - fill_started)
        if wait > 0:
            await asyncio.sleep(wait)
        self.mark("screenshot")
        await self.screenshot("screenshot_before", "screenshot_before.png")
        self.save_values()
        if not req.submit and not (family and self.session.assist):
            await self.save_html()
            n = sum(1 for p in self.filled.values() if p.kind != "skip")
            self.done(Outcome.FILLED, f"dry run: {n} field(s) filled, not sent")
            return
        self.mark("submit")
        before = await self.state(analysis, view) or {}
        if family and self.session.assist:
            await self.assist_wait(analysis, view)
            if not self.capture.sent:
                self.result.clicked, self.result.submitted_at = False, None
                self.done(Outcome.CAPTCHA, f"captcha: {family} (not completed by hand)")
                await self.screenshot("screenshot_after", "screenshot_after.png")
                return
        else:
            clicked = await self.click_submit(analysis, view)
            if not clicked:
                return
        self.mark("verify")
        await self.verify(analysis, view, before)
        for _ in range(MAX_CONFIRM_STEPS):
            if not await self.confirm_step(view):
                break
        if self.result.outcome is Outcome.VALIDATION_ERROR:
            await self.retry_phone(view)
        sends = [x for x in self.capture.carrying() if x.navigation or x.method != "GET"]
        if len(sends) > 1:
            self.note(f"our values left the browser {len(sends)} times")
        self.mark("evidence")
        await self.screenshot("screenshot_after", "screenshot_after.png")
        await self.save_html()
        self.save_request()

    async def goto(self, url: str) -> str | None:
        """Open a URL; the reason it cannot be reached, or None."""
        try:
            resp = await self.page.goto(url, wait_until="domcontentloaded")
        except Exception as exc:
            msg = str(exc)
            m = re.search(r"net::ERR_[A-Z_]+", msg)
            if "Timeout" in msg and not m:
                return f"cannot reach {url}: timed out after {self.settings.timeout_s:.0f} s"
            return f"cannot reach {url}: {m.group(0) if m else _short(exc)}"
        if resp is not None and resp.status >= 400:
            return f"cannot reach {url}: HTTP {resp.status}"
        with contextlib.suppress(Exception):
            await self.page.wait_for_load_state(
                "load", timeout=min(5000, self.settings.timeout_s * 1000)
            )
        return None

    async def dismiss_cookies(self) -> None:
        words = [lx.normalize(w) for w in lx.COOKIE_ACCEPT_WORDS]
        try:
            clicked = await evaluate(self.page.main_frame, {"op": "cookies", "words": words})
        except Exception as exc:
            log.debug("cookie banner: %s", exc)
            return
        if clicked:
            log.debug("cookie banner dismissed with %r", clicked)
            self.result.timings.setdefault("cookie_banner", 0.0)
            with contextlib.suppress(Exception):
                await self.page.wait_for_timeout(300)

    async def analyze_here(self) -> tuple[PageAnalysis, FormView | None]:
        """Analyse the current page, waiting while a script may still render a form; a
        contact form in a closed tab, accordion, modal or <details> (or none at all, but
        a "Contact us" control that opens one) is opened first."""
        analysis, view = await wait_for_form(self.page, self.override_form, self.net)
        self.postings |= {v.kind for v in analysis.views if v.kind in POSTING_KINDS}
        if view is None or roles.needs_reveal(view):
            analysis, view = await self.reveal(analysis, view)
        return analysis, view

    async def reveal(
        self, analysis: PageAnalysis, view: FormView | None
    ) -> tuple[PageAnalysis, FormView | None]:
        """Click the control that opens the hidden contact form (the tab, accordion header,
        modal button or <summary> wired to its wrapper, else a control that says "contact"),
        then look again. Never a control about another kind of form, never a submit button
        or a link to another page. Returns the hidden view unchanged when nothing opened it
        (read_back then refuses to send it)."""
        frame = analysis.frame_of(view) if view is not None else self.page.main_frame
        tried: set[str] = set()
        for _ in range(MAX_REVEAL_CLICKS):
            try:
                raw = await evaluate(frame, {"op": "reveal", "form": view.ref if view else None})
            except Exception as exc:
                log.debug("reveal: %s", exc)
                break
            picks = [
                c
                for c in roles.reveal_controls(raw or [], view is not None)
                if c["ref"] not in tried
            ]
            if not picks:
                break
            control = picks[0]
            tried.add(control["ref"])
            try:
                await frame.locator(fill.selector_for(control["ref"])).first.click(timeout=3000)
            except Exception as exc:
                log.debug("reveal click %s: %s", control.get("text"), exc)
                continue
            what = control.get("text") or control.get("aria") or control.get("tag")
            again = analysis
            for _ in range(REVEAL_POLLS):
                await asyncio.sleep(0.25)
                try:
                    again = await analyze_page(self.page)
                except Exception as exc:
                    log.debug("reveal: %s", exc)
                    continue
                same = next((v for v in again.views if view and v.ref == view.ref), None)
                found = same or (await self.override_form(again))
                if found is not None and found.kind in POSTING_KINDS:
                    found = None
                if found is not None and not roles.needs_reveal(found):
                    self.note(f"form opened by clicking {str(what)[:40]!r} ({control['how']})")
                    return again, found
            analysis = again if view is None else analysis
        if view is not None:
            self.note("the contact form is hidden and no control on the page opened it")
        return analysis, view

    async def override_form(self, analysis: PageAnalysis) -> FormView | None:
        sel = self.req.company.overrides.form
        if not sel:
            return analysis.contact
        refs = [v.ref for v in analysis.views]
        for frame in self.page.frames:
            try:
                ref = await frame.evaluate(
                    """([sel, refs]) => {
                        const el = document.querySelector(sel);
                        if (!el) return null;
                        let n = el;
                        while (n) {
                          const r = n.getAttribute && n.getAttribute('data-ca-id');
                          if (r && refs.includes(r)) return r;
                          n = n.parentElement;
                        }
                        for (const r of refs) if (el.querySelector('[data-ca-id="' + r + '"]')) return r;
                        return null;
                    }""",
                    [sel, refs],
                )
            except Exception as exc:
                if "SyntaxError" in str(exc) or "not a valid selector" in str(exc):
                    raise _Invalid(f"invalid selector {sel!r} in overrides") from exc
                continue
            if ref:
                return next(v for v in analysis.views if v.ref == ref)
        return None

    async def find_form(self) -> tuple[PageAnalysis, FormView] | None:
        s, req = self.settings, self.req
        await self.dismiss_cookies()
        analysis, view = await self.analyze_here()
        if view is not None:
            return analysis, view
        seen = {self.page.url.split("#")[0]}
        tried: list[str] = []

        async def try_url(url: str) -> tuple[PageAnalysis, FormView] | None:
            if url.split("#")[0] in seen:
                return None
            seen.add(url.split("#")[0])
            tried.append(url)
            if await self.goto(url):
                return None
            await self.dismiss_cookies()
            a, v = await self.analyze_here()
            return (a, v) if v is not None else None

        links = []
        with contextlib.suppress(Exception):
            links = await evaluate(self.page.main_frame, {"op": "links"})
        for url in discover.link_candidates(links or [], self.page.url, seen):
            hit = await try_url(url)
            if hit:
                return hit
        start = req.company.homepage or req.company.start_url
        for url in await discover.sitemap_candidates(start, s, self.session.block_outside):
            hit = await try_url(url)
            if hit:
                return hit
        common = [u for u in discover.common_paths(start) if u.split("#")[0] not in seen]
        for url in await discover.existing(common, s, self.session.block_outside):
            hit = await try_url(url)
            if hit:
                return hit
        if req.company.overrides.form:
            reason = f"override form {req.company.overrides.form!r} not found"
        else:
            reason = f"no contact form found ({1 + len(tried)} page(s) tried)"
        if any(v.kind == "login" for v in analysis.views) and not analysis.contact:
            reason += "; a login form was found"
        if self.postings:
            kinds = ", ".join(sorted(self.postings))
            reason += f"; public posting form ({kinds}) left alone: never sent"
        self.done(Outcome.NO_FORM, reason)
        with contextlib.suppress(Exception):
            await self.page.goto(req.company.start_url, wait_until="domcontentloaded")
        await self.screenshot("screenshot_before", "screenshot_before.png")
        return None

    # --- overrides and reports -------------------------------------------------------
    async def resolve(self, analysis: PageAnalysis, view: FormView, sel: str) -> str | None:
        """The data-ca-id of the element an override selector names (in the form's frame)."""
        frame = analysis.frame_of(view)
        try:
            loc = frame.locator(sel).first
            if await loc.count() == 0:
                return None
            ref = await loc.get_attribute("data-ca-id", timeout=2000)
            if ref is None:
                await loc.evaluate(
                    "(el) => el.setAttribute('data-ca-id', 'ovr-' + Math.random().toString(36).slice(2))"
                )
                ref = await loc.get_attribute("data-ca-id", timeout=2000)
            return ref
        except Exception as exc:
            if "selector" in str(exc).lower() and ("valid" in str(exc) or "parse" in str(exc)):
                raise _Invalid(f"invalid selector {sel!r} in overrides") from exc
            raise

    def report_fields(self, view: FormView) -> None:
        for f in view.fields:
            if f["role"] == "hidden":
                continue
            if f["ref"] not in self.reports:
                self.reports[f["ref"]] = FieldReport(
                    name=f.get("name"), role=f["role"], selector=_css_for(f)
                )
            else:
                self.reports[f["ref"]].role = f["role"]
        self.result.fields = list(self.reports.values())

    def save_values(self) -> None:
        self.save_json(
            "values",
            "values.json",
            [
                {"name": r.name, "role": r.role, "selector": r.selector, "value_sent": r.value_sent}
                for r in self.result.fields
            ],
        )

    # --- filling ---------------------------------------------------------------------
    async def fill_form(
        self, analysis: PageAnalysis, view: FormView
    ) -> tuple[FormView, PageAnalysis]:
        ov = self.req.company.overrides
        forced_roles: dict[str, str] = {}
        for sel, role in ov.fields.items():
            ref = await self.resolve(analysis, view, sel)
            if ref:
                forced_roles[ref] = role
        forced_values: dict[str, str] = {}
        role_values: dict[str, str] = {}
        for key, value in ov.values.items():
            if key in _ROLE_NAMES or key in _DETAIL_NAMES:
                role_values[key] = value
                continue
            ref = await self.resolve(analysis, view, key)
            if ref:
                forced_values[ref] = value
        self._forced = (forced_roles, forced_values, role_values)
        for step in range(MAX_STEPS):
            for _ in range(MAX_PASSES):
                changed = await self.fill_visible(analysis, view)
                if not changed:  # nothing done since the last look: it still holds
                    break
                analysis, view = await self.reanalyze(view)
            submit = self.submit_button(view)
            nxt = [b for b in view.buttons if b["role"] == "next" and b.get("visible")]
            if submit is not None or not nxt or step == MAX_STEPS - 1:
                break
            frame = analysis.frame_of(view)
            self.stepped = True
            await frame.locator(fill.selector_for(nxt[0]["ref"])).first.click(timeout=4000)
            await asyncio.sleep(0.4)
            analysis, view = await self.reanalyze(view)
        self.force_roles(view)
        return view, analysis

    def force_roles(self, view: FormView) -> None:
        """Roles named by the company's overrides win over the heuristics."""
        forced_roles = self._forced[0]
        for f in view.fields:
            if f["ref"] in forced_roles:
                f["role"], f["detail"] = forced_roles[f["ref"]], None
        self.report_fields(view)

    async def reanalyze(self, view: FormView) -> tuple[PageAnalysis, FormView]:
        analysis = await analyze_page(self.page)
        same = next((v for v in analysis.views if v.ref == view.ref), None)
        if same is None:
            return analysis, view
        return analysis, same

    async def fill_visible(self, analysis: PageAnalysis, view: FormView) -> bool:
        """Fill every visible field not filled yet; True when something was filled."""
        forced_roles, forced_values, role_values = self._forced
        frame = analysis.frame_of(view)
        email_fallback = False
        changed = False
        self.force_roles(view)
        foreign = roles.foreign_fields(view, self.submit_button(view)) - set(forced_values)
        for f in view.fields:
            ref = f["ref"]
            if ref in foreign and ref not in self.filled:
                self.filled[ref] = fill.Planned("skip")
                self.note("fields of another box on the same page-wide form left empty")
                continue
            if f.get("readonly") and f.get("visible") and ref not in self.filled:
                f["readonly"] = await _still_readonly(frame, ref, f)
            if ref in self.filled or not f.get("visible") or f.get("disabled") or f.get("readonly"):
                if f["role"] == "other" and f.get("detail") == "upload" and f.get("required"):
                    raise fill.Unanswerable("upload required")
                continue
            override = forced_values.get(ref)
            if override is None:
                override = role_values.get(f["role"]) or role_values.get(f.get("detail") or "")
            plan = fill.plan_value(f, self.req, override, email_fallback)
            self.filled[ref] = plan
            if plan.kind == "skip":
                continue
            self.note(plan.note)
            if f["role"] == "message" and plan.value:
                self.capture.ours.add_message(plan.value)
            changed = True
            report = self.reports.get(ref)
            if plan.kind == "text" and plan.value is not None:
                if (f.get("type") or "") == "checkbox":
                    continue
                await fill.type_text(
                    self.page, frame, ref, plan.value, self.settings, not self.session.assist
                )
                if f["role"] == "email" and "+" in plan.value:
                    ok = await frame.locator(fill.selector_for(ref)).first.evaluate(
                        "(el) => el.checkValidity ? el.checkValidity() : true"
                    )
                    if not ok:
                        plan = fill.plan_value(f, self.req, None, email_fallback=True)
                        self.filled[ref] = plan
                        await fill.type_text(
                            self.page,
                            frame,
                            ref,
                            plan.value or "",
                            self.settings,
                            not self.session.assist,
                        )
                sent = await frame.locator(fill.selector_for(ref)).first.evaluate(
                    "(el) => el.value"
                )
                if report:
                    report.value_sent = sent
            elif plan.kind in ("check", "uncheck"):
                await fill.set_checked(frame, ref, plan.kind == "check")
                if report:
                    report.value_sent = "checked" if plan.kind == "check" else None
            elif plan.kind == "select" and plan.value is not None:
                await fill.select_value(frame, ref, plan.value)
                if report:
                    report.value_sent = plan.shown
            elif plan.kind == "radio" and plan.value:
                await fill.set_checked(frame, plan.value, True)
                if report:
                    report.value_sent = plan.shown
            await fill.pause(self.settings)
        return changed

    async def read_back(self, analysis: PageAnalysis, view: FormView) -> str | None:
        """Why the form must not be sent (a field does not hold what was meant, or none of
        our values is in it), else None. A field that refuses the plus address gets the
        catch-all form once."""
        frame = analysis.frame_of(view)
        fields = {f["ref"]: f for f in view.fields}
        ours = 0
        for ref, plan in list(self.filled.items()):
            f = fields.get(ref)
            if f is None or plan.kind == "skip":
                continue
            actual = await _read(frame, plan.value if plan.kind == "radio" else ref)
            if actual is _GONE:
                continue
            problem = fill.readback_problem(f, plan, actual)
            if problem and f["role"] == "email" and plan.value != self.req.fallback_address:
                retry = fill.plan_value(f, self.req, None, email_fallback=True)
                if retry.kind == "text" and retry.value:
                    await fill.type_text(
                        self.page, frame, ref, retry.value, self.settings, not self.session.assist
                    )
                    actual = await _read(frame, ref)
                    if fill.readback_problem(f, retry, actual) is None:
                        self.filled[ref], problem = retry, None
                        self.note(f"reply address in its catch-all form ({problem_short(f)})")
            if problem:
                return problem
            if ref in self.reports and plan.kind == "text":
                self.reports[ref].value_sent = str(actual)
            if f["role"] in ("email", "message") and plan.kind == "text":
                ours += 1
        wanted = [f for f in view.fields if f["role"] in ("email", "message")]
        if wanted and not ours and not self.stepped:
            return (
                "none of our values is in the form (its e-mail and message fields are "
                "hidden or could not be typed in)"
            )
        return None

    def submit_button(self, view: FormView) -> dict[str, Any] | None:
        return roles.choose_submit(view)

    # --- submitting and verifying ----------------------------------------------------
    async def state(self, analysis: PageAnalysis, view: FormView) -> dict[str, Any] | None:
        frame = analysis.frame_of(view)
        for fr in (frame, self.page.main_frame):
            try:
                st = await evaluate(fr, {"op": "state", "form": view.ref}, 5)
            except Exception:
                continue
            if fr is not frame:
                st["form_present"] = st["form_visible"] = False
            if fr is not self.page.main_frame:
                with contextlib.suppress(Exception):
                    main = await evaluate(self.page.main_frame, {"op": "state", "form": None}, 5)
                    st["text"] = f"{main.get('text', '')}\n{st.get('text', '')}"
                    st["url"] = main.get("url")
            return st
        return None

    async def click_submit(self, analysis: PageAnalysis, view: FormView) -> bool:
        frame = analysis.frame_of(view)
        ov = self.req.company.overrides
        target: str | None = None
        if ov.submit:
            target = await self.resolve(analysis, view, ov.submit)
            if target is None:
                self.done(Outcome.ERROR, f"override submit {ov.submit!r} not found")
                return False
        else:
            b = self.submit_button(view)
            target = b["ref"] if b else None
        if self.capture.early:
            first = self.capture.early[0]
            self.done(
                Outcome.UNCERTAIN,
                f"the form was sent while it was being filled ({first.method} {first.url}); "
                "the submit control was not activated",
            )
            return False
        self.capture.arm()
        self.req.before_submit()
        self.result.clicked = True
        self.result.submitted_at = self.now()
        try:
            if target is not None:
                loc = frame.locator(fill.selector_for(target)).first
                try:
                    await loc.click(timeout=5000)
                except Exception:
                    await loc.evaluate("(el) => el.click()")
            else:  # no button: what Enter would do
                await frame.locator(fill.selector_for(view.ref)).first.evaluate(
                    "(f) => f.requestSubmit ? f.requestSubmit() : f.submit()"
                )
        except Exception as exc:
            if not self.capture.sent:
                self.result.clicked = False
                self.result.submitted_at = None
                self.done(Outcome.ERROR, f"cannot activate the submit control: {_short(exc)}")
                return False
        return True

    async def confirm_step(self, view: FormView) -> bool:
        """A confirmation screen ("please check your entries", common in Japan): nothing
        has left the browser and the same form now shows another submit control. Press it
        like a careful person would, and verify again. True when it was pressed."""
        if self.session.assist or self.capture.sent or self.result.outcome is not Outcome.UNCERTAIN:
            return False
        clicked_before = {
            b["ref"] for b in view.buttons if b["role"] == "submit" and b.get("visible")
        }
        try:
            analysis = await analyze_page(self.page)
        except Exception as exc:
            log.debug("confirm step: %s", exc)
            return False
        again = next((v for v in analysis.views if v.ref == view.ref), analysis.contact)
        if again is None:
            return False
        button = self.submit_button(again)
        if button is None or button["ref"] in clicked_before:
            return False
        before = await self.state(analysis, again) or {}
        self.capture.arm()
        try:
            await (
                analysis.frame_of(again)
                .locator(fill.selector_for(button["ref"]))
                .first.click(timeout=5000)
            )
        except Exception as exc:
            log.debug("confirm step click: %s", exc)
            return False
        self.result.submitted_at = self.now()
        await self.verify(analysis, again, before)
        if self.result.outcome is Outcome.SUBMITTED:
            self.result.signal = f"{self.result.signal} (after a confirmation step)"
        return True

    # --- class 8: a phone refused for its format ---------------------------------------
    async def phone_refused(
        self, phone_name: str, view: FormView
    ) -> tuple[PageAnalysis, FormView, dict[str, Any]] | None:
        """After a refusal: (analysis, the form as it is now, its phone field) when the
        server's answer definitely names the phone field and nothing else, else None.
        Never after an answer that may have been an acceptance (one request carrying our
        values, a status, the verdict a validation error)."""
        sub = self.capture.submit_request()
        sends = [x for x in self.capture.carrying() if x.navigation or x.method != "GET"]
        if (
            self.result.outcome is not Outcome.VALIDATION_ERROR
            or sub is None
            or not sub.carries
            or sub.status is None
            or len(sends) != 1
        ):
            return None
        try:
            analysis = await analyze_page(self.page)
        except Exception as exc:
            log.debug("phone retry: %s", exc)
            return None
        now = next((v for v in analysis.views if v.ref == view.ref), None)
        if now is None:  # a new page: the same form by its field names
            names = {f.get("name") for f in view.fields if f.get("name")}
            now = next(
                (v for v in analysis.views if names <= {f.get("name") for f in v.fields}), None
            )
        if now is None or analysis.captcha_for(now):
            return None
        phones = [f for f in now.fields if f.get("name") == phone_name and f.get("visible")]
        if len(phones) != 1:
            return None
        try:
            marked = await evaluate(analysis.frame_of(now), {"op": "rejected", "form": now.ref})
        except Exception as exc:
            log.debug("phone retry: %s", exc)
            return None
        keys = verify.rejected_keys(sub.body)
        if not verify.only_these_rejected(keys, marked or [], now.fields, {phones[0]["ref"]}):
            return None
        return analysis, now, phones[0]

    async def others_hold(self, analysis: PageAnalysis, now: FormView, old: FormView) -> str | None:
        """Why the form as it came back may not be sent again (a field we filled lost its
        value or is gone), else None: only the phone is typed again."""
        frame = analysis.frame_of(now)
        by_name = {f.get("name"): f for f in now.fields if f.get("name")}
        for f in old.fields:
            plan = self.filled.get(f["ref"])
            if plan is None or plan.kind == "skip" or f["role"] == "phone":
                continue
            again = by_name.get(f.get("name")) if f.get("name") else None
            if again is None and f["ref"] in {x["ref"] for x in now.fields}:
                again = f
            if again is None:
                return f"{fill.field_label(f)} is gone"
            if plan.kind == "radio":
                ok = await _read(frame, plan.value) if again is f else _GONE
                problem = (
                    None if ok is True else f"{fill.field_label(f)}: cannot read the choice back"
                )
            else:
                problem = fill.readback_problem(again, plan, await _read(frame, again["ref"]))
            if problem:
                return problem
        return None

    async def retry_phone(self, view: FormView) -> None:
        """Issue 10, class 8: the server refused the phone for its format and named only
        that field. Type the persona's next format (local -> international -> digits) into
        the phone alone, read the other fields back, click again; at most once per format,
        then stop. Every attempt goes on the record (reason and phone_attempts.json)."""
        phones = [f for f in view.fields if f["role"] == "phone" and f["ref"] in self.filled]
        if len(phones) != 1 or self.session.assist or not phones[0].get("name"):
            return
        phone = phones[0]
        plan = self.filled[phone["ref"]]
        typ = str(phone.get("type") or "").lower()
        if plan.kind != "text" or not plan.value or typ == "number" or phone.get("detail"):
            return
        p = self.req.persona
        formats = fill.phone_formats(p.phone, p.phone_country_code)
        first = next((label for label, v in formats if v == plan.value), "as given")
        attempts = [(first, plan.value, self.result.outcome.value, self.result.reason)]
        for label, value in formats:
            if value in [a[1] for a in attempts]:
                continue
            refused = await self.phone_refused(str(phone["name"]), view)
            if refused is None:
                break
            analysis, now, field = refused
            problem = await self.others_hold(analysis, now, view)
            frame = analysis.frame_of(now)
            if problem is None:
                await fill.type_text(self.page, frame, field["ref"], value, self.settings)
                problem = fill.readback_problem(
                    field, fill.Planned("text", value), await _read(frame, field["ref"])
                )
            button = self.submit_button(now)
            if problem or button is None:
                self.note(f"phone refused; not retried: {problem or 'no submit control'}")
                break
            before = await self.state(analysis, now) or {}
            self.capture.restart()
            try:
                await frame.locator(fill.selector_for(button["ref"])).first.click(timeout=5000)
            except Exception as exc:
                if not self.capture.sent:
                    self.note(f"phone retry: cannot click again ({_short(exc)})")
                    break
            self.result.submitted_at = self.now()
            await self.verify(analysis, now, before, retry=True)
            attempts.append((label, value, self.result.outcome.value, self.result.reason))
            if phone["ref"] in self.reports:
                self.reports[phone["ref"]].value_sent = value
            view = now
            if self.result.outcome is not Outcome.VALIDATION_ERROR:
                break
        if len(attempts) == 1:
            return
        self.save_values()  # the phone as last sent
        self.save_json(
            "phone_attempts",
            "phone_attempts.json",
            [{"format": a[0], "value": a[1], "outcome": a[2], "reason": a[3]} for a in attempts],
        )
        tried = ", ".join(a[0] for a in attempts)
        if self.result.outcome is Outcome.SUBMITTED:
            self.note(f"accepted after {_ordinal(len(attempts))} phone format: {attempts[-1][0]}")
        elif (
            self.result.outcome is Outcome.VALIDATION_ERROR
            and all(v in [a[1] for a in attempts] for _, v in formats)
            and await self.phone_refused(str(phone["name"]), view) is not None
        ):
            self.result.reason = f"phone rejected (tried {tried})"
        else:
            self.note(f"phone formats tried: {tried}")

    async def assist_wait(self, analysis: PageAnalysis, view: FormView) -> None:
        """Headful: the consultant solves the CAPTCHA and clicks submit."""
        self.capture.arm()
        self.req.before_submit()
        self.result.clicked = True
        self.result.submitted_at = self.now()
        deadline = time.monotonic() + ASSIST_WAIT_S
        log.warning("assist: complete the CAPTCHA and submit the form in the browser window")
        while time.monotonic() < deadline and self.capture.submit_request() is None:
            await asyncio.sleep(0.5)
        if self.capture.sent:
            self.result.submitted_at = self.now()

    async def verify(
        self, analysis: PageAnalysis, view: FormView, before: dict[str, Any], retry: bool = False
    ) -> None:
        """Watch the page and the network after a click until the evidence decides.
        ``retry``: a second click on a form that already shows the server's refusal: its
        error marks count again, but only once this click's request has been answered (and,
        for a page load, once the new page is there)."""
        s = self.settings
        clicked_at = time.monotonic()
        deadline = clicked_at + min(s.timeout_s, 20.0)
        success_text = self.req.company.overrides.success_text
        state: dict[str, Any] | None = None
        answered_at: float | None = None
        marks = {"invalid": [], "failure": "", "live": ""} if retry else {}
        while True:
            await asyncio.sleep(0.25)
            state = await self.state(analysis, view)
            verdict = verify.decide(
                self.capture, state, before | marks, success_text, self.page.url
            )
            if verdict and retry and not verify.answered_here(self.capture, state, before):
                verdict = None
            if verdict:
                self.done(*verdict)
                return
            now = time.monotonic()
            sub = self.capture.submit_request()
            if sub is not None and (sub.status is not None or sub.failure):
                answered_at = answered_at or now
                if now - answered_at >= verify.SETTLE_AFTER_RESPONSE_S:
                    break
            if sub is None and now - clicked_at >= verify.NO_REQUEST_GIVE_UP_S:
                break
            if now >= deadline:
                break
        self.done(*verify.fallback(self.capture, state, before, self.page.url))

    def save_request(self) -> None:
        sub = self.capture.submit_request()
        if sub is None:
            self.save_json("request", "request.json", {"sent": False, "requests": []})
            return
        self.result.request = {
            "url": sub.url,
            "method": sub.method,
            "status": sub.status,
            "ms": sub.ms,
        }
        self.save_json(
            "request",
            "request.json",
            {
                **self.result.request,
                "sent": True,
                "post_data": sub.post_data,
                "response_excerpt": (sub.body or "")[:2000],
                "failure": sub.failure,
                "submitted_at": self.result.submitted_at,
                "others": [
                    {"url": x.url, "method": x.method, "status": x.status}
                    for x in self.capture.sent
                    if x is not sub
                ][:20],
            },
        )


_GONE = object()


async def _read(frame: Any, ref: str | None) -> Any:
    """A field's value (checked state for a checkbox or radio), or _GONE."""
    if not ref:
        return _GONE
    loc = frame.locator(fill.selector_for(ref)).first
    try:
        if await loc.count() == 0:
            return _GONE
        return await loc.evaluate(
            "(el) => (el.type === 'checkbox' || el.type === 'radio') ? el.checked : el.value"
        )
    except Exception as exc:
        log.debug("read back %s: %s", ref, exc)
        return _GONE


async def _still_readonly(frame: Any, ref: str, f: dict[str, Any]) -> bool:
    """Some forms keep fields readonly until focused (against autofill): focus and look."""
    if f["role"] in ("honeypot", "captcha", "hidden", "submit"):
        return True
    try:
        return bool(
            await frame.locator(fill.selector_for(ref)).first.evaluate(
                "(el) => { el.focus(); return el.readOnly; }"
            )
        )
    except Exception:
        return True


def problem_short(f: dict[str, Any]) -> str:
    return f"{fill.field_label(f)} refused the plus address"


# Roles a consultant may give a value for in overrides.values (the fillable ones).
_ROLE_NAMES = set(ROLES[: ROLES.index("marketing_opt_in") + 1])
_DETAIL_NAMES = {"national_id", "city", "is_customer", "phone_prefix", "phone_number"}


def _css_for(f: dict[str, Any]) -> str:
    if f.get("idattr") and re.fullmatch(r"[A-Za-z][\w-]*", str(f["idattr"])):
        return f"#{f['idattr']}"
    if f.get("name"):
        name = str(f["name"]).replace('"', '\\"')
        return f'{f.get("tag") or ""}[name="{name}"]'
    return fill.selector_for(f["ref"])


def _ordinal(n: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")


def _short(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:300] if lines else type(exc).__name__
