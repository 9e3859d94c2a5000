"""Pure scoring rules (no browser): word matching, field roles, form kinds, values."""

from __future__ import annotations

from typing import Any

import pytest

from audit.models import Company, Overrides, Persona, ProbeRequest
from probes import lexicon as lx
from probes import roles
from probes.fill import Planned, Unanswerable, plan_value, split_phone
from probes.verify import Capture, Sent, builder_verdict, decide, fallback


def field(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"tag": "input", "type": "text", "visible": True, "hidden_how": None}
    return base | kw


@pytest.mark.parametrize(
    ("text", "phrases", "hit"),
    [
        ("nachname", ("name",), False),  # German compound: "name" is not a word start
        ("your name", ("name",), True),
        ("username", ("name",), False),
        ("mailing list", ("mail",), False),  # short words need a right boundary too
        ("והטלפון", ("טלפון",), True),  # Hebrew one-letter prefixes
        ("お問い合わせ内容", ("内容",), True),  # CJK matches anywhere
        ("telefonnummer", ("telefon",), True),
        ("s il vous plait", lx.DETAIL_WORDS["city"], False),  # "il" (tr.) is not listed
    ],
)
def test_find_respects_scripts(text: str, phrases: tuple[str, ...], hit: bool) -> None:
    assert lx.has_any(lx.normalize(text), phrases) is hit


@pytest.mark.parametrize(
    ("raw", "camel", "want"),
    [
        ("E-Mail*", False, "e mail"),
        ("firstName", True, "first name"),
        ("Téléphone", False, "telephone"),
        ("ת.ז.", False, "ת ז"),
        ("your_email[0]", True, "your email 0"),
    ],
)
def test_normalize(raw: str, camel: bool, want: str) -> None:
    assert lx.normalize(raw, camel=camel) == want


@pytest.mark.parametrize(
    ("f", "role", "detail"),
    [
        (field(type="email", name="x1"), "email", None),
        (field(name="your-name", label="Your name"), "full_name", None),
        (field(label="שם מלא"), "full_name", None),
        (field(label="שם פרטי"), "first_name", None),
        (field(label="שם משפחה"), "last_name", None),
        (field(label="Company name"), "company", None),  # not a person's name
        (field(label="Nachname"), "last_name", None),
        (field(label="Vorname"), "first_name", None),
        (field(label="Nom de famille"), "last_name", None),
        (field(label="Prénom"), "first_name", None),
        (field(label="Фамилия"), "last_name", None),
        (field(label="Телефон"), "phone", None),
        (field(label="Correo electrónico"), "email", None),
        (field(label="Telefono cellulare"), "phone", None),
        (field(label="رقم الهاتف"), "phone", None),
        (field(label="Achternaam"), "last_name", None),
        (field(label="Soyadı"), "last_name", None),
        (field(label="メールアドレス"), "email", None),
        (field(label="电话"), "phone", None),
        (field(label="טלפון נייד"), "phone", None),
        (field(label="נושא הפנייה"), "subject", None),
        (field(tag="textarea", type="textarea", name="description"), "message", None),
        (field(tag="textarea", type="textarea", label="תוכן הפנייה"), "message", None),
        (field(type="tel", name="f3"), "phone", None),
        (field(autocomplete="given-name", label="Name"), "first_name", None),
        (field(label="מספר ת.ז."), "other", "national_id"),
        (field(label="תעודת זהות"), "other", "national_id"),
        (field(label="עיר"), "other", "city"),
        (field(type="file", name="cv"), "other", "upload"),
        (field(type="password", name="pw"), "other", "password"),
        (field(type="hidden", name="_token"), "hidden", None),
        (field(name="q"), "other", None),
        # honeypots: hidden in every way a trap is hidden, or labelled as one
        (field(label="Website", visible=False, hidden_how="offscreen"), "honeypot", None),
        (field(label="Email", visible=False, hidden_how="zero"), "honeypot", None),
        (field(label="Phone", visible=False, hidden_how="aria"), "honeypot", None),
        (  # Gravity Forms' trap: display:none, autocomplete="new-password"
            field(label="Comments", visible=False, hidden_how="self", autocomplete="new-password"),
            "honeypot",
            None,
        ),
        # display:none and nothing of a trap: a conditional field (appears after a choice)
        (field(label="Comments", visible=False, hidden_how="self"), "message", None),
        (field(name="card_last4", label="Card used (last four digits)"), "other", None),
        (field(label="First and last name"), "full_name", None),
        (field(label="Jméno a příjmení"), "full_name", None),
        (field(label="Nome e cognome"), "full_name", None),
        (field(label="ФИО"), "full_name", None),
        (field(label="Město"), "other", "city"),
        (field(label="Località"), "other", "city"),
        (field(label="Город"), "other", "city"),
        (field(label="Předmět"), "subject", None),
        (field(name="g-recaptcha-response", tag="textarea", visible=False), "captcha", None),
        (field(name="cf-turnstile-response", type="hidden", visible=False), "captcha", None),
        (field(label="If you are human, leave this field blank"), "honeypot", None),
        # a required field in a hidden step is not a trap
        (
            field(tag="textarea", label="Message", visible=False, hidden_how="self", required=True),
            "message",
            None,
        ),
        (field(label="Message", visible=False, hidden_how="group"), "message", None),
        (field(label="What is 3 + 4 ?"), "captcha", None),
        (field(label="קוד אימות"), "captcha", None),
    ],
)
def test_field_role(f: dict[str, Any], role: str, detail: str | None) -> None:
    r = roles.field_role(f)
    assert (r.role, r.detail) == (role, detail)


