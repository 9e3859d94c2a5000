"""The form gallery: real-world contact forms, run through the real engine in real Chromium.

Every case in ``gallery/gallery.yaml`` is a local page modelled on a real product (Contact
Form 7, WPForms, HubSpot, Drupal Webform, ...) served by ``gallery_server.GalleryServer``,
which records every POST and answers the way the product does. For each case the probe
must reach the expected outcome, give the key fields their roles, and send the server
what a careful person would: the reply address in the e-mail field, the message in the
message field, nothing in honeypots, and no request at all when it must not submit.
"""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import json
import os
import re
import sys
import threading
from collections.abc import Coroutine
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from audit.models import (
    BrowserSettings,
    Company,
    Outcome,
    Persona,
    ProbeRequest,
    ProbeResult,
)
from audit.tokens import new_token, reference_code


def _load_gallery_server() -> Any:
    """tests/ is not a package (--import-mode=importlib): load the sibling module by path."""
    name = "gallery_server"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


_gs = _load_gallery_server()
GALLERY: Path = _gs.GALLERY
GalleryServer = _gs.GalleryServer

GALLERY_YAML = GALLERY / "gallery.yaml"
CASES: list[dict[str, Any]] = yaml.safe_load(GALLERY_YAML.read_text(encoding="utf-8"))["cases"]
ROLES = {
    "full_name", "first_name", "last_name", "email", "phone", "company", "subject", "message",
    "topic", "consent", "marketing_opt_in", "honeypot", "captcha", "submit", "other",
}  # fmt: skip
FORM_KINDS = {
    "contact", "search", "login", "signup", "newsletter", "comment", "share", "checkout", "other",
}  # fmt: skip
PROBE_TIMEOUT_S = 120.0
MIN_CASES = 100  # issue 10: at least 100 cases modelled on real builders and sites
# Over the cases run in this session: the two hard numbers must stay at zero.
TOTALS = {"cases": 0, "passed": 0, "false_submitted": 0, "doubles": 0}
REPLY_DOMAIN = "replies.example.com"
# Third-party scripts a CAPTCHA page may name; the engine blocks them in tests.
ALLOWED_EXTERNAL_SCRIPTS = (
    "https://www.google.com/recaptcha/",
    "https://js.hcaptcha.com/",
    "https://challenges.cloudflare.com/turnstile/",
    "https://cdn.jsdelivr.net/npm/friendly-challenge@",
)


def _chromium() -> str | None:
    path = os.environ.get("AUDIT_CHROMIUM", "/usr/lib/chromium/chromium")
    return path if Path(path).exists() else None


def fast_settings(**overrides: Any) -> BrowserSettings:
    base: dict[str, Any] = {
        "executable": _chromium(),
        "min_fill_seconds": 0.0,
        "typing_delay_ms": (0, 0),
        "site_delay_s": 0.0,
        "timeout_s": 20.0,
    }
    return BrowserSettings(**(base | overrides))


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _message_for(ref: str, persona: Persona) -> str:
    return (
        "Hello,\n\n"
        "I am interested in your services and would like to know how I can open an account,\n"
        "what it costs per month, and whether there is a discount for new customers.\n"
        "Could you please get back to me by e-mail?\n\n"
        f"Thank you,\n{persona.name}\n{persona.phone}\n\nReference: {ref}\n"
    )


# ---------------------------------------------------------------------------------------
# The engine runs on its own event loop in a thread, so the tests stay plain functions
# (no async plugin needed) and one browser serves the whole module.
# ---------------------------------------------------------------------------------------
class EngineThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.sessions: dict[str, Any] = {}

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = PROBE_TIMEOUT_S) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def session(self, overrides: dict[str, Any]) -> Any:
        """One ProbeSession per distinct settings (the fast default, plus e.g. a 5 s fill)."""
        from probes.runner import ProbeSession

        key = json.dumps(overrides, sort_keys=True)
        if key not in self.sessions:
            session = ProbeSession(fast_settings(**overrides), block_outside=True)
            self.run(session.__aenter__())
            self.sessions[key] = session
        return self.sessions[key]

    def close(self) -> None:
        try:
            for session in self.sessions.values():
                self.run(session.__aexit__(None, None, None), timeout=30)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=10)
            self.loop.close()


