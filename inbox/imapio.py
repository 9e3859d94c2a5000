"""The IMAP side of the watcher, apart from the sync's decisions (issue 12: the Watcher
is split along its seams): the connection (TLS, login, folders, logout), one IDLE round,
fetching headers and bodies (a huge one in slices), keeping a message's raw .eml as
evidence, and the server-clock probe.

They take an IMAPClient and plain values; inbox/syncplan.py decides what to fetch and
the Watcher when to call them.
"""

from __future__ import annotations

import contextlib
import hashlib
import imaplib
import logging
import os
import re
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import make_msgid
from pathlib import Path
from typing import Any, BinaryIO

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from audit.errors import AuthError, InboxError
from audit.logs import install_secret_filter
from audit.models import Mailbox
from inbox.credentials import imap_password, oauth2_token, uses_oauth2
from inbox.parse import MONTHS
from inbox.syncplan import aware_utc

log = logging.getLogger(__name__)

IDLE_CHECK_STEP_S = 0.5  # how often a round looks at the stop flag
PROBE_FOLDER = "contact-audit-probe"
EML_DIR = Path("evidence") / "mail"  # raw messages, <sha256>.eml, under the workspace


# -- IDLE ------------------------------------------------------------------------------
def is_bye(resp: Any) -> bool:
    return isinstance(resp, tuple) and len(resp) >= 1 and resp[0] == b"BYE"


def is_news(resp: Any) -> bool:
    """EXISTS / RECENT / EXPUNGE / FETCH: something changed in the folder."""
    if not isinstance(resp, tuple) or len(resp) < 2:
        return False
    return resp[1] in (b"EXISTS", b"RECENT", b"EXPUNGE", b"FETCH")


def idle_round(
    client: IMAPClient,
    stop: threading.Event,
    round_s: float,
    on_idle: Callable[[], None] | None = None,
    still_current: Callable[[], bool] = lambda: True,
) -> None:
    """One IDLE round: until the server reports something, the round ends, or ``stop``.

    ``on_idle`` is called once the server has answered "+ idling" (a fault point for tests
    that must deliver mail while the watcher is in IDLE). DONE is sent at the end unless
    the connection was dropped meanwhile (``still_current`` false).
    """
    # A push that lands before the server's "+ idling" goes to imaplib's untagged
    # responses, where idle_check() never looks: look there ourselves.
    pending = client._imap.untagged_responses
    pending.clear()
    client.idle()
    if on_idle is not None:
        on_idle()
    deadline = time.monotonic() + round_s
    try:
        if any(k in pending for k in ("EXISTS", "RECENT", "EXPUNGE")):
            log.debug("IDLE: news before the continuation: %s", list(pending))
            return
        while not stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            step = min(IDLE_CHECK_STEP_S, remaining)
            t0 = time.monotonic()
            responses = client.idle_check(timeout=step)
            if responses:
                log.debug("IDLE: %s", responses)
            if any(is_bye(r) for r in responses):
                raise imaplib.IMAP4.abort("server said BYE during IDLE")
            if any(is_news(r) for r in responses):
                break
            if not responses and time.monotonic() - t0 < step / 2:
                # readable but nothing parsed: EOF (e.g. the session was killed)
                raise imaplib.IMAP4.abort("connection closed during IDLE")
    finally:
        if still_current():
            client.idle_done()


# -- the first look at a batch -------------------------------------------------------------
_NEW_ENTRY_RE = re.compile(rb"^\d+ \(")
_UID_RE = re.compile(rb"\bUID (\d+)")
_DATE_RE = re.compile(rb'\bINTERNALDATE "([^"]*)"')
_SIZE_RE = re.compile(rb"\bRFC822\.SIZE (\d+)")
HEADER_KEY = b"BODY[HEADER]"


def fetch_headers(
    client: IMAPClient, uids: list[int], items: list[str]
) -> dict[int, dict[bytes, Any]]:
    """UID FETCH of ``items`` (INTERNALDATE, RFC822.SIZE and one BODY.PEEK[HEADER...]) for
    ``uids``: uid -> {b"INTERNALDATE": datetime, b"RFC822.SIZE": int, HEADER_KEY: bytes},
    as ``client.fetch`` gives them. IMAPClient's general lexer costs about as much as the
    rest of a sync's first look (every atom of the echoed field list is a token); these
    answers have one shape, read by ``parse_header_fetch``. On any other shape the batch
    is fetched again through ``client.fetch``."""
    return headers_from(
        client, uids, items, uid_fetch_lines(client._imap, *fetch_args(uids, items))
    )