@pytest.mark.parametrize(
    ("label", "required", "role"),
    [
        ("I agree to the privacy policy", True, "consent"),
        ("קראתי ואני מסכים לתקנון ולמדיניות הפרטיות", False, "consent"),
        ("Send me news and special offers", False, "marketing_opt_in"),
        ("אני מעוניין לקבל דיוורים ועדכונים", False, "marketing_opt_in"),
        ("I agree to receive other communications from Acme", False, "marketing_opt_in"),
        ("J'accepte de recevoir la newsletter", False, "marketing_opt_in"),
        ("Ich bin mit der Datenschutzerklärung einverstanden", True, "consent"),
        ("Send me the newsletter", True, "consent"),  # required: the form demands it
        ("Remember me", False, "other"),
    ],
)
def test_checkbox_roles(label: str, required: bool, role: str) -> None:
    f = field(type="checkbox", label=label, required=required)
    assert roles.field_role(f).role == role


def opts(*texts: str) -> list[dict[str, Any]]:
    return [{"value": t if i else "", "text": t} for i, t in enumerate(texts)]


def test_select_topic_and_general_option() -> None:
    f = field(tag="select", type="select", label="נושא הפנייה")
    f["options"] = opts("בחר נושא", "ביטול מנוי", "פנייה כללית", "חשבוניות")
    assert roles.field_role(f).role == "topic"
    assert roles.general_option(f["options"])["text"] == "פנייה כללית"
    sf = field(tag="select", type="select", label="Type")
    sf["options"] = opts("--None--", "Problem", "Feature Request", "Question")
    assert roles.field_role(sf).role == "topic"
    assert roles.general_option(sf["options"])["text"] == "Question"


def test_phone_prefix_select() -> None:
    f = field(tag="select", type="select", name="prefix")
    f["options"] = opts("קידומת", "050", "052", "054")
    assert (roles.field_role(f).role, roles.field_role(f).detail) == ("other", "phone_prefix")


def test_name_split_fix() -> None:
    fs = roles.assign_roles([field(label="Name"), field(label="Surname")])
    assert [f["role"] for f in fs] == ["first_name", "last_name"]


