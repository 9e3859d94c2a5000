"""Fixtures for every test folder: the survey store on SQLite and on a real PostgreSQL.

``store_url`` is parametrised over both back ends, so a store test runs twice:
``[sqlite]`` on a file in the test's temp folder, ``[postgresql]`` on a database of its
own in a PostgreSQL cluster that the session starts itself (tests/pgserver.py) the first
time a test asks for it, and stops at the end. Without PostgreSQL the ``[postgresql]``
tests fail, naming the package to install: it is part of the test setup, as Dovecot is.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from pgserver import PgServer  # noqa: E402

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    server: PgServer | None = None
    try:
        server = PgServer()
        server.start()
    except RuntimeError as exc:
        if server is not None:
            server.cleanup()
        pytest.fail(f"PostgreSQL is part of the test setup (make test installs it): {exc}")
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test (dropped after it)."""
    name = pg_server.create_database()
    yield pg_server.url(name)
    pg_server.drop_database(name)


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty store's URL: a SQLite file, or a PostgreSQL database of this test's own."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'survey.db'}"
    return str(request.getfixturevalue("pg_url"))
