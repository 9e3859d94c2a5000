"""Helpers of the fault drills: local company sites, workspaces, the CLI as a process."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from audit.clock import Clock
from audit.demo.scenario import DemoCompany
from audit.demo.sites import DemoWorld
from audit.pipeline import FAULT_ENV

REPLY_DOMAIN = "replies.drill.test"


def audit_env(password: str | None = None) -> dict[str, str]:
    """The environment for a CLI subprocess: nothing leaves loopback, the password if any."""
    env = dict(os.environ)
    env.pop("AUDIT_IMAP_PASSWORD", None)
    if password is not None:
        env["AUDIT_IMAP_PASSWORD"] = password
    env["AUDIT_BLOCK_OUTSIDE"] = "1"
    return env


def audit_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "audit", *args]  # the installed `audit` command's entry


def run_audit(
    *args: str, password: str | None = None, check: bool = True, stderr_to: Path | None = None
) -> subprocess.CompletedProcess[str]:
    err: Any = subprocess.PIPE
    fh = None
    if stderr_to is not None:
        fh = stderr_to.open("a", encoding="utf-8")
        err = fh
    try:
        proc = subprocess.run(
            audit_cmd(*args),
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=audit_env(password),
            timeout=300,
        )
    finally:
        if fh is not None:
            fh.close()
    if check and proc.returncode != 0:
        raise AssertionError(
            f"audit {' '.join(args)} -> {proc.returncode}\n{proc.stderr}\n{proc.stdout}"
        )
    return proc


def kill_tree(proc: subprocess.Popen[Any]) -> None:
    """SIGKILL the CLI process (the crash), then whatever it left (driver, Chromium)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    # The CLI was started in its own session: its children share the process group.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    time.sleep(0.05)


def start_submit_run(ws: Path, log: Path, fault: str | None = None) -> subprocess.Popen[bytes]:
    """`audit run --submit` in its own session (process group), output appended to ``log``.

    Its own group is a terminal's foreground job: a drill signals or kills the whole group
    (the CLI, the Playwright driver, Chromium). ``fault`` sets AUDIT_FAULT: the run stalls
    at that point until killed, so a drill forces its race instead of hoping for it.
    """
    return start_audit(["run", "--submit", "-w", str(ws)], log, fault)


def start_audit(
    args: list[str], log: Path, fault: str | None = None, password: str | None = None
) -> subprocess.Popen[bytes]:
    """Any `audit` command in its own session (see start_submit_run), e.g. `audit work`."""
    env = audit_env(password)
    if fault:
        env[FAULT_ENV] = fault
    with log.open("ab") as fh:
        return subprocess.Popen(
            audit_cmd(*args), stdout=fh, stderr=fh, env=env, start_new_session=True
        )


def quick_browser(concurrency: int) -> dict[str, Any]:
    """survey.yaml browser settings for drills: short human-like delays, local sites."""
    return {
        "concurrency": concurrency,
        "min_fill_seconds": 0.5,
        "typing_delay_ms": [5, 20],
        "site_delay_s": 0,
        "timeout_s": 30,
    }


def plain_companies(n: int, prefix: str = "drill") -> tuple[DemoCompany, ...]:
    """n simple companies that never reply (varied language and contact-page discovery)."""
    return tuple(
        DemoCompany(
            slug=f"{prefix}-{i:02d}",
            name=f"{prefix.title()} Company {i:02d}",
            sector=("banks", "telecom", "insurance", "retail")[i % 4],
            domain=f"{prefix}{i:02d}.example",
            lang="he" if i % 5 == 3 else "en",
            footer_only=i % 4 == 1,
        )
        for i in range(n)
    )


def write_workspace(
    root: Path,
    world: DemoWorld,
    mailbox: dict[str, Any] | None = None,
    browser: dict[str, Any] | None = None,
    wave: str = "wave-1",
    store: str | None = None,
) -> Path:
    """survey.yaml + companies.yaml for the world's sites (the `audit init` templates edited)."""
    from audit.pipeline import init_workspace

    init_workspace(root)
    survey = yaml.safe_load((root / "survey.yaml").read_text(encoding="utf-8"))
    survey["survey"]["wave"] = wave
    if store:
        survey["store"] = store
    survey["reply_address"] = {"scheme": "plus", "local": "survey", "domain": REPLY_DOMAIN}
    survey["mailbox"] = mailbox or {"host": "127.0.0.1", "port": 9, "tls": "plain"}
    survey["browser"] = browser or {
        "min_fill_seconds": 1.0,
        "typing_delay_ms": [5, 20],
        "site_delay_s": 0,
        "timeout_s": 30,
    }
    (root / "survey.yaml").write_text(yaml.safe_dump(survey, allow_unicode=True), "utf-8")
    companies = []
    for s in world.sites:
        entry: dict[str, Any] = {
            "name": s.company.name,
            "id": s.company.slug,
            "sector": s.company.sector,
            "homepage": s.url,
            "reply_domains": [s.company.domain],
        }
        if not s.company.footer_only:
            entry["contact_url"] = s.url + "contact"
        companies.append(entry)
    (root / "companies.yaml").write_text(
        yaml.safe_dump({"companies": companies}, allow_unicode=True), "utf-8"
    )
    return root


def set_wave(root: Path, wave: str) -> None:
    survey = yaml.safe_load((root / "survey.yaml").read_text(encoding="utf-8"))
    survey["survey"]["wave"] = wave
    (root / "survey.yaml").write_text(yaml.safe_dump(survey, allow_unicode=True), "utf-8")


def start_world(companies: tuple[DemoCompany, ...], smtp_port: int = 9) -> DemoWorld:
    return DemoWorld(companies, Clock(), smtp_port, REPLY_DOMAIN).start()
