"""The nouns of a survey: validated configuration models and the plain types stages exchange.

Configuration models are pydantic with ``extra="forbid"`` so that a typo in YAML is an
error naming the key, not a silently ignored setting. Every setting has its default here.
Stage outputs (probe outcomes, parsed messages) are plain dataclasses.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time
from enum import StrEnum
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# ---------------------------------------------------------------------------------------
# Named defaults (STYLE 4: a named default in code; survey.yaml overrides; a flag wins).
# ---------------------------------------------------------------------------------------
DEFAULT_CONCURRENCY = 4
DEFAULT_PAGE_TIMEOUT_S = 30.0
DEFAULT_MIN_FILL_SECONDS = 5.0
DEFAULT_TYPING_DELAY_MS = (25, 70)
DEFAULT_SITE_DELAY_S = 2.0
DEFAULT_MAX_CONSECUTIVE_FAILURES = 15
DEFAULT_IDLE_ROUND_S = 300.0
DEFAULT_IMAP_TIMEOUT_S = 30.0
DEFAULT_TIMEZONE = "Asia/Jerusalem"
DEFAULT_COUNTRY = "IL"
DEFAULT_PASSWORD_ENV = "AUDIT_IMAP_PASSWORD"
DEFAULT_SMTP_PASSWORD_ENV = "AUDIT_SMTP_PASSWORD"
DEFAULT_SMTP_TIMEOUT_S = 60.0
# Set to 1 (tests, CI): nothing leaves the machine: the browser aborts every request that
# would leave loopback, and DKIM key lookups in DNS are refused (verdict temperror).
BLOCK_OUTSIDE_ENV = "AUDIT_BLOCK_OUTSIDE"
DEFAULT_DNS_TIMEOUT_S = 5.0
DEFAULT_HOURS: dict[str, str | None] = {
    "sun": "08:00-20:00",
    "mon": "08:00-20:00",
    "tue": "08:00-20:00",
    "wed": "08:00-20:00",
    "thu": "08:00-20:00",
    "fri": "08:00-13:00",
    "sat": None,
}
DEFAULT_TIERS: list[tuple[str, str]] = [
    ("world-class", "15m"),
    ("good", "1h"),
    ("fair", "24h"),
    ("slow", "5d"),
]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # datetime.weekday() order

DEFAULT_SUBJECT = "Question about your services (ref {{ ref }})"
DEFAULT_BODY = """Hello,

I am interested in your services and would like to know how I can open an account,
what it costs per month, and whether there is a discount for new customers.
Could you please get back to me by e-mail?

Thank you,
{{ persona.name }}
{{ persona.phone }}

Reference: {{ ref }}
"""


def parse_duration(text: str | int | float) -> float:
    """'90s', '15m', '2.5h', '1d', '1h30m' or a number of seconds -> seconds."""
    if isinstance(text, int | float):
        if text < 0:
            raise ValueError("a duration cannot be negative")
        return float(text)
    s = str(text).strip().lower().replace(" ", "")
    if re.fullmatch(r"\d+(\.\d+)?", s):
        return float(s)
    units = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}
    total, pos = 0.0, 0
    for m in re.finditer(r"(\d+(?:\.\d+)?)(min|s|m|h|d|w)", s):
        if m.start() != pos:
            break
        total += float(m.group(1)) * units[m.group(2)]
        pos = m.end()
    if pos != len(s) or pos == 0:
        raise ValueError(f"not a duration: {text!r} (use e.g. 15m, 2.5h, 1d)")
    return total


# A company's id names its evidence folder: at most one file-name component (255 bytes on
# common file systems). Ids that fit are kept exactly as before (they key stored companies);
# longer ones are cut and given a hash of the whole, so they stay unique and stable.
MAX_SLUG_BYTES = 255


def slugify(name: str) -> str:
    """A stable ASCII-ish identifier for a company name (Hebrew letters are kept)."""
    norm = unicodedata.normalize("NFKC", name).strip().lower()
    slug = re.sub(r"[^\w]+", "-", norm, flags=re.UNICODE).strip("-")
    return cap_slug(slug or "company")


def cap_slug(slug: str) -> str:
    """``slug`` if it fits in one file name, else its head and a hash of the whole."""
    raw = slug.encode("utf-8")
    if len(raw) <= MAX_SLUG_BYTES:
        return slug
    digest = hashlib.sha256(raw).hexdigest()[:10]
    head = raw[: MAX_SLUG_BYTES - len(digest) - 1].decode("utf-8", "ignore").rstrip("-")
    return f"{head}-{digest}"


# Reserved example domains (RFC 2606, RFC 6761): no mail to them reaches anyone. `.test`
# and `.localhost` are reserved too but serve local surveys (the demo, the tests).
_PLACEHOLDER_DOMAINS = ("example.com", "example.net", "example.org")
_PLACEHOLDER_TLDS = ("example", "invalid")


def is_placeholder_domain(domain: str | None) -> bool:
    """True for the scaffold's replies.example.com and every other reserved example domain."""
    d = (domain or "").strip().lower().rstrip(".")
    if not d:
        return True
    if d.rsplit(".", 1)[-1] in _PLACEHOLDER_TLDS:
        return True
    return any(d == p or d.endswith("." + p) for p in _PLACEHOLDER_DOMAINS)


