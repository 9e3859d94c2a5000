"""The e-mail channel end to end: `audit run --submit` sends each inquiry through a real
submission server (STARTTLS with a throwaway CA, AUTH required) that delivers into a real
Dovecot, the companies' mailbox; what arrives is read back over IMAP."""

from __future__ import annotations

import email
from collections.abc import Iterator
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
import yaml

from audit.app.run import RunOptions, run_survey
from audit.app.workspace import check, init_workspace
from audit.config import load_workspace
from audit.demo.mailserver import MailServer, SubmissionServer, dovecot_available
from audit.errors import ConfigError
from audit.store import Store
from audit.tokens import reference_code

REPLY_DOMAIN = "replies.channel.test"


@pytest.fixture(scope="module")
def companies_mailbox() -> Iterator[MailServer]:
    """The companies' mailbox: every address (catch-all) lands in one Maildir."""
    reason = dovecot_available()
    if reason:
        pytest.skip(reason)
    with MailServer(user="companies", password="c0mpanies-Pw") as server:
        yield server


@pytest.fixture
def smtp(
    companies_mailbox: MailServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SubmissionServer]:
    companies_mailbox.doveadm(
        "expunge", "-u", companies_mailbox.user, "mailbox", "INBOX", "all", check=False
    )
    server = SubmissionServer(companies_mailbox, user="survey-sender", password="Smtp-s3cret")
    monkeypatch.setenv("AUDIT_SMTP_PASSWORD", server.password)
    monkeypatch.setenv("AUDIT_BLOCK_OUTSIDE", "1")
    with server:
        yield server


def _workspace(root: Path, smtp: SubmissionServer | None, companies: list[dict[str, Any]]) -> Path:
    init_workspace(root)
    survey = yaml.safe_load((root / "survey.yaml").read_text(encoding="utf-8"))
    survey["reply_address"] = {"scheme": "plus", "local": "survey", "domain": REPLY_DOMAIN}
    survey["mailbox"] = {"host": "127.0.0.1", "port": 9, "tls": "plain"}
    if smtp is not None:
        survey["smtp"] = smtp.smtp_config()
    (root / "survey.yaml").write_text(yaml.safe_dump(survey, allow_unicode=True), "utf-8")
    (root / "companies.yaml").write_text(
        yaml.safe_dump({"companies": companies}, allow_unicode=True), "utf-8"
    )
    return root


MAILED = [
    {"name": "Acme Mail", "id": "acme-mail", "channel": "email", "email": "support@acme.test"},
    {"name": "Quiet Mail", "id": "quiet-mail", "channel": "email", "email": "info@quiet.test"},
]


def _inbox(server: MailServer) -> list[email.message.EmailMessage]:
    with server.client() as c:
        c.select_folder("INBOX", readonly=True)
        uids = c.search(["ALL"])
        data = c.fetch(uids, ["BODY.PEEK[]"]) if uids else {}
    return [
        email.message_from_bytes(d[b"BODY[]"], policy=default_policy)  # type: ignore[misc]
        for _, d in sorted(data.items())
    ]


def _subs(ws: Path) -> dict[str, Any]:
    store = Store.open(f"sqlite:///{ws / 'survey.db'}")
    try:
        return {(r.slug, r.channel): r for r in store.all_submissions()}
    finally:
        store.close()


def test_each_inquiry_arrives_once_with_our_token_from_and_message_id(
    tmp_path: Path, smtp: SubmissionServer, companies_mailbox: MailServer
) -> None:
    ws = _workspace(tmp_path / "ws", smtp, MAILED)
    summary = run_survey(ws, RunOptions(submit=True))
    assert sorted((r.slug, r.channel, r.state) for r in summary.results) == [
        ("acme-mail", "email", "submitted"),
        ("quiet-mail", "email", "submitted"),
    ]
    subs = _subs(ws)
    arrived = {str(m["To"]): m for m in _inbox(companies_mailbox)}
    assert sorted(arrived) == ["info@quiet.test", "support@acme.test"]
    for slug, to in (("acme-mail", "support@acme.test"), ("quiet-mail", "info@quiet.test")):
        sub = subs[(slug, "email")]
        msg = arrived[to]
        assert msg["From"].addresses[0].addr_spec == sub.reply_address
        assert sub.reply_address == f"survey+{sub.token}@{REPLY_DOMAIN}"
        assert msg["Message-ID"] == sub.sent_message_id
        assert reference_code(sub.token) in msg.get_content()
        assert reference_code(sub.token) in str(msg["Subject"])
        assert sub.clicked_at is not None and sub.submitted_at >= sub.clicked_at
        assert sub.signal == "smtp-accept" and "queued as" in sub.request_json
        eml = ws / "evidence" / "submissions" / "wave-1" / slug / "email" / "inquiry.eml"
        assert email.message_from_bytes(eml.read_bytes())["Message-ID"] == sub.sent_message_id
    assert smtp.logins == 2  # one SMTP session per inquiry, logged in (AUTH over STARTTLS)

    again = run_survey(ws, RunOptions(submit=True))
    assert {r.outcome for r in again.results} == {"already-submitted"}
    assert len(smtp.accepted) == 2 and len(_inbox(companies_mailbox)) == 2


