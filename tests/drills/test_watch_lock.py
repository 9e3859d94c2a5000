"""Drill: two `audit watch` processes on one mailbox (SQLite: a lock file; PostgreSQL: an
advisory lock). The second waits, saying who holds the mailbox; when the first is killed
(SIGKILL: no clean-up of its own) the second takes over and records what arrives next."""

from __future__ import annotations

import subprocess
import time
from email.message import EmailMessage
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from drillkit import REPLY_DOMAIN, kill_tree, start_audit

from audit.demo.mailserver import MailServer
from audit.pipeline import init_workspace

pytestmark = [pytest.mark.slow, pytest.mark.imap]

CEILING_S = 90  # waits for a process to reach a state: ceilings, never reached when it works


def _workspace(root: Path, mail: MailServer, store: str | None) -> Path:
    init_workspace(root)
    survey = yaml.safe_load((root / "survey.yaml").read_text(encoding="utf-8"))
    survey["reply_address"] = {"scheme": "plus", "local": "survey", "domain": REPLY_DOMAIN}
    survey["mailbox"] = {
        "host": "127.0.0.1",
        "port": mail.imap_port,
        "tls": "plain",
        "user": mail.user,
        "timeout_s": 10,
        "idle_round_s": 5,
    }
    if store:
        survey["store"] = store
    (root / "survey.yaml").write_text(yaml.safe_dump(survey, allow_unicode=True), "utf-8")
    return root


def _query(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            return [tuple(r) for r in c.exec_driver_sql(sql)]
    except sa.exc.DBAPIError:  # not created yet
        return []
    finally:
        engine.dispose()


def _until(what: str, check: object, procs: list[subprocess.Popen[bytes]], log: Path) -> None:
    deadline = time.monotonic() + CEILING_S
    while not check():  # type: ignore[operator]
        for p in procs:
            assert p.poll() is None, f"a watcher ended before {what}: {log.read_text()[-3000:]}"
        assert time.monotonic() < deadline, f"not {what} within the ceiling: {log.read_text()}"
        time.sleep(0.1)


def test_one_watcher_per_mailbox_and_the_other_takes_over(
    tmp_path: Path, mail: MailServer, store_url: str
) -> None:
    ws = tmp_path / "ws"
    url = store_url if store_url.startswith("postgresql") else f"sqlite:///{ws / 'survey.db'}"
    _workspace(ws, mail, None if url.startswith("sqlite") else url)
    logs = [tmp_path / "watch-1.log", tmp_path / "watch-2.log"]
    first = start_audit(["watch", "-w", str(ws)], logs[0], password=mail.password)
    second = None
    try:

        def holder() -> str:
            rows = _query(url, "select value from meta where substr(key, 1, 8) = 'watcher:'")
            return str(rows[0][0]) if rows else ""

        _until("holding", lambda: f"pid {first.pid} " in holder(), [first], logs[0])
        second = start_audit(["watch", "-w", str(ws)], logs[1], password=mail.password)
        _until(
            "waiting",
            lambda: "; waiting" in logs[1].read_text(errors="replace"),
            [first, second],
            logs[1],
        )
        text = logs[1].read_text(errors="replace")
        assert f"another watcher (pid {first.pid} on " in text
        assert f"holds mailbox {mail.user}@127.0.0.1:{mail.imap_port}/INBOX" in text
        kill_tree(first)
        _until("taken over", lambda: f"pid {second.pid} " in holder(), [second], logs[1])
        assert "took over mailbox" in logs[1].read_text(errors="replace")
        # and it watches: a reply that arrives now is recorded by the second watcher
        m = EmailMessage()
        m["From"] = "Help <help@lock.example>"
        m["To"] = f"survey+abcdefgh@{REPLY_DOMAIN}"
        m["Subject"] = "Re: your question"
        mid = f"<lock-drill-{time.time_ns()}@lock.example>"
        m["Message-ID"] = mid
        m.set_content("Thanks for your message.")
        mail.deliver(m.as_bytes(), f"survey+abcdefgh@{REPLY_DOMAIN}")
        _until(
            "recorded",
            lambda: bool(_query(url, f"select id from messages where message_id = '{mid}'")),
            [second],
            logs[1],
        )
    finally:
        kill_tree(first)
        if second is not None:
            kill_tree(second)
