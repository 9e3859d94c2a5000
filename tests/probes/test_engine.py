"""The browser engine end to end: real Chromium against pages served on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from datetime import UTC
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from audit.models import BrowserSettings, Outcome, Overrides, Persona, ProbeRequest
from probes import fill, filling, runner
from probes.inspect import inspect_targets
from probes.runner import ProbeSession

pytestmark = pytest.mark.browser

CONTACT = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Contact</title>
<style>.hp{position:absolute;left:-9999px}</style></head><body>
<form role="search" action="/search"><input name="q" placeholder="Search"><button>Go</button></form>
<h1>Contact us</h1>
<form id="contact" method="post" action="/send">
  <label for="n">Your name *</label><input id="n" name="name" required>
  <label for="e">Email *</label><input id="e" type="email" name="email" required {pattern}>
  <label for="t">Phone</label><input id="t" type="tel" name="phone">
  <div class="hp"><label for="w">Website</label><input id="w" name="website"></div>
  <label for="m">Message *</label><textarea id="m" name="message" required></textarea>
  <label><input type="checkbox" name="privacy" required> I agree to the privacy policy</label>
  <label><input type="checkbox" name="news"> Send me news and special offers</label>
  <button type="submit">Send message</button>
</form></body></html>"""


def contact(pattern: str = "") -> str:
    return CONTACT.replace("{pattern}", pattern)


def write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def run_probe(settings: BrowserSettings, *reqs: ProbeRequest, **kw: bool) -> list:
    async def go() -> list:
        async with ProbeSession(settings, block_outside=True, **kw) as s:
            assert s.browser_version
            return list(await asyncio.gather(*(s.probe(r) for r in reqs)))

    return asyncio.run(go())


def form_of(body: bytes) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}


def test_submits_contact_form_with_evidence(tmp_path, site_server, settings, make_request):
    write(tmp_path / "site", "contact.html", contact())
    site = site_server(tmp_path / "site")
    calls: list[str] = []
    req = make_request(site.url("/contact.html"), calls=calls)
    [res] = run_probe(settings, req)
    assert res.outcome is Outcome.SUBMITTED, res.reason
    assert res.signal == "thank_you_text"
    assert calls == ["before_submit"] and res.clicked
    assert res.submitted_at is not None and res.submitted_at.tzinfo is UTC
    assert len(site.posts) == 1
    path, _, body = site.posts[0]
    sent = form_of(body)
    assert path == "/send"
    assert sent["email"] == "survey+k7m2q9xd@replies.example.com"
    assert sent["message"] == req.message.replace("\n", "\r\n")
    assert sent["name"] == "Dana Cohen" and sent["phone"] == "050-555-0134"
    assert sent["website"] == ""  # honeypot left empty
    assert sent["privacy"] == "on" and "news" not in sent  # consent ticked, opt-in not
    roles = {f.name: f.role for f in res.fields}
    assert roles == {
        "name": "full_name",
        "email": "email",
        "phone": "phone",
        "website": "honeypot",
        "message": "message",
        "privacy": "consent",
        "news": "marketing_opt_in",
    }
    assert res.request and res.request["status"] == 200 and res.request["method"] == "POST"
    assert res.url == site.url("/contact.html")
    kinds = {e.kind: e.path for e in res.evidence}
    assert set(kinds) >= {"screenshot_before", "screenshot_after", "page_html", "request", "values"}
    for rel in kinds.values():
        assert not Path(rel).is_absolute() and (tmp_path / rel).stat().st_size > 0
    request_json = json.loads((tmp_path / kinds["request"]).read_text())
    assert "website=&" in request_json["post_data"]
    assert {"open", "find", "fill", "submit", "verify", "total"} <= set(res.timings)


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", path
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def test_evidence_is_the_filled_form_and_the_visitors_view(
    tmp_path, site_server, settings, make_request
):
    """On a long page (the form below ~8,000 px of text): the 'before' screenshot is the
    filled form itself, the 'after' one the viewport, not two full-page shots of the whole
    page; the page's whole text stays in page.html."""
    filler = "<p>" + "Our branches are open Sunday to Thursday. " * 40 + "</p>"
    write(tmp_path / "site", "contact.html", contact().replace("<h1>", filler * 60 + "<h1>", 1))
    site = site_server(tmp_path / "site")
    [res] = run_probe(settings, make_request(site.url("/contact.html")))
    assert res.outcome is Outcome.SUBMITTED, res.reason
    kinds = {e.kind: tmp_path / e.path for e in res.evidence}
    before_w, before_h = _png_size(kinds["screenshot_before"])
    assert before_w < 1366 and before_h < 900  # the form (inside the body margin), not the page
    assert _png_size(kinds["screenshot_after"]) == (1366, 900)  # the viewport
    assert "Thank you" in kinds["page_html"].read_text(encoding="utf-8")


