"""Metrics per submission, computed with pandas from the store's tables.

``load_frames`` reads the tables once; ``compute`` is a pure function of those frames, the
survey configuration, the company list and ``now`` (STYLE 5), so tests build frames by hand.

Definitions (also printed on the methodology page):

- *first reply*: the first contact event of any kind (human, automatic acknowledgement,
  bounce; e-mail, phone or SMS) that arrived by the wave's close.
- *first human reply*: the first contact event of kind ``human`` by the close.
- *response_seconds*: first human reply minus the submit instant, wall-clock.
- *business_seconds*: the same interval counted in the company's opening hours.
- *censoring*: a submission without a human reply is censored at the wave's close
  (``waves.close_at``; ``now`` when the wave has no close, or when the close is still in
  the future). Replies after the close are ignored for the metrics and reported as late.
- *status*: answered | auto_ack_only | bounced | no_reply for submissions that went out;
  form_failed (with the reason) | blocked for those that did not ("not reachable").
- *rank*: by business seconds (wall-clock as an option), ties share the lowest rank, all
  companies without a human reply share the rank after the last answered one, companies
  that were not reachable get no rank.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from audit import store as st
from audit.models import (
    CHANNEL_LABELS,
    DECIDED_BY_HAND,
    Calendar,
    Company,
    MessageKind,
    ReviewState,
    SubmissionChannel,
    SubmissionState,
    SurveyConfig,
    Tier,
    parse_duration,
)
from reports.calendar import BusinessCalendar
from reports.quality import reply_signals

log = logging.getLogger(__name__)

CONTACT_KINDS = (MessageKind.HUMAN.value, MessageKind.AUTO_ACK.value, MessageKind.BOUNCE.value)
REACHABLE_STATUSES = ("answered", "auto_ack_only", "bounced", "no_reply")
UNREACHABLE_STATUSES = ("form_failed", "blocked", "not_sent")
NO_REPLY_TIER = "no reply"
NOT_REACHABLE_TIER = "not reachable"
NOT_SENT_TIER = "not sent"
RETRY_HINT = "audit run --submit --retry-failed (never clicked: safe to try again)"

RESULT_COLUMNS = [
    "rank",
    "company",
    "sector",
    "status",
    "submitted_at",
    "first_reply_at",
    "first_human_reply_at",
    "response_seconds",
    "business_seconds",
    "tier",
]
"""The first columns of results.csv, fixed by the end-to-end issue; extras come after."""

EXTRA_COLUMNS = [
    "slug",
    "wave",
    "reason",
    "first_contact_seconds",
    "first_contact_business_seconds",
    "match_method",
    "first_human_channel",
    "censored",
    "censor_at",
    "observed_seconds",
    "observed_business_seconds",
    "late_reply_at",
    "promise",
    "promise_kept",
    "quality_score",
    "reply_words",
    "reply_greets_by_name",
    "reply_quotes_inquiry",
    "outcome",
    "submission_id",
    "next_step",  # what to run next for a company not sent or failed before its click
    "channel",  # how the inquiry went: form (web form) | email
    "channel_note",  # why that channel, e.g. "form blocked: captcha -> e-mail fallback"
]

_FRAME_COLUMNS: dict[str, list[str]] = {
    "companies": ["id", "slug", "name", "sector", "homepage", "contact_url", "config_json"],
    "waves": ["id", "name", "created_at", "opened_at", "close_at"],
    "submissions": [
        "id",
        "company_id",
        "wave_id",
        "state",
        "outcome",
        "reason",
        "signal",
        "page_url",
        "created_at",
        "clicked_at",
        "submitted_at",
        "finished_at",
        "run_id",
        "channel",
        "channel_note",
    ],
    "events": [
        "id",
        "submission_id",
        "channel",
        "kind",
        "at",
        "message_id",
        "source",
        "note",
    ],
    "messages": [
        "id",
        "internaldate",
        "sender",
        "subject",
        "text",
        "kind",
        "submission_id",
        "match_method",
        "eml_sha256",
        "review",
        "dkim",
        "dkim_domain",
        "dkim_evidence",
    ],
    "evidence": ["id", "submission_id", "attempt_id", "message_id", "kind", "path", "sha256"],
    "grades": ["id", "submission_id", "score", "note", "at"],
    "runs": ["id", "kind", "started_at", "clock_offset_s", "tool_version", "browser_version"],
    "wave_facts": ["wave_id", "company_id", "facts_json"],
}
_TIME_COLUMNS = {
    "created_at",
    "opened_at",
    "close_at",
    "clicked_at",
    "submitted_at",
    "finished_at",
    "at",
    "internaldate",
    "started_at",
}


@dataclass
class Frames:
    """The store's tables as DataFrames; times are datetime64[ns, UTC]."""

    companies: pd.DataFrame
    waves: pd.DataFrame
    submissions: pd.DataFrame
    events: pd.DataFrame
    messages: pd.DataFrame
    evidence: pd.DataFrame
    grades: pd.DataFrame
    runs: pd.DataFrame
    wave_facts: pd.DataFrame  # the company facts each wave ran with (audit.store.wave_facts)

    @classmethod
    def empty(cls) -> Frames:
        return cls(**{name: _normalise(pd.DataFrame(), name) for name in _FRAME_COLUMNS})


