"""From the store's frames to what the pages show: one wave's view models.

``prepare`` loads the frames once and computes the metrics (every wave: a company page
shows its history, the leaderboard the change since the previous wave); the functions
after it turn one wave's results into plain dicts of display strings for the templates
(``reports.views``) and stream company views one at a time, so a wave of 100,000
companies never holds 100,000 page models at once. No HTML is written here.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from audit import store as st
from audit.config import Workspace
from audit.errors import ReportError
from audit.models import DECIDED_BY_HAND, SubmissionChannel, SurveyConfig
from reports.calendar import BusinessCalendar
from reports.i18n import LANGS, fmt_duration, strings, tier_label
from reports.metrics import (
    NO_REPLY_TIER,
    UNREACHABLE_STATUSES,
    Frames,
    channel_table,
    compute,
    funnel,
    load_frames,
    review_counts,
)
from reports.safety import relative_href, safe_filename, safe_href
from reports.survival import SurvivalCurve, survival_by_sector

MAX_REPLY_CHARS = 20_000
SCREENSHOT_KINDS = ("screenshot_before", "screenshot_after")
STATUSES = (
    "answered",
    "auto_ack_only",
    "no_reply",
    "bounced",
    "form_failed",
    "blocked",
    "not_sent",
)


class View:
    """A view model: named values a template reads as attributes (``c.company``) or
    items (``t["dkim_" ~ verdict]``).

    Kept in the instance's ``__dict__``, so jinja2's ``getattr`` finds them at once; on
    a plain dict it fails (an exception raised and caught) for every value printed, which
    was a third of a company page's rendering time.
    """

    def __init__(self, values: Mapping[str, Any] | None = None, /, **more: Any) -> None:
        if values:
            self.__dict__.update(values)
        self.__dict__.update(more)

    def __getitem__(self, key: str) -> Any:
        return self.__dict__[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.__dict__[key] = value

    def get(self, key: str, default: Any = None) -> Any:
        return self.__dict__.get(key, default)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, View) and other.__dict__ == self.__dict__

    def __repr__(self) -> str:
        return f"View({self.__dict__!r})"


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


def iso_utc_many(values: pd.Series) -> pd.Series:
    """iso_utc over a column of aware times at once ('' for missing)."""
    s = pd.to_datetime(values, utc=True)
    base = s.dt.strftime("%Y-%m-%dT%H:%M:%S")
    ms = (s.dt.microsecond // 1000).fillna(0).astype(int)
    whole = (s.dt.microsecond.fillna(0) == 0) & (s.dt.nanosecond.fillna(0) == 0)
    frac = ("." + ms.astype(str).str.zfill(3)).where(~whole, "")
    return (base + frac + "Z").where(s.notna(), "")


def local_many(values: pd.Series, tz: ZoneInfo) -> pd.Series:
    """local over a column of aware times at once ('' for missing)."""
    s = pd.to_datetime(values, utc=True)
    return s.dt.tz_convert(tz).dt.strftime("%Y-%m-%d %H:%M").where(s.notna(), "")


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


def rows_of(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts, faster than DataFrame.to_dict for wide frames of mixed types."""
    cols = list(df.columns)
    data = [df[c].tolist() for c in cols]
    return [dict(zip(cols, row, strict=True)) for row in zip(*data, strict=True)]


def local(value: Any, tz: ZoneInfo) -> str:
    if value is None or pd.isna(value):
        return ""
    return pd.Timestamp(value).tz_convert(tz).strftime("%Y-%m-%d %H:%M")


def sort_num(value: Any) -> str:
    n = num(value)
    return "" if n is None else str(n)


def tier_class(tier: str, tiers: list[str]) -> str:
    if tier in tiers:
        return f"t{min(tiers.index(tier), 3)}"
    return "none"


def days(offset_s: float) -> str:
    d = offset_s / 86400
    return f"{d:.0f}" if abs(d - round(d)) < 0.05 else f"{d:.1f}"


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


