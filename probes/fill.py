"""Filling a form like a careful person: what goes where (pure) and the key events (browser).

``plan_value`` decides a field's value from its role and the request; it never invents a
persona detail: a required field the persona cannot answer raises ``Unanswerable``.

Values are fitted to the field, deliberately and on the record (``Planned.note``), never
cut silently by the browser: multi-line text in a single-line ``<input>`` is joined with
spaces (typing a newline there presses Enter, which submits the form); a message longer
than ``maxlength`` is shortened with its reference line kept; a reply address that does
not fit becomes the survey's shorter catch-all form, or the field is unanswerable
("e-mail field too short"). ``readback_problem`` compares what a field holds with what
was meant, so a form is never sent with values that were lost or changed on the way.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import re
import sys
import time
import weakref
from dataclasses import dataclass
from typing import Any

from audit.models import BrowserSettings, ProbeRequest
from audit.tokens import reference_code
from probes import roles

log = logging.getLogger(__name__)

MAX_TYPED_CHARS = 160  # typing a value a page will not let us paste: the rest as one insertText
PASTE_OVER_CHARS = 40  # a longer value (the message, a long subject) is pasted, not typed
ACTION_TIMEOUT_MS = 4000


class Unanswerable(Exception):
    """A required field the persona cannot answer (reason like 'national_id required')."""


@dataclass
class Planned:
    kind: str  # text, check, uncheck, select, radio, skip
    value: str | None = None  # text to type, option value, radio option ref
    shown: str | None = None  # what the report shows as sent
    note: str | None = None  # how the value was fitted to the field, when it was


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


PHONE_FORMATS = ("local", "international", "digits")


def phone_formats(phone: str, country_code: str) -> list[tuple[str, str]]:
    """The persona's phone in the formats a server may insist on, in the order they are
    tried after a refusal: local as given (050-555-0134), international (+972
    50-555-0134: the trunk 0 dropped), digits only (0505550134). Duplicates dropped."""
    phone = " ".join((phone or "").split())
    digits = re.sub(r"\D", "", phone)
    if not digits:
        return []
    cc = country_code.lstrip("+")
    if phone.startswith(("+", "00")):  # given in international form: derive the local one
        intl = phone if phone.startswith("+") else "+" + phone[2:].lstrip()
        national = digits[2:] if phone.startswith("00") else digits
        national = national[len(cc) :] if national.startswith(cc) else national
        local = "0" + national
    else:
        local = phone
        rest = (
            re.sub(r"^\(?0\)?[\s\-./]*", "", phone) if phone.lstrip("(").startswith("0") else phone
        )
        intl = f"+{cc} {rest}"
    out: list[tuple[str, str]] = []
    for label, value in zip(PHONE_FORMATS, (local, intl, re.sub(r"\D", "", local)), strict=True):
        if value not in [v for _, v in out]:
            out.append((label, value))
    return out


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
        return fit_text(f, req, override, email_fallback)
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
        if value and (typ == "number" or _digits_only(f)):  # digits only, as asked
            value = _digits(value)
    elif role == "company":
        value = p.company
    elif role == "subject":
        value = req.subject
    elif role == "message":
        value = req.message
    elif role == "other":
        value = _detail_value(detail, req)
    if value:
        return fit_text(f, req, value, email_fallback)
    if required:
        name = detail if detail in ("national_id", "city", "phone_prefix") else None
        if role != "other":
            name = role
        raise Unanswerable(f"{name or field_label(f)} required")
    return Planned("skip")


def single_line(text: str) -> str:
    """Multi-line text for a one-line field: its lines joined with spaces."""
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def fit_text(
    f: dict[str, Any], req: ProbeRequest, value: str, email_fallback: bool = False
) -> Planned:
    """A text value fitted to its field (one line, maxlength), with a note when changed.
    Raises Unanswerable when it cannot be fitted without losing what it is for."""
    role = f["role"]
    notes: list[str] = []
    if f.get("tag") != "textarea" and ("\n" in value or "\r" in value):
        value = single_line(value)
        notes.append(f"{role} joined into one line (single-line field)")
    limit = int(f.get("maxlength") or 0)
    if limit and len(value) > limit:
        value, note = _fit_to_limit(f, req, value, limit, email_fallback)
        notes.append(note)
    return Planned("text", value, value, "; ".join(notes) or None)


def _fit_to_limit(
    f: dict[str, Any], req: ProbeRequest, value: str, limit: int, email_fallback: bool
) -> tuple[str, str]:
    role, p = f["role"], req.persona
    if role == "email":
        short = req.fallback_address
        if short and short != value and len(short) <= limit:
            return short, f"reply address in its catch-all form (e-mail field maxlength {limit})"
        raise Unanswerable(
            f"e-mail field too short (maxlength {limit}; the reply address has {len(value)})"
        )
    if role in ("message", "subject"):
        ref = reference_code(req.token)
        kept = _shorten_keeping(value, limit, ref)
        if kept is None:
            raise Unanswerable(f"{role} field too short (maxlength {limit})")
        return kept, f"{role} shortened to {limit} characters, reference kept (maxlength)"
    if role == "full_name" and p.first_name and len(p.first_name) <= limit:
        return p.first_name, f"first name only in the name field (maxlength {limit})"
    if role == "phone":
        digits = _digits(value)
        if digits and len(digits) <= limit:
            return digits, f"phone as digits only (maxlength {limit})"
    if role in ("other", "company") and not f.get("required"):
        return value[:limit], f"{field_label(f)} cut to {limit} characters (maxlength)"
    name = role if role != "other" else (f.get("detail") or field_label(f))
    raise Unanswerable(f"{name} field too short (maxlength {limit})")


def _shorten_keeping(text: str, limit: int, ref: str) -> str | None:
    """``text`` cut to ``limit`` characters at a word boundary, its reference kept at the
    end ("Reference: CA-XXXXXXXX", on its own line or inside a one-line text)."""
    idx = text.lower().rfind(ref.lower())
    if idx < 0:
        body, tail = text, ""
    else:
        start = text.rfind("\n", 0, idx) + 1  # the reference's line
        if start == 0 and "\n" not in text:  # one line: the label word before it, if any
            prev = text.rfind(" ", 0, max(idx - 1, 0)) + 1
            start = prev if text[prev:idx].rstrip().endswith(":") else idx
        body, tail = text[:start], text[start:].strip()
        if len(tail) > limit // 2:
            tail = ref
    sep = "\n\n" if "\n" in text else " "
    room = limit - (len(sep) + len(tail) if tail else 0) - 3
    if room < 20:
        return tail if tail and len(tail) <= limit else None
    cut = body.rstrip()[:room]
    if " " in cut.strip() and len(body.rstrip()) > room:
        cut = cut[: cut.rstrip().rfind(" ")]
    cut = cut.rstrip(" ,;:\n") + "..."
    return f"{cut}{sep}{tail}" if tail else cut


def readback_problem(f: dict[str, Any], plan: Planned, actual: Any) -> str | None:
    """Why a field does not hold what was meant (None when it does). ``actual`` is the
    element's value (text, select) or its checked state (checkbox, radio)."""
    label = field_label(f)
    if plan.kind in ("check", "uncheck"):
        if bool(actual) != (plan.kind == "check"):
            return f"{label} is {'not ' if plan.kind == 'check' else ''}checked"
        return None
    if plan.kind == "radio":
        return None if actual else f"{label}: the option is not selected"
    if plan.kind == "select":
        return None if str(actual) == str(plan.value) else f"{label}: the option is not selected"
    if plan.kind != "text" or plan.value is None:
        return None
    got, want = str(actual or ""), plan.value
    if f["role"] == "phone":
        same = _digits(got) == _digits(want) and bool(_digits(want))
    elif f["role"] == "email":
        same = got.strip().casefold() == want.strip().casefold()
    else:
        same = " ".join(got.split()).casefold() == " ".join(want.split()).casefold()
    if same:
        return None
    if not got:
        return f"{label} is empty after typing"
    if len(got) < len(want) and want.startswith(got):
        return f"{label} was cut to {len(got)} characters"
    return f"{label} holds {got[:60]!r}, not what was typed"


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


