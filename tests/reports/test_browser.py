"""The report opened in a real Chromium: hostile strings stay inert, our own script works,
and one screenshot of the leaderboard per interface language for a human to look at."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from reports.render import build_report

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/lib/chromium/chromium"
SHOTS = Path(__file__).parent / "screenshots"
IL = ZoneInfo("Asia/Jerusalem")
START = datetime(2026, 11, 18, 9, 0, tzinfo=IL)
NOW = datetime(2026, 12, 10, 12, 0, tzinfo=IL)

HOSTILE = [
    "<script>window.__pwned=1;alert(1)</script>",
    '"><img src=x onerror="window.__pwned=1;alert(2)">',
    '<svg onload="window.__pwned=1"></svg>',
    "javascript:window.__pwned=1",
    '<a href="javascript:alert(3)">click</a>',
    "\u202eevil\u202c moc.knab \u2066x\u2069",
    '<iframe src="javascript:alert(4)"></iframe>',
    "{{ 7*7 }} {% raw %}",
    "</pre></div><script>alert(5)</script>",
    "<style>body{display:none}</style>",
]


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("no system Chromium at " + CHROMIUM)
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM)
        yield b
        b.close()


def _open(browser, path: Path, lang: str = "en", width: int = 1200):
    page = browser.new_page(viewport={"width": width, "height": 900}, locale=lang)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, dialogs


def test_hostile_strings_do_not_run_in_chromium(builder, browser, tmp_path):
    b = builder
    w = b.wave("wave-1", close_at=datetime(2026, 12, 2, 18, 0, tzinfo=IL))
    for i, bad in enumerate(HOSTILE):
        cid = b.company(f"{bad} {i}", sector=bad if i % 2 else "banks", id=f"bad-{i}")
        sid = b.submit(cid, w, START, page_url=bad)
        b.reply(sid, START + timedelta(minutes=3 + i), subject=bad, text=bad * 3, sender=bad)
    cid = b.company(HOSTILE[1] + " blocked", id="bad-blocked")
    b.submit(cid, w, None, state="blocked", reason=HOSTILE[0], outcome="captcha")
    paths = build_report(b.store, b.workspace(), out_dir=tmp_path / "r", now=NOW)
    pages = [
        paths.index_html,
        paths.dir / "methodology.html",
        *sorted((paths.dir / "companies").glob("*.html")),
    ]
    for path in pages:
        page, dialogs = _open(browser, path)
        assert dialogs == [], path
        assert page.evaluate("window.__pwned === undefined"), path
        # layout intact: the body is visible and headings are where they should be
        assert page.is_visible("main"), path
        page.close()
    # our own script still runs (it is pinned by hash in the CSP): sort and filter work
    page, dialogs = _open(browser, paths.index_html)
    rows = page.locator("#leaderboard tbody tr")
    assert rows.count() == len(HOSTILE)
    page.click("#leaderboard thead th:nth-child(1)")  # rank descending
    assert page.locator("#leaderboard tbody tr").first.locator("td").first.inner_text() == "10"
    page.select_option("#sector-filter", "banks")
    visible = page.locator("#leaderboard tbody tr:not([hidden])")
    assert visible.count() == 5
    # the company name shows the literal text, not markup
    names = page.locator("#leaderboard a.company").all_inner_texts()
    assert any(n.startswith("<script>") for n in names)
    assert dialogs == []
    page.close()


def _survey_for_screenshot(b):
    w = b.wave("wave-1", close_at=datetime(2026, 12, 2, 18, 0, tzinfo=IL))
    run = b.run(clock_offset_s=5 * 86400)
    plan = [
        ("בנק מזרחי טפחות", "banks", 33),
        ("Bank Leumi", "banks", 60),
        ("בנק הפועלים", "banks", 150),
        ("Clal Insurance", "insurance", 240),
        ("הראל ביטוח", "insurance", 60 * 26),
        ("Cellcom", "telecom", 60 * 24 * 2),
        ("Partner (Orange)", "telecom", None),
        ("HOT", "telecom", None),
        ("Isracard ישראכרט", "credit cards", 95),
        ("Maccabi", "health", 60 * 24 * 5),
    ]
    for name, sector, minutes in plan:
        sid = b.submit(b.company(name, sector=sector), w, START, run_id=run)
        if minutes:
            b.reply(sid, START + timedelta(minutes=minutes))
    b.submit(b.company("Mirs", sector="telecom"), w, None, state="blocked", reason="captcha")
    b.submit(
        b.company("012 Smile", sector="telecom"),
        w,
        None,
        state="failed",
        reason="no contact form found",
        outcome="no_form",
    )


@pytest.mark.parametrize("lang", ["en", "he"])
def test_leaderboard_screenshot(builder, browser, tmp_path, lang):
    _survey_for_screenshot(builder)
    paths = build_report(
        builder.store, builder.workspace(), out_dir=tmp_path / lang, now=NOW, lang=lang
    )
    page, dialogs = _open(browser, paths.index_html, lang=lang)
    assert page.evaluate("document.documentElement.dir") == ("rtl" if lang == "he" else "ltr")
    # in RTL the rank column is at the right edge of the table
    first = page.locator("#leaderboard thead th").first.bounding_box()
    second = page.locator("#leaderboard thead th").nth(1).bounding_box()
    assert (first["x"] > second["x"]) == (lang == "he")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"leaderboard-{lang}.png"), full_page=True)
    assert dialogs == []
    page.close()
