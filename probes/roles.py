"""Pure scoring: a role for every field, a kind for every form, the contact form to use.

Input is what ``dom.js`` reads from the page (plain dicts, documented in that file); no
browser is needed here, so every rule is unit-tested on hand-made dicts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from audit.models import FIELD_ROLES
from probes import lexicon as lx

ROLES = FIELD_ROLES  # owned by the ground, which checks companies.yaml's overrides
FORM_KINDS = (
    "contact", "search", "login", "signup", "newsletter", "comment", "share", "checkout", "other",
)  # fmt: skip
# Forms whose content is published or goes to a third person: never filled, never sent.
# "comment" covers comments, reviews, forum replies and guest books; "share" covers
# share-by-e-mail and send-to-a-friend forms.
POSTING_KINDS = ("comment", "share")
# Contact builders whose markup looks like a comment form (Jetpack's form carries the
# class "commentsblock") and help-desk request forms (Zendesk's /hc/<locale>/requests).
CONTACT_BUILDER_RE = re.compile(
    r"(^|[\s/#_-])(contact[-_]?form|wpcf7|grunion)|/hc/[\w-]+/requests", re.IGNORECASE
)
REVIEW_FIELD_WORDS = ("your rating", "rating", "star rating", "your review", "review title")
TEXT_ROLES: tuple[str, ...] = ("full_name", "first_name", "last_name", "email", "phone")
TEXT_ROLES += ("company", "subject", "message", "captcha", "honeypot")
DETAILS = ("national_id", "city", "phone_prefix", "address", "zip", "is_customer", "upload")

AUTOCOMPLETE = {
    "name": "full_name",
    "given-name": "first_name",
    "additional-name": "other",
    "family-name": "last_name",
    "email": "email",
    "tel": "phone",
    "tel-national": "phone",
    "tel-local": "phone",
    "mobile": "phone",
    "organization": "company",
    "username": "other",
    "current-password": "other",
    "new-password": "other",
    "cc-number": "other",
    "street-address": "other",
    "address-line1": "other",
    "postal-code": "other",
    "address-level2": "other",
}
AUTOCOMPLETE_DETAIL = {
    "address-level2": "city",
    "street-address": "address",
    "address-line1": "address",
    "postal-code": "zip",
    "tel-area-code": "phone_prefix",
    "tel-country-code": "phone_prefix",
}
TEXTLIKE_TYPES = {"text", "email", "tel", "url", "number", "search", "", None, "textarea"}
HONEYPOT_HIDES = {"offscreen", "zero", "opacity", "aria", "clip", "self", "tabindex"}
WEIGHTS = {"label": 3.0, "placeholder": 2.5, "name": 2.0, "context": 1.0}
MATH_RE = re.compile(r"\d+\s*[-+x×*]\s*\d+\s*(=|\?)")


@dataclass
class Role:
    role: str
    detail: str | None = None  # national_id, city, phone_prefix, phone_number, ...
    score: float = 0.0


@dataclass
class FormView:
    """One candidate form with its fields' roles and its kind."""

    ref: str  # data-ca-id of the form element (or container)
    index: int
    kind: str
    score: float
    fields: list[dict[str, Any]] = field(default_factory=list)  # js dicts + role/detail
    buttons: list[dict[str, Any]] = field(default_factory=list)  # js dicts + role
    raw: dict[str, Any] = field(default_factory=dict)

    def by_role(self, role: str) -> list[dict[str, Any]]:
        return [f for f in self.fields if f["role"] == role]


