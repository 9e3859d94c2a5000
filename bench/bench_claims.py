"""Benchmark: the store's overhead of claiming per company (`audit work`), SQLite and PostgreSQL.

    .venv/bin/python bench/bench_claims.py [--rows 2000] [--workers 1 2 4] [--pg]

A wave of N planned submissions, one site each, is drained with Store.claim_next by 1,
2 and 4 workers (threads, each with its own Store: its own connection pool), each
claim followed by what a worker writes for it without a browser: the fenced click, the
fenced finish, and a heartbeat every 10 claims. Reported: wall time per company (all
workers together) and per claim call (median, p95). SQLite on a file in a temp folder;
PostgreSQL (--pg) in a throwaway cluster started like the tests' (tests/pgserver.py).
Goal (issue 13): claiming < 5 ms per company on PostgreSQL. On 2 shared cores the CPU
(this process and the server) is the limit; the figures are the store's cost, not a
browser's.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from audit.models import Company  # noqa: E402
from audit.store import Store  # noqa: E402

NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)


def _plan(url: str, rows: int) -> int:
    store = Store.open(url)
    try:
        wid = store.ensure_wave(f"bench-{time.time_ns()}", now=NOW)
        for i in range(rows):
            cid = store.upsert_company(
                Company(name=f"Bench {wid} {i}", homepage=f"https://b{wid}x{i}.example")
            )
            store.plan_submission(
                cid, wid, f"b{wid:03d}{i:05d}"[:16], "x@x", NOW, site_key=f"b{wid}x{i}"
            )
        return wid
    finally:
        store.close()


def drain(url: str, wid: int, workers: int) -> dict[str, Any]:
    stores = [Store.open(url) for _ in range(workers)]
    lat: list[float] = []
    done = [0]
    lock = threading.Lock()
    barrier = threading.Barrier(workers + 1)

    def work(i: int) -> None:
        store, me, mine = stores[i], f"bench:{i}:x", []
        barrier.wait()
        held: list[int] = []
        while True:
            t = time.perf_counter()
            sub = store.claim_next(wid, me, None, NOW)
            mine.append(time.perf_counter() - t)
            if sub is None:
                break
            held.append(sub.id)
            assert store.record_click(sub.id, me, NOW)
            if len(held) % 10 == 0:
                store.heartbeat(me, held[-1:], NOW + timedelta(seconds=1))
            assert store.finish_claimed(
                sub.id, me, {"state": "submitted", "finished_at": NOW, "submitted_at": NOW}
            )
        with lock:
            lat.extend(mine)
            done[0] += len(held)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    for s in stores:
        s.close()
    lat.sort()
    return {
        "workers": workers,
        "companies": done[0],
        "wall_s": round(wall, 2),
        "ms_per_company": round(wall / max(done[0], 1) * 1000, 2),
        "claim_ms_median": round(statistics.median(lat) * 1000, 2),
        "claim_ms_p95": round(lat[int(len(lat) * 0.95)] * 1000, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=2000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--pg", action="store_true", help="also on a throwaway PostgreSQL")
    args = ap.parse_args()
    out: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        out["sqlite"] = [drain(url, _plan(url, args.rows), n) for n in args.workers]
    if args.pg:
        from pgserver import PgServer

        server = PgServer()
        server.start()
        try:
            url = server.url(server.create_database())
            out["postgresql"] = [drain(url, _plan(url, args.rows), n) for n in args.workers]
        finally:
            server.cleanup()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
