"""Long texts go in the way a paste arrives, and the page's framework sees them.

``gallery/react_controlled_paste_counter`` is a React-style form written in plain JS: a
controlled <textarea> behind React's value tracker (a value a script writes never reaches
the component's state), a character counter, validation on input and on blur, and a
submit handler that sends the component's state with what the counter and the
validators saw. The probe must paste the message (one ``paste`` event whose clipboard
holds the whole text, no key per character), and the server must receive the whole
message, counted and validated. A field that refuses pastes gets the text typed.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

from audit.models import BrowserSettings, Outcome, ProbeRequest
from probes import fill
from probes.fill import PASTE_OVER_CHARS, pasted
from probes.runner import ProbeSession

GALLERY = Path(__file__).parent / "gallery"
MESSAGE = (
    "Hello,\n\nI am interested in your services and would like to know how I can open an "
    "account, what it costs per month, and whether there is a discount for new customers.\n"
    "Could you please get back to me by e-mail?\n\nThank you,\nDana Cohen\n050-555-0134\n\n"
    "Reference: CA-K7M2Q9XD"
)


def _probe(settings: BrowserSettings, req: ProbeRequest) -> object:
    async def go() -> object:
        async with ProbeSession(settings, block_outside=True) as s:
            return await s.probe(req)

    return asyncio.run(go())


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_which_values_are_pasted() -> None:
    assert not pasted("Dana Cohen") and not pasted("survey+k7m2q9xd@replies.example.com")
    assert pasted("x" * (PASTE_OVER_CHARS + 1)) and not pasted("x" * PASTE_OVER_CHARS)
    assert pasted("two\nlines")


@pytest.mark.browser
@pytest.mark.parametrize("clipboard", [True, False], ids=["clipboard", "scripted-paste"])
def test_pasted_message_reaches_a_react_controlled_textarea_whole(
    tmp_path, site_server, settings, make_request, monkeypatch, clipboard
) -> None:
    """With the browser's own clipboard (headless on Linux): a real Ctrl+V. Without one
    (a visible browser in assist mode): a scripted paste event, then one insertText."""
    monkeypatch.setattr(fill, "own_clipboard", lambda _settings: clipboard)
    site = site_server(GALLERY / "react_controlled_paste_counter")
    site.answer("/api/contact", status=201, json_body={"ok": True, "id": "c_1"})
    req = make_request(site.url("/"))
    req.message = MESSAGE
    res = _probe(settings, req)
    assert res.outcome is Outcome.SUBMITTED, res.reason
    [(path, _headers, body)] = site.posts
    assert path == "/api/contact"
    got = json.loads(body)
    textarea_len = len(MESSAGE.replace("\r\n", "\n"))
    assert got["email"] == "survey+k7m2q9xd@replies.example.com"
    assert got["fullName"] == "Dana Cohen"
    assert _norm(got["message"]) == _norm(MESSAGE)  # the component's state: the whole text
    assert len(got["message"]) == textarea_len
    # the counter, the validation on input and the validation on blur saw all of it
    assert got["counter"] == f"{textarea_len} / 1000"
    assert got["input_checked_length"] == textarea_len
    assert got["blur_checked_length"] == textarea_len
    assert got["message_error"] == ""
    # pasted: one paste event whose clipboard held the whole message, not a key per letter
    assert got["paste_lengths"] == str(textarea_len)
    if clipboard:  # what a real paste fires: one input event, insertFromPaste
        assert got["message_input_types"] == "insertFromPaste"
        assert got["message_input_events"] == 1
    else:  # Input.insertText: one event per line and line break, never one per letter
        assert got["message_input_types"] == "insertText"
        assert got["message_input_events"] <= 2 * MESSAGE.count("\n") + 1


PASTE_REFUSED = """<!doctype html><html><head><meta charset="utf-8"><title>Contact</title></head>
<body><h1>Contact us</h1>
<form method="post" action="/send">
<label for="n">Name</label><input id="n" name="name" required>
<label for="e">Email</label><input id="e" name="email" type="email" required>
<label for="m">Message (please type it, pasting is disabled)</label>
<textarea id="m" name="message" required></textarea>
<button type="submit">Send</button>
</form>
<script>
document.getElementById('m').addEventListener('paste', function (e) { e.preventDefault(); });
</script></body></html>"""


@pytest.mark.browser
def test_a_field_that_refuses_pastes_gets_the_text_typed(
    tmp_path, site_server, settings, make_request
) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "contact.html").write_text(PASTE_REFUSED, encoding="utf-8")
    site = site_server(tmp_path / "site")
    req = make_request(site.url("/contact.html"))
    req.message = MESSAGE
    res = _probe(settings, req)
    assert res.outcome is Outcome.SUBMITTED, res.reason
    [(_path, _headers, body)] = site.posts
    from urllib.parse import parse_qs

    form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
    assert _norm(form["message"]) == _norm(MESSAGE)