def site_of(url: str | None) -> str | None:
    """The host of a URL without a leading www., lower case."""
    if not url:
        return None
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host or None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False, str_strip_whitespace=True)


# ---------------------------------------------------------------------------------------
# survey.yaml
# ---------------------------------------------------------------------------------------
class Persona(_Strict):
    name: str = "Dana Cohen"
    first_name: str | None = None
    last_name: str | None = None
    phone: str = "050-555-0134"
    # The country calling code for the international form of `phone` (+972 50-555-0134),
    # tried when a server refuses the local form (issue 10, class 8).
    phone_country_code: str = "972"
    company: str | None = None
    # Optional local fields, supplied by the consultant, never invented by the filler.
    national_id: str | None = None
    city: str | None = None
    is_customer: bool | None = None
    phone_prefix: str | None = None
    phone_number: str | None = None

    @field_validator("phone_country_code", mode="before")
    @classmethod
    def _country_code(cls, v: Any) -> str:
        code = str(v).strip().removeprefix("+").removeprefix("00")
        if not re.fullmatch(r"[1-9]\d{0,2}", code):
            raise ValueError(f"{v!r} is not a country calling code: 1 to 3 digits, e.g. 972")
        return code

    @model_validator(mode="after")
    def _split_name(self) -> Persona:
        parts = self.name.split()
        if self.first_name is None and parts:
            self.first_name = parts[0]
        if self.last_name is None and len(parts) > 1:
            self.last_name = " ".join(parts[1:])
        return self


class ReplyAddress(_Strict):
    scheme: Literal["plus", "catchall"] = "plus"
    local: str = "survey"
    domain: str = "replies.example.com"

    def address_for(self, token: str) -> str:
        if self.scheme == "plus":
            return f"{self.local}+{token}@{self.domain}"
        return f"{token}@{self.domain}"

    def fallback_for(self, token: str) -> str:
        """For forms that reject '+': the catch-all form on the same domain."""
        return f"{token}@{self.domain}"


class MessageTemplate(_Strict):
    subject: str = DEFAULT_SUBJECT
    body: str = DEFAULT_BODY

    @field_validator("body")
    @classmethod
    def _must_carry_ref(cls, v: str) -> str:
        if not re.search(r"\{\{-?\s*ref\b", v):
            raise ValueError("the template must carry the reference code: add {{ ref }}")
        return v


class Mailbox(_Strict):
    host: str = "127.0.0.1"
    port: int | None = None
    tls: Literal["ssl", "starttls", "plain"] = "ssl"
    user: str = "survey"
    folders: list[str] = Field(default_factory=lambda: ["INBOX"])
    junk: bool = True  # also watch the SPECIAL-USE \Junk folder when the server has one
    ca_file: str | None = None
    password_env: str = DEFAULT_PASSWORD_ENV
    keyring_service: str | None = None
    oauth2_token_env: str | None = None
    oauth2_token_command: str | None = None
    timeout_s: float = DEFAULT_IMAP_TIMEOUT_S
    idle_round_s: float = DEFAULT_IDLE_ROUND_S

    @field_validator("idle_round_s")
    @classmethod
    def _idle_under_29min(cls, v: float) -> float:
        if not 1 <= v < 29 * 60:
            raise ValueError("IDLE rounds must be between 1 s and 29 min (RFC 2177)")
        return v

    @model_validator(mode="after")
    def _plain_only_on_loopback(self) -> Mailbox:
        if self.tls == "plain" and self.host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("tls: plain is allowed on loopback only; use ssl or starttls")
        return self

    @property
    def resolved_port(self) -> int:
        if self.port:
            return self.port
        return 993 if self.tls == "ssl" else 143


