"""Bad input from the consultant's own YAML: one line naming the file, the company and the key.

Issue 12, item 6. Pure loading tests here (no browser, no mailbox); the CLI-level ones
(run --submit refusing a placeholder, init --force keeping a backup, a missing store
driver, a TLS mode mismatch) run `audit` in a subprocess in test_input_hardening_cli.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from audit.config import load_companies, load_survey
from audit.errors import ConfigError
from audit.models import FIELD_ROLES, MAX_SLUG_BYTES, Company, is_placeholder_domain, slugify


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _error(tmp_path: Path, name: str, text: str) -> str:
    load = load_companies if name == "companies.yaml" else load_survey
    with pytest.raises(ConfigError) as exc:
        load(_write(tmp_path, name, text))
    return str(exc.value)


# -- duplicate keys -----------------------------------------------------------------------
def test_a_second_companies_block_is_refused_not_silently_dropped(tmp_path: Path) -> None:
    text = (
        "companies:\n"
        "  - {name: Alpha, homepage: 'https://a.example'}\n"
        "  - {name: Beta, homepage: 'https://b.example'}\n"
        "# later in the file, pasted from another survey\n"
        "companies:\n"
        "  - {name: Gamma, homepage: 'https://g.example'}\n"
    )
    assert _error(tmp_path, "companies.yaml", text) == (
        "companies.yaml line 5: companies: duplicate key "
        "(also on line 1; YAML would silently keep only the last one)"
    )


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        (
            "companies.yaml",
            "companies:\n  - name: Acme\n    homepage: https://a.example\n"
            "    homepage: https://b.example\n",
            "companies.yaml line 4: company 'Acme' (#1): homepage: duplicate key (also on line 3;",
        ),
        (
            "companies.yaml",
            "- name: Acme\n  homepage: https://a.example\n  overrides:\n"
            "    fields: {'#a': email, '#a': phone}\n",
            "companies.yaml line 4: company 'Acme' (#1): overrides.fields.#a: duplicate key",
        ),
        (
            "survey.yaml",
            "mailbox:\n  host: a\n  user: me\nmailbox:\n  host: b\n",
            "survey.yaml line 4: mailbox: duplicate key (also on line 1;",
        ),
        (
            "survey.yaml",
            "browser:\n  concurrency: 2\n  timeout_s: 5\n  concurrency: 8\n",
            "survey.yaml line 4: browser.concurrency: duplicate key (also on line 2;",
        ),
    ],
)
def test_duplicate_keys_name_file_line_company_and_key(
    tmp_path: Path, name: str, text: str, expected: str
) -> None:
    assert expected in _error(tmp_path, name, text)


def test_merge_keys_and_aliases_are_not_duplicates(tmp_path: Path) -> None:
    text = (
        "base: &base {sector: banking, homepage: 'https://a.example'}\n"
        "companies:\n"
        "  - {<<: *base, name: Alpha}\n"
        "  - {<<: *base, name: Beta, homepage: 'https://b.example'}\n"
    )
    # 'base' is not a key of companies.yaml, but the duplicate check must not be the one
    # that complains: merges and aliases are fine YAML.
    assert "duplicate" not in _error(tmp_path, "companies.yaml", text)
    ok = "companies:\n  - &a {name: Alpha, homepage: 'https://a.example'}\n"
    assert [c.name for c in load_companies(_write(tmp_path, "companies.yaml", ok))] == ["Alpha"]


# -- names --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("''", "companies.yaml line 2: company #1: name: must not be empty"),
        ("'   '", "name: must not be empty"),
        (
            "'!!!'",
            "companies.yaml line 2: company '!!!' (#1): name: must contain a letter or a digit",
        ),
        ("'-- / --'", "name: must contain a letter or a digit, not '-- / --'"),
        ("'___'", "name: must contain a letter or a digit"),
    ],
)
def test_empty_or_punctuation_only_names_are_refused(
    tmp_path: Path, value: str, expected: str
) -> None:
    text = f"companies:\n  - name: {value}\n    homepage: https://a.example\n"
    assert expected in _error(tmp_path, "companies.yaml", text)


@pytest.mark.parametrize("name", ["3M", "A&B", "בנק הפועלים", "H&M (IL)", "X"])
def test_short_and_hebrew_names_are_fine(name: str) -> None:
    assert Company(name=name, homepage="https://a.example").name == name


# -- long names: safe on disk, unique, stable ---------------------------------------------
@pytest.mark.parametrize("letter", ["x", "ש", "中"])
def test_a_10000_character_name_fits_in_a_file_name(tmp_path: Path, letter: str) -> None:
    c = Company(name=letter * 10_000, homepage="https://a.example")
    assert len(c.slug.encode("utf-8")) <= MAX_SLUG_BYTES
    other = Company(name=letter * 9_999 + "y", homepage="https://a.example")
    assert other.slug != c.slug  # same head, different whole: still unique
    assert Company(name=letter * 10_000, homepage="https://b.example").slug == c.slug  # stable
    # the evidence folder of a submission is named by the slug: it can be created
    folder = tmp_path / "evidence" / "submissions" / "wave-1" / c.slug / "run-1"
    folder.mkdir(parents=True)
    (folder / "screenshot_before.png").write_bytes(b"")


def test_slugs_that_already_fit_are_unchanged() -> None:
    """Stored companies are keyed by slug: a name that worked before keeps its id."""
    assert slugify("Bank Leumi") == "bank-leumi"
    name = "a" * MAX_SLUG_BYTES
    assert slugify(name) == name


def test_a_10000_character_name_loads_from_companies_yaml(tmp_path: Path) -> None:
    text = f"companies:\n  - name: {'N' * 10_000}\n    homepage: https://a.example\n"
    [c] = load_companies(_write(tmp_path, "companies.yaml", text))
    assert len(c.name) == 10_000 and len(c.slug) <= MAX_SLUG_BYTES
    assert os.path.basename(str(tmp_path / c.slug)) == c.slug


def test_an_explicit_id_too_long_for_a_file_name_is_refused(tmp_path: Path) -> None:
    text = f"companies:\n  - name: Wide\n    id: {'中' * 100}\n    homepage: https://a.example\n"
    assert "id is too long for a file name" in _error(tmp_path, "companies.yaml", text)


# -- overrides: selectors and roles checked at load, without a browser -----------------------
def _with_overrides(overrides: str) -> str:
    return (
        "companies:\n"
        "  - name: Fine\n    homepage: https://f.example\n"
        "  - name: Acme Bank\n    homepage: https://a.example\n    overrides:\n"
        + "".join(f"      {line}\n" for line in overrides.splitlines())
    )


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            "form: 'form[[['",
            "companies.yaml line 7: company 'Acme Bank' (#2): overrides.form: "
            "invalid CSS selector 'form[[[': Malformed attribute selector at position 4",
        ),
        (
            "submit: 'button >> '",
            "company 'Acme Bank' (#2): overrides.submit: invalid CSS selector 'button >>': "
            "empty step in a '>>' chain",
        ),
        (
            "fields:\n  'input[name=email': email",
            "companies.yaml line 8: company 'Acme Bank' (#2): overrides.fields['input[name=email']: "
            "invalid CSS selector: Malformed attribute selector",
        ),
        (
            "fields:\n  '#w': phon",
            "companies.yaml line 8: company 'Acme Bank' (#2): overrides.fields['#w']: "
            "unknown role 'phon' (roles: full_name,",
        ),
        (
            "values:\n  phon: 03-1234567",
            "companies.yaml line 8: company 'Acme Bank' (#2): overrides.values['phon']: "
            "unknown role 'phon'",
        ),
        (
            "values:\n  honeypot: x",
            "overrides.values['honeypot']: role 'honeypot' takes no value",
        ),
        (
            "values:\n  'div:nth-child(': x",
            "overrides.values['div:nth-child(']: invalid CSS selector",
        ),
    ],
)
def test_bad_selectors_and_roles_in_overrides_are_refused_at_load(
    tmp_path: Path, overrides: str, expected: str
) -> None:
    message = _error(tmp_path, "companies.yaml", _with_overrides(overrides))
    assert expected in message
    assert "\n" not in message  # one problem, one line


def test_every_bad_override_is_named_one_line_each(tmp_path: Path) -> None:
    overrides = "form: 'form[[['\nfields:\n  '#w': phon\nvalues:\n  phon: x\n"
    lines = _error(tmp_path, "companies.yaml", _with_overrides(overrides)).splitlines()
    assert [line.split(": ")[2] for line in lines] == [
        "overrides.form",
        "overrides.fields['#w']",
        "overrides.values['phon']",
    ]


def test_good_overrides_load_including_playwright_selectors(tmp_path: Path) -> None:
    overrides = (
        "form: '#contact'\n"
        "submit: 'button:has-text(\"Send\") >> nth=0'\n"
        "fields:\n"
        "  '#w': company\n"
        "  'text=Your name': full_name\n"
        "  'form#c input[type=\"email\"]:visible': email\n"
        "  '//textarea[@name=\"msg\"]': message\n"
        "values:\n"
        "  phone: 03-1234567\n"
        "  national_id: '000000018'\n"
        "  '#n': D. Cohen\n"
        "  textarea: Hello\n"
        "  'select[name=topic]': Sales\n"
    )
    companies = load_companies(_write(tmp_path, "companies.yaml", _with_overrides(overrides)))
    assert companies[1].overrides.fields["#w"] == "company"


def test_field_roles_are_the_probes_roles() -> None:
    """The ground keeps its own copy (it imports no stage); the two must not drift apart."""
    from probes.roles import ROLES

    assert FIELD_ROLES == ROLES


# -- a password in survey.yaml --------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("mailbox:\n  host: imap.corp.example\n  password: hunter2-Secret\n", "mailbox.password"),
        ("password: hunter2-Secret\n", "password"),
        ("mailbox:\n  imap_password: hunter2-Secret\n", "mailbox.imap_password"),
    ],
)
def test_a_password_key_says_where_a_password_goes_and_never_echoes_it(
    tmp_path: Path, text: str, key: str
) -> None:
    message = _error(tmp_path, "survey.yaml", text)
    assert f": {key}: a password never goes in survey.yaml: set the environment variable " in (
        message
    )
    assert "AUDIT_IMAP_PASSWORD" in message and "mailbox.keyring_service" in message
    assert "hunter2" not in message and "unknown key" not in message
    assert "\n" not in message


def test_the_password_hint_names_a_custom_password_env(tmp_path: Path) -> None:
    text = "mailbox:\n  password_env: SURVEY_PW\n  password: hunter2\n"
    assert "set the environment variable SURVEY_PW" in _error(tmp_path, "survey.yaml", text)


# -- placeholders -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("domain", "placeholder"),
    [
        ("replies.example.com", True),
        ("example.org", True),
        ("mail.example.net", True),
        ("replies.example", True),
        ("x.invalid", True),
        ("", True),
        ("replies.demo.test", False),  # the demo and the tests deliver locally
        ("replies.mycompany.co.il", False),
        ("notexample.com", False),
    ],
)
def test_placeholder_domains(domain: str, placeholder: bool) -> None:
    assert is_placeholder_domain(domain) is placeholder
