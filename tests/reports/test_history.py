"""A wave's report is its own history: later edits of companies.yaml cannot rewrite it.

Wave 1 runs with the company facts of its time (audit.store.wave_facts, written by `audit
run` and frozen at the click). Afterwards the consultant changes a company's opening
hours and promise, renames one and removes another; wave 1's report must stay
byte-identical, while a new wave uses the new facts.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from audit.models import Company
from audit.pipeline import company_facts
from reports.render import build_report

from .conftest import SurveyBuilder, il


@pytest.fixture
def builder(builder_on_each_store: SurveyBuilder) -> SurveyBuilder:
    """Wave facts are store rows: on SQLite and on PostgreSQL."""
    return builder_on_each_store


NOW = il(2026, 11, 30, 12, 0)
FILES = ("results.csv", "results.json", "index.html")


def _report(b: SurveyBuilder, out: Path) -> dict[str, bytes]:
    paths = build_report(b.store, b.workspace(), out_dir=out, now=NOW, wave="wave-1")
    files = {name: (paths.dir / name).read_bytes() for name in FILES}
    for page in sorted((paths.dir / "companies").glob("*.html")):
        files[page.name] = page.read_bytes()
    return files


def _run_wave_1(b: SurveyBuilder) -> dict[str, int]:
    wave = b.wave("wave-1")
    ids = {}
    # Thursday 2026-11-19 16:00: with Sun-Thu 08:00-20:00 the reply next morning is
    # worth 4 h + 1 h of business time; with hours cut to 08:00-17:00, only 1 h + 1 h.
    for name, hours, promise in (
        ("Carmel Bank", {"thu": "08:00-20:00", "sun": "08:00-20:00"}, "4 business hours"),
        ("Galil Insurance", None, "1 business day"),
        ("Negev Telecom", None, None),
    ):
        cid = b.company(name, hours=hours, promise=promise)
        ids[name] = cid
        company = next(c for c in b.companies if c.name == name)
        b.store.snapshot_company(wave, cid, company_facts(b.workspace(), company), NOW)
    sub = b.submit(ids["Carmel Bank"], wave, il(2026, 11, 19, 16, 0))
    b.reply(sub, il(2026, 11, 22, 9, 0))
    sub = b.submit(ids["Galil Insurance"], wave, il(2026, 11, 19, 16, 0))
    b.reply(sub, il(2026, 11, 19, 17, 30))
    b.submit(ids["Negev Telecom"], wave, il(2026, 11, 19, 16, 5))
    return ids


def test_editing_or_removing_companies_leaves_the_old_wave_byte_identical(
    builder: SurveyBuilder, tmp_path: Path
) -> None:
    ids = _run_wave_1(builder)
    before = _report(builder, tmp_path / "before")

    # Between the waves: new hours and promise, a new name (stored by the next run's
    # upsert), and a company removed from companies.yaml.
    carmel = next(c for c in builder.companies if c.name == "Carmel Bank")
    edited = Company(
        name="Carmel Bank Group",
        id=carmel.slug,
        sector="insurance",
        homepage=carmel.homepage,
        hours={"thu": "08:00-17:00", "sun": "08:00-12:00"},
        promise="1 hour",
    )
    builder.companies = [edited] + [
        c for c in builder.companies if c.name not in ("Carmel Bank", "Negev Telecom")
    ]
    assert builder.store.upsert_company(edited) == ids["Carmel Bank"]
    after = _report(builder, tmp_path / "after")

    assert after.keys() == before.keys()
    for name in before:
        assert after[name] == before[name], f"{name} changed after companies.yaml was edited"
    assert b"Carmel Bank Group" not in after["results.csv"]


def test_a_snapshot_is_refreshed_until_the_click_then_frozen(builder: SurveyBuilder) -> None:
    wave = builder.wave("wave-1")
    cid = builder.company("Carmel Bank")
    token = "t9999999"
    sub = builder.store.plan_submission(cid, wave, token, f"s+{token}@x.test", NOW)
    assert builder.store.snapshot_company(wave, cid, {"name": "Carmel Bank"}, NOW)
    assert builder.store.snapshot_company(wave, cid, {"name": "Carmel Bank Ltd"}, NOW)
    builder.store.update_submission(sub.id, clicked_at=NOW)
    assert not builder.store.snapshot_company(wave, cid, {"name": "Renamed"}, NOW)
