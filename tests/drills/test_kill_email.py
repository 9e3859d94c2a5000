"""Drill: `audit run --submit` on the e-mail channel killed with SIGKILL right after the
SMTP server accepted an inquiry and before the run recorded it (fault point
``after-smtp-accept``). The company must be `uncertain` and a re-run must send nothing to
it: never two inquiries to one company in a wave. The other company is sent once."""

from __future__ import annotations

import json
import sqlite3
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml
from drillkit import kill_tree, run_audit, start_submit_run

from audit.demo.mailserver import MailServer, SubmissionServer
from audit.pipeline import init_workspace

pytestmark = [pytest.mark.slow]

CEILING_S = 120
COMPANIES = [
    {"name": "Acme Mail", "id": "acme-mail", "channel": "email", "email": "support@acme.test"},
    {"name": "Beta Mail", "id": "beta-mail", "channel": "email", "email": "help@beta.test"},
]


def _rows(db: Path) -> dict[str, tuple[str, str | None]]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return {
            slug: (state, clicked)
            for slug, state, clicked in con.execute(
                "select c.slug, s.state, s.clicked_at from submissions s "
                "join companies c on c.id = s.company_id where s.channel = 'email'"
            )
        }
    except sqlite3.Error:
        return {}
    finally:
        con.close()


def test_kill_9_after_the_smtp_accept_leaves_uncertain_and_never_sends_twice(
    tmp_path: Path, mail: MailServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    smtp = SubmissionServer(mail, user="drill-sender", password="drill-Smtp-9x")
    monkeypatch.setenv("AUDIT_SMTP_PASSWORD", smtp.password)
    with smtp:
        ws = tmp_path / "ws"
        init_workspace(ws)
        survey = yaml.safe_load((ws / "survey.yaml").read_text(encoding="utf-8"))
        survey["reply_address"] = {"scheme": "plus", "local": "survey", "domain": "r.drill.test"}
        survey["mailbox"] = {"host": "127.0.0.1", "port": 9, "tls": "plain"}
        survey["smtp"] = smtp.smtp_config()
        (ws / "survey.yaml").write_text(yaml.safe_dump(survey), "utf-8")
        (ws / "companies.yaml").write_text(yaml.safe_dump({"companies": COMPANIES}), "utf-8")
        log = tmp_path / "run.log"
        db = ws / "survey.db"

        proc = start_submit_run(ws, log, "after-smtp-accept")
        deadline = time.monotonic() + CEILING_S
        # Stalled at the fault point: the server has accepted, the run has not recorded it.
        while "fault point after-smtp-accept reached" not in log.read_text(errors="replace"):
            assert proc.poll() is None, f"the run ended early:\n{log.read_text()}"
            assert time.monotonic() < deadline, "the fault point was not reached in time"
            time.sleep(0.05)
        assert len(smtp.accepted) == 1
        [(sent_to, _)] = [(r[0], r) for _, r, _ in smtp.accepted]
        kill_tree(proc)
        rows = _rows(db)
        stalled = next(slug for slug, c in zip(("acme-mail", "beta-mail"), COMPANIES, strict=True)
                       if c["email"] == sent_to)  # fmt: skip
        assert rows[stalled][0] == "running" and rows[stalled][1] is not None

        run_audit("run", "--submit", "-w", str(ws))
        rows = _rows(db)
        assert rows[stalled][0] == "uncertain"
        other = next(s for s in rows if s != stalled)
        assert rows[other][0] == "submitted"
        run_audit("run", "--submit", "-w", str(ws))  # and once more: nothing at all
        per_company = Counter(rcpt for _, rcpts, _ in smtp.accepted for rcpt in rcpts)
        assert per_company == Counter({"support@acme.test": 1, "help@beta.test": 1})
        shown = json.loads(run_audit("status", "-w", str(ws), "--json").stdout)
        assert [r["company"] for r in shown if r["state"] == "uncertain"] == [
            c["name"] for c in COMPANIES if c["id"] == stalled
        ]
