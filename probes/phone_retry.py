"""A phone refused for its format (issue 10, class 8; a step of probes.runner): when the
server's answer names the phone field and nothing else, type the persona's next format
into the phone alone and click again, at most once per format."""

from __future__ import annotations

import logging
from typing import Any

from audit.models import Outcome
from probes import evidence, fill, filling, roles, submit, verify
from probes.analyze import PageAnalysis, analyze_page, evaluate
from probes.roles import FormView
from probes.state import Probe, short

log = logging.getLogger(__name__)


async def phone_refused(
    p: Probe, phone_name: str, view: FormView
) -> tuple[PageAnalysis, FormView, dict[str, Any]] | None:
    """After a refusal: (analysis, the form as it is now, its phone field) when the
    server's answer definitely names the phone field and nothing else, else None.
    Never after an answer that may have been an acceptance (one request carrying our
    values, a status, the verdict a validation error)."""
    sub = p.capture.submit_request()
    sends = [x for x in p.capture.carrying() if x.navigation or x.method != "GET"]
    if (
        p.result.outcome is not Outcome.VALIDATION_ERROR
        or sub is None
        or not sub.carries
        or sub.status is None
        or len(sends) != 1
    ):
        return None
    try:
        analysis = await analyze_page(p.page)
    except Exception as exc:
        log.debug("phone retry: %s", exc)
        return None
    now = next((v for v in analysis.views if v.ref == view.ref), None)
    if now is None:  # a new page: the same form by its field names
        names = {f.get("name") for f in view.fields if f.get("name")}
        now = next((v for v in analysis.views if names <= {f.get("name") for f in v.fields}), None)
    if now is None or analysis.captcha_for(now):
        return None
    phones = [f for f in now.fields if f.get("name") == phone_name and f.get("visible")]
    if len(phones) != 1:
        return None
    try:
        marked = await evaluate(analysis.frame_of(now), {"op": "rejected", "form": now.ref})
    except Exception as exc:
        log.debug("phone retry: %s", exc)
        return None
    keys = verify.rejected_keys(sub.body)
    if not verify.only_these_rejected(keys, marked or [], now.fields, {phones[0]["ref"]}):
        return None
    return analysis, now, phones[0]


async def others_hold(p: Probe, analysis: PageAnalysis, now: FormView, old: FormView) -> str | None:
    """Why the form as it came back may not be sent again (a field we filled lost its
    value or is gone), else None: only the phone is typed again."""
    frame = analysis.frame_of(now)
    by_name = {f.get("name"): f for f in now.fields if f.get("name")}
    for f in old.fields:
        plan = p.filled.get(f["ref"])
        if plan is None or plan.kind == "skip" or f["role"] == "phone":
            continue
        again = by_name.get(f.get("name")) if f.get("name") else None
        if again is None and f["ref"] in {x["ref"] for x in now.fields}:
            again = f
        if again is None:
            return f"{fill.field_label(f)} is gone"
        if plan.kind == "radio":
            ok = await filling.read_field(frame, plan.value) if again is f else filling.GONE
            problem = None if ok is True else f"{fill.field_label(f)}: cannot read the choice back"
        else:
            problem = fill.readback_problem(
                again, plan, await filling.read_field(frame, again["ref"])
            )
        if problem:
            return problem
    return None


async def retry_phone(p: Probe, view: FormView) -> None:
    """Issue 10, class 8: the server refused the phone for its format and named only
    that field. Type the persona's next format (local -> international -> digits) into
    the phone alone, read the other fields back, click again; at most once per format,
    then stop. Every attempt goes on the record (reason and phone_attempts.json)."""
    phones = [f for f in view.fields if f["role"] == "phone" and f["ref"] in p.filled]
    if len(phones) != 1 or p.session.assist or not phones[0].get("name"):
        return
    phone = phones[0]
    plan = p.filled[phone["ref"]]
    typ = str(phone.get("type") or "").lower()
    if plan.kind != "text" or not plan.value or typ == "number" or phone.get("detail"):
        return
    persona = p.req.persona
    formats = fill.phone_formats(persona.phone, persona.phone_country_code)
    first = next((label for label, v in formats if v == plan.value), "as given")
    attempts = [(first, plan.value, p.result.outcome.value, p.result.reason)]
    for label, value in formats:
        if value in [a[1] for a in attempts]:
            continue
        refused = await phone_refused(p, str(phone["name"]), view)
        if refused is None:
            break
        analysis, now, field = refused
        problem = await others_hold(p, analysis, now, view)
        frame = analysis.frame_of(now)
        if problem is None:
            await fill.type_text(p.page, frame, field["ref"], value, p.settings)
            problem = fill.readback_problem(
                field, fill.Planned("text", value), await filling.read_field(frame, field["ref"])
            )
        button = roles.choose_submit(now)
        if problem or button is None:
            p.note(f"phone refused; not retried: {problem or 'no submit control'}")
            break
        before = await submit.form_state(p, analysis, now) or {}
        p.capture.restart()
        try:
            await frame.locator(fill.selector_for(button["ref"])).first.click(timeout=5000)
        except Exception as exc:
            if not p.capture.sent:
                p.note(f"phone retry: cannot click again ({short(exc)})")
                break
        p.result.submitted_at = p.now()
        await submit.await_verdict(p, analysis, now, before, retry=True)
        attempts.append((label, value, p.result.outcome.value, p.result.reason))
        if phone["ref"] in p.reports:
            p.reports[phone["ref"]].value_sent = value
        view = now
        if p.result.outcome is not Outcome.VALIDATION_ERROR:
            break
    if len(attempts) == 1:
        return
    evidence.save_values(p)  # the phone as last sent
    evidence.save_json(
        p,
        "phone_attempts",
        "phone_attempts.json",
        [{"format": a[0], "value": a[1], "outcome": a[2], "reason": a[3]} for a in attempts],
    )
    tried = ", ".join(a[0] for a in attempts)
    if p.result.outcome is Outcome.SUBMITTED:
        p.note(f"accepted after {_ordinal(len(attempts))} phone format: {attempts[-1][0]}")
    elif (
        p.result.outcome is Outcome.VALIDATION_ERROR
        and all(v in [a[1] for a in attempts] for _, v in formats)
        and await phone_refused(p, str(phone["name"]), view) is not None
    ):
        p.result.reason = f"phone rejected (tried {tried})"
    else:
        p.note(f"phone formats tried: {tried}")


def _ordinal(n: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")
