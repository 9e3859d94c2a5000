"""`audit review` end to end through the CLI, on a real SQLite store in a temp workspace.

Messages are recorded the way the watcher records them (Store.add_messages: the row, its
.eml evidence and, when matched, its contact event in one transaction), with the
classifier's own reasons, so that the review reads what a real sync leaves behind. No
IMAP server is needed: review works on the store alone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from audit.config import load_workspace
from audit.models import SubmissionState
from audit.pipeline import init_workspace
from audit.store import Store, contact_events, evidence, messages
from inbox.classify import classify, suggestion_in
from inbox.parse import parse_message

SUBMITTED = datetime(2026, 11, 3, 8, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Israel
UNMATCHED_ANSWER = (
    b"From: Dana Levi <dana.levi@gmail.example>\r\n"
    b"To: someone@replies.example.com\r\n"
    b"Subject: your question\r\n"
    b"Message-ID: <unmatched-1@gmail.example>\r\n"
    b"Date: Tue, 03 Nov 2026 10:00:00 +0000\r\n"
    b"\r\n"
    b"Hi Noa,\r\n\r\nThe account costs 30 per month and the first three months are free.\r\n"
    b"Call me at 03-555-1234 and I will open it for you today.\r\n\r\nDana Levi\r\n"
    b"Sales, Example Bank\r\n"
)


def audit(ws: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, AUDIT_BLOCK_OUTSIDE="1")
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(__file__).resolve().parents[2]), env.get("PYTHONPATH", "")]
    )
    proc = subprocess.run(
        [sys.executable, "-m", "audit.cli", *args, "-w", str(ws)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"audit {' '.join(args)} -> {proc.returncode}\n{proc.stderr}")
    return proc


def _row(n: int, submission_id: int | None, kind: str, reasons: list[str]) -> dict[str, Any]:
    """A ``messages`` row as the watcher writes it (inbox.watcher._row)."""
    return dict(
        folder="INBOX",
        uidvalidity=1,
        uid=n,
        message_id=f"<m{n}@example.com>",
        fingerprint=f"fp{n}",
        internaldate=SUBMITTED + timedelta(minutes=30 * n),
        date_header=None,
        recorded_at=SUBMITTED + timedelta(minutes=30 * n, seconds=1),
        sender=f"agent{n}@example.com",
        recipients="survey+tok@replies.example.com",
        subject=f"subject {n}",
        text="text",
        size=4,
        kind=kind,
        kind_reasons=json.dumps(reasons),
        helpdesk=None,
        submission_id=submission_id,
        match_method="token" if submission_id else None,
        review="pending" if submission_id is None or reasons[0].startswith("doubt") else None,
        parse_error=None,
        eml_path=f"evidence/mail/{n}.eml",
        eml_sha256=f"{n:064d}",
        in_reply_to=None,
        references=None,
        dkim="pass" if n == 1 else None,
        dkim_domain="example.com" if n == 1 else None,
        dkim_evidence='{"verdict": "pass", "aligned": true}' if n == 1 else None,
    )


@pytest.fixture
def survey(tmp_path: Path) -> tuple[Path, dict[str, int]]:
    """The `audit init` workspace (Example Bank, Example Telecom), both submitted, with
    three messages: a doubtful auto_ack and a clear human answer matched to Example Bank,
    and an unmatched answer the classifier reads as human."""
    root = init_workspace(tmp_path / "survey")
    ws = load_workspace(root)
    store = Store.open(ws.store_url)
    wave = store.ensure_wave(ws.survey.survey.wave, now=SUBMITTED)
    subs = {}
    for i, company in enumerate(ws.companies):
        cid = store.upsert_company(company)
        token = f"tok{i}abcd"
        sub = store.plan_submission(cid, wave, token, f"survey+{token}@x.example", SUBMITTED)
        store.update_submission(
            sub.id, state=SubmissionState.SUBMITTED.value, submitted_at=SUBMITTED
        )
        subs[company.slug] = sub.id
    bank = subs["example-bank"]
    unmatched = classify(parse_message(UNMATCHED_ANSWER), None)
    assert suggestion_in(unmatched.reasons) is not None
    rows = [
        _row(1, bank, "auto_ack", ["doubt (close call): suggested auto_ack (automatic 3 vs "
                                   "human 2, margin 1 < 1.5); review confirms or corrects"]),
        _row(2, bank, "human", ["human: automatic 0 vs human 6, margin 6; decided by price"]),
        _row(3, None, unmatched.kind.value, unmatched.reasons),
    ]  # fmt: skip
    ids = store.add_messages(rows, ["auto_ack", "human", None], ("INBOX", 1, 3), SUBMITTED)
    store.close()
    return root, {"doubtful": ids[0], "clear": ids[1], "unmatched": ids[2], **subs}  # type: ignore[dict-item]


def _state(root: Path, message_id: int) -> tuple[Any, list[Any], list[Any]]:
    store = Store.open(load_workspace(root).store_url)
    try:
        with store.engine.connect() as c:
            msg = c.execute(sa.select(messages).where(messages.c.id == message_id)).one()
            events = c.execute(
                sa.select(contact_events).where(contact_events.c.message_id == message_id)
            ).all()
            ev = c.execute(sa.select(evidence).where(evidence.c.message_id == message_id)).all()
        return msg, events, ev
    finally:
        store.close()


def test_review_lists_reclassifies_assigns_and_dismisses(
    survey: tuple[Path, dict[str, int]],
) -> None:
    root, ids = survey
    listed = json.loads(audit(root, "review", "--json").stdout)
    assert {r["id"] for r in listed} == {ids["doubtful"], ids["unmatched"]}
    why = {r["id"]: r["why"] for r in listed}
    assert why[ids["doubtful"]].startswith("doubt (close call): suggested auto_ack")

    # --kind alone on a matched message: class and contact event rewritten, same time
    out = audit(root, "review", "--message", str(ids["doubtful"]), "--kind", "human")
    assert f"message #{ids['doubtful']} reclassified as human" in out.stderr
    msg, events, _ = _state(root, ids["doubtful"])
    assert (msg.kind, msg.review, msg.match_method) == ("human", "reclassified", "token")
    [event] = events
    assert (event.kind, event.submission_id, event.at) == (
        "human",
        ids["example-bank"],
        msg.internaldate,
    )
    assert event.source == "imap"

    # a correction to a class that is no contact event removes the event
    audit(root, "review", "--message", str(ids["clear"]), "--kind", "marketing")
    msg, events, _ = _state(root, ids["clear"])
    assert (msg.kind, msg.review, events) == ("marketing", "reclassified", [])

    # assigning without --kind: the class the evidence suggested, by hand, .eml follows
    out = audit(root, "review", "--message", str(ids["unmatched"]), "--company", "Example Telecom")
    msg, events, ev = _state(root, ids["unmatched"])
    suggested = suggestion_in(json.loads(msg.kind_reasons))
    assert suggested is not None
    assert f"assigned to Example Telecom as {suggested.value}" in out.stderr
    assert (msg.kind, msg.review, msg.match_method) == (suggested.value, "assigned", "manual")
    assert msg.submission_id == ids["example-telecom"]
    assert [(e.kind, e.submission_id) for e in events] == [(suggested.value, msg.submission_id)]
    assert [(e.kind, e.submission_id) for e in ev] == [("eml", ids["example-telecom"])]

    # dismiss: out of the queue and out of every company's figures
    audit(root, "review", "--message", str(ids["doubtful"]), "--dismiss")
    msg, events, _ = _state(root, ids["doubtful"])
    assert (msg.review, events) == ("dismissed", [])
    assert json.loads(audit(root, "review", "--json").stdout) == []

    # the per-message export shows every decision
    listed = {r["id"]: r for r in json.loads(audit(root, "messages", "--json").stdout)}
    assert {
        k: (r["company"], r["kind"], r["review"], r["decided_by_hand"]) for k, r in listed.items()
    } == {
        ids["doubtful"]: ("Example Bank", "human", "dismissed", True),
        ids["clear"]: ("Example Bank", "marketing", "reclassified", True),
        ids["unmatched"]: ("Example Telecom", suggested.value, "assigned", True),
    }


def test_review_refuses_unknown_kinds_and_unmatched_reclassification(
    survey: tuple[Path, dict[str, int]],
) -> None:
    root, ids = survey
    bad = audit(root, "review", "--message", str(ids["doubtful"]), "--kind", "spam", check=False)
    assert bad.returncode != 0 and "--kind must be one of" in bad.stderr
    assert "Traceback" not in bad.stderr
    alone = audit(
        root, "review", "--message", str(ids["unmatched"]), "--kind", "human", check=False
    )
    assert alone.returncode != 0 and "matched to no company" in alone.stderr
    msg, events, _ = _state(root, ids["doubtful"])
    assert (msg.kind, msg.review, [e.kind for e in events]) == ("auto_ack", "pending", ["auto_ack"])


def test_messages_export_lists_every_message_with_its_evidence(
    survey: tuple[Path, dict[str, int]],
) -> None:
    root, ids = survey
    rows = json.loads(audit(root, "messages", "--json").stdout)
    assert [r["id"] for r in rows] == [ids["doubtful"], ids["clear"], ids["unmatched"]]
    first = rows[0]
    assert first["company"] == "Example Bank" and first["wave"] == "wave-1"
    assert (first["match_method"], first["kind"], first["review"]) == (
        "token",
        "auto_ack",
        "pending",
    )
    assert first["decided_by_hand"] is False
    assert first["why"].startswith("doubt (close call)") and first["evidence"][0] == first["why"]
    assert first["internaldate"] == (SUBMITTED + timedelta(minutes=30)).isoformat()
    assert rows[2]["company"] is None and rows[2]["kind"] == "unrelated"
    assert (first["dkim"], first["dkim_domain"], first["dkim_aligned"]) == (
        "pass", "example.com", True,
    )  # fmt: skip
    assert (rows[1]["dkim"], rows[1]["dkim_aligned"]) == (None, None)  # never verified
    in_wave = json.loads(audit(root, "messages", "--json", "--wave", "wave-1").stdout)
    assert [r["id"] for r in in_wave] == [ids["doubtful"], ids["clear"]]
    bad = audit(root, "messages", "--wave", "nope", check=False)
    assert bad.returncode != 0 and "no wave named 'nope'" in bad.stderr
