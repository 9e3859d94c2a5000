"""A browser server that dies under a probe (issue 13): the probe says so, never `failed`.

A real `playwright launch-server` (tests/browserserver.py) is killed (SIGKILL to its
process group) at known moments, forced by hooks, not by timing:

1. right before the submit click (in ``before_submit``, the moment the run records the
   click, so the run makes the submission `uncertain`): the probe ends with
   ``browser_lost`` set at the submit step, not submitted, and the site received nothing;
2. while the server is down the next probe raises ProbeError with one line (the browser
   went away and cannot be opened again, after a few tries);
3. started again on the same endpoint, the same session connects again; killed when the
   site serves the contact page (before anything is filled): ``browser_lost``, not
   clicked (the run plans the company again);
4. started again: the form is sent, once in all.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from browserserver import BrowserServer

from audit.errors import ProbeError
from audit.models import BrowserSettings, Outcome, ProbeRequest
from probes.runner import ProbeSession

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FORM = """<!doctype html><html><body><h1>Contact us</h1>
<form method="post" action="/send">
<label>Full name <input name="name" required></label>
<label>E-mail <input type="email" name="email" required></label>
<label>Message <textarea name="message" required></textarea></label>
<button type="submit">Send</button></form></body></html>"""


def kill_when_served(site: object, seen: int, server: BrowserServer) -> None:
    """Kill the server as soon as the site served the contact page (a ceiling of 60 s)."""
    deadline = time.monotonic() + 60
    while len(site.gets) <= seen and time.monotonic() < deadline:  # type: ignore[attr-defined]
        time.sleep(0.01)
    server.kill()


def test_a_browser_server_that_dies_is_lost_not_failed_then_reopened(
    tmp_path: Path,
    site_server: Callable[[Path], object],
    settings: BrowserSettings,
    make_request: Callable[..., ProbeRequest],
) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "contact.html").write_text(FORM, encoding="utf-8")
    site = site_server(tmp_path / "site")
    url = site.url("/contact.html")  # type: ignore[attr-defined]
    server = BrowserServer().start()
    try:
        remote = settings.model_copy(update={"endpoint": server.endpoint})

        async def scenario() -> None:
            async with ProbeSession(remote, block_outside=True) as session:
                req = make_request(url)
                req.before_submit = server.kill  # dies at the click, as a crash would
                first = await session.probe(req)
                assert first.browser_lost == "the browser went away during step submit", first
                assert first.outcome is not Outcome.SUBMITTED
                assert site.posts == []  # type: ignore[attr-defined]

                with pytest.raises(ProbeError, match="went away and cannot be opened again"):
                    await session.probe(make_request(url))

                server.restart()  # the same endpoint: the session connects again
                seen = len(site.gets)  # type: ignore[attr-defined]
                killer = threading.Thread(target=kill_when_served, args=(site, seen, server))
                killer.start()
                third = await session.probe(make_request(url))
                killer.join()
                assert third.browser_lost and not third.clicked, third
                assert third.outcome is not Outcome.SUBMITTED

                server.restart()
                fourth = await session.probe(make_request(url))
                assert fourth.outcome is Outcome.SUBMITTED and not fourth.browser_lost, fourth

        asyncio.run(scenario())
        assert len(site.posts) == 1  # type: ignore[attr-defined]
    finally:
        server.cleanup()