def _normalise(df: pd.DataFrame, name: str, copy: bool = True) -> pd.DataFrame:
    """Every expected column present, times as aware UTC datetime64 (``copy=False``: the
    frame is ours, fix it in place)."""
    cols = _FRAME_COLUMNS[name]
    if copy:
        df = df.copy()
    for col in cols:
        if col not in df.columns:
            df[col] = pd.Series(dtype="object")
    for col in cols:
        if col in _TIME_COLUMNS:
            df[col] = pd.to_datetime(df[col], utc=True).astype("datetime64[ns, UTC]")
    return df


def frames_from(**tables: pd.DataFrame | Sequence[dict[str, Any]]) -> Frames:
    """Frames from hand-built tables (tests, tools); missing tables are empty."""
    out = {}
    for name in _FRAME_COLUMNS:
        raw = tables.get(name)
        df = pd.DataFrame(raw) if raw is not None else pd.DataFrame()
        out[name] = _normalise(df, name, copy=False)
    unknown = set(tables) - set(_FRAME_COLUMNS)
    if unknown:
        raise TypeError(f"unknown frames: {sorted(unknown)}")
    return Frames(**out)


def load_frames(store: st.Store) -> Frames:
    """Read the tables the reports need, once, through store.engine."""
    tables = {
        "companies": st.companies,
        "waves": st.waves,
        "submissions": st.submissions,
        "events": st.contact_events,
        "messages": st.messages,
        "evidence": st.evidence,
        "grades": st.grades,
        "runs": st.runs,
        "wave_facts": st.wave_facts,
    }
    out: dict[str, pd.DataFrame] = {}
    sqlite = store.engine.dialect.name == "sqlite"
    with store.engine.connect() as conn:
        for name, table in tables.items():
            cols = [_raw_time(table.c[c], sqlite) for c in _FRAME_COLUMNS[name]]
            # In key order on every back end: PostgreSQL returns rows in no set order
            # (an updated row moves), SQLite happens to return them by rowid.
            result = conn.execute(sa.select(*cols).order_by(*table.primary_key.columns))
            df = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
            if sqlite:  # the times came as SQLite's text: parsed per column, not per value
                for col in _TIME_COLUMNS.intersection(df.columns):
                    df[col] = pd.to_datetime(df[col], utc=True, format="ISO8601")
            out[name] = _normalise(df, name, copy=False)
    return Frames(**out)


def _raw_time(col: sa.Column[Any], sqlite: bool) -> Any:
    """A time column without the store's per-value conversion (a Python call per row and
    column, the larger part of loading 400,000 submissions): SQLite's stored text, or the
    driver's aware datetimes on PostgreSQL; the frame converts whole columns."""
    if col.name not in _TIME_COLUMNS:
        return col
    raw = sa.String() if sqlite else sa.DateTime(timezone=True)
    return sa.type_coerce(col, raw).label(col.name)


