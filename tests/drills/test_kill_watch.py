"""Drill: the watcher killed with SIGKILL while 100 replies arrive, then `watch --once`.

Replies arrive two ways, alternately: LMTP delivery (arrival = now) and IMAP APPEND with a
back-dated INTERNALDATE (a reply that came while nobody watched). The watcher
(`audit watch`, IDLE) is killed twice mid-stream and started again; at the end
`audit watch --once` catches up. Then: 100 messages recorded, each exactly once, each
matched to its submission with one contact event, and each stored arrival time equal
to the INTERNALDATE the server reports.
"""

from __future__ import annotations

import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest
import sqlalchemy as sa
from drillkit import REPLY_DOMAIN, audit_cmd, audit_env, kill_tree, run_audit

from audit.config import load_workspace
from audit.demo.mailserver import MailServer
from audit.models import Company, SubmissionState
from audit.pipeline import init_workspace
from audit.store import Store, contact_events, messages
from audit.tokens import ALPHABET

pytestmark = [pytest.mark.slow, pytest.mark.imap]

REPLIES = 100
COMPANIES = 10


def _workspace(root: Path, mail: MailServer) -> tuple[Path, list[str]]:
    import yaml

    init_workspace(root)
    survey = yaml.safe_load((root / "survey.yaml").read_text(encoding="utf-8"))
    survey["reply_address"] = {"scheme": "plus", "local": "survey", "domain": REPLY_DOMAIN}
    survey["mailbox"] = {
        "host": "127.0.0.1",
        "port": mail.imap_port,
        "tls": "plain",
        "user": mail.user,
        "timeout_s": 10,
        "idle_round_s": 30,
    }
    (root / "survey.yaml").write_text(yaml.safe_dump(survey, allow_unicode=True), "utf-8")
    companies = [
        {"name": f"Watch Co {i}", "id": f"watch-{i}", "homepage": f"https://watch{i}.example/"}
        for i in range(COMPANIES)
    ]
    (root / "companies.yaml").write_text(yaml.safe_dump({"companies": companies}), "utf-8")
    ws = load_workspace(root)
    store = Store.open(ws.store_url)
    tokens = []
    now = datetime.now(UTC)
    wave = store.ensure_wave(ws.survey.survey.wave, None, now=now - timedelta(days=8))
    for i, company in enumerate(ws.companies):
        token = f"wtchab{ALPHABET[i]}{ALPHABET[i + 1]}"  # a valid token
        cid = store.upsert_company(company)
        sub = store.plan_submission(cid, wave, token, f"survey+{token}@{REPLY_DOMAIN}", now)
        store.update_submission(
            sub.id, state=SubmissionState.SUBMITTED.value, submitted_at=now - timedelta(days=7)
        )
        tokens.append(token)
    store.close()
    assert isinstance(ws.companies[0], Company)
    return root, tokens


def _reply(i: int, token: str, company: int) -> bytes:
    m = EmailMessage()
    m["From"] = f"Customer Service <service@watch{company}.example>"
    m["To"] = f"survey+{token}@{REPLY_DOMAIN}"
    m["Subject"] = f"Re: Question about your services ({i})"
    m["Date"] = format_datetime(datetime.now(UTC))
    m["Message-ID"] = make_msgid(idstring=f"drill{i}", domain=f"watch{company}.example")
    m.set_content(
        f"Dear Dana,\n\nThank you for your message number {i}. You can open an account "
        "online; the fee is 9.90 a month.\n\nBest regards,\nYael Mizrahi\nCustomer Service\n"
    )
    return m.as_bytes()


def _start_watch(ws: Path, password: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as fh:
        return subprocess.Popen(
            audit_cmd("watch", "-w", str(ws)),
            stdout=fh,
            stderr=fh,
            env=audit_env(password),
            start_new_session=True,
        )


def test_watcher_killed_while_replies_arrive(mail: MailServer, tmp_path: Path) -> None:
    ws, tokens = _workspace(tmp_path / "ws", mail)
    log = tmp_path / "watch.log"
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    delivered = [0]
    errors: list[BaseException] = []

    def deliver_all() -> None:
        try:
            for i in range(REPLIES):
                company = i % COMPANIES
                raw = _reply(i, tokens[company], company)
                if i % 2:
                    mail.append(raw, internaldate=base + timedelta(minutes=37 * i, seconds=i))
                else:
                    mail.deliver(raw, f"survey+{tokens[company]}@{REPLY_DOMAIN}")
                delivered[0] += 1
                time.sleep(0.03)
        except BaseException as exc:  # reported by the test thread
            errors.append(exc)

    watcher = _start_watch(ws, mail.password, log)
    time.sleep(2.0)  # let it connect and IDLE
    feeder = threading.Thread(target=deliver_all)
    feeder.start()
    for kill_at in (30, 70):
        while delivered[0] < kill_at and feeder.is_alive():
            time.sleep(0.01)
        kill_tree(watcher)
        watcher = _start_watch(ws, mail.password, log)
    feeder.join(timeout=300)
    assert not errors, errors
    assert delivered[0] == REPLIES
    time.sleep(0.5)
    kill_tree(watcher)
    run_audit("watch", "-w", str(ws), "--once", password=mail.password)

    # what the server says
    with mail.client() as c:
        c.normalise_times = False
        c.select_folder("INBOX", readonly=True)
        uids = c.search(["ALL"])
        data = c.fetch(uids, ["INTERNALDATE", "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
    server = {}
    for d in data.values():
        mid = d[b"BODY[HEADER.FIELDS (MESSAGE-ID)]"].decode().split(":", 1)[1].strip()
        server[mid] = d[b"INTERNALDATE"].astimezone(UTC)
    assert len(server) == REPLIES

    store = Store.open(load_workspace(ws).store_url)
    try:
        with store.engine.connect() as con:
            rows = con.execute(
                sa.select(messages.c.id, messages.c.message_id, messages.c.internaldate).where(
                    messages.c.message_id.like("%drill%")
                )
            ).all()
            events = con.execute(
                sa.select(contact_events.c.message_id, sa.func.count()).group_by(
                    contact_events.c.message_id
                )
            ).all()
            matched = con.execute(
                sa.select(sa.func.count()).where(messages.c.submission_id.is_not(None))
            ).scalar_one()
    finally:
        store.close()
    assert len(rows) == REPLIES
    assert len({r.message_id for r in rows}) == REPLIES  # none twice
    for r in rows:
        assert r.internaldate == server[r.message_id], r.message_id  # arrival time exact
    assert matched == REPLIES
    assert all(n == 1 for _, n in events) and len(events) == REPLIES
