"""`audit alerts`: what changed for the worse between two waves, in a real store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from audit.models import SurveyConfig
from reports.changes import changes_for_worse, previous_wave
from reports.metrics import compute, load_frames

from .conftest import SurveyBuilder, il

NOW = il(2026, 12, 1, 12, 0)
W1, W2 = il(2026, 11, 10, 10, 0), il(2026, 11, 24, 10, 0)  # Tuesdays, 10:00
MIN, H = 60, 3600


def _two_waves(b: SurveyBuilder) -> None:
    from datetime import timedelta

    w1, w2 = b.wave("wave-1"), b.wave("wave-2")
    ids = {
        n: b.company(n, promise="2 hours" if n == "Dalet" else None)
        for n in ("Alef", "Bet", "Gimel", "Dalet", "He", "Vav")
    }

    def answered(cid: int, wave: int, at, after_s: int) -> None:  # type: ignore[no-untyped-def]
        b.reply(b.submit(cid, wave, at), at + timedelta(seconds=after_s))

    # wave 1: everyone sent; all but Vav answer quickly
    for n, delay in (("Alef", 30 * MIN), ("Bet", 20 * MIN), ("Gimel", 40 * MIN)):
        answered(ids[n], w1, W1, delay)
    answered(ids["Dalet"], w1, W1, 1 * H)
    answered(ids["He"], w1, W1, 10 * MIN)
    b.submit(ids["Vav"], w1, W1)
    # wave 2
    answered(ids["Alef"], w2, W2, 5 * H)  # good -> fair
    b.submit(ids["Bet"], w2, W2)  # no answer any more
    b.submit(
        ids["Gimel"], w2, None, state="blocked", reason="captcha: recaptcha", outcome="captcha"
    )
    answered(ids["Dalet"], w2, W2, 3 * H)  # promise of 2 hours broken, and a slower tier
    answered(ids["He"], w2, W2, 10 * MIN)  # unchanged
    b.submit(ids["Vav"], w2, None, state="planned", outcome="")  # not sent yet: no alert


def test_changes_for_worse_names_exactly_what_got_worse(builder: SurveyBuilder) -> None:
    _two_waves(builder)
    frames = load_frames(builder.store)
    assert previous_wave(frames.waves, "wave-2") == "wave-1"
    assert previous_wave(frames.waves, "wave-1") is None
    survey = SurveyConfig()
    results = compute(frames, survey, builder.companies, NOW)
    found = changes_for_worse(results, "wave-2", "wave-1", survey.tiers)
    assert [(a.company, a.kind, a.before, a.after) for a in found] == [
        ("Bet", "stopped_answering", "answered (good)", "no_reply"),
        ("Gimel", "form_broke", "sent", "blocked"),
        ("Alef", "slower_tier", "good", "fair"),
        ("Dalet", "slower_tier", "good", "fair"),
        ("Dalet", "promise_broken", "kept", "broken"),
    ]
    assert "captcha" in found[1].detail
    # the other way round nothing got worse
    assert changes_for_worse(results, "wave-1", "wave-2", survey.tiers) == []


def test_the_alerts_command_exits_3_with_json_for_cron(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    subprocess.run([sys.executable, "-m", "audit.cli", "init", str(root)], check=True)
    b = SurveyBuilder(root)
    _two_waves(b)
    b.store.close()
    companies = [
        {"name": c.name, "id": c.slug, "homepage": c.homepage}
        | ({"promise": c.promise} if c.promise else {})
        for c in b.companies
    ]
    (root / "companies.yaml").write_text(yaml.safe_dump({"companies": companies}), "utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "audit.cli", "alerts", "-w", str(root), "--json"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 3, proc.stderr
    data = json.loads(proc.stdout)
    assert (data["wave"], data["previous"]) == ("wave-2", "wave-1")
    kinds = sorted((a["company"], a["kind"]) for a in data["alerts"])
    assert kinds == [
        ("Alef", "slower_tier"),
        ("Bet", "stopped_answering"),
        ("Dalet", "promise_broken"),
        ("Dalet", "slower_tier"),
        ("Gimel", "form_broke"),
    ]
    first = subprocess.run(
        [sys.executable, "-m", "audit.cli", "alerts", "-w", str(root), "--wave", "wave-1"],
        capture_output=True,
        text=True,
    )
    assert first.returncode == 0 and "is the first" in first.stderr


def test_an_open_wave_alerts_only_what_is_already_known(builder: SurveyBuilder) -> None:
    """Before the close, a company not answered yet is an alert once it has waited longer
    than its tier before allowed; the same company at the close has stopped answering."""
    from datetime import timedelta

    w1 = builder.wave("wave-1", close_at=W1 + timedelta(days=6))
    w2 = builder.wave("wave-2", close_at=W2 + timedelta(days=6))
    fast, slow = builder.company("Alef"), builder.company("Bet")
    builder.reply(builder.submit(fast, w1, W1), W1 + timedelta(minutes=20))  # good
    builder.reply(builder.submit(slow, w1, W1), W1 + timedelta(hours=5))  # fair
    builder.submit(fast, w2, W2)
    builder.submit(slow, w2, W2)
    survey = SurveyConfig()

    def kinds(now):  # type: ignore[no-untyped-def]
        results = compute(load_frames(builder.store), survey, builder.companies, now)
        closed = now >= W2 + timedelta(days=6)
        found = changes_for_worse(results, "wave-2", "wave-1", survey.tiers, closed=closed)
        return [(a.company, a.kind, a.after) for a in found]

    assert kinds(W2 + timedelta(minutes=30)) == []  # nothing known yet
    # two business hours on: Alef cannot be "good" any more, Bet still can be "fair"
    assert kinds(W2 + timedelta(hours=2)) == [("Alef", "slower_tier", "no answer yet")]
    after_close = kinds(W2 + timedelta(days=7))
    assert after_close == [
        ("Alef", "stopped_answering", "no_reply"),
        ("Bet", "stopped_answering", "no_reply"),
    ]