_LOOPBACK = ("127.0.0.1", "localhost", "::1")


class Smtp(_Strict):
    """The submission server the e-mail channel sends through (``smtp:`` in survey.yaml).

    The password comes from ``password_env`` or the keyring, exactly like the IMAP one.
    """

    host: str
    port: int | None = None
    user: str
    tls: Literal["starttls", "ssl", "plain"] = "starttls"
    ca_file: str | None = None
    password_env: str = DEFAULT_SMTP_PASSWORD_ENV
    keyring_service: str | None = None
    timeout_s: Annotated[float, Field(gt=0)] = DEFAULT_SMTP_TIMEOUT_S

    @model_validator(mode="after")
    def _plain_only_on_loopback(self) -> Smtp:
        if self.tls == "plain" and self.host not in _LOOPBACK:
            raise ValueError("tls: plain is allowed on loopback only; use starttls or ssl")
        return self

    @property
    def resolved_port(self) -> int:
        if self.port:
            return self.port
        return 465 if self.tls == "ssl" else 587


class Calendar(_Strict):
    timezone: str = DEFAULT_TIMEZONE
    country: str | None = DEFAULT_COUNTRY
    hours: dict[str, str | None] = Field(default_factory=lambda: dict(DEFAULT_HOURS))
    holidays: list[str] = Field(default_factory=list)  # extra closed dates, YYYY-MM-DD

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(v)
        except Exception as exc:  # ZoneInfoNotFoundError, ValueError
            raise ValueError(f"unknown time zone {v!r}") from exc
        return v

    @field_validator("hours")
    @classmethod
    def _valid_hours(cls, v: dict[str, str | None]) -> dict[str, str | None]:
        out = dict(DEFAULT_HOURS)
        for day, span in v.items():
            key = day.strip().lower()[:3]
            if key not in WEEKDAYS:
                raise ValueError(f"unknown weekday {day!r} (use sun, mon, ... sat)")
            if span is not None:
                opening_span(span)
            out[key] = span
        return out


def opening_span(span: str) -> tuple[time, time]:
    """'08:00-13:00' -> (time(8), time(13))."""
    m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", span)
    if not m:
        raise ValueError(f"opening hours must look like 08:00-20:00, not {span!r}")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h2 == 24 and m2 == 0:
        h2, m2 = 23, 59
    start, end = time(h1, m1), time(h2, m2)
    if end <= start:
        raise ValueError(f"opening hours end before they start: {span!r}")
    return start, end


BROWSER_ENDPOINT_SCHEMES = ("ws", "wss", "http", "https")


