"""Drill: property-based fuzzing of what the tool reads from outside.

- companies.yaml and survey.yaml: random YAML documents and mutations of the shipped
  templates through audit.config. Only ConfigError (a clear, one-line-per-problem
  message) may ever come out.
- raw e-mail bytes: random bytes, and mutations of the catalogue of real-world messages,
  through inbox.parse.parse_message, inbox.classify.classify and inbox.match.match:
  never an exception (a broken message is data: it carries a parse_error).
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.config import COMPANIES_FILE, SURVEY_FILE, load_companies, load_survey, load_workspace
from audit.errors import ConfigError
from inbox.classify import classify
from inbox.match import Candidate, match
from inbox.parse import parse_message

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "audit" / "templates"
SURVEY_TEXT = (TEMPLATES / "survey.yaml").read_text(encoding="utf-8")
COMPANIES_TEXT = (ROOT / "companies.yaml").read_text(encoding="utf-8")
EML = sorted((ROOT / "tests" / "inbox" / "eml").glob("*.eml"))
EML_BYTES = [p.read_bytes() for p in EML]

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# -- YAML ---------------------------------------------------------------------------
KEYS = [
    "survey", "persona", "reply_address", "message", "mailbox", "calendar", "browser",
    "tiers", "companies", "name", "id", "sector", "homepage", "contact_url",
    "reply_domains", "overrides", "skip", "wave", "close_at", "close_after", "scheme",
    "local", "domain", "host", "port", "tls", "user", "folders", "concurrency",
    "timeout_s", "min_fill_seconds", "typing_delay_ms", "hours", "timezone", "max",
    "subject", "body", "phone", "promise", "idle_round_s", "selectors", "fields",
]  # fmt: skip
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.sampled_from(["12:00-08:00", "14d", "-1h", "{{ ref }}", "{{ nope }}", "{% for %}"])
    | st.datetimes(timezones=st.just(UTC))
)
documents = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=10), inner, max_size=6)
    ),
    max_leaves=30,
)


@st.composite
def mutated(draw: st.DrawFn, text: str) -> str:
    """A valid file with a few random edits: deletions, insertions, swapped lines."""
    lines = text.splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["drop", "dup", "insert", "cut", "indent", "swap"]))
        if op == "drop":
            del lines[i]
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "insert":
            lines.insert(i, draw(st.text(max_size=30)) + "\n")
        elif op == "cut":
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
        elif op == "indent":
            lines[i] = "  " * draw(st.integers(0, 3)) + lines[i].lstrip()
        else:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
    return "".join(lines)


def _dump(doc: object) -> str:
    return yaml.safe_dump(doc, allow_unicode=True)


yaml_texts = (
    documents.map(_dump)
    | mutated(SURVEY_TEXT)
    | mutated(COMPANIES_TEXT)
    | st.text(max_size=200)
    | st.binary(max_size=200).map(lambda b: b.decode("latin-1"))
)


def _only_config_errors(survey: str | bytes, companies: str | bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, text in ((SURVEY_FILE, survey), (COMPANIES_FILE, companies)):
            data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
            (root / name).write_bytes(data)
        for load in (
            lambda: load_survey(root / SURVEY_FILE),
            lambda: load_companies(root / COMPANIES_FILE),
            lambda: load_workspace(root),
        ):
            try:
                load()
            except ConfigError as exc:
                assert str(exc).strip(), "a ConfigError must say what is wrong"


@FUZZ
@given(survey=yaml_texts, companies=yaml_texts)
def test_config_files_only_ever_raise_config_error(survey: str, companies: str) -> None:
    _only_config_errors(survey, companies)


@FUZZ
@given(survey=st.binary(max_size=300), companies=st.binary(max_size=300))
def test_config_bytes_only_ever_raise_config_error(survey: bytes, companies: bytes) -> None:
    _only_config_errors(survey, companies)


# -- e-mail -------------------------------------------------------------------------
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
CANDIDATES = [
    Candidate(
        submission_id=1,
        token="acme2345",
        company="acme-bank",
        wave_id=1,
        domains=("acmebank.example", "acme.zendesk.com"),
        submitted_at=NOW - timedelta(days=3),
        reply_address="survey+acme2345@replies.example.com",
    ),
    Candidate(
        submission_id=2,
        token="gbxq6789",
        company="globex",
        wave_id=1,
        domains=("globex.example",),
        submitted_at=None,
        reply_address="",
    ),
]


@st.composite
def mutated_eml(draw: st.DrawFn) -> bytes:
    raw = bytearray(draw(st.sampled_from(EML_BYTES)))
    for _ in range(draw(st.integers(1, 8))):
        if not raw:
            break
        i = draw(st.integers(0, len(raw) - 1))
        op = draw(st.sampled_from(["flip", "cut", "insert", "truncate"]))
        if op == "flip":
            raw[i] = draw(st.integers(0, 255))
        elif op == "cut":
            del raw[i : i + draw(st.integers(1, 200))]
        elif op == "insert":
            raw[i:i] = draw(
                st.sampled_from(
                    [
                        b"\r\n",
                        b"\n\n",
                        b"=?utf-8?b?",
                        b"=?windows-1255?q?=F9=EC?=",
                        b'Content-Type: multipart/mixed; boundary="x"\n',
                        b"--x\n",
                        b"charset=unknown-8bit",
                        b"\xff\xfe\x00",
                        b"Date: Mon, 99 Foo 2026 25:61:00 +9999\n",
                        b"Message-ID: <\x00>\n",
                        b"To: survey+acme2345@replies.example.com\n",
                        b"CA-ACME2345",
                    ]
                )
            )
        else:
            del raw[i:]
    return bytes(raw)


emails = mutated_eml() | st.binary(max_size=2000) | st.sampled_from(EML_BYTES)


@FUZZ
@given(raw=emails)
def test_raw_mail_never_raises(raw: bytes) -> None:
    parsed = parse_message(raw)
    classify(parsed)
    match(parsed, CANDIDATES, thread_lookup=lambda ids: None, at=NOW)
    match(parsed, CANDIDATES)