# Words that mean a name part only at the end or before "name": "card_last4", "lastVisit",
# "last four digits" are no names ("wpforms[fields][0][first]", a "Last" sub-label are).
_BARE_PART_RE = re.compile(
    r"(?<!\w)(first|last|given|family|middle)(?= (?!name\b|nm\b|and\b|or\b)\S)"
)
IMAGE_CODE_WORDS = ("code", "קוד", "код", "kod", "codice", "codigo", "the characters", "הקוד")
NOT_IMAGE_CODE_WORDS = lx.DETAIL_WORDS["zip"] + lx.DETAIL_WORDS["phone_prefix"]
NOT_IMAGE_CODE_WORDS += ("promo", "coupon", "discount", "voucher", "gift", "postcode")
CAPTCHA_RESPONSE_NAMES = (
    "g-recaptcha-response", "h-captcha-response", "cf-turnstile-response",
    "frc-captcha-solution", "captcha-response",
)  # fmt: skip
TRAP_NAME_WORDS = (
    "website", "url", "homepage", "home page", "web site", "fax", "nickname", "hp", "trap",
    "confirm email", "email confirm", "email 2", "address 2", "fullname 2",
)  # fmt: skip


def _texts(f: dict[str, Any]) -> dict[str, str]:
    label = " ".join(str(f.get(k) or "") for k in ("label", "aria", "title"))
    name = " ".join(str(f.get(k) or "") for k in ("name", "idattr"))
    return {
        "label": _BARE_PART_RE.sub("", lx.normalize(label)),
        "placeholder": _BARE_PART_RE.sub("", lx.normalize(f.get("placeholder"))),
        "name": _BARE_PART_RE.sub("", lx.normalize(name, camel=True)),
        "context": lx.normalize(f.get("context")),
    }


def _trap_marked(f: dict[str, Any], texts: dict[str, str]) -> bool:
    """What marks a hidden field as a bot trap, beyond being hidden: trap words in its
    name or label, tabindex=-1, autocomplete off, aria-hidden."""
    words = _all_text(texts, ("label", "placeholder", "name"))
    if lx.has_any(words, lx.ROLE_WORDS["honeypot"] + TRAP_NAME_WORDS):
        return True
    if str(f.get("tabindex") or "").strip() == "-1":
        return True
    ac = str(f.get("autocomplete") or "").lower()
    return ac in ("off", "nope", "new-password", "false") or f.get("hidden_how") == "aria"


def _score(texts: dict[str, str], vocab: dict[str, tuple[str, ...]]) -> dict[str, float]:
    scores: dict[str, float] = {}
    for source, text in texts.items():
        for role, length in lx.roles_in(text, vocab).items():
            scores[role] = scores.get(role, 0.0) + WEIGHTS[source] * (1 + 0.04 * length)
    return scores


def _all_text(texts: dict[str, str], sources: tuple[str, ...] = ("label", "placeholder")) -> str:
    return " ".join(texts[s] for s in sources if texts[s])


