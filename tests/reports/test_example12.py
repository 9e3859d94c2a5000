"""A 12-company survey computed by hand and reproduced exactly, through the real store.

Calendar: the default (Asia/Jerusalem, Sun-Thu 08:00-20:00, Fri 08:00-13:00, Sat closed,
Israeli public holidays). September 2026 is summer time (UTC+3). Mon 2026-09-21 is Yom
Kippur (closed). The wave closes Wed 2026-09-30 20:00 local.

Open hours per day in the period (local):
  Thu 17: 12 h   Fri 18: 5 h   Sat 19: 0   Sun 20: 12 h   Mon 21: 0 (Yom Kippur)
  Tue 22: 12 h   Wed 23: 12 h  Thu 24: 12 h  Fri 25: 5 h   Sat 26: 0 (also Sukkot)
  Sun 27 .. Wed 30: 12 h each

Company   sector     submitted          events                      wall s   business s
Alpha     banks      Thu 17 10:00       human Thu 10:33               1980   1980  (33 min)
Beta      banks      Thu 17 10:00       phone call Thu 11:00          3600   3600
Gamma     telecom    Thu 17 10:00       auto-ack 10:01, human 12:30   9000   9000
Delta     telecom    Thu 17 19:30       human Fri 09:00              48600   5400  (0.5 h Thu + 1 h Fri)
Epsilon   insurance  Fri 18 12:30       human Sun 20 09:00          160200   5400  (0.5 h Fri + 1 h Sun)
Zeta      insurance  Sun 20 19:00       human Tue 22 09:00          136800   7200  (1 h Sun + YK 0 + 1 h Tue)
Eta       health     Thu 17 10:00       human Tue 22 10:00          432000 104400  (10+5+12+0+2 = 29 h)
Theta     health     Fri 18 14:00       human Sat 19 10:00           72000      0  (before opening)
Iota      banks      Thu 17 10:00       auto-ack 10:00:30 only      censored
Kappa     telecom    Thu 17 10:00       human Fri Oct 2 (after close) censored, late reply
Lambda    credit     Thu 17 10:00       bounce 10:02                censored
Mu        credit     -                  CAPTCHA: blocked, not reachable, no rank

Censored at the close, from Thu 17 10:00 to Wed 30 20:00:
  wall     = 13 d 10 h = 322 h = 1,159,200 s
  business = 10 (Thu) + 5 + 12 (Sun) + 0 (YK) + 12 + 12 + 12 + 5 + 12 x 4 = 116 h = 417,600 s

Ranks (business time, ties share the lowest rank, "min"):
  Theta 0 -> 1; Alpha 1980 -> 2; Beta 3600 -> 3; Delta 5400 and Epsilon 5400 -> 4 and 4;
  Zeta 7200 -> 6; Gamma 9000 -> 7; Eta 104400 -> 8; Iota, Kappa, Lambda (no human reply) -> 9;
  Mu -> no rank (not reachable).

Tiers (business): Theta 0 world-class; Alpha 33 min good; Beta 1 h good (inclusive);
  Delta, Epsilon, Zeta, Gamma fair; Eta 29 h slow; Iota/Kappa/Lambda "no reply".

Kaplan-Meier, business time, n = 11 (Mu is not at risk), 8 events, 3 censored at 417,600:
  t = 0       at risk 11, 1 event  S = 10/11          = 0.909
  t = 1980    at risk 10, 1 event  S = 10/11 * 9/10  = 9/11 = 0.818
  t = 3600    at risk  9, 1 event  S = 8/11           = 0.727
  t = 5400    at risk  8, 2 events S = 8/11 * 6/8    = 6/11 = 0.545
  t = 7200    at risk  6, 1 event  S = 5/11           = 0.455  <= 0.5  -> median 7200 s (2 h)
Kaplan-Meier, wall-clock: events at 1980, 3600, 9000, 48600, 72000, 136800, 160200, 432000:
  S = 10/11, 9/11, 8/11, 7/11, 6/11 (0.545), 5/11 at 136,800 -> median 136,800 s (38 h).
A mean over the 8 responders (the published-survey mistake) would be 16,947 s business;
the report never shows it.

Promises: Alpha "2 business days" kept; Kappa "1 business day" broken (no reply by the close
of Fri 18 13:00); Eta "3 business days": Fri, Sun, (Mon is Yom Kippur) Tue close 20:00 ->
reply Tue 10:00 kept; Zeta "24h" wall-clock: 38 h -> broken.
"""

