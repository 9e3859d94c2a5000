"""The e-mail channel: an inquiry sent by SMTP to a company's published address.

Same lifecycle as a web form (audit.lifecycle): the "submit click" is the SMTP DATA
command. The caller stores the Message-ID before anything is sent and writes the click
(``before_data``) before DATA, so a crash between the server's accept and our record
leaves the submission ``uncertain``, never sent again.

What the server answers decides the outcome:

- before DATA (connect, TLS, login, MAIL FROM, RCPT TO): a 5xx is a definite refusal
  (``failed``, nothing sent); a 4xx or a connection that fails is temporary
  (``retry_later``: planned again for the next run);
- the answer to DATA: 2xx is the accept (``submitted``; the instant is the submit time),
  5xx the server's definite refusal (``rejected``: failed), anything else (4xx, a dropped
  connection, a timeout) ``uncertain``: the message may have gone.

Evidence: the .eml exactly as sent (``inquiry.eml``) and the server's final answer
(``smtp.json``: code, text, Message-ID, server). Pure building is separate from sending.
"""

from __future__ import annotations

import json
import secrets
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime
from pathlib import Path

from audit.models import Evidence, Outcome, ProbeResult, Smtp

SIGNAL = "smtp-accept"


@dataclass
class MailRequest:
    """Everything one e-mail inquiry needs; side effects come in as arguments."""

    to: str  # the company's published address
    from_addr: str  # the company's unique reply address (carries the token)
    from_name: str  # the persona's name
    subject: str
    body: str
    message_id: str  # generated and stored by the caller before sending
    smtp: Smtp
    password: str | None
    evidence_dir: str  # absolute folder for this submission's files
    workspace: str  # evidence paths are stored relative to this
    now: Callable[[], datetime]
    # Called right before the DATA command: the caller writes the click to the store there.
    before_data: Callable[[], None] = lambda: None
    # Called right after the server accepted the message, before anything is recorded
    # (fault drills stall here).
    after_accept: Callable[[], None] = lambda: None
    extra_headers: dict[str, str] = field(default_factory=dict)


def new_message_id(token: str, domain: str) -> str:
    """``<ca-TOKEN-RANDOM@domain>``: unique, and it names the submission by its token."""
    return f"<ca-{token}-{secrets.token_hex(6)}@{domain}>"


def build_inquiry(req: MailRequest) -> EmailMessage:
    """The message, as it will be sent (pure)."""
    msg = EmailMessage(policy=SMTP_POLICY)
    local, _, domain = req.from_addr.rpartition("@")
    msg["From"] = Address(display_name=req.from_name, username=local, domain=domain)
    msg["To"] = req.to
    msg["Subject"] = req.subject
    msg["Date"] = format_datetime(req.now().astimezone(UTC))
    msg["Message-ID"] = req.message_id
    for key, value in req.extra_headers.items():
        msg[key] = value
    msg.set_content(req.body)
    return msg


def _context(smtp: Smtp) -> ssl.SSLContext:
    return (
        ssl.create_default_context(cafile=smtp.ca_file)
        if smtp.ca_file
        else (ssl.create_default_context())
    )


def connect(smtp: Smtp, password: str | None) -> smtplib.SMTP:
    """A logged-in SMTP client (ssl, starttls, or plain on loopback). Raises smtplib or
    OS errors; the caller maps them."""
    client: smtplib.SMTP
    if smtp.tls == "ssl":
        client = smtplib.SMTP_SSL(
            smtp.host, smtp.resolved_port, timeout=smtp.timeout_s, context=_context(smtp)
        )
    else:
        client = smtplib.SMTP(smtp.host, smtp.resolved_port, timeout=smtp.timeout_s)
    try:
        client.ehlo()
        if smtp.tls == "starttls":
            client.starttls(context=_context(smtp))
            client.ehlo()
        if password is not None:
            client.login(smtp.user, password)
    except BaseException:
        client.close()
        raise
    return client


def check_login(smtp: Smtp, password: str) -> str:
    """`audit check`: log in and out; what the server said, or an error."""
    client = connect(smtp, password)
    try:
        code, _ = client.noop()
    finally:
        _quit(client)
    return f"{smtp.user}@{smtp.host}:{smtp.resolved_port} ({smtp.tls}): login ok, NOOP {code}"


