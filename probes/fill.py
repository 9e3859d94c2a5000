"""Filling a form like a careful person: what goes where (pure) and the key events (browser).

``plan_value`` decides a field's value from its role and the request; it never invents a
persona detail: a required field the persona cannot answer raises ``Unanswerable``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
from dataclasses import dataclass
from typing import Any

from audit.models import BrowserSettings, ProbeRequest
from probes import roles

log = logging.getLogger(__name__)

MAX_TYPED_CHARS = 160  # beyond this a person pastes: the rest goes in as one insertText
ACTION_TIMEOUT_MS = 4000


class Unanswerable(Exception):
    """A required field the persona cannot answer (reason like 'national_id required')."""


@dataclass
class Planned:
    kind: str  # text, check, uncheck, select, radio, skip
    value: str | None = None  # text to type, option value, radio option ref
    shown: str | None = None  # what the report shows as sent


def split_phone(phone: str) -> tuple[str, str] | None:
    """'050-555-0134' -> ('050', '5550134'); Israeli-style prefixes, else the first group."""
    digits = re.sub(r"\D", "", phone or "")
    if phone and re.match(r"^\s*\d{2,4}[\s\-./]\d", phone):
        head = re.split(r"[\s\-./]", phone.strip(), maxsplit=1)[0]
        return head, digits[len(head) :]
    if len(digits) >= 9 and digits.startswith("0"):
        n = 3 if digits[1] in "57" else 2
        return digits[:n], digits[n:]
    return None


def field_label(f: dict[str, Any]) -> str:
    for key in ("label", "aria", "placeholder", "name", "idattr"):
        if f.get(key):
            return str(f[key]).strip(" *:")[:60]
    return "a field"


def email_for(req: ProbeRequest, force_fallback: bool = False) -> str:
    if force_fallback or req.company.overrides.accepts_plus is False:
        return req.fallback_address
    return req.reply_address


def plan_value(
    f: dict[str, Any], req: ProbeRequest, override: str | None = None, email_fallback: bool = False
) -> Planned:
    """What to put in one visible field. Raises Unanswerable for a required unknown."""
    role, detail = f["role"], f.get("detail")
    typ = (f.get("type") or "").lower()
    tag = f.get("tag")
    required = bool(f.get("required"))
    p = req.persona
    if override is not None:
        if typ == "checkbox":
            yes = override.strip().lower() in ("1", "true", "yes", "on", "checked")
            return Planned("check" if yes else "uncheck", shown=str(yes).lower())
        if tag == "select" or typ == "radio":
            opt = _option_matching(f.get("options") or [], override)
            if opt is None:
                raise Unanswerable(f"no option {override!r} in {field_label(f)}")
            return _choose(f, opt)
        return Planned("text", override, override)
    if role in ("honeypot", "captcha", "hidden", "submit"):
        return Planned("skip")
    if typ == "checkbox":
        if role == "consent":
            return Planned("check", shown="true")
        if role == "marketing_opt_in":
            return Planned("uncheck", shown="false")
        if detail == "is_customer" and p.is_customer is not None:
            return Planned("check" if p.is_customer else "uncheck", shown=str(p.is_customer))
        if required:
            return Planned("check", shown="true")
        return Planned("skip")
    if tag == "select" or typ == "radio":
        return _plan_choice(f, req)
    if typ == "file":
        if required:
            raise Unanswerable("upload required")
        return Planned("skip")
    value: str | None = None
    if role == "email":
        value = email_for(req, email_fallback)
    elif role == "full_name":
        value = p.name
    elif role == "first_name":
        value = p.first_name or p.name
    elif role == "last_name":
        value = p.last_name
    elif role == "phone":
        value = p.phone
        if detail == "phone_number":
            value = p.phone_number or ((split_phone(p.phone) or (None, None))[1])
    elif role == "company":
        value = p.company
    elif role == "subject":
        value = req.subject
    elif role == "message":
        value = req.message
    elif role == "other":
        value = _detail_value(detail, req)
    if value:
        if f.get("maxlength") and role not in ("message", "email"):
            value = value[: int(f["maxlength"])]
        return Planned("text", value, value)
    if required:
        name = detail if detail in ("national_id", "city", "phone_prefix") else None
        if role != "other":
            name = role
        raise Unanswerable(f"{name or field_label(f)} required")
    return Planned("skip")


def _detail_value(detail: str | None, req: ProbeRequest) -> str | None:
    p = req.persona
    if detail == "national_id":
        return p.national_id
    if detail == "city":
        return p.city
    if detail == "phone_prefix":
        return p.phone_prefix or ((split_phone(p.phone) or (None, None))[0])
    if detail == "is_customer" and p.is_customer is not None:
        return "yes" if p.is_customer else "no"
    return None


def _digits(s: Any) -> str:
    return re.sub(r"\D", "", str(s or ""))


def _option_matching(options: list[dict[str, Any]], want: str) -> dict[str, Any] | None:
    w = want.strip().lower()
    for o in options:
        if (
            str(o.get("value", "")).strip().lower() == w
            or str(o.get("text", "")).strip().lower() == w
        ):
            return o
    return None


def _choose(f: dict[str, Any], opt: dict[str, Any]) -> Planned:
    if (f.get("type") or "") == "radio":
        return Planned("radio", opt.get("ref"), str(opt.get("text") or opt.get("value")))
    return Planned("select", str(opt.get("value")), str(opt.get("text") or opt.get("value")))


def _plan_choice(f: dict[str, Any], req: ProbeRequest) -> Planned:
    options = f.get("options") or []
    role, detail, required = f["role"], f.get("detail"), bool(f.get("required"))
    p = req.persona
    radio = (f.get("type") or "") == "radio"
    already = any(o.get("checked") for o in options) if radio else False
    if role == "topic":
        opt = roles.general_option(options)
        return _choose(f, opt) if opt else Planned("skip")
    if detail == "is_customer":
        if p.is_customer is None:
            if required or radio and not already:
                raise Unanswerable("is_customer required")
            return Planned("skip")
        opt = roles.yes_no_option(options, p.is_customer)
        if opt is None:
            raise Unanswerable("is_customer required")
        return _choose(f, opt)
    if detail == "phone_prefix":
        prefix = _detail_value("phone_prefix", req)
        for o in options:
            if prefix and _digits(o.get("value") or o.get("text")) == _digits(prefix):
                return _choose(f, o)
        if required:
            raise Unanswerable("phone_prefix required")
        return Planned("skip")
    if detail == "city":
        if p.city:
            for o in options:
                if str(o.get("text", "")).strip() == p.city or str(o.get("value")) == p.city:
                    return _choose(f, o)
        if required:
            raise Unanswerable("city required")
        return Planned("skip")
    if required and not already:
        opt = roles.general_option(options)
        return _choose(f, opt) if opt else Planned("skip")
    return Planned("skip")


# ---------------------------------------------------------------------------------------
# Browser actions
# ---------------------------------------------------------------------------------------
def selector_for(ref: str) -> str:
    return f'[data-ca-id="{ref}"]'


async def type_text(page: Any, frame: Any, ref: str, text: str, settings: BrowserSettings) -> None:
    """Focus the field and type with real key events and human-ish pauses."""
    loc = frame.locator(selector_for(ref)).first
    with contextlib.suppress(Exception):  # a fixed element cannot scroll, still typeable
        await loc.scroll_into_view_if_needed(timeout=1500)
    try:
        await loc.click(timeout=1500)
    except Exception:
        await loc.focus(timeout=ACTION_TIMEOUT_MS)
    current = await loc.evaluate("(el) => el.value || ''")
    if current:
        await loc.evaluate("(el) => el.select && el.select()")
        await page.keyboard.press("Delete")
    lo, hi = settings.typing_delay_ms
    typed, rest = text[:MAX_TYPED_CHARS], text[MAX_TYPED_CHARS:]
    if hi <= 0:
        await page.keyboard.type(typed)
    else:
        i = 0
        while i < len(typed):
            n = random.randint(1, 4)
            await page.keyboard.type(typed[i : i + n], delay=random.randint(max(lo, 0), hi))
            i += n
    if rest:
        await page.keyboard.insert_text(rest)
    await loc.evaluate("(el) => { el.dispatchEvent(new Event('change', {bubbles: true})); }")


async def set_checked(frame: Any, ref: str, on: bool) -> bool:
    loc = frame.locator(selector_for(ref)).first
    state = bool(await loc.evaluate("(el) => el.checked"))
    if state == on:
        return True
    try:
        await loc.set_checked(on, timeout=1500)
    except Exception:
        try:  # custom checkbox: the visible label takes the click
            await loc.evaluate(
                "(el) => { const l = (el.labels && el.labels[0]) || el.closest('label');"
                " (l || el).click(); }"
            )
        except Exception as exc:
            log.debug("cannot toggle %s: %s", ref, exc)
    state = bool(await loc.evaluate("(el) => el.checked"))
    if state != on:
        await loc.evaluate("(el) => el.click()")
        state = bool(await loc.evaluate("(el) => el.checked"))
    return state == on


async def select_value(frame: Any, ref: str, value: str) -> None:
    loc = frame.locator(selector_for(ref)).first
    try:
        await loc.select_option(value=value, timeout=1500)
    except Exception:
        await loc.select_option(value=value, force=True, timeout=ACTION_TIMEOUT_MS)


async def pause(settings: BrowserSettings) -> None:
    lo, hi = settings.typing_delay_ms
    if hi > 0:
        await asyncio.sleep(random.uniform(lo, hi) * 4 / 1000)
