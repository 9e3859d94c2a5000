"""Proof of origin (DKIM + relaxed alignment), offline: keys generated here, served by a stub.

The catalogue's fixture messages are signed in the test with a locally generated RSA key
(dkim.sign); the public key is published in a dict that stands for the DNS. No lookup
leaves the machine: every resolver here is a stub, and the inbox conftest sets
AUDIT_BLOCK_OUTSIDE=1 for any Watcher built without one.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path

import dkim
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from audit.demo.mailserver import MailServer
from audit.store import Store, contact_events, messages
from inbox.origin import (
    DnsTempError,
    TxtLookup,
    aligned,
    caching,
    organizational_domain,
    system_lookup,
    verify_origin,
)
from inbox.watcher import Watcher

EML = Path(__file__).parent / "eml"
SIGNED_HEADERS = [b"from", b"to", b"subject", b"date", b"message-id"]


@dataclass(frozen=True)
class Key:
    private_pem: bytes
    record: bytes  # the TXT record: v=DKIM1; k=rsa; p=...


def _new_key() -> Key:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return Key(pem, b"v=DKIM1; k=rsa; p=" + base64.b64encode(der))


@pytest.fixture(scope="module")
def key() -> Key:
    return _new_key()


def sign(raw: bytes, key: Key, domain: str, selector: str = "s2026") -> bytes:
    return (
        dkim.sign(
            raw, selector.encode(), domain.encode(), key.private_pem, include_headers=SIGNED_HEADERS
        )
        + raw
    )


def zone(records: dict[str, bytes]) -> tuple[TxtLookup, list[str]]:
    """A stub DNS: the records given, NXDOMAIN for the rest; and the names asked."""
    asked: list[str] = []

    def lookup(name: str) -> bytes | None:
        asked.append(name)
        return records.get(name)

    return lookup, asked


def dns_down(name: str) -> bytes | None:
    raise DnsTempError("SERVFAIL (stub)")


COMPANY = (EML / "html_only_human_quoting_ref.eml").read_bytes()  # From: avi.bd@globex.example
HELPDESK = (EML / "zendesk_agent_reply.eml").read_bytes()  # From: support@acme.zendesk.com


def test_signed_by_the_company_passes_and_is_aligned(key: Key) -> None:
    lookup, asked = zone({"s2026._domainkey.mail.globex.example": key.record})
    o = verify_origin(sign(COMPANY, key, "mail.globex.example"), "globex.example", lookup)
    assert (o.verdict, o.domain, o.aligned) == ("pass", "mail.globex.example", True)
    assert asked == ["s2026._domainkey.mail.globex.example"]
    # the DNS answer used is kept with the evidence
    ev = json.loads(o.evidence_json())
    assert ev["dns"] == {"s2026._domainkey.mail.globex.example": key.record.decode()}
    assert ev["signatures"][0]["result"] == "pass"


def test_tampered_body_or_header_fails(key: Key) -> None:
    lookup, _ = zone({"s2026._domainkey.globex.example": key.record})
    signed = sign(COMPANY, key, "globex.example")
    body = verify_origin(signed + b"P.S. a line added on the way.\r\n", None, lookup)
    assert body.verdict == "fail" and "body hash mismatch" in body.reason
    head, sep, rest = signed.partition(b"\nSubject: ")
    header = verify_origin(head + sep + b"FW: " + rest, "globex.example", lookup)
    assert header.verdict == "fail" and header.domain == "globex.example"
    assert "does not verify" in header.reason


def test_unsigned_is_none_and_asks_no_dns() -> None:
    lookup, asked = zone({})
    o = verify_origin(COMPANY, "globex.example", lookup)
    assert (o.verdict, o.domain, o.aligned, asked) == ("none", None, None, [])


def test_dns_failure_is_temperror_and_says_why(key: Key) -> None:
    o = verify_origin(sign(COMPANY, key, "globex.example"), "globex.example", dns_down)
    assert (o.verdict, o.domain) == ("temperror", "globex.example")
    assert "SERVFAIL (stub)" in o.reason
    assert o.dns == {"s2026._domainkey.globex.example": {"error": "SERVFAIL (stub)"}}


def test_a_key_not_published_or_from_another_key_fails(key: Key) -> None:
    signed = sign(COMPANY, key, "globex.example")
    o = verify_origin(signed, "globex.example", zone({})[0])
    assert o.verdict == "fail" and "no public key published" in o.reason
    assert o.dns == {"s2026._domainkey.globex.example": None}
    rotated = zone({"s2026._domainkey.globex.example": _new_key().record})[0]
    assert verify_origin(signed, "globex.example", rotated).verdict == "fail"


def test_a_help_desk_signature_passes_but_is_not_aligned_with_the_company(key: Key) -> None:
    lookup, _ = zone({"s2026._domainkey.zendesk.com": key.record})
    o = verify_origin(sign(HELPDESK, key, "zendesk.com"), "acme.zendesk.com", lookup)
    assert (o.verdict, o.domain, o.aligned) == ("pass", "zendesk.com", True)
    o = verify_origin(sign(HELPDESK, key, "zendesk.com"), "acmebank.example", lookup)
    assert (o.verdict, o.domain, o.aligned) == ("pass", "zendesk.com", False)


def test_the_aligned_passing_signature_is_the_one_reported(key: Key) -> None:
    """Signed by the help desk and by the company (outermost): a broken third-party
    signature does not hide a good aligned one."""
    lookup, _ = zone({"s2026._domainkey.globex.example": key.record})  # no key for "hd"
    twice = sign(sign(COMPANY, key, "zendesk.com", "hd"), key, "globex.example")
    o = verify_origin(twice, "globex.example", lookup)
    assert (o.verdict, o.domain, o.aligned) == ("pass", "globex.example", True)
    assert [s.result for s in o.signatures] == ["pass", "fail"]


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff\xfe garbage",
        b"DKIM-Signature: v=1; a=rsa-sha256; d=x.example; b=\r\nFrom: a@x.example\r\n\r\nhi\r\n",
        b"DKIM-Signature: this is not a tag list\r\nFrom: a@x.example\r\n\r\nhi\r\n",
        b"From: a@x.example\r\nDKIM-Signature: v=1; a=rsa-sha256; d=x.example; s=s; h=from; "
        b"bh=AAAA; b=AAAA\r\n\r\nhi\r\n",
        b"\r\n\r\n\r\n",
    ],
)
def test_broken_input_never_raises(raw: bytes) -> None:
    lookup, _ = zone({"s._domainkey.x.example": b"v=DKIM1; p=not base64!"})
    o = verify_origin(raw, "x.example", lookup)
    assert o.verdict in ("none", "fail", "temperror")
    json.loads(o.evidence_json())
    if b"DKIM-Signature" in raw:
        assert o.verdict == "fail", o


def test_a_verifier_bug_is_temperror_with_the_reason(key: Key) -> None:
    def broken(name: str) -> bytes | None:
        raise RuntimeError("resolver bug")

    o = verify_origin(sign(COMPANY, key, "globex.example"), "globex.example", broken)
    assert o.verdict == "temperror" and "RuntimeError: resolver bug" in o.reason


def test_blocked_outside_means_no_lookup_and_temperror(
    key: Key, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUDIT_BLOCK_OUTSIDE", "1")
    o = verify_origin(sign(COMPANY, key, "globex.example"), "globex.example", system_lookup())
    assert o.verdict == "temperror" and "blocked" in o.reason


def test_caching_asks_each_name_once_but_not_failures() -> None:
    lookup, asked = zone({"a": b"x"})
    cached = caching(lookup)
    assert [cached("a"), cached("a"), cached("b"), cached("b")] == [b"x", b"x", None, None]
    assert asked == ["a", "b"]
    calls: list[str] = []

    def flaky(name: str) -> bytes | None:
        calls.append(name)
        raise DnsTempError("down")

    c2 = caching(flaky)
    for _ in range(2):
        with pytest.raises(DnsTempError):
            c2("a")
    assert calls == ["a", "a"]


@pytest.mark.parametrize(
    ("domain", "org"),
    [
        ("globex.example", "globex.example"),
        ("mail.globex.example", "globex.example"),
        ("eu.mail.acme.com", "acme.com"),
        ("support.acme.co.il", "acme.co.il"),
        ("acme.co.il", "acme.co.il"),
        ("bounce.shop.org.uk", "shop.org.uk"),
        ("Mail.Acme.COM.", "acme.com"),
        ("co.il", "co.il"),
    ],
)
def test_organizational_domain(domain: str, org: str) -> None:
    assert organizational_domain(domain) == org


@pytest.mark.parametrize(
    ("d", "frm", "ok"),
    [
        ("globex.example", "globex.example", True),
        ("mail.globex.example", "support.globex.example", True),
        ("zendesk.com", "globex.example", False),
        ("acme.co.il", "other.co.il", False),
        ("globex.example", None, False),
        (None, "globex.example", False),
    ],
)
def test_relaxed_alignment(d: str | None, frm: str | None, ok: bool) -> None:
    assert aligned(d, frm) is ok


# -- in the watcher, against the real Dovecot -----------------------------------------
@pytest.mark.imap
def test_the_watcher_stores_each_verdict_and_a_verifier_error_never_stops_a_sync(
    mailserver: MailServer, store: Store, tmp_path: Path, key: Key
) -> None:
    def reply(n: int, sender: str = "agent@acmebank.example") -> bytes:
        return (
            f"From: Agent <{sender}>\r\nTo: survey+acme2345@replies.example.com\r\n"
            f"Subject: Re: your question {n}\r\nMessage-ID: <dkim-{n}@acmebank.example>\r\n"
            "Date: Tue, 24 Nov 2026 10:00:00 +0200\r\n\r\n"
            f"Hi Dana, the account costs {n} NIS per month.\r\nRegards,\r\nAgent\r\n"
        ).encode()

    signed = sign(reply(1), key, "acmebank.example")
    tampered = sign(reply(2), key, "acmebank.example").replace(b"costs 2 NIS", b"costs 0 NIS")
    unsigned = reply(3)
    no_dns = sign(reply(4, "agent@dns-down.acmebank.example"), key, "dns-down.acmebank.example")
    explodes = sign(reply(5, "agent@boom.acmebank.example"), key, "boom.acmebank.example")
    for raw in (signed, tampered, unsigned, no_dns, explodes):
        mailserver.deliver(raw, "survey@replies.example.com")
    lookup, asked = zone({"s2026._domainkey.acmebank.example": key.record})

    def stub(name: str) -> bytes | None:
        if name.endswith("dns-down.acmebank.example"):
            raise DnsTempError("timeout (stub)")
        if name.endswith("boom.acmebank.example"):
            raise RuntimeError("verifier exploded")
        return lookup(name)

    w = Watcher(
        store, mailserver.mailbox_config(), tmp_path, password=mailserver.password, dns_lookup=stub
    )
    stats = w.sync_once()
    assert stats.new == 5 and stats.errors == 0, stats
    with store.engine.connect() as c:
        rows = {r.subject: r for r in c.execute(sa.select(messages))}
        n_events = len(c.execute(sa.select(contact_events)).all())
    got = {s[-1]: (r.dkim, r.dkim_domain) for s, r in rows.items()}
    assert got == {
        "1": ("pass", "acmebank.example"),
        "2": ("fail", "acmebank.example"),
        "3": ("none", None),
        "4": ("temperror", "dns-down.acmebank.example"),
        "5": ("temperror", None),
    }
    assert "verifier exploded" in json.loads(rows["Re: your question 5"].dkim_evidence)["reason"]
    ev = json.loads(rows["Re: your question 1"].dkim_evidence)
    assert ev["aligned"] is True and ev["dns"] == {
        "s2026._domainkey.acmebank.example": key.record.decode()
    }
    assert asked.count("s2026._domainkey.acmebank.example") == 1  # once per sync
    assert n_events == 5  # every message recorded and counted, whatever its signature
