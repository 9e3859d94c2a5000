# mypy: disable-error-code="index"
"""The survey store: SQLAlchemy 2 Core over any URL (SQLite file by default).

Every state change is written before the next step, so a crash loses nothing and a
re-run never repeats a submission. Times are timezone-aware UTC. The schema version is
recorded in the ``meta`` table; a store from a newer version is refused.

Schema version history (a schema change names its migration here):
  1: first version.
  2: migration ``2_message_dkim``: messages.dkim (pass | fail | none | temperror),
     messages.dkim_domain (the signing domain d=) and messages.dkim_evidence (JSON: every
     signature's result, the alignment with the From domain, the DNS answers used).
     Messages recorded before it keep NULL there: never verified.
  3: migration ``3_wave_facts``: the table wave_facts (the company facts each wave ran
     with, frozen at the submit click). A new table, created when the store opens; waves
     recorded before it have no facts and their reports use today's companies.yaml.
  4: migration ``4_submission_claims``: submissions.claimed_by (the worker holding the
     claim: host:pid:random), submissions.claimed_at, submissions.heartbeat_at (the
     worker's last sign of life) and submissions.site_key (host[:port]: one site at a
     time across workers), with a unique index on (wave_id, site_key) over the rows
     that are running and an index on (wave_id, state, id) for claiming in order. Rows recorded
     before it have no claimer: a running one is left behind by a crash (see recover).
  5: migration ``5_channels``: a submission is company x wave x channel.
     submissions.channel (form | email; existing rows: form), submissions.sent_message_id
     (the e-mail channel's Message-ID, stored before sending: replies are matched by
     thread to it) and submissions.channel_note (why the channel, e.g. the fallback);
     the unique constraint one_submission_per_wave (company, wave) becomes
     one_submission_per_channel (company, wave, channel). SQLite rebuilds the table
     (schema 4's columns copied; the indexes made again after the migrations).

A store is migrated when it is opened: each migration from its version up to
SCHEMA_VERSION runs in one transaction with the version bump, and is recorded in ``meta``
as ``migration:<n>`` = its name.
"""

from __future__ import annotations

import functools
import json
import logging
import operator
import re
import threading
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from audit import lifecycle
from audit.errors import StoreError
from audit.lifecycle import Change, Submission
from audit.models import MAX_SLUG_BYTES, Channel, Company, SubmissionChannel, SubmissionState

log = logging.getLogger(__name__)

SCHEMA_VERSION = 5
_T = TypeVar("_T")


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use timezone-aware UTC")
        if value.tzinfo is not UTC:
            value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Text(sa.types.TypeDecorator[str]):
    """TEXT that takes any Python string on PostgreSQL too.

    Headers, pages and files from outside may carry U+0000, which PostgreSQL text cannot
    hold (psycopg refuses the whole statement, so one odd subject line would fail a whole
    batch of synced messages): there it is stored as U+FFFD, what HTML parsers make of it.
    SQLite keeps the string as given.
    """

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        if value is not None and dialect.name == "postgresql" and "\x00" in value:
            return value.replace("\x00", "\ufffd")
        return value

    def bind_processor(self, dialect: Any) -> Callable[[Any], Any] | None:
        """Nothing to do on SQLite: no call per value (a sync stores 100,000 rows)."""
        return super().bind_processor(dialect) if dialect.name == "postgresql" else None


metadata = sa.MetaData()

meta = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", Text, nullable=False),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),  # run, watch, report, demo, ...
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime),
    sa.Column("tool_version", sa.String(32), nullable=False),
    sa.Column("browser_version", sa.String(64)),
    sa.Column("config_json", Text),  # resolved config, secrets never included
    sa.Column("clock_offset_s", sa.Float, nullable=False, default=0.0),  # simulated clocks
    sa.Column("server_clock_offset_s", sa.Float),  # IMAP server clock minus ours
    sa.Column("summary_json", Text),
)

companies = sa.Table(
    "companies",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("slug", sa.String(MAX_SLUG_BYTES), nullable=False, unique=True),  # chars <= bytes
    sa.Column("name", Text, nullable=False),
    sa.Column("sector", Text),
    sa.Column("homepage", Text),
    sa.Column("contact_url", Text),
    sa.Column("domains_json", Text, nullable=False, default="[]"),
    sa.Column("config_json", Text),
)

waves = sa.Table(
    "waves",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", Text, nullable=False, unique=True),  # the consultant's free text
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("opened_at", UTCDateTime),  # first submission
    sa.Column("close_at", UTCDateTime),
)

submissions = sa.Table(
    "submissions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("company_id", sa.ForeignKey("companies.id"), nullable=False),
    sa.Column("wave_id", sa.ForeignKey("waves.id"), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("outcome", sa.String(32)),
    sa.Column("reason", Text),
    sa.Column("signal", Text),
    sa.Column("token", sa.String(16), nullable=False, unique=True),
    sa.Column("reply_address", Text, nullable=False),
    sa.Column("page_url", Text),
    sa.Column("values_json", Text),
    sa.Column("request_json", Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("started_at", UTCDateTime),
    sa.Column("clicked_at", UTCDateTime),  # written BEFORE the click: never re-send after
    sa.Column("submitted_at", UTCDateTime),  # the instant the reply clock starts
    sa.Column("finished_at", UTCDateTime),
    sa.Column("run_id", sa.ForeignKey("runs.id")),
    # schema 4 (migration 4_submission_claims): who holds a running submission, and since
    # when it last showed it is alive; the site, so that workers take one site at a time.
    sa.Column("claimed_by", sa.String(128)),
    sa.Column("claimed_at", UTCDateTime),
    sa.Column("heartbeat_at", UTCDateTime),
    sa.Column("site_key", sa.String(300)),
    # schema 5 (migration 5_channels): company x wave x channel
    sa.Column("channel", sa.String(8), nullable=False, server_default="form"),
    sa.Column("sent_message_id", Text),  # e-mail: our Message-ID, written before sending
    sa.Column("channel_note", Text),  # why this channel (e.g. "form blocked: captcha -> ...")
    sa.UniqueConstraint("company_id", "wave_id", "channel", name="one_submission_per_channel"),
)
sa.Index("ix_submissions_wave_state", submissions.c.wave_id, submissions.c.state, submissions.c.id)
# One running submission per site and wave, whoever claimed it: the database, not a
# process's lock, keeps workers on many hosts polite to one site.
sa.Index(
    "ux_submissions_running_site",
    submissions.c.wave_id,
    submissions.c.site_key,
    unique=True,
    sqlite_where=submissions.c.state == "running",
    postgresql_where=submissions.c.state == "running",
)

attempts = sa.Table(  # every probe outcome is a row, dry runs included
    "attempts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("run_id", sa.ForeignKey("runs.id")),
    sa.Column("submission_id", sa.ForeignKey("submissions.id")),
    sa.Column("company_id", sa.ForeignKey("companies.id"), nullable=False),
    sa.Column("wave_id", sa.ForeignKey("waves.id"), nullable=False),
    sa.Column("dry_run", sa.Boolean, nullable=False),
    sa.Column("outcome", sa.String(32), nullable=False),
    sa.Column("reason", Text),
    sa.Column("signal", Text),
    sa.Column("url", Text),
    sa.Column("fields_json", Text),
    sa.Column("timings_json", Text),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime),
)

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("folder", Text, nullable=False),
    sa.Column("uidvalidity", sa.BigInteger, nullable=False),
    sa.Column("uid", sa.BigInteger, nullable=False),
    sa.Column("message_id", Text),
    sa.Column("fingerprint", sa.String(64), nullable=False, unique=True),  # dedupe key
    sa.Column("internaldate", UTCDateTime, nullable=False),  # the time that counts
    sa.Column("date_header", UTCDateTime),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.Column("sender", Text),
    sa.Column("recipients", Text),
    sa.Column("subject", Text),
    sa.Column("text", Text),
    sa.Column("size", sa.Integer),
    sa.Column("kind", sa.String(16)),  # MessageKind
    sa.Column("kind_reasons", Text),
    sa.Column("helpdesk", sa.String(32)),
    sa.Column("submission_id", sa.ForeignKey("submissions.id")),
    sa.Column("match_method", sa.String(16)),  # MatchMethod
    sa.Column("review", sa.String(16)),  # None | pending | dismissed | assigned
    sa.Column("parse_error", Text),
    sa.Column("eml_path", Text),
    sa.Column("eml_sha256", sa.String(64)),
    sa.Column("in_reply_to", Text),
    sa.Column("references", Text),
    # schema 2 (migration 2_message_dkim): proof of origin, verified when synced
    sa.Column("dkim", sa.String(16)),  # pass | fail | none | temperror; NULL: not verified
    sa.Column("dkim_domain", Text),  # d= of the signature the verdict is about
    sa.Column("dkim_evidence", Text),  # JSON, DNS answers included (keys rotate)
)
# Thread matching looks messages up by Message-ID, the review queue by its state.
sa.Index("ix_messages_message_id", messages.c.message_id)
sa.Index("ix_messages_review", messages.c.review)

