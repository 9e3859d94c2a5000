"""The CLI end to end in a temp folder, with real parts: Chromium, Dovecot, SQLite, local sites.

A tiny survey of four companies from the demo world: one answers a human reply after
33 min (delivered with that arrival time), one acknowledges and then answers after 90 min,
one has a CAPTCHA, and one is unreachable.

The clock and the calendar are pinned (STYLE 19): every command runs with AUDIT_CLOCK set
so that the survey starts on Tuesday 2025-03-04 10:00 in Israel, a working day, whatever
the real hour or date; the demo world replies on the same clock, and the survey's calendar
is written into survey.yaml. The verdict is the same at any real hour. The instant lies
before every instant scripts/clock_guard.py shifts the process clock to, so the replies'
arrival times are never in the (shifted) future.
"""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from audit.clock import Clock
from audit.demo.scenario import COMPANIES, MIN, DemoCompany, Reply
from audit.demo.sites import DemoWorld

pytestmark = [pytest.mark.browser, pytest.mark.imap, pytest.mark.slow, pytest.mark.clock]

PASSWORD = "s3cret-Pa55word-e2e"
PINNED_START = datetime(2025, 3, 4, 10, 0, tzinfo=ZoneInfo("Asia/Jerusalem"))  # a Tuesday
CLOCK = Clock.starting_at(PINNED_START)
# Every process maps the same real instant to the same simulated one. (In UTC: adding the
# offset to the Israeli wall time would shift it by an hour across a DST change.)
_PINNED_UTC = PINNED_START.astimezone(UTC)
CLOCK_SPEC = (
    f"{_PINNED_UTC.isoformat()}@{(_PINNED_UTC + timedelta(seconds=CLOCK.offset_s)).isoformat()}"
)
CALENDAR = {
    "timezone": "Asia/Jerusalem",
    "country": "IL",
    "hours": {"sun": "08:00-20:00", "mon": "08:00-20:00", "tue": "08:00-20:00",
              "wed": "08:00-20:00", "thu": "08:00-20:00", "fri": "08:00-13:00", "sat": None},
}  # fmt: skip
RESULTS_COLUMNS = [
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


@pytest.fixture(scope="module")
def mail() -> Iterator[object]:
    from audit.demo.mailserver import MailServer, SmtpEntry, dovecot_available

    reason = dovecot_available()
    if reason:
        pytest.fail(f"Dovecot is part of the test setup (make test installs it): {reason}")
    server = MailServer(user="survey", password=PASSWORD)
    server.start()
    smtp = SmtpEntry(server)
    smtp.start()
    server.smtp_port = smtp.port  # type: ignore[attr-defined]
    yield server
    smtp.stop()
    server.stop()
    server.cleanup()


@pytest.fixture(scope="module")
def world(mail: object) -> Iterator[DemoWorld]:
    companies = tuple(c for c in COMPANIES if c.slug in ("carmel-bank", "golan-mobile")) + (
        DemoCompany(
            "negev-telecom",
            "Negev Telecom",
            "telecom",
            "negev-telecom.demo.test",
            (Reply(45, "auto_ack"), Reply(90 * MIN, "human")),
        ),
    )
    w = DemoWorld(companies, CLOCK, mail.smtp_port, "replies.demo.test").start()  # type: ignore[attr-defined]
    yield w
    w.stop()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, mail: object, world: DemoWorld) -> Path:
    root = tmp_path_factory.mktemp("survey")
    audit("init", str(root))
    survey = yaml.safe_load((root / "survey.yaml").read_text())
    survey["reply_address"] = {"scheme": "plus", "local": "survey", "domain": "replies.demo.test"}
    survey["mailbox"] = {
        "host": "127.0.0.1",
        "port": mail.imaps_port,  # type: ignore[attr-defined]
        "tls": "ssl",
        "user": "survey",
        "ca_file": str(mail.ca_file),  # type: ignore[attr-defined]
        "timeout_s": 10,
    }
    survey["browser"] = {"min_fill_seconds": 0.5, "typing_delay_ms": [0, 5], "site_delay_s": 0}
    survey["calendar"] = CALENDAR
    (root / "survey.yaml").write_text(yaml.safe_dump(survey, allow_unicode=True))
    companies = [
        {
            "name": s.company.name,
            "id": s.company.slug,
            "sector": s.company.sector,
            "contact_url": s.url + "contact",
            "reply_domains": [s.company.domain],
        }
        for s in world.sites
    ]
    companies.append(
        {"name": "Gone Ltd", "sector": "other", "contact_url": "http://127.0.0.1:9/contact"}
    )
    (root / "companies.yaml").write_text(
        yaml.safe_dump({"companies": companies}, allow_unicode=True)
    )
    return root


