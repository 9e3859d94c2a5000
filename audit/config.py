"""Load survey.yaml and companies.yaml once into validated models.

Errors name the file, the line, the company and the key, e.g.::

    companies.yaml line 14: company 'Bank Leumi' (#2): homepage: must be an http(s) URL ...
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from audit.errors import ConfigError
from audit.models import (
    DEFAULT_PASSWORD_ENV,
    FIELD_ROLES,
    VALUE_ROLES,
    Company,
    CompanyList,
    SurveyConfig,
    is_placeholder_domain,
)

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
    _refuse_duplicate_keys(path, node)
    return data, node


_MERGE_TAG = "tag:yaml.org,2002:merge"


def _scalar(node: yaml.Node | None, key: str) -> str | None:
    """The scalar value under ``key`` in a mapping node, if there is one."""
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key and isinstance(v, yaml.ScalarNode):
                return str(v.value)
    return None


def _refuse_duplicate_keys(path: Path, root: yaml.Node | None) -> None:
    """YAML keeps the last of two equal keys and drops the first without a word: refuse.

    A second ``companies:`` block would otherwise silently replace the first list.
    """
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, tuple[Any, ...], str]] = []
    if root is not None:
        # a bare list in companies.yaml stands for the companies: list
        stack.append((root, ("companies",) if isinstance(root, yaml.SequenceNode) else (), ""))
    while stack:
        node, loc, subject = stack.pop()
        if id(node) in seen:  # anchors and aliases share nodes (even in cycles)
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                sub = subject
                if loc == ("companies",):
                    name = _scalar(item, "name")
                    sub = f"company {name!r} (#{i + 1})" if name else f"company #{i + 1}"
                stack.append((item, (*loc, i), sub))
        elif isinstance(node, yaml.MappingNode):
            first: dict[tuple[str, str], int] = {}
            for k, _v in node.value:
                if not isinstance(k, yaml.ScalarNode) or k.tag == _MERGE_TAG:
                    continue
                line = k.start_mark.line + 1
                ident = (k.tag, str(k.value))
                if ident in first:
                    keys = [str(x) for x in (*loc, k.value)]
                    if subject:
                        keys = keys[2:]
                    where = f"{path.name} line {line}: " + (f"{subject}: " if subject else "")
                    raise ConfigError(
                        f"{where}{'.'.join(keys)}: duplicate key (also on line {first[ident]}; "
                        "YAML would silently keep only the last one)"
                    )
                first[ident] = line
            for k, v in reversed(node.value):
                key = k.value if isinstance(k, yaml.ScalarNode) else "?"
                stack.append((v, (*loc, key), subject))


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
        if err["type"] == "extra_forbidden" and _is_password_key(keys[-1] if keys else ""):
            msg = _password_hint(path, data)
        elif err["type"] == "extra_forbidden":
            msg = "unknown key (typo?)"
        elif err["type"] == "missing":
            msg = "required key is missing"
        lines.append(f"{where}: {subject + ': ' if subject else ''}{key}: {msg}")
    return ConfigError("\n".join(lines))


def _is_password_key(key: str) -> bool:
    k = key.strip().lower().replace("-", "_")
    return k in ("pass", "passwd", "pwd", "secret") or "password" in k


def _password_hint(path: Path, data: Any) -> str:
    """Where a password goes instead (the value itself is never repeated)."""
    mailbox = data.get("mailbox") if isinstance(data, dict) else None
    env = DEFAULT_PASSWORD_ENV
    if isinstance(mailbox, dict) and isinstance(mailbox.get("password_env"), str):
        env = mailbox["password_env"]
    return (
        f"a password never goes in {path.name}: set the environment variable {env} "
        "(mailbox.password_env), or store it in the keyring under the service named by "
        "mailbox.keyring_service; remove this key"
    )


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
    _check_overrides(path, companies, node)
    seen: dict[str, str] = {}
    for c in companies:
        if c.slug in seen:
            raise ConfigError(
                f"{path.name}: companies {seen[c.slug]!r} and {c.name!r} share the id "
                f"{c.slug!r}; give one of them an explicit id:"
            )
        seen[c.slug] = c.name
    return companies


# ---------------------------------------------------------------------------------------
# Per-company overrides: selectors and roles checked at load time, without a browser
# ---------------------------------------------------------------------------------------
# Playwright's own selector syntax, accepted by overrides that the probe hands to a
# locator (submit, fields, values): engines (text=, xpath=, role=, nth=...), '>>' chains,
# XPath, quoted text, and its pseudo-classes (:has-text(), :visible, ...).
_ENGINE = re.compile(r"\s*([A-Za-z][\w:-]*)\s*=")
_PW_PSEUDO = re.compile(
    r":(has-text|text|text-is|text-matches|nth-match|left-of|right-of|above|below|near)\("
)
_PW_VISIBLE = re.compile(r":visible(?![\w(-])")
# Bare words that name an element, so a values key like `textarea` is a selector, while
# `phon` (a typo of a role) is an unknown role.
_HTML_TAGS = frozenset({
    "a", "abbr", "address", "article", "aside", "b", "body", "button", "datalist", "dd",
    "details", "dialog", "div", "dl", "dt", "em", "fieldset", "footer", "form", "h1", "h2",
    "h3", "h4", "h5", "h6", "header", "i", "iframe", "img", "input", "label", "legend", "li",
    "main", "nav", "ol", "optgroup", "option", "output", "p", "section", "select", "small",
    "span", "strong", "summary", "table", "tbody", "td", "textarea", "tfoot", "th", "thead",
    "tr", "u", "ul"
})  # fmt: skip


def _css_problem(selector: str) -> str | None:
    """Why a browser would reject this CSS selector, or None (soupsieve, no browser)."""
    if not selector.strip():
        return "empty selector"
    try:
        import soupsieve
    except ImportError:  # beautifulsoup4 brings it; without it the probe reports at run time
        return None
    try:
        soupsieve.compile(selector)
    except soupsieve.SelectorSyntaxError as exc:
        return str(exc).splitlines()[0]
    except NotImplementedError:  # pseudo-elements: valid CSS that soupsieve cannot match
        return None
    except Exception as exc:  # anything else soupsieve chokes on is not a selector either
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    return None


def _strip_balanced(text: str, start: int) -> int:
    """The index just past the ')' that closes the '(' at ``start`` (quotes respected)."""
    depth, quote, i = 0, "", start
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(text)


def _locator_problem(selector: str) -> str | None:
    """Why Playwright would reject this locator selector, or None."""
    if not selector.strip():
        return "empty selector"
    for part in re.split(r"\s*>>\s*", selector.strip()):
        if not part:
            return "empty step in a '>>' chain"
        m = _ENGINE.match(part)
        if m and m.group(1).lower() != "css":
            continue  # text=, xpath=, role=, nth=, id=, internal:...: Playwright's engines
        if m:
            part = part[m.end() :]
        if part.lstrip().startswith(("//", "..", "(", '"', "'")):
            continue  # XPath or quoted text
        while (pm := _PW_PSEUDO.search(part)) is not None:
            part = part[: pm.start()] + part[_strip_balanced(part, pm.end() - 1) :]
        part = _PW_VISIBLE.sub("", part).strip()
        problem = _css_problem(part or "*")
        if problem:
            return problem
    return None


def _override_problems(company: Company) -> list[tuple[tuple[str, ...], str]]:
    """(key path under the company, message) for every bad selector or role."""
    ov = company.overrides
    found: list[tuple[tuple[str, ...], str]] = []
    if ov.form is not None and (p := _css_problem(ov.form)):
        found.append((("overrides", "form"), f"invalid CSS selector {ov.form!r}: {p}"))
    if ov.submit is not None and (p := _locator_problem(ov.submit)):
        found.append((("overrides", "submit"), f"invalid CSS selector {ov.submit!r}: {p}"))
    for sel, role in ov.fields.items():
        if p := _locator_problem(sel):
            found.append((("overrides", "fields", sel), f"invalid CSS selector: {p}"))
        if role not in FIELD_ROLES:
            roles = ", ".join(FIELD_ROLES)
            found.append((("overrides", "fields", sel), f"unknown role {role!r} (roles: {roles})"))
    for key in ov.values:
        if key in VALUE_ROLES:
            continue
        if key in FIELD_ROLES:
            roles = ", ".join(VALUE_ROLES)
            found.append(
                (
                    ("overrides", "values", key),
                    f"role {key!r} takes no value (roles that do: {roles})",
                )
            )
        elif re.fullmatch(r"[a-z][a-z0-9_]*", key) and key not in _HTML_TAGS:
            roles = ", ".join(VALUE_ROLES)
            found.append(
                (
                    ("overrides", "values", key),
                    f"unknown role {key!r} (roles: {roles}; or a CSS selector such as '#id')",
                )
            )
        elif p := _locator_problem(key):
            found.append((("overrides", "values", key), f"invalid CSS selector: {p}"))
    return found


def _key_path(keys: tuple[str, ...]) -> str:
    """overrides.form, or overrides.fields['#email'] (a selector is not a dotted name)."""
    head = ".".join(keys[:2])
    return head + "".join(f"[{k!r}]" for k in keys[2:])


def _check_overrides(path: Path, companies: list[Company], node: yaml.Node | None) -> None:
    prefix: tuple[Any, ...] = ("companies",)
    if isinstance(node, yaml.SequenceNode):
        prefix = ()
    lines = []
    for i, company in enumerate(companies):
        for keys, message in _override_problems(company):
            line = _line_of(node, (*prefix, i, *keys))
            where = path.name + (f" line {line}" if line else "")
            lines.append(
                f"{where}: company {company.name!r} (#{i + 1}): {_key_path(keys)}: {message}"
            )
    if lines:
        raise ConfigError("\n".join(lines))


# ---------------------------------------------------------------------------------------
# Placeholders the scaffold writes: fine for a dry run, never for a real submission
# ---------------------------------------------------------------------------------------
def _key_line(path: Path, loc: tuple[str, ...]) -> int | None:
    """The line of a key in a YAML file, if the file sets it."""
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    at: yaml.Node | None = node
    line = None
    for key in loc:
        if not isinstance(at, yaml.MappingNode):
            return None
        for k, v in at.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                line, at = k.start_mark.line + 1, v
                break
        else:
            return None
    return line


def reply_domain_problem(ws: Workspace) -> str | None:
    """The scaffold's placeholder reply domain (or any reserved example domain), named."""
    domain = ws.survey.reply_address.domain
    if not is_placeholder_domain(domain):
        return None
    line = _key_line(ws.root / SURVEY_FILE, ("reply_address", "domain"))
    where = SURVEY_FILE + (f" line {line}" if line else "")
    return (
        f"{where}: reply_address.domain: {domain!r} is a placeholder (a reserved example "
        "domain: no reply reaches you there); set the domain whose mail reaches your mailbox"
    )


