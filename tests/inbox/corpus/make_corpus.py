"""Write the classification catalogue: realistic .eml files and their expected answers.

    .venv/bin/python tests/inbox/corpus/make_corpus.py      # rewrites tests/inbox/corpus/eml/

Reproducible (one seeded random generator, fixed dates): the same files every time, so a
diff of eml/ shows exactly what a change to this script did. Each company of a made-up
survey tells one story, the way companies answer a contact form in real life: a help
desk's acknowledgement then an agent's answer in the same thread, a WordPress
auto-responder echoing what was typed and a salesperson's answer from Outlook, an
out-of-office note then a colleague's answer, a bounce, a newsletter. Around them: spam,
phishing, a colleague's mail, a near-miss reference code, provider notices.

``manifest.json`` lists the companies (token, domains, the values we submitted) and, per
file, the class an analyst gives it and the company it answers (null: none). The
expected class is decided by what the mail IS, written here before (and independently
of) the classifier.
"""

from __future__ import annotations

import json
import random
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.charset import BASE64, QP, Charset
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr
from html import escape
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import texts as T  # noqa: E402

OUT = Path(__file__).parent / "eml"
MANIFEST = Path(__file__).parent / "manifest.json"
REPLY_DOMAIN = "replies.example.com"
ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
SUBMITTED = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)

COMPANIES = {
    "en": [("Northwind Bank", "northwind-bank.example"), ("Contoso Telecom", "contoso-tel.example"),
           ("Fabrikam Insurance", "fabrikam-ins.example"), ("Tailspin Energy", "tailspin.example"),
           ("Woodgrove Credit", "woodgrove.example"), ("Litware Cloud", "litware.example"),
           ("Proseware Mobile", "proseware.example"), ("Adatum Health", "adatum-health.example"),
           ("Lucerne Travel", "lucerne-travel.example"), ("Wingtip Motors", "wingtip.example"),
           ("Coho Wines", "cohowines.example"), ("Trey Research", "treyresearch.example"),
           ("Margie's Travel", "margies.example"), ("Alpine Ski House", "alpineski.example"),
           ("Blue Yonder Airlines", "blueyonder.example"), ("Graphic Design Institute", "gdi.example")],
    "he": [("בנק אקמה", "acmebank-il.example"), ("סלקום פלוס", "salcom.example"),
           ("ביטוח הדר", "hadar-ins.example"), ("חשמל ירוק", "green-power.example"),
           ("אשראי כרמל", "carmel-credit.example"), ("נתיב תקשורת", "nativ-tel.example"),
           ("מגדלי ים", "migdaley-yam.example"), ("רכב הגליל", "galil-cars.example"),
           ("טיולי נגב", "negev-tours.example"), ("מים זורמים", "mayim.example"),
           ("שחר השקעות", "shahar-inv.example"), ("ענן ישיר", "anan.example"),
           ("קופת חולים עמית", "amit-health.example"), ("אור לימודים", "or-learn.example"),
           ("דלק הצפון", "delek-tsafon.example"), ("סטודיו כנרת", "kineret-studio.example")],
    "ar": [("بنك النور", "nour-bank.example"), ("اتصالات الشرق", "sharq-tel.example"),
           ("تأمين الأمان", "aman-ins.example"), ("كهرباء السلام", "salam-power.example"),
           ("شركة الواحة", "waha.example"), ("سفريات القدس", "quds-travel.example"),
           ("مصرف الرواد", "rowad-bank.example"), ("شركة النخيل", "nakheel.example"),
           ("مياه الجليل", "jalil-water.example"), ("تأمين الثقة", "thiqa-ins.example"),
           ("متاجر البركة", "baraka-shops.example")],
    "ru": [("Банк Восход", "voskhod.example"), ("Связь Плюс", "svyaz-plus.example"),
           ("Страхование Гарант", "garant-ins.example"), ("ЭнергоСбыт", "energosbyt.example"),
           ("Облако24", "oblako24.example"), ("Авто Мир", "avtomir.example"),
           ("Турагентство Север", "sever-tour.example"), ("Мегафон Плюс", "megaplus.example"),
           ("Банк Заря", "zarya-bank.example"), ("Мебель Дом", "mebel-dom.example"),
           ("Клиника Здоровье", "zdorovie.example")],
    "fr": [("Banque Horizon", "banque-horizon.example"), ("Télécom Azur", "telecom-azur.example"),
           ("Assurances Mistral", "mistral-assur.example"), ("Énergie Verte", "energie-verte.example"),
           ("Crédit Lumière", "credit-lumiere.example"), ("Voyages Soleil", "voyages-soleil.example"),
           ("Mutuelle Alizé", "alize.example"), ("Fibre Ouest", "fibre-ouest.example"),
           ("Auto-École Rivage", "rivage.example"), ("Immobilier Cèdre", "cedre-immo.example"),
           ("Librairie Onde", "onde.example")],
    "de": [("Nordbank", "nordbank.example"), ("Telekom Süd", "telekom-sued.example"),
           ("Versicherung Adler", "adler-vers.example"), ("Stadtwerke Grün", "sw-gruen.example"),
           ("Kredit Plus", "kreditplus.example"), ("Reisen Alpen", "reisen-alpen.example"),
           ("Autohaus Weber", "autohaus-weber.example"), ("Glasfaser Nord", "glasfaser-nord.example"),
           ("Sparkasse Tal", "sparkasse-tal.example"), ("Möbel König", "moebel-koenig.example"),
           ("Praxis Sonnenhof", "sonnenhof.example")],
}  # fmt: skip
# What sits behind each company's contact form; every language gets a spread.
SETUPS = ["zendesk", "freshdesk", "hubspot", "salesforce", "servicenow", "zoho", "intercom",
          "wordpress", "crm_outlook", "ooo", "webmail", "wordpress", "bounce", "webmail"]  # fmt: skip
HELPDESKS = ("zendesk", "freshdesk", "hubspot", "salesforce", "servicenow", "zoho", "intercom")


@dataclass
class Co:
    slug: str
    name: str
    lang: str
    domain: str
    setup: str
    token: str
    reply_address: str
    extra_domains: list[str] = field(default_factory=list)

    @property
    def ref(self) -> str:
        return "CA-" + self.token.upper()

    @property
    def persona(self) -> str:
        return T.PERSONA[self.lang]

    @property
    def subject(self) -> str:
        return T.SENT_SUBJECT[self.lang].format(ref=self.ref)

    @property
    def message(self) -> str:
        return T.INQUIRY[self.lang].format(name=self.persona, phone=T.PHONE, ref=self.ref)

    @property
    def sent(self) -> dict[str, str]:
        return {"name": self.persona, "email": self.reply_address, "phone": T.PHONE,
                "subject": self.subject, "message": self.message}  # fmt: skip


