"""Shared fixtures for the browser-stage tests.

``site_server`` -- a real threaded ``http.server`` on 127.0.0.1 for tests that need a web
site (no mocks). Use it as a factory::

    def test_x(site_server):
        site = site_server(Path("some/dir"))          # serves that directory
        site.answer("/send", json_body={"status": "mail_sent"})  # optional canned answer
        url = site.url("/contact.html")
        ...
        site.posts   # list of (path, headers: dict, body: bytes), in arrival order

``site.hold`` (method, path) -> None, when set, is called in the server's thread before
each answer: a test holds a request there (a barrier, an event). Every POST is recorded;
unless ``answer`` set something else for its path it gets a
``200 text/html`` "Thank you" page. ``answer(path, status=..., json_body=..., html=...,
redirect=...)`` sets the reply for POSTs to ``path``. GETs serve files from the directory
(``/`` serves ``index.html``); a missing file is a 404. All servers are shut down at the
end of the test.

``settings`` -- BrowserSettings for fast tests: no human delays, short timeouts.
``make_request`` -- a ProbeRequest factory for a URL, writing evidence under tmp_path.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from audit.models import BrowserSettings, Company, Overrides, Persona, ProbeRequest


@dataclass
class Answer:
    status: int = 200
    body: bytes = b"<html><body><h1>Thank you</h1><p>Your message has been sent.</p></body></html>"
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


class Site:
    """One running server: ``url(path)``, ``posts``, ``answer(path, ...)``."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.posts: list[tuple[str, dict[str, str], bytes]] = []
        self.gets: list[str] = []
        self.answers: dict[str, Answer] = {}
        self.hold: Callable[[str, str], None] | None = None
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def url(self, path: str = "/") -> str:
        return self.origin + "/" + path.lstrip("/")

    def answer(
        self,
        path: str,
        *,
        status: int = 200,
        json_body: Any = None,
        html: str | None = None,
        redirect: str | None = None,
    ) -> None:
        if json_body is not None:
            ans = Answer(status, json.dumps(json_body).encode(), "application/json")
        elif redirect is not None:
            ans = Answer(303, b"", "text/html", {"Location": redirect})
        else:
            ans = Answer(status) if html is None else Answer(status, html.encode())
        self.answers[path] = ans

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def _send(self, status: int, body: bytes, ctype: str, extra: dict[str, str]) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in extra.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?")[0]
                with site._lock:
                    site.gets.append(self.path)
                if site.hold:
                    site.hold("GET", path)
                from urllib.parse import unquote

                rel = unquote(path).lstrip("/") or "index.html"
                target = (site.root / rel).resolve()
                if target.is_dir():
                    target = target / "index.html"
                if site.root not in target.parents and target != site.root or not target.is_file():
                    self._send(404, b"not found", "text/plain", {})
                    return
                ctype = {
                    ".html": "text/html; charset=utf-8",
                    ".xml": "application/xml",
                    ".txt": "text/plain",
                    ".js": "text/javascript",
                }.get(target.suffix, "application/octet-stream")
                self._send(200, target.read_bytes(), ctype, {})

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                path = self.path.split("?")[0]
                with site._lock:
                    site.posts.append((path, dict(self.headers.items()), body))
                if site.hold:
                    site.hold("POST", path)
                ans = site.answers.get(path, Answer())
                self._send(ans.status, ans.body, ans.content_type, ans.headers)

        return Handler


@pytest.fixture
def site_server() -> Iterator[Callable[[Path], Site]]:
    sites: list[Site] = []

    def start(root: Path) -> Site:
        site = Site(Path(root))
        sites.append(site)
        return site

    yield start
    for site in sites:
        site.close()


@pytest.fixture
def settings() -> BrowserSettings:
    return BrowserSettings(min_fill_seconds=0, typing_delay_ms=(0, 0), timeout_s=10)


@pytest.fixture
def make_request(tmp_path: Path) -> Callable[..., ProbeRequest]:
    def make(
        url: str,
        *,
        submit: bool = True,
        persona: Persona | None = None,
        overrides: Overrides | None = None,
        homepage: bool = False,
        calls: list[str] | None = None,
    ) -> ProbeRequest:
        company = Company(
            name="Example Ltd",
            homepage=url if homepage else None,
            contact_url=None if homepage else url,
            overrides=overrides or Overrides(),
        )
        return ProbeRequest(
            company=company,
            token="k7m2q9xd",
            reply_address="survey+k7m2q9xd@replies.example.com",
            fallback_address="k7m2q9xd@replies.example.com",
            subject="Question about your services (ref CA-K7M2Q9XD)",
            message="Hello,\nhow do I open an account?\nReference: CA-K7M2Q9XD",
            persona=persona or Persona(),
            submit=submit,
            evidence_dir=str(tmp_path / "evidence" / "example"),
            workspace=str(tmp_path),
            before_submit=(lambda: calls.append("before_submit"))
            if calls is not None
            else (lambda: None),
        )

    return make
