"""Did the submission go through? Layered signals, strongest first.

1. the form builder's own status (Contact Form 7's JSON ``status``, generic JSON
   ``success``/``errors``, builder confirmation or error elements),
2. the HTTP status of the submit request,
3. validation errors (``aria-invalid``, ``:invalid``, error messages),
4. the override's success text, thank-you text that was not there before,
5. the form gone, the URL changed,
6. a 2xx answer to the submit request and nothing else.

``submitted`` is a claim about the world: it needs a request that left the browser
carrying our values (the reply address or the message, in its body, or in the URL of a
GET form), or the form builder's own success status for a request whose body could not
be read. A request that carried none of our values (a site-search or article-suggestion
call, a share dialog sent empty) proves nothing: the verdict is ``uncertain``, with the
evidence kept. Never "submitted" when no request left the browser either (or a
validation error when the browser itself refused the form).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, unquote_plus, urljoin, urlsplit

from audit.models import Outcome
from probes import lexicon as lx
from probes import roles

log = logging.getLogger(__name__)

SETTLE_AFTER_RESPONSE_S = 1.5
NO_REQUEST_GIVE_UP_S = 5.0
CF7_STATUS = {
    "mail_sent": (Outcome.SUBMITTED, "cf7: mail_sent"),
    "validation_failed": (Outcome.VALIDATION_ERROR, "cf7: validation_failed"),
    "acceptance_missing": (Outcome.VALIDATION_ERROR, "cf7: acceptance_missing"),
    "spam": (Outcome.SPAM_BLOCKED, "cf7: spam"),
    "mail_failed": (Outcome.ERROR, "cf7: mail_failed"),
    "aborted": (Outcome.ERROR, "cf7: aborted"),
}
CF7_CLASSES = {"sent": "mail_sent", "invalid": "validation_failed", "spam": "spam"}
CF7_CLASSES |= {"failed": "mail_failed", "aborted": "aborted"}


@dataclass
class Sent:
    """One request that left the browser after the click."""

    url: str
    method: str
    resource_type: str
    started: float
    navigation: bool
    post_data: str | None = None
    status: int | None = None
    ms: float | None = None
    body: str | None = None  # response text for small xhr/fetch/document answers
    failure: str | None = None
    carries: tuple[str, ...] = ()  # which of our values it carried: "email", "message"
    opaque: bool = False  # a body that could not be read as text (binary upload)


MESSAGE_MARK_CHARS = 60  # the start of the message that identifies it in a request body
WRITE_METHODS = ("POST", "PUT", "PATCH")


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


@dataclass
class Ours:
    """Our values, as a request body may carry them: addresses and message openings."""

    emails: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    def add_email(self, address: str | None) -> None:
        if address and _squash(address) not in self.emails:
            self.emails.append(_squash(address))

    def add_message(self, text: str | None) -> None:
        mark = _squash(text or "")[:MESSAGE_MARK_CHARS]
        if len(mark) >= 12 and mark not in self.messages:
            self.messages.append(mark)

    def __bool__(self) -> bool:
        return bool(self.emails or self.messages)


def _json_strings(obj: Any) -> Iterable[str]:
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _json_strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _json_strings(v)


def spellings(body: str) -> list[str]:
    """The ways a request body may spell a value: as sent, URL-decoded (a form body or a
    query string), and the strings of a JSON document (escapes undone)."""
    out = [body, unquote_plus(body), unquote(body)]
    if body.lstrip()[:1] in ("{", "["):
        with contextlib.suppress(ValueError):
            out.append("\n".join(_json_strings(json.loads(body))))
    return [_squash(x) for x in out]


def carried(body: str | None, url: str, method: str, ours: Ours) -> tuple[str, ...]:
    """Which of our values ("email", "message") a request carries in its body, or in its
    URL when it is a GET (a form with method=get)."""
    texts: list[str] = []
    if body:
        texts += spellings(body)
    if method == "GET" and urlsplit(url).query:
        texts += spellings(urlsplit(url).query)
    found: list[str] = []
    if any(e in t for e in ours.emails for t in texts):
        found.append("email")
    if any(m in t for m in ours.messages for t in texts):
        found.append("message")
    return tuple(found)


@dataclass
class Capture:
    """Requests seen after the submit click (fed by the runner's network listeners)."""

    armed_at: float | None = None
    sent: list[Sent] = field(default_factory=list)
    by_request: dict[int, Sent] = field(default_factory=dict)
    ours: Ours = field(default_factory=Ours)
    # Requests carrying our values that left before the submit click (a form sent by a
    # key press while filling): the runner then never clicks.
    early: list[Sent] = field(default_factory=list)
    # Earlier attempts (a corrected retry after the server's definite refusal).
    history: list[Sent] = field(default_factory=list)
    # Set when a request sent after the click is answered (its body read) or fails: the
    # verdict is looked for then, not only at the next poll (submit.await_verdict).
    answered: asyncio.Event = field(default_factory=asyncio.Event)

    def arm(self) -> None:
        self.armed_at = time.monotonic()
        self.answered.clear()

    def restart(self) -> None:
        """A new attempt: what was sent so far moves to ``history``; watching starts over."""
        self.history.extend(self.sent)
        self.sent = []
        self.arm()

    def on_request(self, request: Any) -> None:
        method = request.method
        rtype = request.resource_type
        nav = bool(request.is_navigation_request())
        if rtype in ("image", "stylesheet", "font", "media", "script", "ping", "manifest"):
            return
        if method == "GET" and not nav and rtype not in ("xhr", "fetch"):
            return
        if self.armed_at is None and not (nav or method in WRITE_METHODS):
            return
        post, opaque = _body_of(request)
        s = Sent(request.url, method, rtype, time.monotonic(), nav, post, opaque=opaque)
        s.carries = carried(post, request.url, method, self.ours)
        if self.armed_at is None:
            if s.carries:
                self.early.append(s)
            return
        self.sent.append(s)
        self.by_request[id(request)] = s

    async def on_response(self, response: Any) -> None:
        s = self.by_request.get(id(response.request))
        if s is None:
            return
        s.status = response.status
        s.ms = round((time.monotonic() - s.started) * 1000, 1)
        ctype = (response.headers or {}).get("content-type", "")
        if s.resource_type in ("xhr", "fetch", "document") and (
            "json" in ctype or "text" in ctype or not ctype
        ):
            try:
                s.body = (await response.text())[:20000]
            except Exception:  # body gone (navigation) or binary
                s.body = None
        self.answered.set()

    def on_failed(self, request: Any) -> None:
        s = self.by_request.get(id(request))
        if s is not None:
            s.failure = str(request.failure or "failed")
            self.answered.set()

    def carrying(self) -> list[Sent]:
        """Requests after the click that carried our values (more than one write or
        navigation among them is a double submission)."""
        return [s for s in self.sent if s.carries]

    def submit_request(self) -> Sent | None:
        """The request that carried the form: the first one carrying our values, else the
        first write, else the first navigation, else the first xhr/fetch."""
        ours = self.carrying()
        if ours:
            return ours[0]
        writes = [s for s in self.sent if s.method in WRITE_METHODS]
        if writes:
            return writes[0]
        navs = [s for s in self.sent if s.navigation]
        if navs:
            return navs[0]
        return self.sent[0] if self.sent else None


def _body_of(request: Any) -> tuple[str | None, bool]:
    """(request body as text, True when it could not be read as text)."""
    try:
        buf = request.post_data_buffer
    except Exception:
        return None, True
    if not buf:
        return None, False
    try:
        return buf.decode("utf-8"), False
    except UnicodeDecodeError:  # a file upload: the text parts are still readable
        return buf.decode("utf-8", "replace"), True


def proves(sub: Sent | None) -> bool:
    """Whether a request can stand behind a "submitted": it carried our values, or its
    body could not be read (then only the builder's own status decides)."""
    return sub is not None and (bool(sub.carries) or sub.opaque)


def builder_verdict(body: str | None, url: str) -> tuple[Outcome, str] | None:
    """A form builder's own answer in a JSON response, if it speaks one we know."""
    if not body:
        return None
    text = body.strip()
    if not text.startswith(("{", "[")):
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    status = str(data.get("status") or "").lower()
    if status in CF7_STATUS and ("contact-form-7" in url or "into" in data):
        return CF7_STATUS[status]
    if isinstance(data.get("success"), bool):
        if data["success"]:
            return Outcome.SUBMITTED, "json: success"
        blob = json.dumps(data.get("data") or data, ensure_ascii=False).lower()
        if "spam" in blob:
            return Outcome.SPAM_BLOCKED, "json: spam"
        return Outcome.VALIDATION_ERROR, "json: success=false"
    errors = data.get("errors")
    if isinstance(errors, dict | list) and errors:
        blob = json.dumps(errors, ensure_ascii=False).lower()
        if "spam" in blob:
            return Outcome.SPAM_BLOCKED, "json: spam"
        return Outcome.VALIDATION_ERROR, "json: errors"
    if status in ("ok", "success", "sent", "mail_sent"):
        return Outcome.SUBMITTED, f"json: status {status}"
    if status in ("spam",):
        return Outcome.SPAM_BLOCKED, "json: spam"
    if status in ("error", "fail", "failed", "invalid", "validation_failed"):
        return Outcome.VALIDATION_ERROR if "valid" in status else Outcome.ERROR, f"json: {status}"
    if isinstance(data.get("inlineMessage"), str) or data.get("redirectUrl"):
        return Outcome.SUBMITTED, "json: hubspot"
    return None


def _error_keys(errors: Any) -> list[str]:
    if isinstance(errors, dict):
        for nested in ("field", "fields"):  # WPForms errors.field, Ninja Forms errors.fields
            if isinstance(errors.get(nested), dict | list):
                return _error_keys(errors[nested])
        return [str(k) for k, v in errors.items() if v not in (None, "", {}, [])]
    if isinstance(errors, list):  # [{field: ...}]; an entry naming no field: "?"
        return [
            str(e.get("field") or e.get("name") or "?") if isinstance(e, dict) else "?"
            for e in errors
        ]
    return []


def rejected_keys(body: str | None) -> list[str]:
    """The fields a builder's JSON refusal names (Contact Form 7 ``invalid_fields``, WPForms
    ``data.errors.field``, Elementor ``data.errors``, Ninja Forms ``errors.fields``, a
    generic ``errors: {name: message}`` or ``[{field: ...}]``); "?" for an entry that names
    none; [] when the answer is not such a refusal."""
    text = (body or "").strip()
    if not text.startswith("{"):
        return []
    try:
        data = json.loads(text)
    except ValueError:
        return []
    if not isinstance(data, dict):
        return []
    keys: list[str] = []
    for item in data.get("invalid_fields") or []:
        keys.append(str(item.get("field") or "?") if isinstance(item, dict) else "?")
    inner = data.get("data")
    for errors in (data.get("errors"), inner.get("errors") if isinstance(inner, dict) else None):
        keys += _error_keys(errors)
    return keys


def key_names_field(key: str, f: dict[str, Any]) -> bool:
    """Whether an error key names this field: its name or id, the key inside brackets
    (form_fields[phone], wpforms[fields][3]) or after a separator (input_3, nf-field-3)."""
    name, idattr = str(f.get("name") or ""), str(f.get("idattr") or "")
    if not key or key == "?":
        return False
    if key in (name, idattr) or name.endswith(f"[{key}]"):
        return True
    return any(x.endswith((f"-{key}", f"_{key}")) for x in (name, idattr) if x)


def only_these_rejected(
    keys: list[str], marked: list[dict[str, Any]], fields: list[dict[str, Any]], refs: set[str]
) -> bool:
    """True when the refusal names at least one field and every field it names is among
    ``refs`` (the phone field): JSON keys (each must name a field of the form) and the
    fields the page marks wrong. An entry naming no field, or another field: False."""
    named: set[str] = set()
    for key in keys:
        hits = {f["ref"] for f in fields if key_names_field(key, f)}
        if not hits:
            return False
        named |= hits
    named |= {str(m.get("ref")) for m in marked}
    return bool(named) and named <= refs


INSECURE_FORM_REASON = "form posts to insecure http from an https page; not sent"


def insecure_target(page_url: str, action: str | None) -> str | None:
    """The http:// URL a form on an https:// page would post to (Chromium stops such a
    submission with its "not secure" warning), else None."""
    if urlsplit(page_url or "").scheme != "https" or action is None:
        return None
    target = urljoin(page_url, action.strip())
    return target if urlsplit(target).scheme == "http" else None


def answered_here(capture: Capture, state: dict[str, Any] | None, before: dict[str, Any]) -> bool:
    """For a retry: this click's request has its answer, and when it loads a page, the
    page shown is the new one (the old one still shows the previous refusal)."""
    sub = capture.submit_request()
    if sub is None or (sub.status is None and not sub.failure):
        return False
    if sub.navigation and not sub.failure:
        return state is not None and state.get("doc") != before.get("doc")
    return True


def same_form_back(before: dict[str, Any], state: dict[str, Any] | None) -> bool:
    """After the click a new page shows the form we filled again (the same named fields),
    and nothing else was decided (no thanks, no error): the answer proves nothing."""
    names = sorted(before.get("names") or [])
    if len(names) < 2 or state is None or state.get("form_present"):
        return False
    return any(sorted(f) == names for f in state.get("forms") or [])


def new_text(before: str, after: str) -> str:
    """Lines of ``after`` that were not on the page before the click."""
    old = {line.strip() for line in before.split("\n")}
    return " ".join(line.strip() for line in after.split("\n") if line.strip() not in old)


def dom_verdict(
    state: dict[str, Any], before: dict[str, Any], success_text: str | None, sent: bool = True
) -> tuple[Outcome, str] | None:
    """What the page says after the click (builder markers, errors, thanks)."""
    cf7 = state.get("cf7")
    if cf7:
        st = str(cf7.get("status") or "")
        classes = set(str(cf7.get("cls") or "").split())
        for key, status in CF7_CLASSES.items():
            if st == key or key in classes:
                return CF7_STATUS[status]
    failure = str(state.get("failure") or "")
    before_failure = str(before.get("failure") or "")
    if failure and failure != before_failure:
        verdict = roles.classify_text(failure)
        if verdict["spam"]:
            return Outcome.SPAM_BLOCKED, f"spam: {failure[:120]}"
        if verdict["error"] or state.get("invalid"):
            return Outcome.VALIDATION_ERROR, f"validation: {failure[:120]}"
    if state.get("invalid"):
        return Outcome.VALIDATION_ERROR, f"validation: {len(state['invalid'])} invalid field(s)"
    if state.get("invalid_page") and before.get("form_present") and not state.get("form_present"):
        n = state["invalid_page"]  # the form re-rendered by the server with fields marked wrong
        return Outcome.VALIDATION_ERROR, f"validation: {n} invalid field(s) on the page"
    if state.get("native_invalid") and not sent:
        n = len(state["native_invalid"])
        return Outcome.VALIDATION_ERROR, f"validation: the browser refused {n} invalid field(s)"
    success = str(state.get("success") or "")
    if success and success != str(before.get("success") or ""):
        return Outcome.SUBMITTED, f"builder confirmation: {success[:120]}"
    after = str(state.get("text") or "")
    fresh = new_text(str(before.get("text") or ""), after)
    wanted = lx.normalize(success_text)
    was_there = wanted in lx.normalize(str(before.get("text") or ""))
    if wanted and wanted in lx.normalize(after) and not was_there:
        return Outcome.SUBMITTED, "success_text"
    live = str(state.get("live") or "")
    for chunk in (fresh, live if live != str(before.get("live") or "") else ""):
        if not chunk:
            continue
        verdict = roles.classify_text(chunk)
        if verdict["thanks"] and not verdict["error"]:
            return Outcome.SUBMITTED, "thank_you_text"
        if verdict["spam"]:
            return Outcome.SPAM_BLOCKED, f"spam: {chunk[:120]}"
    return None


def _where(sub: Sent) -> str:
    parts = urlsplit(sub.url)
    return f"{sub.method} {parts.path or '/'}"


def decide(
    capture: Capture,
    state: dict[str, Any] | None,
    before: dict[str, Any],
    success_text: str | None,
    start_url: str,
) -> tuple[Outcome, str, str] | None:
    """(outcome, reason, signal) when the evidence is conclusive, else None.

    Only a request that carried our values (or whose body could not be read) speaks for
    the form: the answer to a site-search call says nothing about our message."""
    sub = capture.submit_request()
    proof = proves(sub)
    if sub is not None and proof and sub.status is not None:
        verdict = builder_verdict(sub.body, sub.url)
        if verdict:
            outcome, reason = verdict
            return outcome, reason, "builder_status"
        if sub.status >= 500:
            return Outcome.ERROR, f"server answered {sub.status}", "http_status"
    dom = dom_verdict(state, before, success_text, sub is not None) if state else None
    if sub is not None and proof and sub.status is not None and 400 <= sub.status < 500:
        if dom and dom[0] in (Outcome.VALIDATION_ERROR, Outcome.SPAM_BLOCKED):
            return dom[0], dom[1], "dom"
        if sub.status in (403, 429):
            return Outcome.SPAM_BLOCKED, f"server answered {sub.status}", "http_status"
        return Outcome.ERROR, f"server answered {sub.status}", "http_status"
    if sub is not None and proof and sub.failure and sub.status is None:
        return Outcome.ERROR, f"submit request failed: {sub.failure}", "http_status"
    if dom:
        outcome, reason = dom
        signal = "builder_dom" if reason.startswith(("cf7", "builder")) else reason.split(":")[0]
        weak = sub is None or not sub.carries and not (sub.opaque and signal == "builder_dom")
        if outcome is Outcome.SUBMITTED and weak:
            return None  # shown, but nothing of ours left the browser: keep watching
        if outcome is Outcome.VALIDATION_ERROR:
            signal = "validation"
        return outcome, reason, signal
    return None


def fallback(
    capture: Capture, state: dict[str, Any] | None, before: dict[str, Any], start_url: str
) -> tuple[Outcome, str, str | None]:
    """The verdict when time is up and nothing conclusive was seen."""
    sub = capture.submit_request()
    if sub is None:
        if state and state.get("text") and dom_verdict(state, before, None):
            return (
                Outcome.UNCERTAIN,
                "a confirmation appeared but no request left the browser",
                None,
            )
        return Outcome.UNCERTAIN, "clicked, but no request left the browser", None
    if not sub.carries:
        what = "its body could not be read" if sub.opaque else "it carried none of our values"
        return (
            Outcome.UNCERTAIN,
            f"a request left the browser ({_where(sub)}, answered {sub.status}) but {what}",
            None,
        )
    if same_form_back(before, state):
        return (
            Outcome.UNCERTAIN,
            f"the same form came back after the submit request ({_where(sub)}, answered "
            f"{sub.status}) with no confirmation and no error",
            None,
        )
    if state is not None and not state.get("form_visible") and before.get("form_visible"):
        return Outcome.SUBMITTED, "the form is gone after the submit request", "form_gone"
    url = str((state or {}).get("url") or "")
    if url and url.split("#")[0] != str(before.get("url") or "").split("#")[0]:
        return Outcome.SUBMITTED, f"moved to {url}", "url_change"
    if sub.status is not None and 200 <= sub.status < 400:
        return (
            Outcome.SUBMITTED,
            f"server answered {sub.status}, no visible confirmation",
            ("http_status"),
        )
    if sub.status is None:
        return Outcome.UNCERTAIN, "the submit request got no answer in time", None
    return Outcome.UNCERTAIN, f"server answered {sub.status}", None
