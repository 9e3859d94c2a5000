"""Stages import audit's models, config, store and errors, never each other (STYLE 2)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STAGES = ("probes", "inbox", "reports")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("stage", STAGES)
def test_stages_do_not_import_each_other(stage: str) -> None:
    files = list((ROOT / stage).rglob("*.py"))
    assert files
    for f in files:
        others = _imports(f) & (set(STAGES) - {stage})
        assert not others, f"{f.relative_to(ROOT)} imports {others}"


def test_cli_holds_no_stage_code() -> None:
    banned = {"playwright", "imapclient", "pandas", "probes", "inbox", "reports", "sqlalchemy"}
    used = _imports(ROOT / "audit" / "cli.py") & banned
    assert not used, f"audit/cli.py imports {used}: move it into the pipeline"


# -- the layers (issue 12): ground <- stages <- application <- demo, bench -----------------
GROUND = ("models", "lifecycle", "config", "store", "clock", "errors", "tokens", "logs", "stats")
APPLICATION = ("audit.app", "audit.pipeline", "audit.cli", "audit.__main__", "audit.demo")


def _modules(path: Path) -> set[str]:
    """Every module a file imports, anywhere in it (lazy imports inside functions too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
    return names


def _above(names: set[str], layers: tuple[str, ...]) -> set[str]:
    return {n for n in names if any(n == x or n.startswith(x + ".") for x in layers)}


@pytest.mark.parametrize("module", GROUND)
def test_the_ground_imports_no_stage_and_no_application(module: str) -> None:
    used = _modules(ROOT / "audit" / f"{module}.py")
    assert not _above(used, STAGES + APPLICATION), f"audit/{module}.py imports {used}"


@pytest.mark.parametrize("stage", STAGES)
def test_stages_import_only_the_ground(stage: str) -> None:
    for f in (ROOT / stage).rglob("*.py"):
        wrong = _above(_modules(f), APPLICATION)
        assert not wrong, f"{f.relative_to(ROOT)} imports the application layer: {wrong}"


def test_the_application_does_not_import_the_demo_or_the_cli() -> None:
    for f in (ROOT / "audit" / "app").rglob("*.py"):
        wrong = _above(_modules(f), ("audit.demo", "audit.cli", "audit.__main__"))
        assert not wrong, f"{f.relative_to(ROOT)} imports {wrong}"


def test_pipeline_is_only_a_facade() -> None:
    tree = ast.parse((ROOT / "audit" / "pipeline.py").read_text(encoding="utf-8"))
    defs = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)]
    assert not defs, "audit/pipeline.py re-exports audit.app; commands live there"


# -- no god classes (issue 12): the probe and the watcher split along their seams -----------
MAX_CLASS_LINES = 500  # the Watcher's sync driver; the probe's state is ~70
MAX_FUNCTION_LINES = 100  # a step you can read on one screen or two


def _sizes(stage: str) -> list[tuple[int, str, str]]:
    out = []
    for f in sorted((ROOT / stage).rglob("*.py")):
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                what = "class" if isinstance(node, ast.ClassDef) else "function"
                where = f"{f.relative_to(ROOT)}: {what} {node.name}"
                out.append((node.end_lineno - node.lineno + 1, what, where))
    return out


@pytest.mark.parametrize("stage", ["probes", "inbox"])
def test_no_class_or_function_in_probes_or_inbox_is_a_god(stage: str) -> None:
    sizes = _sizes(stage)
    assert sizes
    limits = {"class": MAX_CLASS_LINES, "function": MAX_FUNCTION_LINES}
    big = [f"{where} ({n} lines)" for n, what, where in sizes if n > limits[what]]
    assert not big, f"split along its seams: {big}"


def test_the_probe_steps_and_the_sync_parts_are_modules_of_their_own() -> None:
    """probes/runner.py runs the steps (locate, filling, submit, phone_retry, evidence over
    probes/state.Probe); inbox/watcher.py drives imapio, syncplan, evidence and assign."""
    runner = _modules(ROOT / "probes" / "runner.py")
    for step in ("locate", "filling", "submit", "phone_retry", "evidence", "state"):
        assert f"probes.{step}" in runner, f"probes/runner.py does not run probes/{step}.py"
    watcher = _modules(ROOT / "inbox" / "watcher.py")
    for part in ("imapio", "syncplan", "evidence", "assign"):
        assert f"inbox.{part}" in watcher, f"inbox/watcher.py does not use inbox/{part}.py"
    # the sync's decisions are pure: no IMAP client, no store, no file system
    pure = _modules(ROOT / "inbox" / "syncplan.py")
    assert not _above(pure, ("imapclient", "inbox.imapio", "audit.store", "sqlalchemy", "os"))
