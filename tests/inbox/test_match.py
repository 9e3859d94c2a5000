"""Matching rules that the catalogue does not pin down: order, time, ambiguity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from audit.models import MatchMethod
from inbox.match import Candidate, domain_matches, match
from inbox.parse import parse_message

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _msg(headers: str, body: str = "hello") -> bytes:
    return (headers.strip() + "\r\n\r\n" + body).encode()


def test_address_tag_beats_a_different_reference_code() -> None:
    cands = [
        Candidate(1, "acme2345", "acme", 1, ("acme.example",), T0),
        Candidate(2, "gbxq6789", "globex", 1, ("globex.example",), T0),
    ]
    msg = parse_message(
        _msg("Delivered-To: survey+gbxq6789@r.example\r\nFrom: x@acme.example", "CA-ACME2345")
    )
    got = match(msg, cands)
    assert got is not None and got.submission_id == 2 and got.method is MatchMethod.ADDRESS_TAG


def test_unknown_token_is_ignored_and_falls_through() -> None:
    cands = [Candidate(1, "acme2345", "acme", 1, ("acme.example",), T0)]
    msg = parse_message(_msg("To: survey+zzzz2345@r.example\r\nFrom: a@acme.example"))
    got = match(msg, cands, at=T0 + timedelta(days=1))
    assert got is not None and got.method is MatchMethod.SENDER_DOMAIN


def test_sender_domain_only_for_submissions_before_the_message() -> None:
    cands = [Candidate(1, "acme2345", "acme", 1, ("acme.example",), T0)]
    msg = parse_message(_msg("From: a@mail.acme.example"))
    assert match(msg, cands, at=T0 - timedelta(minutes=1)) is None
    got = match(msg, cands, at=T0 + timedelta(minutes=1))
    assert got is not None and got.submission_id == 1


def test_sender_domain_picks_the_latest_wave_of_one_company() -> None:
    cands = [
        Candidate(1, "acme2345", "acme", 1, ("acme.example",), T0),
        Candidate(7, "acme6789", "acme", 2, ("acme.example",), T0 + timedelta(days=90)),
    ]
    msg = parse_message(_msg("From: a@acme.example"))
    assert match(msg, cands, at=T0 + timedelta(days=10)).submission_id == 1  # type: ignore[union-attr]
    assert match(msg, cands, at=T0 + timedelta(days=91)).submission_id == 7  # type: ignore[union-attr]


def test_shared_domain_is_ambiguous_and_goes_to_review() -> None:
    cands = [
        Candidate(1, "acme2345", "acme", 1, ("helpdesk-shared.example",), T0),
        Candidate(2, "gbxq6789", "globex", 1, ("helpdesk-shared.example",), T0),
    ]
    msg = parse_message(_msg("From: support@helpdesk-shared.example"))
    assert match(msg, cands, at=T0 + timedelta(days=1)) is None


def test_lookalike_domains_do_not_match() -> None:
    assert domain_matches("mail.acme.example", "acme.example")
    assert not domain_matches("acme.example.evil.test", "acme.example")
    assert not domain_matches("notacme.example", "acme.example")


def test_thread_lookup_only_for_known_submissions() -> None:
    cands = [Candidate(1, "acme2345", "acme", 1, ("acme.example",), T0)]
    msg = parse_message(_msg("From: x@other.example\r\nIn-Reply-To: <a@b>"))
    assert match(msg, cands, lambda ids: 99) is None
    got = match(msg, cands, lambda ids: 1 if "<a@b>" in ids else None)
    assert got is not None and got.method is MatchMethod.THREAD


def test_reply_address_quoted_in_text_is_a_token_match() -> None:
    cands = [Candidate(3, "ntch2345", "initech", 1, (), T0, "ntch2345@catch.example")]
    msg = parse_message(_msg("From: a@b.example", "you wrote from ntch2345@catch.example"))
    got = match(msg, cands)
    assert got is not None and got.method is MatchMethod.TOKEN


def test_a_reply_to_our_emailed_inquiry_matches_by_thread_alone() -> None:
    """The e-mail channel: a help desk that drops the address tag and the reference code
    still answers In-Reply-To our inquiry's stored Message-ID; our own inquiry (a copy that
    lands in the mailbox) is never taken for a reply."""
    from inbox.match import Candidate, match
    from inbox.parse import parse_message

    ours = "<ca-mail2345-0a1b2c3d4e5f@replies.example.com>"
    cands = [
        Candidate(1, "mail2345", "acme", 1, ("acme.example",), None, sent_message_id=ours),
        Candidate(2, "form6789", "acme", 1, ("acme.example",), None),
    ]
    reply = parse_message(
        b"From: Agent <agent@desk.other.example>\r\nTo: someone@replies.example.com\r\n"
        b"Subject: Re: your question\r\nMessage-ID: <r1@desk.other.example>\r\n"
        b"In-Reply-To: " + ours.encode() + b"\r\n\r\nHello, happy to help.\r\n"
    )
    m = match(reply, cands)
    assert m is not None and (m.submission_id, m.method.value) == (1, "thread")
    copy = parse_message(
        b"From: Dana <survey+mail2345@replies.example.com>\r\nTo: support@acme.example\r\n"
        b"Subject: Question (ref CA-MAIL2345)\r\nMessage-ID: " + ours.encode() + b"\r\n\r\n"
        b"Reference: CA-MAIL2345\r\n"
    )
    assert match(copy, cands) is None
