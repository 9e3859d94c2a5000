"""A local web server for the form gallery that answers like the real products do.

Serves ``tests/probes/gallery/`` on 127.0.0.1, records every request (and every POST's
fields, whatever the encoding), and answers each form's submit endpoint the way the real
product would: Contact Form 7's REST JSON, WPForms/Elementor/Ninja Forms admin-ajax,
Gravity Forms' hidden-iframe postback, HubSpot's submission API on a second origin, a
Drupal Webform time trap, Salesforce Web-to-Case's refresh to ``retURL``, a 500, a
server-side validation error re-rendered with ``aria-invalid``, and so on.

Pages may use four placeholders, substituted when served:

- ``{{NOW}}``: the Unix time at which the page was served (time-trap fields);
- ``{{SELF}}``: the origin serving the page (sitemaps need absolute URLs);
- ``{{SITE:folder}}``: the origin of a separate server whose document root is
  ``gallery/folder`` (a second origin for cross-origin iframes, or a site of its own
  whose home page is ``/``, for contact-page discovery through the footer or sitemap);
- ``{{HTTP}}``: the plain-http main origin (a page served on the https origin, see
  ``site(folder, tls=True)``, whose form posts to http).

No mocks: a real ``ThreadingHTTPServer`` per origin, all sharing one recorder.
"""

from __future__ import annotations

import html
import json
import mimetypes
import re
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

GALLERY = Path(__file__).parent / "gallery"
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DRUPAL_HONEYPOT_TIME_LIMIT_S = 5.0  # the Drupal Honeypot module's default time limit

# ---------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------


@dataclass
class Hit:
    """One request the server received."""

    origin: str
    method: str
    path: str
    query: str
    headers: dict[str, str]
    content_type: str = ""
    raw: bytes = b""
    fields: dict[str, Any] = field(default_factory=dict)  # flattened submitted fields
    files: dict[str, str] = field(default_factory=dict)  # field name -> file name
    at: float = field(default_factory=time.time)
    status: int = 0

    def value(self, key: str) -> str:
        """A field's value as text ('' when absent; lists joined by commas)."""
        v = self.fields.get(key)
        if v is None:
            return ""
        if isinstance(v, list):
            return ",".join(str(x) for x in v)
        return str(v)


def _flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            key = f"{prefix}.{k}" if prefix else str(k)
            if isinstance(v, dict):
                out.update(_flatten(v, key))
            else:
                out[key] = v
    else:
        out[prefix or "_"] = obj
    return out


def parse_body(content_type: str, raw: bytes) -> tuple[dict[str, Any], dict[str, str]]:
    """Submitted fields of a form-urlencoded, multipart or JSON body."""
    ctype = content_type.split(";")[0].strip().lower()
    fields: dict[str, Any] = {}
    files: dict[str, str] = {}
    if ctype == "application/x-www-form-urlencoded" or (not ctype and b"=" in raw):
        for k, vs in parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True).items():
            fields[k] = vs[0] if len(vs) == 1 else vs
    elif ctype == "multipart/form-data":
        msg = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw
        )
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name is None:
                continue
            filename = part.get_filename()
            payload = part.get_payload(decode=True) or b""
            if filename is not None:
                files[str(name)] = filename
                value: Any = filename
            else:
                value = payload.decode(part.get_content_charset() or "utf-8", "replace")
            if name in fields:
                prev = fields[name]
                fields[name] = [*prev, value] if isinstance(prev, list) else [prev, value]
            else:
                fields[str(name)] = value
    elif ctype in ("application/json", "text/plain") and raw.strip()[:1] in (b"{", b"["):
        try:
            fields = _flatten(json.loads(raw))
        except ValueError:
            fields = {}
    return fields, files


# ---------------------------------------------------------------------------------------
# Responses
# ---------------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int = 200
    body: bytes | str = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, obj: Any, status: int = 200) -> Reply:
        return cls(status, json.dumps(obj, ensure_ascii=False), "application/json; charset=utf-8")

    @classmethod
    def redirect(cls, location: str, status: int = 303) -> Reply:
        return cls(status, b"", headers={"Location": location})

    @classmethod
    def page(cls, title: str, text: str, *, lang: str = "en", status: int = 200) -> Reply:
        direction = "rtl" if lang in ("he", "ar") else "ltr"
        body = (
            f'<!DOCTYPE html><html lang="{lang}" dir="{direction}"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title></head><body><main>"
            f'<h1>{html.escape(title)}</h1><p class="confirmation">{html.escape(text)}</p>'
            "</main></body></html>"
        )
        return cls(status, body)


Handler = Callable[["Request"], Reply]


@dataclass
class Request:
    server: GalleryServer
    origin: str
    hit: Hit

    @property
    def fields(self) -> dict[str, Any]:
        return self.hit.fields

    def value(self, key: str) -> str:
        return self.hit.value(key).strip()

    def rerender(self, page: str, errors: dict[str, str], banner: str, keep: bool = False) -> Reply:
        """Re-render a gallery page with an error banner and aria-invalid fields.

        The page marks where the banner goes with ``<!--ERRORS-->``; each invalid field
        (by name attribute) gets ``aria-invalid="true"`` and an error message after it.
        ``keep``: the submitted values are put back in their fields, as ASP.NET, Drupal
        and most server-rendered forms do.
        """
        text = self.server.render(page, self.origin)
        if keep:
            text = self.keep_values(text)
        items = "".join(f"<li>{html.escape(m)}</li>" for m in errors.values())
        block = (
            f'<div class="messages messages--error" role="alert"><p>{html.escape(banner)}</p>'
            f"<ul>{items}</ul></div>"
        )
        text = text.replace("<!--ERRORS-->", block)
        for name, message in errors.items():
            pattern = re.compile(
                r'(<(?:input|textarea|select)\b[^>]*\bname="' + re.escape(name) + r'"[^>]*?)(/?>)'
            )
            text = pattern.sub(
                lambda m, msg=message: (
                    m.group(1).replace('aria-invalid="false"', "")
                    + ' aria-invalid="true"'
                    + m.group(2)
                    + f'<span class="error" role="alert">{html.escape(msg)}</span>'
                ),
                text,
                count=1,
            )
        return Reply(200, text)

    def keep_values(self, text: str) -> str:
        for name, value in self.fields.items():
            v = html.escape(str(value), quote=True)
            n = re.escape(name)
            text = re.sub(
                r'(<input\b(?![^>]*type="(?:hidden|checkbox|radio|submit)")[^>]*\bname="'
                + n + r'")',
                lambda m, v=v: m.group(1) + f' value="{v}"',
                text,
                count=1,
            )  # fmt: skip
            text = re.sub(
                r'(<textarea\b[^>]*\bname="' + n + r'"[^>]*>)</textarea>',
                lambda m, v=v: m.group(1) + v + "</textarea>",
                text,
                count=1,
            )
        return text


# ---------------------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------------------