# ---------------------------------------------------------------------------------------
# Tiers and promises
# ---------------------------------------------------------------------------------------
def tiers_for(seconds: pd.Series, tiers: Sequence[Tier]) -> np.ndarray:
    """tier_for over a column at once (NaN: no reply)."""
    ordered = sorted(tiers, key=lambda t: t.seconds)
    names = np.array([t.name for t in ordered] + [NO_REPLY_TIER], dtype=object)
    limits = np.array([t.seconds for t in ordered], dtype="float64")
    values = seconds.to_numpy(dtype="float64", na_value=np.nan)
    pos = np.searchsorted(limits, values, side="left")  # first limit >= value
    pos[~np.isfinite(values)] = len(ordered)
    return names[pos]


def tier_for(seconds: float | None, tiers: Sequence[Tier]) -> str:
    """The first tier whose maximum the time does not exceed; 'no reply' beyond the last."""
    if seconds is None or not np.isfinite(seconds):
        return NO_REPLY_TIER
    for tier in sorted(tiers, key=lambda t: t.seconds):
        if seconds <= tier.seconds:
            return tier.name
    return NO_REPLY_TIER


_BUSINESS_DAYS = re.compile(r"^\s*(\d+)\s*(?:business|working|work)\s*days?\s*$", re.IGNORECASE)
_BUSINESS_HOURS = re.compile(
    r"^\s*(\d+(?:\.\d+)?)\s*(?:business|working|work)\s*hours?\s*$", re.IGNORECASE
)
_PLAIN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(minutes?|hours?|days?|weeks?)\s*$", re.IGNORECASE)


def parse_promise(text: str) -> tuple[str, float]:
    """'2 business days' -> ('business_days', 2); '8 business hours' -> ('business_s', ...);
    '24h' / '3 days' -> ('wall_s', seconds). ValueError when not understood."""
    if m := _BUSINESS_DAYS.match(text):
        return "business_days", float(m.group(1))
    if m := _BUSINESS_HOURS.match(text):
        return "business_s", float(m.group(1)) * 3600
    if m := _PLAIN.match(text):
        unit = m.group(2).lower()[0]
        return "wall_s", float(m.group(1)) * {"m": 60, "h": 3600, "d": 86400, "w": 604800}[unit]
    return "wall_s", parse_duration(text)


def _promise_kept(
    promise: str | None,
    cal: BusinessCalendar,
    submitted: pd.Timestamp,
    human: pd.Timestamp,
    censor: pd.Timestamp,
    wall_s: float,
    business_s: float,
) -> str:
    """kept | broken | pending (not answered yet, deadline not passed) | '' | unknown."""
    if not promise or pd.isna(submitted):
        return ""
    try:
        kind, amount = parse_promise(promise)
    except ValueError:
        return "unknown"
    answered = not pd.isna(human)
    if kind == "business_days":
        deadline = pd.Timestamp(cal.end_of_business_days(submitted.to_pydatetime(), int(amount)))
        if answered:
            return "kept" if human <= deadline else "broken"
        return "broken" if censor > deadline else "pending"
    if answered:
        spent = business_s if kind == "business_s" else wall_s
        return "kept" if spent <= amount else "broken"
    observed = (
        cal.business_seconds(submitted.to_pydatetime(), censor.to_pydatetime())
        if kind == "business_s"
        else (censor - submitted).total_seconds()
    )
    return "broken" if observed > amount else "pending"


# ---------------------------------------------------------------------------------------
# compute
# ---------------------------------------------------------------------------------------
def _company_table(frames: Frames, companies: Sequence[Company]) -> pd.DataFrame:
    """Store companies with the YAML's name, sector, hours and promise laid over them."""
    df = frames.companies[["id", "slug", "name", "sector"]].rename(columns={"id": "company_id"})
    by_slug = {c.slug: c for c in companies}
    hours, promise, names, sectors = [], [], [], []
    for slug, name, sector in zip(df["slug"], df["name"], df["sector"], strict=True):
        c = by_slug.get(slug)
        names.append(c.name if c else name)
        sectors.append(c.sector if c else (sector or "other"))
        hours.append(json.dumps(c.hours, sort_keys=True) if c and c.hours else "")
        promise.append(c.promise if c and c.promise else "")
    df = df.assign(name=names, sector=sectors, hours_key=hours, promise=promise)
    return df


