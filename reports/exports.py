"""The wave's exports: results.csv, results.json and results.xlsx, written in chunks.

Rows are converted from the results frame a chunk at a time (column by column, which is
fast), so a wave of 100,000 companies never holds the whole table as Python objects, and
each chunk goes to the CSV and the JSON before the next one is made. The bytes are those
of one-shot writers (``json.dumps(doc, indent=1)``, ``csv.writer.writerows``): chunking
changes the memory, not the files.

Spreadsheet safety: a text cell a spreadsheet would run as a formula gets a leading quote
(``safety.sheet_safe``) in the CSV and the XLSX; the JSON is data for programs and keeps
the raw text.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import multiprocessing as mp
import os
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd

from audit.models import SurveyConfig
from reports.build import iso_utc, num
from reports.metrics import EXTRA_COLUMNS, RESULT_COLUMNS
from reports.safety import sheet_safe
from reports.survival import SurvivalCurve

log = logging.getLogger(__name__)

CHUNK_ROWS = 5_000
XLSX_PROCESS_MIN_ROWS = 5_000

Table = tuple[list[str], list[list[Any]]]


def export_columns(results: pd.DataFrame) -> list[str]:
    return RESULT_COLUMNS + [c for c in EXTRA_COLUMNS if c in results.columns]


def _column_values(s: pd.Series) -> list[Any]:
    """One column as plain Python values: times as ISO 8601 UTC strings, numbers as
    int/float, missing values as None."""
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_convert(UTC)
        base = s.dt.strftime("%Y-%m-%dT%H:%M:%S")
        ms = (s.dt.microsecond // 1000).fillna(0).astype(int)
        frac = np.where(ms > 0, "." + ms.astype(str).str.zfill(3), "")
        text = base + frac + "Z"
        return [None if pd.isna(v) else v for v in text.where(s.notna()).tolist()]
    if s.dtype == bool:
        return [bool(v) for v in s.tolist()]
    if pd.api.types.is_numeric_dtype(s.dtype):
        return [num(v) for v in s.astype("float64").tolist()]
    return [
        None if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) else v
        for v in s.tolist()
    ]


def export_chunks(results: pd.DataFrame, size: int | None = None) -> Iterator[list[list[Any]]]:
    """The export rows, ``size`` (default ``CHUNK_ROWS``) at a time, in the frame's order."""
    cols = export_columns(results)
    size = size or CHUNK_ROWS
    for start in range(0, len(results), size):
        part = results.iloc[start : start + size]
        columns = [_column_values(part[c]) for c in cols]
        yield [list(row) for row in zip(*columns, strict=True)]


def export_table(results: pd.DataFrame) -> Table:
    """The whole export table at once (small surveys, tools)."""
    return export_columns(results), [row for chunk in export_chunks(results) for row in chunk]


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    return str(value)


def _csv_rows(rows: list[list[Any]]) -> Iterator[list[str]]:
    return ([_csv_text(sheet_safe(v)) for v in row] for row in rows)


def write_csv(table: Table, path: Path) -> None:
    """results.csv from a whole table (see ``ExportWriter`` for the chunked one)."""
    cols, rows = table
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        w.writerows(_csv_rows(rows))


def _curve_dict(c: SurvivalCurve) -> dict[str, Any]:
    return {
        "group": c.group,
        "n": c.n,
        "events": c.events,
        "censored": c.censored,
        "median_seconds": num(c.median_s),
        "median_reached": bool(math.isfinite(c.median_s)),
        "median_ci_seconds": [num(c.median_low_s), num(c.median_high_s)],
    }


def _json_head(
    curves: list[SurvivalCurve],
    steps: list[tuple[str, int]],
    survey: SurveyConfig,
    wave_name: str,
    offset: float,
    now: datetime,
    reviewed: dict[str, int] | None,
) -> dict[str, Any]:
    return {
        "survey": survey.survey.name,
        "wave": wave_name,
        "generated_at": iso_utc(now),
        "simulated_clock_offset_s": num(offset),
        "calendar": survey.calendar.model_dump(),
        "tiers": [{"name": t.name, "max_seconds": num(t.seconds)} for t in survey.tiers],
        "funnel": [{"step": s, "count": n} for s, n in steps],
        "review": reviewed or {},
        "survival": [_curve_dict(c) for c in curves],
    }


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1, allow_nan=False)