class GalleryServer:
    """The gallery's origins and their shared recorder. Use as a context manager."""

    def __init__(self, root: Path = GALLERY) -> None:
        self.root = root
        self.hits: list[Hit] = []
        self._lock = threading.Lock()
        self._servers: dict[str, tuple[ThreadingHTTPServer, threading.Thread]] = {}
        self._tls: ssl.SSLContext | None = None
        self._tmp = tempfile.TemporaryDirectory(prefix="gallery-tls-")
        self.routes: list[tuple[re.Pattern[str], Handler]] = []
        # The Drupal time trap's limit; a control test raises it so that any filler, however
        # slow the machine, is "hasty" (its verdict must not depend on the machine's speed).
        self.drupal_time_limit_s = DRUPAL_HONEYPOT_TIME_LIMIT_S
        install_routes(self)

    # lifecycle ---------------------------------------------------------------------
    def __enter__(self) -> GalleryServer:
        self.site("")
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            servers = list(self._servers.values())
            self._servers.clear()
        for srv, thread in servers:
            srv.shutdown()
            srv.server_close()
            thread.join(timeout=5)
        self._tmp.cleanup()

    def tls_context(self) -> ssl.SSLContext:
        """A throwaway self-signed certificate for 127.0.0.1 (openssl), made once."""
        if self._tls is None:
            key, cert = Path(self._tmp.name) / "key.pem", Path(self._tmp.name) / "cert.pem"
            subprocess.run(
                ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                 "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                 "-keyout", str(key), "-out", str(cert)],
                check=True, capture_output=True, timeout=60,
            )  # fmt: skip
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cert, key)
            self._tls = ctx
        return self._tls

    def site(self, folder: str, tls: bool = False) -> str:
        """The origin serving ``gallery/folder`` as its document root (started on demand);
        ``tls``: an https origin (self-signed certificate) for the same folder."""
        folder = folder.strip("/")
        key = f"tls:{folder}" if tls else folder
        ctx = self.tls_context() if tls else None
        with self._lock:
            if key not in self._servers:
                scheme = "https" if tls else "http"
                srv = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self, folder, scheme))
                if ctx is not None:
                    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
                srv.daemon_threads = True
                thread = threading.Thread(target=srv.serve_forever, daemon=True)
                thread.start()
                self._servers[key] = (srv, thread)
            srv = self._servers[key][0]
        return f"{'https' if tls else 'http'}://127.0.0.1:{srv.server_address[1]}"

    @property
    def origin(self) -> str:
        return self.site("")

    def url(self, path: str, folder: str = "", tls: bool = False) -> str:
        return self.site(folder, tls) + "/" + path.lstrip("/")

    # records -----------------------------------------------------------------------
    def reset(self) -> None:
        with self._lock:
            self.hits.clear()

    def posts(self) -> list[Hit]:
        with self._lock:
            return [h for h in self.hits if h.method == "POST"]

    def record(self, hit: Hit) -> None:
        with self._lock:
            self.hits.append(hit)

    # pages -------------------------------------------------------------------------
    def render(self, relpath: str, origin: str) -> str:
        text = (self.root / relpath).read_text(encoding="utf-8")
        return self.substitute(text, origin)

    def substitute(self, text: str, origin: str) -> str:
        text = text.replace("{{NOW}}", f"{time.time():.3f}").replace("{{SELF}}", origin)
        if "{{HTTP}}" in text:  # the plain-http main origin (a form posting out of https)
            text = text.replace("{{HTTP}}", self.site(""))
        return re.sub(r"\{\{SITE:([\w./-]+)\}\}", lambda m: self.site(m.group(1)), text)

    def route(self, pattern: str) -> Callable[[Handler], Handler]:
        def deco(fn: Handler) -> Handler:
            self.routes.append((re.compile(pattern + r"\Z"), fn))
            return fn

        return deco


def _spa_index(docroot: Path, rel: str) -> Path | None:
    """A single-page app answers every path under it with its index.html (marker: _spa)."""
    parts = Path(rel).parts
    for i in range(len(parts) - 1, 0, -1):
        folder = docroot.joinpath(*parts[:i])
        if (folder / "_spa").is_file() and (folder / "index.html").is_file():
            return folder / "index.html"
    return None


def _make_handler(
    server: GalleryServer, folder: str, scheme: str = "http"
) -> type[BaseHTTPRequestHandler]:
    docroot = (server.root / folder).resolve()

    class GalleryHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        @property
        def _origin(self) -> str:
            return f"{scheme}://127.0.0.1:{self.server.server_address[1]}"

        def _hit(self, raw: bytes = b"") -> Hit:
            parts = urlsplit(self.path)
            ctype = self.headers.get("Content-Type", "")
            hit = Hit(
                origin=self._origin,
                method=self.command,
                path=parts.path,
                query=parts.query,
                headers={k.lower(): v for k, v in self.headers.items()},
                content_type=ctype,
                raw=raw,
            )
            if raw:
                hit.fields, hit.files = parse_body(ctype, raw)
            server.record(hit)
            return hit

        def _send(self, reply: Reply, hit: Hit) -> None:
            body = reply.body.encode("utf-8") if isinstance(reply.body, str) else reply.body
            hit.status = reply.status
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            for k, v in reply.headers.items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802
            hit = self._hit()
            rel = hit.path.lstrip("/")
            target: Path | None = (docroot / rel).resolve()
            assert target is not None
            if docroot not in (target, *target.parents):
                self._send(Reply(403, "forbidden", "text/plain"), hit)
                return
            if target.is_dir():
                if not hit.path.endswith("/"):
                    self._send(Reply.redirect(hit.path + "/", 301), hit)
                    return
                target = target / "index.html"
            if not target.is_file():
                target = _spa_index(docroot, rel)
            if target is None:
                self._send(Reply(404, "<h1>Not Found</h1>"), hit)
                return
            ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
            if target.suffix in (".html", ".xml", ".txt", ".js", ".css", ".json"):
                text = server.substitute(target.read_text(encoding="utf-8"), self._origin)
                self._send(Reply(200, text, f"{ctype}; charset=utf-8"), hit)
            else:
                self._send(Reply(200, target.read_bytes(), ctype), hit)

        do_HEAD = do_GET

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            hit = self._hit(raw)
            for pattern, fn in server.routes:
                if pattern.match(hit.path):
                    try:
                        reply = fn(Request(server, self._origin, hit))
                    except Exception as exc:  # a bug in a route: show it, do not hang
                        reply = Reply(599, f"gallery route error: {exc!r}", "text/plain")
                    break
            else:
                reply = Reply(404, "<h1>Not Found</h1><p>No such endpoint.</p>")
            self._send(reply, hit)

        def do_OPTIONS(self) -> None:  # noqa: N802
            # No CORS anywhere: a cross-origin fetch from the gallery would be a page bug.
            hit = self._hit()
            self._send(Reply(405, "", "text/plain"), hit)

    return GalleryHandler


# ---------------------------------------------------------------------------------------
# What each product's endpoint answers
# ---------------------------------------------------------------------------------------


