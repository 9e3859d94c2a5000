"""The demo world's websites: one local HTTP server per simulated company.

Each company has a homepage and a contact page with a form. When a form arrives the
company "answers" as scenario.py says: it writes e-mails and sends them through the
demo's SMTP entry point. Simulated time is explicit: a reply due `delay` after the form
arrived carries the header ``X-Demo-Arrival`` with that instant on the survey's shifted
clock, and the entry point delivers it with that arrival time (IMAP APPEND).
"""

from __future__ import annotations

import html
import logging
import math
import smtplib
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime, make_msgid, parseaddr
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from audit.clock import Clock
from audit.demo.scenario import DemoCompany, Reply
from audit.tokens import tokens_in_address, tokens_in_text

log = logging.getLogger(__name__)

SEND_ATTEMPTS = 5  # a company's mail server retries a temporary failure (4xx) like any MTA


@dataclass
class Received:
    """What a company's server received, on the simulated clock (the demo's truth)."""

    slug: str
    at: datetime  # simulated instant the form arrived
    fields: dict[str, str]
    token: str | None
    reply_to: str | None
    replies: list[dict[str, Any]] = field(default_factory=list)
    message_id: str | None = None  # the e-mail channel: our inquiry's Message-ID


_PAGE = """<!doctype html>
<html lang="{lang}" dir="{dir}"><head><meta charset="utf-8">
<title>{title}</title>
<style>
body{{font-family:"DejaVu Sans","Noto Sans Hebrew",sans-serif;margin:0;color:#222}}
header,footer{{background:{color};color:#fff;padding:12px 24px}}
header a,footer a{{color:#fff;margin:0 8px}} main{{padding:24px;max-width:640px}}
label{{display:block;margin-top:12px}} input,textarea,select{{width:100%;padding:6px;font:inherit}}
button{{margin-top:16px;padding:8px 20px;background:{color};color:#fff;border:0}}
</style></head><body>
<header><strong>{name}</strong> <nav>{nav}</nav></header>
<main>{main}</main>
<footer>{footer}</footer>
</body></html>"""

_COLORS = ["#00539b", "#2e7d32", "#6a1b9a", "#c62828", "#ef6c00", "#00838f", "#4e342e"]

_EN = dict(
    name="Full name",
    email="E-mail",
    phone="Phone",
    subject="Subject",
    message="Your message",
    send="Send",
    contact="Contact us",
    home="Home",
    about="About",
    thanks=("Thank you! Your message has been received and we will get back to you soon."),
    required="Please fill in all required fields.",
    consent="I agree to the privacy policy",
    news="Send me offers and newsletters",
    removed="Our new website is coming soon. Meanwhile, call us on *2800, Sun-Thu 8:00-18:00.",
)
_HE = dict(
    name="שם מלא",
    email='דוא"ל',
    phone="טלפון נייד",
    subject="נושא הפנייה",
    message="תוכן הפנייה",
    send="שליחה",
    contact="צור קשר",
    home="דף הבית",
    about="אודות",
    thanks="תודה! פנייתך התקבלה ותטופל בהקדם.",
    required="נא למלא את כל שדות החובה.",
    consent="קראתי ואני מסכים/ה למדיניות הפרטיות",
    news="אשמח לקבל עדכונים ומבצעים",
    removed="האתר החדש שלנו יעלה בקרוב. בינתיים התקשרו אלינו: 2800*, א'-ה' 8:00-18:00.",
)


def _form(c: DemoCompany, t: dict[str, str]) -> str:
    captcha = ""
    if c.captcha:
        captcha = (
            '<div class="g-recaptcha" data-sitekey="6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI"></div>'
            '<script src="https://www.google.com/recaptcha/api.js" async defer></script>'
        )
    return f"""<h1>{t["contact"]}</h1>
<form id="contact" method="post" action="/contact/send">
<label for="f-name">{t["name"]} *</label><input id="f-name" name="fullname" required autocomplete="name">
<label for="f-email">{t["email"]} *</label><input id="f-email" name="email" type="email" required>
<label for="f-phone">{t["phone"]}</label><input id="f-phone" name="phone" type="tel">
<label for="f-subject">{t["subject"]}</label><input id="f-subject" name="subject">
<label for="f-msg">{t["message"]} *</label><textarea id="f-msg" name="message" rows="6" required></textarea>
<div style="position:absolute;left:-9999px" aria-hidden="true"><label for="f-hp">Website</label>
<input id="f-hp" name="website" tabindex="-1" autocomplete="off"></div>
<label><input type="checkbox" name="privacy" value="yes" required style="width:auto"> {t["consent"]}</label>
<label><input type="checkbox" name="newsletter" value="yes" style="width:auto"> {t["news"]}</label>
{captcha}
<button type="submit">{t["send"]}</button>
</form>"""


