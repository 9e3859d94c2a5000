"""Pure parsing, classification and matching over the .eml catalogue (one file per case)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from audit.models import DEFAULT_BODY, DEFAULT_SUBJECT, MatchMethod, MessageKind
from audit.tokens import reference_code
from inbox.classify import classify, own_text
from inbox.match import Candidate, match
from inbox.parse import decode_bytes, decode_header_value, parse_message

EML = Path(__file__).parent / "eml"
SUBMITTED = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
CANDIDATES = [
    Candidate(1, "acme2345", "acme-bank", 1, ("acmebank.example", "acme.zendesk.com"), SUBMITTED),
    Candidate(2, "gbxq6789", "globex", 1, ("globex.example", "globex.freshdesk.com"), SUBMITTED),
    Candidate(3, "ntch2345", "initech", 1, ("initech.example",), SUBMITTED),
]
COMPANY = {c.submission_id: c.company for c in CANDIDATES}
ZENDESK_ACK_ID = "<8F2K3JQ7_6745a1b0c0d1e_4a3f2ff8_sprut@zendesk.com>"
A, T, TH, D = (
    MatchMethod.ADDRESS_TAG,
    MatchMethod.TOKEN,
    MatchMethod.THREAD,
    MatchMethod.SENDER_DOMAIN,
)
H, ACK, B, M = MessageKind.HUMAN, MessageKind.AUTO_ACK, MessageKind.BOUNCE, MessageKind.MARKETING

# file -> (kind, help desk, company, match method); kind None = not asserted
CATALOGUE = {
    "broken_mime_missing_boundary.eml": (H, None, "initech", A),
    "dsn_rfc3464_bounce.eml": (B, None, "initech", A),
    "freshdesk_ack.eml": (ACK, "freshdesk", "globex", A),
    "freshdesk_agent_reply.eml": (H, "freshdesk", "globex", A),
    "german_ack.eml": (ACK, None, "globex", A),
    "hebrew_human_thanks_for_inquiry.eml": (H, None, "initech", A),
    "hebrew_subject_raw8bit_ack.eml": (ACK, None, "globex", A),
    "hebrew_subject_split_encoded_word_ack.eml": (ACK, None, "acme-bank", A),
    "hebrew_subject_utf8_human.eml": (H, None, "acme-bank", D),
    "hebrew_subject_windows1255_ack.eml": (ACK, None, "initech", A),
    "html_only_human_quoting_ref.eml": (H, None, "globex", T),
    "hubspot_agent_reply.eml": (H, "hubspot", "globex", A),
    "human_gmail_quoting_ref.eml": (H, None, "acme-bank", T),
    "human_reply_thread_only.eml": (H, None, "acme-bank", TH),
    "iso_8859_8_i_visual_hebrew.eml": (H, None, "acme-bank", A),
    "newsletter_list_unsubscribe.eml": (M, None, "acme-bank", A),
    "newsletter_sender_domain_only.eml": (M, None, "initech", D),
    "no_date_header.eml": (H, None, "acme-bank", A),
    "null_sender_bounce_plain.eml": (B, None, "globex", T),
    "osticket_ack.eml": (ACK, "osticket", "initech", A),
    "out_of_office_exchange.eml": (ACK, None, "acme-bank", A),
    "plain_autoresponder_no_headers.eml": (ACK, None, "initech", A),
    "rfc3834_auto_reply.eml": (ACK, None, "globex", A),
    "salesforce_case_ack_tag_dropped.eml": (ACK, "salesforce", "initech", T),
    "servicenow_ack.eml": (ACK, "servicenow", "initech", A),
    "unknown_charset.eml": (H, None, "acme-bank", A),
    "unrelated_spam_no_token.eml": (None, None, None, None),
    "zendesk_agent_reply.eml": (H, "zendesk", "acme-bank", A),
    "zendesk_agent_reply_hebrew.eml": (H, "zendesk", "acme-bank", A),
    "zendesk_auto_ack.eml": (ACK, "zendesk", "acme-bank", A),
    "zoho_desk_ack.eml": (ACK, "zoho", "globex", A),
}


def _thread(ids: list[str]) -> int | None:
    return 1 if ZENDESK_ACK_ID in ids else None


def test_catalogue_is_complete() -> None:
    assert {p.name for p in EML.glob("*.eml")} == set(CATALOGUE)


def _sent(token: str) -> tuple[str, ...]:
    """What the default survey message sent to a company (the values of its submission)."""
    ref = reference_code(token)
    body = DEFAULT_BODY.replace("{{ persona.name }}", "Dana Cohen").replace(
        "{{ persona.phone }}", "050-555-0134"
    )
    return (
        body.replace("{{ ref }}", ref),
        DEFAULT_SUBJECT.replace("{{ ref }}", ref),
        "Dana Cohen",
        "050-555-0134",
        f"survey+{token}@replies.example.com",
    )


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_classify(name: str) -> None:
    """Classified as the watcher does it: with the match, what was sent and the thread."""
    kind, helpdesk, _company, _method = CATALOGUE[name]
    msg = parse_message((EML / name).read_bytes())
    m = match(msg, CANDIDATES, _thread, at=datetime(2026, 12, 1, tzinfo=UTC))
    token = next((c.token for c in CANDIDATES if m and c.submission_id == m.submission_id), None)
    thread = ["auto_ack"] if ZENDESK_ACK_ID in [msg.in_reply_to, *msg.references] else []
    got = classify(msg, m, sent=_sent(token) if token else (), thread=thread)
    if kind is not None:
        assert got.kind == kind, got.reasons
        assert not got.doubt, got.reasons
    else:
        assert got.kind is not MessageKind.HUMAN  # unmatched: never a company's answer
    assert got.helpdesk == helpdesk
    assert got.reasons


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_match(name: str) -> None:
    _kind, _helpdesk, company, method = CATALOGUE[name]
    msg = parse_message((EML / name).read_bytes())
    got = match(msg, CANDIDATES, _thread, at=datetime(2026, 12, 1, tzinfo=UTC))
    if company is None:
        assert got is None
    else:
        assert got is not None and COMPANY[got.submission_id] == company
        assert got.method == method, got.detail


@pytest.mark.parametrize(
    "name, subject",
    [
        ("hebrew_subject_utf8_human.eml", "תשובה לפנייתך"),
        ("hebrew_subject_windows1255_ack.eml", "קיבלנו את פנייתך"),
        ("hebrew_subject_raw8bit_ack.eml", "פנייתך התקבלה - מספר פנייה 8812"),
        ("hebrew_subject_split_encoded_word_ack.eml", "Re: קיבלנו את פנייתך"),
        ("iso_8859_8_i_visual_hebrew.eml", "תשובה"),
        ("zendesk_agent_reply_hebrew.eml", "[בנק אקמה] Re: שאלה"),
        ("unknown_charset.eml", "Re: your question"),
    ],
)
def test_hebrew_and_odd_charset_subjects(name: str, subject: str) -> None:
    msg = parse_message((EML / name).read_bytes())
    assert msg.subject == subject
    assert "\ufffd" not in msg.subject


def test_bodies_in_hebrew_charsets_decode() -> None:
    assert (
        "פנייתך התקבלה"
        in parse_message((EML / "hebrew_subject_windows1255_ack.eml").read_bytes()).text
    )
    eli = parse_message((EML / "hebrew_human_thanks_for_inquiry.eml").read_bytes())
    assert eli.sender_name and "\ufffd" not in eli.sender_name
    assert "ביטוח רכב" in eli.text
    assert "החשבון עולה" in parse_message((EML / "unknown_charset.eml").read_bytes()).text


def test_missing_date_is_none_not_an_error() -> None:
    msg = parse_message((EML / "no_date_header.eml").read_bytes())
    assert msg.date is None and msg.parse_error is None
    assert msg.message_id == "<nodate.1@acmebank.example>"


def test_broken_mime_keeps_text_and_records_why() -> None:
    msg = parse_message((EML / "broken_mime_missing_boundary.eml").read_bytes())
    assert "2,400 NIS" in msg.text
    assert msg.parse_error and "Boundary" in msg.parse_error


def test_html_only_becomes_text_without_markup() -> None:
    msg = parse_message((EML / "html_only_human_quoting_ref.eml").read_bytes())
    assert msg.html_only
    assert "89 NIS" in msg.text and "<b>" not in msg.text and "margin" not in msg.text
    assert "CA-GBXQ6789" not in own_text(msg.text)  # the quoted request is not own text


def test_dsn_keeps_the_returned_headers_for_matching() -> None:
    msg = parse_message((EML / "dsn_rfc3464_bounce.eml").read_bytes())
    assert msg.return_path == ""
    assert "CA-NTCH2345" in msg.attached_text
    assert "message/delivery-status" in msg.part_types


def test_fields() -> None:
    msg = parse_message((EML / "zendesk_agent_reply.eml").read_bytes())
    assert msg.message_id == "<8F2K3JQ7_6746e2a8b1c2d_5a3f2ff8_sprut@zendesk.com>"
    assert msg.in_reply_to == ZENDESK_ACK_ID and msg.references == [ZENDESK_ACK_ID]
    assert msg.delivered_to == ["survey+acme2345@replies.example.com"]
    assert msg.sender == "support@acme.zendesk.com" and msg.sender_domain == "acme.zendesk.com"
    assert msg.date == datetime(2026, 11, 24, 10, 12, 40, tzinfo=UTC)
    assert msg.headers["auto-submitted"] == "auto-generated"
    assert "x-zendesk-from-account-id" in msg.headers


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff\xfe garbage without headers",
        b"Subject: =?utf-8?B?!!!notbase64?=\r\nFrom: <<<>>>\r\nDate: yesterday\r\n\r\nx",
        b"Content-Type: multipart/mixed\r\n\r\nno boundary parameter at all",
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n@@@",
        b"Subject: " + b"A" * 100_000 + b"\r\n\r\n" + b"B" * 10,
        b"Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner body",
    ],
)
def test_parse_never_raises(raw: bytes) -> None:
    msg = parse_message(raw)
    assert msg.size == len(raw)
    classify(msg)
    match(msg, CANDIDATES, _thread)


def test_split_encoded_word_inside_a_character() -> None:
    # "ש" is D7 A9 in UTF-8; split between the two encoded words.
    value = "=?UTF-8?B?1w==?= =?UTF-8?B?qQ==?="
    assert decode_header_value(value) == "ש"


def test_decode_bytes_guesses_windows_1255_without_a_charset() -> None:
    assert decode_bytes("שלום עולם".encode("cp1255")) == "שלום עולם"