def _digits_only(f: dict[str, Any]) -> bool:
    """A field that accepts digits only (pattern="[0-9]*", "\\d{10}", ...)."""
    pattern = str(f.get("pattern") or "").strip("^$")
    return (
        bool(pattern) and re.fullmatch(r"(\[0-9\]|\\d)(\*|\+|\{\d+(,\d*)?\})?", pattern) is not None
    )


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


class Gone(Exception):
    """The element a ref names is not in its frame (any more)."""


# Finds the element dom.js marked with ``ref``, in the document or its open shadow roots
# (as Playwright's CSS does), or null.
_FIND_JS = """(ref) => {
  const sel = '[data-ca-id="' + CSS.escape(ref) + '"]';
  let el = document.querySelector(sel);
  if (!el) {
    const roots = [document];
    while (roots.length && !el) {
      const root = roots.pop();
      for (const x of root.querySelectorAll('*')) {
        if (!x.shadowRoot) continue;
        el = x.shadowRoot.querySelector(sel);
        if (el) break;
        roots.push(x.shadowRoot);
      }
    }
  }
  return el;
}"""

# Runs a snippet on each element the refs name: a list of {value} or {gone}. One round
# trip: a locator's evaluate costs three (wait for the selector, evaluate on the handle,
# dispose it) and, measured, ~8x the CPU of a frame.evaluate (bench/profile_submit.py).
_ON_ELEMENTS_JS = (
    "([refs, arg]) => refs.map((ref) => { const el = ("
    + _FIND_JS
    + ")(ref); return el ? {value: (%s)(el, arg)} : {gone: true}; })"
)