def form(fields: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
    return {"ref": "f0-1", "in_form": True, "fields": fields, "buttons": []} | kw


@pytest.mark.parametrize(
    ("f", "kind"),
    [
        (form([field(name="q")], role="search"), "search"),
        (form([field(name="s")], action="/?s="), "search"),
        (form([field(name="log"), field(type="password", name="pwd")]), "login"),
        (
            form(
                [
                    field(label="Email", type="email"),
                    field(type="password", name="p1"),
                    field(type="password", name="p2"),
                ]
            ),
            "signup",
        ),
        (
            form([field(type="email", name="EMAIL")], heading="Subscribe to our newsletter"),
            "newsletter",
        ),
        (
            form(
                [
                    field(name="author", label="Name"),
                    field(type="email", name="email"),
                    field(tag="textarea", type="textarea", name="comment", label="Comment"),
                ],
                idattr="commentform",
                action="/wp-comments-post.php",
            ),
            "comment",
        ),
        (
            form([field(autocomplete="cc-number", name="card"), field(name="cvc")]),
            "checkout",
        ),
        (
            form(
                [
                    field(label="Name"),
                    field(type="email", label="Email"),
                    field(tag="textarea", type="textarea", label="Message"),
                ]
            ),
            "contact",
        ),
        (form([field(label="שם מלא"), field(type="tel", label="טלפון")]), "contact"),
    ],
)
def test_form_kind(f: dict[str, Any], kind: str) -> None:
    assert roles.build_view(f, 0).kind == kind


def test_pick_contact_prefers_the_richest_form() -> None:
    small = roles.build_view(form([field(label="Name"), field(type="tel", label="Phone")]), 0)
    rich = roles.build_view(
        form(
            [
                field(label="Name"),
                field(type="email", label="Email"),
                field(tag="textarea", type="textarea", label="Message"),
            ],
            ref="f0-9",
        ),
        1,
    )
    assert roles.pick_contact([small, rich]) is rich
    assert roles.pick_contact([roles.build_view(form([field(name="q")], role="search"), 0)]) is None


@pytest.mark.parametrize(
    ("b", "role"),
    [
        ({"tag": "button", "type": "submit", "text": "Send"}, "submit"),
        ({"tag": "input", "type": "button", "value": "Submit"}, "submit"),
        ({"tag": "button", "type": "button", "text": "שליחה"}, "submit"),
        ({"tag": "button", "type": "button", "text": "Next →"}, "next"),
        ({"tag": "button", "type": "button", "text": "הבא"}, "next"),
        ({"tag": "button", "type": "button", "text": "Back"}, "other"),
    ],
)
def test_button_role(b: dict[str, Any], role: str) -> None:
    assert roles.button_role(b) == role


def test_rank_links_same_site_keywords_nav_first() -> None:
    links = [
        {"href": "https://acme.co.il/about", "text": "About", "region": "nav"},
        {"href": "https://acme.co.il/page-7", "text": "צור קשר", "region": "footer"},
        {"href": "https://other.com/contact", "text": "Contact", "region": "nav"},
        {"href": "https://acme.co.il/help", "text": "Help", "region": "body"},
        {"href": "mailto:info@acme.co.il", "text": "Contact us", "region": "nav"},
    ]
    ranked = [u for _, u in roles.rank_links(links, "acme.co.il")]
    assert ranked == ["https://acme.co.il/page-7", "https://acme.co.il/help"]


def test_rank_sitemap_urls() -> None:
    urls = ["https://a.com/blog/x", "https://a.com/en/contact-us", "https://a.com/support"]
    assert roles.rank_sitemap_urls(urls) == ["https://a.com/en/contact-us", "https://a.com/support"]


def request(**persona: Any) -> ProbeRequest:
    return ProbeRequest(
        company=Company(name="X", homepage="https://x.com", overrides=Overrides()),
        token="k7m2q9xd",
        reply_address="survey+k7m2q9xd@r.example.com",
        fallback_address="k7m2q9xd@r.example.com",
        subject="S",
        message="M",
        persona=Persona(**persona),
        submit=False,
        evidence_dir="/tmp/e",
        workspace="/tmp",
    )


@pytest.mark.parametrize(
    ("f", "planned"),
    [
        (
            field(role="email"),
            Planned("text", "survey+k7m2q9xd@r.example.com", "survey+k7m2q9xd@r.example.com"),
        ),
        (field(role="honeypot"), Planned("skip")),
        (field(role="marketing_opt_in", type="checkbox"), Planned("uncheck", shown="false")),
        (field(role="consent", type="checkbox"), Planned("check", shown="true")),
        (field(role="company"), Planned("skip")),  # optional and unknown: left empty
        (field(role="message"), Planned("text", "M", "M")),
    ],
)
def test_plan_value(f: dict[str, Any], planned: Planned) -> None:
    assert plan_value(f, request()) == planned


@pytest.mark.parametrize(
    ("f", "reason"),
    [
        (field(role="other", detail="national_id", required=True), "national_id required"),
        (field(role="company", required=True), "company required"),
        (field(role="other", type="file", detail="upload", required=True), "upload required"),
        (field(role="other", label="Policy number *", required=True), "Policy number required"),
    ],
)
def test_unanswerable_required_fields(f: dict[str, Any], reason: str) -> None:
    with pytest.raises(Unanswerable, match=reason):
        plan_value(f, request())


def test_persona_details_are_used_not_invented() -> None:
    f = field(role="other", detail="national_id", required=True)
    assert plan_value(f, request(national_id="000000018")).value == "000000018"
    radio = field(type="radio", role="other", detail="is_customer", required=True)
    radio["options"] = [{"ref": "r1", "text": "כן"}, {"ref": "r2", "text": "לא"}]
    assert plan_value(radio, request(is_customer=False)) == Planned("radio", "r2", "לא")
    with pytest.raises(Unanswerable, match="is_customer required"):
        plan_value(radio, request())


def test_fallback_address_when_plus_refused() -> None:
    req = request()
    req.company.overrides.accepts_plus = False
    assert plan_value(field(role="email"), req).value == "k7m2q9xd@r.example.com"


@pytest.mark.parametrize(
    ("phone", "split"),
    [("050-555-0134", ("050", "5550134")), ("0505550134", ("050", "5550134")), ("+1 555", None)],
)
def test_split_phone(phone: str, split: tuple[str, str] | None) -> None:
    assert split_phone(phone) == split


@pytest.mark.parametrize(
    ("body", "url", "verdict"),
    [
        (
            '{"status":"mail_sent","into":"#x"}',
            "/wp-json/contact-form-7/v1/x/feedback",
            "submitted",
        ),
        ('{"status":"spam","into":"#x"}', "/x", "spam_blocked"),
        ('{"status":"validation_failed","into":"#x"}', "/x", "validation_error"),
        ('{"status":"mail_failed","into":"#x"}', "/x", "error"),
        ('{"success":true}', "/admin-ajax.php", "submitted"),
        ('{"success":false,"data":{"errors":{"1":"required"}}}', "/a", "validation_error"),
        ('{"errors":{"fields":{"2":"bad email"}}}', "/a", "validation_error"),
        ("<html>ok</html>", "/a", None),
    ],
)
def test_builder_verdict(body: str, url: str, verdict: str | None) -> None:
    got = builder_verdict(body, url)
    assert (got[0].value if got else None) == verdict


def test_never_submitted_without_a_request() -> None:
    before = {"text": "Contact us", "form_visible": True, "url": "http://a/"}
    after = {
        "text": "Contact us\nThank you! Message sent.",
        "form_visible": False,
        "url": "http://a/",
    }
    empty = Capture()
    assert decide(empty, after, before, None, "http://a/") is None
    outcome, reason, signal = fallback(empty, after, before, "http://a/")
    assert outcome.value == "uncertain" and signal is None
    theirs = Capture(sent=[Sent("http://a/search", "POST", "document", 0.0, True, "q=", 200)])
    assert decide(theirs, after, before, None, "http://a/") is None  # none of our values
    assert fallback(theirs, after, before, "http://a/")[0].value == "uncertain"
    body = "email=survey%2Bk7m2q9xd%40r.example.com"
    ours = Sent("http://a/send", "POST", "document", 0.0, True, body, 200, carries=("email",))
    sent = Capture(sent=[ours])
    assert decide(sent, after, before, None, "http://a/")[0].value == "submitted"
    quiet = dict(before)
    outcome, _, signal = fallback(sent, quiet, before, "http://a/")
    assert (outcome.value, signal) == ("submitted", "http_status")


# --- issue 10, class 4: opening a hidden contact form ---------------------------------
def _view(*fields: dict[str, Any]) -> roles.FormView:
    return roles.FormView("f0-1", 0, "contact", 10.0, list(fields), [], {})


def test_needs_reveal_only_when_every_key_field_is_hidden() -> None:
    hidden = {"visible": False, "hidden_how": "group", "in_hidden_step": True}
    assert roles.needs_reveal(_view(field(role="email", **hidden), field(role="message", **hidden)))
    # a multi-step form shows its first step: nothing to open
    assert not roles.needs_reveal(_view(field(role="email"), field(role="message", **hidden)))
    assert not roles.needs_reveal(_view(field(role="honeypot", **hidden)))


@pytest.mark.parametrize(
    ("control", "form_known", "kept"),
    [
        ({"how": "aria-controls", "text": "Kontakt"}, True, True),
        ({"how": "summary", "text": "Écrire à la mairie"}, True, True),  # wired: no word needed
        ({"how": "target", "text": "Sign in"}, True, False),  # never a login opener
        ({"how": "text", "text": "צרו קשר"}, False, True),
        ({"how": "text", "text": "Написать нам"}, True, True),
        ({"how": "text", "text": "Subscribe to our newsletter"}, False, False),
        ({"how": "text", "text": "Share this page"}, False, False),
        ({"how": "text", "text": "Email this article to a friend"}, False, False),
        ({"how": "text", "text": "Read more"}, False, False),
        ({"how": "aria-controls", "text": "More"}, False, False),  # wired to no known form
    ],
)
def test_reveal_controls(control: dict[str, Any], form_known: bool, kept: bool) -> None:
    assert bool(roles.reveal_controls([{"ref": "x", **control}], form_known)) is kept


def test_bare_name_next_to_first_name_is_the_surname() -> None:
    fields = [field(label="Prénom", name="prenom"), field(label="Nom", name="nom")]
    assert [f["role"] for f in roles.assign_roles(fields)] == ["first_name", "last_name"]
    fields = [field(label="Vorname", name="vorname"), field(label="Name", name="name")]
    assert [f["role"] for f in roles.assign_roles(fields)] == ["first_name", "last_name"]


# --- issue 10, class 3: the submit control that belongs to the contact fields ---------
def test_choose_submit_by_tree_distance_in_a_page_wide_form() -> None:
    search = {"ref": "b1", "role": "submit", "visible": True, "tag": "input", "type": "image",
              "value": "Go", "path": [0, 1, 0, 1]}  # fmt: skip
    callback = {"ref": "b2", "role": "submit", "visible": True, "tag": "input",
                "type": "submit", "value": "Call me back", "path": [0, 1, 2, 1, 2]}  # fmt: skip
    send = {"ref": "b3", "role": "submit", "visible": True, "tag": "a", "type": "",
            "text": "Submit enquiry", "path": [0, 1, 2, 0, 5, 0]}  # fmt: skip
    email = field(ref="e", role="email", path=[0, 1, 2, 0, 3, 1])
    message = field(ref="m", role="message", path=[0, 1, 2, 0, 4, 1])
    cb_phone = field(ref="p", role="phone", path=[0, 1, 2, 1, 1, 1])
    query = field(ref="q", role="other", path=[0, 1, 0, 0])
    view = roles.FormView("f", 0, "contact", 9.0, [email, message, cb_phone, query],
                          [search, callback, send], {})  # fmt: skip
    assert roles.choose_submit(view) is send
    assert roles.foreign_fields(view, send) == {"p", "q"}
    assert roles.tree_distance([0, 1, 2], [0, 1, 3, 4]) == 3


def test_autocomplete_name_is_never_demoted_to_first_name() -> None:
    fields = [
        field(name="contact_name", label="Account holder", autocomplete="name"),
        field(name="surname_hint", label="Last name"),
    ]
    assert [f["role"] for f in roles.assign_roles(fields)] == ["full_name", "last_name"]


def test_number_and_digit_pattern_phones_get_digits() -> None:
    req = request()
    for extra in ({"type": "number"}, {"pattern": "[0-9]*"}, {"pattern": "\\d{10}"}):
        assert plan_value(field(role="phone", **extra), req).value == "0505550134"
    assert plan_value(field(role="phone"), req).value == "050-555-0134"


# --- issue 10, class 7: CAPTCHA scope ------------------------------------------------
def test_a_captcha_of_another_form_does_not_guard_the_contact_form() -> None:
    from probes.analyze import PageAnalysis

    contact = _view(field(role="email", name="email"))
    signup_widget = {"family": "recaptcha", "where": "widget", "form": "f0-9"}
    script = {"family": "recaptcha", "where": "script", "form": None}
    assert PageAnalysis("u", captchas=[script, signup_widget]).captcha_for(contact) is None
    assert PageAnalysis("u", captchas=[script]).captcha_for(contact) == "recaptcha"
    ours = {"family": "hcaptcha", "where": "widget", "form": "f0-1"}
    assert PageAnalysis("u", captchas=[ours, signup_widget]).captcha_for(contact) == "hcaptcha"
    with_response = _view(field(role="captcha", name="cf-turnstile-response", visible=False))
    assert PageAnalysis("u").captcha_for(with_response) == "turnstile"


@pytest.mark.parametrize(
    ("f", "role"),
    [
        (field(name="humanverify[input]", label="", context="Image Verification"), "captcha"),
        (field(name="sec_code", label="הקלד את הקוד שבתמונה", near_img=True), "captcha"),
        (field(name="code", label="Enter the code", near_img=True), "captcha"),
        (field(name="promo", label="Promo code", near_img=True), "other"),
        (field(name="q", label="Prove you are human: what colour is grass?"), "captcha"),
    ],
)
def test_text_and_image_captchas(f: dict[str, Any], role: str) -> None:
    assert roles.field_role(f).role == role
