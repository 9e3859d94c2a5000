"""`audit work`: one of many worker processes, on any hosts, that share a wave's companies.

Each worker plans the companies of its companies.yaml that the wave lacks (safe when
several do it at once), then claims planned submissions from the shared store one at a
time (``Store.claim_next``: two workers never get the same one; one site at a time
across workers) and sends them with the per-company routine of `audit run`
(``WaveRun.company``). While it works, a heartbeat stamps the claims it holds; a claim
whose heartbeat went stale (or whose process is gone, on this host) is ended by the
lifecycle: planned again if never clicked, else uncertain. Never re-queued blindly. The
click and the finish are written only while the claim is still this worker's (fenced).

A worker exits when nothing in the wave is planned and no other worker holds a claim
that could come back (a vanished worker's unclicked company is planned again).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from audit import lifecycle
from audit.app.common import fault_point, new_worker_id
from audit.app.run import (
    CompanyRun,
    Interrupt,
    RunOptions,
    RunSummary,
    WaveRun,
    _begin,
    _browsing,
    _plan,
    _with_signals,
    _with_wave,
    resolved_browser_settings,
)
from audit.app.session import session
from audit.clock import Clock, current_clock
from audit.config import Workspace, load_workspace, reply_domain_problem
from audit.errors import ConfigError
from audit.lifecycle import Submission
from audit.models import BLOCK_OUTSIDE_ENV, BrowserSettings, Company
from audit.store import Store

log = logging.getLogger(__name__)


@dataclass
class WorkOptions:
    worker_id: str | None = None  # default: host:pid:random
    heartbeat_s: float = lifecycle.DEFAULT_HEARTBEAT_S


def work(
    root: str | os.PathLike[str],
    opts: RunOptions,
    wopts: WorkOptions | None = None,
    clock: Clock | None = None,
    on_result: Callable[[CompanyRun], None] | None = None,
    on_start: Callable[[int], None] | None = None,
    on_notice: Callable[[str], None] | None = None,
) -> RunSummary:
    """Claim and submit the wave's companies until none is left to claim.

    Ctrl-C / SIGTERM stop the worker as they stop a run (see Interrupt).
    """
    wopts = wopts or WorkOptions()
    if not opts.submit:
        raise ConfigError(
            "audit work only submits: add --submit (a dry run of the forms is `audit run`)"
        )
    if wopts.heartbeat_s <= 0:
        raise ConfigError(
            f"--heartbeat must be a positive number of seconds, not {wopts.heartbeat_s}"
        )
    clock = clock or current_clock()
    ws = _with_wave(load_workspace(root), opts.wave, clock)
    if placeholder := reply_domain_problem(ws):
        raise ConfigError(f"{placeholder} before work --submit (nothing was sent)")
    if os.environ.get(BLOCK_OUTSIDE_ENV) == "1":
        opts = replace(opts, block_outside=True)
    browser = resolved_browser_settings(ws, opts)
    interrupt = Interrupt(on_notice=on_notice)
    interrupt.hold()  # a signal while the store opens or closes is counted, not raised
    try:
        with session(ws=ws, clock=clock) as s:
            return asyncio.run(
                _with_signals(
                    interrupt,
                    _work(ws, s.store, browser, opts, wopts, clock, on_result, on_start, interrupt),
                )
            )
    finally:
        interrupt.release()


async def _work(
    ws: Workspace,
    store: Store,
    browser: BrowserSettings,
    opts: RunOptions,
    wopts: WorkOptions,
    clock: Clock,
    on_result: Callable[[CompanyRun], None] | None,
    on_start: Callable[[int], None] | None,
    interrupt: Interrupt,
    session_type: Any = None,
) -> RunSummary:
    wave_id, run_id = _begin(ws, store, browser, opts, clock, "work")
    wr = WaveRun(
        ws,
        store,
        browser,
        opts,
        clock,
        interrupt,
        wave_id,
        run_id,
        on_result,
        worker=wopts.worker_id or new_worker_id(),
        heartbeat_s=wopts.heartbeat_s,
    )
    wr.recover_stale()
    skipped, _todo = _plan(ws, store, ws.companies, wave_id, opts, clock, skip_planned=True)
    for r in skipped:
        if r.outcome == "skipped":  # the wave's other companies are the claims' business
            wr.count(r)
    planned, _others = store.wave_work_left(wave_id, wr.worker)
    if on_start:
        on_start(planned)
    by_slug = {c.slug: c for c in ws.companies}
    claimed_total = [0]

    def company_of(sub: Submission) -> Company:
        stored = store.company_by_id(sub.company_id)
        return by_slug.get(stored.slug, stored)

    async def lane() -> None:
        """One browser context's worth of work: claim, send, again, until none is left."""
        while not interrupt.requested and not wr.stop_reason:
            sub = store.claim_next(
                wave_id, wr.worker, run_id, clock.now(), browser.site_delay_s or 0.0
            )
            if sub is None:
                wr.recover_stale()
                store.release_orphans(wave_id, wr.worker, wr.held, clock.now())
                planned, others = store.wave_work_left(wave_id, wr.worker)
                if planned == 0 and others == 0:
                    return
                # planned ones wait for a busy site, or another worker's claim may come back
                await asyncio.sleep(min(wr.heartbeat_s, 2.0))
                continue
            wr.held.add(sub.id)
            claimed_total[0] += 1
            fault_point("after-claim")
            await wr.company(company_of(sub), sub, claimed=True)

    async def guarded() -> None:
        try:
            await lane()
        except asyncio.CancelledError:
            if not interrupt.requested:
                raise

    async with _browsing(wr, session_type):
        tasks = [asyncio.ensure_future(guarded()) for _ in range(browser.concurrency)]
        interrupt.tasks.update(tasks)
        await asyncio.gather(*tasks)
    log.info("worker %s: %d claims", wr.worker, claimed_total[0])
    return wr.summary(claimed_total[0])