def test_dry_run_fills_and_sends_nothing(tmp_path, site_server, settings, make_request):
    write(tmp_path / "site", "contact.html", contact())
    site = site_server(tmp_path / "site")
    calls: list[str] = []
    [res] = run_probe(settings, make_request(site.url("/contact.html"), submit=False, calls=calls))
    assert res.outcome is Outcome.FILLED
    assert site.posts == [] and calls == [] and not res.clicked and res.submitted_at is None
    sent = {f.name: f.value_sent for f in res.fields}
    assert sent["email"] == "survey+k7m2q9xd@replies.example.com"
    assert sent["website"] is None


def test_min_fill_seconds_is_kept(tmp_path, site_server, make_request):
    write(tmp_path / "site", "contact.html", contact())
    site = site_server(tmp_path / "site")
    slow = BrowserSettings(min_fill_seconds=2.0, typing_delay_ms=(5, 10), timeout_s=10)
    [res] = run_probe(slow, make_request(site.url("/contact.html"), submit=False))
    assert res.outcome is Outcome.FILLED
    # A floor the tool enforces (a time-trap minimum), not a speed claim: a slower machine
    # can only make the figure larger, so the verdict does not depend on the machine.
    assert res.timings["fill"] >= 2.0


def test_plus_rejected_by_pattern_uses_fallback(tmp_path, site_server, settings, make_request):
    write(tmp_path / "site", "contact.html", contact('pattern="[a-z0-9.]+@.+"'))
    site = site_server(tmp_path / "site")
    [res] = run_probe(settings, make_request(site.url("/contact.html")))
    assert res.outcome is Outcome.SUBMITTED, res.reason
    assert form_of(site.posts[0][2])["email"] == "k7m2q9xd@replies.example.com"


def test_accepts_plus_false_override_uses_fallback(tmp_path, site_server, settings, make_request):
    write(tmp_path / "site", "contact.html", contact())
    site = site_server(tmp_path / "site")
    req = make_request(site.url("/contact.html"), overrides=Overrides(accepts_plus=False))
    [res] = run_probe(settings, req)
    assert form_of(site.posts[0][2])["email"] == "k7m2q9xd@replies.example.com"


@pytest.mark.parametrize(
    ("answer", "outcome", "reason"),
    [
        ({"status": 500}, Outcome.ERROR, "server answered 500"),
        ({"json_body": {"status": "spam", "into": "#f"}}, Outcome.SPAM_BLOCKED, "cf7: spam"),
        ({"json_body": {"status": "mail_sent", "into": "#f"}}, Outcome.SUBMITTED, "cf7: mail_sent"),
        ({"json_body": {"success": False}}, Outcome.VALIDATION_ERROR, "json: success=false"),
    ],
)
def test_server_answers_decide(
    tmp_path, site_server, settings, make_request, answer, outcome, reason
):
    write(tmp_path / "site", "contact.html", contact())
    site = site_server(tmp_path / "site")
    site.answer("/send", **answer)
    [res] = run_probe(settings, make_request(site.url("/contact.html")))
    assert (res.outcome, res.reason) == (outcome, reason)


def test_confirmation_without_request_is_not_submitted(
    tmp_path, site_server, settings, make_request
):
    page = contact().replace(
        "</body>",
        "<script>document.getElementById('contact').addEventListener('submit', e => {"
        "e.preventDefault(); document.body.insertAdjacentHTML('beforeend',"
        "'<p>Thank you, your message has been sent!</p>');});</script></body>",
    )
    write(tmp_path / "site", "contact.html", page)
    site = site_server(tmp_path / "site")
    [res] = run_probe(settings, make_request(site.url("/contact.html")))
    assert res.outcome is Outcome.UNCERTAIN
    assert res.clicked and site.posts == []
    assert "no request left the browser" in res.reason


