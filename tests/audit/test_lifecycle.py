"""The submission lifecycle's pure transitions: clicked and unproven is uncertain, always."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from audit.lifecycle import (
    LifecycleError,
    Submission,
    finish,
    recover,
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
