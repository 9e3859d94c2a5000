"""Benchmark: mailbox sync from scratch and incrementally, on a big, mostly unrelated mailbox.

    .venv/bin/python bench/bench_sync.py [--messages 20000] [--full]

A real Dovecot (audit.demo.mailserver.MailServer). The Maildir is filled fast: message
files are written straight into Maildir/cur/ (owned by the mail user, mtime = the
arrival time Dovecot reports as INTERNALDATE), then `doveadm force-resync` indexes
them. The mailbox holds 400 days of mail; the survey's wave opened 30 days ago. About 1%
of the messages are replies to its submissions (plus-address tokens, all after the wave
opened); the rest are unrelated mail: newsletters and social notifications (with
List-Unsubscribe, as bulk senders must send it), personal mail and invoices (without).
The sync reads every message's headers and the body only of those that can belong to
the survey (inbox/relevance.py): the replies, and the non-bulk mail that arrived after
the wave opened (its text could hold a reference): about 5% here.

The baseline, in the same run and on the same mailbox: IMAPClient alone fetching every
message whole (``bare_fetch``); the figure that counts is the sync's wall time (its
process: connect, log in, sync, log out) over the baseline's.

Each sync runs in a child process (inbox.watcher.Watcher.sync_once on the survey's
SQLite store), so its peak RSS (VmHWM in /proc/self/status) is its own:
- scratch: an empty store, every message fetched, parsed, classified, matched, stored;
- incremental: the same store after 10 more replies were delivered over LMTP; then
  with nothing new; then 10 more, as if 16 minutes later (the watcher re-reads the
  unmatched messages recorded in the last 15 minutes on every sync, see inbox/watcher.py
  _rematch_pending, so right after a big first sync every sync pays for them).
Goals (issue 15): from scratch <= 2x the bare fetch at 20,000 and 100,000 messages,
incremental < 1 s, RSS < 300 MB. --full: 20,000 then 100,000 messages (each its own
mailbox and baseline). --dir: where the temporary workspace goes.
"new_file_ms_in_workspace" is what creating one file cost there just before the sync
(see new_file_ms: on this kind of VM it varies 0.02-1 ms, and the sync writes one .eml per
message).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import pwd
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, loadavg  # noqa: E402

DOMAIN = "replies.bench.test"
N_COMPANIES = 20
SENDERS = [
    ("news@shop{n}.example", "Weekly deals #{i}", "Our best offers this week. Unsubscribe below."),
    ("noreply@social{n}.example", "You have {i} new notifications", "See what you missed."),
    ("friend{n}@mail.example", "Dinner on Friday? ({i})", "Are you free on Friday evening?"),
    ("billing@utility{n}.example", "Your invoice {i}", "Your monthly invoice is attached."),
]


def _tokens() -> list[str]:
    from audit.tokens import ALPHABET

    return [f"syn{ALPHABET[i]}{ALPHABET[i + 1]}xyz" for i in range(N_COMPANIES)]


HISTORY_DAYS = 400  # the mailbox's mail spans this many days before now
WAVE_AGE_DAYS = 30  # the survey's submissions were made this many days ago


def is_reply(i: int) -> bool:
    return i % 100 == 7


_HTML_BLOCK = (
    '<tr><td style="padding:12px;font-family:Arial,sans-serif;font-size:14px;color:#333">'
    '<a href="https://shop.example/p/{n}?utm_source=news&amp;utm_medium=email">'
    '<img src="https://cdn.shop.example/img/{n}.jpg" width="180" alt="Offer {n}"></a>'
    "<p>Deal {n}: save up to {k}% on selected items this week only. Terms apply.</p></td></tr>\n"
)


def _realistic_body(i: int, rng: random.Random, text: str) -> tuple[str, str]:
    """(Content-Type header, body) of the sizes real mail has: newsletters and notifications
    as HTML (10-90 KB), personal mail as a few KB of text, invoices with a PDF attached
    (base64, 60-200 KB), replies with the quoted inquiry. Average ~49 KB a message."""
    kind = i % len(SENDERS)
    if kind in (0, 1):  # newsletter / notification: an HTML body
        blocks = rng.randint(60, 240) if kind == 0 else rng.randint(20, 60)
        html = "".join(_HTML_BLOCK.format(n=i * 7 + b, k=10 + b % 60) for b in range(blocks))
        return "text/html; charset=utf-8", f"<html><body><table>{html}</table></body></html>"
    if kind == 2:  # personal mail
        return "text/plain; charset=utf-8", (text + " " * 3 + "\n") * rng.randint(40, 120)
    # an invoice: a short text and a PDF attachment
    pdf = base64.encodebytes(rng.randbytes(rng.randint(45_000, 150_000))).decode()
    return (
        'multipart/mixed; boundary="inv-b"',
        f"--inv-b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n"
        f"--inv-b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; "
        f'filename="invoice-{i}.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n{pdf}'
        "--inv-b--\r\n",
    )


def _message(
    i: int, when: datetime, tokens: list[str], rng: random.Random, realistic: bool = False
) -> bytes:
    extra = ""
    ctype = "text/plain; charset=utf-8"
    if is_reply(i):
        t = tokens[rng.randrange(len(tokens))]
        k = tokens.index(t)
        sender, subject = f"service@sync{k}.example", "Re: Question about your services"
        to = f"survey+{t}@{DOMAIN}"
        body = f"Dear Dana,\n\nThank you for your message. Reference CA-{t.upper()}.\n\nYael\n"
        if realistic:  # the inquiry quoted below the answer, as mail clients do
            body += "\n> " + "\n> ".join(["I would like to know more about your services."] * 40)
    else:
        s, subj, text = SENDERS[i % len(SENDERS)]
        sender, subject, to = s.format(n=i % 37), subj.format(i=i), f"survey@{DOMAIN}"
        body = (text + "\n") * rng.randint(2, 12)
        if realistic:
            ctype, body = _realistic_body(i, rng, text)
        if i % len(SENDERS) < 2:  # newsletters and notifications: bulk senders
            domain = sender.split("@", 1)[1]
            extra = f"List-Unsubscribe: <mailto:unsubscribe@{domain}>\r\n"
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Date: {format_datetime(when)}\r\nMessage-ID: <bench-{i}@{DOMAIN}>\r\n{extra}"
        f"MIME-Version: 1.0\r\nContent-Type: {ctype}\r\n\r\n"
        + (body if ctype.startswith("multipart") else body.replace("\n", "\r\n"))
    ).encode()


def fill_maildir(server: Any, n: int, tokens: list[str], realistic: bool = False) -> float:
    """Write n messages into Maildir/cur, then let Dovecot index them; returns seconds."""
    t0 = time.monotonic()
    rng = random.Random(7)
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=HISTORY_DAYS)
    step = timedelta(days=HISTORY_DAYS - 1) / max(n, 1)
    wave = now - timedelta(days=WAVE_AGE_DAYS)
    reply_step = timedelta(days=WAVE_AGE_DAYS - 1) / max(n, 1)
    # Dovecot creates the Maildir (and its owner) at the first message: APPEND message 0.
    server.append(_message(0, start, tokens, rng, realistic), internaldate=start)
    cur = server.maildir / "cur"
    uid = gid = -1
    if os.geteuid() == 0:
        mail = pwd.getpwnam("mail")
        uid, gid = mail.pw_uid, mail.pw_gid
    for i in range(1, n):
        when = wave + reply_step * i if is_reply(i) else start + step * i
        raw = _message(i, when, tokens, rng, realistic)
        path = cur / f"{int(when.timestamp())}.M{i}P1.bench,S={len(raw)}:2,S"
        path.write_bytes(raw)
        ts = when.timestamp()
        os.utime(path, (ts, ts))
        if uid >= 0:
            os.chown(path, uid, gid)
    server.doveadm("force-resync", "-u", server.user, "INBOX")
    return time.monotonic() - t0


def child(db: str, ws: str, mailbox_json: str, password: str, later_s: float) -> dict[str, Any]:
    from audit.clock import Clock
    from audit.models import Mailbox
    from audit.store import Store
    from inbox.watcher import Watcher

    store = Store.open(f"sqlite:///{db}")
    cpu0 = os.times()
    t0 = time.monotonic()
    clock = Clock(offset_s=-later_s)  # later_s > 0: as if the sync ran that much later
    watcher = Watcher(
        store, Mailbox(**json.loads(mailbox_json)), Path(ws), password=password, clock=clock
    )
    if os.environ.get("BENCH_PROFILE") and not Path(os.environ["BENCH_PROFILE"]).exists():
        # a cProfile of the first (from-scratch) sync, for finding the cost
        import cProfile

        with cProfile.Profile() as prof:
            stats = watcher.sync_once()
        prof.dump_stats(os.environ["BENCH_PROFILE"])
    else:
        stats = watcher.sync_once()
    wall = time.monotonic() - t0
    cpu = os.times()
    store.close()
    return {
        "wall_s": round(wall, 3),
        "sync_s": round(stats.seconds, 3),
        "new": stats.new,
        "bodies_fetched": getattr(stats, "bodies", None),
        "matched": stats.matched,
        "duplicates": stats.duplicates,
        "errors": stats.errors,
        # CPU of this process during the sync: user = our Python, sys = the kernel's part
        # (mostly creating the .eml files; see new_file_ms)
        "user_s": round(cpu.user - cpu0.user, 2),
        "sys_s": round(cpu.system - cpu0.system, 2),
        "peak_rss_mb": _peak_rss_mb(),
    }


def _peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM). Not getrusage's ru_maxrss: Linux carries that
    over from the parent at fork, so a child would report at least its parent's size."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def new_file_ms(folder: Path, n: int = 500) -> float:
    """Milliseconds to create one small file (write + rename, as the .eml evidence is) in
    ``folder``, now. The files stay (deleting them would slow the next creations, below).

    On ext4 without a journal (this kind of VM) a new inode skips every inode freed in the
    last 1-6 minutes in its group, so right after other runs deleted many files in the same
    place (a temp folder), creating one can cost 0.3-1 ms instead of 0.02 ms. The .eml files
    of a sync pay that; this figure says how much it was."""
    folder.mkdir()
    t0 = time.perf_counter()
    for i in range(n):
        tmp = folder / f"{i}.part"
        tmp.write_bytes(b"x" * 600)
        tmp.replace(folder / f"{i}.eml")
    return round((time.perf_counter() - t0) * 1000 / n, 3)


def bare_fetch(server: Any) -> dict[str, Any]:
    """The floor: IMAPClient alone fetching every message whole, 500 at a time, no storing."""
    import resource as res

    t0, cpu0 = time.monotonic(), time.process_time()
    n = size = 0
    with server.client() as c:
        c.select_folder("INBOX", readonly=True)
        uids = c.search(["ALL"])
        for i in range(0, len(uids), 500):
            for data in c.fetch(uids[i : i + 500], ["INTERNALDATE", "BODY.PEEK[]"]).values():
                n += 1
                size += len(data[b"BODY[]"])
    return {
        "wall_s": round(time.monotonic() - t0, 3),
        "cpu_s": round(time.process_time() - cpu0, 2),  # this process's user + sys
        "messages": n,
        "mb": round(size / 1e6, 1),
        "peak_rss_mb_of_bench": round(res.getrusage(res.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _prepare_store(db: Path, tokens: list[str]) -> None:
    from audit.models import Company, SubmissionState
    from audit.store import Store

    store = Store.open(f"sqlite:///{db}")
    now = datetime.now(UTC)
    wave = store.ensure_wave("bench", None, now=now - timedelta(days=WAVE_AGE_DAYS + 1))
    for k, t in enumerate(tokens):
        cid = store.upsert_company(
            Company(name=f"Sync Co {k}", id=f"sync-{k}", homepage=f"https://sync{k}.example/")
        )
        sub = store.plan_submission(cid, wave, t, f"survey+{t}@{DOMAIN}", now)
        store.update_submission(
            sub.id,
            state=SubmissionState.SUBMITTED.value,
            submitted_at=now - timedelta(days=WAVE_AGE_DAYS),
        )
    store.close()


def _run_child(
    db: Path, ws: Path, mailbox: dict[str, Any], password: str, later_s: float = 0.0
) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", str(db), str(ws), json.dumps(mailbox), str(later_s)]
    env = dict(os.environ, BENCH_IMAP_PASSWORD=password)
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"sync child failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def scenario(
    n: int, tokens: list[str], tmp_root: str | None, realistic: bool = False
) -> dict[str, Any]:
    """One mailbox of ``n`` messages: the bare fetch, then the syncs, each in its process.
    ``realistic``: messages of real mail's sizes (_realistic_body) instead of a few
    hundred bytes each."""
    from audit.demo.mailserver import MailServer

    with (
        tempfile.TemporaryDirectory(prefix="bench-sync-", dir=tmp_root) as tmp,
        MailServer() as server,
    ):
        fill_s = fill_maildir(server, n, tokens, realistic)
        db, ws = Path(tmp) / "survey.db", Path(tmp) / "ws"
        ws.mkdir()
        _prepare_store(db, tokens)
        mailbox = {
            "host": server.host,
            "port": server.imap_port,
            "tls": "plain",
            "user": server.user,
            "timeout_s": 60,
        }
        load_before = loadavg()
        baseline = bare_fetch(server)
        file_ms = new_file_ms(ws / "fs-probe")
        scratch = _run_child(db, ws, mailbox, server.password)
        for j in range(10):
            t = tokens[j]
            raw = _message(n + j, datetime.now(UTC), [t], random.Random(j))
            server.deliver(raw.replace(b"bench-", b"inc-"), f"survey+{t}@{DOMAIN}")
        incremental = _run_child(db, ws, mailbox, server.password)
        nothing_new = _run_child(db, ws, mailbox, server.password)
        # inbox.watcher re-reads every unmatched message recorded in the last
        # REMATCH_WINDOW (15 min) on each sync: measure once more as if 16 min later.
        for j in range(10, 20):
            t = tokens[j]
            raw = _message(n + j, datetime.now(UTC), [t], random.Random(j))
            server.deliver(raw.replace(b"bench-", b"inc-"), f"survey+{t}@{DOMAIN}")
        later = _run_child(db, ws, mailbox, server.password, later_s=16 * 60)
        load_after = loadavg()
    ratio = scratch["wall_s"] / baseline["wall_s"] if baseline["wall_s"] else None
    return {
        "messages": n,
        "mailbox": (
            f"messages of real-world sizes ({baseline['mb'] * 1000 / max(n, 1):.0f} KB on average)"
            if realistic
            else "small messages"
        ),
        "fill_s": round(fill_s, 1),
        "loadavg_before": load_before,
        "loadavg_after": load_after,
        "baseline_bare_fetch": baseline,
        "new_file_ms_in_workspace": file_ms,
        "scratch": scratch,
        "scratch_vs_bare": round(ratio, 2) if ratio is not None else None,
        # CPU of the sync's process over the bare fetch's (neither counts Dovecot's): less
        # sensitive than wall time to other work sharing the cores
        "scratch_vs_bare_cpu": round(
            (scratch["user_s"] + scratch["sys_s"]) / max(baseline["cpu_s"], 0.01), 2
        ),
        "incremental_10_new": incremental,
        "incremental_nothing_new": nothing_new,
        "incremental_10_new_16min_later": later,
        "scratch_msgs_per_s": round(scratch["new"] / scratch["sync_s"], 1),
        "met": {
            "scratch": ratio is not None and ratio <= 2.0,
            "incremental": incremental["wall_s"] < 1.0 and later["wall_s"] < 1.0,
            "rss": max(scratch["peak_rss_mb"], incremental["peak_rss_mb"]) < 300,
        },
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--messages", type=int, default=20_000)
    ap.add_argument(
        "--full", action="store_true", help="the issue's sizes: 20,000 then 100,000 messages"
    )
    ap.add_argument(
        "--dir", help="where the temporary workspace goes (default: the system's temp folder)"
    )
    ap.add_argument(
        "--realistic",
        action="store_true",
        help="messages of real mail's sizes (~49 KB) instead of a few hundred bytes; --full "
        "adds a 20,000-message mailbox of those",
    )
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        db, ws, mb, later = args.child
        print(json.dumps(child(db, ws, mb, os.environ["BENCH_IMAP_PASSWORD"], float(later))))
        return 0

    sizes = [(20_000, False), (100_000, False)] if args.full else [(args.messages, False)]
    if args.full or args.realistic:
        sizes.append((args.messages if args.realistic and not args.full else 20_000, True))
        if args.realistic and not args.full:
            sizes = sizes[-1:]
    tokens = _tokens()
    runs = []
    for n, realistic in sizes:
        print(f"sync: {n:,} messages, realistic={realistic} (load {loadavg()})", file=sys.stderr)
        runs.append(scenario(n, tokens, args.dir, realistic))
        print(json.dumps(runs[-1]), file=sys.stderr, flush=True)
    emit(
        {
            "benchmark": "sync",
            "runs": runs,
            "goals": {"scratch_vs_bare": 2.0, "incremental_s": 1.0, "rss_mb": 300},
            "met": {k: all(r["met"][k] for r in runs) for k in ("scratch", "incremental", "rss")},
        }
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