@functools.lru_cache(maxsize=64)
def _on_elements_js(snippet: str) -> str:
    return _ON_ELEMENTS_JS % snippet


async def on_element(
    frame: Any, ref: str, snippet: str, arg: Any = None, wait_s: float = ACTION_TIMEOUT_MS / 1000
) -> Any:
    """``snippet`` (``(el, arg) => ...``, synchronous) run on the element marked ``ref``,
    in one round trip. An element not there (a script re-rendering the form) is looked
    for again for up to ``wait_s``, then Gone is raised."""
    js = _on_elements_js(snippet)
    deadline = asyncio.get_running_loop().time() + wait_s
    while True:
        out = (await frame.evaluate(js, [[ref], arg]))[0]
        if out and not out.get("gone"):
            return out.get("value")
        if asyncio.get_running_loop().time() >= deadline:
            raise Gone(ref)
        await asyncio.sleep(0.1)


async def on_elements(frame: Any, refs: list[str], snippet: str, arg: Any = None) -> list[Any]:
    """``snippet`` run on each element the ``refs`` name, in one round trip: their values,
    ``GONE`` for an element not there."""
    out = await frame.evaluate(_on_elements_js(snippet), [refs, arg])
    return [GONE if x.get("gone") else x.get("value") for x in out]


GONE = object()  # on_elements: the element is not there


class Lag:
    """A running estimate, in seconds, of the machine's own time for one step of a
    person's action: the browser round trips of a key press, or of moving to the next
    field (the click, the focus). A person's timing is what the page sees between two
    events; a wait shortened by this estimate keeps it so on a busy machine, where the
    round trips grow, instead of slowing the person down by the machine's load. Shared by
    the probes of a process: they share the machine."""

    WEIGHT = 0.25  # of the newest measure
    MOST = 0.5  # a measure counts up to this (a page's slow handler is not the machine)

    def __init__(self) -> None:
        self.s = 0.0

    def add(self, seconds: float) -> None:
        self.s += self.WEIGHT * (min(max(0.0, seconds), self.MOST) - self.s)

    def wait(self, seconds: float) -> float:
        """What to wait so that the wait and the machine's time make ``seconds``."""
        return max(0.0, seconds - self.s)


_clock = time.monotonic  # (a test's fake clock replaces it)
KEY_LAG = Lag()  # per character typed, beyond the hold asked of Playwright
MOVE_LAG = Lag()  # from the end of one field to the first key in the next


@dataclass
class Entered:
    """What a field holds once typed or pasted and left: its value (None: an element
    without one) and whether it satisfies its own constraints (``validity.valid``, which
    fires no ``invalid`` event)."""

    value: Any
    valid: bool