def test_unreachable_site(settings, make_request):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    [res] = run_probe(settings, make_request(f"http://127.0.0.1:{port}/"))
    assert res.outcome is Outcome.UNREACHABLE
    assert res.reason == f"cannot reach http://127.0.0.1:{port}/: net::ERR_CONNECTION_REFUSED"


def test_hung_page_times_out(make_request):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(5)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(sock.accept()[0])
            except OSError:
                continue

    threading.Thread(target=accept, daemon=True).start()
    quick = BrowserSettings(min_fill_seconds=0, typing_delay_ms=(0, 0), timeout_s=2)
    try:
        [res] = run_probe(quick, make_request(f"http://127.0.0.1:{sock.getsockname()[1]}/"))
    finally:
        stop.set()
        sock.close()
        for c in held:
            c.close()
    assert res.outcome is Outcome.UNREACHABLE and "timed out" in res.reason


def test_captcha_is_reported_not_solved(tmp_path, site_server, settings, make_request):
    page = contact().replace(
        '<button type="submit">',
        '<div class="g-recaptcha" data-sitekey="6Lc_fake"></div><button type="submit">',
    )
    write(tmp_path / "site", "contact.html", page)
    site = site_server(tmp_path / "site")
    calls: list[str] = []
    [res] = run_probe(settings, make_request(site.url("/contact.html"), calls=calls))
    assert (res.outcome, res.reason) == (Outcome.CAPTCHA, "captcha: recaptcha")
    assert site.posts == [] and calls == [] and not res.clicked


def test_captcha_in_another_form_does_not_block(tmp_path, site_server, settings, make_request):
    page = contact().replace(
        "<h1>Contact us</h1>",
        '<form action="/login"><input name="user"><input type="password" name="pw">'
        '<div class="h-captcha" data-sitekey="x"></div><button>Log in</button></form>'
        "<h1>Contact us</h1>",
    )
    write(tmp_path / "site", "contact.html", page)
    site = site_server(tmp_path / "site")
    [res] = run_probe(settings, make_request(site.url("/contact.html")))
    assert res.outcome is Outcome.SUBMITTED, res.reason


def test_required_national_id_fails_without_persona_value(
    tmp_path, site_server, settings, make_request
):
    page = contact().replace(
        '<label for="t">',
        '<label for="tz">מספר ת.ז. *</label><input id="tz" name="tz" required><label for="t">',
    )
    write(tmp_path / "site", "contact.html", page)
    site = site_server(tmp_path / "site")
    [res] = run_probe(settings, make_request(site.url("/contact.html")))
    assert (res.outcome, res.reason) == (Outcome.FAILED, "national_id required")
    assert site.posts == []
    persona = Persona(national_id="000000018")
    [res] = run_probe(settings, make_request(site.url("/contact.html"), persona=persona))
    assert res.outcome is Outcome.SUBMITTED
    assert form_of(site.posts[0][2])["tz"] == "000000018"


def test_required_upload_fails(tmp_path, site_server, settings, make_request):
    page = contact().replace(
        '<button type="submit">', '<input type="file" name="cv" required><button type="submit">'
    )
    write(tmp_path / "site", "contact.html", page)
    site = site_server(tmp_path / "site")
    [res] = run_probe(settings, make_request(site.url("/contact.html")))
    assert (res.outcome, res.reason) == (Outcome.FAILED, "upload required")


def test_invalid_override_selector_is_an_error(tmp_path, site_server, settings, make_request):
    write(tmp_path / "site", "contact.html", contact())
    site = site_server(tmp_path / "site")
    req = make_request(site.url("/contact.html"), overrides=Overrides(form="form[[["))
    [res] = run_probe(settings, req)
    assert (res.outcome, res.reason) == (Outcome.ERROR, "invalid selector 'form[[[' in overrides")


