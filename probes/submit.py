"""Submit and verify (a step of probes.runner): choose the submit control (or the
override's), record the click before making it, click, then watch the page and the
network until the evidence decides the verdict; press a confirmation screen's second
button; or, with --assist, wait for the consultant to submit by hand."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from audit.models import Outcome
from probes import fill, filling, roles, verify
from probes.analyze import PageAnalysis, analyze_page, evaluate
from probes.roles import FormView
from probes.state import Probe, short

log = logging.getLogger(__name__)

MAX_CONFIRM_STEPS = 2  # "check your entries" screens after the first submit click
VERDICT_POLL_S = 0.25  # the page is looked at this often after a click...
VERDICT_SETTLE_S = 0.03  # ...and this long after a page load or an answer to a request
MAX_EARLY_LOOKS = 3  # looks woken by such events per click, before the poll alone
ASSIST_WAIT_S = 600.0


async def form_state(p: Probe, analysis: PageAnalysis, view: FormView) -> dict[str, Any] | None:
    """What the page shows of the form now (present, visible, error marks, text, URL):
    what verify.decide compares with the state before the click. None: unreadable."""
    frame = analysis.frame_of(view)
    for fr in (frame, p.page.main_frame):
        try:
            st = await evaluate(fr, {"op": "state", "form": view.ref}, 5)
        except Exception:
            continue
        if fr is not frame:
            st["form_present"] = st["form_visible"] = False
        if fr is not p.page.main_frame:
            with contextlib.suppress(Exception):
                main = await evaluate(p.page.main_frame, {"op": "state", "form": None}, 5)
                st["text"] = f"{main.get('text', '')}\n{st.get('text', '')}"
                st["url"] = main.get("url")
        return st
    return None


async def submit_target(
    p: Probe, analysis: PageAnalysis, view: FormView
) -> tuple[str | None, str | None]:
    """The control to click: (its ref, None when the form has none: it is submitted as
    Enter would; the reason none may be clicked, else None). The override's selector
    wins over the control roles.choose_submit picks."""
    ov = p.req.company.overrides
    if ov.submit:
        target = await filling.resolve(p, analysis, view, ov.submit)
        if target is None:
            return None, f"override submit {ov.submit!r} not found"
        return target, None
    b = roles.choose_submit(view)
    return (b["ref"] if b else None), None


async def click_submit(p: Probe, analysis: PageAnalysis, view: FormView) -> bool:
    """Record the click (before_submit: never re-sent blindly after a crash), then click.
    False (the outcome set) when nothing was clicked: no control may be, the form was
    already sent while being filled, or the control would not activate."""
    frame = analysis.frame_of(view)
    target, problem = await submit_target(p, analysis, view)
    if problem:
        p.done(Outcome.ERROR, problem)
        return False
    if p.capture.early:
        first = p.capture.early[0]
        p.done(
            Outcome.UNCERTAIN,
            f"the form was sent while it was being filled ({first.method} {first.url}); "
            "the submit control was not activated",
        )
        return False
    p.capture.arm()
    p.req.before_submit()
    p.result.clicked = True
    p.result.submitted_at = p.now()
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
        if not p.capture.sent:
            p.result.clicked = False
            p.result.submitted_at = None
            p.done(Outcome.ERROR, f"cannot activate the submit control: {short(exc)}")
            return False
    return True


async def confirm_step(p: Probe, view: FormView) -> bool:
    """A confirmation screen ("please check your entries", common in Japan): nothing
    has left the browser and the same form now shows another submit control. Press it
    like a careful person would, and verify again. True when it was pressed."""
    if p.session.assist or p.capture.sent or p.result.outcome is not Outcome.UNCERTAIN:
        return False
    clicked_before = {b["ref"] for b in view.buttons if b["role"] == "submit" and b.get("visible")}
    try:
        analysis = await analyze_page(p.page)
    except Exception as exc:
        log.debug("confirm step: %s", exc)
        return False
    again = next((v for v in analysis.views if v.ref == view.ref), analysis.contact)
    if again is None:
        return False
    button = roles.choose_submit(again)
    if button is None or button["ref"] in clicked_before:
        return False
    before = await form_state(p, analysis, again) or {}
    p.capture.arm()
    try:
        await (
            analysis.frame_of(again)
            .locator(fill.selector_for(button["ref"]))
            .first.click(timeout=5000)
        )
    except Exception as exc:
        log.debug("confirm step click: %s", exc)
        return False
    p.result.submitted_at = p.now()
    await await_verdict(p, analysis, again, before)
    if p.result.outcome is Outcome.SUBMITTED:
        p.result.signal = f"{p.result.signal} (after a confirmation step)"
    return True


async def assist_wait(p: Probe, analysis: PageAnalysis, view: FormView) -> None:
    """Headful: the consultant solves the CAPTCHA and clicks submit."""
    p.capture.arm()
    p.req.before_submit()
    p.result.clicked = True
    p.result.submitted_at = p.now()
    deadline = time.monotonic() + ASSIST_WAIT_S
    log.warning("assist: complete the CAPTCHA and submit the form in the browser window")
    while time.monotonic() < deadline and p.capture.submit_request() is None:
        await asyncio.sleep(0.5)
    if p.capture.sent:
        p.result.submitted_at = p.now()


async def await_verdict(
    p: Probe, analysis: PageAnalysis, view: FormView, before: dict[str, Any], retry: bool = False
) -> None:
    """Watch the page and the network after a click until the evidence decides.
    ``retry``: a second click on a form that already shows the server's refusal: its
    error marks count again, but only once this click's request has been answered (and,
    for a page load, once the new page is there)."""
    s = p.settings
    clicked_at = time.monotonic()
    deadline = clicked_at + min(s.timeout_s, 20.0)
    marks = {"invalid": [], "failure": "", "live": ""} if retry else {}
    woken = p.capture.answered  # set by an answer to a request sent since the click

    def loaded(_: Any) -> None:  # a page (the confirmation, an error page) has loaded
        woken.set()

    p.page.on("domcontentloaded", loaded)
    try:
        await _watch(p, analysis, view, before, retry, marks, woken, clicked_at, deadline)
    finally:
        with contextlib.suppress(Exception):
            p.page.remove_listener("domcontentloaded", loaded)


async def _nap(woken: asyncio.Event, early: bool) -> bool:
    """Until the next look: VERDICT_POLL_S, or (``early``) sooner when a page loaded or a
    request was answered, then VERDICT_SETTLE_S for the page's own scripts to show the
    outcome. True when woken early."""
    if not early:
        await asyncio.sleep(VERDICT_POLL_S)
        woken.clear()
        return False
    try:
        await asyncio.wait_for(woken.wait(), VERDICT_POLL_S)
    except TimeoutError:
        woken.clear()
        return False
    await asyncio.sleep(VERDICT_SETTLE_S)
    woken.clear()
    return True


async def _watch(
    p: Probe,
    analysis: PageAnalysis,
    view: FormView,
    before: dict[str, Any],
    retry: bool,
    marks: dict[str, Any],
    woken: asyncio.Event,
    clicked_at: float,
    deadline: float,
) -> None:
    success_text = p.req.company.overrides.success_text
    state: dict[str, Any] | None = None
    answered_at: float | None = None
    early_looks = MAX_EARLY_LOOKS  # a page that keeps calling its server: polled, no more
    while True:
        if await _nap(woken, early_looks > 0):
            early_looks -= 1
        state = await form_state(p, analysis, view)
        verdict = verify.decide(p.capture, state, before | marks, success_text, p.page.url)
        if verdict and retry and not verify.answered_here(p.capture, state, before):
            verdict = None
        if verdict:
            p.done(*verdict)
            return
        now = time.monotonic()
        sub = p.capture.submit_request()
        if sub is not None and (sub.status is not None or sub.failure):
            answered_at = answered_at or now
            if now - answered_at >= verify.SETTLE_AFTER_RESPONSE_S:
                break
        if sub is None and now - clicked_at >= verify.NO_REQUEST_GIVE_UP_S:
            break
        if now >= deadline:
            break
    p.done(*verify.fallback(p.capture, state, before, p.page.url))