def _missing(req: Request, required: list[str], emails: tuple[str, ...] = ()) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name in required:
        if not req.value(name):
            errors[name] = "This field is required."
    for name in emails:
        if req.value(name) and not EMAIL_RE.match(req.value(name)):
            errors[name] = "Please enter a valid email address."
    return errors


def israeli_id_ok(value: str) -> bool:
    """The check digit of an Israeli identity number (ת.ז.), 5 to 9 digits."""
    digits = value.strip()
    if not digits.isdigit() or not 5 <= len(digits) <= 9:
        return False
    total = 0
    for i, ch in enumerate(digits.zfill(9)):
        n = int(ch) * (1 + i % 2)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def install_routes(s: GalleryServer) -> None:  # noqa: C901 - one table of endpoints
    # Contact Form 7 (REST API). Form 42 sends mail; form 43 is flagged by Akismet.
    @s.route(r"/wp-json/contact-form-7/v1/contact-forms/(\d+)/feedback")
    def cf7(req: Request) -> Reply:
        form_id = int(req.hit.path.split("/")[-2])
        unit = req.value("_wpcf7_unit_tag") or f"wpcf7-f{form_id}-o1"
        errors = _missing(req, ["your-name", "your-email"], ("your-email",))  # CF7 default form
        tel = req.value("your-tel")
        if form_id == 44 and not re.fullmatch(r"0\d{8,9}", tel):  # [tel* your-tel] + a filter
            errors["your-tel"] = "Please enter a phone number with digits only, e.g. 0521234567."
        base = {"contact_form_id": form_id, "into": f"#{unit}", "posted_data_hash": ""}
        if errors:
            return Reply.json(
                base
                | {
                    "status": "validation_failed",
                    "message": "One or more fields have an error. Please check and try again.",
                    "invalid_fields": [
                        {"field": k, "message": v, "idref": None, "error_id": f"{unit}-ve-{k}"}
                        for k, v in errors.items()
                    ],
                }
            )
        if form_id == 43 or req.value("your-website"):
            return Reply.json(
                base
                | {
                    "status": "spam",
                    "message": "There was an error trying to send your message. "
                    "Please try again later.",
                }
            )
        return Reply.json(
            base
            | {
                "status": "mail_sent",
                "message": "Thank you for your message. It has been sent.",
                "posted_data_hash": "2f1c0d8e6f3a4b5c",
            }
        )

    # WordPress admin-ajax: WPForms, Elementor Pro forms, Ninja Forms.
    @s.route(r"/wp-admin/admin-ajax\.php")
    def admin_ajax(req: Request) -> Reply:
        action = req.value("action")
        if action == "wpforms_submit":
            errors = _missing(
                req,
                [
                    "wpforms[fields][0][first]",
                    "wpforms[fields][0][last]",
                    "wpforms[fields][1]",
                    "wpforms[fields][2]",
                ],
                ("wpforms[fields][1]",),
            )
            if errors:
                return Reply.json(
                    {"success": False, "data": {"errors": {"general": {}, "field": errors}}}
                )
            return Reply.json(
                {
                    "success": True,
                    "data": {
                        "confirmation": '<div class="wpforms-confirmation-container-full '
                        'wpforms-confirmation-scroll" id="wpforms-confirmation-123"><p>Thanks '
                        "for contacting us! We will be in touch with you shortly.</p></div>"
                    },
                }
            )
        if action == "elementor_pro_forms_send_form" and req.value("form_id") == "7b2e4d9":
            if not req.value("form_fields[phone]").startswith("+"):  # errors by custom field id
                return Reply.json(
                    {
                        "success": False,
                        "data": {
                            "message": "Your submission failed because of an error.",
                            "errors": {"phone": "Please enter the number with its country code."},
                            "data": [],
                        },
                    }
                )
            return Reply.json({"success": True, "data": {"message": "Thanks! We'll be in touch."}})
        if action == "elementor_pro_forms_send_form":
            errors = _missing(
                req,
                ["form_fields[name]", "form_fields[email]", "form_fields[message]"],
                ("form_fields[email]",),
            )
            if errors:
                return Reply.json(
                    {
                        "success": False,
                        "data": {
                            "message": "Your submission failed because of an error.",
                            "errors": errors,
                            "data": [],
                        },
                    }
                )
            return Reply.json(
                {
                    "success": True,
                    "data": {"message": "The form was sent successfully.", "data": []},
                }
            )
        if action == "nf_ajax_submit":
            data = json.loads(req.value("formData") or "{}")
            for fid, f in (data.get("fields") or {}).items():
                req.fields[f"nf-field-{fid}"] = f.get("value", "")
            req.fields["nf-field-hp"] = (data.get("extra") or {}).get("nf-field-hp", "")
            errors = _missing(req, ["nf-field-1", "nf-field-2", "nf-field-3"], ("nf-field-2",))
            if errors:
                return Reply.json({"errors": {"fields": errors}, "data": data})
            return Reply.json(
                {
                    "data": data
                    | {
                        "actions": {
                            "success_message": "<p>Your form has been successfully submitted.</p>"
                        }
                    },
                    "errors": [],
                }
            )
        return Reply(400, "0", "text/plain")

    # Gravity Forms posts the whole form into a hidden iframe and reads the postback.
    @s.route(r"/gravity_forms_iframe/")
    def gravity(req: Request) -> Reply:
        errors = _missing(req, ["input_1.3", "input_1.6", "input_2", "input_4"], ("input_2",))
        if errors:
            inner = (
                "<div class='gform_validation_errors' id='gform_1_validation_container'>"
                "<h2 class='gform_submission_error'>There was a problem with your submission. "
                "Please review the fields below.</h2></div>"
            )
        else:
            # A filled honeypot gets the same confirmation: Gravity Forms drops it silently.
            inner = (
                "<div id='gform_confirmation_wrapper_1' class='gform_confirmation_wrapper '>"
                "<div id='gform_confirmation_message_1' class='gform_confirmation_message_1 "
                "gform_confirmation_message'>Thanks for contacting us! We will get in touch "
                "with you shortly.</div></div>"
            )
        return Reply(
            200,
            "<!DOCTYPE html><html><head><meta charset='UTF-8' /></head>"
            f"<body class='GF_AJAX_POSTBACK'>{inner}</body></html>",
        )

    # HubSpot's submission API, on the forms origin (a different port from the page).
    @s.route(r"/submissions/v3/public/submit/formsnext/multipart/\d+/[\w-]+")
    def hubspot(req: Request) -> Reply:
        errors = _missing(req, ["email", "firstname", "message"], ("email",))
        if req.value("LEGAL_CONSENT.processing") != "true":
            errors["LEGAL_CONSENT.processing"] = "Please complete this required field."
        if errors:
            return Reply.json(
                {
                    "status": "error",
                    "errors": [
                        {"errorType": "REQUIRED_FIELD", "message": f"{k}: {v}"}
                        for k, v in errors.items()
                    ],
                },
                400,
            )
        return Reply.json({"inlineMessage": "Thanks for submitting the form.", "redirectUri": None})

    @s.route(r"/api/v1/form/[0-9a-f]+")
    def webflow(req: Request) -> Reply:
        errors = _missing(
            req, ["fields[Name]", "fields[Email]", "fields[Message]"], ("fields[Email]",)
        )
        if errors:
            return Reply.json({"msg": "Form submission failed", "code": 400}, 400)
        return Reply.json({"msg": "ok", "code": 200})

    @s.route(r"/api/form/SaveFormSubmission")
    def squarespace(req: Request) -> Reply:
        email = "form.email-yui_3_17_2_1_1554225612112_10081"
        errors = _missing(req, [email, "form.textarea-yui_3_17_2_1_1554225612112_10082"], (email,))
        if errors:
            return Reply.json({"error": "Invalid form submission", "errors": errors}, 400)
        return Reply.json({"success": True})

    @s.route(r"/_api/wix-forms/v1/submit-form")
    def wix(req: Request) -> Reply:
        errors = _missing(
            req,
            ["submission.first-name", "submission.email", "submission.message"],
            ("submission.email",),
        )
        if errors:
            return Reply.json({"message": "INVALID_ARGUMENT", "details": errors}, 400)
        return Reply.json({"submissionId": "b1946ac9-2cd1-4f6f-9a3c-4a5e2d8f0e11"})

    # Drupal Webform with the Honeypot module: a time trap and a hidden "url" field.
    @s.route(r"/drupal_webform_time_trap/")
    def drupal(req: Request) -> Reply:
        page = "drupal_webform_time_trap/index.html"
        try:
            elapsed = time.time() - float(req.value("honeypot_time"))
        except ValueError:
            elapsed = 0.0
        limit = s.drupal_time_limit_s
        if req.value("url") or elapsed < limit:
            wait = max(1, int(limit - elapsed) + 1)
            return req.rerender(
                page,
                {},
                "There was a problem with your form submission. "
                f"Please wait {wait} seconds and try again.",
            )
        errors = _missing(req, ["name", "email", "message"], ("email",))
        if errors:
            return req.rerender(page, errors, "Please correct the errors below.")
        return Reply.redirect("/drupal_webform_time_trap/confirmation.html")

    @s.route(r"/servlet/servlet\.WebToCase")
    def salesforce(req: Request) -> Reply:
        ret = req.value("retURL") or "/"
        return Reply(
            200,
            '<html><head><meta http-equiv="Refresh" content="0; URL='
            + html.escape(ret)
            + '"></head><body></body></html>',
        )

    @s.route(r"/hc/en-us/requests")
    def zendesk(req: Request) -> Reply:
        errors = _missing(
            req,
            ["request[anonymous_requester_email]", "request[subject]", "request[description]"],
            ("request[anonymous_requester_email]",),
        )
        if errors:
            return req.rerender(
                "zendesk_request_form/new.html", errors, "Please correct the errors below."
            )
        return Reply.redirect("/zendesk_request_form/submitted.html", 302)

    @s.route(r"/api/contact")
    def react(req: Request) -> Reply:
        errors = _missing(req, ["fullName", "email", "message"], ("email",))
        if errors:
            return Reply.json({"ok": False, "errors": errors}, 422)
        return Reply.json({"ok": True, "id": "c_01HZX3"}, 201)

    @s.route(r"/multi_step_form/submit")
    def multistep(req: Request) -> Reply:
        errors = _missing(req, ["name", "email", "message"], ("email",))
        if errors:
            return req.rerender("multi_step_form/index.html", errors, "Please check the form.")
        return Reply.redirect("/multi_step_form/thanks.html")

    @s.route(r"/shadow_dom_web_component/send")
    def shadow(req: Request) -> Reply:
        errors = _missing(req, ["name", "email", "message"], ("email",))
        if errors:
            return Reply.json({"ok": False, "errors": errors}, 422)
        return Reply.json({"ok": True})

    # Hebrew: a bank (national ID + split mobile), an insurer, a health fund.
    @s.route(r"/hebrew_bank_national_id/send")
    def bank(req: Request) -> Reply:
        errors = _missing(
            req,
            ["firstName", "lastName", "idNumber", "phonePrefix", "phoneNumber", "email", "message"],
            ("email",),
        )
        if req.value("idNumber") and not israeli_id_ok(req.value("idNumber")):
            errors["idNumber"] = "מספר תעודת זהות אינו תקין"
        if req.value("phoneNumber") and not re.fullmatch(r"\d{7}", req.value("phoneNumber")):
            errors["phoneNumber"] = "יש להזין 7 ספרות"
        if errors:
            return req.rerender(
                "hebrew_bank_national_id/index.html", errors, "יש לתקן את השדות המסומנים"
            )
        return Reply.page("פנייתך התקבלה", "תודה, פנייתך התקבלה. נציג יחזור אליך בהקדם.", lang="he")

    @s.route(r"/hebrew_insurer_customer_radio/send")
    def insurer(req: Request) -> Reply:
        errors = _missing(
            req, ["fullName", "phone", "email", "isCustomer", "message", "termsConsent"], ("email",)
        )
        if req.value("isCustomer") == "yes" and not req.value("policyNumber"):
            errors["policyNumber"] = "יש להזין מספר פוליסה"
        if errors:
            return req.rerender(
                "hebrew_insurer_customer_radio/index.html", errors, "יש למלא את כל שדות החובה"
            )
        return Reply.redirect("/hebrew_insurer_customer_radio/toda.html")

    @s.route(r"/hebrew_health_fund_topic/api/inquiry")
    def health_fund(req: Request) -> Reply:
        errors = _missing(req, ["fullName", "mobile", "email", "topic", "message"], ("email",))
        if errors:
            return Reply.json({"success": False, "errors": errors}, 400)
        return Reply.json({"success": True, "message": "פנייתך נשלחה בהצלחה"})

    @s.route(r"/french_contact/envoyer")
    def french(req: Request) -> Reply:
        errors = _missing(req, ["nom", "prenom", "courriel", "message", "rgpd"], ("courriel",))
        if errors:
            return req.rerender(
                "french_contact/index.html", errors, "Veuillez corriger les erreurs ci-dessous."
            )
        return Reply.redirect("/french_contact/merci.html")

    @s.route(r"/german_powermail/")
    def german(req: Request) -> Reply:
        p = "tx_powermail_pi1[field]"
        errors = _missing(
            req,
            [
                f"{p}[vorname]",
                f"{p}[nachname]",
                f"{p}[e_mail]",
                f"{p}[nachricht]",
                f"{p}[datenschutz][]",
            ],
            (f"{p}[e_mail]",),
        )
        if req.value(f"{p}[__hp]"):
            return req.rerender("german_powermail/index.html", {}, "Spamverdacht")
        if errors:
            return req.rerender(
                "german_powermail/index.html", errors, "Bitte füllen Sie alle Pflichtfelder aus."
            )
        return Reply.page(
            "Vielen Dank",
            "Vielen Dank für Ihre Nachricht! Wir melden uns in Kürze bei Ihnen.",
            lang="de",
        )

    @s.route(r"/spanish_prestashop/contactenos")
    def spanish(req: Request) -> Reply:
        errors = _missing(
            req, ["id_contact", "from", "message", "psgdpr_consent_checkbox"], ("from",)
        )
        if errors:
            return req.rerender(
                "spanish_prestashop/index.html", errors, "Por favor, revise los campos marcados."
            )
        return Reply.redirect("/spanish_prestashop/enviado.html")

    @s.route(r"/russian_bitrix/")
    def russian(req: Request) -> Reply:
        errors = _missing(req, ["user_name", "user_email", "MESSAGE"], ("user_email",))
        if errors:
            return req.rerender(
                "russian_bitrix/index.html", errors, "Укажите ваше имя, E-mail и текст сообщения."
            )
        return Reply.redirect("/russian_bitrix/ok.html", 302)

    # Plain contact forms (honeypots, captchas, cookie banner, discovery sites, ...):
    # a generic handler that behaves like typical anti-spam plugins.
    def generic(
        required: list[str],
        captcha: str | None = None,
        files: tuple[str, ...] = (),
        thanks: tuple[str, str, str] = (
            "Thank you",
            "Thank you! Your message has been sent.",
            "en",
        ),
        emails: tuple[str, ...] = ("email",),
    ) -> Handler:
        def handle(req: Request) -> Reply:
            if captcha and not req.value(captcha):
                return Reply.page("Error", "Please complete the CAPTCHA.", status=400)
            missing_files = [f for f in files if f not in req.hit.files]
            if missing_files:
                return Reply.page("Error", "Please attach the requested file.", status=400)
            errors = _missing(req, required, emails)
            if errors:
                return Reply.page("Error", "Please fill in all required fields.", status=400)
            # A filled honeypot gets the same answer (typical plugins drop it silently);
            # the test asserts that honeypots arrive empty.
            title, text, lang = thanks
            return Reply.page(title, text, lang=lang)

        return handle

    for path, kw in {
        "/honeypot_offscreen/send": {},
        "/honeypot_zero_size/send": {},
        "/honeypot_aria_hidden/send": {},
        "/honeypot_innocent_label/send": {},
        "/captcha_recaptcha_v2/send": {"captcha": "g-recaptcha-response"},
        "/captcha_recaptcha_v3/send": {"captcha": "g-recaptcha-response"},
        "/captcha_hcaptcha/send": {"captcha": "h-captcha-response"},
        "/captcha_turnstile/send": {"captcha": "cf-turnstile-response"},
        "/captcha_friendly_captcha/send": {"captcha": "frc-captcha-solution"},
        "/captcha_math_question/send": {"captcha": "captcha_answer"},
        "/cookie_banner_overlay/send": {},
        "/company/contact/send": {},  # footer-only site
        "/en/support/send": {},  # sitemap-only site
        "/contact_with_search_and_newsletter/send": {},
        "/file_upload_required/send": {"files": ("attachment",)},
        "/email_mask_strips_plus/send": {},
    }.items():
        s.route(re.escape(path))(generic(["email", "message"], **kw))

    # Issue 10, class 4: forms in closed modals, tabs, accordions and <details>.
    for path, required in {
        "/bootstrap_modal_contact_he/send": ["fullname", "phone", "email"],
        "/bootstrap_tabs_kontakt_de/senden": [
            "vorname",
            "nachname",
            "email",
            "nachricht",
            "datenschutz",
        ],
        "/accordion_collapse_faq_en/send": ["name", "email", "message"],
        "/details_summary_contact_fr/envoyer": ["nom", "prenom", "courriel", "message"],
        "/aria_tabs_hidden_panel_he/send": [
            "first_name",
            "last_name",
            "mobile",
            "email",
            "message",
        ],
    }.items():
        s.route(re.escape(path))(generic(required))

    @s.route(r"/tilda_popup_contact_ru/procces/")
    def tilda(req: Request) -> Reply:
        errors = _missing(req, ["Name", "Phone", "Email"], ("Email",))
        if errors:
            return Reply.json({"error": "Заполните обязательные поля", "fields": list(errors)})
        return Reply.json({"message": "OK", "results": ["381:2287713"]})

    @s.route(
        r"/(bootstrap_modal_contact_he|accordion_collapse_faq_en|modal_newsletter_login_only)/subscribe"
    )
    def subscribe(req: Request) -> Reply:
        return Reply.page("Subscribed", "You are now subscribed to our newsletter.")

    @s.route(
        r"/(bootstrap_tabs_kontakt_de|aria_tabs_hidden_panel_he|modal_newsletter_login_only)/(login|share)"
    )
    def tab_login(req: Request) -> Reply:
        return Reply.page("Sign in", "Wrong user name or password.", status=401)

    # Issue 10, class 3: a page-wide WebForms form with four controls (search image button,
    # call-back box, contact submit, newsletter link): the server acts on the one used.
    @s.route(r"/aspnet_webforms_several_buttons/Contact\.aspx")
    def webforms_buttons(req: Request) -> Reply:
        c = "ctl00$ContentPlaceHolder1$"
        if req.value("ctl00$Header$ImageButton1.x"):
            return Reply.page("Search", "No results for: " + req.value("ctl00$Header$txtSearch"))
        if req.value("ctl00$Sidebar$btnCallback"):
            return Reply.page("Call back", "Thank you, we will call you back.")
        if req.value("__EVENTTARGET") == "ctl00$Footer$lnkSignUp":
            return Reply.page("Newsletter", "You are now subscribed to our newsletter.")
        if not req.value(f"{c}btnSubmit"):
            page = req.server.render("aspnet_webforms_several_buttons/index.html", req.origin)
            return Reply(200, page)
        errors = _missing(req, [f"{c}txtName", f"{c}txtEmail", f"{c}txtEnquiry"])
        if errors:
            return req.rerender(
                "aspnet_webforms_several_buttons/index.html", errors, "Please complete all fields."
            )
        return Reply.page("Thank you", "Thank you for your enquiry. We will reply shortly.")

    @s.route(r"/italian_javascript_link_submit/api/richiesta")
    def richiesta(req: Request) -> Reply:
        errors = _missing(req, ["nome", "email", "richiesta"], ("email",))
        return Reply.json({"ok": not errors, "errori": errors}, 200 if not errors else 422)

    # Issue 10, class 6: roles.
    @s.route(r"/czech_table_layout/odeslat\.php")
    def czech(req: Request) -> Reply:
        errors = _missing(req, ["jmeno", "email", "zprava"], ("email",))
        if req.value("telefon") and not req.value("telefon").isdigit():
            errors["telefon"] = "Telefon musí obsahovat pouze číslice."
        if errors:
            return req.rerender("czech_table_layout/index.html", errors, "Vyplňte prosím formulář.")
        return Reply.page("Děkujeme", "Děkujeme, vaše zpráva byla odeslána.", lang="cs")

    @s.route(r"/card_last4_full_name/enquiry")
    def card_last4(req: Request) -> Reply:
        errors = _missing(req, ["contact_name", "contact_email", "enquiry"], ("contact_email",))
        if errors:
            return Reply.page("Error", "Please fill in all required fields.", status=400)
        return Reply.page("Thank you", "Thank you! Your message has been sent.")

    @s.route(r"/conditional_topic_field_he/send")
    def conditional(req: Request) -> Reply:
        f = "form_fields[{}]".format
        errors = _missing(req, [f("name"), f("email"), f("topic"), f("message")])
        if req.value(f("topic")) == "general" and not req.value(f("subject")):
            errors[f("subject")] = "יש למלא כותרת"
        if errors:
            return Reply.page("שגיאה", "יש למלא את כל שדות החובה", lang="he", status=400)
        return Reply.page("תודה", "תודה! פנייתך התקבלה.", lang="he")

    # Issue 10, class 7: text and image CAPTCHAs (never sent: a wrong answer is refused),
    # and a sign-up form's reCAPTCHA that does not guard the contact form beside it.
    for path, captcha in {
        "/vbulletin_humanverify_contact/sendmessage.php": "humanverify[input]",
        "/hebrew_image_code_captcha/send.php": "sec_code",
        "/question_captcha_are_you_human/contact.php": "cquestion",
    }.items():
        s.route(re.escape(path))(generic(["email", "message"], captcha=captcha))
    s.route(r"/signup_recaptcha_other_form/contact")(generic(["name", "email", "message"]))

    @s.route(r"/signup_recaptcha_other_form/register")
    def register(req: Request) -> Reply:
        if not req.value("g-recaptcha-response"):
            return Reply.page("Error", "Please complete the CAPTCHA.", status=400)
        return Reply.page("Welcome", "Your account has been created.")

    # Issue 10, class 1: a help centre whose Submit first asks the knowledge base (case
    # deflection): the request carries keywords of the subject, none of our values.
    @s.route(r"/helpdesk_article_deflection/api/search/articles")
    def deflection(req: Request) -> Reply:
        return Reply.json(
            {
                "articles": [
                    {"title": "How to read your bill", "url": "/articles/how-to-read-your-bill"},
                    {"title": "Our services and prices", "url": "/articles/services-and-prices"},
                ],
                "total": 2,
            }
        )

    @s.route(r"/helpdesk_article_deflection/api/cases")
    def deflection_case(req: Request) -> Reply:
        return Reply.json({"id": "5003x00002AbCdE", "success": True}, 201)

    # Legacy scripts that mail whatever arrives, empty or not, and always thank you.
    @s.route(r"/readonly_until_focus/mail\.php")
    def readonly_mail(req: Request) -> Reply:
        return Reply.page("Thank you", "Thank you! Your message has been sent.")

    @s.route(r"/maxlength_email_25/send\.asp")
    def asp_mail(req: Request) -> Reply:
        return Reply.page("תודה", "תודה רבה! פנייתך התקבלה ונחזור אליך בהקדם.", lang="he")

    @s.route(r"/maxlength_email_32_catchall/contact\.php")
    def php_mail(req: Request) -> Reply:
        errors = _missing(req, ["cname", "cemail", "cenquiry"], ("cemail",))
        for name, limit in (("cname", 40), ("cemail", 32), ("ctel", 20), ("cenquiry", 300)):
            if len(req.value(name)) > limit:
                errors[name] = f"Maximum {limit} characters."
        if errors:
            return req.rerender(
                "maxlength_email_32_catchall/index.html", errors, "Please check the form."
            )
        return Reply.page("Thank you", "Thank you for your enquiry. We will reply shortly.")

    # Issue 10, class 2: one-line message fields.
    @s.route(r"/single_line_message_input/api/lead")
    def lead(req: Request) -> Reply:
        errors = _missing(req, ["full_name", "work_email", "how_can_we_help"], ("work_email",))
        if errors:
            return Reply.json({"success": False, "errors": errors}, 422)
        return Reply.json({"success": True, "leadId": "L-20931"})

    @s.route(r"/single_line_message_maxlength/send")
    def optics(req: Request) -> Reply:
        errors = _missing(req, ["name", "phone", "email"], ("email",))
        if len(req.value("notes")) > 150:
            errors["notes"] = "עד 150 תווים"
        if errors:
            return req.rerender(
                "single_line_message_maxlength/index.html", errors, "יש למלא את כל שדות החובה"
            )
        return Reply.page("תודה", "תודה! פנייתך נשלחה בהצלחה, נציג יחזור אליך.", lang="he")

    # Issue 10, class 5: public postings. Each answers like the real product would if a
    # probe sent it; the gallery asserts that none is ever sent.
    @s.route(r"/share_dialog_hidden/forward")
    def forward(req: Request) -> Reply:
        return Reply.page("Thank you", "Thank you! The article has been sent.")

    @s.route(r"/shopify_product_review/products/\d+/reviews")
    def review(req: Request) -> Reply:
        return Reply.page("Thank you", "Thank you for submitting a review!")

    @s.route(r"/phpbb_guest_reply/posting\.php")
    def phpbb(req: Request) -> Reply:
        return Reply.page("Information", "This message has been posted successfully.")

    @s.route(r"/guestbook_german/gaestebuch/eintragen\.php")
    def guestbook(req: Request) -> Reply:
        return Reply.page("Gästebuch", "Vielen Dank für Ihren Eintrag!", lang="de")

    @s.route(r"/send_to_friend_prestashop/module/sendtoafriend/sendtoafriend")
    def send_to_friend(req: Request) -> Reply:
        return Reply.page("Send to a friend", "Your e-mail has been sent successfully.")

    # Issue 10, class 3: ASP.NET WebForms wraps the whole page in one form; every control
    # posts everything, and the server acts on the control that was used.
    @s.route(r"/aspnet_webforms_postback/Contact\.aspx")
    def webforms(req: Request) -> Reply:
        target = req.value("__EVENTTARGET")
        if req.value("ctl00$btnSearch"):
            return Reply.redirect(
                "/aspnet_webforms_postback/search.html?q=" + req.value("ctl00$txtSearch"), 302
            )
        if target == "ctl00$lnkLogin":
            return Reply.page("כניסה", "יש להזדהות כדי להיכנס לאזור האישי.", lang="he", status=401)
        if target != "ctl00$MainContent$lnkSend":  # a postback without an event: same page
            return Reply(200, req.server.render("aspnet_webforms_postback/index.html", req.origin))
        m = "ctl00$MainContent$"
        errors = _missing(
            req, [f"{m}txtFullName", f"{m}txtPhone", f"{m}txtEmail", f"{m}txtMessage"]
        )
        if errors:
            return req.rerender(
                "aspnet_webforms_postback/index.html", errors, "יש למלא את כל שדות החובה"
            )
        return Reply.redirect("/aspnet_webforms_postback/thankyou.html", 302)

    # Jetpack's contact form posts to the page itself and redirects to the sent message.
    @s.route(r"/jetpack_contact_form/")
    def jetpack(req: Request) -> Reply:
        errors = _missing(req, ["g2-name", "g2-email"], ("g2-email",))
        if errors or req.value("action") != "grunion-contact-form":
            return Reply.page("Error", "Error! Please fill in the required fields.", status=400)
        return Reply.redirect(
            "/jetpack_contact_form/sent.html?contact-form-id=2&contact-form-sent=4711"
            "&contact-form-hash=0f5b6d1e0c4f87f0f2a1b7e6c0d9e8a7b6c5d4e3&_wpnonce=5c1d2e3f4a"
        )

    @s.route(r"/contact_with_search_and_newsletter/subscribe")
    def newsletter(req: Request) -> Reply:
        return Reply.page("Subscribed", "You are now subscribed to our newsletter.")

    @s.route(r"/no_form_phone_only_contact_page/(login|subscribe)")
    def no_form(req: Request) -> Reply:
        return Reply.page("Sign in", "Wrong user name or password.", status=401)

    @s.route(r"/italian_contact/invia")
    def italian(req: Request) -> Reply:
        errors = _missing(req, ["nome", "cognome", "email", "messaggio", "privacy"], ("email",))
        if errors:
            return req.rerender(
                "italian_contact/index.html", errors, "Compila tutti i campi obbligatori."
            )
        return Reply.page(
            "Grazie", "Grazie! Il tuo messaggio è stato inviato correttamente.", lang="it"
        )

    @s.route(r"/arabic_rtl_contact/send")
    def arabic(req: Request) -> Reply:
        errors = _missing(req, ["field_1", "field_2", "field_5"], ("field_2",))
        if errors:
            return Reply.json({"success": False, "errors": errors}, 422)
        return Reply.json({"success": True})

    @s.route(r"/japanese_confirm_step/send")
    def japanese(req: Request) -> Reply:
        errors = _missing(req, ["onamae", "mail", "naiyou"], ("mail",))
        if errors:
            return req.rerender(
                "japanese_confirm_step/index.html", errors, "必須項目を入力してください。"
            )
        return Reply.page(
            "送信完了", "送信が完了しました。お問い合わせありがとうございました。", lang="ja"
        )

    @s.route(r"/server_error_500/send")
    def server_500(req: Request) -> Reply:
        return Reply(
            500,
            "<html><head><title>500 Internal Server Error</title></head><body>"
            "<h1>Internal Server Error</h1><p>The server encountered an internal "
            "error and was unable to complete your request.</p></body></html>",
        )

    # Issue 10, class 8: phones refused for their format. Each server keeps the values it
    # received when it re-renders the form (as ASP.NET, Drupal and most PHP forms do).
    @s.route(r"/server_validation_phone/send")
    def validation(req: Request) -> Reply:
        errors = _missing(req, ["name", "email", "phone", "message"], ("email",))
        if req.value("phone") and not re.fullmatch(r"\+\d{11,15}", req.value("phone")):
            errors["phone"] = (
                "Please enter the phone number in international format, e.g. +972501234567."
            )
        if errors:
            return req.rerender(
                "server_validation_phone/index.html",
                errors,
                "Your message could not be sent. Please correct the highlighted fields.",
                keep=True,
            )
        return Reply.page("Thank you", "Thank you! Your message has been sent.")

    @s.route(r"/phone_international_he/send")
    def phone_intl(req: Request) -> Reply:
        errors = _missing(req, ["fullname", "phone", "email", "message"], ("email",))
        if req.value("phone") and not re.fullmatch(
            r"\+\d{1,3}[\s-]?\d[\d\s-]{6,14}", req.value("phone")
        ):
            errors["phone"] = "יש להזין מספר טלפון בפורמט בינלאומי, לדוגמה +972 50-123-4567"
        if errors:
            return req.rerender(
                "phone_international_he/index.html", errors, "יש לתקן את השדות המסומנים", keep=True
            )
        return Reply.page("תודה", "תודה! פנייתך התקבלה ונחזור אליך בהקדם.", lang="he")

    @s.route(r"/phone_and_company_rejected/send")
    def quote(req: Request) -> Reply:
        errors = _missing(req, ["q_name", "q_company", "q_email", "q_phone", "q_details"])
        if req.value("q_phone") and not req.value("q_phone").startswith("+"):
            errors["q_phone"] = "Please include the country code (+...)."
        if errors:
            return req.rerender(
                "phone_and_company_rejected/index.html", errors, "Please check the form.", keep=True
            )
        return Reply.page("Thank you", "Thank you! We will send your quote shortly.")

    @s.route(r"/phone_error_banner_only/send")
    def banner_only(req: Request) -> Reply:
        if not re.fullmatch(r"\+\d{11,15}", req.value("phone")):
            return req.rerender(
                "phone_error_banner_only/index.html",
                {},
                "Sorry, we could not process your request: invalid phone number.",
                keep=True,
            )
        return Reply.page("Thank you", "Thank you! Your message has been sent.")

    @s.route(r"/same_form_back_plain/")
    def same_form(req: Request) -> Reply:
        # A legacy script that mails nothing and shows the blank form again, no word said.
        return Reply(200, req.server.render("same_form_back_plain/index.html", req.origin))

    s.route(r"/mixed_form_https/send")(generic(["name", "email", "message"]))

    # Issue 10, grown to 100+ cases: more builders, languages and page shapes.
    for path, (required, emails, thanks) in {
        "/tabs_contact_en_jqueryui/send": (
            ["visitor_email", "visitor_msg"], ("visitor_email",),
            ("Thank you", "Thank you for your message. We will reply within two days.", "en"),
        ),
        "/dialog_contact_he/send": (
            ["name", "email", "message"], ("email",), ("תודה", "תודה! קיבלנו את פנייתך.", "he"),
        ),
        "/accordion_contact_es/enviar": (
            ["nombre", "correo", "mensaje"], ("correo",),
            ("Gracias", "Gracias, hemos recibido su consulta.", "es"),
        ),
        "/arabic_tabs_contact/send": (
            ["f_name", "f_mail", "f_msg"], ("f_mail",),
            ("شكراً", "شكراً لتواصلك معنا، تم إرسال رسالتك بنجاح.", "ar"),
        ),
        "/single_line_message_ru/feedback": (
            ["fio", "mail", "vopros"], ("mail",),
            ("Спасибо", "Спасибо! Ваше сообщение отправлено.", "ru"),
        ),
        "/club_three_forms_he/contact": (
            ["c_name", "c_email", "c_msg"], ("c_email",),
            ("תודה", "תודה, ההודעה נשלחה. נחזור אליך בהקדם.", "he"),
        ),
        "/polish_contact/wyslij": (
            ["imie_nazwisko", "adres_email", "tresc", "rodo"], ("adres_email",),
            ("Dziękujemy", "Dziękujemy! Wiadomość została wysłana.", "pl"),
        ),
        "/dutch_contact/verzenden": (
            ["voornaam", "achternaam", "emailadres", "bericht"], ("emailadres",),
            ("Bedankt", "Bedankt voor uw bericht! We nemen zo snel mogelijk contact met u op.", "nl"),
        ),
        "/japanese_contact_plain/send.php": (
            ["item_1", "item_2", "item_4"], ("item_2",),
            ("送信完了", "お問い合わせを受け付けました。担当者よりご連絡いたします。", "ja"),
        ),
        "/russian_feedback_city/send": (
            ["form_text_1", "form_email_3", "form_textarea_4"], ("form_email_3",),
            ("Спасибо", "Спасибо! Ваше сообщение отправлено.", "ru"),
        ),
        "/italian_localita/invia.php": (
            ["nominativo", "indirizzo_email", "testo", "consenso"], ("indirizzo_email",),
            ("Grazie", "Grazie, la tua richiesta è stata inviata.", "it"),
        ),
        "/spanish_contact_wp/enviar": (
            ["nombre", "apellidos", "email", "mensaje"], ("email",),
            ("Gracias", "¡Gracias! Su mensaje ha sido enviado.", "es"),
        ),
        "/conditional_message_after_topic_en/send": (
            ["s_name", "s_email", "s_topic", "s_msg"], ("s_email",),
            ("Thank you", "Thanks, your request has been received.", "en"),
        ),
        "/freshdesk_new_ticket/support/tickets": (
            ["helpdesk_ticket[email]", "helpdesk_ticket[subject]",
             "helpdesk_ticket[ticket_body_attributes][description_html]"],
            ("helpdesk_ticket[email]",),
            ("Ticket created", "Your ticket has been successfully created. We will get back to you soon.", "en"),
        ),
        "/zendesk_hc_hebrew/hc/he/requests": (
            ["request[anonymous_requester_email]", "request[subject]", "request[description]"],
            ("request[anonymous_requester_email]",),
            ("הבקשה נשלחה", "תודה, הבקשה שלך התקבלה ותיבדק על ידי צוות התמיכה שלנו.", "he"),
        ),
    }.items():  # fmt: skip
        s.route(re.escape(path))(generic(required, emails=emails, thanks=thanks))

    for path, captcha in {  # text and image CAPTCHAs: never sent (a wrong answer is refused)
        "/captcha_question_he/send": "antispam",
        "/captcha_image_code_en/contact.php": "captcha_code",
    }.items():
        s.route(re.escape(path))(generic(["email", "message"], captcha=captcha))

    @s.route(r"/maxlength_email_40_fits/contact\.php")
    def fits40(req: Request) -> Reply:
        errors = _missing(req, ["n", "e", "m"], ("e",))
        if len(req.value("e")) > 40:
            errors["e"] = "Maximum 40 characters."
        if errors:
            return Reply.page("Error", "Please check the form.", status=400)
        return Reply.page("Thank you", "Thank you for your enquiry. We will reply shortly.")

    @s.route(r"/aspnet_webforms_insurance_he/Contact\.aspx")
    def webforms_he(req: Request) -> Reply:
        c = "ctl00$cph$"
        page = "aspnet_webforms_insurance_he/index.html"
        if req.value("ctl00$Header$btnSearch"):
            return Reply.page(
                "חיפוש", "לא נמצאו תוצאות עבור: " + req.value("ctl00$Header$txtSearch"), lang="he"
            )
        if req.value("__EVENTTARGET") == "ctl00$Header$lnkLogin":
            return Reply.page("כניסה", "יש להזדהות כדי להיכנס לאזור האישי.", lang="he", status=401)
        if req.value("ctl00$Sidebar$btnJoin"):
            return Reply.page("ניוזלטר", "נרשמת בהצלחה לניוזלטר.", lang="he")
        if not req.value(f"{c}btnSend"):
            return Reply(200, req.server.render(page, req.origin))
        errors = _missing(req, [f"{c}txtName", f"{c}txtEmail", f"{c}txtMessage"])
        if errors:
            return req.rerender(page, errors, "יש למלא את כל שדות החובה", keep=True)
        return Reply.page("תודה", "תודה, פנייתך התקבלה. נציג יחזור אליך בהקדם.", lang="he")

    @s.route(r"/aspnet_webforms_linkbutton_en/Enquiry\.aspx")
    def webforms_link(req: Request) -> Reply:
        m = "ctl00$Main$"
        target = req.value("__EVENTTARGET")
        if target == "ctl00$Header$lnkGo":
            return Reply.page("Search", "No results for: " + req.value("ctl00$Header$txtKeywords"))
        if target != f"{m}lnkSubmit":
            return Reply(
                200, req.server.render("aspnet_webforms_linkbutton_en/index.html", req.origin)
            )
        errors = _missing(
            req, [f"{m}txtFirstName", f"{m}txtSurname", f"{m}txtEmail", f"{m}txtEnquiry"]
        )
        if errors:
            return Reply.page("Error", "Please complete all fields.", status=400)
        return Reply.page(
            "Thank you", "Thank you for your enquiry. One of our team will be in touch."
        )

    @s.route(r"/jetpack_page_with_comments/")
    def jetpack_comments(req: Request) -> Reply:
        errors = _missing(req, ["g57-name", "g57-email"], ("g57-email",))
        if errors or req.value("action") != "grunion-contact-form":
            return Reply.page("Error", "Error! Please fill in the required fields.", status=400)
        return Reply.redirect(
            "/jetpack_page_with_comments/sent.html?contact-form-id=57&contact-form-sent=5120"
        )

    @s.route(r"/react_controlled_inputs_he/api/leads")
    def react_leads(req: Request) -> Reply:
        errors = _missing(req, ["name", "email", "message"], ("email",))
        if errors:
            return Reply.json({"ok": False, "errors": errors}, 422)
        return Reply.json({"ok": True, "id": "lead_7731"}, 201)

    @s.route(r"/club_three_forms_he/(register|login)")
    def club_other(req: Request) -> Reply:
        if not req.value("g-recaptcha-response"):
            return Reply.page("שגיאה", "יש לאשר שאינך רובוט.", lang="he", status=400)
        return Reply.page("ברוכים הבאים", "החשבון נוצר.", lang="he")

    # Public postings and other forms that must never be sent: each answers like the
    # product would, so a wrong send would look like a success to a naive filler.
    @s.route(r"/wp-comments-post\.php")
    def wp_comment(req: Request) -> Reply:
        return Reply.page("Comment", "Your comment is awaiting moderation.")

    @s.route(r"/vbulletin_quick_reply/(newreply|search)\.php")
    def vb_reply(req: Request) -> Reply:
        return Reply.page(
            "Thank you for posting!", "Thank you for posting! You will now be taken to your post."
        )

    @s.route(r"/guestbook_hebrew/add\.php")
    def gb_he(req: Request) -> Reply:
        return Reply.page("תודה", "תודה! הרשומה נוספה לספר האורחים.", lang="he")

    @s.route(r"/share_article_email_visible/email-article")
    def share_article(req: Request) -> Reply:
        return Reply.page("Sent", "Thank you, the article has been sent to your friend.")

    @s.route(r"/woocommerce_product_review/")
    def add_to_cart(req: Request) -> Reply:
        return Reply.page("Cart", "“Linen Throw Blanket” has been added to your cart.")

    @s.route(r"/(newsletter_only_en/subscribe|login_only_portal/login)")
    def no_contact(req: Request) -> Reply:
        return Reply.page("Thank you", "Thank you for subscribing!")
