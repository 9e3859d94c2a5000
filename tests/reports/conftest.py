"""Fixtures for the reports tests: a survey store filled through audit.store.Store."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from audit.config import Workspace
from audit.models import Company, SurveyConfig
from audit.store import Store

IL = ZoneInfo("Asia/Jerusalem")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def il(*args: int) -> datetime:
    """A local Israel time, aware."""
    return datetime(*args, tzinfo=IL)  # type: ignore[misc]


class SurveyBuilder:
    """Writes companies, waves, submissions, messages and contact events into a real store."""

    def __init__(
        self, root: Path, survey: SurveyConfig | None = None, store_url: str | None = None
    ) -> None:
        """``store_url``: any store (e.g. a PostgreSQL database); a SQLite file in ``root``
        when None. Evidence files always go under ``root``."""
        self.root = root
        self.store = Store.open(store_url or f"sqlite:///{root / 'survey.db'}")
        self.survey = survey or SurveyConfig()
        if store_url and not self.survey.store:  # the workspace names the store it uses
            self.survey = self.survey.model_copy(update={"store": store_url})
        self.companies: list[Company] = []
        self._ids: dict[str, int] = {}
        self._n = itertools.count(1)

    def workspace(self) -> Workspace:
        return Workspace(root=self.root, survey=self.survey, companies=self.companies)

    def wave(self, name: str = "wave-1", close_at: datetime | None = None) -> int:
        return self.store.ensure_wave(name, close_at=close_at, now=T0)

    def run(self, clock_offset_s: float = 0.0) -> int:
        return self.store.begin_run("run", "test", clock_offset_s=clock_offset_s, now=T0)

    def company(self, name: str, sector: str = "banks", unchecked: bool = False, **kw: Any) -> int:
        """unchecked: bypass validation, as a store written by other means may hold anything."""
        kw.setdefault("homepage", f"https://example{next(self._n)}.com/")
        c = (
            Company.model_construct(name=name, sector=sector, **kw)
            if unchecked
            else Company(name=name, sector=sector, **kw)
        )
        if c.slug not in self._ids:
            self.companies.append(c)
        self._ids[c.slug] = self.store.upsert_company(c)
        return self._ids[c.slug]

    def submit(
        self,
        company_id: int,
        wave_id: int,
        at: datetime | None,
        state: str = "submitted",
        reason: str | None = None,
        outcome: str | None = None,
        run_id: int | None = None,
        page_url: str | None = None,
        channel: str = "form",
        channel_note: str | None = None,
    ) -> int:
        token = f"t{next(self._n):07d}"
        row = self.store.plan_submission(
            company_id,
            wave_id,
            token,
            f"s+{token}@x.test",
            T0,
            channel=channel,
            channel_note=channel_note,
        )
        values: dict[str, Any] = {"state": state}
        if at is not None:
            values.update(submitted_at=at, clicked_at=at)
        if reason is not None:
            values["reason"] = reason
        values["outcome"] = outcome or ("submitted" if state == "submitted" else "failed")
        if run_id is not None:
            values["run_id"] = run_id
        if page_url is not None:
            values["page_url"] = page_url
        self.store.update_submission(row.id, **values)
        return int(row.id)

    def reply(
        self,
        submission_id: int,
        at: datetime,
        kind: str = "human",
        channel: str = "email",
        subject: str | None = None,
        text: str | None = None,
        sender: str = "service@example.com",
        match_method: str = "address_tag",
        review: str | None = None,
        **message: Any,
    ) -> int:
        """A reply; ``review``: the message's review state; ``message``: more of its
        columns (e.g. the DKIM verdict)."""
        message_id = None
        source = "manual"
        if channel == "email":
            n = next(self._n)
            body = text if text is not None else f"Hello Dana, thank you ({n})."
            message_id = self.store.add_message(
                folder="INBOX",
                uidvalidity=1,
                uid=n,
                message_id=f"<m{n}@example.com>",
                fingerprint=hashlib.sha256(f"m{n}".encode()).hexdigest(),
                internaldate=at,
                recorded_at=at,
                sender=sender,
                subject=subject if subject is not None else f"Re: question {n}",
                text=body,
                kind=kind,
                submission_id=submission_id,
                match_method=match_method,
                eml_sha256=hashlib.sha256(body.encode()).hexdigest(),
                review=review,
                **message,
            )
            source = "imap"
        eid = self.store.add_contact_event(
            submission_id, channel, kind, at, source, now=at, message_id=message_id
        )
        assert eid is not None
        return eid

    def evidence(self, submission_id: int, kind: str, rel_path: str, content: bytes) -> None:
        path = self.root / rel_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        self.store.add_evidence(
            kind, rel_path, hashlib.sha256(content).hexdigest(), T0, submission_id=submission_id
        )


@pytest.fixture
def builder(tmp_path: Path) -> Iterator[SurveyBuilder]:
    b = SurveyBuilder(tmp_path)
    yield b
    b.store.close()


@pytest.fixture
def builder_on_each_store(tmp_path: Path, store_url: str) -> Iterator[SurveyBuilder]:
    """A builder on SQLite, then on PostgreSQL (tests/conftest.py's ``store_url``); a test
    module whose reports must come out the same from both uses it as its ``builder``."""
    b = SurveyBuilder(tmp_path, store_url=store_url)
    yield b
    b.store.close()