def fetch_args(uids: list[int], items: list[str]) -> tuple[str, str]:
    return ",".join(str(u) for u in uids), f"({' '.join(items)})"


def headers_from(
    client: IMAPClient, uids: list[int], items: list[str], data: list[Any]
) -> dict[int, dict[bytes, Any]]:
    """fetch_headers' answer from the FETCH's ``data`` (read by read_uid_fetch)."""
    parsed = parse_header_fetch(data)
    if parsed is None:
        log.debug("unexpected FETCH answer shape; parsing it with IMAPClient")
        heads = client.fetch(uids, items)
        for d in heads.values():
            for key in [k for k in d if isinstance(k, bytes) and k.startswith(b"BODY[HEADER")]:
                d[HEADER_KEY] = d.pop(key)
        return dict(heads)
    wanted = set(uids)
    return {u: d for u, d in parsed.items() if u in wanted}


_FETCH_LINE_RE = re.compile(rb"\* (\d+) FETCH (.*)", re.DOTALL)  # CRLF kept
_LITERAL_END_RE = re.compile(rb".*\{(\d+)\}\r\n\Z", re.DOTALL)


def uid_fetch_lines(imap: imaplib.IMAP4, uid_set: str, items: str) -> list[Any]:
    """``UID FETCH uid_set items``, its FETCH answers as imaplib's ``uid()`` gives them
    (``b"SEQ (ITEMS {n}"`` with its literal as a tuple, then the lines that follow), read
    by one tight loop over the connection's buffered file.

    imaplib reads every line through its general reader (a regular expression per line,
    the untagged answers kept by type, debug hooks): for 100,000 header answers that was a
    tenth of a sync's CPU. Other untagged answers in between (EXISTS, EXPUNGE, FLAGS) are
    left for the next sync, which finds new and expunged mail by UID anyway. A NO or BAD
    raises imaplib.IMAP4.error, a lost connection IMAP4.abort, as imaplib would."""
    return read_uid_fetch(imap, send_uid_fetch(imap, uid_set, items))


def send_uid_fetch(imap: imaplib.IMAP4, uid_set: str, items: str) -> bytes:
    """Send ``UID FETCH uid_set items`` and return its tag; ``read_uid_fetch`` reads its
    answer. Nothing else may be sent or read on the connection in between."""
    tag: bytes = imap._new_tag()  # type: ignore[attr-defined]
    imap.send(b"%s UID FETCH %s %s\r\n" % (tag, uid_set.encode("ascii"), items.encode("ascii")))
    return tag


def read_uid_fetch(imap: imaplib.IMAP4, tag: bytes) -> list[Any]:
    """The answer of the UID FETCH sent as ``tag`` (see uid_fetch_lines)."""
    file: BinaryIO = imap.file  # type: ignore[attr-defined,assignment]
    readline, read = file.readline, file.read
    limit = imaplib._MAXLINE  # type: ignore[attr-defined]
    data: list[Any] = []
    done = tag + b" "

    def next_line() -> bytes:
        line = readline(limit + 1)
        if not line:
            raise imaplib.IMAP4.abort("socket error: EOF")
        if len(line) > limit:
            raise imaplib.IMAP4.error(f"got more than {limit} bytes")
        if not line.endswith(b"\r\n"):
            raise imaplib.IMAP4.abort(f"socket error: unterminated line: {line[:80]!r}")
        return line

    while True:
        line = next_line()
        if line.startswith(done):
            imap.tagged_commands.pop(tag, None)  # type: ignore[attr-defined]
            status, _, text = line[len(done) : -2].partition(b" ")
            if status != b"OK":
                raise imaplib.IMAP4.error(f"UID FETCH failed: {status.decode()} {text!r}")
            return data
        m = _FETCH_LINE_RE.match(line)
        keep = m is not None
        item: bytes = m.group(1) + b" " + m.group(2) if m is not None else line
        while True:  # this answer's literals, and the lines after each
            lit = _LITERAL_END_RE.match(item)
            if lit is None:
                if keep:
                    data.append(item[:-2] if item.endswith(b"\r\n") else item)
                break
            n = int(lit.group(1))
            literal = read(n)
            if len(literal) != n:
                raise imaplib.IMAP4.abort("socket error: EOF in a literal")
            if keep:
                data.append((item[:-2] if item.endswith(b"\r\n") else item, literal))
            item = next_line()


