"""Build one wave's report folder: leaderboard, company pages, methodology, exports.

The work is in three modules, one per seam: ``reports.build`` turns the store's frames
into view models, ``reports.exports`` writes results.csv/json/xlsx a chunk at a time,
``reports.views`` renders the HTML pages. ``build_report`` runs them in order; the names
below are kept for the callers of the earlier single module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from audit import store as st
from audit.config import Workspace
from audit.errors import ReportError
from reports.build import iso_utc, num, origin_of, page_files, prepare, review_sentence
from reports.exports import (
    XlsxWriter,
    export_columns,
    export_table,
    write_csv,
    write_exports,
    write_json,
    write_xlsx,
)
from reports.safety import safe_filename
from reports.views import GROUP_SIZE, PAGE_ROWS, Layout, environment, render_all, ui_strings

__all__ = [
    "GROUP_SIZE",
    "PAGE_ROWS",
    "ReportPaths",
    "build_report",
    "environment",
    "export_columns",
    "export_table",
    "iso_utc",
    "num",
    "origin_of",
    "review_sentence",
    "ui_strings",
    "write_csv",
    "write_json",
    "write_xlsx",
]


@dataclass
class ReportPaths:
    dir: Path
    index_html: Path
    results_csv: Path
    results_json: Path
    results_xlsx: Path


def build_report(
    store: st.Store,
    workspace: Workspace,
    out_dir: Path | None = None,
    lang: str = "en",
    now: datetime | None = None,
    wave: str | None = None,
    basis: str = "business",
    page_rows: int = PAGE_ROWS,
    group_size: int = GROUP_SIZE,
) -> ReportPaths:
    """Write one wave's report folder and return the paths of its main files.

    ``page_rows``: leaderboard rows written as HTML; a wave with more companies gets the
    compact form (data island, companies ``group_size`` to a page; see reports.views).
    """
    data = prepare(store, workspace, lang=lang, now=now, wave=wave, basis=basis)
    out = (
        Path(out_dir)
        if out_dir is not None
        else workspace.reports_dir / safe_filename(data.wave_name, set())
    )
    try:
        (out / "companies").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(f"cannot create the report folder {out}: {exc.strerror}") from None
    paths = ReportPaths(
        dir=out,
        index_html=out / "index.html",
        results_csv=out / "results.csv",
        results_json=out / "results.json",
        results_xlsx=out / "results.xlsx",
    )
    layout = Layout.for_size(len(data.results), page_rows, group_size)
    try:
        xlsx = XlsxWriter(data.results, data.curves, data.steps, paths.results_xlsx)
        try:

            def exports() -> None:
                write_exports(
                    data.results,
                    data.curves,
                    data.steps,
                    workspace.survey,
                    data.wave_name,
                    data.offset,
                    data.now,
                    paths.results_csv,
                    paths.results_json,
                    data.reviewed,
                )

            file_of = page_files(data.results, layout.group_size)
            render_all(data, out, layout, file_of, alongside=exports)
        finally:
            xlsx.finish()
    except OSError as exc:
        raise ReportError(f"cannot write the report in {out}: {exc}") from None
    return paths