def test_overrides_pick_form_and_values(tmp_path, site_server, settings, make_request):
    write(tmp_path / "site", "contact.html", contact())
    site = site_server(tmp_path / "site")
    ov = Overrides(
        form="#contact",
        fields={"#w": "company", "#t": "phone"},  # a field the heuristics call a honeypot
        values={"phone": "03-1234567", "#n": "D. Cohen", "company": "Acme"},
    )
    [res] = run_probe(settings, make_request(site.url("/contact.html"), overrides=ov))
    assert res.outcome is Outcome.SUBMITTED
    sent = form_of(site.posts[0][2])
    assert (sent["phone"], sent["name"]) == ("03-1234567", "D. Cohen")
    assert {f.name: f.role for f in res.fields}["website"] == "company"


def test_finds_contact_page_through_footer(tmp_path, site_server, settings, make_request):
    write(
        tmp_path / "site",
        "index.html",
        '<html><body><form action="/search"><input name="q"><button>Search</button></form>'
        '<footer><a href="/about.html">About</a> <a href="/he/page-17.html">צור קשר</a></footer>'
        "</body></html>",
    )
    write(tmp_path / "site", "he/page-17.html", contact())
    site = site_server(tmp_path / "site")
    [res] = run_probe(settings, make_request(site.url("/"), homepage=True))
    assert res.outcome is Outcome.SUBMITTED
    assert res.url == site.url("/he/page-17.html")


def test_finds_contact_page_through_sitemap(tmp_path, site_server, settings, make_request):
    write(tmp_path / "site", "index.html", "<html><body><p>Welcome</p></body></html>")
    write(tmp_path / "site", "pages/get-in-touch-form.html", contact())
    site = site_server(tmp_path / "site")
    write(tmp_path / "site", "robots.txt", f"User-agent: *\nSitemap: {site.url('/sm.xml')}\n")
    write(
        tmp_path / "site",
        "sm.xml",
        f"<urlset><url><loc>{site.url('/pages/about.html')}</loc></url>"
        f"<url><loc>{site.url('/pages/get-in-touch-form.html')}</loc></url></urlset>",
    )
    [res] = run_probe(settings, make_request(site.url("/"), homepage=True, submit=False))
    assert res.outcome is Outcome.FILLED
    assert res.url == site.url("/pages/get-in-touch-form.html")


def test_no_form_anywhere(tmp_path, site_server, settings, make_request):
    write(tmp_path / "site", "index.html", "<html><body><p>Call us.</p></body></html>")
    site = site_server(tmp_path / "site")
    [res] = run_probe(settings, make_request(site.url("/"), homepage=True))
    assert res.outcome is Outcome.NO_FORM and not res.clicked


def test_concurrent_probes_share_one_browser(tmp_path, site_server, settings, make_request):
    write(tmp_path / "a", "contact.html", contact())
    write(tmp_path / "b", "contact.html", contact())
    a, b = site_server(tmp_path / "a"), site_server(tmp_path / "b")
    r1 = make_request(a.url("/contact.html"))
    r2 = make_request(b.url("/contact.html").replace("127.0.0.1", "localhost"))
    res = run_probe(settings, r1, r2)
    assert [r.outcome for r in res] == [Outcome.SUBMITTED, Outcome.SUBMITTED]
    assert len(a.posts) == 1 and len(b.posts) == 1


def test_inspect_local_file_makes_no_request(tmp_path, site_server, settings):
    site = site_server(tmp_path)
    page = contact().replace(
        "<body>",
        f'<body><img src="{site.url("/pixel.png")}"><script src="{site.url("/x.js")}"></script>',
    )
    local = write(tmp_path / "saved", "page.html", page)
    [out] = asyncio.run(inspect_targets([str(local)], settings))
    assert site.gets == [] and site.posts == []
    assert out == {
        "target": str(local),
        "forms": [
            {
                "index": 0,
                "kind": "search",
                "fields": [{"name": "q", "role": "other"}, {"name": None, "role": "submit"}],
            },
            {
                "index": 1,
                "kind": "contact",
                "fields": [
                    {"name": "name", "role": "full_name"},
                    {"name": "email", "role": "email"},
                    {"name": "phone", "role": "phone"},
                    {"name": "website", "role": "honeypot"},
                    {"name": "message", "role": "message"},
                    {"name": "privacy", "role": "consent"},
                    {"name": "news", "role": "marketing_opt_in"},
                    {"name": None, "role": "submit"},
                ],
            },
        ],
        "contact_form": 1,
        "error": None,
    }


