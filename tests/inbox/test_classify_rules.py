"""Classifier rules the catalogue shows in bulk, pinned one by one on small messages. Pure."""

from __future__ import annotations

from audit.models import MatchMethod, MessageKind
from inbox.classify import classify, suggestion_in
from inbox.match import Match
from inbox.parse import parse_message

TAG = Match(1, MatchMethod.ADDRESS_TAG, "To")
DOMAIN = Match(1, MatchMethod.SENDER_DOMAIN, "acme.example")
ANSWER = (
    "Hi Dana,\n\nThe basic plan is 29 NIS per month and new customers get the first month for "
    "free. You can open it online in ten minutes, or I can call you tomorrow.\n\n"
    "Best regards,\nMichal Levi"
)


def _msg(body: str, subject: str = "Re: Question", headers: str = "") -> bytes:
    head = (
        "From: Michal Levi <michal@acme.example>\r\nTo: survey+abcd2345@replies.example.com\r\n"
        f"Subject: {subject}\r\nMessage-ID: <m1@acme.example>\r\n{headers}"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    )
    return head.encode() + body.encode()


def test_unmatched_mail_is_never_human_and_keeps_what_it_reads_as() -> None:
    got = classify(parse_message(_msg(ANSWER)), None)
    assert got.kind is MessageKind.UNRELATED and got.suggested is MessageKind.HUMAN
    assert suggestion_in(got.reasons) is MessageKind.HUMAN
    assert classify(parse_message(_msg(ANSWER)), TAG).kind is MessageKind.HUMAN


def test_a_polite_opener_does_not_outweigh_a_signed_specific_answer() -> None:
    body = "Thank you for contacting Acme Bank.\n\n" + ANSWER
    got = classify(parse_message(_msg(body, headers="Auto-Submitted: auto-generated\r\n"
                                                    "X-FD-Email: s@acme.freshdesk.com\r\n")), TAG)  # fmt: skip
    assert got.kind is MessageKind.HUMAN and not got.doubt, got.reasons
    assert got.reasons[0].startswith("human:") and "decided by" in got.reasons[0]


def test_re_acknowledgement_subject_is_not_acknowledgement_evidence() -> None:
    got = classify(parse_message(_msg(ANSWER, subject="Re: Your request has been received")), TAG)
    assert got.kind is MessageKind.HUMAN
    assert not any("acknowledgement subject" in r for r in got.reasons)
    assert any(r.startswith("not counted: the subject answers") for r in got.reasons)


def test_a_reply_after_the_acknowledgement_in_its_thread_counts_for_human() -> None:
    short = "Hi Dana, call me on 03-5551234 and I'll explain. Michal"
    alone = classify(parse_message(_msg(short)), TAG)
    after_ack = classify(parse_message(_msg(short)), TAG, thread=["auto_ack"])
    assert after_ack.human > alone.human
    assert any("thread of an acknowledgement" in r for r in after_ack.reasons)


def test_hebrew_answer_ending_we_will_get_back_to_you_is_human() -> None:
    body = (
        'שלום דנה,\n\nהעלות היא 25 ש"ח לחודש, ובשלושת החודשים הראשונים אין עמלה. '
        "נשמח לתאם שיחה ונחזור אליך\n\nבברכה,\nשירן גולן"
    )
    got = classify(parse_message(_msg(body)), TAG)
    assert got.kind is MessageKind.HUMAN and not got.doubt, got.reasons


def test_an_acknowledgement_with_nothing_else_is_auto_ack() -> None:
    body = "Thank you for your message. We have received your request and will get back to you within 2 business days."
    got = classify(parse_message(_msg(body, subject="We have received your request")), TAG)
    assert got.kind is MessageKind.AUTO_ACK and not got.doubt, got.reasons


def test_too_little_evidence_is_doubt_with_a_suggestion() -> None:
    got = classify(parse_message(_msg("ok")), TAG)
    assert got.doubt and got.suggested is not None
    assert got.reasons[0].startswith("doubt")


def test_a_sender_domain_match_needs_a_clearer_margin_for_human() -> None:
    raw = _msg("Call me tomorrow morning.", headers="X-Mailer: Microsoft Outlook 16.0\r\n")
    by_tag = classify(parse_message(raw), TAG)
    assert by_tag.kind is MessageKind.HUMAN and not by_tag.doubt, by_tag.reasons
    by_domain = classify(parse_message(raw), DOMAIN)
    assert by_domain.doubt and by_domain.suggested is MessageKind.HUMAN