def test_refusals_before_data_fail_or_wait_and_a_refused_message_is_never_resent(
    tmp_path: Path, smtp: SubmissionServer
) -> None:
    ws = _workspace(
        tmp_path / "ws",
        smtp,
        [
            *MAILED,
            {"name": "Gone Mail", "id": "gone-mail", "channel": "email", "email": "no@gone.test"},
        ],
    )
    smtp.refuse_rcpt = {"no@gone.test": "550 5.1.1 no such user", "info@quiet.test": "451 later"}
    first = {r.slug: r for r in run_survey(ws, RunOptions(submit=True)).results}
    assert (first["gone-mail"].state, first["gone-mail"].outcome) == ("failed", "rejected")
    assert first["quiet-mail"].state == "planned"  # 4xx: nothing sent, the next run tries
    assert first["acme-mail"].state == "submitted"
    subs = _subs(ws)
    assert subs[("gone-mail", "email")].clicked_at is None
    assert subs[("quiet-mail", "email")].clicked_at is None

    smtp.refuse_rcpt = {}
    second = {r.slug: r for r in run_survey(ws, RunOptions(submit=True)).results}
    assert second["quiet-mail"].state == "submitted"
    assert second["gone-mail"].outcome == "already-failed"  # --retry-failed would try it
    assert len(smtp.accepted) == 2

    # A message refused at DATA (5xx) was clicked: failed, and never sent again.
    ws2 = _workspace(tmp_path / "ws2", smtp, MAILED[:1])
    smtp.data_reply = "554 5.7.1 message refused"
    res = run_survey(ws2, RunOptions(submit=True)).results
    assert [(r.state, r.outcome) for r in res] == [("failed", "rejected")]
    assert _subs(ws2)[("acme-mail", "email")].clicked_at is not None
    smtp.data_reply = None
    res = run_survey(ws2, RunOptions(submit=True, retry_failed=True)).results
    assert [r.outcome for r in res] == ["already-failed"]
    assert len(smtp.accepted) == 2


