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
