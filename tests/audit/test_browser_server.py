"""Remote browsers: `audit run --browser-endpoint` against a real Playwright browser server.

The server is a real `playwright launch-server` on 127.0.0.1 (tests/browserserver.py)
driving this machine's Chromium; the companies are local demo sites that count what they
receive. The CLI runs as a process with AUDIT_BROWSER pointing nowhere, so a run that
launched a local Chromium instead of using the server would fail.

- a run through the server submits every form once (the sites got our values), and the
  endpoint's password and token appear nowhere: not in the output, the log, the store;
- an unreachable server: one line naming it and the reason, nothing recorded as failed,
  the companies stay planned, no site received anything;
- a server of another Playwright version (a real server told it is 1.50 through the
  driver's PW_VERSION_OVERRIDE, which answers with Playwright's own 428 mismatch): one line
  naming both versions, the companies stay planned.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from browserserver import BrowserServer, free_port

from audit.clock import Clock
from audit.demo.scenario import DemoCompany
from audit.demo.sites import DemoWorld
from audit.errors import ConfigError
from audit.logs import redact_url, url_secrets
from audit.models import BrowserSettings
from probes.browser import connect_problem, context_options, playwright_version

REPLY_DOMAIN = "replies.remote.test"
TOKEN = "tok-Remote-8c1f"
PASSWORD = "pw-Remote-77aa"
COMPANIES = tuple(
    DemoCompany(f"remote-{i}", f"Remote Company {i}", "retail", f"remote{i}.example")
    for i in range(2)
)

# --- pure: messages and redaction ------------------------------------------------------

MISMATCH = (
    "BrowserType.connect: WebSocket error: ws://127.0.0.1:4/pw 428 Precondition Required\n"
    "╔═══════════╗\n║ Playwright version mismatch:  ║\n"
    "║   - server version: v1.50     ║\n║   - client version: v1.65     ║\n╚═══╝\n"
    "Call log:\n  - <ws connecting> ws://127.0.0.1:4/pw\n"
)


@pytest.mark.parametrize(
    ("message", "line"),
    [
        (
            MISMATCH,
            "browser server at ws://h/pw runs Playwright 1.50, this tool has 1.65: "
            "install the same version on both",
        ),
        (
            "BrowserType.connect: WebSocket error: connect ECONNREFUSED 127.0.0.1:4\n"
            "Call log:\n  - <ws connecting> ws://127.0.0.1:4/pw\n",
            "cannot reach browser server at ws://h/pw: connect ECONNREFUSED 127.0.0.1:4",
        ),
        (
            "BrowserType.connect: WebSocket error: ws://u:pw@h:9/p?token=t 400 Bad Request\n"
            "Call log:\n",
            "cannot reach browser server at ws://h/pw: HTTP 400 Bad Request "
            "(not a Playwright browser server, or a wrong path?)",
        ),
        (
            "BrowserType.connect: Timeout 30000ms exceeded.\nCall log:\n",
            "cannot reach browser server at ws://h/pw: no answer within 30 s",
        ),
        (
            "BrowserType.connect: Unexpected status 404 when connecting to "
            "http://u:pw@h/json.\nThis does not look like a Playwright server",
            "cannot reach browser server at ws://h/pw: Unexpected status 404 when "
            "connecting to http://u:***@h/json.",
        ),
    ],
)
def test_connect_problem_is_one_line(message: str, line: str) -> None:
    assert connect_problem("ws://h/pw", message, "ws://u:pw@h:9/p?token=t") == line


@pytest.mark.parametrize(
    ("url", "shown", "secrets"),
    [
        ("ws://u:pw-1@h:3000/p?token=abc&x=1", "ws://u:***@h:3000/p?token=***&x=1", ["abc", "pw-1"]),
        ("wss://h/p?apiKey=K%2F1", "wss://h/p?apiKey=***", ["K%2F1", "K/1"]),
        ("ws://127.0.0.1:3000/pw-1?browser=chromium", "ws://127.0.0.1:3000/pw-1?browser=chromium", []),
        ("ws://u:p@ss@h/", "ws://u:***@h/", ["p@ss"]),
    ],
)  # fmt: skip
def test_endpoint_redaction(url: str, shown: str, secrets: list[str]) -> None:
    assert redact_url(url) == shown
    assert url_secrets(url) == sorted(secrets)


def test_endpoint_is_checked_where_it_is_given(tmp_path: Path) -> None:
    from audit.config import load_workspace
    from audit.pipeline import RunOptions, init_workspace, resolved_browser_settings

    with pytest.raises(ValueError, match="ws://host:port/path"):
        BrowserSettings(endpoint="chromium.example:3000")
    init_workspace(tmp_path)
    survey = yaml.safe_load((tmp_path / "survey.yaml").read_text(encoding="utf-8"))
    survey["browser"]["endpoint"] = "ftp://h/x"
    (tmp_path / "survey.yaml").write_text(yaml.safe_dump(survey), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"survey.yaml line \d+: browser.endpoint: a browser"):
        load_workspace(tmp_path)
    survey["browser"]["endpoint"] = "ws://10.0.0.5:3000/pw"
    (tmp_path / "survey.yaml").write_text(yaml.safe_dump(survey), encoding="utf-8")
    ws = load_workspace(tmp_path)
    assert resolved_browser_settings(ws, RunOptions()).endpoint == "ws://10.0.0.5:3000/pw"
    flag = RunOptions(browser_endpoint="wss://b.example/pw")  # the flag wins
    assert resolved_browser_settings(ws, flag).endpoint == "wss://b.example/pw"
    with pytest.raises(ConfigError, match="--browser-endpoint: a browser server URL"):
        resolved_browser_settings(ws, RunOptions(browser_endpoint="localhost"))
    with pytest.raises(ConfigError, match="--assist needs a visible browser"):
        resolved_browser_settings(ws, RunOptions(assist=True))


def test_remote_contexts_carry_the_proxy() -> None:
    proxy = "http://proxy.corp:3128"
    assert "proxy" not in context_options(BrowserSettings(proxy=proxy), "156.0")
    remote = BrowserSettings(proxy=proxy, endpoint="ws://h:1/pw")
    assert context_options(remote, "156.0")["proxy"]["server"] == proxy


# --- real: a browser server, local sites, the CLI as a process ------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[BrowserServer]:
    with BrowserServer() as s:
        yield s


@pytest.fixture
def world() -> Iterator[DemoWorld]:
    w = DemoWorld(COMPANIES, Clock(), 9, REPLY_DOMAIN).start()
    yield w
    w.stop()


@pytest.fixture
def workspace(tmp_path: Path, world: DemoWorld) -> Path:
    from audit.pipeline import init_workspace

    root = tmp_path / "ws"
    init_workspace(root)
    survey = yaml.safe_load((root / "survey.yaml").read_text(encoding="utf-8"))
    survey["reply_address"] = {"scheme": "plus", "local": "survey", "domain": REPLY_DOMAIN}
    survey["mailbox"] = {"host": "127.0.0.1", "port": 9, "tls": "plain"}
    survey["browser"] = {
        "min_fill_seconds": 0.5,
        "typing_delay_ms": [5, 20],
        "site_delay_s": 0,
        "timeout_s": 30,
    }
    (root / "survey.yaml").write_text(yaml.safe_dump(survey, allow_unicode=True), "utf-8")
    companies = [
        {
            "name": s.company.name,
            "id": s.company.slug,
            "homepage": s.url,
            "contact_url": s.url + "contact",
        }
        for s in world.sites
    ]
    (root / "companies.yaml").write_text(yaml.safe_dump({"companies": companies}), "utf-8")
    return root


def audit(*args: str, ws: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["AUDIT_BLOCK_OUTSIDE"] = "1"  # nothing leaves loopback
    env["AUDIT_BROWSER"] = str(ws / "no-local-browser")  # a local launch would fail
    env.pop("AUDIT_BROWSER_ENDPOINT", None)
    return subprocess.run(
        [sys.executable, "-m", "audit", "-v", *args, "-w", str(ws)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def with_secrets(endpoint: str) -> str:
    """The server's endpoint with a password and a token (the server ignores both)."""
    return endpoint.replace("ws://", f"ws://survey:{PASSWORD}@", 1) + f"?token={TOKEN}"


