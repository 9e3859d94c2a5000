"""Load survey.yaml and companies.yaml once into validated models.

Errors name the file, the line, the company and the key, e.g.::

    companies.yaml line 14: company 'Bank Leumi' (#2): homepage: must be an http(s) URL ...
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from audit.errors import ConfigError
from audit.models import Company, CompanyList, SurveyConfig

SURVEY_FILE = "survey.yaml"
COMPANIES_FILE = "companies.yaml"
STORE_FILE = "survey.db"


@dataclass
class Workspace:
    """A survey folder: the two YAML files, the store, evidence/ and reports/."""

    root: Path
    survey: SurveyConfig
    companies: list[Company]

    @property
    def store_url(self) -> str:
        if self.survey.store:
            return self.survey.store
        return f"sqlite:///{self.root / STORE_FILE}"

    @property
    def evidence_dir(self) -> Path:
        return self.root / "evidence"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    def company(self, name_or_id: str) -> Company:
        key = name_or_id.strip().lower()
        for c in self.companies:
            if c.slug == key or c.name.lower() == key:
                return c
        known = ", ".join(c.name for c in self.companies[:8])
        raise ConfigError(f"no company named {name_or_id!r} in {COMPANIES_FILE} (known: {known})")


def _read_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path.name} not found in {path.parent} (run 'audit init')") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path.name}: not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path.name}{where}: broken YAML: {problem}") from None
    return data, node


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the YAML node at a pydantic error location, as deep as it goes."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value == key:
                    line, node = k.start_mark.line + 1, v
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            if key >= len(node.value):
                return line
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _explain(path: Path, exc: ValidationError, node: yaml.Node | None, data: Any) -> ConfigError:
    lines = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        line = _line_of(node, loc)
        where = f"{path.name}" + (f" line {line}" if line else "")
        keys = [str(k) for k in loc]
        subject = ""
        if len(loc) >= 2 and loc[0] == "companies" and isinstance(loc[1], int):
            try:
                cname = data["companies"][loc[1]].get("name")
            except Exception:
                cname = None
            subject = f"company {cname!r} (#{loc[1] + 1})" if cname else f"company #{loc[1] + 1}"
            keys = keys[2:]
        key = ".".join(keys) or "(whole entry)"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (typo?)"
        elif err["type"] == "missing":
            msg = "required key is missing"
        lines.append(f"{where}: {subject + ': ' if subject else ''}{key}: {msg}")
    return ConfigError("\n".join(lines))


def load_survey(path: Path) -> SurveyConfig:
    data, node = _read_yaml(path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path.name}: expected a mapping of sections (survey:, persona:, ...)")
    try:
        return SurveyConfig.model_validate(data)
    except ValidationError as exc:
        raise _explain(path, exc, node, data) from None


def load_companies(path: Path) -> list[Company]:
    data, node = _read_yaml(path)
    if isinstance(data, list):  # a bare list is accepted too
        data = {"companies": data}
    if not isinstance(data, dict) or "companies" not in data:
        raise ConfigError(f"{path.name}: expected a top-level 'companies:' list")
    try:
        companies = CompanyList.model_validate(data).companies
    except ValidationError as exc:
        if node is not None and isinstance(node, yaml.SequenceNode):
            node = None
        raise _explain(path, exc, node, data) from None
    seen: dict[str, str] = {}
    for c in companies:
        if c.slug in seen:
            raise ConfigError(
                f"{path.name}: companies {seen[c.slug]!r} and {c.name!r} share the id "
                f"{c.slug!r}; give one of them an explicit id:"
            )
        seen[c.slug] = c.name
    return companies


def load_workspace(root: str | os.PathLike[str]) -> Workspace:
    root = Path(root).resolve()
    if not root.is_dir():
        raise ConfigError(f"workspace {root} does not exist (run 'audit init {root}')")
    survey = load_survey(root / SURVEY_FILE)
    companies = load_companies(root / COMPANIES_FILE)
    return Workspace(root=root, survey=survey, companies=companies)
