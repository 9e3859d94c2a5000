"""Proof of origin: a message's DKIM signatures verified, and aligned with its From domain.

``verify_origin`` takes the raw message, its From domain and a TXT lookup function (the DNS
comes in as an argument, STYLE 7): tests serve keys they generated from a stub, the
watcher passes ``system_lookup()``. Every TXT answer used is kept in the result (keys
rotate: the evidence must say which key a verdict was checked against). It never raises.

Verdicts (RFC 8601 names):

- ``pass``: a signature verifies (one whose domain is aligned with From preferred);
- ``fail``: signatures exist and none verifies (tampered, wrong or missing key, malformed);
- ``none``: no DKIM-Signature header;
- ``temperror``: no signature verifies and a key could not be fetched (DNS timeout,
  SERVFAIL, lookups blocked), or the verifier itself failed: worth checking again.

Alignment is DMARC's relaxed mode: the signing domain (d=) and the From domain share
their organizational domain. Without the Public Suffix List, the organizational domain is
the last two labels, or three under a two-letter country code whose second level is a
registry's (``co.il``, ``org.uk``, ``com.au`` ...): right for the companies a survey lists.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import dkim
from dkim.util import parse_tag_value

from audit.models import BLOCK_OUTSIDE_ENV, DEFAULT_DNS_TIMEOUT_S

log = logging.getLogger(__name__)

# name (e.g. "sel._domainkey.example.com") -> the TXT record's text, None when there is
# none (NXDOMAIN, no TXT); raises DnsTempError when the DNS could not answer.
TxtLookup = Callable[[str], bytes | None]

PASS, FAIL, NONE, TEMPERROR = "pass", "fail", "none", "temperror"
MAX_SIGNATURES = 5  # checked per message; more is abuse, not mail
MIN_KEY_BITS = 1024
_REGISTRY_SECOND_LEVEL = frozenset(
    [
        "ac",
        "co",
        "com",
        "edu",
        "gob",
        "gov",
        "govt",
        "idf",
        "k12",
        "ltd",
        "mil",
        "muni",
        "ne",
        "net",
        "nic",
        "or",
        "org",
        "plc",
        "sch",
    ]
)


class DnsTempError(Exception):
    """The DNS could not answer now (timeout, SERVFAIL, no resolver, lookups blocked)."""


@dataclass(frozen=True)
class SignatureCheck:
    domain: str  # d=
    selector: str  # s=
    result: str  # pass | fail | temperror
    reason: str
    aligned: bool  # d= aligned with the From domain (relaxed)


@dataclass(frozen=True)
class Origin:
    verdict: str  # pass | fail | none | temperror
    domain: str | None  # d= of the signature the verdict is about
    aligned: bool | None  # that signature's alignment with From; None: no signature
    reason: str
    from_domain: str | None = None
    signatures: tuple[SignatureCheck, ...] = ()
    dns: dict[str, Any] = field(default_factory=dict)  # name -> TXT text | None | {"error"}

    def evidence_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)


def organizational_domain(domain: str) -> str:
    """'mail.support.acme.co.il' -> 'acme.co.il'; 'eu.mail.acme.com' -> 'acme.com'."""
    labels = [x for x in domain.lower().strip().strip(".").split(".") if x]
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _REGISTRY_SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def aligned(signing_domain: str | None, from_domain: str | None) -> bool:
    """DMARC relaxed alignment: the same organizational domain."""
    if not signing_domain or not from_domain:
        return False
    return organizational_domain(signing_domain) == organizational_domain(from_domain)


def verify_origin(
    raw: bytes, from_domain: str | None, lookup: TxtLookup, timeout: float = DEFAULT_DNS_TIMEOUT_S
) -> Origin:
    """The DKIM verdict of a raw message. Never raises: a verifier failure is temperror."""
    dns: dict[str, Any] = {}
    try:
        return _verify(raw, from_domain, lookup, timeout, dns)
    except Exception as exc:  # a bug or a message dkimpy chokes on: say so, lose nothing
        log.warning("DKIM verification failed: %s: %s", type(exc).__name__, exc)
        return Origin(
            TEMPERROR, None, None, f"verifier error: {type(exc).__name__}: {exc}", from_domain,
            dns=dns,
        )  # fmt: skip


def _verify(
    raw: bytes, from_domain: str | None, lookup: TxtLookup, timeout: float, dns: dict[str, Any]
) -> Origin:
    try:
        d = dkim.DKIM(raw, logger=_QUIET, minkey=MIN_KEY_BITS, timeout=timeout)
    except dkim.DKIMException as exc:  # headers dkimpy cannot read
        if b"dkim-signature:" in raw[:200_000].lower():
            return Origin(FAIL, None, False, f"unreadable message: {exc}", from_domain, dns=dns)
        return Origin(NONE, None, None, "no DKIM-Signature header", from_domain, dns=dns)
    sig_values = [v for k, v in d.headers if k.lower() == b"dkim-signature"]
    if not sig_values:
        return Origin(NONE, None, None, "no DKIM-Signature header", from_domain, dns=dns)

    failed_lookups: set[str] = set()

    def dnsfunc(name: bytes, timeout: float = timeout) -> bytes | None:
        key = name.decode("ascii", "replace").rstrip(".").lower()
        try:
            answer = lookup(key)
        except DnsTempError as exc:
            dns[key] = {"error": str(exc)}
            failed_lookups.add(key)
            raise dkim.DnsTimeoutError(str(exc)) from None
        dns[key] = None if answer is None else answer.decode("utf-8", "replace")
        return answer

    checks: list[SignatureCheck] = []
    for idx, value in enumerate(sig_values[:MAX_SIGNATURES]):
        tags = _tags(value)
        domain = tags.get("d", "").lower()
        selector = tags.get("s", "")
        key_name = f"{selector}._domainkey.{domain}".lower()
        try:
            ok = bool(d.verify(idx=idx, dnsfunc=dnsfunc))
            reason = "signature verifies" if ok else ""
        except dkim.DKIMException as exc:
            ok, reason = False, str(exc)
        if ok:
            result = PASS
        elif key_name in failed_lookups:
            result = TEMPERROR
            reason = f"key {key_name} not fetched: {dns[key_name]['error']}"
        else:
            result = FAIL
            if not reason:
                if key_name in dns and dns[key_name] is None:
                    reason = f"no public key published at {key_name}"
                elif key_name in dns:
                    reason = "signature does not verify (headers changed, or a bad key record)"
                else:
                    reason = "signature not checked (malformed)"
        checks.append(
            SignatureCheck(domain, selector, result, reason, aligned(domain, from_domain))
        )

    passed = [c for c in checks if c.result == PASS]
    chosen = (
        next((c for c in passed if c.aligned), passed[0])
        if passed
        else next((c for c in checks if c.result == TEMPERROR), checks[0])
    )
    verdict = PASS if passed else (TEMPERROR if chosen.result == TEMPERROR else FAIL)
    return Origin(
        verdict, chosen.domain or None, chosen.aligned, chosen.reason, from_domain, tuple(checks),
        dns,
    )  # fmt: skip


def _tags(value: bytes) -> dict[str, str]:
    try:
        parsed = parse_tag_value(value)
    except Exception:
        return {}
    return {k.decode("ascii", "replace"): v.decode("ascii", "replace") for k, v in parsed.items()}


# dkimpy logs every failed signature at ERROR; the verdict says it already.
_QUIET = logging.getLogger(f"{__name__}.dkimpy")
_QUIET.propagate = False
_QUIET.addHandler(logging.NullHandler())


# -- the real DNS --------------------------------------------------------------------------
def blocked_lookup(name: str) -> bytes | None:
    raise DnsTempError(f"DNS lookups blocked ({BLOCK_OUTSIDE_ENV}=1)")


def system_lookup(timeout: float = DEFAULT_DNS_TIMEOUT_S) -> TxtLookup:
    """TXT lookups through dnspython when it is installed, else dkimpy's own; refused
    when AUDIT_BLOCK_OUTSIDE=1 (tests, CI)."""
    if os.environ.get(BLOCK_OUTSIDE_ENV) == "1":
        return blocked_lookup
    try:
        import dns.exception
        import dns.rdatatype
        import dns.resolver
    except ImportError:  # pragma: no cover - dnspython comes with dkimpy
        return _dkimpy_lookup(timeout)

    def lookup(name: str) -> bytes | None:
        try:
            answer = dns.resolver.resolve(
                name, dns.rdatatype.TXT, lifetime=timeout, raise_on_no_answer=False, search=False
            )
        except dns.resolver.NXDOMAIN:
            return None
        except dns.exception.DNSException as exc:  # timeout, SERVFAIL, no resolver
            raise DnsTempError(f"{type(exc).__name__}: {exc}") from None
        for rrset in answer.response.answer:
            if rrset.rdtype == dns.rdatatype.TXT:
                return b"".join(next(iter(rrset)).strings)
        return None

    return lookup


def _dkimpy_lookup(timeout: float) -> TxtLookup:  # pragma: no cover
    from dkim.dnsplug import get_txt

    def lookup(name: str) -> bytes | None:
        try:
            return get_txt(name.encode(), timeout=timeout)  # type: ignore[no-any-return]
        except dkim.DnsTimeoutError as exc:
            raise DnsTempError(str(exc)) from None

    return lookup


def caching(lookup: TxtLookup) -> TxtLookup:
    """The same lookup, each name asked once (answers and absences; failures are not kept).
    The watcher makes one per sync, so a key is fetched once per sync, not per message."""
    cache: dict[str, bytes | None] = {}

    def cached(name: str) -> bytes | None:
        if name not in cache:
            cache[name] = lookup(name)
        return cache[name]

    return cached


__all__ = [
    "DnsTempError",
    "Origin",
    "SignatureCheck",
    "TxtLookup",
    "aligned",
    "caching",
    "organizational_domain",
    "system_lookup",
    "verify_origin",
]
