"""Benchmark: `audit work` with 1, 2 and 4 workers against one `audit run`, on PostgreSQL.

    .venv/bin/python bench/bench_workers.py [--sites 32] [--concurrency 4] [--claim-rows 1000]

One run, one throwaway PostgreSQL (tests/pgserver.py), local company sites on 127.0.0.1
(audit.demo.sites: English and Hebrew forms, a quarter found from the homepage, that
count every form they receive). Each setup sends the same sites' forms on a database of
its own, with the same total concurrency C (browser contexts at once, all processes
together):

- `audit run --submit --concurrency C` (one process, one Chromium);
- 1 worker: `audit work --submit --concurrency C`;
- 2 workers at C/2 each, 4 workers at C/4 each (each worker launches its own Chromium).

Reported per setup: wall time from the first process's start to the last one's exit,
companies per minute, CPU-s per company (every process and its browser: the larger of
the reaped children's rusage and /proc samples of the trees), the load average, and
whether every site received exactly one form. On a 2-core machine the CPU is the limit:
more workers add browsers and their start-up, not cores, so the figures show what a
worker costs, not how far workers scale on many hosts.

Then the store's overhead of claiming per company on the same PostgreSQL
(bench_claims.drain: claim + fenced click + fenced finish, heartbeat every 10 claims,
1 worker; goal < 5 ms per claim).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE.parent / "tests" / "drills"))

from _common import TreeSampler, children_cpu_s, emit, loadavg, machine  # noqa: E402
from bench_claims import _plan, drain  # noqa: E402
from drillkit import (  # noqa: E402
    audit_cmd,
    audit_env,
    plain_companies,
    quick_browser,
    write_workspace,  # noqa: E402
)
from pgserver import PgServer  # noqa: E402

from audit.clock import Clock  # noqa: E402
from audit.demo.sites import DemoWorld  # noqa: E402

CEILING_S = 3600  # per setup: a ceiling against a hung run, not a goal


def setup_run(
    name: str, args: list[list[str]], world: DemoWorld, pg: PgServer, root: Path, conc: int
) -> dict[str, Any]:
    for site in world.sites:
        site.received.clear()
    url = pg.url(pg.create_database(name.replace(" ", "_")))
    ws = write_workspace(
        root / name.replace(" ", "-"), world, browser=quick_browser(conc), store=url
    )
    before = children_cpu_s()
    load_before = loadavg()
    t0 = time.monotonic()
    procs, samplers = [], []
    for a in args:
        log = (ws / f"{name.replace(' ', '-')}-{len(procs)}.log").open("ab")
        procs.append(
            subprocess.Popen(audit_cmd(*a, "-w", str(ws)), stdout=log, stderr=log, env=audit_env())
        )
        samplers.append(TreeSampler(procs[-1].pid).start())
    codes = [p.wait(timeout=CEILING_S) for p in procs]
    wall = time.monotonic() - t0
    for s in samplers:
        s.stop()
    reaped = children_cpu_s() - before
    sampled = sum(s.cpu_s for s in samplers)
    cpu = max(reaped, sampled)
    forms = [len(s.received) for s in world.sites]
    n = len(world.sites)
    return {
        "setup": name,
        "processes": len(args),
        "exit_codes": codes,
        "wall_s": round(wall, 1),
        "companies_per_min": round(n / wall * 60, 1),
        "cpu_s_per_company": round(cpu / n, 2),
        "cpu_s": round(cpu, 1),
        "exactly_one_form_each": all(f == 1 for f in forms),
        "forms_received": sum(forms),
        "load_before": load_before,
        "load_after": loadavg(),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sites", type=int, default=32)
    ap.add_argument("--concurrency", type=int, default=4, help="total, all processes together")
    ap.add_argument("--claim-rows", type=int, default=1000)
    ap.add_argument("--full", action="store_true", help="64 sites at concurrency 8")
    args = ap.parse_args()
    if args.full:
        args.sites, args.concurrency = 64, 8
    c = args.concurrency
    os.environ["AUDIT_BLOCK_OUTSIDE"] = "1"
    pg = PgServer().start()
    world = DemoWorld(plain_companies(args.sites, "bw"), Clock(), 9, "replies.bench.test").start()
    rows: list[dict[str, Any]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-workers-") as tmp:
            root = Path(tmp)
            setups: list[tuple[str, list[list[str]]]] = [
                ("audit run", [["run", "--submit", "--concurrency", str(c)]])
            ]
            for w in (1, 2, 4):
                per = max(1, c // w)
                cmd = ["work", "--submit", "--concurrency", str(per), "--heartbeat", "5"]
                setups.append((f"{w} worker{'s' if w > 1 else ''}", [cmd] * w))
            for name, cmds in setups:
                print(f"== {name} (load {loadavg()})", file=sys.stderr, flush=True)
                rows.append(setup_run(name, cmds, world, pg, root, c))
                print(rows[-1], file=sys.stderr, flush=True)
        url = pg.url(pg.create_database("claims"))
        claims = drain(url, _plan(url, args.claim_rows), 1)
        claims["rows"] = args.claim_rows
        claims["goal_ms"] = 5.0
        claims["met"] = claims["claim_ms_median"] < 5.0
        claims["loadavg"] = loadavg()
    finally:
        world.stop()
        pg.cleanup()
    emit(
        {
            "benchmark": "workers",
            "sites": args.sites,
            "concurrency": c,
            "cores": os.cpu_count(),
            "machine": machine(),
            "rows": rows,
            "claims": claims,
            "note": "on 2 cores the CPU is the limit: more workers add browsers, not cores",
        }
    )


if __name__ == "__main__":
    main()
