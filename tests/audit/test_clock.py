"""The one clock: AUDIT_CLOCK / --clock forms, pure (the real instant is passed in)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from audit.clock import Clock, parse_clock
from audit.errors import ConfigError

REAL = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)


def test_the_default_is_real_time() -> None:
    for spec in (None, "", "real", "system"):
        clock = parse_clock(spec, REAL)
        assert clock == Clock() and not clock.simulated


def test_an_instant_starts_the_clock_there() -> None:
    clock = parse_clock("2026-11-03T10:00+02:00", REAL)
    assert clock.offset_s == (REAL - datetime(2026, 11, 3, 8, 0, tzinfo=UTC)).total_seconds()
    assert clock.simulated and clock.frozen_at is None


def test_an_anchored_instant_is_the_same_offset_in_every_process() -> None:
    spec = "2026-11-03T10:00+02:00@2026-12-01T00:00Z"
    a, b = parse_clock(spec, REAL), parse_clock(spec, REAL + timedelta(hours=5))
    assert a == b and a.offset_s == (28 * 86400 - 8 * 3600 + 0.0)


def test_frozen_never_moves_and_keeps_its_offset_for_the_record() -> None:
    clock = parse_clock("frozen:2026-11-03T10:00Z", REAL)
    assert clock.now() == clock.now() == datetime(2026, 11, 3, 10, 0, tzinfo=UTC)
    assert clock.offset_s == (REAL - clock.now()).total_seconds()


@pytest.mark.parametrize(
    ("spec", "offset"), [("-7d", 7 * 86400), ("+90m", -5400), ("-3600s", 3600), ("+1.5h", -5400)]
)
def test_a_shift(spec: str, offset: float) -> None:
    assert parse_clock(spec, REAL).offset_s == offset


@pytest.mark.parametrize("spec", ["tomorrow", "2026-11-03T10:00", "frozen:soon", "7d", "x@y"])
def test_a_bad_value_names_the_variable_and_the_forms(spec: str) -> None:
    with pytest.raises(ConfigError, match=r"AUDIT_CLOCK=.*frozen:INSTANT"):
        parse_clock(spec, REAL)


def test_the_cli_pins_the_clock_and_check_shows_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    def audit(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "audit.cli", *args], capture_output=True, text=True
        )

    assert audit("init", str(tmp_path / "ws")).returncode == 0
    proc = audit(
        "--clock", "frozen:2025-11-04T10:00+02:00", "check", "-w", str(tmp_path / "ws"),
        "--no-browser", "--no-mailbox", "--json",
    )  # fmt: skip
    import json

    items = {i["name"]: i for i in json.loads(proc.stdout)}
    assert items["clock"]["ok"] and "2025-11-04T08:00:00+00:00" in items["clock"]["detail"]
    bad = audit("--clock", "next week", "status", "-w", str(tmp_path / "ws"))
    assert bad.returncode == 2 and "AUDIT_CLOCK='next week' is not a clock" in bad.stderr
