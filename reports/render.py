"""Build one wave's report folder: leaderboard, company pages, methodology, exports.

The folder is self-contained and opens from disk: CSS and the small sort/filter script
are inline (the script is pinned by a Content-Security-Policy hash, so nothing else can
run even if escaping ever failed), charts are inline SVG, screenshots are relative links
into the workspace's evidence/ folder. Company content is untrusted and goes through
jinja2 autoescape plus ``safety.neutralise`` (bidi controls) via the environment's
``finalize`` hook; links to company sites are kept only for http(s) URLs.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import logging
import math
import multiprocessing as mp
import os
from collections import defaultdict
from collections.abc import Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup, escape

from audit import store as st
from audit.config import Workspace
from audit.errors import ReportError
from audit.models import DECIDED_BY_HAND, SurveyConfig
from reports import charts
from reports.calendar import BusinessCalendar
from reports.i18n import LANGS, fmt_duration, strings, tier_label
from reports.metrics import (
    EXTRA_COLUMNS,
    NO_REPLY_TIER,
    RESULT_COLUMNS,
    UNREACHABLE_STATUSES,
    Frames,
    channel_table,
    compute,
    funnel,
    load_frames,
    review_counts,
)
from reports.safety import neutralise, relative_href, safe_filename, safe_href, sheet_safe
from reports.survival import SurvivalCurve, survival_by_sector

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "templates"
MAX_REPLY_CHARS = 20_000
SCREENSHOT_KINDS = ("screenshot_before", "screenshot_after")
XLSX_PROCESS_MIN_ROWS = 5_000


@dataclass
class ReportPaths:
    dir: Path
    index_html: Path
    results_csv: Path
    results_json: Path
    results_xlsx: Path


# ---------------------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------------------
def iso_utc(value: Any) -> str:
    """2026-11-18T07:00:00Z (milliseconds only when not whole); '' for missing."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    ts = pd.Timestamp(value).tz_convert(UTC)
    if ts.microsecond or ts.nanosecond:
        return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def num(value: Any) -> int | float | None:
    """Integers stay integers, floats keep 3 decimals, NaN/inf become None."""
    if value is None or value is pd.NA:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(f):
        return None
    return int(round(f)) if abs(f - round(f)) < 1e-9 else round(f, 3)


def _finalize(value: Any) -> Any:
    """Every value printed by a template: None is an error, strings lose bidi controls."""
    if isinstance(value, Markup):
        return value
    if isinstance(value, str):
        return neutralise(value)
    return value


def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        trim_blocks=False,
        keep_trailing_newline=True,
    )


def ui_strings(lang: str) -> dict[str, Markup]:
    """The interface strings, escaped once: trusted constants that skip per-use escaping."""
    return {k: escape(v) for k, v in strings(lang).items()}


def _csp(script: str | None) -> str:
    if script is None:
        scripts = "'none'"
    else:
        digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
        scripts = f"'sha256-{digest}'"
    return (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' file: data:; "
        f"script-src {scripts}; base-uri 'none'; form-action 'none'"
    )


def _tool_version() -> str:
    try:
        return importlib_metadata.version("contact-audit")
    except importlib_metadata.PackageNotFoundError:
        return "dev"


# ---------------------------------------------------------------------------------------
# build_report
# ---------------------------------------------------------------------------------------
def _pick_wave(frames: Frames, survey: SurveyConfig, wave: str | None) -> pd.Series:
    waves = frames.waves.sort_values(["created_at", "id"])
    if waves.empty:
        raise ReportError("the store has no wave yet: run 'audit run' first")
    name = wave or survey.survey.wave
    match = waves[waves["name"] == name]
    if match.empty:
        if wave is not None:
            known = ", ".join(map(str, waves["name"].tolist()[:10]))
            raise ReportError(f"no wave named {wave!r} in the store (known: {known})")
        match = waves.tail(1)
    return match.iloc[0]


def _clock_offset(frames: Frames, wave_id: int) -> float:
    run_ids = frames.submissions.loc[frames.submissions["wave_id"] == wave_id, "run_id"]
    run_ids = set(run_ids.dropna().astype(int))
    runs = frames.runs[frames.runs["id"].isin(run_ids)]
    offsets = [float(v) for v in runs["clock_offset_s"].dropna() if float(v) != 0.0]
    return max(offsets, key=abs) if offsets else 0.0