contact_events = sa.Table(
    "contact_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("submission_id", sa.ForeignKey("submissions.id"), nullable=False),
    sa.Column("channel", sa.String(8), nullable=False),  # Channel
    sa.Column("kind", sa.String(16), nullable=False),  # MessageKind (human, auto_ack, bounce)
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("message_id", sa.ForeignKey("messages.id"), unique=True),
    sa.Column("source", sa.String(16), nullable=False),  # imap | manual
    sa.Column("note", Text),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
)

evidence = sa.Table(
    "evidence",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("submission_id", sa.ForeignKey("submissions.id")),
    sa.Column("attempt_id", sa.ForeignKey("attempts.id")),
    sa.Column("message_id", sa.ForeignKey("messages.id")),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("path", Text, nullable=False),  # relative to the workspace
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

checkpoints = sa.Table(
    "checkpoints",
    metadata,
    sa.Column("folder", Text, primary_key=True),
    sa.Column("uidvalidity", sa.BigInteger, nullable=False),
    sa.Column("last_uid", sa.BigInteger, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

grades = sa.Table(
    "grades",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("submission_id", sa.ForeignKey("submissions.id"), nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("rubric_json", Text),
    sa.Column("note", Text),
    sa.Column("at", UTCDateTime, nullable=False),
)

# What a wave was run with, per company (name, sector, hours, promise, domains, the survey
# calendar): written when the company is planned and refreshed until its form is clicked,
# then frozen, so that editing or removing a company later never rewrites the wave's
# history (reports read these, not today's YAML). A new table: stores made before it get it
# when they open (create_all), with no facts for their old waves.
wave_facts = sa.Table(
    "wave_facts",
    metadata,
    sa.Column("wave_id", sa.ForeignKey("waves.id"), primary_key=True),
    sa.Column("company_id", sa.ForeignKey("companies.id"), primary_key=True),
    sa.Column("facts_json", Text, nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
)


def _add_columns(table: sa.Table, names: Sequence[str]) -> Callable[[Connection], None]:
    """A migration that adds columns of ``table`` (as declared above) a store lacks."""

    def run(c: Connection) -> None:
        have = {col["name"] for col in sa.inspect(c).get_columns(table.name)}
        for name in names:
            if name in have:
                continue
            col = table.c[name]
            kind = col.type.compile(dialect=c.dialect)
            c.exec_driver_sql(f'ALTER TABLE {table.name} ADD COLUMN "{name}" {kind}')

    return run


_CHANNEL_COLUMNS = ("channel", "sent_message_id", "channel_note")


def _migrate_channels(c: Connection) -> None:
    """5_channels: the channel columns, and one submission per company x wave x channel."""
    if c.dialect.name != "sqlite":
        _add_columns(submissions, ("sent_message_id", "channel_note"))(c)
        have = {col["name"] for col in sa.inspect(c).get_columns("submissions")}
        if "channel" not in have:
            c.exec_driver_sql(
                "ALTER TABLE submissions ADD COLUMN channel VARCHAR(8) NOT NULL DEFAULT 'form'"
            )
        unique = {u["name"] for u in sa.inspect(c).get_unique_constraints("submissions")}
        if "one_submission_per_wave" in unique:
            c.exec_driver_sql("ALTER TABLE submissions DROP CONSTRAINT one_submission_per_wave")
        if "one_submission_per_channel" not in unique:
            c.exec_driver_sql(
                "ALTER TABLE submissions ADD CONSTRAINT one_submission_per_channel "
                "UNIQUE (company_id, wave_id, channel)"
            )
        return
    # SQLite cannot drop a constraint: rebuild the table (SQLite's documented way: a new
    # table, copy, drop, rename), with the foreign keys off (Store._migrate_once turns them
    # off for migrations and checks them before the commit). Columns of migrations before
    # this one are copied as they are.
    columns = [col["name"] for col in sa.inspect(c).get_columns("submissions")]
    ddl = str(sa.schema.CreateTable(submissions).compile(dialect=c.dialect))
    c.exec_driver_sql("DROP TABLE IF EXISTS submissions_new")  # left by a crash in here
    c.exec_driver_sql(ddl.replace("CREATE TABLE submissions ", "CREATE TABLE submissions_new ", 1))
    common = [n for n in columns if n in submissions.c and n not in _CHANNEL_COLUMNS]
    cols = ", ".join(f'"{n}"' for n in common)
    c.exec_driver_sql(f"INSERT INTO submissions_new ({cols}) SELECT {cols} FROM submissions")
    c.exec_driver_sql("DROP TABLE submissions")
    c.exec_driver_sql("ALTER TABLE submissions_new RENAME TO submissions")


# version -> (name, step): what takes a store from version - 1 to version.
MIGRATIONS: dict[int, tuple[str, Callable[[Connection], None]]] = {
    2: ("2_message_dkim", _add_columns(messages, ("dkim", "dkim_domain", "dkim_evidence"))),
    3: ("3_wave_facts", lambda c: wave_facts.create(c, checkfirst=True)),
    # the indexes on the new columns are created after the migrations (_migrate_once)
    4: (
        "4_submission_claims",
        _add_columns(submissions, ("claimed_by", "claimed_at", "heartbeat_at", "site_key")),
    ),
    5: ("5_channels", _migrate_channels),
}


def utcnow() -> datetime:
    return datetime.now(UTC)


_BUSY_TIMEOUT_S = 30.0
# How long a store operation waits out a database server that went away (restarted,
# failed over) before the command stops with one line; see _riding_out_restarts.
STORE_OUTAGE_S = 60.0
_outage = threading.local()
# PostgreSQL advisory lock key held while a store's schema is created or migrated.
_MIGRATION_LOCK = 0x636F6E74_61637421  # "contact!"


def _once_more_if_raced(op: Callable[[], _T]) -> _T:
    """Run ``op`` (a read-then-insert in its own transaction) once more when another
    process inserted the same unique row between its read and its insert: the second
    run reads that row. Neither SQLite (its read takes no lock before the insert) nor
    PostgreSQL (read committed) stops two such transactions from both reading nothing.
    """
    try:
        return op()
    except sa.exc.IntegrityError:
        return op()


def _riding_out_restarts(method: Callable[..., Any]) -> Callable[..., Any]:
    """A store operation that a database server's restart does not break (PostgreSQL).

    When the server goes away (a restart closes every connection; it refuses new ones
    until it is up) the operation fails before its transaction commits, so it is run
    again, from the start, every 0.25-2 s for up to STORE_OUTAGE_S; past that, a
    StoreError with one line. The pool reconnects on its own once the server is back.
    Only the outermost call retries (a method calling another retries once as a whole).
    SQLite's own busy timeout already covers its lock waits.
    """

    @functools.wraps(method)
    def run(self: Store, *args: Any, **kwargs: Any) -> Any:
        if self.engine.dialect.name == "sqlite" or getattr(_outage, "inside", False):
            return method(self, *args, **kwargs)
        _outage.inside = True
        try:
            deadline, pause = None, 0.25
            while True:
                try:
                    return method(self, *args, **kwargs)
                except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
                    now = time.monotonic()
                    problem = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
                    if deadline is None:
                        deadline = now + STORE_OUTAGE_S
                        log.warning("store: the database went away (%s); waiting for it", problem)
                    if now >= deadline:
                        raise StoreError(
                            f"the store {_redact_url(str(self.engine.url))} has been "
                            f"unreachable for {STORE_OUTAGE_S:.0f} s: {problem}"
                        ) from None
                    time.sleep(pause)
                    pause = min(pause * 2, 2.0)
        finally:
            _outage.inside = False

    return run


def _use_wal(cur: Any) -> None:
    """Switch the file to WAL (readers never wait for the writer) unless it already is.

    The mode is stored in the file, so only the first connection ever needs to change it.
    Asking again on every connection takes a lock each time, and under load that was a
    source of "database is locked" while another process wrote (seen in the demo in CI).
    """
    mode = cur.execute("PRAGMA journal_mode").fetchone()[0]
    if str(mode).lower() in ("wal", "memory"):
        return
    try:
        cur.execute("PRAGMA journal_mode=WAL")
    except Exception as exc:  # sqlite3.OperationalError; another connection will set it
        log.debug("store: journal_mode=WAL not set now (%s); keeping %s", exc, mode)


class Store:
    """Thin, explicit access to the survey store. Open with Store.open(url)."""

    def __init__(self, engine: Engine):
        self.engine = engine

    # -- lifecycle -------------------------------------------------------------------
    @classmethod
    def open(cls, url: str) -> Store:
        _hide_url_password(url)
        try:
            is_sqlite = url.startswith("sqlite")
            # The busy timeout is set at connect time, so it already covers the pragmas below.
            try:
                engine = sa.create_engine(
                    url,
                    future=True,
                    connect_args={"timeout": _BUSY_TIMEOUT_S} if is_sqlite else {},
                )
            except ImportError as exc:  # the URL's DB-API driver is not installed
                raise StoreError(_missing_driver(url, exc)) from None
            if engine.dialect.name == "sqlite":

                @sa.event.listens_for(engine, "connect")
                def _pragmas(dbapi_conn: Any, _rec: Any) -> None:
                    cur = dbapi_conn.cursor()
                    cur.execute(f"PRAGMA busy_timeout={int(_BUSY_TIMEOUT_S * 1000)}")
                    _use_wal(cur)
                    cur.execute("PRAGMA synchronous=NORMAL")
                    cur.execute("PRAGMA foreign_keys=ON")
                    cur.close()

            store = cls(engine)
            try:
                store._migrate()
            except BaseException:
                engine.dispose()  # a store that cannot be opened keeps no connection open
                raise
            return store
        except StoreError:
            raise
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(
                f"cannot open the store {_redact_url(url)}: {getattr(exc, 'orig', None) or exc}"
            ) from None

    def _migrate(self) -> None:
        for attempt in range(5):
            try:
                return self._migrate_once()
            except (sa.exc.OperationalError, sa.exc.IntegrityError) as exc:
                # Two processes creating the schema at the same moment, or a writer holding
                # the file past the busy timeout: retry a few times before giving up.
                racing = any(
                    m in str(exc)
                    for m in (
                        "already exists",
                        "UNIQUE constraint",
                        "is locked",
                        "duplicate column",
                    )
                )
                if not racing or attempt == 4:
                    raise
                time.sleep(0.1 * 2**attempt)

    def _migrate_once(self) -> None:
        with self.engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:
                # A table rebuild (5_channels) needs the foreign keys off, and SQLite only
                # turns them off outside a transaction; they are checked before the commit.
                conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
                conn.commit()
            try:
                with conn.begin():
                    migrated = self._migrate_tx(conn)
                    if (
                        migrated
                        and sqlite
                        and conn.exec_driver_sql("PRAGMA foreign_key_check").first()
                    ):
                        raise StoreError("store migration left broken references; not committed")
            finally:
                if sqlite:
                    conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                    conn.commit()

    def _migrate_tx(self, c: Connection) -> bool:
        """Create or migrate the schema in ``c``'s transaction; True when a step ran."""
        if c.dialect.name == "postgresql":
            # Workers opening one store at once take turns: without it, two CREATE TABLEs
            # of the same name collide in the catalog and one open fails.
            c.execute(sa.select(sa.func.pg_advisory_xact_lock(_MIGRATION_LOCK)))
        metadata.create_all(c)
        row = c.execute(sa.select(meta.c.value).where(meta.c.key == "schema_version")).first()
        if row is None:  # a new store: created_all at this version
            c.execute(meta.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
            return False
        version = int(row.value)
        self._migrate_steps(c, version)
        for table in metadata.sorted_tables:  # indexes added after a store was created
            for index in table.indexes:  # (after the migrations: on their new columns)
                index.create(c, checkfirst=True)
        return version < SCHEMA_VERSION

    def _migrate_steps(self, c: Connection, version: int) -> None:
        """Run the migrations from ``version`` up to SCHEMA_VERSION (in the caller's tx)."""
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"the store has schema version {version}, this contact-audit knows "
                f"up to {SCHEMA_VERSION}: upgrade contact-audit"
            )
        for target in range(version + 1, SCHEMA_VERSION + 1):
            name, step = MIGRATIONS[target]
            log.info("store: migrating schema %d -> %d (%s)", target - 1, target, name)
            step(c)
            c.execute(meta.insert().values(key=f"migration:{target}", value=name))
        if version < SCHEMA_VERSION:
            c.execute(
                meta.update()
                .where(meta.c.key == "schema_version")
                .values(value=str(SCHEMA_VERSION))
            )

    @property
    def schema_version(self) -> int:
        with self.engine.connect() as c:
            return int(
                c.execute(
                    sa.select(meta.c.value).where(meta.c.key == "schema_version")
                ).scalar_one()
            )

    @contextmanager
    def tx(self) -> Iterator[Connection]:
        with self.engine.begin() as c:
            yield c

    def close(self) -> None:
        self.engine.dispose()

    # -- runs ------------------------------------------------------------------------
    def begin_run(
        self,
        kind: str,
        tool_version: str,
        config: dict[str, Any] | None = None,
        browser_version: str | None = None,
        clock_offset_s: float = 0.0,
        now: datetime | None = None,
    ) -> int:
        with self.tx() as c:
            return int(
                c.execute(
                    runs.insert().values(
                        kind=kind,
                        started_at=now or utcnow(),
                        tool_version=tool_version,
                        browser_version=browser_version,
                        config_json=(
                            json.dumps(redact_urls(config), default=str) if config else None
                        ),
                        clock_offset_s=clock_offset_s,
                    )
                ).inserted_primary_key[0]
            )

    def update_run(self, run_id: int, **values: Any) -> None:
        if "summary" in values:
            values["summary_json"] = json.dumps(values.pop("summary"), default=str)
        with self.tx() as c:
            c.execute(runs.update().where(runs.c.id == run_id).values(**values))

    # -- companies and waves ---------------------------------------------------------
    def upsert_company(self, company: Company) -> int:
        values = dict(
            name=company.name,
            sector=company.sector,
            homepage=company.homepage,
            contact_url=company.contact_url,
            domains_json=json.dumps(company.domains),
            config_json=company.model_dump_json(),
        )

        def upsert() -> int:
            with self.tx() as c:
                row = c.execute(
                    sa.select(companies.c.id).where(companies.c.slug == company.slug)
                ).first()
                if row:
                    c.execute(companies.update().where(companies.c.id == row.id).values(**values))
                    return int(row.id)
                return int(
                    c.execute(
                        companies.insert().values(slug=company.slug, **values)
                    ).inserted_primary_key[0]
                )

        return _once_more_if_raced(upsert)  # workers adding the same company at once

    def company_by_id(self, company_id: int) -> Company:
        """The company as it was last stored (a worker whose companies.yaml lacks it)."""
        with self.engine.connect() as c:
            text = c.execute(
                sa.select(companies.c.config_json).where(companies.c.id == company_id)
            ).scalar_one()
        return Company.model_validate_json(text)

    def company_row(self, slug: str) -> sa.Row[Any] | None:
        with self.engine.connect() as c:
            return c.execute(sa.select(companies).where(companies.c.slug == slug)).first()

    def ensure_wave(
        self, name: str, close_at: datetime | None = None, now: datetime | None = None
    ) -> int:
        def ensure() -> int:
            with self.tx() as c:
                row = c.execute(sa.select(waves).where(waves.c.name == name)).first()
                if row:
                    if close_at is not None and row.close_at != close_at:
                        c.execute(
                            waves.update().where(waves.c.id == row.id).values(close_at=close_at)
                        )
                    return int(row.id)
                return int(
                    c.execute(
                        waves.insert().values(
                            name=name, created_at=now or utcnow(), close_at=close_at
                        )
                    ).inserted_primary_key[0]
                )

        return _once_more_if_raced(ensure)  # workers starting the same wave at once

    def wave_row(self, name: str) -> sa.Row[Any] | None:
        with self.engine.connect() as c:
            return c.execute(sa.select(waves).where(waves.c.name == name)).first()

    def wave_by_id(self, wave_id: int) -> sa.Row[Any]:
        with self.engine.connect() as c:
            return c.execute(sa.select(waves).where(waves.c.id == wave_id)).one()

    def update_wave(self, wave_id: int, **values: Any) -> None:
        with self.tx() as c:
            c.execute(waves.update().where(waves.c.id == wave_id).values(**values))

    # -- submissions -----------------------------------------------------------------
    def submission(
        self, company_id: int, wave_id: int, channel: str = SubmissionChannel.FORM.value
    ) -> Submission | None:
        with self.engine.connect() as c:
            row = c.execute(
                sa.select(submissions).where(
                    submissions.c.company_id == company_id,
                    submissions.c.wave_id == wave_id,
                    submissions.c.channel == channel,
                )
            ).first()
        return Submission.from_row(row) if row is not None else None

    def submission_by_id(self, submission_id: int) -> Submission | None:
        with self.engine.connect() as c:
            row = c.execute(sa.select(submissions).where(submissions.c.id == submission_id)).first()
        return Submission.from_row(row) if row is not None else None

    def apply(self, sub: Submission, change: Change | None) -> Submission:
        """Write a lifecycle transition's change (audit.lifecycle) and read the row back."""
        if change:
            self.update_submission(sub.id, **change)
        fresh = self.submission_by_id(sub.id)
        assert fresh is not None
        return fresh

    def plan_submission(
        self,
        company_id: int,
        wave_id: int,
        token: str,
        reply_address: str,
        now: datetime,
        site_key: str | None = None,
        channel: str = SubmissionChannel.FORM.value,
        channel_note: str | None = None,
    ) -> Submission:
        """The company's submission in this wave on this channel: the existing one, or a
        new planned one.

        Safe when workers plan the same company at once: one insert wins, the others read
        its row (and its token) back. ``site_key`` is kept for claiming (see claim_next).
        """
        existing = self.submission(company_id, wave_id, channel)
        if existing is None:
            try:
                with self.tx() as c:
                    c.execute(
                        submissions.insert().values(
                            company_id=company_id,
                            wave_id=wave_id,
                            state=SubmissionState.PLANNED.value,
                            token=token,
                            reply_address=reply_address,
                            created_at=now,
                            site_key=site_key,
                            channel=channel,
                            channel_note=channel_note,
                        )
                    )
            except sa.exc.IntegrityError:  # another worker planned it first: theirs stands
                log.debug("store: submission of company %s planned by another", company_id)
        elif site_key is not None and existing.site_key != site_key and not existing.clicked:
            with self.tx() as c:  # planned before schema 4, or the company's URL changed
                c.execute(
                    submissions.update()
                    .where(submissions.c.id == existing.id)
                    .values(site_key=site_key)
                )
        row = self.submission(company_id, wave_id, channel)
        assert row is not None
        return row

    def planned_slugs(self, wave_id: int) -> set[str]:
        """The companies that have a form submission in the wave (whatever its state)."""
        with self.engine.connect() as c:
            return set(
                c.execute(
                    sa.select(companies.c.slug)
                    .join(submissions, submissions.c.company_id == companies.c.id)
                    .where(
                        submissions.c.wave_id == wave_id,
                        submissions.c.channel == SubmissionChannel.FORM.value,
                    )
                ).scalars()
            )

    def snapshot_company(
        self, wave_id: int, company_id: int, facts: dict[str, Any], now: datetime
    ) -> bool:
        """Keep the company facts this wave runs with; frozen once its form was clicked.

        Returns True when the snapshot was written (new or refreshed before the click).
        """
        text = json.dumps(facts, ensure_ascii=False, sort_keys=True, default=str)
        try:
            return self._snapshot(wave_id, company_id, text, now)
        except sa.exc.IntegrityError:  # another worker wrote it at the same moment
            return False

    def _snapshot(self, wave_id: int, company_id: int, text: str, now: datetime) -> bool:
        with self.tx() as c:
            clicked = c.execute(  # any channel's click freezes the wave's facts
                sa.select(sa.func.max(submissions.c.clicked_at)).where(
                    submissions.c.wave_id == wave_id, submissions.c.company_id == company_id
                )
            ).scalar()
            row = c.execute(
                sa.select(wave_facts.c.facts_json).where(
                    wave_facts.c.wave_id == wave_id, wave_facts.c.company_id == company_id
                )
            ).first()
            if row is None:
                c.execute(
                    wave_facts.insert().values(
                        wave_id=wave_id, company_id=company_id, facts_json=text, recorded_at=now
                    )
                )
                return True
            if clicked is not None or row.facts_json == text:
                return False
            c.execute(
                wave_facts.update()
                .where(wave_facts.c.wave_id == wave_id, wave_facts.c.company_id == company_id)
                .values(facts_json=text, recorded_at=now)
            )
            return True

    def update_submission(self, submission_id: int, **values: Any) -> None:
        for key in ("values", "request"):
            if key in values:
                values[f"{key}_json"] = json.dumps(values.pop(key), ensure_ascii=False, default=str)
        with self.tx() as c:
            c.execute(
                submissions.update().where(submissions.c.id == submission_id).values(**values)
            )

    def claim_submission(
        self, submission_id: int, run_id: int | None, now: datetime, worker: str | None = None
    ) -> bool:
        """planned -> running, atomically; False when another process got there first (or
        holds another submission of the same site in the wave)."""
        values = (
            lifecycle.claim(worker, run_id, now)
            if worker
            else {"state": SubmissionState.RUNNING.value, "started_at": now, "run_id": run_id}
        )
        try:
            with self.tx() as c:
                res = c.execute(
                    submissions.update()
                    .where(
                        submissions.c.id == submission_id,
                        submissions.c.state == SubmissionState.PLANNED.value,
                    )
                    .values(**values)
                )
                return res.rowcount == 1
        except sa.exc.IntegrityError:  # ux_submissions_running_site: the site is busy
            return False

    # -- claims by workers (audit work) ---------------------------------------------
    def claim_next(
        self,
        wave_id: int,
        worker: str,
        run_id: int | None,
        now: datetime,
        site_delay_s: float = 0.0,
    ) -> Submission | None:
        """Claim the next planned submission of the wave for ``worker``; None when none can
        be claimed now. Two workers never get the same one: the UPDATE is conditional on
        the state (planned -> running); on PostgreSQL the candidate row is locked with
        ``FOR UPDATE SKIP LOCKED`` (a worker passes over rows another is claiming). A site
        with a running submission in the wave (whoever holds it), or one finished less
        than ``site_delay_s`` ago, is passed over: one site at a time across workers, and
        the unique index ux_submissions_running_site makes sure of it when two workers
        pick one site at the same moment (the loser tries another site). Only forms are
        claimed: e-mail inquiries are sent by `audit run`.
        """
        busy: set[str] = set()
        for _ in range(20):
            try:
                return self._claim_one(wave_id, worker, run_id, now, site_delay_s, busy)
            except sa.exc.IntegrityError as exc:
                site = _site_of_conflict(self, wave_id)
                log.debug("store: claim lost a race for a site (%s): %s", site, exc.orig)
                busy |= site
        return None

    def _claim_one(
        self,
        wave_id: int,
        worker: str,
        run_id: int | None,
        now: datetime,
        site_delay_s: float,
        busy: set[str],
    ) -> Submission | None:
        s, p, r = submissions, submissions.alias("cand"), submissions.alias("other")
        running = sa.select(r.c.site_key).where(
            r.c.wave_id == wave_id,
            r.c.state == SubmissionState.RUNNING.value,
            r.c.site_key.is_not(None),
        )
        cond = [
            p.c.wave_id == wave_id,
            p.c.state == SubmissionState.PLANNED.value,
            p.c.channel == SubmissionChannel.FORM.value,  # e-mail is `audit run`'s (run.py)
            sa.or_(p.c.site_key.is_(None), p.c.site_key.not_in(running)),
        ]
        if site_delay_s > 0:
            recent = sa.select(r.c.site_key).where(
                r.c.wave_id == wave_id,
                r.c.site_key.is_not(None),
                r.c.finished_at > now - timedelta(seconds=site_delay_s),
            )
            cond.append(sa.or_(p.c.site_key.is_(None), p.c.site_key.not_in(recent)))
        if busy:
            cond.append(sa.or_(p.c.site_key.is_(None), p.c.site_key.not_in(sorted(busy))))
        pick = sa.select(p.c.id).where(*cond).order_by(p.c.id).limit(1)
        values = lifecycle.claim(worker, run_id, now)
        with self.tx() as c:
            if c.dialect.name == "postgresql":
                sid = c.execute(pick.with_for_update(skip_locked=True, of=p)).scalar()
                if sid is None:
                    return None
                target = s.c.id == sid
            else:  # one statement: SQLite's write lock covers the pick and the update
                target = s.c.id == pick.scalar_subquery()
            row = c.execute(
                s.update()
                .where(target, s.c.state == SubmissionState.PLANNED.value)
                .values(**values)
                .returning(*s.c)
            ).first()
        return Submission.from_row(row) if row is not None else None

    def heartbeat(self, worker: str, submission_ids: Collection[int], now: datetime) -> set[int]:
        """The worker is alive: stamp the submissions it holds; returns those it still
        holds (a missing one was taken over as stale: the worker must not click it)."""
        if not submission_ids:
            return set()
        held = self._held(worker, list(submission_ids))
        with self.tx() as c:
            c.execute(submissions.update().where(*held).values(heartbeat_at=now))
            return set(c.execute(sa.select(submissions.c.id).where(*held)).scalars())

    @staticmethod
    def _held(worker: str | None, ids: list[int]) -> list[Any]:
        claimer = (
            submissions.c.claimed_by.is_(None)
            if worker is None
            else submissions.c.claimed_by == worker
        )
        return [
            submissions.c.id.in_(ids),
            submissions.c.state == SubmissionState.RUNNING.value,
            claimer,
        ]

    def record_click(self, submission_id: int, worker: str | None, now: datetime) -> bool:
        """Write the moment before the submit click, only if ``worker`` still holds the
        submission (a fenced write); False: the claim was taken over, do not click."""
        with self.tx() as c:
            res = c.execute(
                submissions.update()
                .where(*self._held(worker, [submission_id]))
                .values(clicked_at=now)
            )
            return res.rowcount == 1

    def finish_claimed(self, submission_id: int, worker: str | None, change: Change) -> bool:
        """Write a finished probe's transition, only if ``worker`` still holds the
        submission (fenced); False when the claim was taken over meanwhile (then the row
        keeps what the take-over wrote: planned if never clicked, else uncertain)."""
        values = dict(change)
        for key in ("values", "request"):
            if key in values:
                values[f"{key}_json"] = json.dumps(values.pop(key), ensure_ascii=False, default=str)
        with self.tx() as c:
            res = c.execute(
                submissions.update().where(*self._held(worker, [submission_id])).values(**values)
            )
            return res.rowcount == 1

    def apply_if_unchanged(self, sub: Submission, change: Change) -> bool:
        """Write a transition only if the row is still as ``sub`` was read (state, holder,
        heartbeat, click): a take-over never overwrites a worker that just moved on."""
        s = submissions

        def same(col: Any, value: Any) -> Any:
            return col.is_(None) if value is None else col == value

        with self.tx() as c:
            res = c.execute(
                s.update()
                .where(
                    s.c.id == sub.id,
                    s.c.state == sub.state.value,
                    same(s.c.claimed_by, sub.claimed_by),
                    same(s.c.heartbeat_at, sub.heartbeat_at),
                    same(s.c.clicked_at, sub.clicked_at),
                )
                .values(**change)
            )
            return res.rowcount == 1

    def running_in_wave(self, wave_id: int) -> list[Submission]:
        with self.engine.connect() as c:
            rows = c.execute(
                sa.select(submissions).where(
                    submissions.c.wave_id == wave_id,
                    submissions.c.state == SubmissionState.RUNNING.value,
                )
            )
            return [Submission.from_row(r) for r in rows]

    def recover_stale_claims(
        self,
        wave_id: int,
        now: datetime,
        stale_after_s: float,
        alive: Callable[[str], bool | None],
        exclude: str | None = None,
    ) -> list[Submission]:
        """End every stale claim in the wave by the lifecycle (lifecycle.recover_stale):
        never clicked -> planned, clicked -> uncertain. ``alive(claimed_by)`` says whether
        the holder's process is there (None: cannot tell, e.g. another host). Claims of
        ``exclude`` (the caller itself) are left alone. Returns the submissions changed."""
        changed = []
        for sub in self.running_in_wave(wave_id):
            if exclude is not None and sub.claimed_by == exclude:
                continue
            seen = alive(sub.claimed_by) if sub.claimed_by else None
            if not lifecycle.claim_is_stale(sub, now, stale_after_s, seen):
                continue
            why = "is gone" if seen is False else "stopped heartbeating"
            if sub.claimed_by is None:
                change = lifecycle.recover(sub, retry_failed=False, now=now)
            else:
                change = lifecycle.recover_stale(sub, now, why)
            if change and self.apply_if_unchanged(sub, change):
                log.warning(
                    "store: claim of submission %s by %s was stale: now %s",
                    sub.id,
                    sub.claimed_by,
                    change["state"],
                )
                fresh = self.submission_by_id(sub.id)
                if fresh is not None:
                    changed.append(fresh)
        return changed

    def wave_work_left(self, wave_id: int, worker: str) -> tuple[int, int]:
        """(planned, running held by others) in the wave: whether a worker should wait."""
        s = submissions
        with self.engine.connect() as c:
            planned = c.execute(
                sa.select(sa.func.count()).where(
                    s.c.wave_id == wave_id, s.c.state == SubmissionState.PLANNED.value
                )
            ).scalar_one()
            others = c.execute(
                sa.select(sa.func.count()).where(
                    s.c.wave_id == wave_id,
                    s.c.state == SubmissionState.RUNNING.value,
                    sa.or_(s.c.claimed_by.is_(None), s.c.claimed_by != worker),
                )
            ).scalar_one()
        return int(planned), int(others)

    def release_orphans(
        self, wave_id: int, worker: str, held: Collection[int], now: datetime
    ) -> list[Submission]:
        """Claims of ``worker`` that it is not working on (a claim whose answer was lost
        with the connection when the database restarted): ended by the lifecycle rule as
        after a crash (never clicked -> planned, clicked -> uncertain)."""
        changed = []
        for sub in self.running_in_wave(wave_id):
            if sub.claimed_by != worker or sub.id in held:
                continue
            change = lifecycle.recover_stale(sub, now, "lost the answer to its claim")
            if self.apply_if_unchanged(sub, change):
                log.warning("store: orphan claim of submission %s: now %s", sub.id, change["state"])
                changed.append(sub)
        return changed

    def claims_by_worker(self, wave_id: int | None = None) -> list[dict[str, Any]]:
        """Per worker: its submissions by state, its last heartbeat and claim (status)."""
        s = submissions
        q = (
            sa.select(
                s.c.claimed_by,
                waves.c.name.label("wave"),
                s.c.state,
                sa.func.count().label("n"),
                sa.func.max(s.c.heartbeat_at).label("heartbeat_at"),
                sa.func.max(s.c.claimed_at).label("claimed_at"),
            )
            .join(waves, waves.c.id == s.c.wave_id)
            .where(s.c.claimed_by.is_not(None))
            .group_by(s.c.claimed_by, waves.c.name, s.c.state)
        )
        if wave_id is not None:
            q = q.where(s.c.wave_id == wave_id)
        out: dict[tuple[str, str], dict[str, Any]] = {}
        with self.engine.connect() as c:
            for r in c.execute(q):
                w = out.setdefault(
                    (r.wave, r.claimed_by),
                    {
                        "wave": r.wave,
                        "worker": r.claimed_by,
                        "states": {},
                        "claims": 0,
                        "last_heartbeat_at": None,
                        "last_claim_at": None,
                    },
                )
                w["states"][r.state] = int(r.n)
                w["claims"] += int(r.n)
                for key, col in (
                    ("last_heartbeat_at", "heartbeat_at"),
                    ("last_claim_at", "claimed_at"),
                ):
                    v = _aware(getattr(r, col))
                    if v is not None and (w[key] is None or v > w[key]):
                        w[key] = v
        return sorted(out.values(), key=lambda w: (w["wave"], w["worker"]))

    def submissions_in_wave(self, wave_id: int) -> list[sa.Row[Any]]:
        q = (
            sa.select(submissions, companies.c.slug, companies.c.name, companies.c.domains_json)
            .join(companies, companies.c.id == submissions.c.company_id)
            .where(submissions.c.wave_id == wave_id)
            .order_by(submissions.c.id)
        )
        with self.engine.connect() as c:
            return list(c.execute(q))

    def all_submissions(self) -> list[sa.Row[Any]]:
        q = (
            sa.select(
                submissions,
                companies.c.slug,
                companies.c.name,
                companies.c.domains_json,
                waves.c.name.label("wave"),
            )
            .join(companies, companies.c.id == submissions.c.company_id)
            .join(waves, waves.c.id == submissions.c.wave_id)
            .order_by(submissions.c.id)
        )
        with self.engine.connect() as c:
            return list(c.execute(q))

    # -- attempts and evidence -------------------------------------------------------
    def add_attempt(self, **values: Any) -> int:
        for key in ("fields", "timings"):
            if key in values:
                values[f"{key}_json"] = json.dumps(values.pop(key), ensure_ascii=False, default=str)
        with self.tx() as c:
            return int(c.execute(attempts.insert().values(**values)).inserted_primary_key[0])

    def add_evidence(
        self,
        kind: str,
        path: str,
        sha256: str,
        now: datetime,
        submission_id: int | None = None,
        attempt_id: int | None = None,
        message_id: int | None = None,
    ) -> None:
        with self.tx() as c:
            c.execute(
                evidence.insert().values(
                    kind=kind,
                    path=path,
                    sha256=sha256,
                    created_at=now,
                    submission_id=submission_id,
                    attempt_id=attempt_id,
                    message_id=message_id,
                )
            )

    # -- mailbox ---------------------------------------------------------------------
    def checkpoint(self, folder: str) -> tuple[int, int] | None:
        with self.engine.connect() as c:
            row = c.execute(sa.select(checkpoints).where(checkpoints.c.folder == folder)).first()
            return (int(row.uidvalidity), int(row.last_uid)) if row else None

    def set_checkpoint(self, folder: str, uidvalidity: int, last_uid: int, now: datetime) -> None:
        with self.tx() as c:
            _set_checkpoint(c, folder, uidvalidity, last_uid, now)

    def has_message(self, fingerprint: str) -> bool:
        with self.engine.connect() as c:
            return (
                c.execute(
                    sa.select(messages.c.id).where(messages.c.fingerprint == fingerprint)
                ).first()
                is not None
            )

    def known_fingerprints(self, fingerprints: Collection[str]) -> set[str]:
        """Those of ``fingerprints`` already stored, in one query."""
        if not fingerprints:
            return set()
        with self.engine.connect() as c:
            return _known_fingerprints(c, fingerprints)

    def add_message(self, **values: Any) -> int | None:
        """Insert a message; None when its fingerprint is already stored (a duplicate)."""
        with self.tx() as c:
            if c.execute(
                sa.select(messages.c.id).where(messages.c.fingerprint == values["fingerprint"])
            ).first():
                return None
            return int(c.execute(messages.insert(), values).inserted_primary_key[0])

    def add_messages(
        self,
        rows: Sequence[dict[str, Any]],
        event_kinds: Sequence[str | None],
        checkpoint: tuple[str, int, int] | None,
        now: datetime,
    ) -> list[int | None]:
        """Record a batch of synced messages in ONE transaction, all or nothing.

        Each of ``rows`` holds the values of a ``messages`` row, ``eml_path`` and
        ``eml_sha256`` included (the .eml is on disk before this is called); each gets an
        evidence row for its .eml (none for a light row, read from its headers only:
        ``eml_path`` None) and, when its ``event_kinds`` entry is not None, a contact
        event of that kind for its submission at its INTERNALDATE. ``checkpoint`` (folder,
        uidvalidity, last_uid) is written in the same transaction. Returns the new ids in
        the order of ``rows``, None for a duplicate (fingerprint stored already, or earlier
        in ``rows``).
        """
        if len(event_kinds) != len(rows):
            raise ValueError("add_messages: one event kind (or None) per row")
        ids: list[int | None] = [None] * len(rows)
        with self.tx() as c:
            known = _known_fingerprints(c, [r["fingerprint"] for r in rows])
            fresh: list[int] = []
            for i, r in enumerate(rows):
                if r["fingerprint"] not in known:
                    known.add(r["fingerprint"])
                    fresh.append(i)
            if fresh:
                # One executemany, then the new ids: no need for INSERT ... RETURNING in
                # parameter order (row by row on SQLite).
                before = c.execute(sa.select(sa.func.max(messages.c.id))).scalar() or 0
                _insert_many(c, messages, [rows[i] for i in fresh])
                id_of = _new_ids_by_fingerprint(c, before, [rows[i]["fingerprint"] for i in fresh])
                for i in fresh:
                    ids[i] = id_of[rows[i]["fingerprint"]]
                kept = [
                    dict(
                        kind="eml",
                        path=rows[i]["eml_path"],
                        sha256=rows[i]["eml_sha256"],
                        created_at=rows[i]["recorded_at"],
                        submission_id=rows[i]["submission_id"],
                        message_id=ids[i],
                        attempt_id=None,
                    )
                    for i in fresh
                    if rows[i]["eml_path"]
                ]
                if kept:
                    c.execute(evidence.insert(), kept)
                events = [
                    dict(
                        submission_id=rows[i]["submission_id"],
                        channel=Channel.EMAIL.value,
                        kind=event_kinds[i],
                        at=rows[i]["internaldate"],
                        source="imap",
                        message_id=ids[i],
                        note=None,
                        recorded_at=rows[i]["recorded_at"],
                    )
                    for i in fresh
                    if event_kinds[i] is not None
                ]
                if events:
                    c.execute(contact_events.insert(), events)
            if checkpoint is not None:
                _set_checkpoint(c, *checkpoint, now)
        return ids

    def attach_eml(
        self, message_id: int, path: str, sha256: str, now: datetime, **values: Any
    ) -> None:
        """A light row's body, fetched later (``audit review`` assigning it): its .eml (on
        disk already) as evidence and what its body says (``values``), in one transaction."""
        with self.tx() as c:
            row = c.execute(
                sa.select(messages.c.submission_id, messages.c.eml_path).where(
                    messages.c.id == message_id
                )
            ).one()
            c.execute(
                messages.update()
                .where(messages.c.id == message_id)
                .values(eml_path=path, eml_sha256=sha256, **values)
            )
            if not row.eml_path:
                c.execute(
                    evidence.insert().values(
                        kind="eml",
                        path=path,
                        sha256=sha256,
                        created_at=now,
                        submission_id=row.submission_id,
                        message_id=message_id,
                        attempt_id=None,
                    )
                )

    def update_message(self, message_id: int, **values: Any) -> None:
        with self.tx() as c:
            c.execute(messages.update().where(messages.c.id == message_id).values(**values))
            if "submission_id" in values:  # a message matched later: its .eml follows it
                c.execute(
                    evidence.update()
                    .where(evidence.c.message_id == message_id)
                    .values(submission_id=values["submission_id"])
                )

    def classify_unread_message(self, message_id: int, unread_reasons: str, **values: Any) -> bool:
        """Store a class worked out later (inbox.assign.classify_unread) on a message that
        is still unmatched and unclassified (its reasons still ``unread_reasons``): a sync
        that matched it meanwhile, or review, is never overwritten. True when stored."""
        with self.tx() as c:
            done = c.execute(
                messages.update()
                .where(
                    messages.c.id == message_id,
                    messages.c.submission_id.is_(None),
                    messages.c.kind_reasons == unread_reasons,
                )
                .values(**values)
            )
            return bool(done.rowcount)

    def message_row(self, message_id: int) -> sa.Row[Any] | None:
        with self.engine.connect() as c:
            return c.execute(sa.select(messages).where(messages.c.id == message_id)).first()

    def messages_for_review(
        self, recorded_from: datetime | None = None, recorded_until: datetime | None = None
    ) -> list[sa.Row[Any]]:
        """Messages waiting for review, oldest first; optionally only those recorded
        within [recorded_from, recorded_until]."""
        q = sa.select(messages).where(messages.c.review == "pending")
        if recorded_from is not None:
            q = q.where(messages.c.recorded_at >= recorded_from)
        if recorded_until is not None:
            q = q.where(messages.c.recorded_at <= recorded_until)
        with self.engine.connect() as c:
            return list(c.execute(q.order_by(messages.c.internaldate)))

    def message_listing(self, wave_id: int | None = None) -> list[sa.Row[Any]]:
        """Every message in arrival order with its company and wave (None when matched to
        no submission); only those matched to a submission of ``wave_id`` when given."""
        q = (
            sa.select(
                messages,
                companies.c.name.label("company"),
                waves.c.name.label("wave"),
            )
            .outerjoin(submissions, submissions.c.id == messages.c.submission_id)
            .outerjoin(companies, companies.c.id == submissions.c.company_id)
            .outerjoin(waves, waves.c.id == submissions.c.wave_id)
            .order_by(messages.c.internaldate, messages.c.id)
        )
        if wave_id is not None:
            q = q.where(submissions.c.wave_id == wave_id)
        with self.engine.connect() as c:
            return list(c.execute(q))

    def submission_for_message_ids(self, message_ids: list[str]) -> int | None:
        """Thread matching: the submission of a stored message whose Message-ID is given."""
        ids = [m for m in message_ids if m]
        if not ids:
            return None
        with self.engine.connect() as c:
            row = c.execute(
                sa.select(messages.c.submission_id).where(
                    messages.c.message_id.in_(ids), messages.c.submission_id.is_not(None)
                )
            ).first()
            if row is None:  # an answer to the inquiry we e-mailed ourselves
                row = c.execute(
                    sa.select(submissions.c.id.label("submission_id")).where(
                        submissions.c.sent_message_id.in_(ids)
                    )
                ).first()
            return int(row.submission_id) if row else None

    def matched_message_ids(self, message_ids: Collection[str]) -> set[str]:
        """Those of ``message_ids`` that name a stored message matched to a submission, or
        an inquiry we e-mailed (its Message-ID): the sync's first look at a batch, one
        query for all its thread references."""
        wanted = list(dict.fromkeys(m for m in message_ids if m))
        out: set[str] = set()
        with self.engine.connect() as c:
            for i in range(0, len(wanted), 500):
                chunk = wanted[i : i + 500]
                q = sa.union(
                    sa.select(messages.c.message_id).where(
                        messages.c.message_id.in_(chunk),
                        messages.c.submission_id.is_not(None),
                    ),
                    sa.select(submissions.c.sent_message_id).where(
                        submissions.c.sent_message_id.in_(chunk)
                    ),
                )
                out.update(str(m) for (m,) in c.execute(q))
        return out

    def thread_kinds(self, message_ids: list[str]) -> list[tuple[int | None, str | None]]:
        """(submission, class) of the stored messages with these Message-IDs: the earlier
        messages of a thread, for the classifier."""
        ids = [m for m in message_ids if m]
        if not ids:
            return []
        with self.engine.connect() as c:
            rows = c.execute(
                sa.select(messages.c.submission_id, messages.c.kind).where(
                    messages.c.message_id.in_(ids)
                )
            )
            return [(r.submission_id, r.kind) for r in rows]

    def add_contact_event(
        self,
        submission_id: int,
        channel: str,
        kind: str,
        at: datetime,
        source: str,
        now: datetime,
        message_id: int | None = None,
        note: str | None = None,
    ) -> int | None:
        with self.tx() as c:
            if (
                message_id is not None
                and c.execute(
                    sa.select(contact_events.c.id).where(contact_events.c.message_id == message_id)
                ).first()
            ):
                return None
            return int(
                c.execute(
                    contact_events.insert().values(
                        submission_id=submission_id,
                        channel=channel,
                        kind=kind,
                        at=at,
                        source=source,
                        message_id=message_id,
                        note=note,
                        recorded_at=now,
                    )
                ).inserted_primary_key[0]
            )

    def record_review(
        self,
        message_id: int,
        review: str,
        now: datetime,
        kind: str | None = None,
        submission_id: int | None = None,
        match_method: str | None = None,
        event_kind: str | None = None,
    ) -> None:
        """A consultant's decision on a message, in ONE transaction: its review state (and
        class, and submission when assigned), its .eml evidence following it, and its
        contact event replaced: removed, then added again as ``event_kind`` when given, at
        the message's INTERNALDATE."""
        values: dict[str, Any] = {"review": review}
        if kind is not None:
            values["kind"] = kind
        if submission_id is not None:
            values.update(submission_id=submission_id, match_method=match_method)
        with self.tx() as c:
            c.execute(messages.update().where(messages.c.id == message_id).values(**values))
            row = c.execute(
                sa.select(messages.c.submission_id, messages.c.internaldate).where(
                    messages.c.id == message_id
                )
            ).one()
            if submission_id is not None:
                c.execute(
                    evidence.update()
                    .where(evidence.c.message_id == message_id)
                    .values(submission_id=submission_id)
                )
            c.execute(contact_events.delete().where(contact_events.c.message_id == message_id))
            if event_kind is not None and row.submission_id is not None:
                c.execute(
                    contact_events.insert().values(
                        submission_id=row.submission_id,
                        channel=Channel.EMAIL.value,
                        kind=event_kind,
                        at=row.internaldate,
                        source="imap",
                        message_id=message_id,
                        note=None,
                        recorded_at=now,
                    )
                )

    def delete_contact_event_for_message(self, message_id: int) -> None:
        with self.tx() as c:
            c.execute(contact_events.delete().where(contact_events.c.message_id == message_id))

    def add_grade(
        self,
        submission_id: int,
        score: float,
        rubric: dict[str, Any],
        note: str | None,
        now: datetime,
    ) -> None:
        with self.tx() as c:
            c.execute(
                grades.insert().values(
                    submission_id=submission_id,
                    score=score,
                    rubric_json=json.dumps(rubric),
                    note=note,
                    at=now,
                )
            )


# What `audit run` and `audit work` call on the store while they send: each rides out
# a PostgreSQL restart (see _riding_out_restarts). Every one is a single transaction that
# is safe to run again (conditional updates, idempotent upserts, attempts and evidence
# rows that at worst appear twice when a commit's answer was lost with the connection).
_RIDING_OUT = (
    "begin_run", "update_run", "upsert_company", "company_by_id", "ensure_wave",
    "wave_row", "wave_by_id", "update_wave", "submission", "submission_by_id", "apply",
    "plan_submission", "planned_slugs", "snapshot_company", "update_submission",
    "claim_submission", "claim_next", "heartbeat", "record_click", "finish_claimed",
    "apply_if_unchanged", "running_in_wave", "recover_stale_claims", "wave_work_left",
    "release_orphans", "add_attempt", "add_evidence",
)  # fmt: skip
for _name in _RIDING_OUT:
    setattr(Store, _name, _riding_out_restarts(getattr(Store, _name)))


def _aware(value: datetime | None) -> datetime | None:
    """An aggregate (max) of a UTCDateTime comes back untyped on SQLite: make it aware UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _site_of_conflict(store: Store, wave_id: int) -> set[str]:
    """The sites running in the wave now: after a lost race for a site, pass them over."""
    return {s.site_key for s in store.running_in_wave(wave_id) if s.site_key}


def _known_fingerprints(c: Connection, fingerprints: Collection[str]) -> set[str]:
    return set(_ids_by_fingerprint(c, fingerprints))


def _ids_by_fingerprint(c: Connection, fingerprints: Collection[str]) -> dict[str, int]:
    """fingerprint -> message id, for those of ``fingerprints`` that are stored."""
    out: dict[str, int] = {}
    wanted = list(dict.fromkeys(fingerprints))
    for i in range(0, len(wanted), 500):  # well under any driver's limit of parameters
        q = sa.select(messages.c.fingerprint, messages.c.id).where(
            messages.c.fingerprint.in_(wanted[i : i + 500])
        )
        out.update((fp, int(mid)) for fp, mid in c.execute(q))
    return out


def _new_ids_by_fingerprint(
    c: Connection, before: int, fingerprints: Sequence[str]
) -> dict[str, int]:
    """fingerprint -> id of rows just inserted, all with ids above ``before`` (the largest
    id before the insert): one range scan of the primary key instead of looking up each
    fingerprint. Rows another writer inserted meanwhile come back too and are left out;
    one not found in the range (an id reused after a delete) is looked up by fingerprint."""
    wanted = set(fingerprints)
    q = sa.select(messages.c.fingerprint, messages.c.id).where(messages.c.id > before)
    out = {fp: int(mid) for fp, mid in c.execute(q) if fp in wanted}
    missing = wanted - out.keys()
    if missing:
        out.update(_ids_by_fingerprint(c, missing))
    return out


@functools.lru_cache(maxsize=32)
def _compiled_insert(
    table: sa.Table, dialect: sa.engine.Dialect, keys: tuple[str, ...]
) -> tuple[str, tuple[str, ...], tuple[Callable[[Any], Any] | None, ...], bool]:
    """The INSERT of ``keys`` into ``table`` as the driver's SQL, with the order of its
    parameters and each one's bind processor (the column type's own conversion)."""
    compiled = table.insert().compile(dialect=dialect, column_keys=list(keys))
    names = tuple(compiled.positiontup or ()) if compiled.positional else keys
    procs = tuple(table.c[n].type.bind_processor(dialect) for n in names)
    return str(compiled), names, procs, bool(compiled.positional)


def _insert_many(c: Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """``c.execute(table.insert(), rows)`` for many rows with the same keys, at a fraction of
    its cost: the statement compiled once and each value converted by its column type's
    bind processor, then one executemany at the driver (a sync stores 100,000 rows; the
    generic path costs most of that in per-row parameter handling)."""
    if not rows:
        return
    keys = tuple(rows[0])
    if any(tuple(r) != keys for r in rows):  # not one shape: the generic path
        c.execute(table.insert(), list(rows))
        return
    sql, names, procs, positional = _compiled_insert(table, c.dialect, keys)
    values = operator.itemgetter(*names)
    convert = [(i, p) for i, p in enumerate(procs) if p is not None]
    params: list[Any] = []
    try:
        for r in rows:
            row = values(r)
            if convert:
                row = list(row)
                for i, p in convert:
                    row[i] = p(row[i])
            params.append(tuple(row) if positional else dict(zip(names, row, strict=True)))
    except Exception as exc:  # a value its column refuses: said as the generic path says it
        raise sa.exc.StatementError(str(exc), sql, None, exc) from exc
    c.exec_driver_sql(sql, params)


def _set_checkpoint(
    c: Connection, folder: str, uidvalidity: int, last_uid: int, now: datetime
) -> None:
    res = c.execute(
        checkpoints.update()
        .where(checkpoints.c.folder == folder)
        .values(uidvalidity=uidvalidity, last_uid=last_uid, updated_at=now)
    )
    if res.rowcount == 0:
        c.execute(
            checkpoints.insert().values(
                folder=folder, uidvalidity=uidvalidity, last_uid=last_uid, updated_at=now
            )
        )


def _redact_url(url: str) -> str:
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<store url>"


# scheme://user:PASSWORD@host...: the password is everything up to the last '@' (more is
# hidden rather than less when a password holds an unescaped '@').
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][\w+.-]*://[^:/@\s]*:)(?P<password>[^\s]*)@")


def redact_url_text(text: str) -> str:
    """Any URL password in ``text`` replaced by ***."""
    return _URL_PASSWORD.sub(lambda m: f"{m['head']}***@", text)


def redact_urls(value: Any) -> Any:
    """A copy of a JSON-like value with the password of every URL in it replaced by ***.

    The resolved config of a run is stored with it: a store URL (``store:``) or a proxy
    with credentials must not reach the ``runs`` table in clear.
    """
    if isinstance(value, str):
        return redact_url_text(value) if "://" in value else value
    if isinstance(value, dict):
        return {k: redact_urls(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_urls(v) for v in value]
    return value


def _hide_url_password(url: str) -> None:
    """Register the store URL's password with the logging filter (never logged in clear)."""
    try:
        password = sa.engine.make_url(url).password
    except Exception:
        m = _URL_PASSWORD.search(url)
        password = m["password"] if m else None
    if password:
        from audit.logs import install_secret_filter

        install_secret_filter(str(password))


# DB-API modules SQLAlchemy imports for a URL, and what to install for them.
_DRIVER_EXTRAS = {
    "psycopg": 'pip install "contact-audit[postgres]"',
    "psycopg2": 'pip install "contact-audit[postgres]" and write the URL as postgresql+psycopg://',
}


def _missing_driver(url: str, exc: ImportError) -> str:
    module = (exc.name or str(exc)).split(".")[0]
    try:
        dialect = sa.engine.make_url(url).drivername
    except Exception:
        dialect = url.split(":", 1)[0]
    fix = _DRIVER_EXTRAS.get(module, f"pip install {module}")
    return (
        f"cannot open the store {_redact_url(url)}: its {dialect} driver, the Python module "
        f"{module!r}, is not installed: {fix}"
    )
