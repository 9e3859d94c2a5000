"""Re-run the clock-sensitive tests (`-m clock`) with the whole process tree's clock shifted.

`make test` (and so CI) runs this after the suite, so a test whose verdict depends on the
hour or the date fails in CI on any day, not only on a Friday afternoon. Each instant is
reached with libfaketime and a relative offset computed at launch, so every child process
(the CLI, the Playwright driver, Chromium) agrees on the shifted time. Monotonic clocks are
shifted too: libfaketime 0.9.10 fails every sleep with EINVAL when they are left alone
(FAKETIME_DONT_FAKE_MONOTONIC=1). Dovecot's children ignore libfaketime, which is why the tests deliver replies
with explicit arrival times. The instants are in the past so that replies a test appends
are never in the mail server's future, and after the instant the end-to-end test pins
(2025-03-04), so that its replies are never in the shifted clock's future either.

    .venv/bin/python scripts/clock_guard.py            # every instant
    .venv/bin/python scripts/clock_guard.py --list     # show them
    .venv/bin/python scripts/clock_guard.py --only "Yom Kippur"
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
ISRAEL = ZoneInfo("Asia/Jerusalem")
# (label, local time in Israel): outside business hours, closed days, holidays.
INSTANTS = [
    ("Friday 14:00", "2026-11-27T14:00"),
    ("Saturday 12:00", "2026-11-28T12:00"),
    ("Sunday 07:00", "2026-11-29T07:00"),
    ("Wednesday 23:50", "2026-11-25T23:50"),
    ("Yom Kippur noon", "2026-09-21T12:00"),
    ("Sukkot day (Tuesday)", "2025-10-07T12:00"),
]
LIBS = (
    "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
    "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1",
)


def _faketime_env(target: datetime) -> dict[str, str]:
    lib = next((p for p in LIBS if Path(p).exists()), None)
    if lib is None:
        raise SystemExit("clock_guard: libfaketime not found (apt-get install faketime)")
    offset = round((target - datetime.now(UTC)).total_seconds())
    env = dict(os.environ)
    env.update(
        LD_PRELOAD=lib,
        FAKETIME=f"{offset:+d}",
        FAKETIME_DONT_RESET="1",
    )
    return env


def _shifted_now(env: dict[str, str]) -> datetime:
    out = subprocess.run(
        [sys.executable, "-c", "import datetime; print(datetime.datetime.now(datetime.UTC))"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return datetime.fromisoformat(out.stdout.strip())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--list", action="store_true", help="print the instants and exit")
    ap.add_argument("--only", help="run only the instant with this label")
    ap.add_argument("pytest_args", nargs="*", help="extra pytest arguments")
    args = ap.parse_args()
    chosen = [i for i in INSTANTS if args.only in (None, i[0])]
    if args.list or not chosen:
        for label, local in INSTANTS:
            print(f"{label:24} {local} Israel time")
        return 0 if chosen else 2
    if not shutil.which("faketime") and not any(Path(p).exists() for p in LIBS):
        print("clock_guard: faketime is not installed (make setup installs it)", file=sys.stderr)
        return 2
    failed = []
    for label, local in chosen:
        target = datetime.fromisoformat(local).replace(tzinfo=ISRAEL)
        env = _faketime_env(target)
        seen = _shifted_now(env)
        if abs((seen - target).total_seconds()) > 120:
            print(f"clock_guard: faketime did not shift the clock ({seen})", file=sys.stderr)
            return 2
        print(
            f"== clock guard: {label} ({local} Israel time, process clock {seen:%Y-%m-%d %H:%M} UTC)"
        )
        t0 = time.monotonic()
        cmd = [sys.executable, "-m", "pytest", "-q", "-m", "clock", "-p", "no:cacheprovider"]
        rc = subprocess.run([*cmd, *args.pytest_args], env=env, cwd=ROOT).returncode
        print(f"== {label}: {'passed' if rc == 0 else 'FAILED'} ({time.monotonic() - t0:.0f} s)")
        if rc != 0:
            failed.append(label)
    if failed:
        print(f"clock guard FAILED at: {', '.join(failed)}", file=sys.stderr)
        return 1
    print(f"clock guard passed at {len(chosen)} instants")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