def _days(offset_s: float) -> str:
    days = offset_s / 86400
    return f"{days:.0f}" if abs(days - round(days)) < 0.05 else f"{days:.1f}"


def build_report(
    store: st.Store,
    workspace: Workspace,
    out_dir: Path | None = None,
    lang: str = "en",
    now: datetime | None = None,
    wave: str | None = None,
    basis: str = "business",
) -> ReportPaths:
    """Write one wave's report folder and return the paths of its main files."""
    if lang not in LANGS:
        raise ReportError(f"report language {lang!r} is not available (use {', '.join(LANGS)})")
    frames = load_frames(store)
    survey = workspace.survey
    wave_row = _pick_wave(frames, survey, wave)
    wave_name = str(wave_row["name"])
    wave_id = int(wave_row["id"])
    offset = _clock_offset(frames, wave_id)
    if now is None:
        now = datetime.now(UTC) - timedelta(seconds=offset)
    out = (
        Path(out_dir)
        if out_dir is not None
        else workspace.reports_dir / safe_filename(wave_name, set())
    )
    try:
        (out / "companies").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(f"cannot create the report folder {out}: {exc.strerror}") from None

    all_results = compute(frames, survey, workspace.companies, now, basis=basis)
    results = all_results[all_results["wave"] == wave_name].reset_index(drop=True)
    curves = survival_by_sector(results, basis=basis)
    steps = funnel(results)
    reviewed = review_counts(frames, results["submission_id"].astype(int).tolist())

    paths = ReportPaths(
        dir=out,
        index_html=out / "index.html",
        results_csv=out / "results.csv",
        results_json=out / "results.json",
        results_xlsx=out / "results.xlsx",
    )
    try:
        table = export_table(results)
        write_csv(table, paths.results_csv)
        write_json(
            table, curves, steps, survey, wave_name, offset, now, paths.results_json, reviewed
        )
        xlsx = _XlsxWriter(table, curves, steps, paths.results_xlsx)
        try:
            _render_html(
                frames,
                all_results,
                results,
                curves,
                steps,
                workspace,
                wave_row,
                offset,
                now,
                lang,
                basis,
                out,
                reviewed,
            )
        finally:
            xlsx.finish()
    except OSError as exc:
        raise ReportError(f"cannot write the report in {out}: {exc}") from None
    return paths


# ---------------------------------------------------------------------------------------
# Exports
# ---------------------------------------------------------------------------------------
def export_columns(results: pd.DataFrame) -> list[str]:
    return RESULT_COLUMNS + [c for c in EXTRA_COLUMNS if c in results.columns]


def export_table(results: pd.DataFrame) -> tuple[list[str], list[list[Any]]]:
    """The export columns as plain Python values, converted column by column (fast):
    times as ISO 8601 UTC strings, numbers as int/float, missing values as None."""
    cols = export_columns(results)
    columns: list[list[Any]] = []
    for col in cols:
        s = results[col]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            s = s.dt.tz_convert(UTC)
            base = s.dt.strftime("%Y-%m-%dT%H:%M:%S")
            ms = (s.dt.microsecond // 1000).fillna(0).astype(int)
            frac = np.where(ms > 0, "." + ms.astype(str).str.zfill(3), "")
            text = base + frac + "Z"
            columns.append([None if pd.isna(v) else v for v in text.where(s.notna()).tolist()])
        elif s.dtype == bool:
            columns.append([bool(v) for v in s.tolist()])
        elif pd.api.types.is_numeric_dtype(s.dtype):
            columns.append([num(v) for v in s.astype("float64").tolist()])
        else:
            columns.append(
                [
                    None
                    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))
                    else v
                    for v in s.tolist()
                ]
            )
    return cols, [list(row) for row in zip(*columns, strict=True)] if columns else []


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    return str(value)


def write_csv(table: tuple[list[str], list[list[Any]]], path: Path) -> None:
    """results.csv: opened in a spreadsheet as often as read by a program, so a text cell
    that a spreadsheet would run as a formula (a company named ``=HYPERLINK(...)``) gets a
    leading quote, as in the XLSX; numbers and ISO times are written as they are."""
    cols, rows = table
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        w.writerows([_csv_text(sheet_safe(v)) for v in row] for row in rows)


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


