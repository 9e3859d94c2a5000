"""Benchmark: reply latency, from LMTP delivery done to the message's row in the store.

    .venv/bin/python bench/bench_latency.py [--replies 50] [--full]

A real Dovecot (audit.demo.mailserver.MailServer) and a real SQLite store with ten
submitted companies. inbox.watcher.Watcher.watch runs in a thread of this process; its
on_event callback fires right after the message's row (and its contact event) is
written. Each reply is delivered over LMTP; the clock starts when the LMTP transaction
returns (the mail is in the Maildir) and stops at the callback. One reply at a time,
with a random 0-300 ms gap, so that every figure is one reply's own latency.

Two modes, same server, same run: IDLE (the default), and polling (Watcher.use_idle =
False with poll_interval_s = 1: a NOOP and a sync every second). Goal: p50 <= 1 s with
IDLE. Dovecot itself waits 500 ms after a file-system event before it pushes
(NOTES-mail.md), which is the floor. --full: 200 replies (the issue's size).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, loadavg  # noqa: E402

from audit.demo.mailserver import MailServer  # noqa: E402
from audit.models import Company, Mailbox, SubmissionState  # noqa: E402
from audit.store import Store  # noqa: E402
from audit.tokens import ALPHABET  # noqa: E402

DOMAIN = "replies.bench.test"


def _store(path: Path) -> tuple[Store, list[str]]:
    store = Store.open(f"sqlite:///{path}")
    now = datetime.now(UTC)
    wave = store.ensure_wave("bench", None, now=now - timedelta(days=2))
    tokens = []
    for i in range(10):
        token = f"lat{ALPHABET[i]}{ALPHABET[i + 1]}abc"
        cid = store.upsert_company(
            Company(name=f"Latency Co {i}", id=f"lat-{i}", homepage=f"https://lat{i}.example/")
        )
        sub = store.plan_submission(cid, wave, token, f"survey+{token}@{DOMAIN}", now)
        store.update_submission(
            sub.id, state=SubmissionState.SUBMITTED.value, submitted_at=now - timedelta(days=1)
        )
        tokens.append(token)
    return store, tokens


def _reply(tag: str, token: str, i: int) -> bytes:
    m = EmailMessage()
    m["From"] = f"Customer Service <service@lat{i % 10}.example>"
    m["To"] = f"survey+{token}@{DOMAIN}"
    m["Subject"] = f"Re: your question [{tag}]"
    m["Date"] = format_datetime(datetime.now(UTC))
    m["Message-ID"] = make_msgid(domain=f"lat{i % 10}.example")
    m.set_content("Dear Dana,\n\nThank you for your message.\n\nBest regards,\nYael Mizrahi\n")
    return m.as_bytes()


def measure(server: MailServer, tmp: Path, mode: str, n: int) -> dict[str, Any]:
    from inbox.watcher import Watcher

    store, tokens = _store(tmp / f"{mode}.db")
    mailbox = Mailbox(
        host=server.host,
        port=server.imap_port,
        tls="plain",
        user=server.user,
        timeout_s=10,
        idle_round_s=60,
    )
    watcher = Watcher(store, mailbox, tmp, password=server.password)
    if mode == "polling":
        watcher.use_idle = False
        watcher.poll_interval_s = 1.0
    seen: dict[str, float] = {}
    cond = threading.Condition()

    def on_event(ev: Any) -> None:
        with cond:
            seen[ev.subject] = time.monotonic()
            cond.notify_all()

    stop = threading.Event()
    thread = threading.Thread(target=watcher.watch, args=(stop,), kwargs={"on_event": on_event})
    thread.start()
    # warm-up: the first sync of an empty store is done once this one is recorded
    server.deliver(_reply(f"{mode}-warm", tokens[0], 0), f"survey+{tokens[0]}@{DOMAIN}")
    with cond:
        cond.wait_for(lambda: any(k.endswith(f"[{mode}-warm]") for k in seen), timeout=30)
    latencies = []
    lost = 0
    for i in range(n):
        time.sleep(random.uniform(0, 0.3))
        tag = f"{mode}-{i}"
        server.deliver(_reply(tag, tokens[i % 10], i), f"survey+{tokens[i % 10]}@{DOMAIN}")
        t0 = time.monotonic()
        key = f"Re: your question [{tag}]"
        with cond:
            if not cond.wait_for(lambda key=key: key in seen, timeout=30):
                lost += 1
                continue
        latencies.append(seen[key] - t0)
    stop.set()
    thread.join(timeout=60)
    store.close()
    in_order = [round(x, 3) for x in latencies]
    latencies.sort()
    q = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else []
    return {
        "mode": mode,
        "replies": n,
        "recorded": len(latencies),
        "lost": lost,
        "p50_s": round(statistics.median(latencies), 3) if latencies else None,
        "p99_s": round(q[98], 3) if q else None,
        "max_s": round(latencies[-1], 3) if latencies else None,
        "reconnects": watcher.reconnects,
        "loadavg": loadavg(),
        "latencies_s": in_order,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--replies", type=int, default=50)
    ap.add_argument("--full", action="store_true", help="the issue's size: 200 replies")
    args = ap.parse_args()
    n = 200 if args.full else args.replies
    with tempfile.TemporaryDirectory(prefix="bench-lat-") as tmp, MailServer() as server:
        idle = measure(server, Path(tmp), "idle", n)
        polling = measure(server, Path(tmp), "polling", n)
    emit(
        {
            "benchmark": "latency",
            "replies": n,
            "idle": idle,
            "polling": polling,
            "goal": "p50 <= 1 s with IDLE",
            "met": idle["p50_s"] is not None and idle["p50_s"] <= 1.0 and idle["lost"] == 0,
        }
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
