"""Pipeline logic on a real store (SQLite and PostgreSQL): crash recovery never re-sends
after a click."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from audit.clock import Clock
from audit.config import load_workspace
from audit.errors import ConfigError
from audit.models import Company
from audit.pipeline import (
    RunOptions,
    _recover,
    init_workspace,
    render_message,
    resolved_browser_settings,
)
from audit.store import Store

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A real store on each back end (SQLite, PostgreSQL: tests/conftest.py)."""
    s = Store.open(store_url)
    yield s
    s.close()


def _sub(store: Store, state: str, clicked: bool) -> int:
    cid = store.upsert_company(Company(name=f"C {state} {clicked}", homepage="https://c.example"))
    wid = store.ensure_wave("w")
    sub = store.plan_submission(cid, wid, f"tok{state[:3]}{int(clicked)}xx"[:8], "a@b", now=NOW)
    store.update_submission(sub.id, state=state, clicked_at=NOW if clicked else None)
    return sub.id


@pytest.mark.parametrize(
    ("state", "clicked", "retry", "expected"),
    [
        ("running", True, False, "uncertain"),  # killed after the click: never re-sent blindly
        ("running", False, False, "planned"),  # killed before the click: safe to try again
        ("submitted", True, True, "submitted"),
        ("failed", False, False, "failed"),
        ("failed", False, True, "planned"),  # --retry-failed, never clicked
        ("failed", True, True, "failed"),  # clicked once: a retry could send it twice
        ("blocked", False, True, "planned"),
        ("uncertain", True, True, "uncertain"),
    ],
)
def test_recovery_after_a_crash(
    store: Store, state: str, clicked: bool, retry: bool, expected: str
) -> None:
    sid = _sub(store, state, clicked)
    row = _recover(
        store, store.submission_by_id(sid), RunOptions(submit=True, retry_failed=retry), Clock()
    )
    assert row.state == expected
    if expected == "uncertain" and state == "running":
        assert "not re-sent" in row.reason


def test_message_carries_the_reference_code_and_bad_templates_are_named(tmp_path: Path) -> None:
    root = init_workspace(tmp_path / "ws")
    ws = load_workspace(root)
    subject, body = render_message(ws, ws.companies[0], "k3x9q2ab")
    assert "CA-K3X9Q2AB" in subject and "Reference: CA-K3X9Q2AB" in body
    assert ws.survey.persona.name in body
    (root / "survey.yaml").write_text("message:\n  body: 'Hi {{ persona.nope }} {{ ref }}'\n")
    ws = load_workspace(root)
    with pytest.raises(ConfigError, match=r"survey.yaml: message.body: template error"):
        render_message(ws, ws.companies[0], "k3x9q2ab")


def test_flags_override_yaml_override_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = init_workspace(tmp_path / "ws")
    (root / "survey.yaml").write_text("browser:\n  concurrency: 3\n  min_fill_seconds: 7\n")
    ws = load_workspace(root)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp:3128")
    b = resolved_browser_settings(ws, RunOptions(concurrency=6))
    assert (b.concurrency, b.min_fill_seconds, b.timeout_s, b.proxy) == (
        6,
        7,
        30.0,
        "http://proxy.corp:3128",
    )
    b = resolved_browser_settings(ws, RunOptions(proxy="http://other:8080", assist=True))
    assert (b.concurrency, b.headless, b.proxy) == (1, False, "http://other:8080")
