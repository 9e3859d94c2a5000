"""Waiting for a script-rendered form (probes.analyze.wait_for_form): real Chromium, pages
served on 127.0.0.1. The wait ends at once on a page that cannot grow a form, and goes on
while the page is still loading what renders it."""

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
from probes.analyze import FORM_WAIT_MIN_S, NetActivity, PageAnalysis, wait_for_form

pytestmark = pytest.mark.browser

FORM = (
    "<form><label>Name <input name=name></label><label>Email <input type=email name=email>"
    "</label><label>Message <textarea name=message></textarea></label>"
    "<button type=submit>Send</button></form>"
)
SLOW_API_S = FORM_WAIT_MIN_S + 0.8  # the data behind the form arrives after the minimum wait

PAGES = {
    "/static": "<html><body><h1>About us</h1><p>Call us.</p></body></html>",
    "/fetch": (
        "<html><body><h1>Contact</h1><div id=root>Loading...</div><script>"
        "fetch('/api/form').then(r => r.text()).then(h => {"
        " document.getElementById('root').innerHTML = h; });</script></body></html>"
    ),
    "/timer": (
        "<html><body><h1>Contact</h1><div id=root></div><script>setTimeout(() => {"
        f" document.getElementById('root').innerHTML = {FORM!r}; }}, 700);</script></body></html>"
    ),
}


@pytest.fixture
def server() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            if self.path == "/api/form":
                time.sleep(SLOW_API_S)
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

        async def contact(a: PageAnalysis) -> Any:
            nonlocal calls
            calls += 1
            return a.contact

        async with async_playwright() as pw:
            browser, _ = await br.launch(pw, BrowserSettings(), headless=True)
            context = await browser.new_context()
            net = NetActivity()
            net.attach(context)
            page = await context.new_page()
            await page.goto(url, wait_until="load")
            _, found = await wait_for_form(page, contact, net)
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