def field_role(f: dict[str, Any]) -> Role:
    """The role of one field, from what dom.js read about it."""
    tag = (f.get("tag") or "").lower()
    typ = (f.get("type") or "").lower()
    if tag == "textarea":
        typ = "textarea"
    if str(f.get("name") or "").lower() in CAPTCHA_RESPONSE_NAMES:
        return Role("captcha", score=6)  # a widget's hidden answer: shown by inspect, never typed
    texts = _texts(f)
    words = _all_text(texts, ("label", "placeholder", "name"))
    near = _all_text(texts, ("label", "placeholder", "context"))
    if typ == "hidden":
        return Role("hidden")
    if typ in ("submit", "image", "button", "reset"):
        return Role("submit" if typ in ("submit", "image") else "other")
    if typ == "password":
        return Role("other", "password")
    if typ == "file":
        return Role("other", "upload")
    hide = f.get("hidden_how")
    if lx.has_any(words, lx.ROLE_WORDS["honeypot"]):
        return Role("honeypot", score=5)
    trap_hidden = not f.get("visible") and hide in HONEYPOT_HIDES
    if hide == "self" and not _trap_marked(f, texts):
        # display:none with nothing of a trap about it: a conditional field (it appears
        # after a topic choice), given its normal role; being hidden, it is not filled
        trap_hidden = False
    if typ in TEXTLIKE_TYPES and trap_hidden and not (hide == "self" and f.get("required")):
        return Role("honeypot", score=4)  # (a hidden *required* field is a step, not a trap)
    if typ in ("checkbox", "radio") and not f.get("visible") and hide in HONEYPOT_HIDES:
        return Role("honeypot", score=3)
    if typ == "checkbox":
        return _checkbox_role(f, near or texts["name"])
    if typ == "radio":
        return _choice_role(f, texts, radio=True)
    if tag == "select":
        return _choice_role(f, texts, radio=False)
    if (
        f.get("near_img")
        and lx.has_any(words, IMAGE_CODE_WORDS)
        and not lx.has_any(words, NOT_IMAGE_CODE_WORDS)
    ):
        return Role("captcha", score=4)  # "enter the code" next to its image
    if lx.has_any(words, lx.ROLE_WORDS["captcha"]) or MATH_RE.search(
        " ".join(str(f.get(k) or "") for k in ("label", "placeholder", "context"))
    ):
        return Role("captcha", score=4)
    ac = (f.get("autocomplete") or "").lower().split()
    ac_token = ac[-1] if ac else ""
    if ac_token in AUTOCOMPLETE_DETAIL:
        return Role("other", AUTOCOMPLETE_DETAIL[ac_token], 6)
    if ac_token in AUTOCOMPLETE and AUTOCOMPLETE[ac_token] != "other":
        return Role(AUTOCOMPLETE[ac_token], score=6)
    if typ == "email" or (f.get("inputmode") or "") == "email":
        return Role("email", score=6)
    vocab = {r: lx.ROLE_WORDS[r] for r in TEXT_ROLES if r not in ("honeypot", "captcha")}
    vocab.update({f"other:{d}": lx.DETAIL_WORDS[d] for d in DETAILS if d != "upload"})
    scores = _score(texts, vocab)
    if typ == "tel":
        scores["phone"] = scores.get("phone", 0) + 5
    if typ == "textarea":
        scores["message"] = scores.get("message", 0) + 4
    elif "message" in scores:
        scores["message"] *= 0.6
    if typ == "url":
        return Role("other", "url", 3)
    if not scores:
        return Role("other")
    best = max(scores, key=lambda r: scores[r])
    if best.startswith("other:"):
        detail = best.split(":", 1)[1]
        if detail == "is_customer":
            return Role("other", "customer_number", scores[best])
        return Role("other", detail, scores[best])
    return Role(best, score=scores[best])


def _checkbox_role(f: dict[str, Any], text: str) -> Role:
    required = bool(f.get("required"))
    marketing = lx.has_any(text, lx.ROLE_WORDS["marketing_opt_in"])
    consent = lx.has_any(text, lx.ROLE_WORDS["consent"])
    if marketing and not required:
        return Role("marketing_opt_in", score=3)
    if consent or required or marketing:
        return Role("consent", score=3)
    if lx.has_any(text, lx.DETAIL_WORDS["is_customer"]):
        return Role("other", "is_customer", 2)
    return Role("other")


def _option_texts(f: dict[str, Any]) -> list[str]:
    return [lx.normalize(f"{o.get('text') or ''}") for o in f.get("options") or []]


