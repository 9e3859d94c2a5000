"""Issue 10's rules as pure functions, on hand-made data (no browser).

- ``submitted`` needs a request carrying our values (``verify.carried``/``decide``/
  ``fallback``);
- values are fitted to their field on the record, never cut silently, and read back
  (``fill.fit_text``/``plan_value``/``readback_problem``);
- public postings are recognised and never contact forms (``roles.build_view``).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest

from audit.models import Company, Overrides, Persona, ProbeRequest
from probes import roles
from probes.fill import Planned, Unanswerable, plan_value, readback_problem, single_line
from probes.verify import Capture, Ours, Sent, carried, decide, fallback

TOKEN = "k7m2q9xd"
REPLY = f"survey+{TOKEN}@replies.example.com"
FALLBACK = f"{TOKEN}@replies.example.com"
MESSAGE = (
    "Hello,\n\nI am interested in your services and would like to know how I can open an "
    "account,\nwhat it costs per month.\n\nThank you,\nDana Cohen\n\nReference: CA-K7M2Q9XD\n"
)


def ours() -> Ours:
    o = Ours()
    o.add_email(REPLY)
    o.add_email(FALLBACK)
    o.add_message(MESSAGE)
    return o


# ---------------------------------------------------------------------------------------
# Which requests carry our values
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "url", "method", "want"),
    [
        (urlencode({"email": REPLY, "message": MESSAGE}), "http://a/send", "POST", 2),
        (json.dumps({"fields": {"Email": REPLY}}), "http://a/api", "POST", 1),
        (json.dumps({"m": MESSAGE.replace("\n", " ")}, ensure_ascii=True), "http://a/", "POST", 1),
        (
            f'--b\r\nContent-Disposition: form-data; name="email"\r\n\r\n{REPLY}\r\n--b--',
            "http://a/send",
            "POST",
            1,
        ),
        (urlencode({"email": FALLBACK}), "http://a/send", "POST", 1),  # the catch-all form
        (None, "http://a/send?" + urlencode({"email": REPLY}), "GET", 1),  # method=get form
        (json.dumps({"term": "question services"}), "http://a/search", "POST", 0),
        (urlencode({"q": "", "email": ""}), "http://a/share", "POST", 0),  # sent empty
        (urlencode({"email": REPLY[:25]}), "http://a/send", "POST", 0),  # cut by maxlength
    ],
)
def test_which_requests_carry_our_values(
    body: str | None, url: str, method: str, want: int
) -> None:
    assert len(carried(body, url, method, ours())) == want


def _capture(*sent: Sent) -> Capture:
    return Capture(sent=list(sent), ours=ours())


BEFORE = {"text": "Contact us", "form_visible": True, "url": "http://a/contact"}
GONE = {"text": "Contact us\nThese articles may help", "form_visible": False}
GONE |= {"url": "http://a/contact"}
THANKS = {"text": "Contact us\nThank you! Message sent.", "form_visible": False}
THANKS |= {"url": "http://a/contact"}


def test_a_request_without_our_values_never_makes_a_submission() -> None:
    search = Sent("http://a/api/search", "POST", "fetch", 0.0, False, '{"term":"x"}', 200)
    cap = _capture(search)
    assert decide(cap, GONE, BEFORE, None, "http://a/") is None
    outcome, reason, signal = fallback(cap, GONE, BEFORE, "http://a/")
    assert (outcome.value, signal) == ("uncertain", None)
    assert "none of our values" in reason and "/api/search" in reason
    # a thank-you text after a request that carried nothing: still not a submission
    empty = Sent("http://a/share", "POST", "document", 0.0, True, "email=&message=", 200)
    assert decide(_capture(empty), THANKS, BEFORE, None, "http://a/") is None
    assert fallback(_capture(empty), THANKS, BEFORE, "http://a/")[0].value == "uncertain"
    # the builder's own success JSON for a request carrying nothing of ours proves nothing
    ajax = Sent(
        "http://a/ajax", "POST", "xhr", 0.0, False, "action=x", 200, body='{"success":true}'
    )
    assert decide(_capture(ajax), BEFORE, BEFORE, None, "http://a/") is None


def test_the_request_carrying_our_values_is_the_submit_request() -> None:
    search = Sent("http://a/api/search", "POST", "fetch", 0.0, False, '{"term":"x"}', 200)
    body = urlencode({"email": REPLY, "message": MESSAGE})
    send = Sent("http://a/send", "POST", "fetch", 0.1, False, body, 200, body='{"ok":true}')
    send.carries = carried(body, send.url, "POST", ours())
    cap = _capture(search, send)
    assert cap.submit_request() is send
    verdict = decide(cap, THANKS, BEFORE, None, "http://a/")
    assert verdict is not None and verdict[0].value == "submitted"
    assert fallback(cap, GONE, BEFORE, "http://a/")[:3:2] == (verdict[0], "form_gone")
    unreadable = Sent("http://a/up", "POST", "xhr", 0.0, False, None, 200, body='{"success":true}')
    unreadable.opaque = True  # a binary upload: the builder's own status decides
    verdict = decide(_capture(unreadable), BEFORE, BEFORE, None, "http://a/")
    assert verdict is not None and verdict[0].value == "submitted"
    assert fallback(_capture(unreadable), GONE, BEFORE, "http://a/")[0].value == "uncertain"


# ---------------------------------------------------------------------------------------
# Fitting values to fields
# ---------------------------------------------------------------------------------------
def request(**overrides: Any) -> ProbeRequest:
    return ProbeRequest(
        company=Company(name="X", homepage="https://x.com", overrides=Overrides(**overrides)),
        token=TOKEN,
        reply_address=REPLY,
        fallback_address=FALLBACK,
        subject="Question about your services (ref CA-K7M2Q9XD)",
        message=MESSAGE,
        persona=Persona(),
        submit=False,
        evidence_dir="/tmp/e",
        workspace="/tmp",
    )


def field(**kw: Any) -> dict[str, Any]:
    base = {"tag": "input", "type": "text", "visible": True, "name": "x", "label": "X"}
    return base | kw


def test_multi_line_text_is_one_line_in_an_input() -> None:
    p = plan_value(field(role="message"), request())
    assert p.value == single_line(MESSAGE) and "\n" not in (p.value or "")
    assert p.note and "one line" in p.note
    area = plan_value(field(role="message", tag="textarea", type="textarea"), request())
    assert area.value == MESSAGE and area.note is None


@pytest.mark.parametrize(("limit", "value"), [(35, REPLY), (32, FALLBACK), (28, FALLBACK)])
def test_reply_address_fits_or_takes_its_catch_all_form(limit: int, value: str) -> None:
    p = plan_value(field(role="email", type="email", maxlength=limit), request())
    assert p.value == value
    assert (p.note is None) == (value == REPLY)


@pytest.mark.parametrize("limit", [25, 27])
def test_reply_address_never_cut(limit: int) -> None:
    with pytest.raises(Unanswerable, match="e-mail field too short"):
        plan_value(field(role="email", type="email", maxlength=limit), request())


@pytest.mark.parametrize(("tag", "limit"), [("textarea", 120), ("input", 150), ("input", 40)])
def test_message_fitted_with_its_reference(tag: str, limit: int) -> None:
    p = plan_value(field(role="message", tag=tag, maxlength=limit), request())
    assert p.value is not None and len(p.value) <= limit
    assert p.value.endswith("CA-K7M2Q9XD") and p.value.startswith("Hello,")
    assert p.note and "maxlength" in p.note


def test_names_and_phones_are_fitted_or_refused() -> None:
    assert plan_value(field(role="full_name", maxlength=6), request()).value == "Dana"
    with pytest.raises(Unanswerable, match="full_name field too short"):
        plan_value(field(role="full_name", maxlength=3), request())
    assert plan_value(field(role="phone", maxlength=10), request()).value == "0505550134"
    assert plan_value(field(role="phone", type="number"), request()).value == "0505550134"


@pytest.mark.parametrize(
    ("f", "plan", "actual", "problem"),
    [
        (field(role="email"), Planned("text", REPLY), REPLY, None),
        (field(role="email"), Planned("text", REPLY), "", "empty"),
        (field(role="email"), Planned("text", REPLY), REPLY.replace("+", ""), "holds"),
        (field(role="email"), Planned("text", REPLY), REPLY[:25], "cut to 25"),
        (field(role="phone"), Planned("text", "050-555-0134"), "(050) 555-0134", None),
        (field(role="message", tag="textarea"), Planned("text", MESSAGE), MESSAGE, None),
        (field(role="consent", type="checkbox"), Planned("check"), False, "not checked"),
        (field(role="topic", tag="select"), Planned("select", "general"), "general", None),
    ],
)
def test_readback(f: dict[str, Any], plan: Planned, actual: Any, problem: str | None) -> None:
    got = readback_problem(f, plan, actual)
    assert (got is None) if problem is None else (got is not None and problem in got)


# ---------------------------------------------------------------------------------------
# Public postings vs contact forms
# ---------------------------------------------------------------------------------------
def form(fields: list[dict[str, Any]], buttons: tuple[str, ...] = (), **kw: Any) -> dict[str, Any]:
    btns = [{"tag": "button", "type": "submit", "text": t, "visible": True} for t in buttons]
    return {"ref": "f0-1", "in_form": True, "fields": fields, "buttons": btns} | kw


NAME = field(name="name", label="Name")
EMAIL = field(name="email", type="email", label="Email")
TEXT = field(name="message", tag="textarea", type="textarea", label="Message")


@pytest.mark.parametrize(
    ("f", "kind"),
    [
        (form([NAME, EMAIL, TEXT], ("Submit Review",), heading="Write a review"), "comment"),
        (form([NAME, field(name="subject"), TEXT], ("Submit",), action="./posting.php?mode=reply"), "comment"),
        (form([NAME, EMAIL, TEXT], ("Eintragen",), idattr="gbform", heading="Gästebuch"), "comment"),
        (form([NAME, EMAIL, TEXT], ("Post Comment",), idattr="commentform"), "comment"),
        (
            form(
                [field(name="friend_name", label="Name of your friend"),
                 field(name="friend_email", type="email", label="E-mail address of your friend"),
                 NAME],
                ("Send",),
            ),
            "share",
        ),
        (form([NAME, EMAIL, TEXT], ("Send",), heading="Email this article to a friend"), "share"),
        (form([NAME, EMAIL, TEXT], ("Submit",), cls="contact-form commentsblock"), "contact"),
        (form([EMAIL, field(name="request[subject]"), TEXT], ("Submit",), action="/hc/he/requests"), "contact"),
        (form([EMAIL, TEXT], ("Send",)), "contact"),
        (form([NAME, EMAIL, field(name="comments", tag="textarea", type="textarea", label="Questions or comments")], ("Send",), heading="Contact us"), "contact"),
    ],
)  # fmt: skip
def test_public_postings_are_not_contact_forms(f: dict[str, Any], kind: str) -> None:
    view = roles.build_view(f, 0)
    assert view.kind == kind
    assert (roles.pick_contact([view]) is view) == (kind == "contact")


# ---------------------------------------------------------------------------------------
# Class 8: a phone refused for its format, forms posting out of https, the same form back
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("phone", "code", "expected"),
    [
        ("050-555-0134", "972", ["050-555-0134", "+972 50-555-0134", "0505550134"]),
        ("0505550134", "972", ["0505550134", "+972 505550134"]),
        ("+972 50-555-0134", "972", ["0505550134", "+972 50-555-0134"]),
        ("(0)20 7946 0958", "44", ["(0)20 7946 0958", "+44 20 7946 0958", "02079460958"]),
        ("", "972", []),
    ],
)
def test_phone_formats_in_the_order_they_are_tried(
    phone: str, code: str, expected: list[str]
) -> None:
    from probes.fill import phone_formats

    assert [v for _, v in phone_formats(phone, code)] == expected


def test_persona_country_code() -> None:
    assert Persona().phone_country_code == "972"
    assert Persona(phone_country_code="+44").phone_country_code == "44"
    assert Persona(phone_country_code=1).phone_country_code == "1"  # type: ignore[arg-type]
    for bad in ("", "0972", "97a", "12345"):
        with pytest.raises(ValueError, match="not a country calling code"):
            Persona(phone_country_code=bad)


@pytest.mark.parametrize(
    ("body", "keys"),
    [
        (  # Contact Form 7
            {
                "status": "validation_failed",
                "into": "#u",
                "invalid_fields": [{"field": "your-tel", "message": "bad"}],
            },
            ["your-tel"],
        ),  # fmt: skip
        ({"success": False, "data": {"errors": {"phone": "x"}}}, ["phone"]),  # Elementor
        (  # WPForms: errors.field by field id, an empty general block
            {"success": False, "data": {"errors": {"general": {}, "field": {"3": "x"}}}},
            ["3"],
        ),
        ({"errors": {"fields": {"4": "x"}}}, ["4"]),  # Ninja Forms
        ({"errors": [{"errorType": "INVALID", "message": "phone"}]}, ["?"]),  # names none
        ({"ok": False, "errors": {"phone": "x", "email": "y"}}, ["phone", "email"]),
        ({"success": True}, []),
    ],
)
def test_rejected_keys(body: dict[str, Any], keys: list[str]) -> None:
    from probes.verify import rejected_keys

    assert rejected_keys(json.dumps(body)) == keys
    assert rejected_keys("<html>error</html>") == []


def test_only_the_phone_rejected() -> None:
    from probes.verify import key_names_field, only_these_rejected

    fields = [
        {"ref": "n", "name": "form_fields[name]", "idattr": "form-field-name"},
        {"ref": "p", "name": "form_fields[phone]", "idattr": "form-field-phone"},
        {"ref": "w", "name": "wpforms[fields][3]", "idattr": "wpforms-7-field_3"},
        {"ref": "g", "name": "input_5", "idattr": "input_1_5"},
    ]
    assert key_names_field("phone", fields[1]) and not key_names_field("phone", fields[0])
    assert key_names_field("3", fields[2]) and key_names_field("5", fields[3])
    assert only_these_rejected(["phone"], [], fields, {"p"})
    assert only_these_rejected([], [{"ref": "p"}], fields, {"p"})
    assert not only_these_rejected([], [], fields, {"p"})  # names nothing: unclear
    assert not only_these_rejected(["phone", "name"], [], fields, {"p"})  # another field too
    assert not only_these_rejected(["phone"], [{"ref": "n"}], fields, {"p"})
    assert not only_these_rejected(["?"], [{"ref": "p"}], fields, {"p"})  # an unnamed entry
    assert not only_these_rejected(["captcha"], [{"ref": "p"}], fields, {"p"})  # not a field


def test_insecure_form_target() -> None:
    from probes.verify import insecure_target

    page = "https://shop.example.com/contact/"
    assert insecure_target(page, "http://shop.example.com/send") == "http://shop.example.com/send"
    assert insecure_target(page, "//x.example.com/send") is None  # same scheme as the page
    assert insecure_target(page, "/send") is None
    assert insecure_target(page, None) is None
    assert insecure_target("http://shop.example.com/", "http://other/send") is None


def test_the_same_form_back_is_uncertain_never_submitted() -> None:
    from probes.verify import Outcome, same_form_back

    before = {"form_present": True, "form_visible": True, "url": "http://a/contact/",
              "names": ["cf_email", "cf_message", "cf_name"], "text": "Contact us"}  # fmt: skip
    after = {"form_present": False, "form_visible": False, "url": "http://a/contact/",
             "forms": [["q"], ["cf_email", "cf_message", "cf_name"]], "text": "Contact us"}  # fmt: skip
    assert same_form_back(before, after)
    assert not same_form_back(before, after | {"forms": [["q"]]})
    assert not same_form_back(before, after | {"form_present": True})
    cap = Capture(ours=ours())
    cap.arm()
    body = urlencode({"cf_name": "Dana", "cf_email": REPLY, "cf_message": MESSAGE})
    cap.sent.append(Sent("http://a/contact/", "POST", "document", 0.0, True, body, 200))
    cap.sent[0].carries = carried(body, "http://a/contact/", "POST", cap.ours)
    outcome, reason, _ = fallback(cap, after, before, "http://a/contact/")
    assert outcome is Outcome.UNCERTAIN and "same form came back" in reason
    gone = after | {"forms": [["q"]]}
    assert fallback(cap, gone, before, "http://a/contact/")[0] is Outcome.SUBMITTED


def test_a_retry_waits_for_its_own_answer() -> None:
    from probes.verify import answered_here

    cap = Capture(ours=ours())
    cap.arm()
    assert not answered_here(cap, {"doc": "a"}, {"doc": "a"})  # nothing sent yet
    cap.sent.append(Sent("http://a/send", "POST", "document", 0.0, True, "x=1", None))
    assert not answered_here(cap, {"doc": "a"}, {"doc": "a"})  # no answer yet
    cap.sent[0].status = 200
    assert not answered_here(cap, {"doc": "a"}, {"doc": "a"})  # the old page still shown
    assert answered_here(cap, {"doc": "b"}, {"doc": "a"})
    cap.restart()
    assert cap.sent == [] and len(cap.history) == 1
