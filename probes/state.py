"""One probe's state, shared by its steps (issue 12: ``runner._Probe`` split by step).

A ``Probe`` holds what one company's probe has found and done so far: the browser
context and page, the network capture, the fields filled and reported, notes for the
reason, and the result being written. The steps are functions over it, one module each:

- ``probes.locate``: open the start page, find the contact form (reveal a hidden one);
- ``probes.filling``: give each field a role, fill it, read the values back;
- ``probes.submit``: choose the submit control, click, watch for the verdict;
- ``probes.phone_retry``: a phone refused for its format, typed again in another;
- ``probes.evidence``: screenshots, page.html and the JSON files of the record.

``probes.runner`` runs them in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from audit.models import FieldReport, Outcome, ProbeRequest, ProbeResult
from probes import fill, verify
from probes.analyze import NetActivity

if TYPE_CHECKING:
    from probes.runner import ProbeSession

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


class InvalidSelector(Exception):
    """An override selector that is not valid CSS."""


class Probe:
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
        self.found = asyncio.Event()  # the page is loaded and the form found (or the end)
        # The overrides resolved on the form: roles by ref, values by ref, values by role.
        self.forced: tuple[dict[str, str], dict[str, str], dict[str, str]] = ({}, {}, {})
        self.capture.ours.add_email(req.reply_address)
        self.capture.ours.add_email(req.fallback_address)
        self.capture.ours.add_message(req.message)

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

    async def route(self, route: Any) -> None:
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


def short(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:300] if lines else type(exc).__name__
