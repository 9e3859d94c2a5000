"""`audit inspect TARGET...`: the forms on a page, their kinds, the contact form picked and
every field's role, without filling anything.

A TARGET is a URL or a local .html file. One browser serves all targets. A local file makes
no network request at all: every request other than the file itself is aborted, so nothing
reaches the site the page was saved from. With a browser server (``--browser-endpoint``)
the file is read here and handed to the remote browser by the route.
"""

from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from playwright.async_api import async_playwright

from audit.models import BrowserSettings
from probes import browser as br
from probes.analyze import PageAnalysis, field_report, wait_for_form
from probes.roles import FormView

log = logging.getLogger(__name__)

JS_FORM_WAIT_S = 1.0  # at most this long for a script-rendered form when none is seen
# A local file inspected in a browser server's browser is served under this origin (the
# route answers it from here): the server's machine does not have the file.
REMOTE_FILE_ORIGIN = "http://local-file.invalid"


def target_url(target: str) -> tuple[str, bool]:
    """(URL to open, is a local file)."""
    if target.startswith(("http://", "https://")):
        return target, False
    if target.startswith("file://"):
        return target, True
    path = Path(target).expanduser().resolve()
    return path.as_uri(), True


async def inspect_targets(targets: list[str], settings: BrowserSettings) -> list[dict[str, Any]]:
    """One result dict per target, in order (see the module docstring for the shape)."""
    out: list[dict[str, Any]] = []
    async with async_playwright() as pw:
        browser, _ = await br.open_browser(pw, settings, headless=True)
        try:
            ctx_opts = br.context_options(settings, browser.version)
            for target in targets:
                out.append(await _inspect_one(browser, ctx_opts, target, settings))
        finally:
            await browser.close()
    return out


async def _inspect_one(
    browser: Any, ctx_opts: dict[str, Any], target: str, settings: BrowserSettings
) -> dict[str, Any]:
    result: dict[str, Any] = {"target": target, "forms": [], "contact_form": None, "error": None}
    url, local = target_url(target)
    if local and not Path(unquote(url.removeprefix("file://"))).exists():
        result["error"] = f"no such file: {target}"
        return result
    started = time.monotonic()
    body: bytes | None = None
    if local and settings.endpoint:  # the server cannot see our files: hand it the page
        body = Path(unquote(url.removeprefix("file://"))).read_bytes()
        url = f"{REMOTE_FILE_ORIGIN}/{url.rsplit('/', 1)[-1]}"
    context = await browser.new_context(**ctx_opts)
    try:
        context.set_default_timeout(settings.timeout_s * 1000)
        if local:

            async def only_the_file(route: Any) -> None:
                if route.request.url.split("#")[0] != url:
                    await route.abort()
                elif body is not None:
                    await route.fulfill(body=body, content_type="text/html")
                else:
                    await route.continue_()

            await context.route("**/*", only_the_file)
        page = await context.new_page()
        try:
            await page.goto(url, wait_until="domcontentloaded", timeout=settings.timeout_s * 1000)
        except Exception as exc:
            result["error"] = f"cannot load {target}: {_short(exc)}"
            return result
        with contextlib.suppress(Exception):
            await page.wait_for_load_state("load", timeout=min(5000, settings.timeout_s * 1000))

        async def contact(a: PageAnalysis) -> FormView | None:
            return a.contact

        analysis, _ = await wait_for_form(page, contact, max_s=JS_FORM_WAIT_S)
        result["forms"] = [
            {"index": v.index, "kind": v.kind, "fields": field_report(v)} for v in analysis.views
        ]
        result["contact_form"] = analysis.contact.index if analysis.contact else None
    except Exception as exc:  # one bad page must not stop the others
        log.warning("inspect %s failed: %s", target, exc)
        result["error"] = _short(exc)
    finally:
        await context.close()
        log.info("inspected %s in %.2f s", target, time.monotonic() - started)
    return result


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