def mailbox_host_problem(ws: Workspace) -> str | None:
    """The scaffold's placeholder IMAP host (imap.example.com), named."""
    host = ws.survey.mailbox.host
    if not is_placeholder_domain(host) or host in ("127.0.0.1", "localhost", "::1"):
        return None
    line = _key_line(ws.root / SURVEY_FILE, ("mailbox", "host"))
    where = SURVEY_FILE + (f" line {line}" if line else "")
    return (
        f"{where}: mailbox.host: {host!r} is a placeholder (a reserved example domain); "
        "set your IMAP server's host name"
    )


def load_workspace(root: str | os.PathLike[str]) -> Workspace:
    root = Path(root).resolve()
    if not root.is_dir():
        raise ConfigError(f"workspace {root} does not exist (run 'audit init {root}')")
    survey = load_survey(root / SURVEY_FILE)
    companies = load_companies(root / COMPANIES_FILE)
    ws = Workspace(root=root, survey=survey, companies=companies)
    if problem := smtp_problem(ws):
        raise ConfigError(problem)
    return ws


def uses_email(ws: Workspace) -> str | None:
    """Why this survey may send e-mail (the first company that makes it so), or None."""
    for c in ws.companies:
        if c.skip:
            continue
        if c.channel in ("email", "both"):
            return f"company {c.name!r} has channel: {c.channel}"
        if ws.survey.fallback == "email" and c.email:
            return f"fallback: email and company {c.name!r} has an email"
    return None


def smtp_problem(ws: Workspace) -> str | None:
    """A survey that sends e-mail needs survey.yaml's smtp: section, named in one line."""
    if ws.survey.smtp is not None:
        return None
    why = uses_email(ws)
    if why is None:
        return None
    return (
        f"{SURVEY_FILE}: smtp: required key is missing: the survey sends e-mail ({why} in "
        f"{COMPANIES_FILE}); add smtp: with host, user and tls"
    )