class Corpus:
    def __init__(self, seed: int = 20261120) -> None:
        self.rng = random.Random(seed)
        self.companies: list[Co] = []
        self.entries: list[dict[str, object]] = []
        self.files: dict[str, bytes] = {}
        self.n = 0

    # -- helpers ------------------------------------------------------------------------
    def pick(self, items: list[str] | tuple[str, ...]) -> str:
        return self.rng.choice(list(items))

    def token(self) -> str:
        return "".join(self.rng.choice(ALPHABET) for _ in range(8))

    def msgid(self, domain: str) -> str:
        return f"<{self.rng.getrandbits(64):016x}.{self.n}@{domain}>"

    def price(self, lang: str) -> tuple[str, str]:
        p = self.rng.choice([9, 12, 19, 29, 39, 49, 59, 79, 99, 120, 149])
        fmt = T.CURRENCY[lang]
        return fmt.format(p=p), fmt.format(p=p * 2 + 10)

    def add(
        self, name: str, raw: bytes, expect: str, company: Co | None, source: str, note: str = ""
    ) -> None:
        self.n += 1
        fname = f"{self.n:03d}_{expect}_{name}.eml"
        self.files[fname] = raw
        self.entries.append(
            {"file": fname, "expect": expect, "company": company.slug if company else None,
             "lang": company.lang if company else None, "source": source, "note": note}
        )  # fmt: skip

    def answer_text(
        self, co: Co, agent: str, *, courtesy: bool | None = None, closer: bool = True,
        signature: bool = True, greeting: bool = True,
    ) -> str:  # fmt: skip
        lang = co.lang
        price, price2 = self.price(lang)
        parts: list[str] = []
        if greeting:
            parts.append(self.pick(T.GREETING[lang]))
        if courtesy if courtesy is not None else self.rng.random() < 0.45:
            parts.append(self.pick(T.COURTESY[lang]).format(company=co.name))
        parts.append(self.pick(T.ANSWER[lang]).format(price=price, price2=price2))
        if closer:
            c = self.pick(T.CLOSER[lang]).format(n=self.rng.randint(1000, 9999))
            if c:
                parts.append(c)
        body = "\n\n".join(parts)
        if signature:
            body += "\n\n" + self.signature(co, agent)
        return body

    def signature(self, co: Co, agent: str, full: bool | None = None) -> str:
        lang = co.lang
        lines = [self.pick(T.SIGNOFF[lang]), agent]
        if full if full is not None else self.rng.random() < 0.5:
            lines += [f"{self.pick(T.TITLE[lang])} | {co.name}",
                      f"+972-3-555-{self.rng.randint(1000, 9999)} | www.{co.domain}"]  # fmt: skip
        return "\n".join(lines)

    def quote(self, co: Co, text: str, when: datetime, style: str) -> str:
        """Our message quoted the way mail clients do."""
        lang = co.lang
        date = format_datetime(when)
        if style == "gmail":
            intro = T.QUOTE_INTRO[lang].format(date=date, name=co.persona, addr=co.reply_address)
            return intro + "\n" + "\n".join("> " + ln if ln else ">" for ln in text.splitlines())
        if style == "outlook":
            f, s, t, subj = T.OUTLOOK_HEADER[lang]
            return (
                f"________________________________\n{f}: {co.persona} <{co.reply_address}>\n"
                f"{s}: {date}\n{t}: info@{co.domain}\n{subj}: {co.subject}\n\n{text}"
            )
        if style == "zoho":
            return f"---- On {date} {co.persona} <{co.reply_address}> wrote ----\n\n{text}"
        raise ValueError(style)

    def mail(
        self,
        co: Co | None,
        *,
        sender: str,
        sender_name: str,
        subject: str,
        when: datetime,
        text: str | None = None,
        html: str | None = None,
        to: str | None = None,
        msgid: str | None = None,
        in_reply_to: str | None = None,
        headers: list[tuple[str, str]] | None = None,
        charset: str = "utf-8",
        cte: str = "base64",
        return_path: str | None = None,
        delivered_to: str | None = None,
    ) -> tuple[bytes, str]:
        cs = Charset(charset)
        cs.body_encoding = BASE64 if cte == "base64" else QP
        msg: Message
        if text is not None and html is not None:
            msg = MIMEMultipart("alternative")
            msg.attach(MIMEText(text, "plain", cs))  # type: ignore[arg-type]
            msg.attach(MIMEText(html, "html", cs))  # type: ignore[arg-type]
        elif html is not None:
            msg = MIMEText(html, "html", cs)  # type: ignore[arg-type]
        else:
            msg = MIMEText(text or "", "plain", cs)  # type: ignore[arg-type]
        out = Message()
        rcpt = to or (co.reply_address if co else f"survey@{REPLY_DOMAIN}")
        mid = msgid or self.msgid(sender.split("@", 1)[1])
        out["Delivered-To"] = delivered_to or rcpt
        if return_path is not None:
            out["Return-Path"] = f"<{return_path}>"
        out["Date"] = format_datetime(when.astimezone(UTC).astimezone(_tz(co)))
        out["From"] = formataddr((sender_name, sender), charset="utf-8")
        out["To"] = formataddr((co.persona if co else "", rcpt), charset="utf-8")
        out["Message-ID"] = mid
        if in_reply_to:
            out["In-Reply-To"] = in_reply_to
            out["References"] = in_reply_to
        out["Subject"] = subject if subject.isascii() else Header(subject, charset).encode()
        for k, v in headers or []:
            out[k] = v
        out["MIME-Version"] = "1.0"
        for k, v in msg.items():
            if k.lower() != "mime-version":
                out[k] = v
        out.set_payload(msg.get_payload())
        return out.as_bytes(), mid


def _tz(co: Co | None) -> timezone:
    offsets = {"he": 2, "ar": 2, "ru": 3, "fr": 1, "de": 1, "en": 0}
    return timezone(timedelta(hours=offsets.get(co.lang if co else "en", 0)))


def html_of(text: str) -> str:
    """A plain answer as a help desk's HTML: paragraphs, quoted lines in a blockquote."""
    out: list[str] = ['<html><body><div style="font-family:Arial,sans-serif;font-size:14px">']
    quoted: list[str] = []
    for para in text.split("\n\n"):
        lines = para.splitlines()
        if lines and all(ln.startswith(">") for ln in lines):
            quoted += [escape(ln.lstrip("> ")) for ln in lines]
            continue
        if quoted:
            out.append("<blockquote>" + "<br>".join(quoted) + "</blockquote>")
            quoted = []
        out.append("<p>" + "<br>".join(escape(ln) for ln in lines) + "</p>")
    if quoted:
        out.append("<blockquote>" + "<br>".join(quoted) + "</blockquote>")
    out.append("</div></body></html>")
    return "\n".join(out)