# ---------------------------------------------------------------------------------------
# The wave's data
# ---------------------------------------------------------------------------------------
def pick_wave(frames: Frames, survey: SurveyConfig, wave: str | None) -> pd.Series:
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


def clock_offset(frames: Frames, wave_id: int) -> float:
    run_ids = frames.submissions.loc[frames.submissions["wave_id"] == wave_id, "run_id"]
    run_ids = set(run_ids.dropna().astype(int))
    runs = frames.runs[frames.runs["id"].isin(run_ids)]
    offsets = [float(v) for v in runs["clock_offset_s"].dropna() if float(v) != 0.0]
    return max(offsets, key=abs) if offsets else 0.0


@dataclass
class WaveData:
    """Everything one wave's report is made of, before any formatting."""

    frames: Frames
    workspace: Workspace
    wave_row: pd.Series
    all_results: pd.DataFrame  # every wave (history, change since the previous wave)
    results: pd.DataFrame  # this wave, in ranking order
    curves: list[SurvivalCurve]
    steps: list[tuple[str, int]]
    reviewed: dict[str, int]
    offset: float
    now: datetime
    lang: str
    basis: str
    tz: ZoneInfo = field(init=False)

    def __post_init__(self) -> None:
        self.tz = ZoneInfo(self.workspace.survey.calendar.timezone)

    @property
    def wave_name(self) -> str:
        return str(self.wave_row["name"])

    @property
    def tier_names(self) -> list[str]:
        return [x.name for x in sorted(self.workspace.survey.tiers, key=lambda x: x.seconds)]


def prepare(
    store: st.Store,
    workspace: Workspace,
    lang: str = "en",
    now: datetime | None = None,
    wave: str | None = None,
    basis: str = "business",
) -> WaveData:
    """Load the frames once and compute the metrics of the chosen wave."""
    if lang not in LANGS:
        raise ReportError(f"report language {lang!r} is not available (use {', '.join(LANGS)})")
    frames = load_frames(store)
    survey = workspace.survey
    wave_row = pick_wave(frames, survey, wave)
    wave_name = str(wave_row["name"])
    offset = clock_offset(frames, int(wave_row["id"]))
    if now is None:
        now = datetime.now(UTC) - timedelta(seconds=offset)
    all_results = compute(
        frames, survey, workspace.companies, now, basis=basis, signals_wave=wave_name
    )
    in_wave = (all_results["wave"] == wave_name).to_numpy()
    results = all_results[in_wave].reset_index(drop=True)
    return WaveData(
        frames=frames,
        workspace=workspace,
        wave_row=wave_row,
        all_results=all_results,
        results=results,
        curves=survival_by_sector(results, basis=basis),
        steps=funnel(results),
        reviewed=review_counts(frames, results["submission_id"].astype(int).tolist()),
        offset=offset,
        now=now,
        lang=lang,
        basis=basis,
    )


def status_labels(t: Mapping[str, str]) -> dict[str, str]:
    return {s: t[f"status_{s}"] for s in STATUSES}


PageKey = tuple[str, str]  # (company slug, channel): one page per submission of the wave


def page_files(results: pd.DataFrame, group_size: int = 0) -> dict[PageKey, str]:
    """Each company's page, relative to companies/: 'leumi.html' (one page per company),
    or 'p0001.html#leumi' when companies share pages of ``group_size`` (research scale),
    in ranking order. A company surveyed on both channels has a page for each: its
    e-mail page is 'leumi-email.html'."""
    taken: set[str] = set()
    out: dict[PageKey, str] = {}
    for i, (slug, channel) in enumerate(zip(results["slug"], results["channel"], strict=True)):
        base = str(slug) if channel == SubmissionChannel.FORM.value else f"{slug}-{channel}"
        stem = safe_filename(base, taken)
        key = (str(slug), str(channel))
        out[key] = f"{stem}.html" if group_size <= 0 else f"{group_file(i, group_size)}#{stem}"
    return out