def write_json(
    table: tuple[list[str], list[list[Any]]],
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
    doc = {
        "survey": survey.survey.name,
        "wave": wave_name,
        "generated_at": iso_utc(now),
        "simulated_clock_offset_s": num(offset),
        "calendar": survey.calendar.model_dump(),
        "tiers": [{"name": t.name, "max_seconds": num(t.seconds)} for t in survey.tiers],
        "funnel": [{"step": s, "count": n} for s, n in steps],
        "review": reviewed or {},
        "survival": [_curve_dict(c) for c in curves],
        "results": [dict(zip(table[0], row, strict=True)) for row in table[1]],
    }
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1, allow_nan=False), "utf-8")


def write_xlsx(
    table: tuple[list[str], list[list[Any]]],
    curves: list[SurvivalCurve],
    steps: list[tuple[str, int]],
    path: Path,
) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("results")
    cols, rows = table
    ws.append(cols)
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


class _XlsxWriter:
    """Writes the workbook beside the HTML rendering: in a separate process for large
    surveys (openpyxl is the slowest writer and the machine has a second core), in this
    process for small ones or when a process cannot be started."""

    def __init__(
        self,
        table: tuple[list[str], list[list[Any]]],
        curves: list[SurvivalCurve],
        steps: list[tuple[str, int]],
        path: Path,
    ) -> None:
        self.args = (table, curves, steps, path)
        self.pool: ProcessPoolExecutor | None = None
        self.future: Future[None] | None = None
        if len(table[1]) >= XLSX_PROCESS_MIN_ROWS and (os.cpu_count() or 1) > 1:
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