def test_a_wrong_smtp_password_fails_the_login_and_check_names_it(
    tmp_path: Path, smtp: SubmissionServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = _workspace(tmp_path / "ws", smtp, MAILED[:1])
    items = {i.name: i for i in check(ws, browser=False, mailbox=False)}
    assert items["smtp"].ok, items["smtp"].detail
    monkeypatch.setenv("AUDIT_SMTP_PASSWORD", "wrong")
    items = {i.name: i for i in check(ws, browser=False, mailbox=False)}
    assert not items["smtp"].ok and "535" in items["smtp"].detail
    assert "wrong" not in items["smtp"].detail
    monkeypatch.delenv("AUDIT_SMTP_PASSWORD")
    items = {i.name: i for i in check(ws, browser=False, mailbox=False)}
    assert not items["smtp"].ok and "AUDIT_SMTP_PASSWORD" in items["smtp"].detail


def test_a_dry_run_writes_the_inquiry_and_sends_nothing(
    tmp_path: Path, smtp: SubmissionServer
) -> None:
    ws = _workspace(tmp_path / "ws", smtp, MAILED[:1])
    res = run_survey(ws, RunOptions(submit=False)).results
    assert [(r.channel, r.outcome) for r in res] == [("email", "filled")]
    assert list((ws / "evidence" / "dry-run").rglob("inquiry.eml"))
    assert smtp.accepted == [] and smtp.logins == 0


@pytest.mark.parametrize(
    ("entry", "survey", "expected"),
    [
        (
            {"name": "Acme", "channel": "email"},
            {},
            "companies.yaml line 2: company 'Acme' (#1): (whole entry): channel: email needs",
        ),
        (
            {"name": "Acme", "channel": "email", "email": "not an address"},
            {},
            "companies.yaml line 3: company 'Acme' (#1): email: must be a plain e-mail address",
        ),
        (
            {"name": "Acme", "channel": "fax", "email": "a@acme.test"},
            {},
            "companies.yaml line 2: company 'Acme' (#1): channel: Input should be",
        ),
        (
            {"name": "Acme", "channel": "email", "email": "a@acme.test"},
            {},
            "survey.yaml: smtp: required key is missing: the survey sends e-mail (company "
            "'Acme' has channel: email",
        ),
        (
            {"name": "Acme", "homepage": "https://acme.test", "email": "a@acme.test"},
            {"fallback": "email"},
            "survey.yaml: smtp: required key is missing: the survey sends e-mail (fallback",
        ),
        (
            {"name": "Acme", "homepage": "https://acme.test"},
            {"fallback": "sms"},
            "survey.yaml line",
        ),
        (
            {"name": "Acme", "channel": "email", "email": "a@acme.test"},
            {"smtp": {"host": "smtp.acme.test", "user": "u", "tls": "plain"}},
            "survey.yaml line",
        ),
    ],
)
def test_channel_settings_are_checked_at_load_with_one_line_errors(
    tmp_path: Path, entry: dict[str, Any], survey: dict[str, Any], expected: str
) -> None:
    ws = _workspace(tmp_path / "ws", None, [entry])
    if survey:
        data = yaml.safe_load((ws / "survey.yaml").read_text(encoding="utf-8"))
        data.update(survey)
        (ws / "survey.yaml").write_text(yaml.safe_dump(data), "utf-8")
    with pytest.raises(ConfigError) as err:
        load_workspace(ws)
    assert str(err.value).startswith(expected), str(err.value)
    assert "\n" not in str(err.value)


@pytest.fixture
def formless_site(tmp_path: Path) -> Iterator[str]:
    """A company site on 127.0.0.1 whose contact page has no form (the form fails)."""
    import functools
    import http.server
    import threading

    root = tmp_path / "site"
    root.mkdir()
    (root / "index.html").write_text(
        "<html><body><h1>Contact us</h1><p>Write to info@formless.test</p></body></html>"
    )
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.browser
def test_a_form_that_cannot_be_submitted_falls_back_to_email_once(
    tmp_path: Path, smtp: SubmissionServer, formless_site: str, companies_mailbox: MailServer
) -> None:
    """fallback: email: the form failed before any click (no form on the page), so the
    company is surveyed by e-mail at its published address, with the reason recorded;
    re-runs send nothing more. Without fallback, nothing is e-mailed."""
    company = {
        "name": "Formless",
        "id": "formless",
        "contact_url": formless_site,
        "email": "info@formless.test",
    }
    ws = _workspace(tmp_path / "ws", smtp, [company])
    browser = {"min_fill_seconds": 0, "typing_delay_ms": [1, 2], "site_delay_s": 0}
    data = yaml.safe_load((ws / "survey.yaml").read_text(encoding="utf-8"))
    data["browser"] = browser
    (ws / "survey.yaml").write_text(yaml.safe_dump(data), "utf-8")
    res = run_survey(ws, RunOptions(submit=True)).results
    assert [(r.channel, r.state) for r in res] == [("form", "failed")]
    assert smtp.accepted == []  # fallback is off by default

    data["fallback"] = "email"
    (ws / "survey.yaml").write_text(yaml.safe_dump(data), "utf-8")
    res = run_survey(ws, RunOptions(submit=True)).results
    assert sorted((r.channel, r.outcome) for r in res) == [
        ("email", "submitted"),
        ("form", "already-failed"),
    ]
    mail = _subs(ws)[("formless", "email")]
    assert mail.channel_note == "form failed: no_form -> e-mail fallback"
    [msg] = _inbox(companies_mailbox)
    assert str(msg["To"]) == "info@formless.test" and msg["Message-ID"] == mail.sent_message_id
    run_survey(ws, RunOptions(submit=True))
    assert len(smtp.accepted) == 1


class _TakeOverAtRcpt(dict[str, str]):
    """The submission server's RCPT hook: while our run waits for the server's answer to
    RCPT (before DATA), another process takes the claim over (as a stale-claim recovery
    would); then the recipient is accepted."""

    def __init__(self, ws: Path) -> None:
        super().__init__()
        self.ws = ws

    def get(self, key: str, default: Any = None) -> Any:
        store = Store.open(f"sqlite:///{self.ws / 'survey.db'}")
        try:
            with store.engine.begin() as c:
                c.exec_driver_sql(
                    "UPDATE submissions SET claimed_by = 'other-host:1:x' WHERE state = 'running'"
                )
        finally:
            store.close()
        return default


def test_an_inquiry_whose_claim_was_taken_over_before_data_is_not_sent(
    tmp_path: Path, smtp: SubmissionServer
) -> None:
    """The e-mail "click" is fenced like a form's: written only while this process still
    holds the claim. Taken over before DATA, nothing is sent and the take-over's row
    stands (not clicked)."""
    ws = _workspace(tmp_path / "ws", smtp, MAILED[:1])
    smtp.refuse_rcpt = _TakeOverAtRcpt(ws)
    summary = run_survey(ws, RunOptions(submit=True))
    assert [(r.slug, r.channel, r.outcome) for r in summary.results] == [
        ("acme-mail", "email", "taken-over")
    ]
    assert smtp.accepted == []
    sub = _subs(ws)[("acme-mail", "email")]
    assert sub.clicked_at is None and sub.claimed_by == "other-host:1:x"