@pytest.fixture(scope="module")
def gallery() -> Any:
    with GalleryServer() as server:
        yield server


@pytest.fixture(scope="module")
def engine() -> Any:
    e = EngineThread()
    try:
        yield e
    finally:
        e.close()


def case_url(server: GalleryServer, case: dict[str, Any], key: str = "start") -> str:
    return server.url(case.get(key) or case["start"], case.get("site", ""), bool(case.get("tls")))


def expected_posts(case: dict[str, Any]) -> int:
    """How many POSTs the server must receive: 0 for `post: none`, else `retries` (a phone
    retried in another format after the server's definite refusal), default 1."""
    return 0 if case.get("post") == "none" else int(case.get("retries", 1))


# ---------------------------------------------------------------------------------------
# The gallery itself (no browser): complete, valid and self-contained.
# ---------------------------------------------------------------------------------------
class _Resources(HTMLParser):
    """Collects every URL a page would load by itself (not links a person would click)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in ("script", "img", "iframe", "audio", "video", "source", "embed") and a.get("src"):
            self.urls.append((tag, a["src"]))
        if tag == "link" and a.get("href"):
            self.urls.append((tag, a["href"]))
        if tag == "object" and a.get("data"):
            self.urls.append((tag, a["data"]))


def test_gallery_catalogue_is_complete_and_valid() -> None:
    assert len(CASES) >= MIN_CASES, f"the gallery needs at least {MIN_CASES} cases"
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    outcomes = {o.value for o in Outcome}
    for case in CASES:
        where = case["id"]
        assert case["outcome"] in outcomes, where
        folder = GALLERY / (case.get("site") or "")
        start = case["start"].split("?")[0].lstrip("/")
        path = folder / start
        if case["id"] == "wix_spa":  # a single-page app: every route serves its index.html
            path = GALLERY / "wix_spa"
        if path.is_dir() or not path.suffix:
            path = path / "index.html" if path.is_dir() else path.parent / "index.html"
        assert path.is_file(), f"{where}: {path} missing"
        for name, role in (case.get("roles") or {}).items():
            assert role in ROLES, f"{where}: {name} has unknown role {role}"
        post = case.get("post")
        if case["outcome"] in ("captcha", "no_form", "failed"):
            assert post == "none", f"{where}: no POST may be sent for {case['outcome']}"
        else:
            assert isinstance(post, dict) and post.get("path"), where
            if post.get("ours", True):
                assert post.get("email") and post.get("message"), where
            else:  # a request that must carry none of our values (never `submitted`)
                assert case["outcome"] in ("uncertain", "error"), where
        retries = case.get("retries", 1)
        assert isinstance(retries, int) and 1 <= retries <= 3, where  # 1 + two other formats
        assert retries == 1 or post != "none", where
        for key, values in ((post or {}) if post != "none" else {}).get("each", {}).items():
            assert len(values) == retries, f"{where}: each[{key}] needs one value per POST"
        for kind in (case.get("inspect") or {}).get("kinds", []):
            assert kind in FORM_KINDS, where


@pytest.mark.parametrize(
    "page", sorted(GALLERY.rglob("*.html")), ids=lambda p: str(p.relative_to(GALLERY))
)
def test_gallery_pages_are_self_contained(page: Path) -> None:
    parser = _Resources()
    parser.feed(page.read_text(encoding="utf-8"))
    for tag, url in parser.urls:
        host = urlsplit(url).hostname
        if url.startswith("{{SITE:") or host is None or host in ("127.0.0.1", "localhost"):
            continue
        assert tag == "script" and url.startswith(ALLOWED_EXTERNAL_SCRIPTS), (
            f"{page.name} loads {url}: gallery pages must be self-contained"
        )


# ---------------------------------------------------------------------------------------
# The probe on every case
# ---------------------------------------------------------------------------------------
def _ours(hit: Any, addresses: tuple[str, ...], message: str) -> bool:
    """Whether a request the server received carried the reply address or the message
    (any form or JSON field, or the query string of a GET)."""
    values = [hit.value(k) for k in hit.fields]
    if hit.query:
        values += [v for vs in parse_qs(hit.query).values() for v in vs]
    mark = _norm(message)[:60]
    return any(
        v.strip().lower() in addresses or (mark and mark in _norm(v)) for v in map(str, values)
    )


def _check_post(
    case: dict[str, Any], posts: list[Any], reply: str, message: str, subject: str,
    fallback: str = "",
) -> list[str]:  # fmt: skip
    spec = case.get("post")
    problems: list[str] = []
    if spec == "none":
        if posts:
            problems.append(f"expected no POST at all, got {[p.path for p in posts]}")
        return problems
    n = expected_posts(case)
    if len(posts) != n or any(p.path != spec["path"] for p in posts):
        got = [(p.path, p.status) for p in posts]
        problems.append(f"expected exactly {n} POST(s) to {spec['path']}, got {got}")
        posts = [p for p in posts if p.path == spec["path"]]
        if not posts:
            return problems
    for key, values in (spec.get("each") or {}).items():  # one value per attempt, in order
        got_each = [p.value(key) for p in posts]
        if got_each != [str(v) for v in values]:
            problems.append(f"{key} per POST: {got_each}, expected {values}")
    hit = posts[-1]
    if not spec.get("ours", True):
        if _ours(hit, (reply.lower(), fallback.lower()), message):
            problems.append(f"the POST to {spec['path']} must carry none of our values")
        return problems
    address = fallback if spec.get("email_is") == "fallback" else reply
    got_email = hit.value(spec["email"])
    if got_email != address:
        problems.append(f"{spec['email']}={got_email!r}, expected the address {address!r}")
    got_message = hit.value(spec["message"])
    fitted = spec.get("message_fitted")
    if fitted:  # shortened on purpose to the field's maxlength: its start and its reference
        ref = reference_code(reply.split("+")[1].split("@")[0])
        ok = len(got_message) <= int(fitted) and ref in got_message
        ok = ok and _norm(got_message).startswith(_norm(message)[:40])
        if not ok:
            problems.append(
                f"{spec['message']}={got_message!r}: not the message fitted to {fitted}"
            )
    elif _norm(message) not in _norm(got_message):
        problems.append(f"{spec['message']}={got_message[:80]!r}..., expected the message")
    if spec.get("single_line") and ("\n" in got_message or "\r" in got_message):
        problems.append(f"{spec['message']} carries line breaks into a single-line field")
    if spec.get("subject") and _norm(hit.value(spec["subject"])) != _norm(subject):
        problems.append(f"{spec['subject']}={hit.value(spec['subject'])!r}, expected {subject!r}")
    for key, want in (spec.get("equals") or {}).items():
        if hit.value(key) != str(want):
            problems.append(f"{key}={hit.value(key)!r}, expected {str(want)!r}")
    for key in spec.get("empty") or []:
        if hit.value(key).strip():
            problems.append(f"{key}={hit.value(key)!r} must be empty (honeypot/unanswerable)")
    return problems


def _check_roles(case: dict[str, Any], fields: list[tuple[str | None, str]]) -> list[str]:
    got: dict[str, str] = {}
    for name, role in fields:
        if name is not None:
            got.setdefault(name, role)
    problems = []
    for name, role in (case.get("roles") or {}).items():
        if got.get(name) != role:
            problems.append(f"field {name!r}: role {got.get(name)!r}, expected {role!r}")
    return problems


@pytest.mark.browser
@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_gallery_case(case: dict[str, Any], gallery: GalleryServer, engine: EngineThread,
                      tmp_path: Path) -> None:  # fmt: skip
    token = new_token()
    ref = reference_code(token)
    persona = Persona(**(case.get("persona") or {}))
    reply = f"survey+{token}@{REPLY_DOMAIN}"
    subject = f"Question about your services (ref {ref})"
    message = _message_for(ref, persona)
    url = case_url(gallery, case)
    if case.get("discover"):
        company = Company(name=f"Gallery {case['id']}", homepage=url)
    else:
        company = Company(name=f"Gallery {case['id']}", contact_url=url)
    clicks: list[int] = []
    request = ProbeRequest(
        company=company,
        token=token,
        reply_address=reply,
        fallback_address=f"{token}@{REPLY_DOMAIN}",
        subject=subject,
        message=message,
        persona=persona,
        submit=True,
        evidence_dir=str(tmp_path / "evidence" / case["id"]),
        workspace=str(tmp_path),
        before_submit=lambda: clicks.append(len(gallery.posts())),
    )
    session = engine.session(case.get("settings") or {})

    gallery.reset()
    result: ProbeResult = engine.run(session.probe(request))
    posts = gallery.posts()
    fallback = request.fallback_address
    ours = [h for h in gallery.hits if _ours(h, (reply.lower(), fallback.lower()), message)]

    problems: list[str] = []
    if result.outcome != Outcome(case["outcome"]):
        problems.append(f"outcome {result.outcome.value!r}, expected {case['outcome']!r}")
    if case.get("reason") and case["reason"].lower() not in (result.reason or "").lower():
        problems.append(f"reason {result.reason!r} should mention {case['reason']!r}")
    problems += _check_post(case, posts, reply, message, subject, fallback)
    if case.get("post") == "none":
        if clicks or result.clicked:
            problems.append("the submit control was activated although nothing may be sent")
    else:
        if len(clicks) != 1 or not result.clicked:
            problems.append(f"before_submit called {len(clicks)} times, clicked={result.clicked}")
        problems += _check_roles(case, [(f.name, f.role) for f in result.fields])
    false_submitted = result.outcome is Outcome.SUBMITTED and not ours
    if false_submitted:
        problems.append("says submitted, but no request with our values reached the server")
    allowed = max(1, expected_posts(case))
    if len(ours) > allowed:
        problems.append(
            f"double submission: {len(ours)} requests carried our values ({allowed} expected)"
        )
    TOTALS["cases"] += 1
    TOTALS["false_submitted"] += false_submitted
    TOTALS["doubles"] += len(ours) > allowed
    if result.outcome is Outcome.SUBMITTED and (result.submitted_at is None or not result.signal):
        problems.append(f"submitted without submitted_at/signal: {result.signal!r}")
    for ev in result.evidence:
        if not (Path(request.workspace) / ev.path).is_file():
            problems.append(f"evidence {ev.kind} missing: {ev.path}")

    TOTALS["passed"] += not problems
    assert not problems, (
        f"{case['id']} ({case['product']}): outcome={result.outcome.value} "
        f"reason={result.reason!r} signal={result.signal!r}\n  - " + "\n  - ".join(problems)
    )


@pytest.mark.browser
def test_gallery_totals() -> None:
    """The issue's hard numbers over the cases run above (runs after them, in file order):
    at least 100 cases, every case run passed, 0 cases where the outcome says `submitted`
    and the server received no request with our values, and 0 cases where our values
    reached the server more often than the case allows (`retries`, default once)."""
    print(
        "\ngallery: {cases} cases run, {passed} passed, {false_submitted} false submitted, "
        "{doubles} double submissions".format(**TOTALS)
    )
    assert len(CASES) >= MIN_CASES, f"{len(CASES)} cases in the gallery, {MIN_CASES} needed"
    assert TOTALS["cases"] > 0, "no gallery case ran before the totals"
    assert TOTALS["passed"] == TOTALS["cases"], TOTALS
    assert TOTALS["false_submitted"] == 0 and TOTALS["doubles"] == 0, TOTALS


@pytest.mark.browser
def test_drupal_time_trap_catches_a_hasty_filler(
    gallery: GalleryServer, engine: EngineThread, tmp_path: Path
) -> None:
    """Control for the Drupal case: the trap is real. Filled faster than the trap's limit
    (the fast test settings; the limit raised to an hour so that no machine is slow enough
    to pass it), the same page is rejected by the server, and the probe must not call that
    a submission."""
    case = next(c for c in CASES if c["id"] == "drupal_webform_time_trap")
    token = new_token()
    persona = Persona()
    request = ProbeRequest(
        company=Company(name="Gallery hasty Drupal", contact_url=case_url(gallery, case)),
        token=token,
        reply_address=f"survey+{token}@{REPLY_DOMAIN}",
        fallback_address=f"{token}@{REPLY_DOMAIN}",
        subject="Question about your services",
        message=_message_for(reference_code(token), persona),
        persona=persona,
        submit=True,
        evidence_dir=str(tmp_path / "evidence"),
        workspace=str(tmp_path),
    )
    gallery.reset()
    gallery.drupal_time_limit_s = 3600.0
    try:
        result = engine.run(engine.session({}).probe(request))
    finally:
        gallery.drupal_time_limit_s = _gs.DRUPAL_HONEYPOT_TIME_LIMIT_S
    posts = gallery.posts()
    assert len(posts) == 1 and posts[0].path == case["post"]["path"]
    assert posts[0].at - float(posts[0].value("honeypot_time")) < 3600.0
    assert result.outcome in (Outcome.VALIDATION_ERROR, Outcome.SPAM_BLOCKED), (
        f"{result.outcome.value}: {result.reason}"
    )


# ---------------------------------------------------------------------------------------
# inspect_targets: the form picked and every field's role, without submitting
# ---------------------------------------------------------------------------------------
def _inspect(engine: EngineThread, targets: list[str], settings: BrowserSettings) -> Any:
    from probes.inspect import inspect_targets

    out = inspect_targets(targets, settings)
    if inspect.isawaitable(out):
        out = engine.run(out, timeout=PROBE_TIMEOUT_S * 3)  # type: ignore[arg-type]
    return out


def _check_shape(row: dict[str, Any], target: str) -> None:
    """The exact JSON shape of issue 3, item 9."""
    assert json.loads(json.dumps(row)) == row  # plain JSON types only
    assert set(row) == {"target", "forms", "contact_form", "error"}
    assert row["target"] == target
    assert row["contact_form"] is None or isinstance(row["contact_form"], int)
    assert row["error"] is None or isinstance(row["error"], str)
    assert isinstance(row["forms"], list)
    for form in row["forms"]:
        assert set(form) == {"index", "kind", "fields"}
        assert isinstance(form["index"], int) and not isinstance(form["index"], bool)
        assert form["kind"] in FORM_KINDS
        for f in form["fields"]:
            assert set(f) == {"name", "role"}
            assert f["name"] is None or isinstance(f["name"], str)
            assert f["role"] in ROLES
    indexes = [f["index"] for f in row["forms"]]
    assert indexes == sorted(indexes) and len(set(indexes)) == len(indexes)
    if row["contact_form"] is not None:
        assert row["contact_form"] in indexes


INSPECTED = [c for c in CASES if c.get("inspect") or (c.get("roles") and not c.get("discover"))]


@pytest.fixture(scope="module")
def inspected(gallery: GalleryServer, engine: EngineThread) -> dict[str, dict[str, Any]]:
    """One inspect_targets call (one browser) over every case's form page."""
    urls = [case_url(gallery, c, "form_page") for c in INSPECTED]
    rows = _inspect(engine, urls, fast_settings())
    assert isinstance(rows, list) and len(rows) == len(urls)
    for url, row in zip(urls, rows, strict=True):
        _check_shape(row, url)
    return {c["id"]: row for c, row in zip(INSPECTED, rows, strict=True)}


