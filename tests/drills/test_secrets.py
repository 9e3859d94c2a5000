"""Drill: a whole survey with a known IMAP password and debug logging, then a search for it.

check -> run --submit -> watch --once -> status -> report, every command with `-v` (debug
logging) and its stderr kept in a log file. Then the password is searched for, in plain
and in the forms a protocol log would carry (base64 of SASL PLAIN, URL-quoted), in every
file of the workspace (SQLite store and its WAL, evidence, kept .eml, reports) and in the
logs: absent.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import quote

import pytest
from drillkit import REPLY_DOMAIN, run_audit

from audit.clock import Clock
from audit.demo.mailserver import MailServer, SmtpEntry
from audit.demo.scenario import COMPANIES
from audit.demo.sites import DemoWorld

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.imap]

CHOSEN = ("carmel-bank", "ramon-water", "hermon-energy")  # human, auto-ack, bounce: all < 2 h


def _needles(user: str, password: str) -> list[bytes]:
    pw = password.encode()
    return [
        pw,
        base64.b64encode(pw),
        base64.b64encode(b"\0" + user.encode() + b"\0" + pw),
        base64.b64encode(user.encode() + b"\0" + user.encode() + b"\0" + pw),
        quote(password, safe="").encode(),
    ]


def test_password_never_written(mail: MailServer, smtp: SmtpEntry, tmp_path: Path) -> None:
    import yaml

    world = DemoWorld(
        tuple(c for c in COMPANIES if c.slug in CHOSEN), Clock(), smtp.port, REPLY_DOMAIN
    ).start()
    try:
        ws = tmp_path / "ws"
        log = tmp_path / "debug.log"
        run_audit("init", str(ws))
        survey = yaml.safe_load((ws / "survey.yaml").read_text(encoding="utf-8"))
        survey["reply_address"] = {"scheme": "plus", "local": "survey", "domain": REPLY_DOMAIN}
        survey["mailbox"] = {
            "host": "127.0.0.1",
            "port": mail.imaps_port,
            "tls": "ssl",
            "user": mail.user,
            "ca_file": mail.ca_file,
            "timeout_s": 10,
        }
        survey["browser"] = {"min_fill_seconds": 0.5, "typing_delay_ms": [0, 5]}
        (ws / "survey.yaml").write_text(yaml.safe_dump(survey, allow_unicode=True), "utf-8")
        companies = [
            {
                "name": s.company.name,
                "id": s.company.slug,
                "contact_url": s.url + "contact",
                "reply_domains": [s.company.domain],
            }
            for s in world.sites
        ]
        (ws / "companies.yaml").write_text(yaml.safe_dump({"companies": companies}), "utf-8")

        def audit(*args: str) -> str:
            return run_audit("-v", *args, password=mail.password, stderr_to=log).stdout

        checks = json.loads(audit("check", "-w", str(ws), "--json"))
        assert all(i["ok"] for i in checks), checks
        audit("run", "--submit", "-w", str(ws))
        assert world.wait_idle(60)
        audit("watch", "--once", "-w", str(ws))
        rows = json.loads(audit("status", "-w", str(ws), "--json"))
        assert sum(r["messages"] for r in rows) >= 3, rows  # the replies were recorded
        audit("report", "-w", str(ws))
    finally:
        world.stop()

    logged = log.read_bytes()
    assert b"DEBUG" in logged, "debug logging was not captured"
    files = [p for p in ws.rglob("*") if p.is_file()] + [log]
    assert any(p.suffix == ".eml" for p in files) and any(p.suffix == ".png" for p in files)
    needles = _needles(mail.user, mail.password)
    for path in files:
        data = path.read_bytes()
        for needle in needles:
            assert needle not in data, f"{needle!r} found in {path}"