# -- stories ----------------------------------------------------------------------------
def helpdesk_story(c: Corpus, co: Co, i: int) -> None:
    hd = co.setup
    lang = co.lang
    ticket = str(c.rng.randint(10000, 99999))
    agent = c.pick(T.AGENTS[lang])
    first = agent.split()[0]
    t_ack = SUBMITTED + timedelta(minutes=c.rng.randint(1, 6))
    t_ans = SUBMITTED + timedelta(hours=c.rng.randint(2, 70), minutes=c.rng.randint(0, 59))
    ack_line = c.pick(T.ACK[lang]).format(company=co.name, ticket=f"#{ticket}")
    extra = c.pick(T.ACK_EXTRA[lang]).format(domain=co.domain)
    greet = c.pick(T.GREETING[lang])
    sub = co.subject
    ack_subject = c.pick(T.ACK_SUBJECT[lang]).format(subject=sub, ticket=ticket, company=co.name)
    ack_id = None
    hdrs: list[tuple[str, str]] = []
    if hd == "zendesk":
        sup = f"support@{co.slug}.zendesk.com"
        hdrs = [("Auto-Submitted", "auto-generated"), ("X-Auto-Response-Suppress", "All"),
                ("X-Mailer", "Zendesk Mailer"), ("X-Zendesk-From-Account-Id", f"{c.token()}"),
                ("X-Zendesk-Email-Id", f"01J{c.token().upper()}")]  # fmt: skip
        body = (
            f"##- Please type your reply above this line -##\n\n{ack_line}\n\n{extra}\n\n"
            f"----------------------------------------------\n\n{co.persona}\n\n"
            f"{format_datetime(SUBMITTED)}\n\n{co.message}"
        )
        zsub = f"[{co.name}] Re: {sub}"
        raw, ack_id = c.mail(co, sender=sup, sender_name=f"{co.name}", subject=zsub, when=t_ack,
                             text=body, headers=hdrs, cte="qp",
                             msgid=f"<{c.token().upper()}_{ticket}a_sprut@zendesk.com>")  # fmt: skip
        c.add(f"zendesk_ack_{lang}", raw, "auto_ack", co, "zendesk/ack", "quotes our message")
        answer = c.answer_text(co, agent, greeting=True)
        body = (
            f"##- Please type your reply above this line -##\n\n"
            f"{agent} ({co.name})\n\n{format_datetime(t_ans)}\n\n{answer}\n\n"
            f"----------------------------------------------\n\n{co.persona}\n\n"
            f"{format_datetime(SUBMITTED)}\n\n{co.message}"
        )
        raw, _ = c.mail(co, sender=sup, sender_name=f"{agent} ({co.name})", subject=zsub,
                        when=t_ans, text=body, headers=hdrs, in_reply_to=ack_id, cte="qp",
                        msgid=f"<{c.token().upper()}_{ticket}b_sprut@zendesk.com>")  # fmt: skip
        c.add(f"zendesk_agent_{lang}", raw, "human", co, "zendesk/agent",
              "Auto-Submitted on an agent's answer; history below the answer")  # fmt: skip
        return
    if hd == "freshdesk":
        sup = f"support@{co.slug}.freshdesk.com"
        hdrs = [("X-FD-Email", sup), ("Auto-Submitted", "auto-generated")]
        fsub = f"Ticket Received - {sub}" if lang == "en" else ack_subject
        body = (
            f"{greet}\n\n{ack_line}\n\n"
            f"https://{co.slug}.freshdesk.com/helpdesk/tickets/{ticket}\n\n{extra}\n\n"
            f"{co.name} Support Team"
        )
        raw, ack_id = c.mail(co, sender=sup, sender_name=f"{co.name} Support", subject=fsub,
                             when=t_ack, text=body, headers=hdrs,
                             msgid=f"<{c.token()}.ticket.{ticket}@{co.slug}.freshdesk.com>")  # fmt: skip
        c.add(f"freshdesk_ack_{lang}", raw, "auto_ack", co, "freshdesk/ack")
        answer = c.answer_text(co, agent, courtesy=i % 2 == 0)
        if c.rng.random() < 0.5:
            answer += "\n\n" + c.quote(co, co.message, SUBMITTED, "gmail")
        raw, _ = c.mail(co, sender=sup, sender_name=f"{agent} ({co.name} Support)",
                        subject=f"Re: {fsub}", when=t_ans, text=answer, html=html_of(answer),
                        headers=hdrs, in_reply_to=ack_id,
                        msgid=f"<{c.token()}.reply.{ticket}@{co.slug}.freshdesk.com>")  # fmt: skip
        c.add(f"freshdesk_agent_{lang}", raw, "human", co, "freshdesk/agent",
              "Re: <ack subject>; courtesy opener")  # fmt: skip
        return
    if hd == "hubspot":
        rp = f"1ax{c.token()}@bf03x.hubspotemail.net"
        hello = f"hello@{co.domain}"
        body = (
            f"{greet}\n\n{ack_line}\n\n{extra}\n\n{co.name}\n{co.domain}\n\n"
            f"Unsubscribe | Manage preferences"
        )
        hs = [("List-Unsubscribe", f"<https://{co.slug}.hs-sites.com/unsub?d={c.token()}>"),
              ("X-HS-Cid", c.token())]  # fmt: skip
        raw, ack_id = c.mail(co, sender=hello, sender_name=co.name, subject=ack_subject,
                             when=t_ack, text=body, html=html_of(body), headers=hs,
                             return_path=rp, msgid=f"<{c.token()}@bf03x.hubspotemail.net>")  # fmt: skip
        c.add(f"hubspot_form_followup_{lang}", raw, "auto_ack", co, "hubspot/form-followup",
              "marketing-style form follow-up with List-Unsubscribe")  # fmt: skip
        answer = c.answer_text(co, agent, courtesy=True)
        answer += "\n\n" + c.quote(co, co.message, SUBMITTED, "gmail")
        mail_ = f"{first.lower()}@{co.domain}" if first.isascii() else f"sales@{co.domain}"
        raw, _ = c.mail(co, sender=mail_, sender_name=agent, subject=f"Re: {sub}", when=t_ans,
                        text=answer, html=html_of(answer), return_path=f"1ax{c.token()}@bf03x.hubspotemail.net",
                        headers=[("X-HS-Cid", c.token())], msgid=f"<{c.token()}@bf03x.hubspotemail.net>")  # fmt: skip
        c.add(f"hubspot_agent_{lang}", raw, "human", co, "hubspot/agent",
              "opens 'Thank you for contacting <Company>'")  # fmt: skip
        return
    if hd == "salesforce":
        ref = f"ref:_00D5g{c.token()[:4]}._5005g{c.token()[:6]}:ref"
        case = f"0001{c.rng.randint(1000, 9999)}"
        care = f"care@{co.domain}"
        rp = f"care=__0-{c.token()}@{c.token()}.bnc.salesforce.com"
        sf = [("X-SFDC-LK", "00D5g000000" + c.token()[:4]), ("X-SFDC-User", "0055g00000XYZ")]
        body = f"{greet}\n\n{ack_line}\n\nCase: {case}\n\n{extra}\n\n{co.name}\n\n{ref}"
        raw, ack_id = c.mail(co, sender=care, sender_name=f"{co.name} Customer Care",
                             subject=f"Case {case}: {ack_subject} [ {ref} ]", when=t_ack,
                             text=body, headers=sf, return_path=rp,
                             msgid=f"<{c.token()}00000000000000SMZ{c.n}@sfdc.net>")  # fmt: skip
        c.add(f"salesforce_web_to_case_ack_{lang}", raw, "auto_ack", co, "salesforce/ack")
        answer = c.answer_text(co, agent)
        answer += "\n\n--------------- Original Message ---------------\n"
        answer += f"From: {co.persona} [{co.reply_address}]\nSent: {format_datetime(SUBMITTED)}\n"
        answer += f"To: {care}\nSubject: {sub}\n\n{co.message}\n\n{ref}"
        raw, _ = c.mail(co, sender=care, sender_name=agent, subject=f"RE: {sub} [ {ref} ]",
                        when=t_ans, text=answer, headers=sf, return_path=rp, in_reply_to=ack_id,
                        msgid=f"<{c.token()}00000000000000SMZ{c.n}@sfdc.net>")  # fmt: skip
        c.add(f"salesforce_email_to_case_agent_{lang}", raw, "human", co, "salesforce/agent",
              "Outlook-style unquoted original below")  # fmt: skip
        return
    if hd == "servicenow":
        inc = f"INC00{c.rng.randint(10000, 99999)}"
        sd = f"servicedesk@{co.slug}.service-now.com"
        body = (
            f"Your incident has been opened on your behalf.\n\nNumber: {inc}\n"
            f"Short description: {sub}\n\n{ack_line}\n\nYou can view all the details of the "
            f"incident by following the link below:\nhttps://{co.slug}.service-now.com/sp?id=ticket&"
            f"number={inc}\n\nThank you.\n\nRef:MSG{c.rng.randint(1000000, 9999999)}"
        )
        raw, ack_id = c.mail(co, sender=sd, sender_name=f"{co.name} Service Desk",
                             subject=f"Incident {inc} has been opened on your behalf",
                             when=t_ack, text=body)  # fmt: skip
        c.add(f"servicenow_incident_opened_{lang}", raw, "auto_ack", co, "servicenow/ack")
        answer = c.answer_text(co, agent, signature=False)
        body = (
            f"Your incident {inc} has been updated with new comments:\n\n"
            f"{format_datetime(t_ans)} - {agent} (Additional comments)\n{answer}\n\n"
            f"You can view all the details of the incident by following the link below:\n"
            f"https://{co.slug}.service-now.com/sp?id=ticket&number={inc}\n\n"
            f"Thank you.\n\nRef:MSG{c.rng.randint(1000000, 9999999)}"
        )
        raw, _ = c.mail(co, sender=sd, sender_name=f"{co.name} Service Desk",
                        subject=f"Incident {inc} - comments added", when=t_ans, text=body,
                        in_reply_to=ack_id)  # fmt: skip
        c.add(f"servicenow_comment_added_{lang}", raw, "human", co, "servicenow/agent",
              "an agent's comment inside a notification template")  # fmt: skip
        return
    if hd == "zoho":
        sup = f"support@{co.domain}"
        zh = [("X-ZohoDesk-Ticket-Id", ticket)]
        body = f"{greet}\n\n{ack_line}\n\n{extra}\n\n{co.name}"
        raw, ack_id = c.mail(co, sender=sup, sender_name=f"{co.name} Support",
                             subject=f"[## {ticket} ##] {ack_subject}", when=t_ack, text=body,
                             headers=zh, msgid=f"<{c.rng.randint(10, 99)}.{c.token()}.zoho.desk@zohodesk.com>",
                             return_path=f"bounce-{c.token()}@zohodesk.com")  # fmt: skip
        c.add(f"zoho_desk_ack_{lang}", raw, "auto_ack", co, "zoho/ack")
        answer = c.answer_text(co, agent)
        answer += "\n\n" + c.quote(co, co.message, SUBMITTED, "zoho")
        raw, _ = c.mail(co, sender=sup, sender_name=f"{co.name} Support",
                        subject=f"Re:[## {ticket} ##] {sub}", when=t_ans, text=answer,
                        html=html_of(answer), headers=zh, in_reply_to=ack_id,
                        msgid=f"<{c.rng.randint(10, 99)}.{c.token()}.zoho.desk@zohodesk.com>",
                        return_path=f"bounce-{c.token()}@zohodesk.com")  # fmt: skip
        c.add(f"zoho_desk_agent_{lang}", raw, "human", co, "zoho/agent",
              "original appended unquoted after '---- On ... wrote ----'")  # fmt: skip
        return
    if hd == "intercom":
        ic = f"{co.slug}@intercom-mail.com"
        body = (
            f"{ack_line}\n\n{extra}\n\n"
            f"{co.name} · Reply to this email directly or view it in the messenger."
        )
        raw, ack_id = c.mail(co, sender=ic, sender_name=f"{co.name}", subject=ack_subject,
                             when=t_ack, html=html_of(body),
                             msgid=f"<conversation_{c.rng.getrandbits(40)}@intercom-mail.com>")  # fmt: skip
        c.add(f"intercom_bot_ack_{lang}", raw, "auto_ack", co, "intercom/ack", "html only")
        answer = c.answer_text(co, first, courtesy=i % 2 == 1, signature=False)
        body = f"{answer}\n\n{first}\n\n{co.name} · Reply to this email directly or view it in the messenger."
        raw, _ = c.mail(co, sender=ic, sender_name=f"{first} from {co.name}", subject=ack_subject,
                        when=t_ans, html=html_of(body), in_reply_to=ack_id,
                        msgid=f"<conversation_{c.rng.getrandbits(40)}@intercom-mail.com>")  # fmt: skip
        c.add(f"intercom_agent_{lang}", raw, "human", co, "intercom/agent",
              "same subject as the bot's acknowledgement")  # fmt: skip
        return
    raise ValueError(hd)