def audit(
    *args: str, password: str | None = PASSWORD, check: bool = True
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("AUDIT_IMAP_PASSWORD", None)
    if password is not None:
        env["AUDIT_IMAP_PASSWORD"] = password
    env["AUDIT_BLOCK_OUTSIDE"] = "1"  # nothing may leave loopback in tests
    env["AUDIT_CLOCK"] = CLOCK_SPEC
    proc = subprocess.run(
        [sys.executable, "-m", "audit.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"audit {' '.join(args)} -> {proc.returncode}\n{proc.stderr}\n{proc.stdout}"
        )
    return proc


def _received(world: DemoWorld) -> dict[str, int]:
    return {s.company.slug: len(s.received) for s in world.sites}


def test_survey_end_to_end_and_never_twice(workspace: Path, world: DemoWorld) -> None:
    ws = str(workspace)
    check = audit("check", "-w", ws, "--json", check=False)
    items = {i["name"]: i for i in json.loads(check.stdout)}
    assert items["config"]["ok"] and items["browser"]["ok"] and items["mailbox"]["ok"], check.stdout

    run = json.loads(audit("run", "-w", ws, "--submit", "--json").stdout)
    outcomes = {r["slug"]: r["outcome"] for r in run["results"]}
    assert outcomes == {
        "carmel-bank": "submitted",
        "negev-telecom": "submitted",
        "golan-mobile": "captcha",
        "gone-ltd": "unreachable",
    }
    assert _received(world) == {"carmel-bank": 1, "negev-telecom": 1, "golan-mobile": 0}
    assert world.wait_idle(30)

    again = json.loads(audit("run", "-w", ws, "--submit", "--json").stdout)
    assert {r["slug"]: r["outcome"] for r in again["results"]} == {
        "carmel-bank": "already-submitted",
        "negev-telecom": "already-submitted",
        "golan-mobile": "already-blocked",
        "gone-ltd": "already-failed",
    }
    assert _received(world) == {"carmel-bank": 1, "negev-telecom": 1, "golan-mobile": 0}

    audit("watch", "-w", ws, "--once")
    audit("watch", "-w", ws, "--once")  # a second sync records nothing twice
    status = {r["company"]: r for r in json.loads(audit("status", "-w", ws, "--json").stdout)}
    assert status["Carmel Bank"]["messages"] == 1
    assert status["Negev Telecom"]["messages"] == 2
    assert status["Negev Telecom"]["contact_events"] == 2

    # Reported as of three hours into the pinned survey: both human replies are in.
    as_of = (PINNED_START + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M%z")
    paths = json.loads(audit("report", "-w", ws, "--as-of", as_of, "--json").stdout)
    with open(paths["results_csv"], encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames is not None and reader.fieldnames[:10] == RESULTS_COLUMNS
        rows = {r["company"]: r for r in reader}
    # A company answers a set delay after its server got the form; the tool counts from its
    # own submit instant, so the form's trip (longer on a busy machine) is part of the truth.
    # The 1 s tolerance is INTERNALDATE's whole seconds.
    for name, slug, delay in (
        ("Carmel Bank", "carmel-bank", 33 * 60),
        ("Negev Telecom", "negev-telecom", 90 * 60),
    ):
        sent = datetime.fromisoformat(rows[name]["submitted_at"].replace("Z", "+00:00"))
        lag = (world.site(slug).received[0].at - sent).total_seconds()
        assert abs(float(rows[name]["response_seconds"]) - (delay + lag)) <= 1, (name, lag)
        # a Tuesday morning: business time is wall-clock time, so the ranking is not a tie
        assert abs(float(rows[name]["business_seconds"]) - (delay + lag)) <= 1, (name, lag)
    submitted = datetime.fromisoformat(rows["Carmel Bank"]["submitted_at"].replace("Z", "+00:00"))
    # on the pinned clock, after its start and before now (however slow the machine was)
    assert PINNED_START <= submitted <= CLOCK.now()
    assert rows["Carmel Bank"]["rank"] == "1" and rows["Negev Telecom"]["rank"] == "2"
    assert rows["Golan Mobile"]["status"] == "blocked" and rows["Golan Mobile"]["rank"] == ""
    assert rows["Gone Ltd"]["status"] == "form_failed"
    assert Path(paths["index_html"]).is_file()
    assert 'id="simulated"' in Path(paths["index_html"]).read_text(encoding="utf-8")

    # The password never reaches the store, the evidence or the reports.
    for f in workspace.rglob("*"):
        if f.is_file():
            assert PASSWORD.encode() not in f.read_bytes(), f


def _store_counts(workspace: Path) -> tuple[int, int, int]:
    con = sqlite3.connect(workspace / "survey.db")
    try:
        return tuple(  # type: ignore[return-value]
            con.execute(f"select count(*) from {t}").fetchone()[0]
            for t in ("submissions", "messages", "contact_events")
        )
    finally:
        con.close()


def test_bad_input_gives_one_line_errors_and_loses_nothing(workspace: Path) -> None:
    ws = str(workspace)
    audit("run", "-w", ws, "--submit")  # make sure something is recorded
    before = _store_counts(workspace)

    wrong = audit("watch", "-w", ws, "--once", password="wrong-password", check=False)
    assert wrong.returncode != 0
    assert "Traceback" not in wrong.stderr
    lines = [line for line in wrong.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), wrong.stderr
    assert "password" in lines[0].lower() or "authentication" in lines[0].lower()
    assert "wrong-password" not in wrong.stderr

    original = (workspace / "companies.yaml").read_text()
    try:
        (workspace / "companies.yaml").write_text(original + "  - name: [broken\n")
        broken = audit("run", "-w", ws, "--submit", check=False)
        assert broken.returncode == 2
        lines = [line for line in broken.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and "companies.yaml line" in lines[0] and "broken YAML" in lines[0]
    finally:
        (workspace / "companies.yaml").write_text(original)
    assert _store_counts(workspace) == before