def _lay_wave_facts(df: pd.DataFrame, facts: pd.DataFrame) -> None:
    """Each wave's own company facts over today's YAML: history is not rewritten.

    Waves run before snapshots were kept have none and keep today's facts.
    """
    if facts.empty or df.empty:
        return
    by_key = {
        (int(w), int(c)): json.loads(t)
        for w, c, t in zip(facts["wave_id"], facts["company_id"], facts["facts_json"], strict=True)
    }
    for i, w, c in zip(df.index, df["wave_id"], df["company_id"], strict=True):
        f = by_key.get((int(w), int(c)))
        if f is None:
            continue
        df.at[i, "name"] = f.get("name") or df.at[i, "name"]
        df.at[i, "sector"] = f.get("sector") or "other"
        hours = f.get("hours") or {}
        df.at[i, "hours_key"] = json.dumps(hours, sort_keys=True) if hours else ""
        df.at[i, "promise"] = f.get("promise") or ""
        if f.get("calendar"):
            df.at[i, "calendar_key"] = json.dumps(f["calendar"], sort_keys=True)


def _first_events(events: pd.DataFrame, kinds: Sequence[str]) -> pd.DataFrame:
    """The earliest in-window event per submission among the given kinds."""
    ev = events[events["kind"].isin(kinds) & events["in_window"]]
    if ev.empty:
        return ev.iloc[0:0]
    ev = ev.sort_values(["at", "id"], kind="stable")
    return ev.drop_duplicates("submission_id", keep="first").set_index("submission_id")


def _add_reply_signals(
    df: pd.DataFrame,
    frames: Frames,
    first_human: pd.DataFrame,
    first_name: str | None,
    only: pd.Series | None = None,
) -> None:
    """Automatic quality signals of the first human reply's text (e-mail replies only);
    ``only``: the submissions that need them (the rest get none)."""
    words: dict[int, int] = {}
    greets: dict[int, bool] = {}
    quotes: dict[int, bool] = {}
    if only is not None:
        first_human = first_human[first_human.index.isin(only)]
    if len(first_human):
        msgs = frames.messages
        wanted = msgs["id"].isin(first_human["message_id"].dropna())
        texts = dict(zip(msgs.loc[wanted, "id"].astype(int), msgs.loc[wanted, "text"], strict=True))
        for sub_id, message_id in first_human["message_id"].items():
            if pd.isna(message_id) or int(message_id) not in texts:
                continue
            sig = reply_signals(texts[int(message_id)], first_name)
            words[sub_id], greets[sub_id], quotes[sub_id] = (
                sig.words,
                sig.greets_by_name,
                sig.quotes_inquiry,
            )
    sid = df["submission_id"]
    df["reply_words"] = sid.map(words).astype("Int64")
    df["reply_greets_by_name"] = sid.map(greets).astype("boolean")
    df["reply_quotes_inquiry"] = sid.map(quotes).astype("boolean")