_INTERNALDATE_RE = re.compile(
    rb" ?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)"
)


def internaldate(text: bytes) -> datetime | None:
    """An INTERNALDATE (``04-Dec-2026 08:51:14 +0200``, RFC 3501's one form) as an aware
    UTC datetime; None when it is not in that form (IMAPClient's parser then reads it).
    A tenth of the stdlib parser's cost, for every message of a sync."""
    m = _INTERNALDATE_RE.fullmatch(text)
    month = MONTHS.get(m.group(2).decode().lower()) if m is not None else None
    if m is None or month is None:
        return None
    day, year, hh, mm, ss, sign, oh, om = m.group(1, 3, 4, 5, 6, 7, 8, 9)
    try:
        local = datetime(int(year), month, int(day), int(hh), int(mm), int(ss), tzinfo=UTC)
    except ValueError:
        return None
    offset = timedelta(hours=int(oh), minutes=int(om))
    return local - offset if sign == b"+" else local + offset


def parse_header_fetch(data: list[Any]) -> dict[int, dict[bytes, Any]] | None:
    """imaplib's data of a UID FETCH (INTERNALDATE, RFC822.SIZE, one header literal) ->
    uid -> values; None when an answer is not of that shape. Pure."""
    from imapclient.datetime_util import parse_to_datetime

    entries: list[tuple[bytes, bytes | None]] = []
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            entries.append((bytes(item[0]), bytes(item[1])))
        elif isinstance(item, bytes):
            if _NEW_ENTRY_RE.match(item) or not entries:
                entries.append((item, None))
            else:  # the rest of the previous answer, after its literal
                meta, lit = entries[-1]
                entries[-1] = (meta + b" " + item, lit)
        elif item is None:
            continue
        else:
            return None
    out: dict[int, dict[bytes, Any]] = {}
    for meta, lit in entries:
        uid, date, size = _UID_RE.search(meta), _DATE_RE.search(meta), _SIZE_RE.search(meta)
        if uid is None:
            return None
        values = out.setdefault(int(uid.group(1)), {})
        if date is not None:
            values[b"INTERNALDATE"] = internaldate(date.group(1)) or parse_to_datetime(
                date.group(1), normalise=False
            )
        if size is not None:
            values[b"RFC822.SIZE"] = int(size.group(1))
        if lit is not None:
            values[HEADER_KEY] = lit
        elif b"BODY[HEADER" in meta:
            values.setdefault(HEADER_KEY, b"")  # NIL or "": no such header fields
    if any(b"INTERNALDATE" not in v or b"RFC822.SIZE" not in v for v in out.values()):
        return None
    return out


# -- bodies and their evidence ------------------------------------------------------------
def fetch_body(client: IMAPClient, uid: int, size: int, cap: int) -> tuple[bytes | None, bool]:
    """The message's body, or its first ``cap`` bytes when larger: (bytes, truncated)."""
    if size and size > cap:
        data = client.fetch([uid], [f"BODY.PEEK[]<0.{cap}>"]).get(uid)
        if data is None:
            return None, False
        return bytes(data.get(b"BODY[]<0>") or b""), True
    data = client.fetch([uid], ["BODY.PEEK[]"]).get(uid)
    if data is None:
        return None, False
    return bytes(data.get(b"BODY[]") or b""), False


def body_slices(client: IMAPClient, uid: int, first: bytes, size: int, cap: int) -> Iterator[bytes]:
    """The whole message, a slice at a time: a huge one is never held in memory."""
    yield first
    offset = len(first)
    while offset < size:
        item = f"BODY.PEEK[]<{offset}.{cap}>"
        data = client.fetch([uid], [item]).get(uid) or {}
        chunk = bytes(data.get(f"BODY[]<{offset}>".encode()) or b"")
        if not chunk:
            break
        yield chunk
        offset += len(chunk)


def _is_file_of_size(path: Path, size: int) -> bool:
    try:
        return path.stat().st_size == size
    except OSError:
        return False