# ---------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------
def _rows(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts, faster than DataFrame.to_dict for wide frames of mixed types."""
    cols = list(df.columns)
    data = [df[c].tolist() for c in cols]
    return [dict(zip(cols, row, strict=True)) for row in zip(*data, strict=True)]


def _local(value: Any, tz: ZoneInfo) -> str:
    if value is None or pd.isna(value):
        return ""
    return pd.Timestamp(value).tz_convert(tz).strftime("%Y-%m-%d %H:%M")


def _sort_num(value: Any) -> str:
    n = num(value)
    return "" if n is None else str(n)


def _tier_class(tier: str, tiers: list[str]) -> str:
    if tier in tiers:
        return f"t{min(tiers.index(tier), 3)}"
    return "none"


def _curve_rows(curves: list[SurvivalCurve], lang: str) -> list[dict[str, Any]]:
    t = strings(lang)
    rows = []
    for c in curves:
        group = t["all_sectors"] if c.group == "all" else c.group
        if math.isnan(c.median_low_s):
            ci = ""
        else:
            ci = f"{fmt_duration(c.median_low_s, lang)} – {fmt_duration(c.median_high_s, lang)}"
        rows.append(
            {
                "group": group,
                "n": c.n,
                "events": c.events,
                "censored": c.censored,
                "median": fmt_duration(c.median_s, lang),
                "ci": ci,
            }
        )
    return rows


def _render_html(
    frames: Frames,
    all_results: pd.DataFrame,
    results: pd.DataFrame,
    curves: list[SurvivalCurve],
    steps: list[tuple[str, int]],
    workspace: Workspace,
    wave_row: pd.Series,
    offset: float,
    now: datetime,
    lang: str,
    basis: str,
    out: Path,
    reviewed: dict[str, int] | None = None,
) -> None:
    env = environment()
    t = ui_strings(lang)
    survey = workspace.survey
    tz = ZoneInfo(survey.calendar.timezone)
    tier_names = [x.name for x in sorted(survey.tiers, key=lambda x: x.seconds)]
    css = Markup((TEMPLATES / "report.css").read_text("utf-8"))
    script_text = (TEMPLATES / "leaderboard.js").read_text("utf-8")
    wave_name = str(wave_row["name"])
    common = {
        "lang": lang,
        "t": t,
        "css": css,
        "survey_name": survey.survey.name,
        "wave_name": wave_name,
        "generated": now.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z"),
        "tool_version": _tool_version(),
        "simulated_banner": t["simulated"].format(days=_days(offset)) if offset else "",
    }
    status_label = {
        s: t[f"status_{s}"]
        for s in (
            "answered",
            "auto_ack_only",
            "no_reply",
            "bounced",
            "form_failed",
            "blocked",
            "not_sent",
        )
    }

    # previous wave, for the change column
    waves = frames.waves.sort_values(["created_at", "id"]).reset_index(drop=True)
    pos = waves.index[waves["id"] == wave_row["id"]]
    prev_rank: dict[tuple[str, str], Any] = {}
    has_previous = False
    if len(pos) and pos[0] > 0:
        prev_name = waves.loc[pos[0] - 1, "name"]
        prev = all_results[all_results["wave"] == prev_name]
        keys = zip(prev["slug"], prev["channel"], strict=True)
        prev_rank = dict(zip(keys, prev["rank"], strict=True))
        has_previous = True

    taken: set[str] = set()
    file_of: dict[str, str] = {}
    for slug in results["slug"]:
        file_of[slug] = safe_filename(str(slug), taken) + ".html"

    rows, unreachable = [], []
    for r in _rows(results):
        href = "companies/" + relative_href(file_of[r["slug"]])
        status = r["status"]
        base = {
            "company": r["company"],
            "sector": r["sector"],
            "status": status,
            "status_label": status_label.get(status, status),
            "href": href,
            "channel": r["channel"],
            "channel_label": t.get(f"channel_{r['channel']}", r["channel"]),
        }
        if status in UNREACHABLE_STATUSES:
            reason = r["reason"] or ""
            if r.get("next_step"):
                step = f"{t['next_step']}: {r['next_step']}"
                reason = f"{reason} ({step})" if reason else step
            unreachable.append({**base, "reason": reason})
            continue
        rank = r["rank"]
        rank_txt = "" if rank is None or pd.isna(rank) else str(int(rank))
        change, change_sort = "", ""
        if has_previous:
            before = prev_rank.get((r["slug"], r["channel"]))
            if before is not None and not pd.isna(before) and rank_txt:
                diff = int(before) - int(rank)
                change = f"+{diff}" if diff > 0 else ("0" if diff == 0 else str(diff))
                change_sort = str(diff)
        tier = r["tier"]
        rows.append(
            {
                **base,
                "rank": rank_txt,
                "rank_sort": rank_txt,
                "business": fmt_duration(r["business_seconds"], lang),
                "business_sort": _sort_num(r["business_seconds"]),
                "wall": fmt_duration(r["response_seconds"], lang),
                "wall_sort": _sort_num(r["response_seconds"]),
                "first": fmt_duration(r["first_contact_seconds"], lang),
                "first_sort": _sort_num(r["first_contact_seconds"]),
                "tier": tier_label(tier, lang),
                "tier_sort": str(tier_names.index(tier)) if tier in tier_names else "9",
                "tier_class": _tier_class(tier, tier_names),
                "promise": t.get(r["promise_kept"], r["promise_kept"]) if r["promise_kept"] else "",
                "change": change,
                "change_sort": change_sort,
            }
        )

    overall = curves[0]
    median_ci = (
        ""
        if math.isnan(overall.median_low_s)
        else f"{fmt_duration(overall.median_low_s, lang)} – "
        f"{fmt_duration(overall.median_high_s, lang)}"
    )
    summary = {
        "companies": len(results),
        "answered": int((results["status"] == "answered").sum()),
        "median": fmt_duration(overall.median_s, lang) or "–",
        "median_label": t["median"] if basis == "business" else t["median_wall"],
        "median_ci": median_ci or "–",
    }
    plain = strings(lang)  # charts escape their own text
    chart_set = {
        "distribution": charts.distribution(
            results, plain["chart_distribution"], plain["no_reply_short"], basis
        ),
        "survival": charts.survival(
            [
                SurvivalCurve(**{**c.__dict__, "group": plain["all_sectors"]}) if i == 0 else c
                for i, c in enumerate(curves)
            ],
            plain["chart_survival"],
            lang,
            plain["median_word"],
        ),
        "funnel": charts.funnel(
            [(plain[f"funnel_{s}"], n) for s, n in steps], plain["chart_funnel"]
        ),
        "quality": charts.speed_quality(results, plain["chart_quality"], basis),
    }
    sectors = sorted({str(s) for s in results["sector"]})
    index = env.get_template("index.html.j2").render(
        **common,
        root="",
        csp=_csp(script_text),
        script=Markup(script_text),
        summary=summary,
        sectors=sectors,
        channels=sorted({str(c) for c in results["channel"]}),
        rows=rows,
        unreachable=unreachable,
        has_previous=has_previous,
        curves=_curve_rows(curves, lang),
        charts=chart_set,
    )
    (out / "index.html").write_text(index, "utf-8")

    _render_companies(
        env, common, frames, all_results, results, workspace, tz, lang, out, file_of, status_label
    )
    _render_methodology(
        env, common, frames, results, workspace, wave_row, lang, out, reviewed or {}
    )


def origin_of(verdict: Any, domain: Any, evidence_json: Any) -> dict[str, Any]:
    """What a company page says of a message's DKIM verdict: "signed by company.com"
    (and whether that domain is the sender's), "signature failed", ..."""
    verdict = str(verdict) if isinstance(verdict, str) else ""
    aligned = None
    if isinstance(evidence_json, str):
        try:
            aligned = json.loads(evidence_json).get("aligned")
        except (ValueError, AttributeError):
            aligned = None
    return {
        "dkim": verdict,  # "" when never verified (recorded before schema 2)
        "dkim_domain": str(domain) if isinstance(domain, str) else "",
        "dkim_aligned": aligned is not False,
    }


def review_sentence(reviewed: dict[str, int]) -> str:
    """The methodology's line on the messages decided by hand in `audit review`."""
    n, by_hand, pending = (reviewed.get(k, 0) for k in ("messages", "by_hand", "pending"))
    parts = ", ".join(
        f"{reviewed.get(k, 0)} {label}"
        for k, label in (
            ("assigned", "assigned to a company"),
            ("reclassified", "reclassified"),
            ("dismissed", "dismissed"),
        )
    )
    return (
        f"Of the {n} e-mail messages matched to this wave's companies, {by_hand} were "
        f"decided by hand in `audit review` ({parts}); the figures use those decisions. "
        f"{pending} still await review and count meanwhile with the class their evidence "
        "gave them."
    )


def _render_companies(
    env: jinja2.Environment,
    common: dict[str, Any],
    frames: Frames,
    all_results: pd.DataFrame,
    results: pd.DataFrame,
    workspace: Workspace,
    tz: ZoneInfo,
    lang: str,
    out: Path,
    file_of: dict[str, str],
    status_label: Mapping[str, str],
) -> None:
    t = ui_strings(lang)
    template = env.get_template("company.html.j2")
    ids = set(results["submission_id"].astype(int))
    events_by: dict[int, list[dict[str, Any]]] = defaultdict(list)
    ev = frames.events[frames.events["submission_id"].isin(ids)].sort_values(["at", "id"])
    for e in ev.to_dict("records"):
        events_by[int(e["submission_id"])].append(e)
    msg_ids = set(ev["message_id"].dropna().astype(int))
    msgs = frames.messages[frames.messages["id"].isin(msg_ids)]
    msg_by = {int(m["id"]): m for m in msgs.to_dict("records")}
    evidence_by: dict[int, list[dict[str, Any]]] = defaultdict(list)
    evd = frames.evidence[frames.evidence["submission_id"].isin(ids)].sort_values("id")
    for e in evd.to_dict("records"):
        evidence_by[int(e["submission_id"])].append(e)
    page_urls = dict(
        zip(frames.submissions["id"].astype(int), frames.submissions["page_url"], strict=True)
    )
    homepages = dict(zip(frames.companies["slug"], frames.companies["homepage"], strict=True))
    history_by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    slugs = set(results["slug"])
    hist_cols = ["slug", "wave", "rank", "status", "business_seconds", "tier"]
    for h in _rows(all_results.loc[all_results["slug"].isin(slugs), hist_cols]):
        history_by[h["slug"]].append(h)
    comp_dir = out / "companies"
    root_rel = os.path.relpath(workspace.root, comp_dir)
    csp = _csp(None)

    def href_of(path: str) -> str:
        rel = os.path.normpath(os.path.join(root_rel, path)).replace(os.sep, "/")
        return relative_href(rel)

    kind_label = {
        "human": t["event_human"],
        "auto_ack": t["event_auto_ack"],
        "bounce": t["event_bounce"],
    }
    for r in _rows(results):
        sid = int(r["submission_id"])
        start = r["submitted_at"]
        censor = r["censor_at"]
        timeline: list[dict[str, Any]] = []
        if start is not None and not pd.isna(start):
            timeline.append(
                {
                    "kind": "submitted",
                    "iso": iso_utc(start),
                    "local": _local(start, tz),
                    "label": t["event_submitted"],
                    "elapsed": "",
                    "channel": "",
                    "late": False,
                    "note": "",
                    "message": None,
                }
            )
        for e in events_by.get(sid, []):
            msg = None
            if e["message_id"] is not None and not pd.isna(e["message_id"]):
                m = msg_by.get(int(e["message_id"]))
                if m is not None:
                    text = str(m["text"] or "")
                    if len(text) > MAX_REPLY_CHARS:
                        text = text[:MAX_REPLY_CHARS] + "\n[…]"
                    msg = {
                        "sender": str(m["sender"] or ""),
                        "subject": str(m["subject"] or ""),
                        "text": text,
                        "match_method": str(m["match_method"] or ""),
                        "sha256": str(m["eml_sha256"] or ""),
                        "by_hand": str(m["review"] or "") in DECIDED_BY_HAND,
                        **origin_of(m["dkim"], m["dkim_domain"], m["dkim_evidence"]),
                    }
            elapsed = ""
            if start is not None and not pd.isna(start):
                elapsed = fmt_duration(max(0.0, (e["at"] - start).total_seconds()), lang)
            late = bool(censor is not None and not pd.isna(censor) and e["at"] > censor)
            timeline.append(
                {
                    "kind": str(e["kind"]),
                    "iso": iso_utc(e["at"]),
                    "local": _local(e["at"], tz),
                    "label": kind_label.get(str(e["kind"]), str(e["kind"])),
                    "elapsed": elapsed,
                    "channel": str(e["channel"] or ""),
                    "late": late,
                    "note": str(e["note"] or ""),
                    "message": msg,
                }
            )
        shots, evidence_rows = [], []
        for e in evidence_by.get(sid, []):
            href = href_of(str(e["path"]))
            kind = str(e["kind"])
            evidence_rows.append({"kind": kind, "href": href, "sha256": str(e["sha256"])})
            if kind in SCREENSHOT_KINDS:
                shots.append(
                    {"label": t["before"] if kind.endswith("before") else t["after"], "href": href}
                )
        homepage = homepages.get(r["slug"])
        page_url = page_urls.get(sid)
        page_url = "" if page_url is None or pd.isna(page_url) else str(page_url)
        rank = r["rank"]
        c = {
            "company": r["company"],
            "sector": r["sector"],
            "status_label": status_label.get(r["status"], r["status"]),
            "reason": r["reason"] or "",
            "rank": "" if rank is None or pd.isna(rank) else str(int(rank)),
            "tier": tier_label(r["tier"], lang),
            "business": fmt_duration(r["business_seconds"], lang) or "–",
            "wall": fmt_duration(r["response_seconds"], lang) or "–",
            "match_method": r["match_method"] if isinstance(r["match_method"], str) else "–",
            "promise": r["promise"] or "",
            "promise_kept": t.get(r["promise_kept"], r["promise_kept"]),
            "quality": "" if pd.isna(r["quality_score"]) else f"{r['quality_score']:g}/10",
            "homepage_href": safe_href(homepage),
            "page_url": page_url,
            "page_href": safe_href(page_url),
            "timeline": timeline,
            "shots": shots,
            "evidence": evidence_rows,
            "history": [
                {
                    "wave": h["wave"],
                    "rank": "" if pd.isna(h["rank"]) else str(int(h["rank"])),
                    "status": status_label.get(h["status"], h["status"]),
                    "business": fmt_duration(h["business_seconds"], lang),
                    "tier": tier_label(h["tier"], lang),
                }
                for h in history_by.get(r["slug"], [])
            ],
        }
        html = template.render(**common, root="../", csp=csp, c=c)
        (comp_dir / file_of[r["slug"]]).write_text(html, "utf-8")


def _render_methodology(
    env: jinja2.Environment,
    common: dict[str, Any],
    frames: Frames,
    results: pd.DataFrame,
    workspace: Workspace,
    wave_row: pd.Series,
    lang: str,
    out: Path,
    reviewed: dict[str, int],
) -> None:
    t = strings(lang)
    survey = workspace.survey
    tz = ZoneInfo(survey.calendar.timezone)
    cal = BusinessCalendar.from_config(survey.calendar)
    sent = results["submitted_at"].dropna()
    opened = sent.min() if len(sent) else None
    close = wave_row["close_at"]
    holidays: list[tuple[str, str]] = []
    if opened is not None:
        end = close if close is not None and not pd.isna(close) else results["censor_at"].max()
        first, last = opened.tz_convert(tz).date(), pd.Timestamp(end).tz_convert(tz).date()
        years = range(first.year, last.year + 1)
        holidays = [
            (d.isoformat(), name)
            for d, name in sorted(cal.holidays_in(years).items())
            if first <= d <= last
        ]
    p = survey.persona
    persona = [
        (k, v)
        for k, v in (("name", p.name), ("phone", p.phone), ("company", p.company), ("city", p.city))
        if v
    ]
    tiers = ", ".join(f"{x.name} ≤ {x.max}" for x in sorted(survey.tiers, key=lambda x: x.seconds))
    definitions = [
        "Reply time is measured from the instant the form's submit control was activated to "
        "the mail server's arrival time (IMAP INTERNALDATE) of the reply; phone calls and SMS "
        "are logged by hand with their time.",
        "First reply: the first contact of any kind (human answer, automatic acknowledgement, "
        "bounce). First human reply: the first answer written by a person.",
        "Business time counts only the opening hours of the calendar below (per-company hours "
        "where given), skipping weekends and public holidays; a reply before opening counts "
        "as zero.",
        "Ranking: by business time to the first human reply (ties share a rank); companies "
        "without a human reply by the close share the rank after the last one that answered.",
        f"Tiers: {tiers}; slower or no human reply: {NO_REPLY_TIER}.",
        "Companies without a human reply are censored at the close of the wave: the medians "
        "and curves are Kaplan-Meier estimates, never means over the companies that answered.",
        "A company's own promise ('2 business days') is kept when its human reply came by the "
        "close of that many business days after the day of submission.",
    ]
    if (results["channel"] == "email").any():
        definitions.insert(
            1,
            "E-mail channel: the inquiry is e-mailed to the company's published address with "
            "the same text and reference code; its reply time is measured from the instant our "
            "SMTP server accepted the message. Each row says its channel; a company surveyed "
            "on both channels has a row for each.",
        )
    n_unreach = int(results["status"].isin(UNREACHABLE_STATUSES).sum())
    exclusions = [
        f"{n_unreach} companies whose form could not be submitted (failed or blocked, e.g. "
        "CAPTCHA) are listed as not reachable: not ranked and not counted as slow.",
        "Replies that arrived after the close are shown on the company's page but not counted.",
        "Marketing and unrelated messages are not contact events.",
        review_sentence(reviewed),
    ]
    m = {
        "opened": _local(opened, tz) if opened is not None else t["none"],
        "close": _local(close, tz) if close is not None and not pd.isna(close) else t["none"],
        "persona": persona,
        "subject": survey.message.subject,
        "body": survey.message.body,
        "timezone": survey.calendar.timezone,
        "hours": [
            (t[day], span if span != "closed" else t["closed"]) for day, span in cal.describe()
        ],
        "holidays": holidays,
        "definitions": definitions,
        "exclusions": exclusions,
        "channels": [
            {**c, "channel_label": t.get(f"channel_{c['channel']}", c["channel_label"])}
            for c in channel_table(results)
        ],
    }
    html = env.get_template("methodology.html.j2").render(**common, root="", csp=_csp(None), m=m)
    (out / "methodology.html").write_text(html, "utf-8")