def test_inspect_missing_file_and_url(tmp_path, site_server, settings):
    write(tmp_path / "site", "index.html", "<html><body>nothing</body></html>")
    site = site_server(tmp_path / "site")
    out = asyncio.run(inspect_targets([str(tmp_path / "nope.html"), site.url("/")], settings))
    assert out[0]["error"].startswith("no such file")
    assert out[1] == {"target": site.url("/"), "forms": [], "contact_form": None, "error": None}


SEEN = """<script>
document.getElementById('seen').value =
  'cookie=' + document.cookie + ';storage=' + localStorage.getItem('visited');
document.cookie = 'visited=yes; path=/';
localStorage.setItem('visited', 'yes');
</script>"""


def test_the_next_company_gets_the_spare_context_made_while_filling_and_nothing_of_the_last(
    tmp_path, site_server, settings, make_request
):
    """A company's context and blank page are made while the previous company is being
    filled (Chromium's new renderer process then starts off the next company's clock), and
    they are new: the second visit to a site that set a cookie and local storage on the
    first sees neither. The spare left when the run ends is closed."""
    page = contact().replace(
        '<button type="submit">',
        '<input type="hidden" id="seen" name="seen"><button type="submit">',
    )
    write(tmp_path, "contact.html", page.replace("</body>", SEEN + "</body>"))
    site = site_server(tmp_path)
    reqs = [make_request(site.url("/contact.html")) for _ in range(2)]

    async def go() -> tuple[list, list, list, list]:
        async with ProbeSession(settings, block_outside=True) as s:
            made: list = []  # every context the session made, in order
            used: list = []  # the context each probe got
            new_context, fresh_context = s._new_context, s.fresh_context

            async def counted(browser):
                context, blank = await new_context(browser)
                made.append(context)
                return context, blank

            async def recorded():
                context, blank = await fresh_context()
                used.append(context)
                return context, blank

            s._new_context, s.fresh_context = counted, recorded  # type: ignore[method-assign]
            results = []
            for req in reqs:
                results.append(await s.probe(req))
                assert len(s._spares) == 1  # begun when that company's filling started
                await asyncio.wait_for(asyncio.shield(s._spares[0]), 30)
            await s._drop_spares()
            left = list(s._browser.contexts)
            return results, made, used, left

    results, made, used, left = asyncio.run(go())
    assert [r.outcome for r in results] == [Outcome.SUBMITTED, Outcome.SUBMITTED]
    assert len(made) == 3 and used == made[:2]  # the second company took the first spare
    assert left == []  # both companies' contexts closed after them, the last spare dropped
    seen = [form_of(body)["seen"] for _path, _headers, body in site.posts]
    assert seen == ["cookie=;storage=null", "cookie=;storage=null"]