def _choice_role(f: dict[str, Any], texts: dict[str, str], radio: bool) -> Role:
    opts = _option_texts(f)
    vocab: dict[str, tuple[str, ...]] = {
        "topic": lx.ROLE_WORDS["topic"],
        "other:is_customer": lx.DETAIL_WORDS["is_customer"],
        "other:city": lx.DETAIL_WORDS["city"],
        "other:phone_prefix": lx.DETAIL_WORDS["phone_prefix"],
        "consent": lx.ROLE_WORDS["consent"],
    }
    scores = _score(texts, vocab)
    if any(re.fullmatch(r"\+?0?\d{2,3}", o.replace(" ", "")) for o in opts if o) and sum(
        bool(re.fullmatch(r"\+?0?\d{2,3}", o.replace(" ", ""))) for o in opts
    ) >= max(2, len(opts) // 2):
        scores["other:phone_prefix"] = scores.get("other:phone_prefix", 0) + 5
    general = sum(1 for o in opts if lx.has_any(o, lx.GENERAL_INQUIRY_WORDS))
    if general:
        scores["topic"] = scores.get("topic", 0) + 2
    yesno = [o for o in opts if o and (o in lx.YES_WORDS or o in lx.NO_WORDS)]
    if yesno and len(yesno) >= 2 and "other:is_customer" in scores:
        scores["other:is_customer"] += 3
    if radio and yesno and "consent" in scores:
        scores.pop("consent")
    scores.pop("consent", None)
    if not scores:
        return Role("other", "choice")
    best = max(scores, key=lambda r: scores[r])
    if best.startswith("other:"):
        return Role("other", best.split(":", 1)[1], scores[best])
    return Role(best, score=scores[best])


def button_role(b: dict[str, Any]) -> str:
    """submit, next, or other, for a button-like element."""
    text = lx.normalize(" ".join(str(b.get(k) or "") for k in ("text", "value", "aria", "title")))
    typ = (b.get("type") or "").lower()
    if lx.has_any(text, lx.NEXT_WORDS) and not lx.has_any(text, lx.SUBMIT_WORDS):
        return "next"
    if typ in ("submit", "image"):
        return "submit"
    if lx.has_any(text, lx.SUBMIT_WORDS):
        return "submit"
    name = lx.normalize(" ".join(str(b.get(k) or "") for k in ("name", "idattr", "cls")), True)
    if lx.has_any(name, ("submit", "send")):
        return "submit"
    return "other"


OTHER_PURPOSE_WORDS = lx.KIND_WORDS["search"] + lx.KIND_WORDS["login"]
OTHER_PURPOSE_WORDS += ("subscribe", "newsletter", "הרשמה לניוזלטר", "abonnieren", "s abonner")
OTHER_PURPOSE_WORDS += ("sign up", "signup", "call me back", "callback", "call back")
OTHER_PURPOSE_WORDS += lx.KIND_WORDS["signup"]  # a page-wide form's "הרשמה" / "Register" box


def other_purpose(b: dict[str, Any]) -> bool:
    """A control that belongs to a search, login or newsletter box, by its text or its
    name (a page-wide ASP.NET form holds them all): never the contact form's submit."""
    text = lx.normalize(" ".join(str(b.get(k) or "") for k in ("text", "value", "aria", "title")))
    name = lx.normalize(" ".join(str(b.get(k) or "") for k in ("name", "idattr", "cls")), True)
    return lx.has_any(text, OTHER_PURPOSE_WORDS) or lx.has_any(name, OTHER_PURPOSE_WORDS)


def tree_distance(a: list[int] | None, b: list[int] | None) -> int:
    """Edges between two elements in the DOM tree, from their paths (dom.js pathOf)."""
    if not a or not b:
        return 10_000
    k = 0
    while k < min(len(a), len(b)) and a[k] == b[k]:
        k += 1
    return len(a) + len(b) - 2 * k


def _key_fields(view: FormView) -> list[dict[str, Any]]:
    """The fields the submit control must be near: the message first (a newsletter or
    sign-up box in the same page-wide form has an e-mail field too, never a message)."""
    visible = [f for f in view.fields if f.get("visible")]
    for roles in (("message",), ("email", "message"), KEY_ROLES):
        keys = [f for f in visible if f["role"] in roles]
        if keys:
            return keys
    return visible


def _distance(b: dict[str, Any], fields: list[dict[str, Any]]) -> int:
    return min((tree_distance(b.get("path"), f.get("path")) for f in fields), default=10_000)


def choose_submit(view: FormView) -> dict[str, Any] | None:
    """The control that sends the contact form: a visible submit control that belongs to
    no search, login or newsletter box, nearest (in the DOM tree) to the contact fields;
    then one whose text says send/submit; then a real button before a link or a div.
    In a page-wide form (ASP.NET WebForms) this is the contact area's own button."""
    subs = [b for b in view.buttons if b["role"] == "submit" and b.get("visible")]
    subs = [b for b in subs if not other_purpose(b)]
    if not subs:
        return None
    keys = _key_fields(view)

    def says_send(b: dict[str, Any]) -> bool:
        text = lx.normalize(" ".join(str(b.get(k) or "") for k in ("text", "value", "aria")))
        return lx.has_any(text, lx.SUBMIT_WORDS)

    return min(
        subs,
        key=lambda b: (
            bool(b.get("disabled")),
            _distance(b, keys),
            not says_send(b),
            b.get("tag") not in ("button", "input"),
            b.get("type") not in ("submit", "image"),
        ),
    )


def foreign_fields(view: FormView, submit: dict[str, Any] | None) -> set[str]:
    """Fields of a page-wide form that belong to another box (a search, login, newsletter
    or call-back box with its own control): nearer to that control than to ours. They are
    left as they are. Controls that read like ours (a second "Send" at the top) do not
    count."""
    if submit is None or not submit.get("path"):
        return set()

    def label(b: dict[str, Any]) -> str:
        return lx.normalize(" ".join(str(b.get(k) or "") for k in ("text", "value", "aria")))

    others = [
        b
        for b in view.buttons
        if b is not submit
        and b.get("visible")
        and b.get("path")
        and (other_purpose(b) or (b["role"] == "submit" and label(b) != label(submit)))
    ]
    if not others:
        return set()
    out: set[str] = set()
    for f in view.fields:
        mine = tree_distance(f.get("path"), submit.get("path"))
        if any(tree_distance(f.get("path"), b.get("path")) < mine for b in others):
            out.add(f["ref"])
    return out


KEY_ROLES = ("email", "message", "full_name", "first_name", "last_name", "phone")
# What a control that opens a panel must never be about: another kind of form.
NOT_CONTACT_OPENER_WORDS = OTHER_PURPOSE_WORDS + lx.KIND_WORDS["signup"]
NOT_CONTACT_OPENER_WORDS += lx.POSTING_WORDS["share"] + lx.POSTING_WORDS["comment"]
NOT_CONTACT_OPENER_WORDS += ("share", "print", "שתף", "הדפס", "teilen", "partager")


def needs_reveal(view: FormView) -> bool:
    """A form whose key fields (e-mail, message, name, phone) are all hidden: it sits in a
    closed tab, accordion, modal or <details> (a multi-step form shows its first step)."""
    keys = [f for f in view.fields if f["role"] in KEY_ROLES]
    return bool(keys) and not any(f.get("visible") for f in keys)


def reveal_controls(controls: list[dict[str, Any]], form_known: bool) -> list[dict[str, Any]]:
    """The controls worth clicking to open a contact form, best first (``controls`` as
    dom.js's reveal op reads them). Those wired to the form's hidden wrapper come first
    (when ``form_known``); then controls that say "contact" in some language. A control
    about a newsletter, login, search, sign-up, share or comment never."""
    wired: list[dict[str, Any]] = []
    named: list[dict[str, Any]] = []
    for c in controls:
        text = lx.normalize(" ".join(str(c.get(k) or "") for k in ("text", "aria")))
        name = lx.normalize(" ".join(str(c.get(k) or "") for k in ("idattr", "cls", "href")), True)
        if lx.has_any(text, NOT_CONTACT_OPENER_WORDS) or lx.has_any(name, OTHER_PURPOSE_WORDS):
            continue
        if c.get("how") != "text":
            if form_known:
                wired.append(c)
            continue
        if len(text) <= 60 and lx.has_any(text, lx.KIND_WORDS["contact"] + CONTACT_OPENER_WORDS):
            named.append(c)
    return wired + named


# fmt: off
CONTACT_OPENER_WORDS = (
    "write to us", "send us a message", "send a message", "leave a message", "contact form",
    "כתבו לנו", "השאירו הודעה", "טופס פנייה", "טופס יצירת קשר", "schreiben sie uns",
    "nachricht senden", "ecrivez nous", "escribenos", "scrivici", "написать нам",
)
# fmt: on


def assign_roles(fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Roles for a form's fields, with cross-field fixes (name split, phone split)."""
    for f in fields:
        r = field_role(f)
        f["role"], f["detail"], f["role_score"] = r.role, r.detail, r.score
    roles = [f["role"] for f in fields if f.get("visible") or f.get("in_hidden_step")]
    if "last_name" in roles and "first_name" not in roles:
        for f in fields:
            explicit = (f.get("autocomplete") or "").lower().split()[-1:] == ["name"]
            if f["role"] == "full_name" and not explicit:
                f["role"] = "first_name"
                break
    if "first_name" in roles and "last_name" not in roles and "full_name" not in roles:
        firsts = [f for f in fields if f["role"] == "first_name"]
        for f in firsts:  # a lone "first name"-less "name" token guess: keep as full name
            if not lx.has_any(_texts(f)["label"] + " " + _texts(f)["name"], ("first", "given")):
                f["role"] = "full_name"
    roles = [f["role"] for f in fields if f.get("visible") or f.get("in_hidden_step")]
    if "first_name" in roles and "last_name" not in roles:
        for f in fields:  # "Prénom" + "Nom", "Vorname" + "Name": the bare name is the surname
            if f["role"] == "full_name" and _bare_name(f):
                f["role"] = "last_name"
                break
    if any(f.get("detail") == "phone_prefix" for f in fields):
        for f in fields:
            if f["role"] == "phone" and f.get("detail") is None:
                f["detail"] = "phone_number"
    messages = [f for f in fields if f["role"] == "message"]
    if len(messages) > 1:  # keep the most message-like; others are "other"
        messages.sort(key=lambda f: (f.get("tag") == "textarea", f.get("role_score", 0)))
        for f in messages[:-1]:
            if f.get("tag") != "textarea":
                f["role"] = "other"
    return fields


BARE_NAME_WORDS = ("name", "nom", "nome", "nombre", "naam", "nimi")


def _bare_name(f: dict[str, Any]) -> bool:
    """A field whose label (or placeholder) is just "Name" / "Nom", with no "full" or
    "your" around it."""
    for key in ("label", "placeholder", "aria"):
        text = lx.normalize(f.get(key))
        if text:
            return text in BARE_NAME_WORDS
    return False


def _form_text(form: dict[str, Any]) -> str:
    keys = ("idattr", "name", "cls", "action", "aria", "heading", "legend")
    raw = " ".join(str(form.get(k) or "") for k in keys)
    raw += " " + " ".join(str(b.get("text") or b.get("value") or "") for b in form["buttons"])
    return lx.normalize(raw, camel=True)


def form_kind(form: dict[str, Any], fields: list[dict[str, Any]]) -> tuple[str, float]:
    """(kind, contact score) of a candidate form whose fields already have roles."""
    live = [f for f in fields if f["role"] not in ("hidden", "honeypot")]
    visible = [f for f in live if f.get("visible") or f.get("in_hidden_step")]
    roles = {f["role"] for f in visible}
    details = {f.get("detail") for f in visible}
    types = {(f.get("type") or "").lower() for f in visible}
    names = {lx.normalize(f.get("name"), camel=True) for f in visible}
    text = _form_text(form)
    has_msg = "message" in roles
    ac = {(f.get("autocomplete") or "").lower() for f in visible}
    contact_words = lx.has_any(text, lx.KIND_WORDS["contact"])
    if not visible:
        return "other", 0.0
    if ac & {"cc-number", "cc-exp", "cc-csc"} or (
        lx.best_len(text, lx.KIND_WORDS["checkout"]) >= 6 and not has_msg and not contact_words
    ):
        return "checkout", 0.0
    if "password" in details:
        pw = sum(1 for f in visible if f.get("detail") == "password")
        if pw >= 2 or len(visible) >= 4 or lx.has_any(text, lx.KIND_WORDS["signup"]):
            return "signup", 0.0
        return "login", 0.0
    if (
        form.get("role") == "search"
        or "search" in types
        or (
            len(visible) <= 2
            and not has_msg
            and "email" not in roles
            and (
                names & {"q", "s", "search", "query", "keyword", "keywords", "term", "search query"}
                or lx.has_any(text, lx.KIND_WORDS["search"])
            )
        )
    ):
        return "search", 0.0
    posting = posting_kind(form, visible, text)
    if posting:
        return posting, 0.0
    score = 0.0
    score += 6 if has_msg else 0
    score += 3 if "email" in roles else 0
    score += 2 if "phone" in roles else 0
    score += 2 if roles & {"full_name", "first_name", "last_name"} else 0
    score += 1 if roles & {"subject", "topic"} else 0
    score += 3 if contact_words else 0
    core = roles - {"consent", "marketing_opt_in", "captcha", "other"}
    only_email = core <= {"email", "full_name", "first_name", "last_name"} and "email" in roles
    if (
        not has_msg
        and only_email
        and (lx.has_any(text, lx.KIND_WORDS["newsletter"]) or not contact_words)
    ):
        return "newsletter", 0.0
    if has_msg and (roles & {"email", "phone", "full_name", "first_name", "last_name"}):
        return "contact", score
    if ("phone" in roles or "email" in roles) and (
        roles & {"full_name", "first_name", "last_name"} or contact_words
    ):
        return "contact", score
    if has_msg and contact_words:
        return "contact", score
    return "other", score


def contact_builder(form: dict[str, Any]) -> bool:
    """A contact form by its builder's own markup (Jetpack, CF7, help-desk requests)."""
    raw = " ".join(str(form.get(k) or "") for k in ("idattr", "cls", "action"))
    return bool(CONTACT_BUILDER_RE.search(raw))


def posting_kind(form: dict[str, Any], fields: list[dict[str, Any]], text: str) -> str | None:
    """ "share" or "comment" for a public-posting form (``text`` is the form's normalised
    own text: id, class, action, heading, buttons), else None."""
    field_text = " ".join(
        lx.normalize(" ".join(str(f.get(k) or "") for k in ("label", "placeholder", "aria")))
        + " "
        + lx.normalize(" ".join(str(f.get(k) or "") for k in ("name", "idattr")), camel=True)
        for f in fields
    )
    if lx.has_any(text, lx.POSTING_WORDS["share"]) or lx.has_any(
        field_text, lx.POSTING_WORDS["share"]
    ):
        return "share"
    if contact_builder(form):
        return None
    if lx.has_any(text, lx.POSTING_WORDS["comment"]):
        return "comment"
    has_msg = any(f["role"] == "message" for f in fields)
    if has_msg and lx.has_any(field_text, REVIEW_FIELD_WORDS):
        return "comment"
    msg_names = {lx.normalize(f.get("name")) for f in fields if f["role"] == "message"}
    contact_words = lx.has_any(text, lx.KIND_WORDS["contact"])
    if (
        msg_names & {"comment", "comments", "reply"}
        and lx.has_any(text, lx.KIND_WORDS["comment"])
        and not contact_words
    ):
        return "comment"
    return None


def build_view(form: dict[str, Any], index: int) -> FormView:
    fields = assign_roles(form["fields"])
    for b in form["buttons"]:
        b["role"] = button_role(b)
    kind, score = form_kind(form, fields)
    if form.get("visible") is False:
        score -= 5
    return FormView(form["ref"], index, kind, score, fields, form["buttons"], form)


def pick_contact(views: list[FormView]) -> FormView | None:
    """The contact form: highest score among forms of kind contact (first wins ties)."""
    best: FormView | None = None
    for v in views:
        if v.kind == "contact" and (best is None or v.score > best.score):
            best = v
    return best


def general_option(options: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The option a person with a general question would pick (None if none is usable)."""
    usable = [o for o in options if _usable_option(o)]
    if not usable:
        return None
    ranked = sorted(
        usable,
        key=lambda o: -lx.best_len(lx.normalize(o.get("text")), lx.GENERAL_INQUIRY_WORDS),
    )
    if lx.best_len(lx.normalize(ranked[0].get("text")), lx.GENERAL_INQUIRY_WORDS):
        return ranked[0]
    return usable[0]


def _usable_option(o: dict[str, Any]) -> bool:
    if o.get("disabled"):
        return False
    text = lx.normalize(o.get("text"))
    value = str(o.get("value") if o.get("value") is not None else "")
    if value.strip() == "" and o.get("has_value", True):
        return False
    return not (text == "" or lx.has_any(text, lx.PLACEHOLDER_OPTION_WORDS) or text in ("-", "--"))


def yes_no_option(options: list[dict[str, Any]], yes: bool) -> dict[str, Any] | None:
    words = lx.YES_WORDS if yes else lx.NO_WORDS
    for o in options:
        t = lx.normalize(o.get("text")) or lx.normalize(o.get("value"))
        if t in words or any(t.startswith(w + " ") for w in words):
            return o
    return None


def looks_like_general(text: str) -> bool:
    return lx.has_any(lx.normalize(text), lx.GENERAL_INQUIRY_WORDS)


def classify_text(text: str) -> dict[str, bool]:
    """Which verdict words a piece of page text carries: thanks, error, spam."""
    t = lx.normalize(text)
    return {
        "thanks": lx.has_any(t, lx.THANKS_WORDS),
        "error": lx.has_any(t, lx.ERROR_WORDS),
        "spam": lx.has_any(t, lx.SPAM_WORDS),
    }


def rank_links(links: list[dict[str, Any]], base_site: str | None) -> list[tuple[float, str]]:
    """Candidate contact links as (score, url), best first. Same site only."""
    from urllib.parse import urlsplit

    out: dict[str, float] = {}
    for link in links:
        url = str(link.get("href") or "")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https", "file"):
            continue
        host = (parts.hostname or "").lower().removeprefix("www.")
        if base_site and host and host != base_site and not host.endswith("." + base_site):
            continue
        text = lx.normalize(" ".join(str(link.get(k) or "") for k in ("text", "aria", "title")))
        path = lx.normalize(_unquote(parts.path), camel=True)
        if lx.has_any(text + " " + path, lx.BAD_LINK_WORDS) or url.lower().startswith(
            ("mailto:", "tel:")
        ):
            continue
        score = 0.0
        if lx.has_any(text, lx.KIND_WORDS["contact"]):
            score += 10 + 0.1 * lx.best_len(text, lx.KIND_WORDS["contact"])
        elif lx.has_any(text, lx.CONTACT_LINK_WORDS):
            score += 5
        if lx.has_any(path, lx.KIND_WORDS["contact"]):
            score += 6
        elif lx.has_any(path, lx.CONTACT_LINK_WORDS):
            score += 2
        if score <= 0:
            continue
        if link.get("region") in ("nav", "footer", "header"):
            score += 2
        score -= 0.002 * len(url)
        key = url.split("#")[0]
        out[key] = max(out.get(key, 0.0), score)
    return sorted(((s, u) for u, s in out.items()), key=lambda t: -t[0])


def _unquote(path: str) -> str:
    from urllib.parse import unquote

    return unquote(path)


def rank_sitemap_urls(urls: list[str]) -> list[str]:
    """Sitemap entries that look like contact pages, best first."""
    scored = []
    for u in urls:
        path = lx.normalize(_unquote(u.split("?")[0]), camel=True)
        if lx.has_any(path, lx.BAD_LINK_WORDS):
            continue
        if lx.has_any(path, lx.KIND_WORDS["contact"]):
            scored.append((10.0 - 0.01 * len(u), u))
        elif lx.has_any(path, lx.CONTACT_LINK_WORDS):
            scored.append((5.0 - 0.01 * len(u), u))
    return [u for _, u in sorted(scored, key=lambda t: -t[0])]