def keep_eml(
    workspace: Path, uid: int, raw: bytes, chunks: Iterable[bytes] | None = None
) -> tuple[str, str]:
    """Write the raw message as evidence/mail/<sha256>.eml (via a .part file and a rename);
    return its path relative to the workspace and its sha256.

    Named by content, so writing it again (the batch fetched again after a crash) gives
    the same file, and a row never needs its id to find it. A huge message comes as
    ``chunks`` (the whole message, ``raw`` first) and is named once whole.
    """
    if chunks is None:
        rel, digest = eml_name(raw)
        write_eml(workspace, uid, raw, rel)
        return rel, digest
    folder = workspace / EML_DIR
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f"uid-{uid}.{os.getpid()}.part"
    h = hashlib.sha256()
    try:
        with open(tmp, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
                h.update(chunk)
        digest = h.hexdigest()
        tmp.replace(folder / f"{digest}.eml")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return str(EML_DIR / f"{digest}.eml"), digest


def eml_name(raw: bytes) -> tuple[str, str]:
    """Where keep_eml puts ``raw`` (relative to the workspace), and its sha256."""
    digest = hashlib.sha256(raw).hexdigest()
    return str(EML_DIR / f"{digest}.eml"), digest


def write_eml(workspace: Path, uid: int, raw: bytes, rel: str) -> None:
    """``raw`` into ``rel`` (eml_name's), via a .part file and a rename; nothing to do when
    the file is there whole already. Safe to run on another thread (the sync writes a
    part's files on two threads while it reads the next messages: creating a file is
    mostly the kernel's time)."""
    path = workspace / rel
    if _is_file_of_size(path, len(raw)):
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f"uid-{uid}.{os.getpid()}.{threading.get_ident()}.part"
    try:
        tmp.write_bytes(raw)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# -- the server's clock -------------------------------------------------------------------
def server_clock_offset(client: IMAPClient) -> float:
    """Server clock minus ours, in seconds: APPEND a probe, read its INTERNALDATE.

    INTERNALDATE has whole seconds, so the figure is good to about +-0.5 s.
    """
    if not client.folder_exists(PROBE_FOLDER):
        client.create_folder(PROBE_FOLDER)
    probe_id = make_msgid(domain="contact-audit.invalid")
    raw = (
        f"From: contact-audit <probe@contact-audit.invalid>\r\n"
        f"Subject: contact-audit clock probe\r\nMessage-ID: {probe_id}\r\n\r\n"
        "Clock probe; deleted right away.\r\n"
    ).encode()
    before = time.time()
    client.append(PROBE_FOLDER, raw)
    after = time.time()
    client.select_folder(PROBE_FOLDER)
    uids = client.search(["HEADER", "Message-ID", probe_id])
    data = client.fetch(uids, ["INTERNALDATE"])
    server = aware_utc(data[uids[-1]][b"INTERNALDATE"]).timestamp() + 0.5
    offset = server - (before + after) / 2
    client.delete_messages(uids)
    client.expunge()
    client.close_folder()
    with contextlib.suppress(Exception):
        client.delete_folder(PROBE_FOLDER)
    return offset


# -- the connection -----------------------------------------------------------------------
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # socket errors, timeouts, connection refused/reset (ssl.SSLError included)
    imaplib.IMAP4.abort,
    imaplib.IMAP4.error,
    IMAPClientError,
    EOFError,
)