def wordpress_story(c: Corpus, co: Co, i: int) -> None:
    lang = co.lang
    name, email_, phone, msg_label, intro_label = T.WP_LABELS[lang]
    t_ack = SUBMITTED + timedelta(seconds=c.rng.randint(3, 40))
    intro = c.pick(T.WP_INTRO[lang]).format(name=co.persona)
    style = i % 3
    if style == 0:  # labelled fields, the message on the label's line (unquoted echo)
        msg = co.message.replace("\n\n", "\n")
        echo = (
            f"{intro_label}\n{name}: {co.persona}\n{email_}: {co.reply_address}\n"
            f"{phone}: {T.PHONE}\n{msg_label}: {msg}"
        )
    elif style == 1:  # the message alone, as typed
        echo = f"{intro_label}\n\n{co.message}"
    else:  # the message re-wrapped into one paragraph
        echo = f"{msg_label}:\n" + " ".join(co.message.split())
    body = f"{intro}\n\n{echo}\n\n{T.WP_FOOTER[lang].format(company=co.name, domain=co.domain)}"
    subject = c.pick(T.WP_SUBJECT[lang]).format(company=co.name)
    hdrs = [("X-Mailer", "PHPMailer 6.8.1 (https://github.com/PHPMailer/PHPMailer)")]
    sender = "wordpress@" + co.domain if i % 2 else "no-reply@" + co.domain
    raw, _ = c.mail(co, sender=sender, sender_name=co.name, subject=subject, when=t_ack,
                    text=body, html=html_of(body) if i % 2 else None, headers=hdrs,
                    cte="qp" if lang in ("he", "ar") else "base64",
                    charset="windows-1255" if lang == "he" and i % 2 else "utf-8")  # fmt: skip
    c.add(f"wordpress_autoresponder_{lang}", raw, "auto_ack", co, "wordpress/cf7",
          ["labelled echo", "echo as typed", "echo re-wrapped"][style])  # fmt: skip
    if i % 4 == 3:
        return  # never answered
    # A person answers the form notification from their own mailbox.
    agent = c.pick(T.AGENTS[lang])
    t_ans = SUBMITTED + timedelta(hours=c.rng.randint(1, 90), minutes=c.rng.randint(0, 59))
    notif = (
        f"{name}: {co.persona}\n{email_}: {co.reply_address}\n{phone}: {T.PHONE}\n"
        f"{msg_label}:\n{co.message}\n\n{T.WP_FOOTER[lang].format(company=co.name, domain=co.domain)}"
    )
    answer = c.answer_text(co, agent)
    if i % 2:
        answer += "\n\n" + c.quote(co, notif, t_ack, "outlook")
        hdrs = [("X-Mailer", "Microsoft Outlook 16.0"), ("Thread-Index", "AdlQ" + c.token())]
    else:
        answer += "\n\n" + c.quote(co, notif, t_ack, "gmail")
        hdrs = []
    sender = f"office@{co.domain}"
    raw, _ = c.mail(co, sender=sender, sender_name=agent, subject=f"Re: [{co.name}] {co.subject}",
                    when=t_ans, text=answer, headers=hdrs,
                    msgid=f"<CA+{c.token()}{c.token()}@mail.gmail.com>" if not hdrs else None)  # fmt: skip
    c.add(f"webmail_answer_to_form_{lang}", raw, "human", co, "webmail/after-wordpress",
          "quotes the form notification, which holds our message")  # fmt: skip


