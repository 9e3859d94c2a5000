"""A report from a PostgreSQL store is the report from a SQLite store, byte for byte.

The same survey (test_example12's, computed by hand) is written through the store's methods
into a SQLite file and into a real PostgreSQL database (tests/conftest.py starts one); the
two reports, CSV, JSON, leaderboard and company pages, must not differ.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl

from reports.render import build_report

from .conftest import SurveyBuilder
from .test_example12 import NOW, fill_survey12


def _report_files(b: SurveyBuilder, out: Path) -> dict[str, object]:
    """Every file of the report: its bytes; a workbook's cells (a .xlsx, a zip, holds the
    time it was written)."""
    paths = build_report(b.store, b.workspace(), out_dir=out, now=NOW, wave="wave-1")
    files: dict[str, object] = {}
    for p in sorted(paths.dir.rglob("*")):
        if p.suffix == ".xlsx":
            book = openpyxl.load_workbook(p)
            files[p.name] = {ws.title: list(ws.values) for ws in book.worksheets}
            book.close()
        elif p.is_file():
            files[str(p.relative_to(paths.dir))] = p.read_bytes()
    return files


def test_a_report_from_postgresql_is_the_report_from_sqlite(tmp_path: Path, pg_url: str) -> None:
    reports = {}
    for name, url in (("sqlite", None), ("postgresql", pg_url)):
        root = tmp_path / name
        root.mkdir()
        b = SurveyBuilder(root, store_url=url)
        try:
            fill_survey12(b)
            b.survey = b.survey.model_copy(update={"store": None})  # the same survey.yaml
            reports[name] = _report_files(b, tmp_path / f"out-{name}")
        finally:
            b.store.close()
    sqlite, pg = reports["sqlite"], reports["postgresql"]
    assert {"results.csv", "results.json", "index.html"} <= sqlite.keys()
    assert any(name.startswith("companies/") for name in sqlite)
    assert pg.keys() == sqlite.keys()
    for name in sqlite:
        assert pg[name] == sqlite[name], f"{name} differs between SQLite and PostgreSQL"
