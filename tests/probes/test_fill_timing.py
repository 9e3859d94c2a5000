"""A person's timing is what the page sees, whatever the machine's load.

The typing delay (``browser.typing_delay_ms``) is the time between two keys as the page
sees it, and the pause after a field the time until the next field is reached. Both used
to be added on top of the browser's round trips, which grow when the machine is busy
(several companies at once): a busy run typed slower than the survey asked. Now each wait
is shortened by a running estimate of the machine's own time for that step
(``fill.Lag``), never below zero. Pure logic: a fake keyboard and a fake clock.
"""

from __future__ import annotations

import asyncio

import pytest

from audit.models import BrowserSettings
from probes import fill


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class SlowKeyboard:
    """keyboard.type as Playwright does it (each character held ``delay`` ms), plus the
    machine's own ``lag_s`` per character, on a fake clock."""

    def __init__(self, clock: FakeClock, lag_s: float) -> None:
        self.clock, self.lag_s = clock, lag_s
        self.keys: list[tuple[str, float]] = []  # (character, when the page saw it)

    async def type(self, text: str, delay: float = 0) -> None:
        assert delay >= 0
        for ch in text:
            self.clock.now += self.lag_s
            self.keys.append((ch, self.clock.now))
            self.clock.now += delay / 1000


class FakePage:
    def __init__(self, keyboard: SlowKeyboard) -> None:
        self.keyboard = keyboard


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(fill, "_clock", fake)
    monkeypatch.setattr(fill, "KEY_LAG", fill.Lag())
    monkeypatch.setattr(fill, "MOVE_LAG", fill.Lag())
    return fake


def _intervals(keys: list[tuple[str, float]]) -> list[float]:
    return [b[1] - a[1] for a, b in zip(keys, keys[1:], strict=False)]


def _typed(clock: FakeClock, lag_s: float, text: str) -> list[float]:
    keyboard = SlowKeyboard(clock, lag_s)
    asyncio.run(fill._type(FakePage(keyboard), text, 50, 50))
    assert "".join(k for k, _ in keyboard.keys) == text
    return _intervals(keyboard.keys)


def test_keys_keep_the_surveys_interval_when_each_round_trip_takes_30_ms(clock) -> None:
    gaps = _typed(clock, 0.030, "survey+k7m2q9xd@replies.example.com")
    # the first keys come at delay + lag (nothing is known of the machine yet) ...
    assert gaps[0] == pytest.approx(0.080)
    # ... then the estimate has the lag, and the page sees the 50 ms asked for
    settled = gaps[len(gaps) // 2 :]
    assert sum(settled) / len(settled) == pytest.approx(0.050, abs=0.004)
    assert min(settled) >= 0.030  # a key never comes faster than the machine can send it


def test_with_no_lag_the_keys_come_at_the_interval_asked(clock) -> None:
    assert _typed(clock, 0.0, "Dana Cohen") == pytest.approx([0.050] * 9)


def test_a_machine_slower_than_the_interval_types_at_its_own_pace_never_in_bursts(
    clock,
) -> None:
    gaps = _typed(clock, 0.080, "050-555-0134")
    assert all(g >= 0.080 - 1e-9 for g in gaps)  # hold 0: no catching up below the lag


def test_a_lag_estimate_follows_the_machine_and_ignores_a_page_handlers_stall() -> None:
    lag = fill.Lag()
    for _ in range(20):
        lag.add(0.02)
    assert lag.s == pytest.approx(0.02, abs=0.001)
    lag.add(30.0)  # a page's handler blocked for 30 s: counted as Lag.MOST at most
    assert lag.s <= 0.02 + fill.Lag.WEIGHT * fill.Lag.MOST
    assert lag.wait(0.01) == 0.0 and lag.wait(1.0) == pytest.approx(1.0 - lag.s)


def test_the_pause_after_a_field_leaves_room_for_reaching_the_next(clock, monkeypatch) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(fill.asyncio, "sleep", sleep)
    settings = BrowserSettings(typing_delay_ms=(50, 50))
    asyncio.run(fill.pause(settings))
    fill.MOVE_LAG.s = 0.07  # reaching a field (click, focus) takes the machine 70 ms
    asyncio.run(fill.pause(settings))
    fill.MOVE_LAG.s = 0.5
    asyncio.run(fill.pause(settings))
    assert slept == pytest.approx([0.2, 0.13, 0.0])


class FakeField:
    """A field on a fake clock: the click reaching it takes ``click_s``, each round trip
    (the focus check, the change-and-read-back that leaves it) ``trip_s``."""

    def __init__(self, clock: FakeClock, click_s: float, trip_s: float) -> None:
        self.clock, self.click_s, self.trip_s = clock, click_s, trip_s
        self.first = self

    def locator(self, _selector: str) -> FakeField:
        return self

    async def click(self, timeout: float = 0) -> None:
        self.clock.now += self.click_s

    async def evaluate(self, js: str, _arg: object) -> list[dict[str, object]]:
        self.clock.now += self.trip_s
        leaving = "dispatchEvent(new Event('change'" in js
        return [{"value": ["Dana", True] if leaving else [False, False]}]


def test_a_move_counts_leaving_the_field_as_well_as_reaching_it(clock) -> None:
    """The pause after a field ends when the next key comes: the machine's share of that
    gap is the round trip that leaves the field (``change``, the value read back) and the
    click and focus check that reach the next; MOVE_LAG learns both."""
    field = FakeField(clock, click_s=0.030, trip_s=0.010)
    page = FakePage(SlowKeyboard(clock, 0.0))
    settings = BrowserSettings(typing_delay_ms=(0, 0))
    entered = asyncio.run(fill.type_text(page, field, "f0-1", "Dana", settings))
    assert entered == fill.Entered("Dana", True)
    # reaching: click 30 ms + focus check 10 ms; leaving: 10 ms
    assert fill.MOVE_LAG.s == pytest.approx(fill.Lag.WEIGHT * 0.050)