class Connection:
    """One mailbox's IMAP connection: connect and log in (TLS as the mailbox says), the
    folders to watch, log out. ``client`` is the live connection, or None."""

    def __init__(
        self,
        mailbox: Mailbox,
        password: str | None = None,
        client_class: type[IMAPClient] = IMAPClient,
    ) -> None:
        self.mailbox = mailbox
        self.password = password
        # An IMAPClient subclass that records its commands lets a test see what was
        # fetched from a real server.
        self.client_class = client_class
        self.client: IMAPClient | None = None
        self._folders: list[str] | None = None
        install_secret_filter(password)

    def connect(self) -> IMAPClient:
        """Connect and log in. AuthError when the server refuses the credentials."""
        box = self.mailbox
        ctx: ssl.SSLContext | None = None
        if box.tls in ("ssl", "starttls"):
            ctx = ssl.create_default_context(cafile=box.ca_file)
        try:
            client = self.client_class(
                box.host,
                port=box.resolved_port,
                ssl=box.tls == "ssl",
                ssl_context=ctx,
                timeout=box.timeout_s,
            )
        except ssl.SSLCertVerificationError as exc:
            raise InboxError(f"TLS certificate of {box.host} not trusted: {exc}") from None
        client.normalise_times = False
        try:
            if box.tls == "starttls":
                client.starttls(ctx)
            self._login(client)
        except BaseException:
            with contextlib.suppress(Exception):
                client.shutdown()
            raise
        self.client = client
        return client

    def connect_or_raise(self) -> IMAPClient:
        """``connect``, a network failure said as one InboxError naming the server."""
        try:
            return self.connect()
        except (AuthError, InboxError):
            raise
        except TRANSIENT_ERRORS as exc:
            raise InboxError(
                f"cannot reach the IMAP server {self.mailbox.host}:"
                f"{self.mailbox.resolved_port}: {exc}"
            ) from None

    def _login(self, client: IMAPClient) -> None:
        box = self.mailbox
        try:
            if uses_oauth2(box):
                token = oauth2_token(box)
                install_secret_filter(token)
                client.oauth2_login(box.user, token)
            else:
                if self.password is None:
                    self.password = imap_password(box)
                    install_secret_filter(self.password)
                client.login(box.user, self.password)
        except LoginError as exc:
            text = str(exc)
            if "UNAVAILABLE" in text.upper() or "temporary" in text.lower():
                raise InboxError(f"the IMAP server cannot check logins now: {text}") from None
            raise AuthError(
                f"the IMAP server {box.host} refused the login for user {box.user!r} "
                f"({text}); check {box.password_env} or the keyring entry"
            ) from None

    def close(self) -> None:
        """Log out (or, failing that, shut the socket)."""
        client, self.client = self.client, None
        if client is None:
            return
        try:
            client.logout()
        except Exception:
            with contextlib.suppress(Exception):
                client.shutdown()

    def drop(self) -> None:
        """Forget a connection that failed: shut its socket, no logout."""
        client, self.client = self.client, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.shutdown()

    def folders(self, client: IMAPClient) -> list[str]:
        """mailbox.folders plus the SPECIAL-USE \\Junk folder when asked for."""
        if self._folders is None:
            names = list(self.mailbox.folders)
            if self.mailbox.junk:
                try:
                    junk = client.find_special_folder(b"\\Junk")
                except Exception:
                    junk = None
                if junk and junk not in names:
                    names.append(junk)
            self._folders = names
        return self._folders


def check_login(mailbox: Mailbox, password: str | None = None) -> str:
    """Log in and out once (``audit check``): a one-line description, or InboxError."""
    conn = Connection(mailbox, password)
    client = conn.connect_or_raise()
    try:
        idle = "IDLE" if client.has_capability("IDLE") else "no IDLE (polling)"
        folders = conn.folders(client)
    finally:
        conn.close()
    return (
        f"{mailbox.user}@{mailbox.host}:{mailbox.resolved_port} ({mailbox.tls}), {idle}, "
        f"watching {', '.join(folders)}"
    )


class HeadersAhead:
    """A folder's batches with their header fields, each next batch's FETCH sent ahead.

    Iterating gives (batch, heads, ahead). The sync calls ``ahead()`` as soon as it needs
    the connection no more for the batch (its bodies are in): the next batch's header
    FETCH is sent then, and the server reads those headers from disk while this process
    classifies and stores the batch (one connection: its answers come in order, so
    nothing else may be sent until the next iteration reads that answer). When the sync
    never calls it (a large body still fetched in slices), it is sent after the batch."""

    def __init__(self, client: IMAPClient, batches: list[list[int]], items: list[str]) -> None:
        self._client, self._batches, self._items = client, batches, items
        self._sent: bytes | None = None  # the tag of the next batch's FETCH, unread

    def __iter__(
        self,
    ) -> Iterator[tuple[list[int], dict[int, dict[bytes, Any]], Callable[[], None]]]:
        imap = self._client._imap
        for i, batch in enumerate(self._batches):
            if self._sent is None:
                heads = fetch_headers(self._client, batch, self._items)
            else:
                data = read_uid_fetch(imap, self._sent)
                self._sent = None
                heads = headers_from(self._client, batch, self._items, data)
            following = self._batches[i + 1] if i + 1 < len(self._batches) else None

            def ahead(following: list[int] | None = following) -> None:
                if following is not None and self._sent is None:
                    self._sent = send_uid_fetch(imap, *fetch_args(following, self._items))

            yield batch, heads, ahead
            ahead()