async def type_text(
    page: Any, frame: Any, ref: str, text: str, settings: BrowserSettings, clipboard: bool = True
) -> Entered:
    """Focus the field and enter the text as a person does: a short value (a name, an
    address, a phone number, a short subject) typed with real key events and human-ish
    pauses; a long or multi-line text (the message) pasted whole (``paste_text``; the
    browser's clipboard is used unless ``clipboard`` is false: a visible browser in
    assist mode shares the consultant's). What the field holds after, read in the round
    trip that leaves it."""
    moved: float | None = _clock()
    loc = frame.locator(selector_for(ref)).first
    try:  # the click scrolls the field into view first (Playwright's actionability)
        await loc.click(timeout=1500)
    except Exception:
        moved = None  # the click's timeout is not the machine's time
        await loc.focus(timeout=ACTION_TIMEOUT_MS)
    current, multiline = await on_element(frame, ref, _FOCUSED_JS)
    if current:
        await page.keyboard.press("Delete")
    # The machine's share of a move: reaching this field, and (below) leaving it, which
    # is the first part of the move to the next one.
    reach = None if moved is None else _clock() - moved
    if not multiline:
        text = single_line(text)  # a newline in an <input> is Enter: it submits the form
    if pasted(text):
        entered = await paste_text(page, frame, ref, text, own_clipboard(settings) and clipboard)
        if entered is not None:
            if reach is not None:
                MOVE_LAG.add(reach)
            return entered
    lo, hi = settings.typing_delay_ms
    budget = MAX_TYPED_CHARS
    lines = text.replace("\r\n", "\n").split("\n")
    for i, line in enumerate(lines):
        if i:  # a line break without a key press: Enter may submit or trigger handlers
            await page.keyboard.insert_text("\n")
        typed, rest = line[:budget], line[budget:]
        budget -= len(typed)
        await _type(page, typed, lo, hi)
        if rest:
            await page.keyboard.insert_text(rest)
    left = _clock()
    entered = Entered(*await on_element(frame, ref, _CHANGED_JS))
    if reach is not None:
        MOVE_LAG.add(reach + _clock() - left)
    return entered


# The field typed in: ``change`` fired (the browser fires it on blur, which a person's
# next click gives), then what it holds.
_CHANGED_JS = """(el) => {
  el.dispatchEvent(new Event('change', {bubbles: true}));
  return [el.value, el.validity ? el.validity.valid : true];
}"""


# The field just clicked: whether it holds text already (then selected, so the next key
# replaces it) and whether it is multi-line.
_FOCUSED_JS = """(el) => {
  const current = (el.value || '').length > 0;
  if (current && el.select) el.select();
  return [current, el.tagName === 'TEXTAREA'];
}"""


def pasted(text: str) -> bool:
    """Whether a person would paste this value rather than type it."""
    return len(text) > PASTE_OVER_CHARS or "\n" in text


# Puts ``text`` on the browser's clipboard the way a page's "copy" button does (a copy
# event whose handler sets the data; ours runs first and keeps the page's own copy
# handlers out of it). Needs the user activation the click on the field gave.
_COPY_JS = """(el, text) => {
  const put = (e) => {
    e.clipboardData.setData('text/plain', text);
    e.preventDefault();
    e.stopImmediatePropagation();
  };
  window.addEventListener('copy', put, {capture: true, once: true});
  let ok = false;
  try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
  window.removeEventListener('copy', put, {capture: true});
  el.focus();
  return ok;
}"""

# Without a clipboard of our own: a cancelable ``paste`` event whose clipboardData holds
# the text, dispatched by script. Returns whether the page cancelled it.
_PASTE_EVENT_JS = """(el, text) => {
  let data = null;
  try { data = new DataTransfer(); data.setData('text/plain', text); } catch (e) {}
  const ev = new ClipboardEvent('paste',
      {clipboardData: data, bubbles: true, cancelable: true, composed: true});
  return !el.dispatchEvent(ev);
}"""

# What a paste left in a field: [its value, its maxlength], or null for an element
# without a value of its own (contenteditable: not checked).
_PASTED_JS = """(el) => (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA')
  ? [el.value, el.maxLength] : [null, -1]"""


def paste_arrived(value: str | None, maxlength: int, text: str) -> bool:
    """Whether Ctrl+V put ``text`` in the field (pure). The lock in paste_text serialises
    the copies of one process, but several workers may share one browser (a browser
    server) and so one clipboard: another worker's copy between ours and the paste puts
    its text in our field. A field that cut the text at its maxlength holds a prefix."""
    if value is None:
        return True
    value, text = value.replace("\r\n", "\n"), text.replace("\r\n", "\n")
    return value == text or (0 < maxlength < len(text) and value == text[:maxlength])


_clipboard_locks: weakref.WeakKeyDictionary[Any, asyncio.Lock] = weakref.WeakKeyDictionary()


def _clipboard_lock() -> asyncio.Lock:
    """One clipboard per browser, so one copy-and-paste at a time (per event loop: the
    probes of a run share one loop and one browser)."""
    loop = asyncio.get_running_loop()
    lock = _clipboard_locks.get(loop)
    if lock is None:
        lock = _clipboard_locks[loop] = asyncio.Lock()
    return lock