def compute(
    frames: Frames,
    survey: SurveyConfig,
    companies: Sequence[Company],
    now: datetime,
    wave: str | None = None,
    basis: str = "business",
    signals_wave: str | None = None,
) -> pd.DataFrame:
    """One row per submission (company x wave x channel) with status, times, tier and rank.

    ``basis`` is what ranks and tiers use: "business" (default) or "wall".
    ``signals_wave``: read the reply texts' quality signals for that wave only (a report
    shows them for the wave it is about; the other waves' rows get none).
    """
    if basis not in ("business", "wall"):
        raise ValueError("basis is 'business' or 'wall'")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now_ts = pd.Timestamp(now).tz_convert(UTC)

    comp = _company_table(frames, companies)
    waves = frames.waves[["id", "name", "close_at"]].rename(
        columns={"id": "wave_id", "name": "wave", "close_at": "wave_close_at"}
    )
    subs = frames.submissions.rename(columns={"id": "submission_id"})
    df = subs.merge(comp, on="company_id", how="left").merge(waves, on="wave_id", how="left")
    if wave is not None:
        df = df[df["wave"] == wave]
    df = df.sort_values(["wave_id", "submission_id"]).reset_index(drop=True)
    df["slug"] = df["slug"].fillna(df["company_id"].astype(str))
    df["name"] = df["name"].fillna(df["slug"])
    df["sector"] = df["sector"].fillna("other")
    df["hours_key"] = df["hours_key"].fillna("")
    df["promise"] = df["promise"].fillna("")
    df["calendar_key"] = ""
    df["channel"] = df["channel"].fillna(SubmissionChannel.FORM.value).astype(str)
    df["channel_note"] = df["channel_note"].fillna("").astype(str)
    _lay_wave_facts(df, frames.wave_facts)

    # -- status of the submission itself ------------------------------------------
    state = df["state"].fillna("")
    start = df["submitted_at"]
    uncertain = state == SubmissionState.UNCERTAIN.value
    start = start.where(~(uncertain & start.isna()), df["clicked_at"])
    sent = (state == SubmissionState.SUBMITTED.value) | (uncertain & start.notna())
    sent &= start.notna()
    df["submitted_at"] = start.where(sent)

    reason = df["reason"].fillna("").astype(str)
    outcome = df["outcome"].fillna("").astype(str)
    status = pd.Series("no_reply", index=df.index, dtype="object")
    blocked = state == SubmissionState.BLOCKED.value
    status[~sent] = "form_failed"
    status[blocked] = "blocked"
    # Never sent and never failed: planned (or dry-run only), or stopped before its click.
    planned = state == SubmissionState.PLANNED.value
    stopped = (state == SubmissionState.RUNNING.value) & df["clicked_at"].isna()
    status[planned | stopped] = "not_sent"
    fallback = np.where(outcome != "", outcome, "state " + state)
    reason = reason.where((reason != "") | sent, pd.Series(fallback, index=df.index))
    reason = reason.where(~(sent & uncertain), "submit uncertain; timed from the click")
    reason = reason.where(~planned, "planned, never submitted (a dry run sends nothing)")
    reason = reason.where(~stopped, "stopped before the submit click (interrupted)")
    retry = (
        state.isin([SubmissionState.FAILED.value, SubmissionState.BLOCKED.value])
        & df["clicked_at"].isna()
    )
    next_step = pd.Series("", index=df.index, dtype="object")
    next_step[planned | stopped] = "audit run --submit"
    next_step[retry] = RETRY_HINT
    by_hand = retry & blocked
    next_step[by_hand] = [
        f"audit run --submit --retry-failed --assist --only '{n}' (complete it by hand)"
        for n in df.loc[by_hand, "name"]
    ]
    df["next_step"] = next_step

    # -- censoring point --------------------------------------------------------------
    close = df["wave_close_at"]
    censor = close.where(close.notna() & (close <= now_ts), now_ts)
    df["censor_at"] = censor.where(sent)

    # -- contact events -----------------------------------------------------------------
    ev = frames.events[frames.events["submission_id"].isin(df["submission_id"])]
    ev = ev.merge(
        df[["submission_id", "censor_at"]], on="submission_id", how="left", validate="m:1"
    )
    ev["in_window"] = ev["at"] <= ev["censor_at"]
    mm = frames.messages[["id", "match_method"]].rename(
        columns={"id": "message_id", "match_method": "msg_match"}
    )
    ev = ev.merge(mm, on="message_id", how="left")

    first_any = _first_events(ev, CONTACT_KINDS)
    first_human = _first_events(ev, (MessageKind.HUMAN.value,))
    sid = df["submission_id"]
    df["first_reply_at"] = sid.map(first_any["at"]) if len(first_any) else pd.NaT
    df["first_human_reply_at"] = sid.map(first_human["at"]) if len(first_human) else pd.NaT
    for col in ("first_reply_at", "first_human_reply_at", "censor_at", "submitted_at"):
        df[col] = pd.to_datetime(df[col], utc=True).astype("datetime64[ns, UTC]")
    df.loc[~sent, ["first_reply_at", "first_human_reply_at"]] = pd.NaT
    if len(first_human):
        method = first_human["msg_match"].where(first_human["msg_match"].notna(), "manual")
        df["match_method"] = sid.map(method).where(sent)
        df["first_human_channel"] = sid.map(first_human["channel"]).where(sent)
    else:
        df["match_method"] = None
        df["first_human_channel"] = None
    late = ev[(ev["kind"] == MessageKind.HUMAN.value) & ~ev["in_window"]]
    late_first = late.groupby("submission_id")["at"].min()
    df["late_reply_at"] = sid.map(late_first) if len(late_first) else pd.NaT
    df["late_reply_at"] = pd.to_datetime(df["late_reply_at"], utc=True).astype(
        "datetime64[ns, UTC]"
    )
    df.loc[df["first_human_reply_at"].notna(), "late_reply_at"] = pd.NaT

    in_window = ev[ev["in_window"]]
    has_ack = sid.isin(
        in_window.loc[in_window["kind"] == MessageKind.AUTO_ACK.value, "submission_id"]
    )
    has_bounce = sid.isin(
        in_window.loc[in_window["kind"] == MessageKind.BOUNCE.value, "submission_id"]
    )
    status[sent & has_bounce] = "bounced"
    status[sent & has_ack] = "auto_ack_only"
    status[sent & df["first_human_reply_at"].notna()] = "answered"
    df["status"] = status
    df["reason"] = reason.where(status.isin(UNREACHABLE_STATUSES) | (reason != ""), "")

    # -- durations ----------------------------------------------------------------------
    def secs(end: pd.Series) -> pd.Series:
        return ((end - df["submitted_at"]).dt.total_seconds()).clip(lower=0)

    df["response_seconds"] = secs(df["first_human_reply_at"])
    df["first_contact_seconds"] = secs(df["first_reply_at"])
    answered = df["status"] == "answered"
    observed_end = df["first_human_reply_at"].where(answered, df["censor_at"])
    df["observed_seconds"] = secs(observed_end)
    df["censored"] = sent & ~answered

    df["business_seconds"] = np.nan
    df["first_contact_business_seconds"] = np.nan
    df["observed_business_seconds"] = np.nan
    calendars: dict[tuple[str, str], BusinessCalendar] = {}
    for key, idx in df.groupby(["calendar_key", "hours_key"]).groups.items():
        cal_key, hours_key = key  # type: ignore[misc]
        base = Calendar.model_validate_json(cal_key) if cal_key else survey.calendar
        cal = calendars[(cal_key, hours_key)] = BusinessCalendar.from_config(
            base, json.loads(hours_key) if hours_key else None
        )
        part = df.loc[idx]
        for col, end in (
            ("business_seconds", part["first_human_reply_at"]),
            ("first_contact_business_seconds", part["first_reply_at"]),
            ("observed_business_seconds", observed_end.loc[idx]),
        ):
            df.loc[idx, col] = cal.business_seconds_many(part["submitted_at"], end)

    # -- tiers, ranks ------------------------------------------------------------------------
    metric = df["business_seconds"] if basis == "business" else df["response_seconds"]
    reachable = df["status"].isin(REACHABLE_STATUSES)
    tiers = list(survey.tiers)
    df["tier"] = np.where(
        reachable,
        tiers_for(metric.where(answered), tiers),
        np.where(df["status"] == "not_sent", NOT_SENT_TIER, NOT_REACHABLE_TIER),
    )
    df["rank"] = pd.array([pd.NA] * len(df), dtype="Int64")
    for _, idx in df.groupby("wave_id").groups.items():
        sub = df.loc[idx]
        ans = sub["status"] == "answered"
        key = metric.loc[idx].round(3)
        ranks = key[ans].rank(method="min")
        n_answered = int(ans.sum())
        df.loc[ranks.index, "rank"] = ranks.astype("int64")
        rest = sub.index[sub["status"].isin(REACHABLE_STATUSES) & ~ans]
        df.loc[rest, "rank"] = n_answered + 1

    # -- promises and quality ---------------------------------------------------------
    promised = (df["promise"] != "").to_numpy()
    cols = [
        "promise",
        "calendar_key",
        "hours_key",
        "submitted_at",
        "first_human_reply_at",
        "censor_at",
        "response_seconds",
        "business_seconds",
    ]
    kept = np.full(len(df), "", dtype=object)
    kept[promised] = [
        _promise_kept(
            row.promise,
            calendars[(row.calendar_key, row.hours_key)],
            row.submitted_at,
            row.first_human_reply_at,
            row.censor_at,
            row.response_seconds,
            row.business_seconds,
        )
        for row in df.loc[promised, cols].itertuples(index=False)
    ]
    df["promise_kept"] = kept
    grades = frames.grades.sort_values(["at", "id"]).drop_duplicates("submission_id", keep="last")
    df["quality_score"] = sid.map(grades.set_index("submission_id")["score"]).astype(float)
    only = None if signals_wave is None else df.loc[df["wave"] == signals_wave, "submission_id"]
    _add_reply_signals(df, frames, first_human, survey.persona.first_name, only)

    df = df.rename(columns={"name": "company"})
    df["business_seconds"] = df["business_seconds"].where(answered)
    df["response_seconds"] = df["response_seconds"].where(answered)
    out = (
        df[RESULT_COLUMNS + EXTRA_COLUMNS]
        .sort_values(
            ["wave", "rank", "business_seconds", "company", "channel"],
            na_position="last",
            kind="stable",
        )
        .reset_index(drop=True)
    )
    return out