def crm_story(c: Corpus, co: Co, i: int) -> None:
    """A CRM auto-responder (Dynamics / Pipedrive style), then a salesperson from Outlook."""
    lang = co.lang
    t_ack = SUBMITTED + timedelta(minutes=c.rng.randint(1, 10))
    case = f"CAS-{c.rng.randint(10000, 99999)}-{c.token().upper()[:6]}"
    body = (
        f"{c.pick(T.GREETING[lang])}\n\n"
        + c.pick(T.ACK[lang]).format(company=co.name, ticket=case)
        + f"\n\n{c.pick(T.ACK_EXTRA[lang]).format(domain=co.domain)}\n\n{co.name}"
    )
    subject = c.pick(T.ACK_SUBJECT[lang]).format(subject=co.subject, ticket=case, company=co.name)
    raw, ack_id = c.mail(co, sender=f"crm-noreply@{co.domain}", sender_name=co.name,
                         subject=subject, when=t_ack, text=body, html=html_of(body),
                         headers=[("X-Mailer", "Microsoft Dynamics 365")])  # fmt: skip
    c.add(f"crm_autoresponse_{lang}", raw, "auto_ack", co, "crm/ack", "no Auto-Submitted header")
    agent = c.pick(T.AGENTS[lang])
    t_ans = SUBMITTED + timedelta(hours=c.rng.randint(3, 100))
    answer = c.answer_text(co, agent, courtesy=True)
    answer += "\n\n" + T.DISCLAIMER[lang] + "\n\n" + c.quote(co, co.message, SUBMITTED, "outlook")
    sender = (
        f"{agent.split()[0].lower()}.{agent.split()[1].lower()}@{co.domain}"
        if agent.isascii()
        else f"sales{i}@{co.domain}"
    )
    raw, _ = c.mail(co, sender=sender, sender_name=agent, subject=f"RE: {co.subject}", when=t_ans,
                    text=answer, html=html_of(answer),
                    headers=[("X-Mailer", "Microsoft Outlook 16.0"), ("Thread-Index", "AdlR" + c.token())],
                    cte="qp")  # fmt: skip
    c.add(f"outlook_sales_answer_{lang}", raw, "human", co, "outlook/after-crm",
          "courtesy opener, disclaimer, unquoted Outlook history")  # fmt: skip


def ooo_story(c: Corpus, co: Co, i: int) -> None:
    lang = co.lang
    person = c.pick(T.AGENTS[lang])
    colleague = c.pick([a for a in T.AGENTS[lang] if a != person])
    until = "1.12.2026" if lang != "en" else "December 1st"
    text = c.pick(T.OOO_TEXT[lang]).format(
        until=until, colleague=colleague, colleague_mail=f"service@{co.domain}"
    )
    t_ooo = SUBMITTED + timedelta(minutes=c.rng.randint(1, 20))
    variant = i % 3
    if variant == 0:  # Exchange / Outlook
        hdrs = [("Auto-Submitted", "auto-generated"), ("X-Auto-Response-Suppress", "All"),
                ("Thread-Topic", co.subject), ("X-MS-Has-Attach", ""),
                ("X-MS-Exchange-Organization-AutoResponse", "OOF")]  # fmt: skip
        subject = T.OOO_SUBJECT[lang].format(subject=co.subject)
    elif variant == 1:  # Gmail vacation responder
        hdrs = [("Auto-Submitted", "auto-replied")]
        subject = f"Re: {co.subject}"
    else:  # a mail system with no headers at all, localised subject only
        hdrs = []
        subject = T.OOO_SUBJECT[lang].format(subject=co.subject)
    sender = f"info@{co.domain}"
    raw, ooo_id = c.mail(co, sender=sender, sender_name=person, subject=subject, when=t_ooo,
                         text=text, headers=hdrs)  # fmt: skip
    c.add(f"out_of_office_{lang}", raw, "auto_ack", co, "ooo", ["exchange", "gmail vacation",
          "no headers"][variant])  # fmt: skip
    t_ans = SUBMITTED + timedelta(days=1, hours=c.rng.randint(0, 20))
    answer = c.answer_text(co, colleague)
    answer += "\n\n" + c.quote(co, co.message, SUBMITTED, "gmail")
    raw, _ = c.mail(co, sender=f"service@{co.domain}", sender_name=colleague,
                    subject=f"Re: {co.subject}", when=t_ans, text=answer,
                    headers=[("User-Agent", "Mozilla Thunderbird")])  # fmt: skip
    c.add(f"colleague_answer_after_ooo_{lang}", raw, "human", co, "webmail/after-ooo")


def webmail_story(c: Corpus, co: Co, i: int) -> None:
    lang = co.lang
    agent = c.pick(T.AGENTS[lang])
    first = agent.split()[0]
    t_ans = SUBMITTED + timedelta(minutes=c.rng.randint(33, 600))
    if i % 3 == 0:  # a short answer from a phone
        text = c.pick(T.SHORT_ANSWER[lang]).format(
            n=c.rng.randint(1000, 9999), first=first, price=c.price(lang)[0]
        )
        text += "\n\nSent from my iPhone\n\n" + c.quote(co, co.message, SUBMITTED, "gmail")
        raw, mid = c.mail(co, sender=f"{'sales' if not first.isascii() else first.lower()}@{co.domain}",
                          sender_name=agent, subject=f"Re: {co.subject}", when=t_ans, text=text,
                          headers=[("X-Mailer", "iPhone Mail (20B101)")])  # fmt: skip
        c.add(f"short_phone_answer_{lang}", raw, "human", co, "webmail/iphone", "few words")
    else:
        text = c.answer_text(co, agent)
        text += "\n\n" + c.quote(co, co.message, SUBMITTED, "gmail" if i % 2 else "outlook")
        raw, mid = c.mail(co, sender=f"office@{co.domain}", sender_name=agent,
                          subject=f"Re: {co.subject}", when=t_ans, text=text,
                          html=html_of(text) if i % 2 else None,
                          msgid=f"<CA+{c.token()}{c.token()}@mail.gmail.com>")  # fmt: skip
        c.add(f"gmail_answer_{lang}", raw, "human", co, "webmail/gmail", "quoted history")
    if i % 2 == 0:  # the same person follows up in the thread
        t2 = t_ans + timedelta(days=2)
        follow = {
            "en": "Hi Dana, just following up on my email from Monday - did you have a chance "
            "to look at the offer? I can hold the discount until Friday.",
            "he": "היי דנה, רציתי לוודא שקיבלת את ההצעה ששלחתי. ההנחה בתוקף עד יום שישי, "
            "נשמח לתאם שיחה ונחזור אלייך.",
            "ar": "مرحبًا دانة، أردت التأكد من أنك استلمت العرض الذي أرسلته. الخصم ساري حتى "
            "يوم الجمعة.",
            "ru": "Дана, добрый день! Хотел уточнить, получили ли вы наше предложение? Скидка "
            "действует до пятницы.",
            "fr": "Bonjour Dana, je me permets de revenir vers vous : avez-vous pu regarder "
            "notre offre ? La remise reste valable jusqu'à vendredi.",
            "de": "Hallo Frau Cohen, ich wollte kurz nachfragen, ob Sie unser Angebot erhalten "
            "haben. Der Rabatt gilt noch bis Freitag.",
        }[lang]
        text = follow + "\n\n" + first
        raw, _ = c.mail(co, sender=f"office@{co.domain}", sender_name=agent,
                        subject=f"Re: {co.subject}", when=t2, text=text, in_reply_to=mid)  # fmt: skip
        c.add(f"follow_up_in_thread_{lang}", raw, "human", co, "webmail/follow-up")


