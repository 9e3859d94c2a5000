"""Waiting for a script-rendered form (probes.analyze.wait_for_form): real Chromium, pages
served on 127.0.0.1. The wait ends at once on a page that cannot grow a form, and goes on
while the page is still loading what renders it.

No race is hoped for: the slow request is answered only once the waiter has looked past
the moment it would have stopped if it ignored the network (it sees the request still in
flight), and the waits get a ceiling far above the pages' needs (max_s), so a slow
machine takes longer but reaches the same verdict."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.async_api import async_playwright

from audit.models import BrowserSettings
from probes import browser as br
from probes.analyze import FORM_WAIT_MIN_S, QUIET_S, NetActivity, PageAnalysis, wait_for_form

pytestmark = pytest.mark.browser

FORM = (
    "<form><label>Name <input name=name></label><label>Email <input type=email name=email>"
    "</label><label>Message <textarea name=message></textarea></label>"
    "<button type=submit>Send</button></form>"
)
# The data behind the form is released once the waiter has been looking for longer than
# it would wait on a quiet page (minimum + quiet period): only network tracking keeps it on.
RELEASE_AFTER_S = FORM_WAIT_MIN_S + QUIET_S + 0.3
CEILING_S = 60.0  # max_s for the tests: never reached when the behaviour is right

PAGES = {
    "/static": "<html><body><h1>About us</h1><p>Call us.</p></body></html>",
    "/fetch": (
        "<html><body><h1>Contact</h1><div id=root>Loading...</div><script>"
        "fetch('/api/form').then(r => r.text()).then(h => {"
        " document.getElementById('root').innerHTML = h; });</script></body></html>"
    ),
    # The timer starts when the waiter has looked once (renderSoon, called by look()): the
    # first look never finds the form, however slow the machine (no race with the load).
    "/timer": (
        "<html><body><h1>Contact</h1><div id=root></div><script>"
        "window.renderSoon = () => setTimeout(() => {"
        f" document.getElementById('root').innerHTML = {FORM!r}; }}, 300);</script></body></html>"
    ),
}


RELEASE = threading.Event()


@pytest.fixture
def server() -> Iterator[str]:
    RELEASE.clear()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            if self.path == "/api/form":
                RELEASE.wait(CEILING_S)
                body = FORM
            else:
                body = PAGES.get(self.path, "")
            data = body.encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def look(url: str) -> tuple[bool, int]:
    """(form found, number of analyses) for the page at url."""

    async def go() -> tuple[bool, int]:
        calls = 0
        started = 0.0
        page: Any = None

        async def contact(a: PageAnalysis) -> Any:
            nonlocal calls
            calls += 1
            if calls == 1:  # a timer page starts its timer now (see PAGES["/timer"])
                await page.evaluate("window.renderSoon && window.renderSoon()")
            if time.monotonic() - started >= RELEASE_AFTER_S:
                RELEASE.set()  # the waiter is still looking: let the data arrive
            return a.contact

        async with async_playwright() as pw:
            browser, _ = await br.launch(pw, BrowserSettings(), headless=True)
            context = await browser.new_context()
            net = NetActivity()
            net.attach(context)
            page = await context.new_page()
            await page.goto(url, wait_until="load")
            started = time.monotonic()
            _, found = await wait_for_form(page, contact, net, max_s=CEILING_S)
            await browser.close()
            return found is not None, calls

    return asyncio.run(go())


def test_a_page_without_scripts_is_looked_at_once(server: str) -> None:
    assert look(server + "/static") == (False, 1)


def test_a_form_rendered_from_a_slow_request_is_waited_for(server: str) -> None:
    found, calls = look(server + "/fetch")
    assert found and calls > 1


def test_a_form_rendered_by_a_timer_soon_after_load_is_found(server: str) -> None:
    found, calls = look(server + "/timer")
    assert found and calls > 1