def own_clipboard(settings: BrowserSettings) -> bool:
    """Whether the browser's clipboard is its own: headless Chromium on Linux keeps an
    in-memory one; a visible browser (assist mode) or another OS may share the user's."""
    return settings.headless and sys.platform.startswith("linux")


async def paste_text(
    page: Any, frame: Any, ref: str, text: str, clipboard: bool = True
) -> Entered | None:
    """Paste ``text`` into the focused field the way a person pastes: the text put on the
    browser's clipboard, then Ctrl+V (Cmd+V), so the page gets what a real paste fires:
    a trusted ``paste`` event whose clipboardData it can read (an editor may take the
    paste over, a field may refuse it), ``beforeinput`` and one ``input`` with inputType
    ``insertFromPaste``, the value changed by the browser's own editing (React's value
    tracker, Vue's v-model, counters and validators see it). Then the field is left
    (``change``, ``blur``: validation on blur runs). Without a clipboard of our own
    (``clipboard`` false, or the copy refused), a scripted paste event and the text
    inserted in one CDP Input.insertText. What the field holds after; None when the page
    refused the paste (nothing arrived): the caller types instead."""
    done = False
    if clipboard:
        async with _clipboard_lock():
            if await on_element(frame, ref, _COPY_JS, text):
                await page.keyboard.press("ControlOrMeta+V")
                value, maxlength = await on_element(frame, ref, _PASTED_JS)
                done = paste_arrived(value, int(maxlength), text)
                if not done:  # another client of a shared browser copied in between
                    log.info("the clipboard held another text: entered without it")
                    await on_element(frame, ref, "(el) => el.select && el.select()")
                    await page.keyboard.press("Delete")
    if not done and not await on_element(frame, ref, _PASTE_EVENT_JS, text):
        await page.keyboard.insert_text(text)
    # refused: nothing arrived (an element without a value counts what it shows); else
    # the field is left (blur)
    n, value, valid = await on_element(frame, ref, _ARRIVED_THEN_BLUR_JS)
    return Entered(value, valid) if n else None


_ARRIVED_THEN_BLUR_JS = """(el) => {
  const n = ((el.value !== undefined ? el.value : el.textContent) || '').length;
  if (n) el.blur();
  return [n, el.value, el.validity ? el.validity.valid : true];
}"""


async def _type(page: Any, text: str, lo: int, hi: int) -> None:
    if not text:
        return
    if hi <= 0:
        await page.keyboard.type(text)
        return
    i = 0
    while i < len(text):
        chunk = text[i : i + random.randint(1, 4)]
        each = KEY_LAG.wait(random.randint(max(lo, 0), hi) / 1000)
        started = _clock()
        await page.keyboard.type(chunk, delay=each * 1000)
        KEY_LAG.add((_clock() - started) / len(chunk) - each)
        i += len(chunk)


async def set_checked(frame: Any, ref: str, on: bool) -> bool:
    loc = frame.locator(selector_for(ref)).first
    checked = "(el) => el.checked"
    state = bool(await on_element(frame, ref, checked))
    if state == on:
        return True
    try:
        await loc.set_checked(on, timeout=1500)
    except Exception:
        try:  # custom checkbox: the visible label takes the click
            await on_element(
                frame,
                ref,
                "(el) => { const l = (el.labels && el.labels[0]) || el.closest('label');"
                " (l || el).click(); }",
            )
        except Exception as exc:
            log.debug("cannot toggle %s: %s", ref, exc)
    state = bool(await on_element(frame, ref, checked))
    if state != on:
        await on_element(frame, ref, "(el) => el.click()")
        state = bool(await on_element(frame, ref, checked))
    return state == on


async def select_value(frame: Any, ref: str, value: str) -> None:
    loc = frame.locator(selector_for(ref)).first
    try:
        await loc.select_option(value=value, timeout=1500)
    except Exception:
        await loc.select_option(value=value, force=True, timeout=ACTION_TIMEOUT_MS)


async def pause(settings: BrowserSettings) -> None:
    """A person's pause after a field, which moving to the next one ends (``MOVE_LAG``)."""
    lo, hi = settings.typing_delay_ms
    if hi > 0:
        await asyncio.sleep(MOVE_LAG.wait(random.uniform(lo, hi) * 4 / 1000))