def check_browser_endpoint(value: str | None) -> str | None:
    """A browser server's URL, checked (ws://host:port/path); ValueError naming the fault."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError as exc:
        raise ValueError(f"not a browser server URL ({exc})") from None
    if parts.scheme.lower() not in BROWSER_ENDPOINT_SCHEMES or not parts.hostname:
        raise ValueError(
            "a browser server URL looks like ws://host:port/path (ws, wss, http or https)"
        )
    return value


class BrowserSettings(_Strict):
    executable: str | None = None
    # A Playwright browser server (`playwright run-server` / `launch-server`) to connect to
    # instead of launching a local browser; `executable` is then unused.
    endpoint: str | None = None
    headless: bool = True
    concurrency: Annotated[int, Field(ge=1, le=32)] = DEFAULT_CONCURRENCY
    timeout_s: Annotated[float, Field(gt=0)] = DEFAULT_PAGE_TIMEOUT_S
    min_fill_seconds: Annotated[float, Field(ge=0)] = DEFAULT_MIN_FILL_SECONDS
    typing_delay_ms: tuple[int, int] = DEFAULT_TYPING_DELAY_MS
    site_delay_s: Annotated[float, Field(ge=0)] = DEFAULT_SITE_DELAY_S
    proxy: str | None = None
    ignore_https_errors: bool = False
    user_agent: str | None = None
    locale: str = "he-IL"
    block_resources: bool = True  # media, fonts, analytics: not needed to fill a form

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, v: str | None) -> str | None:
        return check_browser_endpoint(v)


class Tier(_Strict):
    name: str
    max: str  # a duration, e.g. 15m

    @field_validator("max")
    @classmethod
    def _duration(cls, v: str) -> str:
        parse_duration(v)
        return v

    @property
    def seconds(self) -> float:
        return parse_duration(self.max)


class SurveySection(_Strict):
    name: str = "Customer-service response survey"
    wave: str = "wave-1"
    close_at: datetime | None = None  # absolute close of the wave (aware)
    close_after: str = "14d"  # or relative to the wave's first submission

    @field_validator("close_at")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.tzinfo is None:
            raise ValueError("close_at needs a time zone, e.g. 2026-12-09T18:00:00+02:00")
        return v

    @field_validator("close_after")
    @classmethod
    def _duration(cls, v: str) -> str:
        parse_duration(v)
        return v


_EVERY_ALIASES = {"week": "weekly", "month": "monthly", "quarter": "quarterly"}


class Schedule(_Strict):
    """Waves on a cadence (`audit schedule`): the consultant's machine runs them (cron or a
    systemd timer); each scheduled run joins the wave of its period, named by the period."""

    every: Literal["weekly", "monthly", "quarterly"] = "monthly"
    weekday: str = "sun"  # the first such weekday of the period (of the week, when weekly)
    at: str = "10:00"  # local time in the survey calendar's time zone
    watch_every_min: Annotated[int, Field(ge=1, le=59)] = 10

    @field_validator("every", mode="before")
    @classmethod
    def _every(cls, v: object) -> object:
        if isinstance(v, str):  # "month", "Weekly", "quarter" as well as the literals
            word = v.strip().lower()
            return _EVERY_ALIASES.get(word, word)
        return v

    @field_validator("weekday")
    @classmethod
    def _day(cls, v: str) -> str:
        day = v.strip().lower()[:3]
        if day not in WEEKDAYS:
            raise ValueError(f"unknown weekday {v!r} (use sun, mon, ... sat)")
        return day

    @field_validator("at")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        m = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", v.strip())
        if not m:
            raise ValueError(f"'at' must be a time like 10:00, not {v!r}")
        return f"{int(m.group(1)):02d}:{m.group(2)}"


class SurveyConfig(_Strict):
    survey: SurveySection = Field(default_factory=SurveySection)
    persona: Persona = Field(default_factory=Persona)
    reply_address: ReplyAddress = Field(default_factory=ReplyAddress)
    message: MessageTemplate = Field(default_factory=MessageTemplate)
    mailbox: Mailbox = Field(default_factory=Mailbox)
    calendar: Calendar = Field(default_factory=Calendar)
    browser: BrowserSettings = Field(default_factory=lambda: BrowserSettings())
    tiers: list[Tier] = Field(
        default_factory=lambda: [Tier(name=n, max=m) for n, m in DEFAULT_TIERS]
    )
    store: str | None = None  # SQLAlchemy URL; default sqlite:///<workspace>/survey.db
    schedule: Schedule | None = None  # waves on a cadence (`audit schedule`); off by default
    # A company whose form cannot be submitted (failed or blocked before any click) is
    # surveyed by e-mail instead when it publishes an address. Off by default.
    fallback: Literal["email"] | None = None
    smtp: Smtp | None = None  # the e-mail channel's submission server


# ---------------------------------------------------------------------------------------
# companies.yaml
# ---------------------------------------------------------------------------------------
# The roles a field can have. The ground owns them (probes.roles.ROLES is this tuple):
# companies.yaml's overrides are checked here, before a browser.
FIELD_ROLES: tuple[str, ...] = (
    "full_name",
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "subject",
    "message",
    "topic",
    "consent",
    "marketing_opt_in",
    "honeypot",
    "captcha",
    "submit",
    "other",
)
# Keys of overrides.values that name a role, not a selector: the fillable roles and the
# persona's local details (as probes.runner reads them).
VALUE_ROLES: tuple[str, ...] = FIELD_ROLES[: FIELD_ROLES.index("marketing_opt_in") + 1] + (
    "national_id",
    "city",
    "is_customer",
    "phone_prefix",
    "phone_number",
)


class Overrides(_Strict):
    """For the few sites that beat the heuristics."""

    fields: dict[str, str] = Field(default_factory=dict)  # CSS selector -> role
    values: dict[str, str] = Field(default_factory=dict)  # role or selector -> value
    form: str | None = None  # CSS selector of the form to use
    submit: str | None = None  # CSS selector of the submit control
    success_text: str | None = None
    accepts_plus: bool | None = None


# A published address: local@domain with a dot in the domain; no display name, no spaces.
_EMAIL_RE = re.compile(
    r"[^@\s<>()\[\],;:\"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+"
)


class Company(_Strict):
    name: str
    id: str | None = None  # stable slug; derived from the name when absent
    sector: str = "other"
    homepage: str | None = None
    contact_url: str | None = None
    # How the company is surveyed: its web form (default), its published e-mail address,
    # or both (one submission per channel per wave).
    channel: Literal["form", "email", "both"] = "form"
    email: str | None = None  # the company's published address (channel email, fallback)
    reply_domains: list[str] = Field(default_factory=list)
    promise: str | None = None
    skip: bool = False
    note: str | None = None
    hours: dict[str, str | None] | None = None
    overrides: Overrides = Field(default_factory=Overrides)

    @field_validator("name")
    @classmethod
    def _named(cls, v: str) -> str:
        if not v:
            raise ValueError("must not be empty")
        if not re.sub(r"[\W_]+", "", v):
            shown = v if len(v) <= 40 else v[:40] + "..."
            raise ValueError(f"must contain a letter or a digit, not {shown!r}")
        return v

    @field_validator("homepage", "contact_url")
    @classmethod
    def _http_url(cls, v: str | None) -> str | None:
        if v is None:
            return v
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"must be an http(s) URL with a host, not {v!r}")
        return v

    @field_validator("email")
    @classmethod
    def _address(cls, v: str | None) -> str | None:
        if v is not None and not _EMAIL_RE.fullmatch(v):
            raise ValueError(f"must be a plain e-mail address like support@company.com, not {v!r}")
        return v

    @model_validator(mode="after")
    def _needs_a_url(self) -> Company:
        if self.channel in ("email", "both") and not self.email:
            raise ValueError(
                f"channel: {self.channel} needs the company's published address: add email"
            )
        if self.channel != "email" and not self.homepage and not self.contact_url:
            raise ValueError("give a homepage or a contact_url (or channel: email with an email)")
        if self.id is None:
            self.id = slugify(self.name)
        elif not re.fullmatch(r"[\w][\w.-]{0,99}", self.id) or ".." in self.id:
            raise ValueError(
                f"id must be letters, digits, '.', '-' or '_' (it names files), not {self.id!r}"
            )
        elif len(self.id.encode("utf-8")) > MAX_SLUG_BYTES:
            raise ValueError(f"id is too long for a file name (at most {MAX_SLUG_BYTES} bytes)")
        if self.hours is not None:
            Calendar(hours=self.hours)
        return self

    @property
    def slug(self) -> str:
        assert self.id is not None
        return self.id

    @property
    def start_url(self) -> str:
        url = self.contact_url or self.homepage
        assert url is not None
        return url

    @property
    def has_form(self) -> bool:
        return self.channel != "email"

    @property
    def email_domain(self) -> str | None:
        return self.email.rsplit("@", 1)[1].lower() if self.email else None

    @property
    def domains(self) -> list[str]:
        """Every domain a reply from this company may come from."""
        out: list[str] = []
        sites = [site_of(self.homepage), site_of(self.contact_url), self.email_domain]
        for d in [*sites, *self.reply_domains]:
            if d and d.lower() not in out:
                out.append(d.lower())
        return out


class CompanyList(_Strict):
    companies: list[Company]


# ---------------------------------------------------------------------------------------
# Plain types that stages exchange
# ---------------------------------------------------------------------------------------
class SubmissionState(StrEnum):
    PLANNED = "planned"
    RUNNING = "running"
    SUBMITTED = "submitted"
    FAILED = "failed"
    BLOCKED = "blocked"
    UNCERTAIN = "uncertain"


FINAL_STATES = {
    SubmissionState.SUBMITTED,
    SubmissionState.FAILED,
    SubmissionState.BLOCKED,
    SubmissionState.UNCERTAIN,
}


class Outcome(StrEnum):
    """What a probe found. Maps onto a submission state (audit.lifecycle.state_after)."""

    SUBMITTED = "submitted"
    FILLED = "filled"  # dry run: filled and screenshotted, not sent
    VALIDATION_ERROR = "validation_error"
    SPAM_BLOCKED = "spam_blocked"
    CAPTCHA = "captcha"
    LOGIN_WALL = "login_wall"
    NO_FORM = "no_form"
    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    FAILED = "failed"  # e.g. "upload required", "national_id required"
    ERROR = "error"
    UNCERTAIN = "uncertain"  # clicked, then lost sight of what happened
    REJECTED = "rejected"  # e-mail: the SMTP server refused the message (5xx)


@dataclass
class Evidence:
    kind: str  # screenshot_before, screenshot_after, page_html, request, values
    path: str  # relative to the workspace


@dataclass
class ProbeRequest:
    """Everything a probe needs to handle one company; side effects come in as arguments."""

    company: Company
    token: str
    reply_address: str
    fallback_address: str
    subject: str
    message: str
    persona: Persona
    submit: bool
    evidence_dir: str  # absolute folder for this submission's files
    workspace: str  # evidence paths are stored relative to this
    # Called (synchronously) right before the submit control is activated; the pipeline
    # writes "submit clicked" to the store there, so a crash after it is never re-sent.
    before_submit: Callable[[], None] = lambda: None
    now: Callable[[], datetime] | None = None


@dataclass
class FieldReport:
    name: str | None
    role: str
    value_sent: str | None = None
    selector: str | None = None


@dataclass
class ProbeResult:
    outcome: Outcome
    reason: str = ""
    signal: str | None = None  # which verification signal decided "submitted"
    url: str | None = None  # the page the form was on
    submitted_at: datetime | None = None  # the instant the submit control was activated
    fields: list[FieldReport] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    request: dict[str, Any] | None = None  # submit request: url, method, status, ms
    timings: dict[str, float] = field(default_factory=dict)
    clicked: bool = False
    # Nothing was sent and the refusal was temporary (SMTP 4xx, server unreachable): the
    # submission is planned again and the next run tries it.
    retry_later: bool = False
    # The browser went away during the probe (a browser server died, Chromium crashed):
    # the outcome is no evidence either way; the lifecycle rule ends the submission.
    browser_lost: str | None = None


class SubmissionChannel(StrEnum):
    """How an inquiry was sent: a submission is company x wave x channel."""

    FORM = "form"
    EMAIL = "email"


CHANNEL_LABELS = {SubmissionChannel.FORM.value: "web form", SubmissionChannel.EMAIL.value: "e-mail"}


class MessageKind(StrEnum):
    HUMAN = "human"
    AUTO_ACK = "auto_ack"
    BOUNCE = "bounce"
    MARKETING = "marketing"
    UNRELATED = "unrelated"


class MatchMethod(StrEnum):
    ADDRESS_TAG = "address_tag"
    TOKEN = "token"
    THREAD = "thread"
    SENDER_DOMAIN = "sender_domain"
    MANUAL = "manual"


class ReviewState(StrEnum):
    """A message's place in `audit review`: the watcher leaves None (decided by the
    evidence) or PENDING; the consultant's decision leaves one of the others."""

    PENDING = "pending"
    ASSIGNED = "assigned"  # matched by hand to a company's submission
    RECLASSIFIED = "reclassified"  # class confirmed or corrected by hand
    DISMISSED = "dismissed"  # no company's reply; out of every figure


DECIDED_BY_HAND = (ReviewState.ASSIGNED, ReviewState.RECLASSIFIED, ReviewState.DISMISSED)


class Channel(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    SMS = "sms"
