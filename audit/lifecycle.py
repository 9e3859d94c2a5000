"""A submission's life, in one place: a typed Submission and pure transitions (STYLE 3).

    planned -> running (claimed) -> [clicked] -> submitted | failed | blocked | uncertain

The one rule that keeps a survey honest and never sends a form twice: once the moment
before the submit click is recorded (``clicked_at``), the submission is never planned
again. Whatever then stops it without proof that the form arrived (a crash, Ctrl-C, a lost
browser, a timeout, an error) makes it ``uncertain``: the reply address will tell. Before
the click nothing has left the browser, so a stopped submission is simply planned again.

Many workers (``audit work``) share a wave: a worker claims a planned submission (it
becomes running with ``claimed_by``, ``claimed_at``, ``heartbeat_at``) and shows it is
alive by its heartbeat. A claim whose worker is gone (its heartbeat stale, or its process
dead on this host) ends by the same rule as after a crash (``claim_is_stale``,
``recover_stale``): never clicked -> planned again, clicked -> uncertain. Never re-queued.

The run, the interrupt handling, crash recovery and the reports call these functions; the
store writes what they return (a ``Change``) and reads rows back as ``Submission``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from audit.models import Outcome, SubmissionState

# Outcomes that are the server's own definite "no": the form reached it and was refused,
# so a clicked submission with one of these is failed, not uncertain.
DEFINITE_REFUSALS = frozenset({Outcome.VALIDATION_ERROR, Outcome.SPAM_BLOCKED, Outcome.REJECTED})
BLOCKING = frozenset({Outcome.CAPTCHA, Outcome.LOGIN_WALL})

UNCERTAIN_AFTER_CLICK = "interrupted after the submit click; not re-sent"
PLANNED_AGAIN = "recovered: interrupted before submit"
# The e-mail channel's "submit click" is the SMTP DATA command: same rule, same column.

DEFAULT_HEARTBEAT_S = 10.0  # a worker's sign of life on each claim it holds, this often
STALE_AFTER_BEATS = 6  # a claim whose heartbeat is this many intervals old is stale

# What a claim's release writes: nobody holds the submission any more.
_UNCLAIMED: dict[str, Any] = {"claimed_by": None, "claimed_at": None, "heartbeat_at": None}


class LifecycleError(ValueError):
    """A transition the lifecycle does not allow (a bug, never a site's fault)."""


@dataclass(frozen=True)
class Submission:
    """One company in one wave (and channel), as the store holds it."""

    id: int
    company_id: int
    wave_id: int
    state: SubmissionState
    token: str
    reply_address: str
    outcome: str | None = None
    reason: str | None = None
    signal: str | None = None
    page_url: str | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    clicked_at: datetime | None = None
    submitted_at: datetime | None = None
    finished_at: datetime | None = None
    run_id: int | None = None
    claimed_by: str | None = None  # the worker holding a running submission (schema 4)
    claimed_at: datetime | None = None
    heartbeat_at: datetime | None = None
    site_key: str | None = None
    channel: str = "form"  # SubmissionChannel
    sent_message_id: str | None = None  # e-mail: our Message-ID, stored before sending
    channel_note: str | None = None  # why this channel (e.g. the form failed: fallback)

    @classmethod
    def from_row(cls, row: Any) -> Submission:
        m = row._mapping
        return cls(
            id=int(m["id"]),
            company_id=int(m["company_id"]),
            wave_id=int(m["wave_id"]),
            state=SubmissionState(m["state"]),
            token=m["token"],
            reply_address=m["reply_address"],
            outcome=m.get("outcome"),
            reason=m.get("reason"),
            signal=m.get("signal"),
            page_url=m.get("page_url"),
            created_at=m.get("created_at"),
            started_at=m.get("started_at"),
            clicked_at=m.get("clicked_at"),
            submitted_at=m.get("submitted_at"),
            finished_at=m.get("finished_at"),
            run_id=m.get("run_id"),
            claimed_by=m.get("claimed_by"),
            claimed_at=m.get("claimed_at"),
            heartbeat_at=m.get("heartbeat_at"),
            site_key=m.get("site_key"),
            channel=m.get("channel") or "form",
            sent_message_id=m.get("sent_message_id"),
            channel_note=m.get("channel_note"),
        )

    @property
    def clicked(self) -> bool:
        return self.clicked_at is not None

    @property
    def final(self) -> bool:
        return self.state in (
            SubmissionState.SUBMITTED,
            SubmissionState.FAILED,
            SubmissionState.BLOCKED,
            SubmissionState.UNCERTAIN,
        )


Change = dict[str, Any]  # the columns a transition writes


def state_after(outcome: Outcome, clicked: bool) -> SubmissionState:
    """The state a finished probe leaves the submission in.

    Clicked and not proven, and not the server's own definite refusal: uncertain.
    """
    if outcome is Outcome.SUBMITTED:
        return SubmissionState.SUBMITTED
    if outcome in BLOCKING:
        return SubmissionState.BLOCKED
    if outcome is Outcome.UNCERTAIN:
        return SubmissionState.UNCERTAIN
    if clicked and outcome not in DEFINITE_REFUSALS:
        return SubmissionState.UNCERTAIN
    return SubmissionState.FAILED


def finish(sub: Submission, outcome: Outcome, reason: str, clicked: bool, now: datetime) -> Change:
    """running -> submitted | failed | blocked | uncertain."""
    if sub.state is not SubmissionState.RUNNING:
        raise LifecycleError(f"submission {sub.id} finished while {sub.state}")
    clicked = clicked or sub.clicked
    state = state_after(outcome, clicked)
    if state is SubmissionState.UNCERTAIN and outcome is not Outcome.UNCERTAIN:
        reason = f"{reason} (after the submit click: not re-sent)" if reason else reason
    return {
        "state": state.value,
        "outcome": outcome.value,
        "reason": reason,
        "finished_at": now,
    }


def defer(sub: Submission, reason: str, now: datetime) -> Change:
    """running, nothing sent, a temporary refusal (SMTP 4xx, server unreachable) ->
    planned again: the next run tries it. Never after the submit click."""
    if sub.state is not SubmissionState.RUNNING or sub.clicked:
        raise LifecycleError(f"submission {sub.id} deferred while {sub.state}")
    return {
        "state": SubmissionState.PLANNED.value,
        "reason": f"{reason} (tried again later)",
        **_UNCLAIMED,
    }


def fallback_reason(form: Submission) -> str | None:
    """Why a company's form submission lets the survey fall back to e-mail, or None.

    Only a form that could not be submitted at all (failed or blocked) and was never
    clicked: after a click, or when uncertain, the company may have our inquiry already.
    """
    if form.clicked or form.state not in (SubmissionState.FAILED, SubmissionState.BLOCKED):
        return None
    what = form.outcome or form.state.value
    return f"form {form.state.value}: {what} -> e-mail fallback"


def recover(sub: Submission, retry_failed: bool, now: datetime) -> Change | None:
    """What a submission left behind by a crash, an interrupt or a failure becomes.

    running + clicked -> uncertain; running, not clicked -> planned; failed/blocked and
    never clicked -> planned when the consultant asked (--retry-failed); otherwise nothing.
    """
    if sub.state is SubmissionState.RUNNING:
        if sub.clicked:
            return {
                "state": SubmissionState.UNCERTAIN.value,
                "outcome": Outcome.UNCERTAIN.value,
                "reason": UNCERTAIN_AFTER_CLICK,
                "finished_at": now,
            }
        return {"state": SubmissionState.PLANNED.value, "reason": PLANNED_AGAIN, **_UNCLAIMED}
    if (
        retry_failed
        and sub.state in (SubmissionState.FAILED, SubmissionState.BLOCKED)
        and not sub.clicked
    ):
        return {"state": SubmissionState.PLANNED.value}
    return None


def claim(worker: str, run_id: int | None, now: datetime) -> Change:
    """planned -> running, held by ``worker`` (the store writes it only if still planned)."""
    return {
        "state": SubmissionState.RUNNING.value,
        "started_at": now,
        "run_id": run_id,
        "claimed_by": worker,
        "claimed_at": now,
        "heartbeat_at": now,
    }


def claim_is_stale(
    sub: Submission, now: datetime, stale_after_s: float, claimer_alive: bool | None
) -> bool:
    """Whether a running submission's holder can no longer be counted on.

    ``claimer_alive`` is what the caller could see of the holder's process: False when it
    runs on this host and its pid is gone (recovered at once), True when it is there, None
    when it cannot be seen (another host). A running submission with no holder was left
    by a run from before claims (schema < 4) that crashed. Otherwise the heartbeat tells:
    stale when older than ``stale_after_s`` (a live but wedged process counts as gone).
    """
    if sub.state is not SubmissionState.RUNNING:
        return False
    if sub.claimed_by is None or claimer_alive is False:
        return True
    last = sub.heartbeat_at or sub.claimed_at or sub.started_at
    return last is None or (now - last).total_seconds() > stale_after_s


def recover_stale(sub: Submission, now: datetime, why: str = "stopped heartbeating") -> Change:
    """A stale claim (see claim_is_stale) ends as after a crash, never re-queued blindly.

    Clicked -> uncertain ("worker X stopped heartbeating after the click"); never clicked
    (so nothing left its browser) -> planned again, unclaimed, for any worker to take.
    """
    if sub.state is not SubmissionState.RUNNING:
        raise LifecycleError(f"submission {sub.id} recovered from a claim while {sub.state}")
    who = f"worker {sub.claimed_by}" if sub.claimed_by else "a run"
    return _ended_unseen(
        sub, now, f"{who} {why} after the click; the reply address will tell", f"{who} {why}"
    )


def _ended_unseen(sub: Submission, now: datetime, after_click: str, what: str) -> Change:
    """A running submission whose end nobody saw: clicked -> uncertain (``after_click``);
    never clicked -> planned again, unclaimed ("recovered: <what> before the submit click")."""
    if sub.clicked:
        return {
            "state": SubmissionState.UNCERTAIN.value,
            "outcome": Outcome.UNCERTAIN.value,
            "reason": after_click,
            "finished_at": now,
        }
    return {
        "state": SubmissionState.PLANNED.value,
        "reason": f"recovered: {what} before the submit click",
        **_UNCLAIMED,
    }


def lost_browser(sub: Submission, why: str, now: datetime) -> Change:
    """The browser went away under a running probe (a browser server died, Chromium
    crashed): no evidence either way, so the crash rule, not a failure. Clicked ->
    uncertain; never clicked -> planned again, unclaimed (nothing left the browser)."""
    if sub.state is not SubmissionState.RUNNING:
        raise LifecycleError(f"submission {sub.id} lost its browser while {sub.state}")
    return _ended_unseen(
        sub, now, f"{why} after the submit click; not re-sent (the reply address will tell)", why
    )


def retry_hint(sub: Submission) -> str:
    """What a re-run says about a submission it will not send again."""
    if sub.state in (SubmissionState.FAILED, SubmissionState.BLOCKED):
        return (
            " (never clicked: --retry-failed tries it again)"
            if not sub.clicked
            else " (clicked: never re-sent)"
        )
    return ""
