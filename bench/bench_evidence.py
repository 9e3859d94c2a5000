"""Benchmark: what each piece of a probe's evidence costs (CPU and bytes).

    .venv/bin/python bench/bench_evidence.py [--repeat 10]

On a filled contact form (the demo sites' form, audit.demo.sites) in a short page and in a
long one (the same form below 40 paragraphs of company text, ~6,000 px tall, as real
company pages are), each kind of evidence is taken --repeat times in one Chromium:
full-page, viewport and form-element screenshots as PNG and as JPEG (quality 70), the
page's HTML
(page.content()), and the JSON records (request.json, values.json; sizes only). CPU =
this process, the Playwright driver and every Chromium process (own utime+stime from
/proc, before and after), per piece; bytes = the file's size.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import _stat, descendants, emit, loadavg  # noqa: E402

FILLER = "<p>" + "Our branches are open Sunday to Thursday; " * 12 + "</p>"
VALUES = {
    "#f-name": "Dana Cohen",
    "#f-email": "survey+k7m2q9xd@replies.example.com",
    "#f-phone": "050-555-0134",
    "#f-subject": "Question about your services (ref CA-K7M2Q9XD)",
    "#f-msg": "Hello,\n\nI would like to know how I can open an account.\n\nReference: CA-K7M2Q9XD",
}


def tree_cpu_s() -> float:
    me = os.getpid()
    total = 0.0
    for pid in [me, *descendants(me)]:
        st = _stat(pid)
        if st:
            total += st[1]
    return total


async def measure(repeat: int, out: Path) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    from audit.demo.scenario import DemoCompany
    from audit.demo.sites import render_page
    from probes.browser import find_browser

    company = DemoCompany(slug="ev", name="Evidence Ltd", sector="banks", domain="ev.example")
    short = render_page(company, "/contact", 0) or ""
    long = short.replace("<main>", "<main>" + FILLER * 40, 1)
    pieces: dict[str, dict[str, Any]] = {}
    info = find_browser(None)
    async with async_playwright() as pw:
        kw: dict[str, Any] = {"headless": True}
        if info.path:
            kw["executable_path"] = info.path
        browser = await pw.chromium.launch(**kw)
        ctx = await browser.new_context(viewport={"width": 1366, "height": 900})
        page = await ctx.new_page()
        for name, html in (("short page", short), ("long page", long)):
            await page.set_content(html)
            for sel, value in VALUES.items():
                await page.fill(sel, value)
            height = await page.evaluate("() => document.documentElement.scrollHeight")
            jobs: dict[str, Any] = {
                "screenshot full-page PNG": dict(full_page=True, type="png"),
                "screenshot viewport PNG": dict(full_page=False, type="png"),
                "screenshot full-page JPEG q70": dict(full_page=True, type="jpeg", quality=70),
                "screenshot viewport JPEG q70": dict(full_page=False, type="jpeg", quality=70),
            }
            for label, opts in jobs.items():
                path = out / f"{label.replace(' ', '_')}.{opts['type']}"
                await page.screenshot(path=str(path), **opts)  # warm
                c0, t0 = tree_cpu_s(), time.monotonic()
                for _ in range(repeat):
                    await page.screenshot(path=str(path), **opts)
                pieces[f"{name}: {label}"] = {
                    "cpu_s": round((tree_cpu_s() - c0) / repeat, 4),
                    "wall_s": round((time.monotonic() - t0) / repeat, 4),
                    "bytes": path.stat().st_size,
                    "page_height_px": height,
                }
            form = page.locator("form#contact")
            for label, opts in {
                "screenshot of the form element PNG": dict(type="png"),
                "screenshot of the form element JPEG q70": dict(type="jpeg", quality=70),
            }.items():
                path = out / f"{label.replace(' ', '_')}.{opts['type']}"
                await form.screenshot(path=str(path), **opts)  # warm
                c0, t0 = tree_cpu_s(), time.monotonic()
                for _ in range(repeat):
                    await form.screenshot(path=str(path), **opts)
                pieces[f"{name}: {label}"] = {
                    "cpu_s": round((tree_cpu_s() - c0) / repeat, 4),
                    "wall_s": round((time.monotonic() - t0) / repeat, 4),
                    "bytes": path.stat().st_size,
                }
            c0, t0 = tree_cpu_s(), time.monotonic()
            for _ in range(repeat):
                text = await page.content()
                (out / "page.html").write_text(text, encoding="utf-8")
            pieces[f"{name}: page HTML"] = {
                "cpu_s": round((tree_cpu_s() - c0) / repeat, 4),
                "wall_s": round((time.monotonic() - t0) / repeat, 4),
                "bytes": (out / "page.html").stat().st_size,
            }
        await browser.close()
    values = [{"name": k, "role": "x", "selector": k, "value_sent": v} for k, v in VALUES.items()]
    record = {"url": "http://x/", "method": "POST", "status": 200, "post_data": "x" * 400}
    pieces["values.json (no browser)"] = {"bytes": len(json.dumps(values, indent=2))}
    pieces["request.json (no browser; typical)"] = {"bytes": len(json.dumps(record, indent=2))}
    return pieces


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=10)
    args = ap.parse_args()
    print(f"evidence costs, {args.repeat} each (load {loadavg()})", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="bench-evidence-") as tmp:
        pieces = asyncio.run(measure(args.repeat, Path(tmp)))
    emit({"benchmark": "evidence", "repeat": args.repeat, "pieces": pieces, "loadavg": loadavg()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
