from __future__ import annotations

import pytest

from reports.quality import own_text, reply_signals

HUMAN = (
    "Dear Dana,\n\nThank you for your message. You can open an account online or in any branch; "
    "the monthly fee is 9.90 and new customers pay nothing for the first three months. "
    "Please call me if you have any question.\n\nBest regards,\nYael\n\n"
    "On Sun, 15 Nov 2026 at 09:00, Dana Cohen wrote:\n> Hello, I am interested in your services\n"
)


@pytest.mark.parametrize(
    ("text", "first_name", "words", "greets", "quotes"),
    [
        (HUMAN, "Dana", 44, True, True),  # 44 own words; the quoted history is not counted
        ("שלום דנה,\n\nתודה על פנייתך.\n\nבברכה,\nמיכל", "דנה", 7, True, False),
        ("Hello,\n\nWe received your request.\n", "Dana", 5, False, False),
        ("> Hello, I am interested\n> in your services\n", "Dana", 0, False, True),
        ("", "Dana", 0, False, False),
        (None, None, 0, False, False),
    ],
)
def test_reply_signals(
    text: str | None, first_name: str | None, words: int, greets: bool, quotes: bool
) -> None:
    s = reply_signals(text, first_name)
    assert (s.words, s.greets_by_name, s.quotes_inquiry) == (words, greets, quotes)


def test_own_text_drops_quoted_history() -> None:
    assert "interested" not in own_text(HUMAN) and "Dear Dana" in own_text(HUMAN)
