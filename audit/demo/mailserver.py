"""A real mail stack started from a temp folder: Dovecot (IMAP, IMAPS, LMTP) + an SMTP entry.

Used by the demo and by the inbox tests (STYLE 12: real servers, not mocks). Facts behind
every setting are in NOTES-mail.md:

- Dovecot runs from its own config in DIR (no ``!include`` of /etc/dovecot), with its
  base_dir, state_dir and log inside DIR, listening on 127.0.0.1 on free high ports.
- As root, mail processes run as the system user ``mail`` (Dovecot refuses uid 0);
  DIR is mode 0711 under /tmp so that uid 8 can traverse it, and short so that unix
  socket paths stay under ~100 bytes.
- One login (passwd-file, ``{PLAIN}`` password) and one Maildir. ``recipient_delimiter
  = +`` gives plus-addressing, and a second ``static`` userdb with ``allow_all_users``
  makes every other recipient a catch-all for the same Maildir.
- A throwaway CA and a server certificate with SANs localhost and 127.0.0.1, so IMAPS
  and STARTTLS are verified for real (``ca_file``); plain IMAP works on loopback.
- A Junk folder with SPECIAL-USE ``\\Junk`` is created automatically.

``SmtpEntry`` is the SMTP door companies "reply" through in the demo: any recipient, the
null sender, long lines; one LMTP transaction per recipient. A message carrying
``X-Demo-Arrival: <ISO-8601 aware datetime>`` is instead APPENDed to INBOX with that
INTERNALDATE, so a replayed survey gets back-dated replies through a real SMTP door.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pwd
import secrets
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.parser import BytesHeaderParser
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from imapclient import IMAPClient

from audit.models import Mailbox

log = logging.getLogger(__name__)

DOVECOT = "dovecot"
DOVEADM = "doveadm"
OPENSSL = "openssl"
APT_HINT = "apt-get install -y dovecot-imapd dovecot-lmtpd"
START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 10.0
MAIL_USER = "mail"  # system user that owns the Maildir when we run as root
ARRIVAL_HEADER = "X-Demo-Arrival"
SMTP_LINE_LIMIT = 1 << 20  # long lines are real-world; aiosmtpd's default is 1001
SMTP_SIZE_LIMIT = 64 << 20
# Measured on Dovecot 2.3.19: APPEND with an INTERNALDATE more than 2 h ahead of the
# server's clock silently stores the current time instead. We refuse such dates.
APPEND_FUTURE_LIMIT = timedelta(hours=2) - timedelta(minutes=1)


def dovecot_available() -> str | None:
    """None when a local Dovecot can be started here, else the reason (with the fix)."""
    for tool in (DOVECOT, DOVEADM, OPENSSL):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            pkg = "openssl" if tool == OPENSSL else "dovecot-imapd dovecot-lmtpd"
            return f"{tool} not found: install it with `apt-get install -y {pkg}`"
    if not Path("/usr/lib/dovecot/lmtp").exists():
        return f"Dovecot's LMTP server is missing: {APT_HINT}"
    if not Path("/usr/lib/dovecot/imap").exists():
        return f"Dovecot's IMAP server is missing: {APT_HINT}"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(MAIL_USER)
            pwd.getpwnam("dovenull")
            pwd.getpwnam("dovecot")
        except KeyError as exc:
            return f"system user missing ({exc}); reinstall: {APT_HINT}"
    return None


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _tool(name: str) -> str:
    return shutil.which(name) or f"/usr/sbin/{name}"


def _wait_port(host: str, port: int, deadline: float) -> None:
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _crlf(raw: bytes) -> bytes:
    """Normalise line ends to CRLF (LMTP and IMAP APPEND both expect it)."""
    return raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")


class MailServer:
    """A private Dovecot: IMAP (plain + STARTTLS), IMAPS and LMTP on 127.0.0.1."""

    def __init__(self, user: str = "survey", password: str | None = None, root: Path | None = None):
        self.user = user
        self.password = password or secrets.token_urlsafe(12)
        self.host = "127.0.0.1"
        self._own_root = root is None
        if root is None:
            # short, under /tmp, traversable by uid 8: socket paths must stay < ~100 bytes
            root = Path(tempfile.mkdtemp(prefix="cadv", dir="/tmp"))
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o711)
        self.instance = f"ca-{self.root.name}"
        self.imap_port = free_port()
        self.imaps_port = free_port()
        self.lmtp_port = free_port()
        self.conf = self.root / "dovecot.conf"
        self.home = self.root / "home"
        self.maildir = self.home / "Maildir"
        self.ca_file = str(self.root / "ca.pem")
        self.log_file = self.root / "dovecot.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._prepared = False

    # -- lifecycle -------------------------------------------------------------------
    def __enter__(self) -> MailServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        self.cleanup()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        if self.running:
            return
        reason = dovecot_available()
        if reason:
            raise RuntimeError(reason)
        if not self._prepared:
            self._prepare()
        out = open(self.root / "dovecot.stdout", "ab")  # noqa: SIM115 - lives with the proc
        try:
            self._proc = subprocess.Popen(
                [_tool(DOVECOT), "-F", "-c", str(self.conf)],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            out.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        try:
            for port in (self.imap_port, self.imaps_port, self.lmtp_port):
                _wait_port(self.host, port, deadline)
        except OSError:
            self.stop()
            raise RuntimeError(f"Dovecot did not start; log:\n{self.log_tail()}") from None
        log.info(
            "dovecot up in %s: imap %d, imaps %d, lmtp %d",
            self.root,
            self.imap_port,
            self.imaps_port,
            self.lmtp_port,
        )

    def stop(self) -> None:
        """Kick every session (else IDLE sessions linger ~30 s), then SIGTERM the master."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            with contextlib.suppress(Exception):
                self.kick()
            pid = self._master_pid() or self._proc.pid
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            try:
                self._proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                log.warning("dovecot did not stop on SIGTERM; killing its process group")
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self._proc.pid, signal.SIGKILL)
                self._proc.wait(timeout=STOP_TIMEOUT_S)
        self._proc = None

    def restart(self) -> None:
        """Stop and start again on the same ports with the same mail (BYE + EOF to clients)."""
        self.stop()
        self.start()

    def cleanup(self) -> None:
        """Remove the temp folder (only when we created it)."""
        if self._own_root and not self.running:
            shutil.rmtree(self.root, ignore_errors=True)

    def kick(self, user: str = "*") -> None:
        """Disconnect every IMAP session (``doveadm kick``)."""
        self.doveadm("kick", user)

    def doveadm(self, *args: str, check: bool = True) -> str:
        res = subprocess.run(
            [_tool(DOVEADM), "-c", str(self.conf), *args],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if check and res.returncode != 0:
            raise RuntimeError(f"doveadm {' '.join(args)} failed: {res.stderr.strip()}")
        return res.stdout

    def set_uidvalidity(self, value: int, folder: str = "INBOX") -> None:
        self.doveadm("mailbox", "update", "-u", self.user, "--uid-validity", str(value), folder)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_file.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def _master_pid(self) -> int | None:
        try:
            return int((self.root / "r" / "master.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    # -- mail ------------------------------------------------------------------------
    def deliver(self, raw: bytes, rcpt: str, mail_from: str = "") -> None:
        """One LMTP transaction, as a mail server would deliver (adds Delivered-To)."""
        with smtplib.LMTP(self.host, self.lmtp_port, timeout=60) as lmtp:
            refused = lmtp.sendmail(mail_from, [rcpt], _crlf(raw))
        if refused:
            raise RuntimeError(f"LMTP refused {rcpt}: {refused}")

    def append(
        self, raw: bytes, folder: str = "INBOX", internaldate: datetime | None = None
    ) -> None:
        """IMAP APPEND, with a back-dated arrival time (INTERNALDATE) when given."""
        if internaldate is not None and internaldate.tzinfo is None:
            raise ValueError("internaldate must be timezone-aware")
        if internaldate is not None and internaldate > datetime.now(UTC) + APPEND_FUTURE_LIMIT:
            raise ValueError(
                f"INTERNALDATE {internaldate.isoformat()} is more than 2 h in the future: "
                "Dovecot would silently store the current time instead; deliver it when due"
            )
        with self.client() as c:
            c.append(folder, _crlf(raw), msg_time=internaldate)

    def client(self, tls: str = "plain", timeout: float = 30.0) -> IMAPClient:
        """A logged-in IMAPClient (plain, starttls or ssl)."""
        if tls == "ssl":
            c = IMAPClient(
                self.host,
                self.imaps_port,
                ssl=True,
                ssl_context=self.ssl_context(),
                timeout=timeout,
            )
        else:
            c = IMAPClient(self.host, self.imap_port, ssl=False, timeout=timeout)
            if tls == "starttls":
                c.starttls(self.ssl_context())
        try:
            c.login(self.user, self.password)
        except BaseException:
            with contextlib.suppress(Exception):  # never leave the socket open
                c.shutdown()
            raise
        return c

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_file)

    def mailbox_config(self, tls: str = "ssl", **overrides: Any) -> Mailbox:
        """A Mailbox (survey.yaml ``mailbox:``) pointing at this server."""
        port = self.imaps_port if tls == "ssl" else self.imap_port
        values: dict[str, Any] = dict(
            host=self.host, port=port, tls=tls, user=self.user, ca_file=self.ca_file
        )
        values.update(overrides)
        return Mailbox(**values)

    # -- setup -----------------------------------------------------------------------
    def _prepare(self) -> None:
        root = self.root
        as_root = os.geteuid() == 0
        if as_root:
            mail = pwd.getpwnam(MAIL_USER)
            uid, gid = mail.pw_uid, mail.pw_gid
            login_user, internal_user = "dovenull", "dovecot"
        else:
            uid, gid = os.getuid(), os.getgid()
            login_user = internal_user = pwd.getpwuid(uid).pw_name
        for sub in ("r", "state", "home"):
            (root / sub).mkdir(exist_ok=True)
        self.home.chmod(0o700)
        if as_root:
            os.chown(self.home, uid, gid)
        self._make_certs()
        passwd = root / "passwd"
        passwd.write_text(f"{self.user}:{{PLAIN}}{self.password}::::::\n")
        passwd.chmod(0o600)
        if as_root:
            os.chown(passwd, pwd.getpwnam(internal_user).pw_uid, -1)
        dh = Path("/usr/share/dovecot/dh.pem")
        conf = f"""# written by audit.demo.mailserver; standalone (no !include)
instance_name = {self.instance}
base_dir = {root}/r
state_dir = {root}/state
log_path = {self.log_file}
info_log_path = {self.log_file}
listen = {self.host}
protocols = imap lmtp
default_login_user = {login_user}
default_internal_user = {internal_user}
first_valid_uid = {uid}
first_valid_gid = {gid}
mail_uid = {uid}
mail_gid = {gid}
mail_location = maildir:{self.maildir}
mail_max_userip_connections = 200
recipient_delimiter = +
lmtp_save_to_detail_mailbox = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
{f"ssl_dh = <{dh}" if dh.exists() else ""}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Junk {{
    special_use = \\Junk
    auto = subscribe
  }}
  mailbox Trash {{
    special_use = \\Trash
    auto = create
  }}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {passwd}
}}
userdb {{
  driver = passwd-file
  args = {passwd}
  default_fields = uid={uid} gid={gid} home={self.home}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={self.home} allow_all_users=yes
}}
service imap-login {{
  inet_listener imap {{
    address = {self.host}
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    address = {self.host}
    port = {self.imaps_port}
    ssl = yes
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = {self.host}
    port = {self.lmtp_port}
  }}
}}
"""
        self.conf.write_text(conf)
        self._prepared = True

    def _make_certs(self) -> None:
        root = self.root
        if (root / "cert.pem").exists():
            return

        def run(*args: str) -> None:
            subprocess.run([_tool(OPENSSL), *args], check=True, capture_output=True, cwd=root)

        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        run(
            "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "3650",
            "-subj", "/CN=contact-audit test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        )  # fmt: skip
        run("req", "-new", *ec, "-keyout", "key.pem", "-out", "srv.csr", "-subj", "/CN=localhost")
        (root / "srv.ext").write_text(
            "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
            "basicConstraints=critical,CA:FALSE\n"
            "keyUsage=critical,digitalSignature,keyEncipherment\n"
            "extendedKeyUsage=serverAuth\n"
            "authorityKeyIdentifier=keyid,issuer\n"
            "subjectKeyIdentifier=hash\n"
        )
        run(
            "x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "3650", "-out", "cert.pem", "-extfile", "srv.ext",
        )  # fmt: skip
        for name in ("ca.key", "key.pem"):
            (root / name).chmod(0o600)
        (root / "ca.pem").chmod(0o644)


# ---------------------------------------------------------------------------------------
# SMTP entry point
# ---------------------------------------------------------------------------------------
class _LongLineSMTP(SMTP):
    line_length_limit = SMTP_LINE_LIMIT


def _arrival_of(raw: bytes) -> datetime | None:
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    value = BytesHeaderParser().parsebytes(head + b"\r\n\r\n").get(ARRIVAL_HEADER)
    if not value:
        return None
    when = datetime.fromisoformat(str(value).strip())
    if when.tzinfo is None:
        raise ValueError(f"{ARRIVAL_HEADER} needs a time zone: {value!r}")
    return when.astimezone(UTC)


class _Relay:
    """aiosmtpd handler: accept anything, deliver per recipient into the MailServer."""

    def __init__(self, server: MailServer):
        self.server = server
        self.delivered = 0

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if isinstance(envelope.content, bytes) and not raw:
            raw = envelope.content
        loop = asyncio.get_running_loop()
        try:
            when = _arrival_of(raw)
        except ValueError as exc:
            return f"554 bad {ARRIVAL_HEADER}: {exc}"
        for rcpt in envelope.rcpt_tos:
            try:
                if when is None:
                    await loop.run_in_executor(
                        None, self.server.deliver, raw, rcpt, envelope.mail_from or ""
                    )
                else:
                    stamped = f"Delivered-To: {rcpt}\r\n".encode() + raw
                    await loop.run_in_executor(None, self.server.append, stamped, "INBOX", when)
            except ValueError as exc:
                log.warning("SMTP entry refused a message for %s: %s", rcpt, exc)
                return f"554 {exc}"
            except Exception as exc:
                log.warning("SMTP entry could not deliver to %s: %s", rcpt, exc)
                return f"451 delivery to {rcpt} failed, try again later"
            self.delivered += 1
        return "250 Message accepted for delivery"


class _Controller(Controller):
    def factory(self) -> SMTP:
        return _LongLineSMTP(
            self.handler, data_size_limit=SMTP_SIZE_LIMIT, enable_SMTPUTF8=True, hostname="demo"
        )


class SmtpEntry:
    """An SMTP server on 127.0.0.1 that delivers into a MailServer (any recipient)."""

    def __init__(self, server: MailServer, port: int | None = None):
        self.server = server
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.handler = _Relay(server)
        self._controller: _Controller | None = None

    def start(self) -> None:
        if self._controller is None:
            self._controller = _Controller(self.handler, hostname=self.host, port=self.port)
            self._controller.start()
            log.info("SMTP entry on %s:%d", self.host, self.port)

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpEntry:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ---------------------------------------------------------------------------------------
# A submission server: what the e-mail channel sends its inquiries through
# ---------------------------------------------------------------------------------------
class _Submission:
    """aiosmtpd handler of SubmissionServer: refusals on demand, delivery per recipient."""

    def __init__(self, owner: SubmissionServer):
        self.owner = owner

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        refusal = self.owner.refuse_rcpt.get(address.lower())
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.owner.data_reply:
            return self.owner.data_reply
        raw = envelope.original_content or b""
        if isinstance(envelope.content, bytes) and not raw:
            raw = envelope.content
        loop = asyncio.get_running_loop()
        for rcpt in envelope.rcpt_tos:
            try:
                await loop.run_in_executor(
                    None, self.owner.deliver, raw, rcpt, envelope.mail_from or ""
                )
            except Exception as exc:
                log.warning("submission server could not deliver to %s: %s", rcpt, exc)
                return f"451 delivery to {rcpt} failed, try again later"
        self.owner.accepted.append((envelope.mail_from or "", list(envelope.rcpt_tos), raw))
        return f"250 2.0.0 Ok: queued as Q{len(self.owner.accepted):05d}"


class SubmissionServer:
    """A submission-style SMTP server on 127.0.0.1 (like port 587): STARTTLS with the
    MailServer's throwaway certificate, AUTH PLAIN/LOGIN required (over TLS only), and every
    accepted message handed to ``deliver`` (default: LMTP into ``server``'s mailbox, any
    recipient). ``refuse_rcpt`` (address -> reply) and ``data_reply`` make it refuse."""

    def __init__(
        self,
        server: MailServer,
        user: str = "sender",
        password: str | None = None,
        deliver: Any = None,
        port: int | None = None,
    ):
        self.server = server
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.user = user
        self.password = password or secrets.token_urlsafe(12)
        self.deliver = deliver or server.deliver
        self.refuse_rcpt: dict[str, str] = {}
        self.data_reply: str | None = None
        self.accepted: list[tuple[str, list[str], bytes]] = []
        self.logins = 0
        self._controller: Controller | None = None

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = (
            isinstance(data, LoginPassword)
            and data.login.decode() == self.user
            and data.password.decode() == self.password
        )
        if ok:
            self.logins += 1
        return AuthResult(success=ok, handled=False)

    def start(self) -> None:
        if self._controller is not None:
            return
        if not (self.server.root / "cert.pem").exists():
            raise RuntimeError("start the MailServer first: its certificate signs this server")
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.server.root / "cert.pem", self.server.root / "key.pem")
        owner = self

        class _Ctl(Controller):
            def factory(self) -> SMTP:
                return SMTP(
                    self.handler,
                    hostname="submission.test",
                    tls_context=ctx,
                    require_starttls=True,
                    auth_required=True,
                    auth_require_tls=True,
                    authenticator=owner._authenticate,
                    enable_SMTPUTF8=True,
                    data_size_limit=SMTP_SIZE_LIMIT,
                )

        self._controller = _Ctl(_Submission(self), hostname=self.host, port=self.port)
        self._controller.start()
        log.info("submission server on %s:%d", self.host, self.port)

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def smtp_config(self, **overrides: Any) -> dict[str, Any]:
        """survey.yaml's ``smtp:`` section pointing at this server (password: the env)."""
        values: dict[str, Any] = dict(
            host=self.host,
            port=self.port,
            user=self.user,
            tls="starttls",
            ca_file=self.server.ca_file,
        )
        values.update(overrides)
        return values

    def __enter__(self) -> SubmissionServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
