"""Benchmark: build_report on a store of 10,000 companies x 4 waves (goal < 10 s, RSS < 1 GB).

    .venv/bin/python bench/bench_reports.py [--companies 10000] [--waves 4] [--dir bench/out]

The store is filled with bulk inserts through audit.store's tables (the Store methods
commit once per row, which would make the set-up, not the report, the slow part). About
60% of submissions get a human reply, 15% an auto-acknowledgement only, 3% bounce, 5%
fail to submit; reply times are log-normal around a few hours. Prints the set-up time,
load + compute + render time, peak RSS and the size of the output.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import shutil
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


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--companies", type=int, default=10_000)
    ap.add_argument("--waves", type=int, default=4)
    ap.add_argument("--dir", type=Path, default=Path(__file__).parent / "out")
    ap.add_argument("--lang", default="en")
    args = ap.parse_args()
    root = args.dir.resolve()
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    store = st.Store.open(f"sqlite:///{root / 'survey.db'}")
    t = time.perf_counter()
    companies = fill(store, args.companies, args.waves)
    setup_s = time.perf_counter() - t
    survey = SurveyConfig()
    survey.survey.wave = f"wave-{args.waves}"
    ws = Workspace(root=root, survey=survey, companies=companies)
    now = datetime(2027, 1, 1, tzinfo=UTC)
    t = time.perf_counter()
    cpu0 = _cpu_s()
    paths = build_report(store, ws, lang=args.lang, now=now)
    build_s = time.perf_counter() - t
    cpu_s = _cpu_s() - cpu0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size_mb = sum(p.stat().st_size for p in paths.dir.rglob("*") if p.is_file()) / 1e6
    n_pages = len(list((paths.dir / "companies").glob("*.html")))
    print(
        f"companies={args.companies} waves={args.waves} submissions={args.companies * args.waves}"
    )
    print(
        f"setup {setup_s:.1f} s; build_report {build_s:.2f} s wall (goal < 10 s), "
        f"{cpu_s:.2f} s CPU incl. the xlsx worker; load average {os.getloadavg()[0]:.1f}"
    )
    print(f"peak RSS {rss_mb:.0f} MB (goal < 1024 MB)")
    print(f"output {size_mb:.1f} MB, {n_pages} company pages, index {paths.index_html}")
    store.close()
    return 0 if build_s < 10 and rss_mb < 1024 else 1


if __name__ == "__main__":
    raise SystemExit(main())
