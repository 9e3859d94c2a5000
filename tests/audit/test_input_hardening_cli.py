"""Bad input at the command line: `audit` in a subprocess, one line naming the problem.

No browser and no real mailbox: the commands used here (init, check --no-browser, status,
run --submit refused before anything starts) stop before either is needed; the TLS mode
tests stand up a tiny local server that only greets (or only speaks TLS).
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from audit.clock import Clock
from audit.models import Mailbox
from audit.pipeline import init_workspace, tls_mode_problem, tls_mode_verdict
from audit.store import Store, redact_url_text

PASSWORD = "Imap-Pa55-hardening"


def audit(*args: str, python: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["AUDIT_IMAP_PASSWORD"] = PASSWORD
    env["AUDIT_BLOCK_OUTSIDE"] = "1"
    cmd = python or [sys.executable, "-m", "audit.cli"]
    return subprocess.run(
        [*cmd, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: "), proc.stderr
    return lines[0].removeprefix("error: ")


def edit_survey(root: Path, **sections: object) -> None:
    path = root / "survey.yaml"
    survey = yaml.safe_load(path.read_text(encoding="utf-8"))
    survey.update(sections)
    path.write_text(yaml.safe_dump(survey, allow_unicode=True), encoding="utf-8")


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    assert audit("init", str(root)).returncode == 0
    (root / "companies.yaml").write_text(
        "companies:\n  - {name: Local Co, contact_url: 'http://127.0.0.1:9/contact'}\n",
        encoding="utf-8",
    )
    return root


# -- run --submit with the scaffold's placeholder reply address ---------------------------
def test_run_submit_refuses_the_placeholder_reply_domain_and_sends_nothing(ws: Path) -> None:
    proc = audit("run", "-w", str(ws), "--submit")
    assert proc.returncode == 2
    line = one_error_line(proc)
    assert line.startswith("survey.yaml line ")
    assert ": reply_address.domain: 'replies.example.com' is a placeholder" in line
    assert line.endswith("before run --submit (nothing was sent)")
    # refused before the store was touched: no wave, no submission burnt
    assert not (ws / "survey.db").exists()


def test_check_names_the_placeholder_reply_domain_and_mailbox_host(ws: Path) -> None:
    proc = audit("check", "-w", str(ws), "--no-browser", "--json")
    assert proc.returncode == 1
    items = {i["name"]: i for i in json.loads(proc.stdout)}
    assert items["config"]["ok"]
    assert not items["reply"]["ok"]
    assert (
        "reply_address.domain: 'replies.example.com' is a placeholder" in items["reply"]["detail"]
    )
    assert not items["mailbox"]["ok"]
    assert "mailbox.host: 'imap.example.com' is a placeholder" in items["mailbox"]["detail"]


def test_check_accepts_a_real_looking_reply_domain(ws: Path) -> None:
    edit_survey(
        ws, reply_address={"scheme": "plus", "local": "survey", "domain": "replies.demo.test"}
    )
    proc = audit("check", "-w", str(ws), "--no-browser", "--no-mailbox", "--json")
    items = {i["name"]: i for i in json.loads(proc.stdout)}
    assert items["reply"] == {
        "name": "reply",
        "ok": True,
        "detail": "replies to survey+TOKEN@replies.demo.test",
    }


# -- init --force keeps a backup ---------------------------------------------------------------
def test_init_force_keeps_a_backup_of_an_edited_file(ws: Path) -> None:
    edited = (ws / "survey.yaml").read_text(encoding="utf-8") + "# my edits\n"
    (ws / "survey.yaml").write_text(edited, encoding="utf-8")
    companies = (ws / "companies.yaml").read_text(encoding="utf-8")
    proc = audit("init", str(ws), "--force")
    assert proc.returncode == 0, proc.stderr
    backups = sorted(p.name for p in ws.glob("*.bak-*"))
    assert len(backups) == 2 and backups[0].startswith("companies.yaml.bak-")
    assert backups[1].startswith("survey.yaml.bak-")
    assert (ws / backups[1]).read_text(encoding="utf-8") == edited
    assert (ws / backups[0]).read_text(encoding="utf-8") == companies
    assert "# my edits" not in (ws / "survey.yaml").read_text(encoding="utf-8")
    said = [line for line in proc.stderr.splitlines() if "your version is kept in" in line]
    assert said == [
        f"survey.yaml replaced by the template; your version is kept in {ws / backups[1]}",
        f"companies.yaml replaced by the template; your version is kept in {ws / backups[0]}",
    ]
    # an untouched template is not backed up again
    again = audit("init", str(ws), "--force")
    assert "kept in" not in again.stderr
    assert len(list(ws.glob("*.bak-*"))) == 2


def test_init_force_never_overwrites_a_backup(tmp_path: Path) -> None:
    clock = Clock.frozen(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    root = init_workspace(tmp_path / "ws")
    made: list[str] = []
    for n in range(3):
        (root / "survey.yaml").write_text(f"# edit {n}\n", encoding="utf-8")
        init_workspace(root, force=True, clock=clock, on_backup=lambda _o, b: made.append(b.name))
    assert made == [
        "survey.yaml.bak-20260301T120000Z",
        "survey.yaml.bak-20260301T120000Z-2",
        "survey.yaml.bak-20260301T120000Z-3",
    ]
    assert [(root / m).read_text() for m in made] == ["# edit 0\n", "# edit 1\n", "# edit 2\n"]


# -- bad YAML through the CLI -----------------------------------------------------------------
def test_duplicate_companies_block_through_check(ws: Path) -> None:
    (ws / "companies.yaml").write_text(
        "companies:\n  - {name: A, homepage: 'https://a.test'}\n"
        "companies:\n  - {name: B, homepage: 'https://b.test'}\n",
        encoding="utf-8",
    )
    proc = audit("check", "-w", str(ws), "--no-browser", "--no-mailbox", "--json")
    [config] = json.loads(proc.stdout)
    assert config["detail"] == (
        "companies.yaml line 3: companies: duplicate key "
        "(also on line 1; YAML would silently keep only the last one)"
    )


def test_bad_override_through_a_command_is_one_line(ws: Path) -> None:
    (ws / "companies.yaml").write_text(
        "companies:\n  - name: Acme\n    homepage: https://a.test\n    overrides:\n"
        "      fields: {'input[name=email': email}\n",
        encoding="utf-8",
    )
    line = one_error_line(audit("status", "-w", str(ws)))
    assert line == (
        "companies.yaml line 5: company 'Acme' (#1): overrides.fields['input[name=email']: "
        "invalid CSS selector: Malformed attribute selector at position 5"
    )


def test_password_in_survey_yaml_through_a_command(ws: Path) -> None:
    edit_survey(ws, mailbox={"host": "imap.corp.test", "password": "Very-Secret-42"})
    proc = audit("status", "-w", str(ws))
    assert proc.returncode == 2
    line = one_error_line(proc)
    assert "mailbox.password: a password never goes in survey.yaml" in line
    assert "AUDIT_IMAP_PASSWORD" in line and "mailbox.keyring_service" in line
    assert "Very-Secret-42" not in proc.stderr + proc.stdout


# -- a store URL whose driver is not installed; its password never shown or stored ------------
def test_store_url_without_its_driver_names_the_extra(ws: Path) -> None:
    edit_survey(ws, store="postgresql+psycopg://survey:Db-Pa55-x@127.0.0.1:1/audit")
    # psycopg made unimportable, whether or not this machine has it
    blocked = [
        sys.executable,
        "-c",
        "import sys; sys.modules['psycopg'] = None; sys.argv[0] = 'audit'; "
        "from audit.cli import main; main()",
    ]
    proc = audit("status", "-w", str(ws), python=blocked)
    assert proc.returncode == 1
    assert one_error_line(proc) == (
        "cannot open the store postgresql+psycopg://survey:***@127.0.0.1:1/audit: its "
        "postgresql+psycopg driver, the Python module 'psycopg', is not installed: "
        'pip install "contact-audit[postgres]"'
    )
    assert "Db-Pa55-x" not in proc.stderr + proc.stdout


def test_a_password_in_a_stored_url_never_reaches_the_runs_table(tmp_path: Path) -> None:
    db = tmp_path / "survey.db"
    store = Store.open(f"sqlite:///{db}")
    config = {
        "store": "postgresql+psycopg://survey:Db-Pa55-x@db.corp:5432/audit",
        "browser": {"proxy": "http://me:Proxy-Pa55@proxy.corp:3128"},
        "mailbox": {"host": "imap.corp.test"},
    }
    store.begin_run("run", "test", config=config)
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert b"Db-Pa55-x" not in raw and b"Proxy-Pa55" not in raw
    con = sqlite3.connect(db)
    [(stored,)] = con.execute("select config_json from runs").fetchall()
    con.close()
    assert json.loads(stored) == {
        "store": "postgresql+psycopg://survey:***@db.corp:5432/audit",
        "browser": {"proxy": "http://me:***@proxy.corp:3128"},
        "mailbox": {"host": "imap.corp.test"},
    }


@pytest.mark.parametrize(
    ("text", "clean"),
    [
        ("postgresql://u:pw@h/db", "postgresql://u:***@h/db"),
        ("postgresql+psycopg://u:p%40ss@h:5432/db", "postgresql+psycopg://u:***@h:5432/db"),
        ("postgresql://u:p@ss@h/db", "postgresql://u:***@h/db"),  # unescaped @: hide more
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        ("sqlite:////tmp/survey.db", "sqlite:////tmp/survey.db"),
        ("https://example.test/contact", "https://example.test/contact"),
    ],
)
def test_url_redaction(text: str, clean: str) -> None:
    assert redact_url_text(text) == clean


# -- TLS mode that does not fit the port ------------------------------------------------------
@pytest.mark.parametrize(
    ("tls", "greeting", "speaks_tls", "expected"),
    [
        ("ssl", b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n", False, "greets in clear"),
        ("starttls", None, True, "port 993 speaks TLS from the first byte"),
        ("plain", None, True, "use tls: ssl"),
        ("ssl", None, False, None),  # an IMAPS port, as it should be
        ("starttls", b"* OK ready\r\n", False, None),  # a plain port, as it should be
        ("starttls", None, False, None),  # silent and not TLS: the login check says more
        ("ssl", b"", False, None),  # closed at once
    ],
)
def test_tls_mode_verdict(
    tls: str, greeting: bytes | None, speaks_tls: bool, expected: str | None
) -> None:
    verdict = tls_mode_verdict(tls, 993 if tls != "ssl" else 143, greeting, speaks_tls)
    if expected is None:
        assert verdict is None
    else:
        assert verdict is not None and expected in verdict


class _Server:
    """Accepts on 127.0.0.1: greets in clear, or speaks TLS from the first byte (IMAPS)."""

    def __init__(self, tls_context: ssl.SSLContext | None = None) -> None:
        self.ctx = tls_context
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(5)
                try:
                    if self.ctx is None:
                        conn.sendall(b"* OK [CAPABILITY IMAP4rev1 STARTTLS] plain port ready\r\n")
                        conn.recv(1024)
                    else:
                        with self.ctx.wrap_socket(conn, server_side=True) as tls:
                            tls.sendall(b"* OK IMAPS ready\r\n")
                            tls.recv(1024)
                except OSError:
                    pass

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.sock.close()


@pytest.fixture
def plain_server() -> Iterator[_Server]:
    server = _Server()
    yield server
    server.close()


@pytest.fixture
def imaps_server(tmp_path: Path) -> Iterator[_Server]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
         "-days", "1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server = _Server(ctx)
    yield server
    server.close()


def test_ssl_against_a_plain_port_is_named(plain_server: _Server) -> None:
    mb = Mailbox(host="127.0.0.1", port=plain_server.port, tls="ssl", timeout_s=2)
    problem = tls_mode_problem(mb)
    assert problem is not None
    assert problem.startswith(f"port {plain_server.port} greets in clear ('* OK [CAPABILITY")
    assert "use tls: starttls" in problem


def test_check_names_starttls_against_an_imaps_port(ws: Path, imaps_server: _Server) -> None:
    edit_survey(
        ws,
        reply_address={"scheme": "plus", "local": "survey", "domain": "replies.demo.test"},
        mailbox={"host": "127.0.0.1", "port": imaps_server.port, "tls": "starttls", "timeout_s": 1},
    )
    proc = audit("check", "-w", str(ws), "--no-browser", "--json")
    items = {i["name"]: i for i in json.loads(proc.stdout)}
    assert not items["mailbox"]["ok"]
    assert items["mailbox"]["detail"] == (
        f"port {imaps_server.port} speaks TLS from the first byte (IMAPS) and sends no greeting "
        "in clear: use tls: ssl (tls: starttls waits for a greeting that never comes)"
    )
    assert PASSWORD not in proc.stdout + proc.stderr


def test_watch_names_starttls_against_an_imaps_port(ws: Path, imaps_server: _Server) -> None:
    edit_survey(
        ws,
        reply_address={"scheme": "plus", "local": "survey", "domain": "replies.demo.test"},
        mailbox={"host": "127.0.0.1", "port": imaps_server.port, "tls": "starttls", "timeout_s": 1},
    )
    proc = audit("watch", "-w", str(ws), "--once")
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode != 0 and len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: survey.yaml mailbox: port ") and "use tls: ssl" in lines[0]


def test_fitting_modes_raise_no_alarm(plain_server: _Server, imaps_server: _Server) -> None:
    assert tls_mode_problem(Mailbox(host="127.0.0.1", port=imaps_server.port, tls="ssl")) is None
    plain = Mailbox(host="127.0.0.1", port=plain_server.port, tls="starttls")
    assert tls_mode_problem(plain) is None
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # refused: not a TLS mode problem, the login check names it
    assert tls_mode_problem(Mailbox(host="127.0.0.1", port=port, tls="ssl")) is None
