"""Fill the form (a step of probes.runner): the company's overrides resolved to fields,
each visible field given a role and a value, conditional fields and "Next" steps
followed, then every value read back before anything may be sent."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from audit.models import FieldReport
from probes import fill, roles
from probes.analyze import PageAnalysis, analyze_page
from probes.roles import ROLES, FormView
from probes.state import InvalidSelector, Probe

log = logging.getLogger(__name__)

MAX_STEPS = 6  # multi-step forms
MAX_PASSES = 3  # conditional fields that appear after a choice
# Roles a consultant may give a value for in overrides.values (the fillable ones).
_ROLE_NAMES = set(ROLES[: ROLES.index("marketing_opt_in") + 1])
_DETAIL_NAMES = {"national_id", "city", "is_customer", "phone_prefix", "phone_number"}


async def resolve(p: Probe, analysis: PageAnalysis, view: FormView, sel: str) -> str | None:
    """The data-ca-id of the element an override selector names (in the form's frame)."""
    frame = analysis.frame_of(view)
    try:
        loc = frame.locator(sel).first
        if await loc.count() == 0:
            return None
        ref = await loc.get_attribute("data-ca-id", timeout=2000)
        if ref is None:
            await loc.evaluate(
                "(el) => el.setAttribute('data-ca-id', 'ovr-' + Math.random().toString(36).slice(2))"
            )
            ref = await loc.get_attribute("data-ca-id", timeout=2000)
        return ref
    except Exception as exc:
        if "selector" in str(exc).lower() and ("valid" in str(exc) or "parse" in str(exc)):
            raise InvalidSelector(f"invalid selector {sel!r} in overrides") from exc
        raise


def report_fields(p: Probe, view: FormView) -> None:
    """Every field of the form (hidden ones aside) in the result, with its role now."""
    for f in view.fields:
        if f["role"] == "hidden":
            continue
        if f["ref"] not in p.reports:
            p.reports[f["ref"]] = FieldReport(
                name=f.get("name"), role=f["role"], selector=_css_for(f)
            )
        else:
            p.reports[f["ref"]].role = f["role"]
    p.result.fields = list(p.reports.values())


async def fill_form(
    p: Probe, analysis: PageAnalysis, view: FormView
) -> tuple[FormView, PageAnalysis]:
    """Fill the form: the overrides resolved to fields first, then each visible field,
    again while new fields appear (MAX_PASSES), through "Next" steps (MAX_STEPS). The
    form and the page as they are after it. fill.Unanswerable, InvalidSelector."""
    ov = p.req.company.overrides
    forced_roles: dict[str, str] = {}
    for sel, role in ov.fields.items():
        ref = await resolve(p, analysis, view, sel)
        if ref:
            forced_roles[ref] = role
    forced_values: dict[str, str] = {}
    role_values: dict[str, str] = {}
    for key, value in ov.values.items():
        if key in _ROLE_NAMES or key in _DETAIL_NAMES:
            role_values[key] = value
            continue
        ref = await resolve(p, analysis, view, key)
        if ref:
            forced_values[ref] = value
    p.forced = (forced_roles, forced_values, role_values)
    for step in range(MAX_STEPS):
        for _ in range(MAX_PASSES):
            changed = await fill_visible(p, analysis, view)
            if not changed:  # nothing done since the last look: it still holds
                break
            # the pause after the last field, while the page is looked at again
            looked = await asyncio.gather(reanalyze(p, view), fill.pause(p.settings))
            analysis, view = looked[0]
        submit = roles.choose_submit(view)
        nxt = [b for b in view.buttons if b["role"] == "next" and b.get("visible")]
        if submit is not None or not nxt or step == MAX_STEPS - 1:
            break
        frame = analysis.frame_of(view)
        p.stepped = True
        await frame.locator(fill.selector_for(nxt[0]["ref"])).first.click(timeout=4000)
        await asyncio.sleep(0.4)
        analysis, view = await reanalyze(p, view)
    force_roles(p, view)
    return view, analysis


def force_roles(p: Probe, view: FormView) -> None:
    """Roles named by the company's overrides win over the heuristics."""
    forced_roles = p.forced[0]
    for f in view.fields:
        if f["ref"] in forced_roles:
            f["role"], f["detail"] = forced_roles[f["ref"]], None
    report_fields(p, view)


async def reanalyze(p: Probe, view: FormView) -> tuple[PageAnalysis, FormView]:
    """The page analysed again, and the same form in it (the old view when it is gone)."""
    analysis = await analyze_page(p.page)
    same = next((v for v in analysis.views if v.ref == view.ref), None)
    if same is None:
        return analysis, view
    return analysis, same


async def fill_visible(p: Probe, analysis: PageAnalysis, view: FormView) -> bool:
    """Fill every visible field not filled yet; True when something was filled."""
    forced_roles, forced_values, role_values = p.forced
    frame = analysis.frame_of(view)
    email_fallback = False
    changed = False
    moved = False  # a field done: a person's pause before the next one (fill_form takes
    # the one after the last)

    async def pause_before_next() -> None:
        nonlocal moved
        if moved:
            await fill.pause(p.settings)
        moved = True

    force_roles(p, view)
    foreign = roles.foreign_fields(view, roles.choose_submit(view)) - set(forced_values)
    for f in view.fields:
        ref = f["ref"]
        if ref in foreign and ref not in p.filled:
            p.filled[ref] = fill.Planned("skip")
            p.note("fields of another box on the same page-wide form left empty")
            continue
        if f.get("readonly") and f.get("visible") and ref not in p.filled:
            f["readonly"] = await _still_readonly(frame, ref, f)
        if ref in p.filled or not f.get("visible") or f.get("disabled") or f.get("readonly"):
            if f["role"] == "other" and f.get("detail") == "upload" and f.get("required"):
                raise fill.Unanswerable("upload required")
            continue
        override = forced_values.get(ref)
        if override is None:
            override = role_values.get(f["role"]) or role_values.get(f.get("detail") or "")
        plan = fill.plan_value(f, p.req, override, email_fallback)
        p.filled[ref] = plan
        if plan.kind == "skip":
            continue
        p.note(plan.note)
        if f["role"] == "message" and plan.value:
            p.capture.ours.add_message(plan.value)
        changed = True
        report = p.reports.get(ref)
        if plan.kind == "text" and plan.value is not None:
            if (f.get("type") or "") == "checkbox":
                continue
            await pause_before_next()
            entered = await fill.type_text(
                p.page, frame, ref, plan.value, p.settings, not p.session.assist
            )
            if f["role"] == "email" and "+" in plan.value and not entered.valid:
                plan = fill.plan_value(f, p.req, None, email_fallback=True)
                p.filled[ref] = plan
                entered = await fill.type_text(
                    p.page, frame, ref, plan.value or "", p.settings, not p.session.assist
                )
            if report:
                report.value_sent = entered.value
        elif plan.kind in ("check", "uncheck"):
            await pause_before_next()
            await fill.set_checked(frame, ref, plan.kind == "check")
            if report:
                report.value_sent = "checked" if plan.kind == "check" else None
        elif plan.kind == "select" and plan.value is not None:
            await pause_before_next()
            await fill.select_value(frame, ref, plan.value)
            if report:
                report.value_sent = plan.shown
        elif plan.kind == "radio" and plan.value:
            await pause_before_next()
            await fill.set_checked(frame, plan.value, True)
            if report:
                report.value_sent = plan.shown
    return changed


async def read_back(p: Probe, analysis: PageAnalysis, view: FormView) -> str | None:
    """Why the form must not be sent (a field does not hold what was meant, or none of
    our values is in it), else None. A field that refuses the plus address gets the
    catch-all form once."""
    frame = analysis.frame_of(view)
    fields = {f["ref"]: f for f in view.fields}
    ours = 0
    planned = [
        (ref, plan) for ref, plan in p.filled.items() if ref in fields and plan.kind != "skip"
    ]
    values = await read_fields(
        frame, [(plan.value if plan.kind == "radio" else ref) for ref, plan in planned]
    )
    for (ref, plan), actual in zip(planned, values, strict=True):
        f = fields[ref]
        if actual is GONE:
            continue
        problem = fill.readback_problem(f, plan, actual)
        if problem and f["role"] == "email" and plan.value != p.req.fallback_address:
            retry = fill.plan_value(f, p.req, None, email_fallback=True)
            if retry.kind == "text" and retry.value:
                await fill.type_text(
                    p.page, frame, ref, retry.value, p.settings, not p.session.assist
                )
                actual = await read_field(frame, ref)
                if fill.readback_problem(f, retry, actual) is None:
                    p.filled[ref], problem = retry, None
                    p.note(f"reply address in its catch-all form ({problem_short(f)})")
        if problem:
            return problem
        if ref in p.reports and plan.kind == "text":
            p.reports[ref].value_sent = str(actual)
        if f["role"] in ("email", "message") and plan.kind == "text":
            ours += 1
    wanted = [f for f in view.fields if f["role"] in ("email", "message")]
    if wanted and not ours and not p.stepped:
        return (
            "none of our values is in the form (its e-mail and message fields are "
            "hidden or could not be typed in)"
        )
    return None


GONE = fill.GONE
_VALUE_JS = "(el) => (el.type === 'checkbox' || el.type === 'radio') ? el.checked : el.value"


async def read_field(frame: Any, ref: str | None) -> Any:
    """A field's value (checked state for a checkbox or radio), or GONE."""
    return (await read_fields(frame, [ref]))[0]


async def read_fields(frame: Any, refs: list[str | None]) -> list[Any]:
    """Each field's value (checked state for a checkbox or radio), or GONE, in one round
    trip."""
    named = [ref for ref in refs if ref]
    try:
        values = iter(await fill.on_elements(frame, named, _VALUE_JS) if named else [])
    except Exception as exc:
        log.debug("read back %s: %s", named, exc)
        values = iter([GONE] * len(named))
    return [next(values) if ref else GONE for ref in refs]


async def _still_readonly(frame: Any, ref: str, f: dict[str, Any]) -> bool:
    """Some forms keep fields readonly until focused (against autofill): focus and look."""
    if f["role"] in ("honeypot", "captcha", "hidden", "submit"):
        return True
    try:
        return bool(
            await fill.on_element(frame, ref, "(el) => { el.focus(); return el.readOnly; }")
        )
    except Exception:
        return True


def problem_short(f: dict[str, Any]) -> str:
    return f"{fill.field_label(f)} refused the plus address"


def _css_for(f: dict[str, Any]) -> str:
    if f.get("idattr") and re.fullmatch(r"[A-Za-z][\w-]*", str(f["idattr"])):
        return f"#{f['idattr']}"
    if f.get("name"):
        name = str(f["name"]).replace('"', '\\"')
        return f'{f.get("tag") or ""}[name="{name}"]'
    return fill.selector_for(f["ref"])
