"""Did the submission go through? Layered signals, strongest first.

1. the form builder's own status (Contact Form 7's JSON ``status``, generic JSON
   ``success``/``errors``, builder confirmation or error elements),
2. the HTTP status of the submit request,
3. validation errors (``aria-invalid``, ``:invalid``, error messages),
4. the override's success text, thank-you text that was not there before,
5. the form gone, the URL changed,
6. a 2xx answer to the submit request and nothing else.

Never "submitted" when no request left the browser: that is ``uncertain`` (or a
validation error when the browser itself refused the form).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

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


@dataclass
class Capture:
    """Requests seen after the submit click (fed by the runner's network listeners)."""

    armed_at: float | None = None
    sent: list[Sent] = field(default_factory=list)
    by_request: dict[int, Sent] = field(default_factory=dict)

    def arm(self) -> None:
        self.armed_at = time.monotonic()

    def on_request(self, request: Any) -> None:
        if self.armed_at is None:
            return
        method = request.method
        rtype = request.resource_type
        nav = bool(request.is_navigation_request())
        if rtype in ("image", "stylesheet", "font", "media", "script", "ping", "manifest"):
            return
        if method == "GET" and not nav and rtype not in ("xhr", "fetch"):
            return
        try:
            post = request.post_data
        except Exception:  # binary bodies
            post = None
        s = Sent(request.url, method, rtype, time.monotonic(), nav, post)
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

    def on_failed(self, request: Any) -> None:
        s = self.by_request.get(id(request))
        if s is not None:
            s.failure = str(request.failure or "failed")

    def submit_request(self) -> Sent | None:
        """The request that carried the form: the first write, else the first navigation,
        else the first xhr/fetch."""
        writes = [s for s in self.sent if s.method in ("POST", "PUT", "PATCH")]
        if writes:
            return writes[0]
        navs = [s for s in self.sent if s.navigation]
        if navs:
            return navs[0]
        return self.sent[0] if self.sent else None


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


def decide(
    capture: Capture,
    state: dict[str, Any] | None,
    before: dict[str, Any],
    success_text: str | None,
    start_url: str,
) -> tuple[Outcome, str, str] | None:
    """(outcome, reason, signal) when the evidence is conclusive, else None."""
    sub = capture.submit_request()
    if sub is not None and sub.status is not None:
        verdict = builder_verdict(sub.body, sub.url)
        if verdict:
            outcome, reason = verdict
            return outcome, reason, "builder_status"
        if sub.status >= 500:
            return Outcome.ERROR, f"server answered {sub.status}", "http_status"
    dom = dom_verdict(state, before, success_text, sub is not None) if state else None
    if sub is not None and sub.status is not None and 400 <= sub.status < 500:
        if dom and dom[0] in (Outcome.VALIDATION_ERROR, Outcome.SPAM_BLOCKED):
            return dom[0], dom[1], "dom"
        if sub.status in (403, 429):
            return Outcome.SPAM_BLOCKED, f"server answered {sub.status}", "http_status"
        return Outcome.ERROR, f"server answered {sub.status}", "http_status"
    if sub is not None and sub.failure and sub.status is None:
        return Outcome.ERROR, f"submit request failed: {sub.failure}", "http_status"
    if dom:
        outcome, reason = dom
        if outcome is Outcome.SUBMITTED and sub is None:
            return None  # shown, but nothing left the browser: keep watching
        signal = "builder_dom" if reason.startswith(("cf7", "builder")) else reason.split(":")[0]
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