from __future__ import annotations

import csv
import json
import math
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from reports.metrics import compute, load_frames
from reports.render import build_report
from reports.survival import survival_by_sector

IL = ZoneInfo("Asia/Jerusalem")


def il(*args: int) -> datetime:
    return datetime(*args, tzinfo=IL)  # type: ignore[misc]


CLOSE = il(2026, 9, 30, 20, 0)
NOW = il(2026, 10, 5, 12, 0)
THU = il(2026, 9, 17, 10, 0)

EXPECTED = {
    # name: (rank, status, wall, business, tier)
    "Theta": (1, "answered", 72000, 0, "world-class"),
    "Alpha": (2, "answered", 1980, 1980, "good"),
    "Beta": (3, "answered", 3600, 3600, "good"),
    "Delta": (4, "answered", 48600, 5400, "fair"),
    "Epsilon": (4, "answered", 160200, 5400, "fair"),
    "Zeta": (6, "answered", 136800, 7200, "fair"),
    "Gamma": (7, "answered", 9000, 9000, "fair"),
    "Eta": (8, "answered", 432000, 104400, "slow"),
    "Iota": (9, "auto_ack_only", None, None, "no reply"),
    "Kappa": (9, "no_reply", None, None, "no reply"),
    "Lambda": (9, "bounced", None, None, "no reply"),
    "Mu": (None, "blocked", None, None, "not reachable"),
}


@pytest.fixture
def builder(builder_on_each_store):
    """The hand-computed survey from a SQLite store and from a PostgreSQL one."""
    return builder_on_each_store


@pytest.fixture
def survey12(builder):
    return fill_survey12(builder)


def fill_survey12(b):
    """The survey of the table above, written through the store's methods."""
    w = b.wave("wave-1", close_at=CLOSE)

    def co(name: str, sector: str, at: datetime | None, **kw) -> int:
        cid = b.company(name, sector=sector, **kw)
        if at is None:
            return b.submit(cid, w, None, state="blocked", reason="captcha", outcome="captcha")
        return b.submit(cid, w, at)

    s = co("Alpha", "banks", THU, promise="2 business days")
    b.reply(s, il(2026, 9, 17, 10, 33))
    s = co("Beta", "banks", THU)
    b.reply(s, il(2026, 9, 17, 11, 0), channel="phone")
    s = co("Gamma", "telecom", THU)
    b.reply(s, il(2026, 9, 17, 10, 1), kind="auto_ack")
    b.reply(s, il(2026, 9, 17, 12, 30))
    s = co("Delta", "telecom", il(2026, 9, 17, 19, 30))
    b.reply(s, il(2026, 9, 18, 9, 0))
    s = co("Epsilon", "insurance", il(2026, 9, 18, 12, 30))
    b.reply(s, il(2026, 9, 20, 9, 0))
    s = co("Zeta", "insurance", il(2026, 9, 20, 19, 0), promise="24h")
    b.reply(s, il(2026, 9, 22, 9, 0))
    s = co("Eta", "health", THU, promise="3 business days")
    b.reply(s, il(2026, 9, 22, 10, 0))
    s = co("Theta", "health", il(2026, 9, 18, 14, 0))
    b.reply(s, il(2026, 9, 19, 10, 0))
    s = co("Iota", "banks", THU)
    b.reply(s, il(2026, 9, 17, 10, 0, 30), kind="auto_ack")
    s = co("Kappa", "telecom", THU, promise="1 business day")
    b.reply(s, il(2026, 10, 2, 10, 0))  # after the close
    s = co("Lambda", "credit", THU)
    b.reply(s, il(2026, 9, 17, 10, 2), kind="bounce")
    co("Mu", "credit", None)
    return b