def test_companies_in_flight_each_get_a_spare_start_one_after_another_and_none_is_made_for_a_company_not_to_come(
    tmp_path, site_server, settings, make_request, monkeypatch
):
    """Two companies at once: the second opens its page only once the first has found its
    form, and each makes a spare context while being filled, so two that end together
    both find one. The session was told four companies come: the last two take the two
    spares and make none (four contexts in all, none left)."""
    monkeypatch.setattr(runner, "START_SPACING_S", 60.0)  # the order, on any machine
    write(tmp_path, "contact.html", contact())
    sites = [site_server(tmp_path), site_server(tmp_path)]
    both_posted = threading.Barrier(2, timeout=60)  # both companies in flight at their fill
    for site in sites:
        site.hold = lambda method, _path: both_posted.wait() if method == "POST" else None
    reqs = [make_request(site.url("/contact.html")) for site in sites * 2]

    async def go() -> tuple[list, list, list, list]:
        async with ProbeSession(settings, block_outside=True) as s:
            s.expect(len(reqs))
            made: list = []  # every context the session made
            events: list[str] = []  # a page opened, a form found, in order
            new_context, fresh_context, prepare = s._new_context, s.fresh_context, s.prepare_spare

            async def counted(browser):
                context, blank = await new_context(browser)
                made.append(context)
                return context, blank

            async def opened():
                events.append("open")
                return await fresh_context()

            def found():
                events.append("found")
                prepare()

            s._new_context, s.fresh_context, s.prepare_spare = counted, opened, found  # type: ignore[method-assign]
            results = list(await asyncio.gather(*(s.probe(r) for r in reqs[:2])))
            assert len(s._spares) == 2  # one per company that was in flight
            await asyncio.wait_for(asyncio.gather(*map(asyncio.shield, s._spares)), 30)
            for site in sites:
                site.hold = None
            results += await asyncio.gather(*(s.probe(r) for r in reqs[2:]))
            spares_left = list(s._spares)
            return results, made, events, spares_left + list(s._browser.contexts)

    results, made, events, left = asyncio.run(go())
    assert [r.outcome for r in results] == [Outcome.SUBMITTED] * 4
    assert events[:4] == ["open", "found", "open", "found"]  # the second waited its turn
    assert len(made) == 4  # two for the first pair, two spares for the second, no more
    assert left == []


def test_a_company_whose_page_hangs_holds_the_next_one_back_for_start_spacing_only(
    tmp_path, site_server, make_request, monkeypatch
):
    """The turn is not a lock: a company whose page does not arrive keeps the next one
    waiting START_SPACING_S, not until its page times out. The first site here answers
    only once the second company is done; the second is done well within the first's
    page timeout, so both are submitted."""
    monkeypatch.setattr(runner, "START_SPACING_S", 0.2)
    write(tmp_path, "contact.html", contact())
    slow, quick = site_server(tmp_path), site_server(tmp_path)
    second_done = threading.Event()
    slow.hold = lambda method, _path: second_done.wait(300) if method == "GET" else None
    # (were the turn a lock, the second would wait for the first's page, which would time
    # out after 60 s: the first 'unreachable')
    patient = BrowserSettings(min_fill_seconds=0, typing_delay_ms=(0, 0), timeout_s=60)

    async def go() -> list:
        async with ProbeSession(patient, block_outside=True) as s:

            async def second():
                await asyncio.sleep(0)  # the slow company begins first
                try:
                    return await s.probe(make_request(quick.url("/contact.html")))
                finally:
                    second_done.set()

            return list(
                await asyncio.gather(s.probe(make_request(slow.url("/contact.html"))), second())
            )

    first, second = asyncio.run(go())
    assert second.outcome is Outcome.SUBMITTED
    assert first.outcome is Outcome.SUBMITTED  # its page arrived after the second was done
    assert len(slow.posts) == 1 and len(quick.posts) == 1


def test_a_pause_separates_two_fields_and_the_last_one_is_taken_while_the_page_is_looked_at(
    tmp_path, site_server, settings, make_request, monkeypatch
):
    """A person's pause comes between two fields (none before the first), and the one
    after the last field is taken while the page is looked at again for new fields, not
    after that look. The real pause, typing and analysis run; they are only watched."""
    write(tmp_path / "site", "contact.html", contact())
    site = site_server(tmp_path / "site")
    events: list[str] = []

    def watch(module, name, before, after=None):
        real = getattr(module, name)

        async def watched(*args, **kwargs):
            events.append(before)
            try:
                return await real(*args, **kwargs)
            finally:
                if after:
                    events.append(after)

        monkeypatch.setattr(module, name, watched)

    watch(fill, "pause", "pause")
    watch(fill, "type_text", "field")
    watch(fill, "set_checked", "field")
    watch(filling, "reanalyze", "look", "looked")
    [res] = run_probe(settings, make_request(site.url("/contact.html"), submit=False))
    assert res.outcome is Outcome.FILLED, res.reason
    first_look = events.index("look")
    fields = events[:first_look]
    # name, e-mail, phone, message, the two checkboxes
    assert fields.count("field") == 6
    assert fields == ["field", "pause"] * 5 + ["field"]
    assert events[first_look : first_look + 3] == ["look", "pause", "looked"]
    assert "field" not in events[first_look:]
