"""The company's own words (inbox/ownwords.py) and the phrase files (inbox/phrases). Pure."""

from __future__ import annotations

import pytest

from inbox.ownwords import Echo, own_words
from inbox.phrases import CATEGORIES, PhraseError, parse_phrase_file, phrases

SENT_HE = (
    "שלום,\n\nאני מתעניינת בשירותים שלכם ואשמח לדעת איך אפשר לפתוח חשבון, כמה זה עולה בחודש\n"
    "והאם יש הנחה ללקוחות חדשים.\nאשמח אם תחזרו אליי במייל.\n\nתודה,\nדנה כהן\n050-555-0134",
    "דנה כהן",
    "050-555-0134",
    "survey+abcd2345@replies.example.com",
)
SENT_EN = (
    "Hello,\n\nI am interested in your services and would like to know how I can open an "
    "account,\nwhat it costs per month, and whether there is a discount for new customers.\n"
    "Could you please get back to me by e-mail?\n\nThank you,\nDana Cohen\n050-555-0134",
    "Dana Cohen",
)


def test_a_hebrew_autoresponder_echoing_the_inquiry_unquoted_keeps_only_its_own_lines() -> None:
    text = (
        "שלום דנה כהן,\n\nההודעה שלך התקבלה. נציג ייצור איתך קשר בהקדם.\n\n"
        "שם: דנה כהן\nטלפון: 050-555-0134\nתוכן ההודעה: שלום,\n"
        "אני מתעניינת בשירותים שלכם ואשמח לדעת איך אפשר לפתוח חשבון, כמה זה עולה בחודש\n"
        "והאם יש הנחה ללקוחות חדשים.\nאשמח אם תחזרו אליי במייל."
    )
    own = own_words(text, SENT_HE)
    assert "מתעניינת" not in own.text and "050" not in own.text
    assert "ההודעה שלך התקבלה" in own.text
    assert len(own.echoed) == 6


def test_an_echo_re_wrapped_into_one_paragraph_is_still_an_echo() -> None:
    flat = " ".join(SENT_EN[0].split())
    own = own_words(f"Thanks, we got it.\n\nYour message:\n{flat}", SENT_EN)
    assert own.text == "Thanks, we got it."
    assert len(own.echoed) == 2  # the label and the message


def test_an_answer_that_reuses_our_words_is_not_an_echo() -> None:
    line = "The monthly fee for a new account is 12 NIS, and new customers get a discount."
    assert not Echo(SENT_EN).echoes(line)
    assert own_words(line, SENT_EN).text == line


def test_quoted_history_in_any_language_is_dropped() -> None:
    for header in (
        "On Fri, 20 Nov 2026 at 11:02, Dana Cohen <x@y.example> wrote:",
        "Am 20.11.2026 um 11:02 schrieb Dana Cohen <x@y.example>:",
        "Le 20 nov. 2026 à 11:02, Dana Cohen <x@y.example> a écrit :",
        "20 ноября 2026 г., Дана Коэн <x@y.example> написал(а):",
        "ב-20 בנוב׳ 2026, מאת דנה כהן <x@y.example>:",
        "-----Original Message-----",
    ):
        own = own_words(f"Yes, 12 NIS a month.\n\n{header}\n\nour question\nmore", ())
        assert own.text == "Yes, 12 NIS a month.", header
        assert own.quoted == 4  # the header and what follows it


def test_an_outlook_header_block_starts_the_history_but_one_from_line_does_not() -> None:
    block = "________________________________\nFrom: Dana\nSent: Friday\nTo: info\n\nold"
    assert own_words(f"Answer here.\n\n{block}", ()).text == "Answer here."
    assert "From: our Tel Aviv branch" in own_words("From: our Tel Aviv branch, call us.", ()).text


def test_signature_disclaimer_and_helpdesk_boilerplate_are_removed() -> None:
    text = (
        "##- Please type your reply above this line -##\n\nYour request (#4821) has been "
        "updated. To add additional comments, reply to this email.\n\nMichal Levi (Acme)\n\n"
        "Nov 24, 2026, 12:12 GMT+2\n\nYou can open it online.\n\nBest regards,\nMichal Levi\n"
        "Customer Relations\n\nCONFIDENTIALITY NOTICE: This e-mail is confidential.\nDelete it."
    )
    own = own_words(text, ())
    assert own.text == "You can open it online."
    assert own.signer == "Michal Levi"
    assert own.boilerplate and own.signature


def test_thanks_comma_sentence_is_not_a_signoff() -> None:
    own = own_words("Спасибо, что обратились в Облако24.\n\nСчёт стоит 149 ₽ в месяц.", ())
    assert "149" in own.text and own.signer is None
    assert own_words("Sure, 12 NIS.\nThanks, Noa", ()).signer == "Noa"


def test_every_phrase_file_loads_in_six_languages() -> None:
    book = phrases()
    assert {"en", "he", "ar", "ru", "fr", "de"} <= set(book.languages)
    for lang in ("en", "he", "ar", "ru", "fr", "de"):
        cats = {p.category for ps in book.by_category.values() for p in ps if p.language == lang}
        assert {"received", "promise", "ooo", "answer", "signoff", "quote_header"} <= cats, lang


@pytest.mark.parametrize(
    "text, message",
    [
        ("language: xx\nnonsense: ['a']\n", "unknown category 'nonsense'"),
        ("language: xx\nreceived: ['(']\n", "received"),
        ("language: xx\nreceived: 3\n", "expected a list"),
        ("- a list\n", "expected a mapping"),
    ],
)
def test_a_bad_phrase_file_names_the_file_and_key(text: str, message: str) -> None:
    with pytest.raises(PhraseError, match="xx.yaml|bad.yaml") as err:
        parse_phrase_file("bad.yaml", text)
    assert message in str(err.value)
    assert set(CATEGORIES) >= {"received", "promise"}