class _JsonResults:
    """results.json written as ``json.dumps(doc, indent=1)`` would write it, with the
    ``results`` list (the doc's last key) streamed a chunk of rows at a time."""

    def __init__(self, fh: TextIO, head: dict[str, Any], cols: list[str]) -> None:
        self.fh, self.cols, self.n = fh, cols, 0
        text = _dumps(head)
        fh.write(text[: -len("\n}")] + ',\n "results": [')

    def rows(self, rows: list[list[Any]]) -> None:
        parts = []
        for row in rows:
            item = _dumps(dict(zip(self.cols, row, strict=True))).replace("\n", "\n  ")
            parts.append(("\n  " if self.n == 0 else ",\n  ") + item)
            self.n += 1
        self.fh.write("".join(parts))

    def close(self) -> None:
        self.fh.write("\n ]\n}" if self.n else "]\n}")


def write_json(
    table: Table,
    curves: list[SurvivalCurve],
    steps: list[tuple[str, int]],
    survey: SurveyConfig,
    wave_name: str,
    offset: float,
    now: datetime,
    path: Path,
    reviewed: dict[str, int] | None = None,
) -> None:
    """``reviewed``: how the wave's messages were decided (metrics.review_counts)."""
    head = _json_head(curves, steps, survey, wave_name, offset, now, reviewed)
    with path.open("w", encoding="utf-8") as fh:
        out = _JsonResults(fh, head, table[0])
        out.rows(table[1])
        out.close()


def write_exports(
    results: pd.DataFrame,
    curves: list[SurvivalCurve],
    steps: list[tuple[str, int]],
    survey: SurveyConfig,
    wave_name: str,
    offset: float,
    now: datetime,
    csv_path: Path,
    json_path: Path,
    reviewed: dict[str, int] | None = None,
    chunk_rows: int | None = None,
) -> None:
    """results.csv and results.json in one pass over the rows, a chunk at a time."""
    cols = export_columns(results)
    head = _json_head(curves, steps, survey, wave_name, offset, now, reviewed)
    with (
        csv_path.open("w", newline="", encoding="utf-8") as cfh,
        json_path.open("w", encoding="utf-8") as jfh,
    ):
        w = csv.writer(cfh)
        w.writerow(cols)
        out = _JsonResults(jfh, head, cols)
        for rows in export_chunks(results, chunk_rows):
            w.writerows(_csv_rows(rows))
            out.rows(rows)
        out.close()


def write_xlsx(
    results: pd.DataFrame | Table,
    curves: list[SurvivalCurve],
    steps: list[tuple[str, int]],
    path: Path,
) -> None:
    """results.xlsx (openpyxl's write-only workbook: rows go out as they are appended)."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("results")
    if isinstance(results, pd.DataFrame):
        ws.append(export_columns(results))
        chunks: Iterator[list[list[Any]]] = export_chunks(results)
    else:
        ws.append(results[0])
        chunks = iter([results[1]])
    for rows in chunks:
        for row in rows:
            ws.append([sheet_safe(v) for v in row])
    ws2 = wb.create_sheet("survival")
    ws2.append(["group", "n", "events", "censored", "median_s", "ci_low_s", "ci_high_s"])
    for c in curves:
        d = _curve_dict(c)
        ws2.append(
            [sheet_safe(c.group), c.n, c.events, c.censored, d["median_seconds"]]
            + d["median_ci_seconds"]
        )
    ws3 = wb.create_sheet("funnel")
    ws3.append(["step", "count"])
    for s, n in steps:
        ws3.append([s, n])
    wb.save(path)


class XlsxWriter:
    """Writes the workbook beside the HTML rendering: in a separate process for large
    surveys (openpyxl is the slowest writer and the machine has a second core; the process
    gets the export columns of the frame, not Python rows), in this process for small
    ones or when a process cannot be started."""

    def __init__(
        self,
        results: pd.DataFrame,
        curves: list[SurvivalCurve],
        steps: list[tuple[str, int]],
        path: Path,
    ) -> None:
        self.args = (results[export_columns(results)], curves, steps, path)
        self.pool: ProcessPoolExecutor | None = None
        self.future: Future[None] | None = None
        if len(results) >= XLSX_PROCESS_MIN_ROWS and (os.cpu_count() or 1) > 1:
            try:
                self.pool = ProcessPoolExecutor(1, mp_context=mp.get_context("spawn"))
                self.future = self.pool.submit(write_xlsx, *self.args)
            except (OSError, RuntimeError) as exc:  # no processes here: write it inline
                log.debug("xlsx in-process: %s", exc)
                self._shutdown()

    def _shutdown(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
        self.pool, self.future = None, None

    def finish(self) -> None:
        try:
            if self.future is not None:
                try:
                    self.future.result()
                    return
                except BrokenProcessPool as exc:
                    log.debug("xlsx worker died (%s); writing in-process", exc)
            write_xlsx(*self.args)
        finally:
            self._shutdown()
