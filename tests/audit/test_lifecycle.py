"""The submission lifecycle's pure transitions: clicked and unproven is uncertain, always."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from audit.lifecycle import (
    LifecycleError,
    Submission,
    claim,
    claim_is_stale,
    finish,
    recover,
    recover_stale,
    retry_hint,
    state_after,
)
from audit.models import Outcome, SubmissionState

NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
SUB = Submission(1, 1, 1, SubmissionState.RUNNING, "abcd2345", "s+abcd2345@x.test")
CLICKED = replace(SUB, clicked_at=NOW)


@pytest.mark.parametrize(
    ("outcome", "clicked", "state"),
    [
        (Outcome.SUBMITTED, True, SubmissionState.SUBMITTED),
        (Outcome.CAPTCHA, False, SubmissionState.BLOCKED),
        (Outcome.LOGIN_WALL, False, SubmissionState.BLOCKED),
        (Outcome.UNCERTAIN, True, SubmissionState.UNCERTAIN),
        (Outcome.NO_FORM, False, SubmissionState.FAILED),
        (Outcome.FAILED, False, SubmissionState.FAILED),
        (Outcome.TIMEOUT, False, SubmissionState.FAILED),
        # clicked and then lost sight of it: never failed, never re-sent
        (Outcome.TIMEOUT, True, SubmissionState.UNCERTAIN),
        (Outcome.ERROR, True, SubmissionState.UNCERTAIN),
        (Outcome.UNREACHABLE, True, SubmissionState.UNCERTAIN),
        (Outcome.FAILED, True, SubmissionState.UNCERTAIN),
        # the server's own definite "no" after the click is a failure
        (Outcome.VALIDATION_ERROR, True, SubmissionState.FAILED),
        (Outcome.SPAM_BLOCKED, True, SubmissionState.FAILED),
    ],
)
def test_state_after(outcome: Outcome, clicked: bool, state: SubmissionState) -> None:
    assert state_after(outcome, clicked) is state


def test_finish_uses_the_recorded_click_and_refuses_a_non_running_submission() -> None:
    change = finish(CLICKED, Outcome.TIMEOUT, "timed out at verify", clicked=False, now=NOW)
    assert change["state"] == "uncertain" and "not re-sent" in change["reason"]
    with pytest.raises(LifecycleError):
        finish(replace(SUB, state=SubmissionState.PLANNED), Outcome.SUBMITTED, "", True, NOW)


def test_recover_after_a_crash_or_an_interrupt() -> None:
    assert recover(CLICKED, retry_failed=False, now=NOW) == {
        "state": "uncertain",
        "outcome": "uncertain",
        "reason": "interrupted after the submit click; not re-sent",
        "finished_at": NOW,
    }
    assert recover(SUB, retry_failed=False, now=NOW)["state"] == "planned"  # type: ignore[index]
    failed = replace(SUB, state=SubmissionState.FAILED)
    assert recover(failed, retry_failed=False, now=NOW) is None
    assert recover(failed, retry_failed=True, now=NOW) == {"state": "planned"}
    clicked_failed = replace(CLICKED, state=SubmissionState.FAILED)
    assert recover(clicked_failed, retry_failed=True, now=NOW) is None  # never re-sent
    assert recover(replace(SUB, state=SubmissionState.SUBMITTED), True, NOW) is None


def test_retry_hint_says_when_retry_failed_applies() -> None:
    assert "--retry-failed" in retry_hint(replace(SUB, state=SubmissionState.FAILED))
    assert "never re-sent" in retry_hint(replace(CLICKED, state=SubmissionState.BLOCKED))
    assert retry_hint(replace(SUB, state=SubmissionState.SUBMITTED)) == ""


# -- claims by workers (audit work) -------------------------------------------------------
CLAIMED = replace(SUB, claimed_by="host-a:4242:ab12cd", claimed_at=NOW, heartbeat_at=NOW)


@pytest.mark.parametrize(
    ("sub", "age_s", "alive", "stale"),
    [
        (CLAIMED, 59, None, False),  # another host, heartbeat fresh
        (CLAIMED, 61, None, True),  # another host, heartbeat stale
        (CLAIMED, 1, False, True),  # this host, its pid gone: at once
        (CLAIMED, 61, True, True),  # alive but wedged: its heartbeat tells
        (replace(SUB, claimed_by=None), 0, None, True),  # left by a run before claims
        (replace(CLAIMED, state=SubmissionState.SUBMITTED), 999, False, False),
    ],
)
def test_claim_is_stale(sub: Submission, age_s: int, alive: bool | None, stale: bool) -> None:
    now = NOW + timedelta(seconds=age_s)
    assert claim_is_stale(sub, now, stale_after_s=60, claimer_alive=alive) is stale


def test_a_stale_claim_is_planned_again_only_if_never_clicked() -> None:
    change = recover_stale(CLAIMED, NOW)
    assert change["state"] == "planned"
    assert change["claimed_by"] is None and change["heartbeat_at"] is None
    assert "before the submit click" in change["reason"]
    clicked = recover_stale(replace(CLAIMED, clicked_at=NOW), NOW)
    assert clicked == {
        "state": "uncertain",
        "outcome": "uncertain",
        "reason": "worker host-a:4242:ab12cd stopped heartbeating after the click; "
        "the reply address will tell",
        "finished_at": NOW,
    }
    with pytest.raises(LifecycleError):
        recover_stale(replace(CLAIMED, state=SubmissionState.PLANNED), NOW)


def test_a_claim_writes_its_holder_and_first_heartbeat() -> None:
    assert claim("w1", 7, NOW) == {
        "state": "running",
        "started_at": NOW,
        "run_id": 7,
        "claimed_by": "w1",
        "claimed_at": NOW,
        "heartbeat_at": NOW,
    }


def test_a_lost_browser_ends_by_the_crash_rule_never_failed() -> None:
    """A browser that went away under a probe is no evidence either way (issue 13)."""
    from audit.lifecycle import lost_browser

    why = "the browser went away during step fill"
    before = lost_browser(SUB, why, NOW)
    assert before["state"] == SubmissionState.PLANNED.value and before["claimed_by"] is None
    assert before["reason"] == f"recovered: {why} before the submit click"
    after = lost_browser(CLICKED, why, NOW)
    assert after["state"] == SubmissionState.UNCERTAIN.value and after["finished_at"] == NOW
    assert after["reason"].startswith(f"{why} after the submit click; not re-sent")
    with pytest.raises(LifecycleError):
        lost_browser(replace(SUB, state=SubmissionState.SUBMITTED), why, NOW)