def test_metrics_reproduce_the_hand_computation(survey12):
    b = survey12
    df = compute(load_frames(b.store), b.survey, b.companies, NOW).set_index("company")
    for name, (rank, status, wall, business, tier) in EXPECTED.items():
        row = df.loc[name]
        assert (
            None
            if row["rank"] is None or row["rank"] is __import__("pandas").NA
            else int(row["rank"])
        ) == rank, name
        assert row["status"] == status, name
        assert row["tier"] == tier, name
        if wall is None:
            assert math.isnan(row["response_seconds"]) and math.isnan(row["business_seconds"])
        else:
            assert row["response_seconds"] == wall, name
            assert row["business_seconds"] == business, name
    for name in ("Iota", "Kappa", "Lambda"):
        assert df.loc[name, "observed_business_seconds"] == 417_600
        assert df.loc[name, "observed_seconds"] == 1_159_200
        assert bool(df.loc[name, "censored"])
    assert df.loc["Gamma", "first_contact_seconds"] == 60
    assert df.loc["Iota", "first_contact_seconds"] == 30
    assert df.loc["Lambda", "first_contact_seconds"] == 120
    assert df.loc["Beta", "match_method"] == "manual"
    assert df.loc["Alpha", "match_method"] == "address_tag"
    assert df.loc["Kappa", "late_reply_at"] == il(2026, 10, 2, 10, 0)
    assert df.loc["Alpha", "promise_kept"] == "kept"
    assert df.loc["Kappa", "promise_kept"] == "broken"
    assert df.loc["Eta", "promise_kept"] == "kept"
    assert df.loc["Zeta", "promise_kept"] == "broken"


def test_censored_kaplan_meier_median(survey12):
    b = survey12
    df = compute(load_frames(b.store), b.survey, b.companies, NOW)
    business = survival_by_sector(df)[0]
    assert (business.n, business.events, business.censored) == (11, 8, 3)
    assert business.median_s == 7200
    # lifelines' timeline starts at 0, where Theta's zero-business-time reply already counts
    assert business.times[:5] == [0, 1980, 3600, 5400, 7200]
    assert business.survival[:5] == pytest.approx([10 / 11, 9 / 11, 8 / 11, 6 / 11, 5 / 11])
    wall = survival_by_sector(df, basis="wall")[0]
    assert wall.median_s == 136_800
    # per sector: banks = Alpha 1980, Beta 3600, Iota censored -> S 2/3, 1/3 -> median 3600
    banks = next(c for c in survival_by_sector(df) if c.group == "banks")
    assert (banks.n, banks.median_s) == (3, 3600)


def test_results_csv_reproduces_the_example(survey12, tmp_path):
    b = survey12
    paths = build_report(b.store, b.workspace(), out_dir=tmp_path / "out", now=NOW)
    with paths.results_csv.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    header = list(rows[0].keys())
    assert header[:10] == [
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
    got = {
        r["company"]: (
            int(r["rank"]) if r["rank"] else None,
            r["status"],
            int(r["response_seconds"]) if r["response_seconds"] else None,
            int(r["business_seconds"]) if r["business_seconds"] else None,
            r["tier"],
        )
        for r in rows
    }
    assert got == EXPECTED
    # the order is the ranking; ties keep a stable order, not-reachable last
    assert [r["company"] for r in rows][:3] == ["Theta", "Alpha", "Beta"]
    assert rows[-1]["company"] == "Mu"
    by = {r["company"]: r for r in rows}
    assert by["Alpha"]["submitted_at"] == "2026-09-17T07:00:00Z"
    assert by["Alpha"]["first_human_reply_at"] == "2026-09-17T07:33:00Z"
    assert by["Gamma"]["first_reply_at"] == "2026-09-17T07:01:00Z"
    assert by["Mu"]["submitted_at"] == "" and by["Mu"]["rank"] == ""
    assert "nan" not in paths.results_csv.read_text("utf-8").lower()

    doc = json.loads(paths.results_json.read_text("utf-8"))
    overall = doc["survival"][0]
    assert overall["median_seconds"] == 7200 and overall["n"] == 11
    assert [s["count"] for s in doc["funnel"]] == [12, 12, 11, 10, 8]
    assert doc["generated_at"] == datetime(2026, 10, 5, 9, 0, tzinfo=UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
