"""Config loading: errors name the file, the line, the company and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit.config import load_companies, load_survey, load_workspace
from audit.errors import ConfigError
from audit.models import SurveyConfig, parse_duration
from audit.pipeline import init_workspace

TEMPLATES = Path(__file__).resolve().parents[2] / "audit" / "templates"
ROOT = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_templates_and_repository_companies_load() -> None:
    assert load_survey(TEMPLATES / "survey.yaml").calendar.hours["fri"] == "08:00-13:00"
    companies = load_companies(ROOT / "companies.yaml")
    assert len(companies) == 21
    assert {c.sector for c in companies} >= {"banking", "insurance", "telecom", "health"}
    assert sum(c.skip for c in companies) == 3  # brands that no longer exist


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("companies:\n  - name: [A\n", "companies.yaml line 3 column 1: broken YAML"),
        (
            "companies:\n  - name: A\n    homepage: https://a.example\n  - name: B\n    homepage: ftp://b\n",
            "companies.yaml line 5: company 'B' (#2): homepage: must be an http(s) URL",
        ),
        (
            "companies:\n  - name: A\n    homepag: https://a.example\n",
            "companies.yaml line 3: company 'A' (#1): homepag: unknown key (typo?)",
        ),
        (
            "companies:\n  - sector: x\n    homepage: https://a.example\n",
            "company #1: name: required key is missing",
        ),
        (
            "companies:\n  - name: A\n",
            "company 'A' (#1): (whole entry): give a homepage or a contact_url",
        ),
        (
            "companies:\n  - {name: Acme, homepage: 'https://a.example'}\n  - {name: ACME, homepage: 'https://b.example'}\n",
            "share the id 'acme'",
        ),
        ("- just: a list\n", "company #1"),
        ("hello", "expected a top-level 'companies:' list"),
    ],
)
def test_company_errors_name_file_line_company_and_key(
    tmp_path: Path, text: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as exc:
        load_companies(_write(tmp_path, "companies.yaml", text))
    assert expected in str(exc.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "mailbox:\n  tls: plain\n  host: imap.example.com\n",
            "survey.yaml line 1: mailbox: tls: plain is allowed on loopback only",
        ),
        (
            "message:\n  body: no reference here\n",
            "message.body: the template must carry the reference code",
        ),
        ("calendar:\n  timezone: Mars/Olympus\n", "calendar.timezone: unknown time zone"),
        ("calendar:\n  hours: {fri: '13:00-08:00'}\n", "opening hours end before they start"),
        ("survey:\n  close_at: 2026-12-01T10:00:00\n", "close_at needs a time zone"),
        ("reply_address:\n  scheme: bcc\n", "reply_address.scheme"),
        ("mailbox:\n  password: hunter2\n", "mailbox.password: a password never goes in"),
        ("[1, 2]", "expected a mapping of sections"),
        (
            "persona:\n  phone_country_code: '+97x'\n",
            "survey.yaml line 2: persona.phone_country_code: '+97x' is not a country calling "
            "code: 1 to 3 digits, e.g. 972",
        ),
    ],
)
def test_survey_errors(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as exc:
        load_survey(_write(tmp_path, "survey.yaml", text))
    assert expected in str(exc.value)


def test_not_utf8_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "survey.yaml").write_bytes(b"persona:\n  name: \xff\xfe\n")
    with pytest.raises(ConfigError, match="survey.yaml: not UTF-8"):
        load_survey(tmp_path / "survey.yaml")
    with pytest.raises(ConfigError, match="companies.yaml not found"):
        load_companies(tmp_path / "companies.yaml")


def test_init_scaffolds_a_loadable_workspace_and_keeps_edits(tmp_path: Path) -> None:
    root = init_workspace(tmp_path / "ws")
    ws = load_workspace(root)
    assert (root / "evidence").is_dir() and (root / "reports").is_dir()
    assert ws.store_url == f"sqlite:///{root / 'survey.db'}"
    (root / "companies.yaml").write_text(
        "companies:\n  - {name: Mine, homepage: 'https://m.example'}\n"
    )
    init_workspace(root)  # re-running init never overwrites the consultant's files
    assert [c.name for c in load_workspace(root).companies] == ["Mine"]


def test_defaults_and_durations() -> None:
    cfg = SurveyConfig()
    assert [t.seconds for t in cfg.tiers] == [900, 3600, 86400, 432000]
    assert cfg.reply_address.address_for("abcd2345") == "survey+abcd2345@replies.example.com"
    assert parse_duration("1h30m") == 5400 and parse_duration("2.5h") == 9000
    with pytest.raises(ValueError):
        parse_duration("soon")