def page_href(file: str) -> str:
    """The leaderboard's link to a company: 'companies/leumi.html', or
    'companies/p0001.html#leumi' on shared pages; every part percent-encoded."""
    name, _, anchor = file.partition("#")
    href = "companies/" + relative_href(name)
    return f"{href}#{relative_href(anchor)}" if anchor else href


def group_file(position: int, group_size: int) -> str:
    return f"p{position // group_size + 1:04d}.html"


# ---------------------------------------------------------------------------------------
# Leaderboard
# ---------------------------------------------------------------------------------------
@dataclass
class Leaderboard:
    rows: list[View]
    unreachable: list[View]
    has_previous: bool
    summary: dict[str, Any]
    sectors: list[str]
    curves: list[dict[str, Any]]
    channels: list[str]


def _previous_ranks(data: WaveData) -> dict[tuple[str, str], Any] | None:
    """The previous wave's rank of each company on each channel (None: no previous wave)."""
    waves = data.frames.waves.sort_values(["created_at", "id"]).reset_index(drop=True)
    pos = waves.index[waves["id"] == data.wave_row["id"]]
    if not (len(pos) and pos[0] > 0):
        return None
    prev_name = waves.loc[pos[0] - 1, "name"]
    prev = data.all_results[data.all_results["wave"] == prev_name]
    keys = zip(prev["slug"], prev["channel"], strict=True)
    return dict(zip(keys, prev["rank"], strict=True))


def leaderboard(data: WaveData, file_of: Mapping[PageKey, str]) -> Leaderboard:
    lang, t = data.lang, strings(data.lang)
    labels = status_labels(t)
    tier_names = data.tier_names
    prev_rank = _previous_ranks(data)
    has_previous = prev_rank is not None
    tier_cache: dict[str, tuple[str, str, str]] = {}
    rows, unreachable = [], []
    cols = [
        "slug",
        "company",
        "sector",
        "status",
        "reason",
        "next_step",
        "rank",
        "business_seconds",
        "response_seconds",
        "first_contact_seconds",
        "tier",
        "promise_kept",
        "channel",
    ]
    for r in rows_of(data.results[cols]):
        status = r["status"]
        base = {
            "company": r["company"],
            "sector": r["sector"],
            "status": status,
            "status_label": labels.get(status, status),
            "href": page_href(file_of[(r["slug"], r["channel"])]),
            "channel": r["channel"],
            "channel_label": t.get(f"channel_{r['channel']}", r["channel"]),
        }
        if status in UNREACHABLE_STATUSES:
            reason = r["reason"] or ""
            if r.get("next_step"):
                step = f"{t['next_step']}: {r['next_step']}"
                reason = f"{reason} ({step})" if reason else step
            unreachable.append(View(base, reason=reason))
            continue
        rank = r["rank"]
        rank_txt = "" if rank is None or pd.isna(rank) else str(int(rank))
        change, change_sort = "", ""
        if prev_rank is not None:
            before = prev_rank.get((r["slug"], r["channel"]))
            if before is not None and not pd.isna(before) and rank_txt:
                diff = int(before) - int(rank)
                change = f"+{diff}" if diff > 0 else ("0" if diff == 0 else str(diff))
                change_sort = str(diff)
        tier = r["tier"]
        if tier not in tier_cache:
            tier_cache[tier] = (
                tier_label(tier, lang),
                str(tier_names.index(tier)) if tier in tier_names else "9",
                tier_class(tier, tier_names),
            )
        label, tier_sort, klass = tier_cache[tier]
        rows.append(
            View(
                base,
                rank=rank_txt,
                rank_sort=rank_txt,
                business=fmt_duration(r["business_seconds"], lang),
                business_sort=sort_num(r["business_seconds"]),
                wall=fmt_duration(r["response_seconds"], lang),
                wall_sort=sort_num(r["response_seconds"]),
                first=fmt_duration(r["first_contact_seconds"], lang),
                first_sort=sort_num(r["first_contact_seconds"]),
                tier=label,
                tier_sort=tier_sort,
                tier_class=klass,
                promise=t.get(r["promise_kept"], r["promise_kept"]) if r["promise_kept"] else "",
                change=change,
                change_sort=change_sort,
            )
        )
    results, basis = data.results, data.basis
    overall = data.curves[0]
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
    return Leaderboard(
        rows=rows,
        unreachable=unreachable,
        has_previous=has_previous,
        summary=summary,
        sectors=sorted({str(s) for s in results["sector"]}),
        curves=curve_rows(data.curves, lang),
        channels=sorted({str(c) for c in results["channel"]}),
    )


