"""Whether a paste put our text in the field (probes.fill.paste_arrived, pure).

Found by the chaos drill (issue 13): workers sharing one browser server share its
clipboard, so another worker's copy can land between ours and the Ctrl+V; the field then
holds another company's text (read-back refused to send it: `failed`). paste_text now
sees it at once and enters the text without the clipboard.
"""

from __future__ import annotations

import pytest

from probes.fill import paste_arrived

MESSAGE = "Hello,\nhow do I open an account?\nReference: CA-K7M2Q9XD"


@pytest.mark.parametrize(
    ("value", "maxlength", "arrived"),
    [
        (MESSAGE, -1, True),
        (MESSAGE.replace("\n", "\r\n"), -1, True),
        (MESSAGE[:20], 20, True),  # cut at the field's maxlength
        (MESSAGE[:20], -1, False),
        (MESSAGE.replace("K7M2Q9XD", "8FHNHB75"), -1, False),  # another company's message
        ("Question about your services (ref CA-K7M2Q9XD)", -1, False),  # another field's
        ("", -1, False),  # refused
        (None, -1, True),  # contenteditable: not checked here
    ],
)
def test_paste_arrived(value: str | None, maxlength: int, arrived: bool) -> None:
    assert paste_arrived(value, maxlength, MESSAGE) is arrived
