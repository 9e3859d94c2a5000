"""The trend page and the report's alert section, built by the real code from a real
SQLite store with two waves (and one), parsed structurally and opened in Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import html as lxml_html

from audit.models import SurveyConfig
from reports.changes import changes_for_worse
from reports.metrics import compute, load_frames
from reports.render import build_report

from .conftest import SurveyBuilder
from .test_changes import NOW, W1, _two_waves

CHROMIUM = "/usr/lib/chromium/chromium"
SHOTS = Path(__file__).parent / "screenshots"


def _doc(path: Path) -> lxml_html.HtmlElement:
    return lxml_html.fromstring(path.read_bytes())


def _cx(fig: lxml_html.HtmlElement) -> list[float]:
    return [float(c.get("cx")) for c in fig.xpath(".//circle[contains(@class, 'point')]")]


def test_trend_page_per_company_and_the_alerts_section(builder: SurveyBuilder, tmp_path: Path):
    _two_waves(builder)
    ws = builder.workspace()
    paths = build_report(builder.store, ws, tmp_path / "en", now=NOW, wave="wave-2")
    index = _doc(paths.index_html)
    link = index.get_element_by_id("trends-link")
    assert link.get("href") == "trends.html"
    # the alert section lists exactly `audit alerts`' list
    results = compute(load_frames(builder.store), SurveyConfig(), ws.companies, NOW)
    expected = changes_for_worse(results, "wave-2", "wave-1", SurveyConfig().tiers)
    for doc in (index, _doc(paths.dir / "trends.html")):
        rows = doc.xpath("//table[@id='alerts-table']/tbody/tr")
        got = [(r.xpath("td[1]")[0].text_content(), r.get("data-kind")) for r in rows]
        assert got == [(a.company, a.kind) for a in expected] and len(got) == 5
        assert "since wave wave-1" in doc.get_element_by_id("alerts").text_content()
    gimel = index.xpath("//tr[@data-kind='form_broke']")[0]
    assert "captcha" in gimel.text_content() and "blocked" in gimel.text_content()
    assert index.xpath("//tr[@data-kind='form_broke']//a/@href")[0].startswith("companies/")

    trend = _doc(paths.dir / "trends.html")
    figs = {f.get("data-slug"): f for f in trend.xpath("//figure[@class='trend']")}
    assert set(figs) == {"alef", "bet", "gimel", "dalet", "he", "vav"}
    assert not trend.xpath("//script")  # no script on the page at all
    alef = figs["alef"]
    assert [r.get("data-wave") for r in alef.xpath(".//tbody/tr")] == ["wave-1", "wave-2"]
    cells = [[td.text_content() for td in r.xpath("td")] for r in alef.xpath(".//tbody/tr")]
    assert cells[0][2] == "30 min" and cells[0][3] == "good"
    assert cells[1][2] == "5 h" and cells[1][3] == "fair"
    # time runs left to right in English; the slower wave is lower (log axis, fast on top)
    x1, x2 = _cx(alef)
    assert x1 < x2
    y1, y2 = (float(c.get("cy")) for c in alef.xpath(".//circle"))
    assert y2 > y1
    # Bet stopped answering: its second point sits on the no-reply band, below every time
    b1, b2 = (float(c.get("cy")) for c in figs["bet"].xpath(".//circle"))
    assert b2 > b1 and b2 > y2
    # Dalet's promise: kept, then broken
    marks = figs["dalet"].xpath(".//*[contains(@class, 'promise-')]/@class")
    assert marks == ["label promise-kept", "label promise-broken"]
    assert [r.xpath("td[5]")[0].text for r in figs["dalet"].xpath(".//tbody/tr")] == [
        "kept",
        "broken",
    ]

    # Hebrew: right to left, the first wave on the right, interface strings translated
    he = build_report(builder.store, ws, tmp_path / "he", lang="he", now=NOW, wave="wave-2")
    trend_he = _doc(he.dir / "trends.html")
    assert trend_he.get("dir") == "rtl" and trend_he.xpath("//h1")[0].text == "מגמות לאורך הגלים"
    alef_he = trend_he.xpath("//figure[@data-slug='alef']")[0]
    h1, h2 = _cx(alef_he)
    assert h1 > h2
    ticks = alef_he.xpath(".//svg//text[@class='tick' and text()='1h']")[0]
    assert ticks.get("text-anchor") == "start" and float(ticks.get("x")) > h1
    kinds = [r.xpath("td[2]")[0].text for r in _doc(he.index_html).xpath("//tr[@data-kind]")]
    assert kinds[0] == "הפסיקה לענות" and "איטית יותר בדרגה" in kinds

    # the first wave's report: no trend page, no link, no alert section
    first = build_report(builder.store, ws, tmp_path / "w1", now=NOW, wave="wave-1")
    doc1 = _doc(first.index_html)
    assert not doc1.xpath("//*[@id='trends-link' or @id='alerts']")
    assert not (first.dir / "trends.html").exists()


def test_a_second_wave_where_nothing_got_worse_says_so(builder: SurveyBuilder, tmp_path: Path):
    from datetime import timedelta

    w1, w2 = builder.wave("wave-1"), builder.wave("wave-2")
    cid = builder.company("Alef")
    for w in (w1, w2):
        builder.reply(builder.submit(cid, w, W1), W1 + timedelta(minutes=30))
    paths = build_report(builder.store, builder.workspace(), tmp_path / "r", now=NOW, wave="wave-2")
    doc = _doc(paths.index_html)
    assert doc.get_element_by_id("alerts-none").text.startswith("Nothing changed")
    assert doc.get_element_by_id("trends-link") is not None


@pytest.mark.browser
def test_the_trend_page_renders_in_chromium(builder: SurveyBuilder, tmp_path: Path):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("no system Chromium at " + CHROMIUM)
    _two_waves(builder)
    ws = builder.workspace()
    errors: list[str] = []  # console errors (a CSP refusal would be one)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM)
        try:
            for lang in ("en", "he"):
                paths = build_report(
                    builder.store, ws, tmp_path / lang, lang=lang, now=NOW, wave="wave-2"
                )
                page = browser.new_page(viewport={"width": 1100, "height": 900}, locale=lang)
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else 0)
                page.goto(paths.index_html.as_uri())
                page.click("#trends-link")
                page.wait_for_load_state("load")
                assert page.url.endswith("/trends.html")
                figs = page.locator("figure.trend")
                assert figs.count() == 6
                box = figs.first.locator("svg").bounding_box()
                assert box is not None and box["width"] > 200 and box["height"] > 80
                # in Hebrew the grid flows from the right: the first figure is rightmost
                first, second = (figs.nth(i).bounding_box() for i in (0, 1))
                assert first is not None and second is not None
                if lang == "he":
                    assert first["x"] > second["x"]
                else:
                    assert first["x"] < second["x"]
                page.screenshot(path=str(SHOTS / f"trends-{lang}.png"), full_page=True)
                assert errors == []
                page.close()
        finally:
            browser.close()


def test_a_company_on_two_channels_is_compared_per_channel(
    builder: SurveyBuilder, tmp_path: Path
) -> None:
    """Wave 1 by form (answered); wave 2 the form is blocked and the survey falls back to
    e-mail, which answers: the form broke (an alert), the e-mail channel is new (no
    comparison), and the trend page has a chart per channel."""
    from datetime import timedelta

    w1, w2 = builder.wave("wave-1"), builder.wave("wave-2")
    cid = builder.company("Alef")
    builder.reply(builder.submit(cid, w1, W1), W1 + timedelta(minutes=30))
    builder.submit(cid, w2, None, state="blocked", reason="captcha: recaptcha", outcome="captcha")
    mail = builder.submit(
        cid, w2, W1 + timedelta(days=14), channel="email", channel_note="form blocked -> e-mail"
    )
    builder.reply(mail, W1 + timedelta(days=14, minutes=20))
    results = compute(load_frames(builder.store), SurveyConfig(), builder.companies, NOW)
    found = changes_for_worse(results, "wave-2", "wave-1", SurveyConfig().tiers)
    assert [(a.company, a.kind, a.channel) for a in found] == [("Alef", "form_broke", "form")]
    paths = build_report(builder.store, builder.workspace(), tmp_path / "r", now=NOW, wave="wave-2")
    trend = _doc(paths.dir / "trends.html")
    figs = trend.xpath("//figure[@class='trend']")
    assert sorted(f.get("id") for f in figs) == ["trend-alef", "trend-alef-email"]
    for f in figs:
        assert f.xpath(".//figcaption/span[@class='channel']")  # says which channel
    email = trend.get_element_by_id("trend-alef-email")
    assert [r.get("data-wave") for r in email.xpath(".//tbody/tr")] == ["wave-2"]
    row = _doc(paths.index_html).xpath("//tr[@data-kind='form_broke']")[0]
    assert row.xpath(".//a/@href")[0] == "companies/alef.html"