def bounce_story(c: Corpus, co: Co, i: int) -> None:
    """We wrote to the company's published address by SMTP; it bounced."""
    lang = co.lang
    when = SUBMITTED + timedelta(seconds=c.rng.randint(5, 300))
    rcpt = f"info@{co.domain}"
    original = (
        f"From: {co.persona} <{co.reply_address}>\nTo: {rcpt}\nSubject: {co.subject}\n"
        f"Message-ID: <sent.{co.token}@{REPLY_DOMAIN}>\nDate: {format_datetime(SUBMITTED)}\n"
    )
    style = i % 3
    if style == 0 or lang not in T.NDR:  # Postfix RFC 3464
        human = (
            "This is the mail system at host mx1." + co.domain + ".\n\nI'm sorry to have to "
            "inform you that your message could not\nbe delivered to one or more recipients.\n\n"
            f"<{rcpt}>: host mx1.{co.domain}[192.0.2.10] said: 550 5.1.1\n    <{rcpt}>: "
            "Recipient address rejected: User unknown in virtual mailbox table"
        )
        subject = "Undelivered Mail Returned to Sender"
        sender, sname = f"MAILER-DAEMON@mx1.{co.domain}", "Mail Delivery System"
    else:  # Exchange NDR, localised
        subj, line1, line2 = T.NDR[lang]
        human = f"{line1}\n\n{rcpt}\n{line2}\n\nRemote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound'"
        subject = subj.format(subject=co.subject)
        sender, sname = f"postmaster@{co.slug}.onmicrosoft.com", "Microsoft Outlook"
    dsn = (
        f"Reporting-MTA: dns; mx1.{co.domain}\nArrival-Date: {format_datetime(SUBMITTED)}\n\n"
        f"Final-Recipient: rfc822; {rcpt}\nAction: failed\nStatus: 5.1.1\n"
        f"Diagnostic-Code: smtp; 550 5.1.1 User unknown\n"
    )
    boundary = f"bnd{c.token()}"
    subj_h = subject if subject.isascii() else Header(subject, "utf-8").encode()
    raw = (
        f"Delivered-To: {co.reply_address}\nReturn-Path: <>\nDate: {format_datetime(when)}\n"
        f"From: {sname} <{sender}>\nTo: {co.reply_address}\nSubject: {subj_h}\n"
        f"Message-ID: {c.msgid('mx1.' + co.domain)}\nAuto-Submitted: auto-replied\n"
        f"MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status;\n"
        f' boundary="{boundary}"\n\n--{boundary}\nContent-Type: text/plain; charset=utf-8\n'
        f"Content-Transfer-Encoding: 8bit\n\n{human}\n\n--{boundary}\n"
        f"Content-Type: message/delivery-status\n\n{dsn}\n--{boundary}\n"
        f"Content-Type: text/rfc822-headers\n\n{original}\n--{boundary}--\n"
    ).encode()
    c.add(f"bounce_{['postfix_dsn', 'exchange_ndr', 'exchange_ndr'][style]}_{lang}", raw,
          "bounce", co, "bounce")  # fmt: skip