def channel_label(channel: str) -> str:
    """'web form' or 'e-mail' (the row's channel, as the report names it)."""
    return CHANNEL_LABELS.get(channel, channel)


def channel_table(results: pd.DataFrame) -> list[dict[str, Any]]:
    """The methodology's channel table: for each company, which channel(s) it got and why.

    One row per company and channel: "listed in companies.yaml" for the channel the
    consultant chose, the fallback's reason ("form failed: no_form -> e-mail fallback")
    when the survey fell back to e-mail.
    """
    out = []
    for r in results.sort_values(["company", "channel"], kind="stable").itertuples(index=False):
        note = str(r.channel_note or "")
        if not note:
            note = "web form (default)" if r.channel == SubmissionChannel.FORM.value else ""
        out.append(
            {
                "company": r.company,
                "channel": r.channel,
                "channel_label": channel_label(str(r.channel)),
                "why": note,
                "status": r.status,
            }
        )
    return out


def channel_counts(results: pd.DataFrame) -> list[dict[str, Any]]:
    """Per channel: submissions, sent, answered, median response of those answered."""
    out = []
    for channel, part in results.groupby("channel", sort=True):
        answered = part[part["status"] == "answered"]
        out.append(
            {
                "channel": str(channel),
                "channel_label": channel_label(str(channel)),
                "listed": len(part),
                "sent": int(part["status"].isin(REACHABLE_STATUSES).sum()),
                "answered": len(answered),
                "median_response_seconds": (
                    float(answered["response_seconds"].median()) if len(answered) else None
                ),
            }
        )
    return out