def rows(ws: Path, sql: str) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(ws / "survey.db")
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def received(world: DemoWorld) -> dict[str, list[dict[str, str]]]:
    return {s.company.slug: [r.fields for r in s.received] for s in world.sites}


@pytest.mark.browser
@pytest.mark.slow
def test_run_through_a_browser_server_submits_once(
    server: BrowserServer, world: DemoWorld, workspace: Path
) -> None:
    endpoint = with_secrets(server.endpoint)
    proc = audit("run", "--submit", "--json", "--browser-endpoint", endpoint, ws=workspace)
    assert proc.returncode == 0, proc.stderr
    results = {r["slug"]: r["outcome"] for r in json.loads(proc.stdout)["results"]}
    assert results == {c.slug: "submitted" for c in COMPANIES}, proc.stderr
    subs = {
        slug: (state, address)
        for slug, state, address in rows(
            workspace,
            "select c.slug, s.state, s.reply_address from submissions s "
            "join companies c on c.id = s.company_id",
        )
    }
    got = received(world)
    for c in COMPANIES:  # submitted, and the site received one form carrying our address
        state, address = subs[c.slug]
        assert state == "submitted"
        assert len(got[c.slug]) == 1, got
        assert address in got[c.slug][0].values(), got[c.slug]
    # The run remembers which browser it used, with the secrets redacted.
    (config_json, version), = rows(workspace, "select config_json, browser_version from runs")  # fmt: skip
    browser_cfg = json.loads(config_json)["browser"]
    assert (
        browser_cfg["endpoint"] == f"ws://survey:***@127.0.0.1:{server.port}{server.path}?token=***"
    )
    assert version and version[0].isdigit()
    everything = (
        proc.stdout
        + proc.stderr
        + (workspace / "survey.db").read_bytes().decode("utf-8", "replace")
    )
    assert PASSWORD not in everything and TOKEN not in everything
    # A second run sends nothing: the lifecycle, not the browser, decides.
    again = audit("run", "--submit", "--json", "--browser-endpoint", endpoint, ws=workspace)
    assert again.returncode == 0, again.stderr
    assert {len(v) for v in received(world).values()} == {1}
    # `audit check` connects to the same server.
    check = audit("check", "--no-mailbox", "--json", "--browser-endpoint", endpoint, ws=workspace)
    item = next(i for i in json.loads(check.stdout) if i["name"] == "browser")
    assert item["ok"], item
    assert f"browser server at ws://survey:***@127.0.0.1:{server.port}" in item["detail"]
    assert PASSWORD not in check.stdout + check.stderr


