"""Run dom.js in every frame of a page and score what it read (shared by runner and inspect).

Form indexes: the main frame's ``<form>`` elements in document order (open shadow roots
included), then the main frame's form-less candidates, then each child frame's forms and
form-less candidates, frame by frame.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from probes import roles
from probes.roles import FormView

log = logging.getLogger(__name__)

DOM_JS = resources.files("probes").joinpath("dom.js").read_text(encoding="utf-8")
FRAME_TIMEOUT_S = 5.0
CAPTCHA_FRAME_HOSTS = ("recaptcha", "hcaptcha", "challenges.cloudflare.com", "friendlycaptcha")


@dataclass
class PageAnalysis:
    url: str
    views: list[FormView] = field(default_factory=list)
    captchas: list[dict[str, Any]] = field(default_factory=list)
    frames: dict[str, Any] = field(default_factory=dict)  # form ref -> Playwright Frame
    contact: FormView | None = None

    def frame_of(self, view: FormView) -> Any:
        return self.frames[view.ref]

    def captcha_for(self, view: FormView) -> str | None:
        """The CAPTCHA family guarding this form, if any: a widget inside it, its own
        response input, or a page-wide one (a script, a badge), unless that family's
        widget sits in another form on the page (a sign-up form's reCAPTCHA does not
        guard the contact form next to it)."""
        for c in self.captchas:
            if c.get("form") == view.ref:
                return str(c["family"])
        for f in view.fields:
            name = str(f.get("name") or "").lower()
            if name in roles.CAPTCHA_RESPONSE_NAMES:
                return _RESPONSE_FAMILY.get(name, "captcha")
        elsewhere = {c["family"] for c in self.captchas if c.get("form") not in (None, view.ref)}
        for c in self.captchas:
            if c.get("form") is None and c.get("frame_ok", True) and c["family"] not in elsewhere:
                return str(c["family"])
        for f in view.fields:
            if f["role"] == "captcha" and f.get("visible"):
                text = " ".join(str(f.get(k) or "") for k in ("label", "placeholder", "context"))
                return "math captcha" if roles.MATH_RE.search(text) else "text captcha"
        return None


_RESPONSE_FAMILY = {
    "g-recaptcha-response": "recaptcha",
    "h-captcha-response": "hcaptcha",
    "cf-turnstile-response": "turnstile",
    "frc-captcha-solution": "friendly-captcha",
}


async def evaluate(frame: Any, arg: dict[str, Any], timeout_s: float = FRAME_TIMEOUT_S) -> Any:
    return await asyncio.wait_for(frame.evaluate(DOM_JS, arg), timeout_s)


async def analyze_page(page: Any, timeout_s: float = FRAME_TIMEOUT_S) -> PageAnalysis:
    """Every candidate form on the page and in its frames, with kinds and field roles."""
    result = PageAnalysis(url=page.url)
    main_forms: list[tuple[dict[str, Any], Any]] = []
    main_less: list[tuple[dict[str, Any], Any]] = []
    child: list[tuple[dict[str, Any], Any]] = []
    for i, frame in enumerate(page.frames):
        url = frame.url or ""
        if i and any(h in url for h in CAPTCHA_FRAME_HOSTS):
            continue
        if frame.is_detached():
            continue
        try:
            data = await evaluate(frame, {"op": "analyze", "frame": f"f{i}"}, timeout_s)
        except Exception as exc:  # a frame that is gone, hung or cross-origin-dead
            log.debug("frame %s not analysed: %s", url, exc)
            continue
        if not data:
            continue
        for c in data.get("captchas") or []:
            c["frame"] = i
            result.captchas.append(c)
        for form in data.get("forms") or []:
            form["frame_url"] = url
            if i == 0:
                (main_forms if form.get("in_form") else main_less).append((form, frame))
            else:
                child.append((form, frame))
    for index, (form, frame) in enumerate(main_forms + main_less + child):
        view = roles.build_view(form, index)
        result.views.append(view)
        result.frames[view.ref] = frame
    result.contact = roles.pick_contact(result.views)
    return result


# How long a page without a form is watched for one rendered by script (SPAs, embeds).
FORM_WAIT_MAX_S = 3.0  # never longer
FORM_WAIT_MIN_S = 1.0  # a page with scripts is always given this long (timer-started renders)
QUIET_S = 0.6  # "settled": no request in flight and the DOM unchanged for this long
POLL_S = 0.25

_PAGE_SHAPE_JS = """() => [
  document.scripts.length > 0 || document.querySelector('iframe, [data-reactroot], #root, #app,'
    + ' #__next, [ng-version]') !== null,
  document.getElementsByTagName('*').length,
]"""


class NetActivity:
    """Requests in flight in a browser context, and when the last one started or ended."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.last = time.monotonic()

    def attach(self, context: Any) -> None:
        context.on("request", self._start)
        context.on("requestfinished", self._end)
        context.on("requestfailed", self._end)

    def _start(self, _request: Any) -> None:
        self.in_flight += 1
        self.last = time.monotonic()

    def _end(self, _request: Any) -> None:
        self.in_flight = max(0, self.in_flight - 1)
        self.last = time.monotonic()

    def quiet_for(self, now: float) -> float:
        return 0.0 if self.in_flight else now - self.last


async def wait_for_form(
    page: Any,
    find: Callable[[PageAnalysis], Awaitable[Any]],
    net: NetActivity | None = None,
    max_s: float = FORM_WAIT_MAX_S,
) -> tuple[PageAnalysis, Any]:
    """Analyse the page until `find(analysis)` returns a form or the page has settled.

    A page with no script and no frame cannot grow a form later: one look. A scripted page
    is watched for at least FORM_WAIT_MIN_S, then until the network has been idle and the
    DOM unchanged for QUIET_S, and never longer than max_s. Returns (analysis, found).
    """
    t0 = time.monotonic()
    shape: Any = None
    shape_since = t0
    while True:
        analysis = await analyze_page(page)
        found = await find(analysis)
        now = time.monotonic()
        if found is not None or now - t0 >= max_s:
            return analysis, found
        try:
            scripted, n_elements = await asyncio.wait_for(page.evaluate(_PAGE_SHAPE_JS), 5)
        except Exception:  # navigating or hung: keep looking until max_s
            scripted, n_elements = True, -1
        if not scripted and (net is None or net.in_flight == 0):
            return analysis, found
        if n_elements != shape:
            shape, shape_since = n_elements, now
        settled = now - shape_since >= QUIET_S and (net is None or net.quiet_for(now) >= QUIET_S)
        if now - t0 >= FORM_WAIT_MIN_S and settled:
            return analysis, found
        await asyncio.sleep(POLL_S)


def field_report(view: FormView) -> list[dict[str, Any]]:
    """Fields as `audit inspect --json` shows them (hidden inputs left out)."""
    out: list[dict[str, Any]] = [
        {"name": f.get("name"), "role": f["role"]} for f in view.fields if f["role"] != "hidden"
    ]
    submits = [b for b in view.buttons if b.get("role") == "submit"]
    submits.sort(key=lambda b: not b.get("visible"))
    if submits:
        out.append({"name": submits[0].get("name"), "role": "submit"})
    return out