def review_counts(frames: Frames, submission_ids: Sequence[int]) -> dict[str, int]:
    """How the messages matched to these submissions were decided: ``by_hand`` in
    `audit review` (assigned to a company, reclassified, dismissed), and ``pending``:
    still waiting for review, counted meanwhile with the class the evidence gave them."""
    msgs = frames.messages[frames.messages["submission_id"].isin(list(submission_ids))]
    review = msgs["review"].fillna("").astype(str)
    counts = {s.value: int((review == s.value).sum()) for s in DECIDED_BY_HAND}
    return {
        "messages": len(msgs),
        "by_hand": sum(counts.values()),
        **counts,
        "pending": int((review == ReviewState.PENDING.value).sum()),
    }


UNREACHABLE_OUTCOMES = ("unreachable", "no_form", "timeout", "error")


def funnel(results: pd.DataFrame) -> list[tuple[str, int]]:
    """listed -> reachable (a form was found) -> submitted -> acknowledged (any contact by
    the close) -> answered (a human reply by the close), for one wave's results."""
    total = len(results)
    reachable = int((~results["outcome"].fillna("").isin(UNREACHABLE_OUTCOMES)).sum())
    submitted = int(results["status"].isin(REACHABLE_STATUSES).sum())
    acknowledged = int(results["first_reply_at"].notna().sum())
    answered = int((results["status"] == "answered").sum())
    return [
        ("listed", total),
        ("reachable", reachable),
        ("submitted", submitted),
        ("acknowledged", acknowledged),
        ("answered", answered),
    ]