@pytest.mark.browser
@pytest.mark.parametrize("case", INSPECTED, ids=[c["id"] for c in INSPECTED])
def test_gallery_inspect(case: dict[str, Any], inspected: dict[str, dict[str, Any]]) -> None:
    row = inspected[case["id"]]
    assert row["error"] is None, row["error"]
    want = case.get("inspect") or {}
    problems: list[str] = []
    if "kinds" in want:
        kinds = [f["kind"] for f in row["forms"]][: len(want["kinds"])]
        if kinds != want["kinds"]:
            problems.append(f"form kinds {kinds}, expected {want['kinds']}")
    if "contact_form" in want and row["contact_form"] != want["contact_form"]:
        problems.append(f"contact_form {row['contact_form']}, expected {want['contact_form']}")
    if case.get("roles"):
        picked = [f for f in row["forms"] if f["index"] == row["contact_form"]]
        if not picked:
            problems.append("no contact form picked")
        else:
            problems += _check_roles(case, [(f["name"], f["role"]) for f in picked[0]["fields"]])
    assert not problems, f"{case['id']}: " + "; ".join(problems) + f"\n{json.dumps(row)}"


@pytest.mark.browser
def test_inspect_local_files_shape_and_no_network(
    gallery: GalleryServer, engine: EngineThread, tmp_path: Path
) -> None:
    """Local .html files: the exact JSON shape, and not one request leaves the browser.

    One file names the recording server in every way a page can load something (script,
    stylesheet, image, iframe, fetch, a form auto-submitted by script); the server must
    see nothing. The CAPTCHA page names google.com, which must not be reached either
    (it cannot be observed here; the engine's blocking covers it).
    """
    beacon = gallery.origin
    trap = tmp_path / "saved_contact_page.html"
    trap.write_text(
        f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>Contact</title>
<link rel="stylesheet" href="{beacon}/beacon/style.css">
<script src="{beacon}/beacon/app.js"></script></head><body>
<img src="{beacon}/beacon/pixel.gif" alt="">
<iframe src="{beacon}/beacon/frame.html"></iframe>
<form action="{beacon}/beacon/send" method="post" id="f">
<label for="n">Name</label><input id="n" name="name">
<label for="e">Email</label><input id="e" name="email" type="email">
<label for="m">Message</label><textarea id="m" name="message"></textarea>
<button type="submit">Send</button></form>
<script>fetch("{beacon}/beacon/fetch").catch(function(){{}});
new Image().src = "{beacon}/beacon/img2.gif";</script>
</body></html>""",
        encoding="utf-8",
    )
    missing = tmp_path / "no_such_page.html"
    targets = [
        str(GALLERY / "cf7_mail_sent" / "index.html"),
        str(GALLERY / "no_form_phone_only_contact_page" / "index.html"),
        str(GALLERY / "captcha_recaptcha_v2" / "index.html"),
        str(trap),
        str(missing),
    ]
    gallery.reset()
    rows = _inspect(engine, targets, fast_settings())
    hits = [(h.method, h.path) for h in gallery.hits]
    assert hits == [], f"inspecting local files made network requests: {hits}"

    assert isinstance(rows, list) and len(rows) == len(targets)
    for target, row in zip(targets, rows, strict=True):
        _check_shape(row, target)
    cf7, no_form, captcha, saved, absent = rows
    assert cf7["error"] is None and cf7["contact_form"] == 1
    assert [f["kind"] for f in cf7["forms"]] == ["search", "contact"]
    roles = {f["name"]: f["role"] for f in cf7["forms"][1]["fields"]}
    assert roles["your-email"] == "email" and roles["your-message"] == "message"
    assert roles["your-website"] == "honeypot"
    assert no_form["error"] is None and no_form["contact_form"] is None
    assert captcha["contact_form"] == 0
    assert saved["contact_form"] == 0
    assert {f["name"]: f["role"] for f in saved["forms"][0]["fields"]}["email"] == "email"
    assert absent["error"] and absent["forms"] == [] and absent["contact_form"] is None
