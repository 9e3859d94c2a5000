"""The report folder parsed and checked row by row (STYLE 14)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest
from bs4 import BeautifulSoup
from openpyxl import load_workbook

from audit.errors import ReportError
from reports.render import build_report

IL = ZoneInfo("Asia/Jerusalem")
START = datetime(2026, 11, 18, 9, 0, tzinfo=IL)  # Wednesday
NOW = datetime(2026, 12, 10, 12, 0, tzinfo=IL)

HOSTILE = [
    "<script>window.__pwned=1</script>",
    '"><img src=x onerror="window.__pwned=1">',
    "javascript:window.__pwned=1",
    "\u202eevil\u202c moc.knab",
    '=HYPERLINK("http://x.test")',
]

pytestmark = pytest.mark.clock  # rendered and ranked at pinned instants too


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text("utf-8"), "lxml")


@pytest.fixture
def small(builder):
    """Six companies, one wave, a Hebrew name, a screenshot pair and a blocked form."""
    b = builder
    w = b.wave("wave-1", close_at=datetime(2026, 12, 2, 18, 0, tzinfo=IL))
    run = b.run()
    plan = [
        ("Leumi", "banks", 33),
        ("Cellcom", "telecom", 60),
        ("בנק הפועלים", "banks", 150),
        ("Harel", "insurance", None),
        ("Orange", "telecom", 240),
    ]
    sids = {}
    for name, sector, minutes in plan:
        cid = b.company(name, sector=sector)
        sid = sids[name] = b.submit(cid, w, START, run_id=run, page_url="https://x.test/contact")
        if minutes:
            b.reply(
                sid,
                START + timedelta(minutes=minutes),
                subject=f"Re: {name}",
                text=f"שלום דנה, reply from {name}",
            )
    b.evidence(sids["Leumi"], "screenshot_before", "evidence/wave-1/leumi/before.png", b"png1")
    b.evidence(sids["Leumi"], "screenshot_after", "evidence/wave-1/leumi/after.png", b"png2")
    cid = b.company("Mirs", sector="telecom")
    b.submit(cid, w, None, state="blocked", reason="captcha (reCAPTCHA)", outcome="captcha")
    return b


def test_leaderboard_rows_in_order(small, tmp_path):
    paths = build_report(small.store, small.workspace(), out_dir=tmp_path / "r", now=NOW)
    doc = soup(paths.index_html)
    assert doc.html["lang"] == "en" and doc.html["dir"] == "ltr"
    heads = [th.get_text(strip=True) for th in doc.select("#leaderboard thead th")]
    assert heads[:5] == ["Rank", "Company", "Sector", "Status", "Business time"]
    rows = [
        [td.get_text(strip=True) for td in tr.select("td")]
        for tr in doc.select("#leaderboard tbody tr")
    ]
    assert [r[:4] for r in rows] == [
        ["1", "Leumi", "banks", "answered"],
        ["2", "Cellcom", "telecom", "answered"],
        ["3", "בנק הפועלים", "banks", "answered"],
        ["4", "Orange", "telecom", "answered"],
        ["5", "Harel", "insurance", "no reply by close"],
    ]
    assert [r[4] for r in rows] == ["33 min", "1 h", "2 h 30 min", "4 h", ""]
    assert [r[7] for r in rows] == ["good", "good", "fair", "fair", "no reply"]
    # data-v carries sortable numbers
    first = doc.select_one("#leaderboard tbody tr")
    assert first.select("td")[4]["data-v"] == "1980"
    # every company name is dir="auto"; the Hebrew one renders by its own direction
    for a in doc.select("#leaderboard a.company"):
        assert a["dir"] == "auto"
    # not reachable: separate table with the reason, not in the ranking
    nr = [
        [td.get_text(strip=True) for td in tr.select("td")]
        for tr in doc.select("#not-reachable-table tbody tr")
    ]
    assert nr == [
        [
            "Mirs",
            "telecom",
            "blocked",
            "captcha (reCAPTCHA) (next: audit run --submit --retry-failed --assist --only "
            "'Mirs' (complete it by hand))",
        ]
    ]
    # sector filter options
    opts = [o["value"] for o in doc.select("#sector-filter option")]
    assert opts == ["", "banks", "insurance", "telecom"]
    # charts are inline SVG; no external resource anywhere
    assert len(doc.select("svg.chart")) >= 3
    for tag in doc.find_all(["img", "script", "link", "iframe"]):
        assert not tag.get("src", "").startswith("http") and tag.name != "link"
    assert doc.select_one("#simulated") is None
    csp = doc.select_one('meta[http-equiv="Content-Security-Policy"]')["content"]
    assert "script-src 'sha256-" in csp and "default-src 'none'" in csp


def test_company_page_timeline_evidence_and_escaping(small, tmp_path):
    paths = build_report(small.store, small.workspace(), out_dir=tmp_path / "r", now=NOW)
    doc = soup(paths.index_html)
    link = doc.select_one('#leaderboard a.company[href*="leumi"]')["href"]
    page = paths.dir / unquote(link)
    assert page.is_file()
    cp = soup(page)
    assert cp.select_one("h1").get_text() == "Leumi"
    events = [li.select_one("strong").get_text() for li in cp.select("ol.timeline li")]
    assert events == ["Form submitted", "Human reply"]
    assert cp.select_one("pre.reply").get_text() == "שלום דנה, reply from Leumi"
    assert cp.select_one("pre.reply")["dir"] == "auto"
    imgs = [img["src"] for img in cp.select(".shots img")]
    assert len(imgs) == 2
    for src in imgs:  # relative, resolvable from the page
        assert not src.startswith(("/", "file:", "http"))
        assert (page.parent / unquote(src)).resolve().is_file()
    shas = [c.get_text() for c in cp.select("table.evidence code")]
    assert len(shas) == 2 and all(len(s) == 64 for s in shas)
    # the Hebrew company has its own page too
    heb = doc.select_one('#leaderboard a.company[href*="%D7"]')
    assert heb is not None and (paths.dir / unquote(heb["href"])).is_file()


def test_hebrew_interface_is_rtl(small, tmp_path):
    paths = build_report(
        small.store, small.workspace(), out_dir=tmp_path / "he", now=NOW, lang="he"
    )
    doc = soup(paths.index_html)
    assert doc.html["lang"] == "he" and doc.html["dir"] == "rtl"
    assert doc.select("#leaderboard thead th")[0].get_text(strip=True) == "דירוג"
    cp = soup(next((paths.dir / "companies").glob("*.html")))
    assert cp.html["dir"] == "rtl"
    meth = soup(paths.dir / "methodology.html")
    assert meth.html["dir"] == "rtl"


def test_default_folder_banner_and_methodology(builder, tmp_path):
    b = builder
    w = b.wave("wave-2", close_at=datetime(2026, 9, 30, 20, 0, tzinfo=IL))
    run = b.run(clock_offset_s=3 * 86400)
    cid = b.company("Leumi")
    sid = b.submit(cid, w, datetime(2026, 9, 17, 10, 0, tzinfo=IL), run_id=run)
    b.reply(sid, datetime(2026, 9, 17, 10, 33, tzinfo=IL))
    b.survey.survey.wave = "wave-2"
    paths = build_report(b.store, b.workspace(), now=NOW)
    assert paths.dir == b.root / "reports" / "wave-2"
    banner = soup(paths.index_html).select_one("#simulated").get_text()
    assert banner == (
        "Simulated time: this survey was replayed with a clock 3 days behind real time (demo)"
    )
    meth = soup(paths.dir / "methodology.html")
    text = meth.get_text(" ")
    assert "Yom Kippur" in text and "Asia/Jerusalem" in text
    assert "2026-09-21" in text
    assert soup(next((paths.dir / "companies").glob("*.html"))).select_one("#simulated")


def test_unknown_wave_and_language(small, tmp_path):
    with pytest.raises(ReportError, match="no wave named"):
        build_report(small.store, small.workspace(), out_dir=tmp_path, wave="nope", now=NOW)
    with pytest.raises(ReportError, match="language"):
        build_report(small.store, small.workspace(), out_dir=tmp_path, lang="fr", now=NOW)


def test_change_since_previous_wave(small, tmp_path):
    b = small
    w2 = b.wave("wave-2", close_at=datetime(2027, 3, 2, 18, 0, tzinfo=IL))
    start = datetime(2027, 2, 17, 9, 0, tzinfo=IL)
    for name, minutes in (("Orange", 10), ("Leumi", 90)):
        cid = b.company(name, sector={"Orange": "telecom", "Leumi": "banks"}[name])
        sid = b.submit(cid, w2, start)
        b.reply(sid, start + timedelta(minutes=minutes))
    now = datetime(2027, 3, 10, tzinfo=IL)
    paths = build_report(b.store, b.workspace(), out_dir=tmp_path / "w2", wave="wave-2", now=now)
    rows = {
        tr.select("td")[1].get_text(strip=True): tr.select("td")[-1].get_text(strip=True)
        for tr in soup(paths.index_html).select("#leaderboard tbody tr")
    }
    assert rows == {"Orange": "+3", "Leumi": "-1"}  # wave-1 ranks: Orange 4, Leumi 1
    page = soup(paths.dir / "companies" / "orange.html")
    hist = [
        [td.get_text(strip=True) for td in tr.select("td")][:2]
        for tr in page.select("table.history tbody tr")
    ]
    assert hist == [["wave-1", "4"], ["wave-2", "1"]]


def test_hostile_strings_are_inert_in_every_output(builder, tmp_path):
    b = builder
    w = b.wave("wave-1", close_at=datetime(2026, 12, 2, 18, 0, tzinfo=IL))
    for i, bad in enumerate(HOSTILE):
        cid = b.company(f"{bad} #{i}", sector=bad, id=f"bad-{i}")
        sid = b.submit(cid, w, START, page_url=bad)
        b.reply(sid, START + timedelta(minutes=5 + i), subject=bad, text=bad, sender=bad)
    cid = b.company("Escape ../../", id="../../etc/passwd", unchecked=True)
    b.submit(cid, w, None, state="failed", reason=HOSTILE[0])
    paths = build_report(b.store, b.workspace(), out_dir=tmp_path / "r", now=NOW)
    pages = [
        paths.index_html,
        paths.dir / "methodology.html",
        *sorted((paths.dir / "companies").glob("*.html")),
    ]
    assert len(pages) == 2 + len(HOSTILE) + 1
    for page in pages:
        raw = page.read_text("utf-8")
        assert "\u202e" not in raw and "\u202c" not in raw
        doc = soup(page)
        scripts = doc.find_all("script")
        assert len(scripts) == (1 if page == paths.index_html else 0)
        assert "__pwned" not in "".join(s.get_text() for s in scripts)
        for tag in doc.find_all(True):
            assert not any(a.lower().startswith("on") for a in tag.attrs), (page, tag)
            for attr in ("href", "src"):
                assert not tag.get(attr, "").strip().lower().startswith("javascript:")
        assert not doc.select("img[src=x]")
    # file names stay inside companies/
    assert all(p.parent == paths.dir / "companies" for p in pages[2:])
    # the spreadsheet does not turn a company name into a formula
    wb = load_workbook(paths.results_xlsx)
    values = [c.value for row in wb["results"].iter_rows() for c in row]
    assert not any(isinstance(v, str) and v.startswith("=") for v in values)
    assert any(isinstance(v, str) and v.startswith("'=HYPERLINK") for v in values)
    # JSON keeps the raw text (it is data for programs; results.csv is neutralised, see
    # test_exports_security.py)
    doc = json.loads(paths.results_json.read_text("utf-8"))
    assert {r["company"] for r in doc["results"]} >= {f"{HOSTILE[0]} #0"}


def test_decisions_by_hand_are_counted_and_shown(builder, tmp_path):
    """The report uses `audit review`'s decisions (they rewrite the contact events) and
    says how many there were: in results.json, the methodology and the company page."""
    b = builder
    w = b.wave("wave-1", close_at=datetime(2026, 12, 2, 18, 0, tzinfo=IL))
    sids = [b.submit(b.company(n), w, START) for n in ("Leumi", "Cellcom", "Harel")]
    b.reply(sids[0], START + timedelta(minutes=33), review="reclassified")
    b.reply(sids[1], START + timedelta(minutes=40), review="assigned", match_method="manual")
    b.reply(sids[2], START + timedelta(minutes=50), kind="auto_ack", review="pending")
    b.reply(sids[2], START + timedelta(minutes=70))
    paths = build_report(b.store, b.workspace(), out_dir=tmp_path / "r", now=NOW)
    doc = json.loads(paths.results_json.read_text("utf-8"))
    assert doc["review"] == {
        "messages": 4, "by_hand": 2, "assigned": 1, "reclassified": 1, "dismissed": 0,
        "pending": 1,
    }  # fmt: skip
    text = soup(paths.dir / "methodology.html").get_text(" ")
    assert (
        "Of the 4 e-mail messages matched to this wave's companies, 2 were decided by hand" in text
    )
    assert "1 still await review" in text
    by_hand = {
        p.name: len(soup(p).select(".by-hand")) for p in (paths.dir / "companies").glob("*.html")
    }
    assert sorted(by_hand.values()) == [0, 1, 1]


def test_company_page_says_who_signed_each_reply(builder, tmp_path):
    b = builder
    w = b.wave("wave-1", close_at=datetime(2026, 12, 2, 18, 0, tzinfo=IL))
    sids = {n: b.submit(b.company(n), w, START) for n in ("Leumi", "Cellcom", "Harel", "Orange")}
    at = START + timedelta(minutes=33)
    b.reply(sids["Leumi"], at, dkim="pass", dkim_domain="leumi.co.il",
            dkim_evidence=json.dumps({"aligned": True}))  # fmt: skip
    b.reply(sids["Cellcom"], at, dkim="pass", dkim_domain="zendesk.com",
            dkim_evidence=json.dumps({"aligned": False}))  # fmt: skip
    b.reply(sids["Harel"], at, dkim="fail", dkim_domain="harel.co.il")
    b.reply(sids["Orange"], at)  # recorded before verification existed
    paths = build_report(b.store, b.workspace(), out_dir=tmp_path / "r", now=NOW)
    said = {}
    for page in (paths.dir / "companies").glob("*.html"):
        cp = soup(page)
        span = cp.select_one(".message .origin")
        said[cp.select_one("h1").get_text()] = span.get_text(" ", strip=True) if span else None
    assert said == {
        "Leumi": "signed by leumi.co.il",
        "Cellcom": "signed by zendesk.com (not the sender's domain)",
        "Harel": "signature failed",
        "Orange": None,
    }


def test_channels_each_row_says_its_channel_and_the_methodology_why(builder, tmp_path):
    """A company surveyed on both channels has a row for each; the leaderboard reads per
    channel (a filter); the methodology says which channel each company got and why; the
    exports carry a channel column."""
    import csv

    b = builder
    w = b.wave("wave-1", close_at=datetime(2026, 12, 2, 18, 0, tzinfo=IL))
    both = b.company("Both Ways", sector="banks")
    sid = b.submit(both, w, START, channel_note=None)
    b.reply(sid, START + timedelta(minutes=30))
    sid = b.submit(both, w, START, channel="email", channel_note="channel: both in companies.yaml")
    b.reply(sid, START + timedelta(minutes=90))
    fell = b.company("Fell Back", sector="telecom")
    b.submit(fell, w, None, state="blocked", reason="captcha", outcome="captcha")
    b.submit(
        fell, w, START, channel="email", channel_note="form blocked: captcha -> e-mail fallback"
    )
    paths = build_report(b.store, b.workspace(), out_dir=tmp_path / "r", now=NOW)
    doc = soup(paths.index_html)
    heads = [th.get_text(strip=True) for th in doc.select("#leaderboard thead th")]
    col = heads.index("Channel")
    rows = [
        [td.get_text(strip=True) for td in tr.select("td")]
        for tr in doc.select("#leaderboard tbody tr")
    ]
    assert [(r[1], r[col]) for r in rows] == [
        ("Both Ways", "web form"),
        ("Both Ways", "e-mail"),
        ("Fell Back", "e-mail"),
    ]
    assert [tr["data-channel"] for tr in doc.select("#leaderboard tbody tr")] == [
        "form",
        "email",
        "email",
    ]
    assert [o["value"] for o in doc.select("#channel-filter option")] == ["", "email", "form"]
    nr = [td.get_text(strip=True) for td in doc.select("#not-reachable-table tbody tr td")]
    assert nr[:4] == ["Fell Back", "telecom", "blocked", "web form"]

    meth = soup(paths.index_html.parent / "methodology.html")
    table = [
        [td.get_text(strip=True) for td in tr.select("td")]
        for tr in meth.select("#channels tbody tr")
    ]
    assert table == [
        ["Both Ways", "e-mail", "channel: both in companies.yaml"],
        ["Both Ways", "web form", "web form (default)"],
        ["Fell Back", "e-mail", "form blocked: captcha -> e-mail fallback"],
        ["Fell Back", "web form", "web form (default)"],
    ]
    with paths.results_csv.open(encoding="utf-8-sig") as f:
        exported = list(csv.DictReader(f))
    assert sorted((r["company"], r["channel"]) for r in exported) == [
        ("Both Ways", "email"),
        ("Both Ways", "form"),
        ("Fell Back", "email"),
        ("Fell Back", "form"),
    ]
    sheet = load_workbook(paths.results_xlsx)["results"]
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    assert "channel" in header and "channel_note" in header

    # a company on both channels has a page per channel, each with its own timeline
    links = {
        (tr.select("td")[1].get_text(strip=True), tr["data-channel"]): tr.select_one("a")["href"]
        for tr in doc.select("#leaderboard tbody tr")
    }
    form_page, mail_page = links[("Both Ways", "form")], links[("Both Ways", "email")]
    assert form_page != mail_page
    facts = {}
    for channel, href in (("form", form_page), ("email", mail_page)):
        page = soup(paths.index_html.parent / unquote(href))
        facts[channel] = (
            page.select_one("dd.channel").get_text(strip=True)
            if page.select_one("dd.channel")
            else None,
            page.select_one("dl.facts").get_text(" ", strip=True),
        )
    assert facts["form"][0] is None and facts["email"][0] == "e-mail"
    assert "30 min" in facts["form"][1] and "1 h 30 min" not in facts["form"][1]
    assert "1 h 30 min" in facts["email"][1]