def render_page(c: DemoCompany, path: str, index: int) -> str | None:
    t = _HE if c.lang == "he" else _EN
    contact_link = f'<a href="/contact">{t["contact"]}</a>'
    nav = f'<a href="/">{t["home"]}</a><a href="/about">{t["about"]}</a>'
    footer = f"© {c.name}"
    if c.footer_only:
        footer += f" · {contact_link}"
    else:
        nav += contact_link
    if path == "/":
        main = f"<h1>{html.escape(c.name)}</h1><p>Welcome. We are here for you.</p>"
    elif path == "/about":
        main = "<h1>About</h1><p>A simulated company of the contact-audit demo.</p>"
    elif path == "/contact" and c.form_removed:
        main = f"<h1>{t['contact']}</h1><p>{t['removed']}</p>"
    elif path == "/contact":
        main = _form(c, t)
    else:
        return None
    return _PAGE.format(
        lang=c.lang,
        dir="rtl" if c.lang == "he" else "ltr",
        title=html.escape(c.name),
        color=_COLORS[index % len(_COLORS)],
        name=html.escape(c.name),
        nav=nav,
        main=main,
        footer=footer,
    )


class CompanySite:
    """One simulated company's web server on 127.0.0.1 and the replies it sends."""

    def __init__(self, world: DemoWorld, company: DemoCompany, index: int):
        self.world = world
        self.company = company
        self.index = index
        self.received: list[Received] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, fmt: str, *args: Any) -> None:
                log.debug("%s: " + fmt, company.slug, *args)

            def _send(
                self, status: int, body: str, ctype: str = "text/html; charset=utf-8"
            ) -> None:
                data = body.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?")[0]
                if path in ("/robots.txt", "/sitemap.xml", "/favicon.ico"):
                    self._send(404, "not found", "text/plain")
                    return
                page = render_page(site.company, path, index)
                self._send(200, page) if page else self._send(404, "<h1>Not found</h1>")

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace")
                fields = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
                company = site.company  # as it is in this wave
                t = _HE if company.lang == "he" else _EN
                if company.form_removed:
                    self._send(404, "<h1>Not found</h1>")
                    return
                if not all(fields.get(k) for k in ("fullname", "email", "message", "privacy")):
                    page = render_page(company, "/contact", index) or ""
                    err = f'<p class="error" role="alert">{t["required"]}</p>'
                    self._send(422, page.replace("<main>", "<main>" + err, 1))
                    return
                if fields.get("website"):  # the honeypot was filled: a bot
                    self._send(200, f"<p>{t['thanks']}</p>")
                    return
                site.accept(fields)
                page = render_page(company, "/", index) or ""
                self._send(
                    200, page.replace("<main>", f'<main><p class="success">{t["thanks"]}</p>', 1)
                )

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(
            target=self.server.serve_forever, name=f"site-{company.slug}", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def accept(self, fields: dict[str, str], message_id: str | None = None) -> None:
        at = self.world.clock.now()
        reply_to = fields.get("email")
        tokens = tokens_in_address(reply_to or "") or tokens_in_text(fields.get("message", ""))
        rec = Received(
            self.company.slug, at, fields, tokens[0] if tokens else None, reply_to, [], message_id
        )
        with self.world.lock:
            self.received.append(rec)
            self.world.pending += 1
        threading.Thread(target=self._answer, args=(rec,), daemon=True).start()

    def _answer(self, rec: Received) -> None:
        try:
            for reply in self.company.replies:
                # INTERNALDATE has whole seconds: the arrival instant is the next whole one,
                # so a reply is never measured shorter than its delay (an answer "after 1 h"
                # is over an hour after the submit, in the same tier in every wave).
                arrival = datetime.fromtimestamp(math.ceil(rec.at.timestamp()), UTC) + timedelta(
                    seconds=reply.delay_s
                )
                msg, sender = self.world.compose(self.company, rec, reply, arrival)
                to = rec.reply_to or "" if isinstance(msg, bytes) else parseaddr(str(msg["To"]))[1]
                self.world.send(msg, sender, to)
                rec.replies.append(
                    {"kind": reply.kind, "delay_s": reply.delay_s, "arrival": arrival.isoformat()}
                )
        except Exception:
            log.exception("demo company %s could not reply", self.company.slug)
            self.world.errors.append(self.company.slug)
        finally:
            with self.world.lock:
                self.world.pending -= 1


class DemoWorld:
    """All simulated companies, their web servers, and how they write back."""

    def __init__(
        self, companies: tuple[DemoCompany, ...], clock: Clock, smtp_port: int, reply_domain: str
    ):
        self.clock = clock
        self.smtp_port = smtp_port
        self.reply_domain = reply_domain
        self.lock = threading.Lock()
        self.pending = 0
        self.errors: list[str] = []
        self.sites = [CompanySite(self, c, i) for i, c in enumerate(companies)]

    def start(self) -> DemoWorld:
        for s in self.sites:
            s.thread.start()
        return self

    def stop(self) -> None:
        for s in self.sites:
            s.server.shutdown()
            s.server.server_close()

    def next_wave(self, companies: tuple[DemoCompany, ...], clock: Clock) -> None:
        """The same websites (same addresses), the companies as they behave in the next
        wave, on that wave's clock; what the sites received is forgotten."""
        self.wait_idle(60)
        with self.lock:
            self.clock = clock
            by_slug = {c.slug: c for c in companies}
            for s in self.sites:
                s.company = by_slug[s.company.slug]
                s.received = []

    def site(self, slug: str) -> CompanySite:
        return next(s for s in self.sites if s.company.slug == slug)

    def receive_mail(self, raw: bytes, rcpt: str, mail_from: str) -> None:
        """An inquiry e-mailed to a company's published address (the demo's submission
        server delivers here): the company reads it as it would read its form."""
        msg = message_from_bytes(raw, policy=default_policy)
        site = next(
            (s for s in self.sites if s.company.email.lower() == rcpt.lower()),
            None,
        )
        if site is None:
            raise ValueError(f"no demo company publishes {rcpt}")
        name, addr = parseaddr(str(msg.get("From", "")))
        body = msg.get_body(preferencelist=("plain",))
        fields = {
            "fullname": name,
            "email": addr,
            "subject": str(msg.get("Subject", "")),
            "message": body.get_content() if body is not None else "",  # type: ignore[attr-defined]
        }
        site.accept(fields, message_id=str(msg.get("Message-ID", "")) or None)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        deadline = datetime.now(UTC) + timedelta(seconds=timeout)
        while datetime.now(UTC) < deadline:
            with self.lock:
                if self.pending == 0:
                    return True
            # time.sleep, not a timed Event.wait: under libfaketime (scripts/clock_guard.py)
            # a wait that can only end by its timeout never ends (sem_clockwait is not faked).
            time.sleep(0.05)
        return False

    # -- mail ------------------------------------------------------------------------
    def compose(
        self, c: DemoCompany, rec: Received, reply: Reply, arrival: datetime
    ) -> tuple[Any, str]:
        """The e-mail a simulated company sends, and its envelope sender."""
        persona = rec.fields.get("fullname", "").split(" ")[0] or "there"
        ref = next(iter(tokens_in_text(rec.fields.get("message", ""))), rec.token or "")
        ref_code = f"CA-{ref.upper()}"
        subject = rec.fields.get("subject") or "Your inquiry"
        if reply.kind == "bounce":
            return self._bounce(c, rec, arrival), ""
        m = EmailMessage()
        if reply.kind == "auto_ack":
            m["From"] = f"{c.name} <noreply@{c.domain}>"
            m["To"] = rec.reply_to or ""
            m["Subject"] = f"We received your request [#{20000 + len(c.slug) * 37}]"
            m["Auto-Submitted"] = "auto-replied"
            m["X-Autoreply"] = "yes"
            m.set_content(
                "This is an automatic message, please do not reply.\n\n"
                "We have received your request and it has been assigned ticket number "
                f"{20000 + len(c.slug) * 37}. Our team will answer within 3 business days.\n"
            )
            sender = f"noreply@{c.domain}"
        elif reply.via_helpdesk:
            hd = c.helpdesk_domain or f"support.{c.domain}"
            m["From"] = f"{c.name} Support <support@{hd}>"
            # Help desks often drop the address tag: only the reference code is left.
            m["To"] = f"survey@{self.reply_domain}"
            m["Subject"] = f"[{c.name}] Re: {subject}"
            m["X-Mailer"] = "Zendesk Mailer"
            m["Auto-Submitted"] = "auto-generated"  # Zendesk sets it on agents' answers too
            m["X-Auto-Response-Suppress"] = "All"
            m.set_content(
                f"Hi {persona},\n\nThanks for reaching out. Opening an account takes about ten "
                "minutes online; the monthly fee is 9.90 and new customers get the first three "
                "months free. I have added the details to your request.\n\n"
                f"Kind regards,\nNoa Levin\n{c.name} customer care\n\nYour reference: {ref_code}\n"
            )
            sender = f"support@{hd}"
        else:
            m["From"] = (
                f"{'שירות לקוחות' if c.lang == 'he' else 'Customer Service'} {c.name} <service@{c.domain}>"
            )
            m["To"] = rec.reply_to or ""
            m["Subject"] = f"Re: {subject}"
            if c.lang == "he":
                text = (
                    f"שלום {persona},\n\nתודה על פנייתך. ניתן לפתוח חשבון בסניף או באתר, ועלות "
                    'ניהול החשבון היא 9.90 ש"ח לחודש. ללקוחות חדשים שלושה חודשים ללא עלות.\n\n'
                    f"בברכה,\nמיכל כהן\nמוקד שירות הלקוחות, {c.name}\n"
                )
            else:
                text = (
                    f"Dear {persona},\n\nThank you for your message. You can open an account online "
                    "or in any branch; the monthly fee is 9.90 and new customers pay nothing for "
                    "the first three months. Please call me if you have any question.\n\n"
                    f"Best regards,\nYael Mizrahi\nCustomer Service, {c.name}\n"
                )
            quoted = "\n".join("> " + line for line in rec.fields.get("message", "").splitlines())
            m.set_content(text + "\n" + quoted + "\n")
            sender = f"service@{c.domain}"
        if rec.message_id:  # an answer to our e-mail: in its thread
            m["In-Reply-To"] = rec.message_id
            m["References"] = rec.message_id
        m["Date"] = format_datetime(arrival)
        m["Message-ID"] = make_msgid(domain=c.helpdesk_domain if reply.via_helpdesk else c.domain)
        m["X-Demo-Arrival"] = arrival.isoformat()
        return m, sender

    def _bounce(self, c: DemoCompany, rec: Received, arrival: datetime) -> bytes:
        """An RFC 3464 DSN: the company's form mailer forwarded to a dead mailbox."""
        boundary = f"dsn-{c.slug}-{int(arrival.timestamp())}"
        return (
            f"From: Mail Delivery System <MAILER-DAEMON@mx.{c.domain}>\r\n"
            f"To: {rec.reply_to}\r\n"
            "Subject: Undelivered Mail Returned to Sender\r\n"
            "Auto-Submitted: auto-replied\r\n"
            f"Date: {format_datetime(arrival)}\r\n"
            f"Message-ID: {make_msgid(domain=f'mx.{c.domain}')}\r\n"
            f"X-Demo-Arrival: {arrival.isoformat()}\r\n"
            "MIME-Version: 1.0\r\n"
            f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n'
            "\r\n"
            f"--{boundary}\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
            f"This is the mail system at host mx.{c.domain}.\r\n\r\n"
            "I'm sorry to have to inform you that your message could not be delivered\r\n"
            f"to one or more recipients.\r\n\r\n<service@{c.domain}>: mailbox unavailable\r\n\r\n"
            f"--{boundary}\r\n"
            "Content-Type: message/delivery-status\r\n\r\n"
            f"Reporting-MTA: dns; mx.{c.domain}\r\n\r\n"
            f"Final-Recipient: rfc822; service@{c.domain}\r\n"
            "Action: failed\r\nStatus: 5.1.1\r\n"
            "Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n\r\n"
            f"--{boundary}\r\n"
            "Content-Type: text/rfc822-headers\r\n\r\n"
            f"From: {rec.reply_to}\r\nReply-To: {rec.reply_to}\r\nTo: service@{c.domain}\r\n"
            f"Subject: {rec.fields.get('subject', '')}\r\n\r\n"
            f"--{boundary}--\r\n"
        ).encode()

    def send(self, msg: Any, envelope_from: str, rcpt: str) -> None:
        """Send as a company's mail server does: a temporary failure (4xx, a dropped
        connection) is retried, a permanent one (5xx) is not. The arrival instant travels in
        the message, so a retry does not change the measured time."""
        if not rcpt:
            return
        raw = msg if isinstance(msg, bytes) else msg.as_bytes()
        for attempt in range(SEND_ATTEMPTS):
            try:
                with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=30) as smtp:
                    smtp.sendmail(envelope_from, [rcpt], raw)
                return
            except (smtplib.SMTPResponseException, OSError) as exc:
                code = getattr(exc, "smtp_code", 451)
                if not 400 <= code < 500 or attempt == SEND_ATTEMPTS - 1:
                    raise
                log.info("demo company: %s for %s, retrying", exc, rcpt)
                time.sleep(0.2 * 2**attempt)