def newsletter(c: Corpus, co: Co, i: int, by_domain: bool = False) -> None:
    lang = co.lang
    subj, body, unsub = T.NEWSLETTER[lang]
    when = SUBMITTED + timedelta(days=c.rng.randint(3, 9), hours=c.rng.randint(0, 10))
    text = f"{body}\n\n{co.name} | www.{co.domain}\n\n{unsub}"
    hdrs = [("List-Unsubscribe", f"<mailto:unsubscribe-{c.token()}@news.{co.domain}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            ("Precedence", "bulk"), ("X-Campaign", f"winter-{c.token()[:5]}"),
            ("Feedback-ID", f"{c.token()}:newsletter:{co.slug}")]  # fmt: skip
    if i % 2:
        hdrs = hdrs[:1] + hdrs[3:]  # no Precedence, no one-click post
    to = f"survey@{REPLY_DOMAIN}" if by_domain else None
    raw, _ = c.mail(co, sender=f"news@{co.domain}", sender_name=co.name,
                    subject=subj.format(company=co.name), when=when, text=text,
                    html=html_of(text), headers=hdrs, to=to,
                    return_path=f"bounce-{c.token()}@em.{co.domain}")  # fmt: skip
    c.add(f"newsletter_{lang}", raw, "marketing", co, "newsletter",
          "sender domain only" if by_domain else "to our tagged address")  # fmt: skip


def tag_dropped_answer(c: Corpus, co: Co) -> None:
    """A salesperson writes a fresh mail to the reply address without its tag."""
    lang = co.lang
    agent = c.pick(T.AGENTS[lang])
    text = c.answer_text(co, agent, courtesy=False)
    when = SUBMITTED + timedelta(hours=c.rng.randint(5, 50))
    raw, _ = c.mail(co, sender=f"sales@{co.domain}", sender_name=agent,
                    subject={"en": "Your enquiry", "he": "בהמשך לפנייתך", "ar": "بخصوص استفسارك",
                             "ru": "По вашему запросу", "fr": "Votre demande",
                             "de": "Ihre Anfrage"}[lang],
                    when=when, text=text, to=f"survey@{REPLY_DOMAIN}",
                    headers=[("X-Mailer", "Microsoft Outlook 16.0")])  # fmt: skip
    c.add(f"fresh_mail_tag_dropped_{lang}", raw, "human", co, "webmail/sender-domain",
          "matched by sender domain only")  # fmt: skip


def reply_to_ack_subject(c: Corpus, co: Co) -> None:
    """A person at the company answers in the acknowledgement's thread: 'Re: <ack subject>'."""
    lang = co.lang
    ack_subject = {"en": "Your request has been received", "he": "פנייתך התקבלה",
                   "ar": "تم استلام طلبك", "ru": "Ваше обращение получено",
                   "fr": "Nous avons bien reçu votre demande",
                   "de": "Ihre Anfrage ist bei uns eingegangen"}[lang]  # fmt: skip
    t_ack = SUBMITTED + timedelta(minutes=2)
    body = c.pick(T.ACK[lang]).format(company=co.name, ticket="#" + str(c.rng.randint(1000, 9999)))
    raw, ack_id = c.mail(co, sender=f"noreply@{co.domain}", sender_name=co.name,
                         subject=ack_subject, when=t_ack, text=body,
                         headers=[("Auto-Submitted", "auto-replied")])  # fmt: skip
    c.add(f"plain_ack_{lang}", raw, "auto_ack", co, "plain/ack")
    agent = c.pick(T.AGENTS[lang])
    text = c.answer_text(co, agent, courtesy=False, closer=True)
    raw, _ = c.mail(co, sender=f"service@{co.domain}", sender_name=agent,
                    subject=f"Re: {ack_subject}", when=SUBMITTED + timedelta(hours=30),
                    text=text, in_reply_to=ack_id)  # fmt: skip
    c.add(f"answer_in_ack_thread_{lang}", raw, "human", co, "webmail/re-ack",
          "subject 'Re: <ack subject>'")  # fmt: skip


# -- mail that answers no company ------------------------------------------------------
def unrelated(c: Corpus, by_lang: dict[str, list[Co]]) -> None:
    when = SUBMITTED + timedelta(days=1)
    some = by_lang["en"][0]
    he = by_lang["he"][0]

    def plain(name: str, sender: str, sname: str, subject: str, text: str, expect: str,
              note: str, hdrs: list[tuple[str, str]] | None = None, to: str | None = None) -> None:  # fmt: skip
        raw, _ = c.mail(None, sender=sender, sender_name=sname, subject=subject,
                        when=when + timedelta(minutes=c.n), text=text, headers=hdrs, to=to)  # fmt: skip
        c.add(name, raw, expect, None, "unmatched", note)

    plain("seo_spam_signed", "jack.m@outreach-pros.example", "Jack Morgan",
          "Quick question about your website",
          "Hi there,\n\nI was checking your website and noticed it is not ranking on the first "
          "page of Google for your main keywords. We can fix that within 30 days for only $199 "
          "per month.\n\nCan I send you a free audit?\n\nBest regards,\nJack Morgan\n"
          "SEO Specialist", "unrelated", "human-looking, signed, prices")  # fmt: skip
    plain("phishing_mailbox_full", "it-support@mail-quota.example", "Mail Administrator",
          "Your mailbox is almost full",
          "Dear user,\n\nYour mailbox has reached 98% of its quota. To avoid losing incoming "
          "messages, verify your account within 24 hours:\nhttps://mail-quota.example/verify\n\n"
          "Mail Administrator", "unrelated", "phishing")  # fmt: skip
    plain("colleague_names_a_company", "noa@consultancy.example", "Noa Peretz",
          f"{some.name} / {he.name}",
          f"Hi Dana,\n\nDid {some.name} reply to you yet? And {he.name}? The client wants the "
          "first numbers on Thursday, so I'd like to have the table by Wednesday.\n\nThanks,\nNoa",
          "unrelated", "a colleague's mail naming two companies")  # fmt: skip
    near = some.token[:-1] + ("2" if some.token[-1] != "2" else "3")
    plain("near_miss_reference", "j.doe.1987@gmail-like.example", "John Doe",
          f"Re: Question about your services (ref CA-{near.upper()})",
          "Hello,\n\nI think this reached me by mistake - I don't work for any bank. You may "
          "want to check the address.\n\nRegards,\nJohn", "unrelated",
          "a reference code one character off")  # fmt: skip
    plain("google_security_alert", "no-reply@accounts.google.com", "Google",
          "Security alert",
          "A new sign-in on Linux\n\nWe noticed a new sign-in to your Google Account on a Linux "
          "device. If this was you, you don't need to do anything.", "unrelated",
          "provider notice")  # fmt: skip
    plain("microsoft_account_notice", "account-security-noreply@accountprotection.microsoft.com",
          "Microsoft account team", "Microsoft account security info was added",
          "The following security info was recently added to the Microsoft account.\n\n"
          "If this was you, you can safely ignore this email.\n\nThanks,\nThe Microsoft "
          "account team", "unrelated", "provider notice")  # fmt: skip
    plain("recruiter", "talent@hire-fast.example", "Maya Katz",
          "Exciting opportunity",
          "Hi Dana,\n\nI came across your profile and think you'd be a great fit for a senior "
          "analyst role at one of our clients. The salary range is 25,000-30,000 NIS. Would "
          "you be open to a short call this week?\n\nBest,\nMaya Katz\nTalent Partner",
          "unrelated", "personal, specific, unmatched")  # fmt: skip
    plain("hebrew_loan_spam", "offers@halvaot-now.example", "הלוואות עכשיו",
          "אושרה לך הלוואה של 50,000 ש\"ח",
          "שלום,\n\nאושרה עבורך הלוואה של עד 50,000 ש\"ח ללא בדיקת BDI! ההחזר החודשי מתחיל "
          "ב-499 ש\"ח בלבד.\nלפרטים השאירי פרטים ונציג יחזור אלייך בהקדם.\n\nצוות הלוואות עכשיו",
          "unrelated", "Hebrew spam with ack-like phrasing")  # fmt: skip
    plain("hebrew_wrong_person", "avi.k@walla-like.example", "אבי כהן",
          "Re: שאלה לגבי השירותים שלכם",
          "שלום,\n\nנראה לי שההודעה הגיעה אליי בטעות, אני לא עובד בחברה הזאת.\n\nבהצלחה,\nאבי",
          "unrelated", "a person, no reference code")  # fmt: skip
    plain("arabic_prize_spam", "prize@jawaez.example", "إدارة الجوائز",
          "مبروك! لقد ربحت",
          "مبروك! لقد تم اختيار بريدك الإلكتروني للفوز بجائزة قدرها 10,000 دولار. يرجى الرد "
          "بالاسم الكامل ورقم الهاتف لاستلام الجائزة.", "unrelated", "Arabic spam")  # fmt: skip
    plain("russian_invoice_phish", "buh@schet-online.example", "Бухгалтерия",
          "Счёт на оплату № 4471",
          "Добрый день!\n\nВо вложении счёт на оплату № 4471 на сумму 18 400 ₽. Просим оплатить "
          "до конца недели.\n\nС уважением,\nбухгалтерия", "unrelated", "Russian phishing")  # fmt: skip
    plain("german_parcel_phish", "info@paket-status.example", "Paketdienst",
          "Ihr Paket konnte nicht zugestellt werden",
          "Guten Tag,\n\nIhr Paket konnte heute nicht zugestellt werden. Bitte bestätigen Sie "
          "Ihre Adresse und zahlen Sie die Gebühr von 1,99 € unter folgendem Link.",
          "unrelated", "German phishing")  # fmt: skip
    plain("french_survey_invite", "enquetes@panel-avis.example", "Panel Avis",
          "Donnez votre avis et gagnez 50 €",
          "Bonjour,\n\nParticipez à notre enquête de 5 minutes et tentez de gagner un bon "
          "d'achat de 50 €.\n\nL'équipe Panel Avis", "unrelated", "French solicitation")  # fmt: skip
    plain("auto_ack_of_unknown_company", "noreply@random-shop.example", "Random Shop",
          "We have received your message",
          "Thank you for contacting Random Shop. We have received your message and will get "
          "back to you within 24 hours.", "unrelated",
          "an acknowledgement for something we never sent")  # fmt: skip
    plain("meeting_invite_text", "ron@consultancy.example", "Ron Biton",
          "Weekly sync moved to 11:00",
          "Hi all,\n\nThe weekly sync moves to 11:00 tomorrow because of the client call. Same "
          "link.\n\nRon", "unrelated", "internal mail")  # fmt: skip
    plain("lookalike_domain_answer", "support@northwind-bank-secure.example", "Northwind Bank",
          "Re: Question about your services",
          "Dear customer,\n\nTo answer your question we need to verify your identity. Please "
          "log in at https://northwind-bank-secure.example/login within 24 hours.\n\nNorthwind "
          "Bank Security", "unrelated", "look-alike domain, no reference")  # fmt: skip
    for k, lang in enumerate(("en", "he", "de", "ru")):
        subj, body, unsub = T.NEWSLETTER[lang]
        raw, _ = c.mail(None, sender=f"news@deals-{k}.example", sender_name=f"Deals {k}",
                        subject=subj.format(company=f"Deals {k}"),
                        when=when + timedelta(hours=k), text=f"{body}\n\n{unsub}",
                        html=html_of(f"{body}\n\n{unsub}"),
                        headers=[("List-Unsubscribe", f"<mailto:u{k}@deals-{k}.example>"),
                                 ("Precedence", "bulk")])  # fmt: skip
        c.add(f"unknown_newsletter_{lang}", raw, "marketing", None, "unmatched",
              "a list we never joined")  # fmt: skip
    for k in range(4):
        raw, _ = c.mail(None, sender=f"promo{k}@bulk-{k}.example", sender_name="Special Offer",
                        subject=["You won't believe these prices", "Last chance!!!",
                                 "Your exclusive coupon inside", "Re: invoice"][k],
                        when=when + timedelta(hours=5 + k),
                        text=["Cheap meds, fast shipping, no prescription.",
                              "Earn $5,000 a week from home. Reply YES.",
                              "Click here to claim your coupon worth $100.",
                              "Please see the attached invoice and confirm payment today."][k])  # fmt: skip
        c.add(f"bulk_spam_{k}", raw, "unrelated", None, "unmatched", "spam")


def measured_misses(c: Corpus, by_lang: dict[str, list[Co]]) -> None:
    """The cases issue 11 measured, written out once more on their own."""
    he = by_lang["he"]
    co = he[2]
    when = SUBMITTED + timedelta(hours=4)
    text = (
        "שלום דנה,\n\nתודה על פנייתך. פתיחת חשבון אצלנו נעשית באפליקציה ולוקחת כרבע שעה. "
        'העלות היא 25 ש"ח לחודש, ובשלושת החודשים הראשונים אין עמלה.\n\n'
        "אם משהו לא ברור נבדוק ונחזור אליך\n\nבברכה,\nשירן גולן\nמוקד מכירות"
    )
    raw, _ = c.mail(co, sender=f"shiran@{co.domain}", sender_name="שירן גולן",
                    subject=f"Re: {co.subject}", when=when, text=text)  # fmt: skip
    c.add("hebrew_answer_ending_we_will_get_back", raw, "human", co, "webmail/measured",
          "ends '...ונחזור אליך'")  # fmt: skip
    co = he[3]
    text = (
        'היי דנה,\n\nיש לנו שני מסלולים: בסיסי ב-39 ש"ח ומורחב ב-79 ש"ח לחודש. ללקוחות '
        "חדשים יש חודש ראשון במתנה.\nנשמח לתאם שיחה כדי להתאים לך את המסלול הנכון.\n\n"
        "תודה,\nעומר"
    )
    raw, _ = c.mail(co, sender=f"omer@{co.domain}", sender_name="עומר ביטון",
                    subject=f"Re: {co.subject}", when=when, text=text,
                    headers=[("X-Mailer", "Microsoft Outlook 16.0")])  # fmt: skip
    c.add("hebrew_answer_offering_a_call", raw, "human", co, "webmail/measured",
          "offers 'נשמח לתאם שיחה'")  # fmt: skip
    co = he[4]
    text = (
        f"שלום {co.persona},\n\nההודעה שלך התקבלה. נציג מטעמנו ייצור איתך קשר בהקדם.\n\n"
        f"שם: {co.persona}\nטלפון: {T.PHONE}\nאימייל: {co.reply_address}\n"
        f"תוכן ההודעה: {co.message}\n\n--\n{co.name}"
    )
    raw, _ = c.mail(co, sender=f"wordpress@{co.domain}", sender_name=co.name,
                    subject="ההודעה שלך התקבלה", when=SUBMITTED + timedelta(seconds=9),
                    text=text, headers=[("X-Mailer", "PHPMailer 6.9.1")])  # fmt: skip
    c.add("hebrew_wordpress_echoes_inquiry", raw, "auto_ack", co, "wordpress/measured",
          "echoes 'תוכן ההודעה: <our message>' unquoted")  # fmt: skip
    for k, hd in enumerate(("freshdesk", "hubspot")):
        co = by_lang["en"][k + 4]
        text = (
            f"Thank you for contacting {co.name}.\n\nI checked your question with our billing "
            "team: the Standard plan is $29 a month and we waive the setup fee for new customers "
            "until the end of the year. You can open the account online in ten minutes.\n\n"
            "Kind regards,\nPriya Shah\nCustomer Support"
        )
        hdrs = [("X-FD-Email", f"support@{co.slug}.freshdesk.com")] if hd == "freshdesk" else []
        rp = f"1ax{c.token()}@bf03x.hubspotemail.net" if hd == "hubspot" else None
        sender = f"support@{co.slug}.freshdesk.com" if hd == "freshdesk" else f"priya@{co.domain}"
        raw, _ = c.mail(co, sender=sender, sender_name="Priya Shah", subject=f"Re: {co.subject}",
                        when=when, text=text, html=html_of(text), headers=hdrs,
                        return_path=rp)  # fmt: skip
        c.add(f"{hd}_agent_thank_you_for_contacting", raw, "human", co, f"{hd}/measured",
              "opens 'Thank you for contacting <Company>'")  # fmt: skip


def build() -> Corpus:
    c = Corpus()
    by_lang: dict[str, list[Co]] = {}
    for lang in T.LANGS:
        for i, (name, domain) in enumerate(COMPANIES[lang]):
            offset = T.LANGS.index(lang) * 3
            setup = SETUPS[(i + offset) % len(SETUPS)]
            token = c.token()
            slug = domain.split(".")[0]
            addr = f"survey+{token}@{REPLY_DOMAIN}" if i % 3 else f"{token}@{REPLY_DOMAIN}"
            co = Co(slug, name, lang, domain, setup, token, addr)
            if setup in HELPDESKS:
                hosted = {"zendesk": "zendesk.com", "freshdesk": "freshdesk.com",
                          "servicenow": "service-now.com"}  # fmt: skip
                if setup in hosted:
                    co.extra_domains = [f"{slug}.{hosted[setup]}"]
            c.companies.append(co)
            by_lang.setdefault(lang, []).append(co)
    stories = {"wordpress": wordpress_story, "crm_outlook": crm_story, "ooo": ooo_story,
               "webmail": webmail_story, "bounce": bounce_story}  # fmt: skip
    for lang in T.LANGS:
        for i, co in enumerate(by_lang[lang]):
            if co.setup in HELPDESKS:
                helpdesk_story(c, co, i)
            else:
                stories[co.setup](c, co, i)
            if i % 4 == 1:
                newsletter(c, co, i, by_domain=i % 8 == 5)
            if i % 5 == 2:
                reply_to_ack_subject(c, co)
            if i % 6 == 4:
                tag_dropped_answer(c, co)
            if i % 7 == 6:
                bounce_story(c, co, i + 1)
    measured_misses(c, by_lang)
    unrelated(c, by_lang)
    return c


def main() -> None:
    c = build()
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.eml"):
        old.unlink()
    for name, raw in c.files.items():
        (OUT / name).write_bytes(raw)
    companies = [
        {
            "slug": co.slug,
            "name": co.name,
            "lang": co.lang,
            "token": co.token,
            "reply_address": co.reply_address,
            "domains": [co.domain, *co.extra_domains],
            "sent": co.sent,
        }  # fmt: skip
        for co in c.companies
    ]
    MANIFEST.write_text(
        json.dumps({"companies": companies, "messages": c.entries}, ensure_ascii=False, indent=1)
        + "\n",
        encoding="utf-8",
    )
    counts: dict[str, int] = {}
    for e in c.entries:
        counts[str(e["expect"])] = counts.get(str(e["expect"]), 0) + 1
    print(f"{len(c.entries)} messages: {counts}")


if __name__ == "__main__":
    main()