def curve_rows(curves: list[SurvivalCurve], lang: str) -> list[dict[str, Any]]:
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


# ---------------------------------------------------------------------------------------
# Company pages
# ---------------------------------------------------------------------------------------
def company_views(
    data: WaveData, href_of: Any, start: int = 0, stop: int | None = None
) -> Iterator[tuple[PageKey, View]]:
    """(page key, view) for each submission of the wave, in ranking order, one at a time.

    ``href_of(path)``: the link to a workspace file (evidence) from the page;
    ``start``, ``stop``: only these positions in the ranking (a part rendered apart).
    """
    frames, results, lang = data.frames, data.results.iloc[start:stop], data.lang
    t = strings(lang)
    labels = status_labels(t)
    tz = data.tz
    ids = set(results["submission_id"].astype(int))
    events_by: dict[int, list[dict[str, Any]]] = defaultdict(list)
    ev = frames.events[frames.events["submission_id"].isin(ids)].sort_values(["at", "id"])
    ev = ev.assign(iso=iso_utc_many(ev["at"]), local=local_many(ev["at"], tz))
    for e in rows_of(ev):
        events_by[int(e["submission_id"])].append(e)
    msg_ids = set(ev["message_id"].dropna().astype(int))
    msgs = frames.messages[frames.messages["id"].isin(msg_ids)]
    msg_by = {int(m["id"]): m for m in rows_of(msgs)}
    evidence_by: dict[int, list[dict[str, Any]]] = defaultdict(list)
    evd = frames.evidence[frames.evidence["submission_id"].isin(ids)].sort_values("id")
    for e in rows_of(evd):
        evidence_by[int(e["submission_id"])].append(e)
    subs = frames.submissions
    page_urls = dict(zip(subs["id"].astype(int), subs["page_url"], strict=True))
    homepages = dict(zip(frames.companies["slug"], frames.companies["homepage"], strict=True))
    history_by: dict[PageKey, list[dict[str, Any]]] = defaultdict(list)
    hist_cols = ["slug", "channel", "wave", "rank", "status", "business_seconds", "tier"]
    everything = data.all_results
    for h in rows_of(everything.loc[everything["slug"].isin(set(results["slug"])), hist_cols]):
        history_by[(h["slug"], h["channel"])].append(h)

    kind_label = {
        "human": t["event_human"],
        "auto_ack": t["event_auto_ack"],
        "bounce": t["event_bounce"],
    }
    starts = results["submitted_at"]
    results = results.assign(start_iso=iso_utc_many(starts), start_local=local_many(starts, tz))
    for r in rows_of(results):
        sid = int(r["submission_id"])
        start = r["submitted_at"]
        censor = r["censor_at"]
        timeline: list[View] = []
        if start is not None and not pd.isna(start):
            timeline.append(
                View(
                    kind="submitted",
                    iso=r["start_iso"],
                    local=r["start_local"],
                    label=t["event_submitted"],
                    elapsed="",
                    channel="",
                    late=False,
                    note="",
                    message=None,
                )
            )
        for e in events_by.get(sid, []):
            msg = None
            if e["message_id"] is not None and not pd.isna(e["message_id"]):
                m = msg_by.get(int(e["message_id"]))
                if m is not None:
                    text = str(m["text"] or "")
                    if len(text) > MAX_REPLY_CHARS:
                        text = text[:MAX_REPLY_CHARS] + "\n[…]"
                    msg = View(
                        sender=str(m["sender"] or ""),
                        subject=str(m["subject"] or ""),
                        text=text,
                        match_method=str(m["match_method"] or ""),
                        sha256=str(m["eml_sha256"] or ""),
                        by_hand=str(m["review"] or "") in DECIDED_BY_HAND,
                        **origin_of(m["dkim"], m["dkim_domain"], m["dkim_evidence"]),
                    )
            elapsed = ""
            if start is not None and not pd.isna(start):
                elapsed = fmt_duration(max(0.0, (e["at"] - start).total_seconds()), lang)
            late = bool(censor is not None and not pd.isna(censor) and e["at"] > censor)
            timeline.append(
                View(
                    kind=str(e["kind"]),
                    iso=e["iso"],
                    local=e["local"],
                    label=kind_label.get(str(e["kind"]), str(e["kind"])),
                    elapsed=elapsed,
                    channel=str(e["channel"] or ""),
                    late=late,
                    note=str(e["note"] or ""),
                    message=msg,
                )
            )
        shots: list[View] = []
        evidence_rows: list[View] = []
        for e in evidence_by.get(sid, []):
            href = href_of(str(e["path"]))
            kind = str(e["kind"])
            evidence_rows.append(View(kind=kind, href=href, sha256=str(e["sha256"])))
            if kind in SCREENSHOT_KINDS:
                label = t["before"] if kind.endswith("before") else t["after"]
                shots.append(View(label=label, href=href))
        homepage = homepages.get(r["slug"])
        page_url = page_urls.get(sid)
        page_url = "" if page_url is None or pd.isna(page_url) else str(page_url)
        rank = r["rank"]
        yield (
            (r["slug"], r["channel"]),
            View(
                {
                    "company": r["company"],
                    "channel": r["channel"],
                    "channel_label": t.get(f"channel_{r['channel']}", r["channel"]),
                    "sector": r["sector"],
                    "status_label": labels.get(r["status"], r["status"]),
                    "reason": r["reason"] or "",
                    "rank": "" if rank is None or pd.isna(rank) else str(int(rank)),
                    "tier": tier_label(r["tier"], lang),
                    "business": fmt_duration(r["business_seconds"], lang) or "–",
                    "wall": fmt_duration(r["response_seconds"], lang) or "–",
                    "match_method": r["match_method"]
                    if isinstance(r["match_method"], str)
                    else "–",
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
                        View(
                            wave=h["wave"],
                            rank="" if pd.isna(h["rank"]) else str(int(h["rank"])),
                            status=labels.get(h["status"], h["status"]),
                            business=fmt_duration(h["business_seconds"], lang),
                            tier=tier_label(h["tier"], lang),
                        )
                        for h in history_by.get((r["slug"], r["channel"]), [])
                    ],
                }
            ),
        )


# ---------------------------------------------------------------------------------------
# Methodology
# ---------------------------------------------------------------------------------------
def methodology(data: WaveData) -> dict[str, Any]:
    t = strings(data.lang)
    results, survey = data.results, data.workspace.survey
    tz = data.tz
    cal = BusinessCalendar.from_config(survey.calendar)
    sent = results["submitted_at"].dropna()
    opened = sent.min() if len(sent) else None
    close = data.wave_row["close_at"]
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
        review_sentence(data.reviewed),
    ]
    return {
        "opened": local(opened, tz) if opened is not None else t["none"],
        "close": local(close, tz) if close is not None and not pd.isna(close) else t["none"],
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