def _quit(client: smtplib.SMTP) -> None:
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


def _answer(code: int, text: bytes | str) -> str:
    s = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(s.split())}"[:300]


def send_inquiry(req: MailRequest) -> ProbeResult:
    """Send one inquiry; the outcome, never an exception for the server's doing."""
    folder = Path(req.evidence_dir)
    folder.mkdir(parents=True, exist_ok=True)
    msg = build_inquiry(req)
    raw = msg.as_bytes()
    eml = folder / "inquiry.eml"
    eml.write_bytes(raw)
    evidence = [Evidence("eml_sent", _rel(eml, req.workspace))]
    request: dict[str, object] = {"channel": "email", "to": req.to, "from": req.from_addr}
    request["message_id"] = req.message_id
    request["server"] = f"{req.smtp.host}:{req.smtp.resolved_port}"

    def result(outcome: Outcome, reason: str, **kw: object) -> ProbeResult:
        res = ProbeResult(
            outcome=outcome,
            reason=reason,
            url=f"mailto:{req.to}",
            evidence=evidence,
            request=request,
            **kw,  # type: ignore[arg-type]
        )
        (folder / "smtp.json").write_text(json.dumps(request, ensure_ascii=False, indent=1))
        evidence.append(Evidence("smtp_answer", _rel(folder / "smtp.json", req.workspace)))
        return res

    # -- before DATA: nothing has left us ---------------------------------------------
    try:
        client = connect(req.smtp, req.password)
    except smtplib.SMTPResponseException as exc:
        request["answer"] = _answer(exc.smtp_code, exc.smtp_error)
        if 500 <= exc.smtp_code < 600:
            return result(Outcome.FAILED, f"SMTP login or greeting refused: {request['answer']}")
        return result(Outcome.ERROR, f"SMTP: {request['answer']}", retry_later=True)
    except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
        why = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        return result(Outcome.UNREACHABLE, f"SMTP server not reached: {why}", retry_later=True)
    clicked = False
    try:
        code, text = client.mail(req.from_addr)
        if code == 250:
            code, text = client.rcpt(req.to)
        if code not in (250, 251):
            request["answer"] = _answer(code, text)
            if 500 <= code < 600:
                return result(Outcome.REJECTED, f"SMTP refused before DATA: {request['answer']}")
            return result(Outcome.ERROR, f"SMTP: {request['answer']}", retry_later=True)
        # -- the click: written to the store before DATA ---------------------------------
        req.before_data()
        clicked = True
        code, text = client.data(raw)
        accepted_at = req.now()
        request["answer"] = _answer(code, text)
        request["code"] = code
        if 200 <= code < 300:
            req.after_accept()
            request["accepted_at"] = accepted_at.isoformat()
            return result(
                Outcome.SUBMITTED,
                f"accepted by {request['server']}: {request['answer']}",
                signal=SIGNAL,
                submitted_at=accepted_at,
                clicked=True,
            )
        if 500 <= code < 600:
            return result(
                Outcome.REJECTED, f"SMTP refused the message: {request['answer']}", clicked=True
            )
        return result(Outcome.UNCERTAIN, f"SMTP answered {request['answer']} to DATA", clicked=True)
    except smtplib.SMTPResponseException as exc:
        request["answer"] = _answer(exc.smtp_code, exc.smtp_error)
        if not clicked and 500 <= exc.smtp_code < 600:
            return result(Outcome.REJECTED, f"SMTP refused before DATA: {request['answer']}")
        if not clicked:
            return result(Outcome.ERROR, f"SMTP: {request['answer']}", retry_later=True)
        return result(Outcome.UNCERTAIN, f"SMTP: {request['answer']} during DATA", clicked=True)
    except (TimeoutError, smtplib.SMTPException, OSError) as exc:
        why = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        if not clicked:
            return result(Outcome.ERROR, f"SMTP connection lost: {why}", retry_later=True)
        return result(Outcome.UNCERTAIN, f"SMTP connection lost during DATA: {why}", clicked=True)
    finally:
        _quit(client)


def _rel(path: Path, workspace: str) -> str:
    try:
        return str(path.resolve().relative_to(Path(workspace).resolve()))
    except ValueError:
        return str(path)
