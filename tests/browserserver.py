"""A real Playwright browser server for the tests, on 127.0.0.1, started as a subprocess.

    with BrowserServer() as server:
        run("audit", "run", "--browser-endpoint", server.endpoint, ...)

``start()`` writes a launchServer config (the machine's Chromium as ``executablePath``, as
``probes.browser.find_browser`` finds it: Debian's ``/usr/lib/chromium/chromium`` here,
since Playwright cannot download browsers on these machines; our quiet launch switches;
127.0.0.1, a free port and a random ``wsPath``) and runs

    python -m playwright launch-server --browser chromium --config CONFIG.json

with the venv's own Playwright driver, in its own session (process group: python ->
node -> Chromium). It is ready when the server prints its endpoint (``ws://...``), which
is ``server.endpoint``. ``stop()`` sends SIGTERM to the group (the server closes its
browser) and waits; ``kill()`` sends SIGKILL to the group, for drills that kill a browser
server in the middle of a wave; ``restart()`` starts it again on the same port and path.

``BrowserServer(version="1.50.0")`` is a real server that believes it is another
Playwright release (the driver's ``PW_VERSION_OVERRIDE``, read by its
``getPlaywrightVersion``): it refuses our client with Playwright's genuine
``428 Precondition Required`` version-mismatch answer, so the mismatch path is tested
without a second Playwright install.

The server's output goes to ``server.log`` (in the server's temp folder), which a failing
test can print.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from types import TracebackType

from probes.browser import find_browser, launch_args

READY_CEILING_S = 90.0  # a ceiling against a hung start, never a speed assertion


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class BrowserServer:
    """One ``playwright launch-server`` process group on 127.0.0.1 (see the module doc)."""

    def __init__(self, version: str | None = None, block_outside: bool = True) -> None:
        self.version = version  # None: this Playwright's own; "1.50.0": pretend to be that
        self.block_outside = block_outside
        self.port = free_port()
        self.path = f"/pw-{secrets.token_hex(6)}"
        self.folder = Path(tempfile.mkdtemp(prefix="audit-browserserver-"))
        self.log = self.folder / "server.log"
        self.endpoint = ""
        self.proc: subprocess.Popen[str] | None = None
        self._drainer: threading.Thread | None = None

    def config(self) -> dict[str, object]:
        """The launchServer options (Playwright's LaunchServerOptions, JSON)."""
        return {
            "executablePath": find_browser().path,
            "headless": True,
            "args": launch_args(self.block_outside),
            "host": "127.0.0.1",
            "port": self.port,
            "wsPath": self.path,
        }

    def start(self) -> BrowserServer:
        cfg = self.folder / "launch-server.json"
        cfg.write_text(json.dumps(self.config()), encoding="utf-8")
        env = dict(os.environ)
        env.pop("PW_VERSION_OVERRIDE", None)
        if self.version:
            env["PW_VERSION_OVERRIDE"] = self.version
        log = self.log.open("a", encoding="utf-8")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "playwright", "launch-server", "--browser", "chromium"]
            + ["--config", str(cfg)],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env=env,
            start_new_session=True,
        )
        log.close()
        watchdog = threading.Timer(READY_CEILING_S, self.kill)
        watchdog.start()
        try:
            assert self.proc.stdout is not None
            line = self.proc.stdout.readline().strip()
        finally:
            watchdog.cancel()
        if not line.startswith("ws://"):
            self.stop()
            raise RuntimeError(
                f"the browser server did not start (printed {line!r}):\n{self.output()}"
            )
        self.endpoint = line
        self._drainer = threading.Thread(target=self._drain, daemon=True)
        self._drainer.start()
        return self

    def _drain(self) -> None:
        """Keep reading the server's stdout (into the log) so it never blocks on a pipe."""
        proc = self.proc
        if proc is None or proc.stdout is None:
            return
        with contextlib.suppress(ValueError, OSError):
            for text in proc.stdout:
                with self.log.open("a", encoding="utf-8") as fh:
                    fh.write(text)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _signal_group(self, sig: signal.Signals) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)

    def stop(self) -> None:
        """SIGTERM to the group (the server closes its browser), then wait; SIGKILL if stuck."""
        if self.proc is None:
            return
        self._signal_group(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()
        self._signal_group(signal.SIGKILL)  # anything the server left in its group
        if self._drainer is not None:
            self._drainer.join(timeout=10)  # ends at EOF: the group is gone
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.proc = None

    def kill(self) -> None:
        """SIGKILL to the whole group: the server dies as in a crash (a chaos drill's kill)."""
        if self.proc is None:
            return
        self._signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=20)

    def restart(self) -> BrowserServer:
        """Start again on the same port and path (the endpoint stays the same)."""
        self.stop()
        return self.start()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> BrowserServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cleanup()