def _assert_nothing_recorded(
    ws: Path, world: DemoWorld, proc: subprocess.CompletedProcess[str]
) -> str:
    """The run failed with one line, recorded no attempt and left the companies planned."""
    assert proc.returncode != 0
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    states = {s for (s,) in rows(ws, "select state from submissions")}
    assert states == {"planned"}
    assert rows(ws, "select count(*) from attempts") == [(0,)]
    assert all(not v for v in received(world).values())
    return errors[0].removeprefix("error: ")


@pytest.mark.browser
def test_unreachable_browser_server_leaves_companies_planned(
    world: DemoWorld, workspace: Path
) -> None:
    port = free_port()  # nothing listens there
    endpoint = f"ws://survey:{PASSWORD}@127.0.0.1:{port}/pw?token={TOKEN}"
    proc = audit("run", "--submit", "--browser-endpoint", endpoint, ws=workspace)
    line = _assert_nothing_recorded(workspace, world, proc)
    assert line == (
        f"cannot reach browser server at ws://survey:***@127.0.0.1:{port}/pw?token=***: "
        f"connect ECONNREFUSED 127.0.0.1:{port}"
    )
    assert PASSWORD not in proc.stderr + proc.stdout and TOKEN not in proc.stderr


@pytest.mark.browser
@pytest.mark.slow
def test_browser_server_of_another_playwright_version(world: DemoWorld, workspace: Path) -> None:
    with BrowserServer(version="1.50.0") as old:
        proc = audit("run", "--submit", "--browser-endpoint", old.endpoint, ws=workspace)
        assert old.running  # the server refused us; it did not crash
    line = _assert_nothing_recorded(workspace, world, proc)
    assert line == (
        f"browser server at {old.endpoint} runs Playwright 1.50, this tool has "
        f"{playwright_version()}: install the same version on both"
    )


@pytest.mark.browser
def test_inspect_a_local_file_in_a_remote_browser(server: BrowserServer) -> None:
    from audit.pipeline import inspect

    page = (
        Path(__file__).parents[1]
        / "probes"
        / "gallery"
        / "accordion_collapse_faq_en"
        / "index.html"
    )
    (result,) = inspect([str(page)], browser_endpoint=server.endpoint)
    assert result["error"] is None, result
    roles = {f["role"] for f in result["forms"][result["contact_form"]]["fields"]}
    assert {"email", "message"} <= roles
