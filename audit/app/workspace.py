"""`audit init` and `audit check`: scaffold a workspace; validate config, clock, store, browser, mailbox."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

from audit.app.common import TEMPLATES
from audit.clock import Clock, current_clock
from audit.config import (
    COMPANIES_FILE,
    SURVEY_FILE,
    Workspace,
    load_workspace,
    mailbox_host_problem,
    reply_domain_problem,
    uses_email,
)
from audit.errors import AuditError, ConfigError, InboxError
from audit.models import (
    BrowserSettings,
    Mailbox,
    check_browser_endpoint,
)
from audit.store import Store

log = logging.getLogger(__name__)


def init_workspace(
    directory: str | os.PathLike[str],
    force: bool = False,
    on_backup: Callable[[Path, Path], None] | None = None,
    clock: Clock | None = None,
) -> Path:
    """Scaffold a survey workspace: survey.yaml, companies.yaml, evidence/, reports/.

    With ``force`` the templates replace the YAML files, but a file the consultant edited
    is first copied to ``<name>.bak-<UTC time>`` (``on_backup(original, backup)``).
    """
    root = Path(directory).resolve()
    root.mkdir(parents=True, exist_ok=True)
    for name in (SURVEY_FILE, COMPANIES_FILE):
        target = root / name
        if target.exists() and not force:
            log.info("%s exists, kept", target)
            continue
        if target.exists() and target.read_bytes() != (TEMPLATES / name).read_bytes():
            backup = _backup(target, clock or current_clock())
            if on_backup:
                on_backup(target, backup)
        shutil.copyfile(TEMPLATES / name, target)
    (root / "evidence").mkdir(exist_ok=True)
    (root / "reports").mkdir(exist_ok=True)
    return root


def _backup(target: Path, clock: Clock) -> Path:
    """Copy ``target`` to a new ``<name>.bak-<UTC time>[-n]`` beside it; never overwrite one."""
    stamp = clock.now().astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    backup, n = target.with_name(f"{target.name}.bak-{stamp}"), 2
    while backup.exists():
        backup, n = target.with_name(f"{target.name}.bak-{stamp}-{n}"), n + 1
    shutil.copy2(target, backup)
    return backup


@dataclass
class CheckItem:
    name: str
    ok: bool
    detail: str


def check(
    root: str | os.PathLike[str],
    browser: bool = True,
    mailbox: bool = True,
    browser_endpoint: str | None = None,
) -> list[CheckItem]:
    """Validate config, browser and mailbox login; every problem named, nothing raised.
    ``browser_endpoint`` (a Playwright browser server) overrides ``browser.endpoint``."""
    items: list[CheckItem] = []
    try:
        ws = load_workspace(root)
    except ConfigError as exc:
        return [CheckItem("config", False, str(exc))]
    items.append(
        CheckItem("config", True, f"{len(ws.companies)} companies, wave {ws.survey.survey.wave!r}")
    )
    placeholder = reply_domain_problem(ws)
    example = ws.survey.reply_address.address_for("TOKEN")
    items.append(CheckItem("reply", placeholder is None, placeholder or f"replies to {example}"))
    try:
        clock = current_clock()
        items.append(CheckItem("clock", True, f"{clock.describe()}: now {clock.now().isoformat()}"))
    except ConfigError as exc:
        items.append(CheckItem("clock", False, str(exc)))
    try:
        store = Store.open(ws.store_url)
        items.append(CheckItem("store", True, f"schema version {store.schema_version}"))
        store.close()
    except AuditError as exc:
        items.append(CheckItem("store", False, str(exc)))
    if browser:
        settings = ws.survey.browser
        if browser_endpoint:
            settings = settings.model_copy(update={"endpoint": browser_endpoint})
        items.append(_check_browser(settings))
    if mailbox:
        items.append(_check_mailbox(ws))
    if ws.survey.smtp is not None and uses_email(ws):
        items.append(_check_smtp(ws))
    return items


def _check_smtp(ws: Workspace) -> CheckItem:
    """The e-mail channel's SMTP login (the survey sends e-mail): log in, NOOP, log out."""
    import smtplib
    import ssl

    from inbox.credentials import smtp_password
    from probes.mailer import check_login

    smtp = ws.survey.smtp
    assert smtp is not None
    try:
        password = smtp_password(smtp)
    except AuditError as exc:
        return CheckItem("smtp", False, str(exc))
    where = f"{smtp.host}:{smtp.resolved_port} ({smtp.tls})"
    try:
        return CheckItem("smtp", True, check_login(smtp, password))
    except smtplib.SMTPResponseException as exc:
        text = (
            exc.smtp_error.decode("utf-8", "replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        return CheckItem(
            "smtp", False, f"SMTP login to {where} refused: {exc.smtp_code} {text}"[:300]
        )
    except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
        return CheckItem(
            "smtp", False, f"cannot reach the SMTP server {where}: {exc}".splitlines()[0]
        )


def _check_browser(settings: BrowserSettings) -> CheckItem:
    from probes.browser import find_browser
    from probes.runner import ProbeSession

    try:
        check_browser_endpoint(settings.endpoint)
    except ValueError as exc:
        return CheckItem("browser", False, f"browser endpoint: {exc}")
    try:
        if not settings.endpoint:
            find_browser(settings.executable)

        async def _version() -> tuple[str, str]:
            async with ProbeSession(settings, block_outside=True) as session:
                return session.browser_version, session.browser_source

        version, source = asyncio.run(_version())
        return CheckItem("browser", True, f"{version} ({source})")
    except AuditError as exc:
        return CheckItem("browser", False, str(exc))
    except Exception as exc:  # a launch failure of any kind is a finding, not a crash
        return CheckItem("browser", False, f"cannot launch the browser: {exc}".splitlines()[0])


def _check_mailbox(ws: Workspace) -> CheckItem:
    from inbox.watcher import check_login

    mb = ws.survey.mailbox
    problem = mailbox_host_problem(ws) or tls_mode_problem(mb)
    if problem:
        return CheckItem("mailbox", False, problem)
    try:
        detail = check_login(mb)
        return CheckItem("mailbox", True, detail)
    except InboxError as exc:
        return CheckItem("mailbox", False, str(exc))


# How long a server may take to greet before its silence counts (IMAP greets at once).
TLS_PROBE_S = 3.0


_GREETINGS = (b"* OK", b"* PREAUTH", b"* BYE")


def tls_mode_verdict(tls: str, port: int, greeting: bytes | None, speaks_tls: bool) -> str | None:
    """Name a TLS mode that does not fit the port, from what the server did first.

    An IMAPS port says nothing in clear (it waits for our TLS hello); a plain IMAP port
    (STARTTLS) greets in clear with ``* OK``. ``greeting`` is what arrived before we sent
    anything (None: silence), ``speaks_tls`` whether a TLS handshake then succeeded.
    """
    if tls == "ssl" and greeting is not None and greeting.startswith(_GREETINGS):
        first = greeting.splitlines()[0].decode("ascii", "replace")[:40]
        return (
            f"port {port} greets in clear ({first!r}): "
            "it is plain IMAP, not IMAPS; use tls: starttls (or tls: ssl with the IMAPS port, "
            "usually 993)"
        )
    if tls in ("starttls", "plain") and greeting is None and speaks_tls:
        return (
            f"port {port} speaks TLS from the first byte (IMAPS) and sends no greeting in "
            f"clear: use tls: ssl (tls: {tls} waits for a greeting that never comes)"
        )
    return None


def tls_mode_problem(mb: Mailbox, wait_s: float = TLS_PROBE_S) -> str | None:
    """A short look at how the server opens the conversation (no login, nothing sent in
    clear but a TLS hello). Costs one extra connection when the mode fits the port; waits
    up to ``wait_s`` only where the server stays silent, which is the mismatch named."""
    import socket
    import ssl

    host, port = mb.host, mb.resolved_port
    wait = max(0.2, min(float(mb.timeout_s), wait_s))

    def greeting() -> bytes | None:
        """What the server sends before we say anything (None: silence)."""
        with socket.create_connection((host, port), timeout=wait) as sock:
            try:
                return sock.recv(64) or b""
            except TimeoutError:
                return None

    def speaks_tls() -> bool:
        ctx = ssl.create_default_context()
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE  # only: is it TLS at all?
        try:
            with (
                socket.create_connection((host, port), timeout=wait) as raw,
                ctx.wrap_socket(raw, server_hostname=host),
            ):
                return True
        except ssl.SSLError:
            return False

    try:
        if mb.tls == "ssl":
            if speaks_tls():
                return None
            return tls_mode_verdict(mb.tls, port, greeting(), False)
        first = greeting()
        return tls_mode_verdict(mb.tls, port, first, first is None and speaks_tls())
    except OSError:
        return None  # refused, unreachable, timed out: the login check names it
