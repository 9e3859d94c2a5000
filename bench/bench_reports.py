"""Benchmark: build_report at research scale, and how fast its leaderboard opens.

    .venv/bin/python bench/bench_reports.py [--companies 10000] [--waves 4] [--dir bench/out]

Goals (issue 15): 10,000 companies x 4 waves < 10 s; 100,000 x 4 < 60 s with a peak RSS
< 2 GB, and its leaderboard opens in Chromium (load to first paint) in < 2 s.

The store is filled with bulk inserts through audit.store's tables (the Store methods
commit once per row, which would make the set-up, not the report, the slow part). About
60% of submissions get a human reply, 15% an auto-acknowledgement only, 3% bounce, 5%
fail to submit; reply times are log-normal around a few hours. The build runs in its own
process (``--build-only``), so its peak RSS is the report's, not the set-up's; the xlsx
worker it starts is measured apart. Then a real Chromium opens index.html from disk three
times (a fresh page each) and reports the median first-contentful-paint (and first-paint)
time from the navigation's start, read from ``performance.getEntriesByType('paint')``.
Prints text lines (parsed by run_all.py) and a JSON object as the last line.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from audit import store as st  # noqa: E402
from audit.config import Workspace  # noqa: E402
from audit.models import Company, SurveyConfig  # noqa: E402
from reports.render import build_report  # noqa: E402

SECTORS = ["banks", "insurance", "telecom", "credit cards", "health", "food", "retail", "energy"]


def fill(store: st.Store, n_companies: int, n_waves: int, seed: int = 1) -> list[Company]:
    rng = np.random.default_rng(seed)
    companies = [
        Company(
            name=f"Company {i:05d}" if i % 7 else f"חברה {i:05d}",
            id=f"c{i:05d}",
            sector=SECTORS[i % len(SECTORS)],
            homepage=f"https://c{i:05d}.example.com/",
            promise="2 business days" if i % 10 == 0 else None,
        )
        for i in range(n_companies)
    ]
    t0 = datetime(2026, 1, 4, 7, 0, tzinfo=UTC)
    with store.tx() as c:
        c.execute(
            st.companies.insert(),
            [
                {
                    "id": i + 1,
                    "slug": co.slug,
                    "name": co.name,
                    "sector": co.sector,
                    "homepage": co.homepage,
                    "domains_json": "[]",
                    "config_json": co.model_dump_json(),
                }
                for i, co in enumerate(companies)
            ],
        )
        run_id = c.execute(
            st.runs.insert().values(
                kind="run", started_at=t0, tool_version="bench", clock_offset_s=0.0
            )
        ).inserted_primary_key[0]
        for w in range(n_waves):
            start = t0 + timedelta(days=91 * w)
            c.execute(
                st.waves.insert().values(
                    id=w + 1,
                    name=f"wave-{w + 1}",
                    created_at=start,
                    close_at=start + timedelta(days=14),
                )
            )
        subs, events, msgs = [], [], []
        sid = mid = 0
        for w in range(n_waves):
            start = t0 + timedelta(days=91 * w)
            offsets = rng.integers(0, 3 * 86400, n_companies)
            u = rng.random(n_companies)
            delays = np.exp(rng.normal(np.log(4 * 3600), 1.6, n_companies))
            for i in range(n_companies):
                sid += 1
                at = start + timedelta(seconds=int(offsets[i]))
                failed = u[i] < 0.05
                subs.append(
                    {
                        "id": sid,
                        "company_id": i + 1,
                        "wave_id": w + 1,
                        "state": "failed" if failed else "submitted",
                        "outcome": "no_form" if failed else "submitted",
                        "reason": "no contact form found" if failed else None,
                        "token": f"{sid:08d}",
                        "reply_address": f"s+{sid:08d}@x.test",
                        "created_at": at,
                        "submitted_at": None if failed else at,
                        "clicked_at": None if failed else at,
                        "run_id": run_id,
                    }
                )
                if failed:
                    continue
                kinds = []
                if u[i] < 0.65:
                    kinds = [("human", delays[i])]
                elif u[i] < 0.80:
                    kinds = [("auto_ack", 30.0)]
                elif u[i] < 0.83:
                    kinds = [("bounce", 5.0)]
                if u[i] < 0.25:
                    kinds.append(("auto_ack", 20.0))
                for kind, d in kinds:
                    mid += 1
                    rt = at + timedelta(seconds=float(d))
                    text = f"Hello Dana, about your question ({sid}) ..." * 4
                    msgs.append(
                        {
                            "id": mid,
                            "folder": "INBOX",
                            "uidvalidity": 1,
                            "uid": mid,
                            "message_id": f"<{mid}@x>",
                            "fingerprint": f"{mid:064d}",
                            "internaldate": rt,
                            "recorded_at": rt,
                            "sender": "help@x.test",
                            "subject": f"Re: question {sid}",
                            "text": text,
                            "kind": kind,
                            "submission_id": sid,
                            "match_method": "address_tag",
                            "eml_sha256": hashlib.sha256(text.encode()).hexdigest(),
                        }
                    )
                    events.append(
                        {
                            "submission_id": sid,
                            "channel": "email",
                            "kind": kind,
                            "at": rt,
                            "message_id": mid,
                            "source": "imap",
                            "recorded_at": rt,
                        }
                    )
        for table, rows in (
            (st.submissions, subs),
            (st.messages, msgs),
            (st.contact_events, events),
        ):
            for k in range(0, len(rows), 5000):
                c.execute(table.insert(), rows[k : k + 5000])
    return companies


def _cpu_s() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def build_only(root: Path, wave: str, lang: str) -> dict[str, float | str]:
    """Run in a fresh process: build the report of the store in ``root``."""
    store = st.Store.open(f"sqlite:///{root / 'survey.db'}")
    survey = SurveyConfig()
    survey.survey.wave = wave
    ws = Workspace(root=root, survey=survey, companies=[])
    now = datetime(2027, 1, 1, tzinfo=UTC)
    t = time.perf_counter()
    cpu0 = _cpu_s()
    paths = build_report(store, ws, lang=lang, now=now)
    build_s = time.perf_counter() - t
    store.close()
    return {
        "build_s": round(build_s, 2),
        "cpu_s": round(_cpu_s() - cpu0, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "child_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
        "index": str(paths.index_html),
    }


def first_paint(index: Path, runs: int = 3) -> dict[str, float]:
    """Median first-paint / first-contentful-paint of index.html in Chromium, in ms."""
    from playwright.sync_api import sync_playwright

    from probes.browser import find_browser

    info = find_browser(None)
    fp, fcp, load = [], [], []
    with sync_playwright() as pw:
        kw: dict[str, object] = {"headless": True}
        if info.path:
            kw["executable_path"] = info.path
        browser = pw.chromium.launch(**kw)  # type: ignore[arg-type]
        for _ in range(runs):
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(index.as_uri(), wait_until="load", timeout=120_000)
            page.wait_for_function(
                "performance.getEntriesByName('first-contentful-paint').length > 0"
            )
            got = page.evaluate(
                """() => ({
                fp: performance.getEntriesByName('first-paint')[0].startTime,
                fcp: performance.getEntriesByName('first-contentful-paint')[0].startTime,
                load: performance.getEntriesByType('navigation')[0].loadEventEnd})"""
            )
            fp.append(got["fp"])
            fcp.append(got["fcp"])
            load.append(got["load"])
            page.close()
        browser.close()
    return {
        "first_paint_ms": round(statistics.median(fp)),
        "first_contentful_paint_ms": round(statistics.median(fcp)),
        "load_event_ms": round(statistics.median(load)),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--companies", type=int, default=10_000)
    ap.add_argument("--waves", type=int, default=4)
    ap.add_argument("--dir", type=Path, default=Path(__file__).parent / "out")
    ap.add_argument("--lang", default="en")
    ap.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--no-browser", action="store_true", help="skip the first-paint figure")
    args = ap.parse_args()
    root = args.dir.resolve()
    if args.build_only:
        print(json.dumps(build_only(root, f"wave-{args.waves}", args.lang)))
        return 0
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    store = st.Store.open(f"sqlite:///{root / 'survey.db'}")
    t = time.perf_counter()
    fill(store, args.companies, args.waves)
    setup_s = time.perf_counter() - t
    store.close()
    load_before = os.getloadavg()[0]
    cmd = [sys.executable, __file__, "--build-only", "--dir", str(root)]
    cmd += ["--waves", str(args.waves), "--lang", args.lang]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        sys.stderr.write(proc.stderr[-3000:])
        return 1
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    out = Path(str(r["index"])).parent
    files = [p for p in out.rglob("*") if p.is_file()]
    size_mb = sum(p.stat().st_size for p in files) / 1e6
    index_mb = Path(str(r["index"])).stat().st_size / 1e6
    n_pages = len(list((out / "companies").glob("*.html")))
    paint = {} if args.no_browser else first_paint(Path(str(r["index"])))
    big = args.companies > 10_000
    goal_s, goal_mb = (60, 2048) if big else (10, 1024)
    n = args.companies
    print(f"companies={n} waves={args.waves} submissions={n * args.waves}")
    print(
        f"setup {setup_s:.1f} s; build_report {r['build_s']:.2f} s wall (goal < {goal_s} s), "
        f"{r['cpu_s']:.2f} s CPU incl. the xlsx worker; load average {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after"
    )
    print(
        f"peak RSS {r['peak_rss_mb']:.0f} MB (goal < {goal_mb} MB); "
        f"largest child process (xlsx worker, second renderer) {r['child_rss_mb']:.0f} MB"
    )
    print(
        f"output {size_mb:.1f} MB in {len(files)} files, index.html {index_mb:.1f} MB, "
        f"{n_pages} company pages, index {r['index']}"
    )
    if paint:
        print(
            f"leaderboard in Chromium: first paint {paint['first_paint_ms']} ms, first "
            f"contentful paint {paint['first_contentful_paint_ms']} ms (goal < 2000 ms), "
            f"load event {paint['load_event_ms']} ms"
        )
    result = {
        "benchmark": "reports",
        "companies": n,
        "waves": args.waves,
        "setup_s": round(setup_s, 1),
        **{k: v for k, v in r.items() if k != "index"},
        "output_mb": round(size_mb, 1),
        "files": len(files),
        "index_mb": round(index_mb, 2),
        "company_pages": n_pages,
        **paint,
    }
    print(json.dumps(result))
    ok = r["build_s"] < goal_s and r["peak_rss_mb"] < goal_mb
    if paint:
        ok = ok and paint["first_contentful_paint_ms"] < 2000
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
