"""Locate the contact form (a step of probes.runner): open a page, dismiss the cookie
banner, find the form on this page or the pages it links to (the sitemap, the common
paths), and open a form hidden in a tab, accordion, modal or <details>."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re

from audit.models import Outcome
from probes import discover, evidence, fill, roles
from probes import lexicon as lx
from probes.analyze import PageAnalysis, analyze_page, evaluate, wait_for_form
from probes.roles import POSTING_KINDS, FormView
from probes.state import InvalidSelector, Probe, short

log = logging.getLogger(__name__)

MAX_REVEAL_CLICKS = 3  # nested panels: an accordion inside a tab inside a modal
REVEAL_POLLS = 6  # looks, 0.25 s apart, for the opened panel (animations take ~0.35 s)


async def goto(p: Probe, url: str) -> str | None:
    """Open a URL; the reason it cannot be reached, or None."""
    try:
        resp = await p.page.goto(url, wait_until="domcontentloaded")
    except Exception as exc:
        msg = str(exc)
        m = re.search(r"net::ERR_[A-Z_]+", msg)
        if "Timeout" in msg and not m:
            return f"cannot reach {url}: timed out after {p.settings.timeout_s:.0f} s"
        return f"cannot reach {url}: {m.group(0) if m else short(exc)}"
    if resp is not None and resp.status >= 400:
        return f"cannot reach {url}: HTTP {resp.status}"
    with contextlib.suppress(Exception):
        await p.page.wait_for_load_state("load", timeout=min(5000, p.settings.timeout_s * 1000))
    return None


async def dismiss_cookies(p: Probe) -> None:
    """Accept a cookie banner when one is in the way (its button by COOKIE_ACCEPT_WORDS)."""
    words = [lx.normalize(w) for w in lx.COOKIE_ACCEPT_WORDS]
    try:
        clicked = await evaluate(p.page.main_frame, {"op": "cookies", "words": words})
    except Exception as exc:
        log.debug("cookie banner: %s", exc)
        return
    if clicked:
        log.debug("cookie banner dismissed with %r", clicked)
        p.result.timings.setdefault("cookie_banner", 0.0)
        with contextlib.suppress(Exception):
            await p.page.wait_for_timeout(300)


async def analyze_here(p: Probe) -> tuple[PageAnalysis, FormView | None]:
    """Analyse the current page, waiting while a script may still render a form; a
    contact form in a closed tab, accordion, modal or <details> (or none at all, but
    a "Contact us" control that opens one) is opened first."""
    analysis, view = await wait_for_form(p.page, lambda a: override_form(p, a), p.net)
    p.postings |= {v.kind for v in analysis.views if v.kind in POSTING_KINDS}
    if view is None or roles.needs_reveal(view):
        analysis, view = await reveal(p, analysis, view)
    return analysis, view


async def reveal(
    p: Probe, analysis: PageAnalysis, view: FormView | None
) -> tuple[PageAnalysis, FormView | None]:
    """Click the control that opens the hidden contact form (the tab, accordion header,
    modal button or <summary> wired to its wrapper, else a control that says "contact"),
    then look again. Never a control about another kind of form, never a submit button
    or a link to another page. Returns the hidden view unchanged when nothing opened it
    (read_back then refuses to send it)."""
    frame = analysis.frame_of(view) if view is not None else p.page.main_frame
    tried: set[str] = set()
    for _ in range(MAX_REVEAL_CLICKS):
        try:
            raw = await evaluate(frame, {"op": "reveal", "form": view.ref if view else None})
        except Exception as exc:
            log.debug("reveal: %s", exc)
            break
        picks = [
            c for c in roles.reveal_controls(raw or [], view is not None) if c["ref"] not in tried
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
                again = await analyze_page(p.page)
            except Exception as exc:
                log.debug("reveal: %s", exc)
                continue
            same = next((v for v in again.views if view and v.ref == view.ref), None)
            found = same or (await override_form(p, again))
            if found is not None and found.kind in POSTING_KINDS:
                found = None
            if found is not None and not roles.needs_reveal(found):
                p.note(f"form opened by clicking {str(what)[:40]!r} ({control['how']})")
                return again, found
        analysis = again if view is None else analysis
    if view is not None:
        p.note("the contact form is hidden and no control on the page opened it")
    return analysis, view


async def override_form(p: Probe, analysis: PageAnalysis) -> FormView | None:
    """The form the company's overrides name (in any frame), else the contact form the
    analysis found. InvalidSelector for an override that is not valid CSS."""
    sel = p.req.company.overrides.form
    if not sel:
        return analysis.contact
    refs = [v.ref for v in analysis.views]
    for frame in p.page.frames:
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
                raise InvalidSelector(f"invalid selector {sel!r} in overrides") from exc
            continue
        if ref:
            return next(v for v in analysis.views if v.ref == ref)
    return None


async def find_form(p: Probe) -> tuple[PageAnalysis, FormView] | None:
    """The contact form: on this page, else on the pages it links to, the sitemap's,
    then the common contact paths. None (outcome no_form, with what was tried) when
    there is none; public posting forms are never taken for one."""
    s, req = p.settings, p.req
    await dismiss_cookies(p)
    analysis, view = await analyze_here(p)
    if view is not None:
        return analysis, view
    seen = {p.page.url.split("#")[0]}
    tried: list[str] = []

    async def try_url(url: str) -> tuple[PageAnalysis, FormView] | None:
        if url.split("#")[0] in seen:
            return None
        seen.add(url.split("#")[0])
        tried.append(url)
        if await goto(p, url):
            return None
        await dismiss_cookies(p)
        a, v = await analyze_here(p)
        return (a, v) if v is not None else None

    links = []
    with contextlib.suppress(Exception):
        links = await evaluate(p.page.main_frame, {"op": "links"})
    for url in discover.link_candidates(links or [], p.page.url, seen):
        hit = await try_url(url)
        if hit:
            return hit
    start = req.company.homepage or req.company.start_url
    for url in await discover.sitemap_candidates(start, s, p.session.block_outside):
        hit = await try_url(url)
        if hit:
            return hit
    common = [u for u in discover.common_paths(start) if u.split("#")[0] not in seen]
    for url in await discover.existing(common, s, p.session.block_outside):
        hit = await try_url(url)
        if hit:
            return hit
    if req.company.overrides.form:
        reason = f"override form {req.company.overrides.form!r} not found"
    else:
        reason = f"no contact form found ({1 + len(tried)} page(s) tried)"
    if any(v.kind == "login" for v in analysis.views) and not analysis.contact:
        reason += "; a login form was found"
    if p.postings:
        kinds = ", ".join(sorted(p.postings))
        reason += f"; public posting form ({kinds}) left alone: never sent"
    p.done(Outcome.NO_FORM, reason)
    with contextlib.suppress(Exception):
        await p.page.goto(req.company.start_url, wait_until="domcontentloaded")
    await evidence.screenshot(p, "screenshot_before", "screenshot_before.png")
    return None
