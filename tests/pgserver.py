"""A real PostgreSQL for the tests, started from scratch in a temp folder.

``initdb`` makes a throwaway cluster, ``pg_ctl`` starts it on 127.0.0.1 on a free port
with its unix socket inside the folder, and stops it (``-m fast``) at the end. As root
the server runs as the ``postgres`` user (PostgreSQL refuses to run as root), and the
folder belongs to it. The binaries come from Debian's ``postgresql`` package
(/usr/lib/postgresql/<version>/bin, the newest), ``$PG_BINDIR``, or the ``PATH``.

The superuser has a password (scram-sha-256 on TCP), so the tests go through the same
authentication a real server asks for; each test gets its own database.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg

APT_HINT = "install it with `apt-get install -y postgresql` (scripts/setup.sh does)"
SUPERUSER = "postgres"
PASSWORD = "pg-Test-pa55word"  # a throwaway cluster on 127.0.0.1, gone after the session
RUN_AS = "postgres"  # the system user the server runs as when the tests run as root


def find_bindir() -> Path:
    """The folder with initdb, pg_ctl and postgres; RuntimeError naming the fix."""
    tools = ("initdb", "pg_ctl", "postgres")
    if os.environ.get("PG_BINDIR"):  # named: that one or none
        d = Path(os.environ["PG_BINDIR"])
        if all((d / tool).exists() for tool in tools):
            return d
        raise RuntimeError(f"PG_BINDIR={d} lacks PostgreSQL's {', '.join(tools)}")

    def version(p: Path) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", p.parent.name)) or (0,)

    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    for d in candidates:
        if all((d / tool).exists() for tool in tools):
            return d
    raise RuntimeError(
        f"PostgreSQL's server binaries ({', '.join(tools)}) were not found in "
        f"/usr/lib/postgresql/*/bin or the PATH (or $PG_BINDIR): {APT_HINT}"
    )


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class PgServer:
    """One PostgreSQL cluster: start(), url(db), create_database(), stop()."""

    host = "127.0.0.1"

    def __init__(self) -> None:
        try:
            import psycopg  # noqa: F401  (the store's driver, and the admin connection's)
        except ImportError:
            raise RuntimeError(
                'the driver psycopg is not installed: pip install -e ".[dev]"'
            ) from None
        self.bindir = find_bindir()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            try:
                self.user = pwd.getpwnam(RUN_AS)
            except KeyError:
                raise RuntimeError(
                    f"the system user {RUN_AS!r} is missing (PostgreSQL will not run as "
                    f"root): {APT_HINT}"
                ) from None
        # Not under pytest's basetemp: as root that is 0700 root, which postgres cannot
        # enter. The folder itself is the server's only.
        self.dir = Path(tempfile.mkdtemp(prefix="contact-audit-pg-"))
        self.data = self.dir / "data"
        self.sockets = self.dir / "sockets"
        self.log = self.dir / "server.log"
        self.port = 0
        self.running = False
        self._n = 0

    # -- running the binaries ---------------------------------------------------------
    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", RUN_AS, "--", *cmd]
        # A real server on the real clock: scripts/clock_guard.py's libfaketime stays out.
        env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD" and "FAKETIME" not in k}
        proc = subprocess.run(
            cmd, cwd=self.dir, env=env, capture_output=True, text=True, timeout=120, check=False
        )
        if proc.returncode != 0:
            log = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
            raise RuntimeError(
                f"PostgreSQL: {' '.join(args[:2])} failed ({proc.returncode}):\n"
                f"{proc.stdout}{proc.stderr}{log}"
            )
        return proc

    def start(self) -> PgServer:
        self.sockets.mkdir()
        pwfile = self.dir / "pwfile"
        pwfile.write_text(PASSWORD + "\n")
        if self.as_root:
            for p in (self.dir, self.sockets, pwfile):
                os.chown(p, self.user.pw_uid, self.user.pw_gid)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            f"--pwfile={pwfile}",
            "--auth-host=scram-sha-256",
            "--auth-local=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        pwfile.unlink()
        for attempt in range(5):  # the free port may be taken between the probe and start
            self.port = free_port(self.host)
            options = " ".join(
                [
                    f"-c listen_addresses={self.host}",
                    f"-c port={self.port}",
                    f"-c unix_socket_directories={self.sockets}",
                    # a throwaway cluster: durability buys nothing here
                    "-c fsync=off",
                    "-c synchronous_commit=off",
                    "-c full_page_writes=off",
                    "-c max_connections=200",
                ]
            )
            try:
                self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data), "-l",
                          str(self.log), "-o", options)  # fmt: skip
                break
            except RuntimeError:
                if attempt == 4 or "could not bind" not in self.log.read_text(errors="replace"):
                    raise
        self.running = True
        return self

    def stop(self) -> None:
        if self.running:
            self._run("pg_ctl", "stop", "-m", "fast", "-w", "-D", str(self.data))
            self.running = False

    def restart(self) -> None:
        """``pg_ctl restart -m fast``: every connection is closed, the server refuses new
        ones until it is up again on the same port (the options of its start are kept in
        postmaster.opts). For drills: what a store's clients live through."""
        self._run("pg_ctl", "restart", "-m", "fast", "-w", "-t", "60", "-D", str(self.data),
                  "-l", str(self.log))  # fmt: skip

    def cleanup(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    # -- databases --------------------------------------------------------------------
    def url(self, database: str, password: bool = True) -> str:
        """A SQLAlchemy URL for ``database`` as the superuser."""
        secret = f":{PASSWORD}" if password else ""
        return f"postgresql+psycopg://{SUPERUSER}{secret}@{self.host}:{self.port}/{database}"

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        import psycopg

        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=SUPERUSER,
            password=PASSWORD,
            dbname="postgres",
            autocommit=True,
        )

    def create_database(self, prefix: str = "t") -> str:
        """A new, empty database; its name."""
        from psycopg import sql

        self._n += 1
        name = f"{prefix}_{self._n}"
        with self._admin() as c:
            c.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return name

    def drop_database(self, name: str) -> None:
        """Drop ``name``, closing what a test left connected to it."""
        from psycopg import sql

        with self._admin() as c:
            c.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
