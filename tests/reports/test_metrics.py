"""metrics.compute on hand-built frames with answers worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from audit.models import Company, SurveyConfig, Tier
from reports.metrics import compute, frames_from, funnel, parse_promise, tier_for

IL = ZoneInfo("Asia/Jerusalem")
H = 3600.0

pytestmark = pytest.mark.clock  # rendered and ranked at pinned instants too


def il(*args: int) -> pd.Timestamp:
    return pd.Timestamp(datetime(*args, tzinfo=IL)).tz_convert(UTC)  # type: ignore[misc]


def _companies(n: int, **extra: dict) -> list[Company]:
    out = []
    for i in range(1, n + 1):
        kw = extra.get(f"c{i}", {})
        out.append(Company(name=f"C{i}", id=f"c{i}", homepage=f"https://c{i}.test/", **kw))
    return out


def _frames(subs: list[dict], events: list[dict], close_at=None, companies: int | None = None):
    n = companies or len(subs)
    comps = [
        {"id": i, "slug": f"c{i}", "name": f"C{i}", "sector": "banks" if i % 2 else "telecom"}
        for i in range(1, n + 1)
    ]
    rows = []
    for i, s in enumerate(subs, start=1):
        rows.append(
            {
                "id": i,
                "company_id": s.get("company_id", i),
                "wave_id": s.get("wave_id", 1),
                "state": s.get("state", "submitted"),
                "outcome": s.get("outcome"),
                "reason": s.get("reason"),
                "submitted_at": s.get("at"),
                "clicked_at": s.get("clicked", s.get("at")),
                "run_id": None,
            }
        )
    evs = [
        {
            "id": k,
            "submission_id": e["sid"],
            "channel": e.get("channel", "email"),
            "kind": e.get("kind", "human"),
            "at": e["at"],
            "message_id": None,
            "source": "manual",
        }
        for k, e in enumerate(events, start=1)
    ]
    waves = [
        {"id": 1, "name": "w1", "created_at": il(2026, 1, 1), "close_at": close_at},
        {"id": 2, "name": "w2", "created_at": il(2026, 2, 1), "close_at": close_at},
    ]
    return frames_from(companies=comps, waves=waves, submissions=rows, events=evs)


NOW = il(2026, 12, 31, 12, 0).to_pydatetime()


def test_business_time_weekend_holiday_half_day():
    # c1: Thu 2026-11-19 18:00 -> Sun 09:00 = Thu 2 h + Fri 5 h + Sun 1 h = 8 h business
    # c2: Sun 2026-09-20 19:00 -> Tue 09:00 across Yom Kippur = 2 h
    # c3: Fri 2026-11-20 12:00 -> Fri 15:00 = 1 h (the half day closes at 13:00)
    # c4: Fri 2026-11-20 14:00 -> Sat 10:00, before opening = 0
    subs = [
        {"at": il(2026, 11, 19, 18, 0)},
        {"at": il(2026, 9, 20, 19, 0)},
        {"at": il(2026, 11, 20, 12, 0)},
        {"at": il(2026, 11, 20, 14, 0)},
    ]
    events = [
        {"sid": 1, "at": il(2026, 11, 22, 9, 0)},
        {"sid": 2, "at": il(2026, 9, 22, 9, 0)},
        {"sid": 3, "at": il(2026, 11, 20, 15, 0)},
        {"sid": 4, "at": il(2026, 11, 21, 10, 0)},
    ]
    df = compute(_frames(subs, events), SurveyConfig(), _companies(4), NOW).set_index("slug")
    assert df.loc["c1", "business_seconds"] == 8 * H
    assert df.loc["c1", "response_seconds"] == 63 * H
    assert df.loc["c2", "business_seconds"] == 2 * H
    assert df.loc["c3", "business_seconds"] == 1 * H
    assert df.loc["c4", "business_seconds"] == 0
    assert df.loc["c4", "response_seconds"] == 20 * H
    # c4 answered "in zero business time": rank 1 and world-class
    assert df.loc["c4", "rank"] == 1 and df.loc["c4", "tier"] == "world-class"
    assert list(df["status"]) == ["answered"] * 4


def test_censoring_at_close_and_late_replies():
    close = il(2026, 11, 26, 20, 0)
    subs = [{"at": il(2026, 11, 19, 10, 0)}, {"at": il(2026, 11, 19, 10, 0)}]
    events = [
        {"sid": 1, "at": il(2026, 11, 19, 11, 0)},
        {"sid": 2, "at": il(2026, 11, 30, 9, 0)},  # after the close: not counted
    ]
    df = compute(_frames(subs, events, close_at=close), SurveyConfig(), _companies(2), NOW)
    df = df.set_index("slug")
    assert df.loc["c2", "status"] == "no_reply"
    assert bool(df.loc["c2", "censored"]) and not bool(df.loc["c1", "censored"])
    assert df.loc["c2", "censor_at"] == close
    assert df.loc["c2", "late_reply_at"] == il(2026, 11, 30, 9, 0)
    assert pd.isna(df.loc["c2", "first_human_reply_at"])
    assert pd.isna(df.loc["c2", "business_seconds"])
    # observed to the close: Thu 10-20 (10 h) + Fri 5 + Sun-Wed 4 x 12 + Thu 12 = 75 h
    assert df.loc["c2", "observed_business_seconds"] == 75 * H
    assert df.loc["c2", "observed_seconds"] == (close - il(2026, 11, 19, 10, 0)).total_seconds()
    assert df.loc["c2", "tier"] == "no reply"


def test_censoring_at_now_without_close_or_before_it():
    subs = [{"at": il(2026, 11, 19, 10, 0)}]
    now = il(2026, 11, 19, 12, 0).to_pydatetime()
    for close in (None, il(2026, 12, 31, 0, 0)):  # no close / close still in the future
        df = compute(_frames(subs, [], close_at=close), SurveyConfig(), _companies(1), now)
        assert df.loc[0, "censor_at"] == pd.Timestamp(now)
        assert df.loc[0, "observed_business_seconds"] == 2 * H


def test_ties_share_rank_and_no_replies_come_after():
    at = il(2026, 11, 18, 9, 0)
    subs = [{"at": at} for _ in range(6)] + [{"at": None, "state": "failed", "reason": "no form"}]
    events = [
        {"sid": 1, "at": il(2026, 11, 18, 10, 0)},
        {"sid": 2, "at": il(2026, 11, 18, 9, 30)},
        {"sid": 3, "at": il(2026, 11, 18, 10, 0)},  # ties with c1
        {"sid": 4, "at": il(2026, 11, 18, 12, 0)},
        {"sid": 5, "at": il(2026, 11, 18, 9, 1), "kind": "auto_ack"},
    ]
    df = compute(_frames(subs, events), SurveyConfig(), _companies(7), NOW).set_index("slug")
    ranks = df["rank"].to_dict()
    assert ranks["c2"] == 1
    assert ranks["c1"] == ranks["c3"] == 2
    assert ranks["c4"] == 4
    assert ranks["c5"] == ranks["c6"] == 5  # no human reply: one shared rank after answered
    assert pd.isna(ranks["c7"])
    assert df.loc["c5", "status"] == "auto_ack_only"
    assert df.loc["c5", "first_contact_seconds"] == 60
    assert df.loc["c7", "status"] == "form_failed" and df.loc["c7", "reason"] == "no form"
    assert df.loc["c7", "tier"] == "not reachable"


def test_wall_clock_basis_changes_the_order():
    # c1: Fri 12:00 -> Sun 08:30: 1 h business, 44.5 h wall
    # c2: Wed 09:00 -> Wed 11:00: 2 h business, 2 h wall
    subs = [{"at": il(2026, 11, 20, 12, 0)}, {"at": il(2026, 11, 18, 9, 0)}]
    events = [{"sid": 1, "at": il(2026, 11, 22, 8, 30)}, {"sid": 2, "at": il(2026, 11, 18, 11)}]
    fr = _frames(subs, events)
    business = compute(fr, SurveyConfig(), _companies(2), NOW).set_index("slug")["rank"]
    wall = compute(fr, SurveyConfig(), _companies(2), NOW, basis="wall").set_index("slug")["rank"]
    assert (business["c1"], business["c2"]) == (1, 2)
    assert (wall["c1"], wall["c2"]) == (2, 1)


def test_statuses_bounce_blocked_uncertain_and_reply_before_submit():
    at = il(2026, 11, 18, 9, 0)
    subs = [
        {"at": at},
        {"at": None, "state": "blocked", "reason": "captcha", "outcome": "captcha"},
        {"at": None, "clicked": at, "state": "uncertain"},
        {"at": at},
        {"at": None, "state": "planned"},
    ]
    events = [
        {"sid": 1, "at": il(2026, 11, 18, 9, 2), "kind": "bounce"},
        {"sid": 3, "at": il(2026, 11, 18, 9, 45)},
        {"sid": 4, "at": il(2026, 11, 18, 8, 59)},  # clock skew: counts as 0, never negative
    ]
    df = compute(_frames(subs, events), SurveyConfig(), _companies(5), NOW).set_index("slug")
    assert df.loc["c1", "status"] == "bounced"
    assert df.loc["c2", "status"] == "blocked" and df.loc["c2", "reason"] == "captcha"
    assert df.loc["c3", "status"] == "answered"
    assert df.loc["c3", "business_seconds"] == 45 * 60
    assert "uncertain" in df.loc["c3", "reason"]
    assert df.loc["c4", "response_seconds"] == 0 and df.loc["c4", "business_seconds"] == 0
    # planned and never sent is said as it is, with what to run next (issue 12)
    assert df.loc["c5", "status"] == "not_sent" and df.loc["c5", "tier"] == "not sent"
    assert df.loc["c5", "reason"] == "planned, never submitted (a dry run sends nothing)"
    assert df.loc["c5", "next_step"] == "audit run --submit"


def test_phone_call_counts_and_is_matched_by_hand():
    subs = [{"at": il(2026, 11, 18, 9, 0)}]
    events = [{"sid": 1, "at": il(2026, 11, 18, 9, 20), "channel": "phone"}]
    df = compute(_frames(subs, events), SurveyConfig(), _companies(1), NOW)
    assert df.loc[0, "match_method"] == "manual"
    assert df.loc[0, "first_human_channel"] == "phone"
    assert df.loc[0, "business_seconds"] == 20 * 60


def test_ranks_are_per_wave_and_wave_filter():
    at = il(2026, 11, 18, 9, 0)
    subs = [
        {"at": at, "company_id": 1, "wave_id": 1},
        {"at": at, "company_id": 2, "wave_id": 1},
        {"at": at, "company_id": 1, "wave_id": 2},
        {"at": at, "company_id": 2, "wave_id": 2},
    ]
    events = [
        {"sid": 1, "at": il(2026, 11, 18, 9, 10)},
        {"sid": 2, "at": il(2026, 11, 18, 9, 20)},
        {"sid": 3, "at": il(2026, 11, 18, 9, 30)},
        {"sid": 4, "at": il(2026, 11, 18, 9, 5)},
    ]
    fr = _frames(subs, events, companies=2)
    df = compute(fr, SurveyConfig(), _companies(2), NOW)
    got = {(r.wave, r.slug): r.rank for r in df.itertuples()}
    assert got == {("w1", "c1"): 1, ("w1", "c2"): 2, ("w2", "c1"): 2, ("w2", "c2"): 1}
    only = compute(fr, SurveyConfig(), _companies(2), NOW, wave="w2")
    assert set(only["wave"]) == {"w2"} and len(only) == 2


def test_company_hours_override_and_promise():
    # c1 is open 24/7-ish on Saturday; c2 promises 1 business day and answers on time.
    companies = _companies(
        2,
        c1={"hours": {"sat": "08:00-20:00"}},
        c2={"promise": "1 business day"},
    )
    subs = [{"at": il(2026, 11, 21, 9, 0)}, {"at": il(2026, 11, 19, 10, 0)}]
    events = [{"sid": 1, "at": il(2026, 11, 21, 10, 0)}, {"sid": 2, "at": il(2026, 11, 20, 12)}]
    df = compute(_frames(subs, events), SurveyConfig(), companies, NOW).set_index("slug")
    assert df.loc["c1", "business_seconds"] == H
    assert df.loc["c2", "promise_kept"] == "kept"
    assert df.loc["c1", "promise_kept"] == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2 business days", ("business_days", 2)),
        ("8 working hours", ("business_s", 8 * H)),
        ("24h", ("wall_s", 24 * H)),
        ("3 days", ("wall_s", 3 * 86400)),
    ],
)
def test_parse_promise(text: str, expected: tuple[str, float]):
    assert parse_promise(text) == expected


def test_tiers_default_and_custom():
    tiers = SurveyConfig().tiers
    assert [tier_for(s, tiers) for s in (0, 900, 901, 3600, 86400, 5 * 86400, 5 * 86400 + 1)] == [
        "world-class",
        "world-class",
        "good",
        "good",
        "fair",
        "slow",
        "no reply",
    ]
    assert tier_for(None, tiers) == "no reply"
    custom = [Tier(name="fast", max="2h")]
    assert tier_for(3600, custom) == "fast" and tier_for(3 * 3600, custom) == "no reply"


def test_funnel_counts():
    at = il(2026, 11, 18, 9, 0)
    subs = [
        {"at": at},
        {"at": at},
        {"at": None, "state": "failed", "outcome": "no_form"},
        {"at": None, "state": "blocked", "outcome": "captcha"},
    ]
    events = [{"sid": 1, "at": il(2026, 11, 18, 9, 1), "kind": "auto_ack"}]
    df = compute(_frames(subs, events), SurveyConfig(), _companies(4), NOW)
    assert funnel(df) == [
        ("listed", 4),
        ("reachable", 3),
        ("submitted", 2),
        ("acknowledged", 1),
        ("answered", 0),
    ]


def test_review_counts_by_hand_and_pending_for_the_given_submissions() -> None:
    from reports.metrics import frames_from, review_counts

    frames = frames_from(
        messages=[
            {"id": 1, "submission_id": 10, "review": None},
            {"id": 2, "submission_id": 10, "review": "reclassified"},
            {"id": 3, "submission_id": 11, "review": "assigned"},
            {"id": 4, "submission_id": 11, "review": "dismissed"},
            {"id": 5, "submission_id": 11, "review": "pending"},
            {"id": 6, "submission_id": 99, "review": "assigned"},  # another wave
            {"id": 7, "submission_id": None, "review": "pending"},  # unmatched
        ]
    )
    assert review_counts(frames, [10, 11]) == {
        "messages": 5, "by_hand": 3, "assigned": 1, "reclassified": 1, "dismissed": 1,
        "pending": 1,
    }  # fmt: skip
    assert review_counts(frames, [])["messages"] == 0
