"""Benchmark: submission throughput of `audit run --submit` against a naive Playwright script.

    .venv/bin/python bench/bench_submit.py [--sites 16] [--rounds 10] [--concurrency 1,2,4,8]
                                           [--full]

Local company sites (audit.demo.sites.DemoWorld, companies that never reply; English and
Hebrew forms, half of them found from the homepage's link) are served on 127.0.0.1 by
this process. Each measurement runs in a child process, so its CPU (the child plus the
Playwright driver and every Chromium process, reaped: RUSAGE_CHILDREN, cross-checked by
sampling /proc/PID/stat every 0.5 s) and the peak PSS of its Chromium processes
(/proc/PID/smaps_rollup, summed, every 2 s: reading it makes the kernel walk each
process's page tables: sampling everything every 0.5 s took 3.5 CPU-s a minute at N=8,
~6% of a core, from the run it measured, now 1.4; see _common.TreeSampler) are its own:

- pipeline N: audit.pipeline.run_survey(RunOptions(submit=True, block_outside=True,
  concurrency=N)) on a fresh workspace (discovery, role analysis, screenshots, evidence,
  the SQLite store: everything a real run does);
- baseline: one Chromium (same binary, probes.browser.find_browser()), one site at a
  time, a fresh context per site: open the contact page, type the same values (the
  template's subject and message with the reference code) key by key with the same
  human-like timing (keystroke delays, the same short pause after each field as
  probes/fill.py; up to 160 typed characters per field, the rest inserted at once),
  tick consent, click send, wait for the confirmation.

Both keep the human-like fill time: at least --min-fill seconds on each form and
--typing delays per keystroke. The tool types the short values and pastes the long ones
(probes/fill.py). What each site received is checked against the values the naive
script types (``values`` per run). Goals (issue 15): CPU-s per form <= 0.5 x the naive
script's; at each N, forms/min >= 0.9 x min(N x the tool's sequential forms/min, cores x
60 / CPU-s per form at N) (``goal_vs_naive_rate``: issue 6's form, with the naive rate).

How many sites: the baseline and N=1 run over --sites (16); a level N runs over
max(--sites, --rounds x N) sites (the first ones of the same world), so that every level
sends at least --rounds (10) forms per slot: N=2, 4 and 8 over 20, 40 and 80 sites. With
16 sites N=8 was two rounds, where the start (the child's imports ~0.6 s, the browser
launch ~0.7 s) and the spread of the last round's finishes (~2.5 s) made a fifth of a
~18 s wall: the rate said more about the batch's ends than about the throughput a survey
of hundreds of companies gets. In the last round the slots finish one by one, each
within a form's time of the others (3.5-4 s at N=4), and wait for the last: about half a
form per slot, 7% of N=4's wall with 6 rounds, ~4% with 10. The sequential rate is the
steady one already at 16 forms (the start is ~2% of its wall). The whole run (naive
script, N=1, 2, 4, 8) takes ~9 min, the naive script ~4 of them (16 forms at ~14 s at
load 2-3). --full: 60 sites
at every level (the issue's size).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, loadavg, run_measured  # noqa: E402

MAX_TYPED = 160
PERSONA = {
    "fullname": "Dana Cohen",
    "email": "survey+{t}@replies.bench.test",
    "phone": "050-555-0134",
}
MESSAGE = (
    "Hello,\n\nI am interested in your services and would like to know how I can open an "
    "account, what it costs per month, and whether there is a discount for new customers.\n"
    "Could you please get back to me by e-mail?\n\nThank you,\nDana Cohen\n050-555-0134\n\n"
    "Reference: CA-{T}"
)
SUBJECT = "Question about your services (ref CA-{T})"  # the template's subject, as typed
REF_RE = re.compile(r"CA-[A-Z0-9]+")
EMAIL_RE = re.compile(r"survey\+[a-z0-9]+@replies\.bench\.test")


def _squash(text: str) -> str:
    return " ".join(REF_RE.sub("CA-REF", text or "").split())


def check_values(forms: list[dict[str, str]]) -> dict[str, Any]:
    """Whether the forms a run's sites received carry the same values as the naive script
    types (whitespace and the reference code aside): the name, a plus address, the phone,
    the subject and the whole message."""
    want = {
        "fullname": _squash(PERSONA["fullname"]),
        "phone": _squash(PERSONA["phone"]),
        "subject": _squash(SUBJECT.format(T="X")),
        "message": _squash(MESSAGE.format(T="X")),
    }
    problems = []
    for fields in forms:
        bad = [k for k, v in want.items() if _squash(fields.get(k, "")) != v]
        if not EMAIL_RE.fullmatch(fields.get("email", "")):
            bad.append("email")
        if bad:
            problems.append({k: (fields.get(k) or "")[:80] for k in bad})
    return {
        "forms": len(forms),
        "as_expected": len(forms) - len(problems),
        "problems": problems[:3],
    }


# -- the sites ------------------------------------------------------------------------
def make_world(n: int) -> Any:
    from audit.clock import Clock
    from audit.demo.scenario import DemoCompany
    from audit.demo.sites import DemoWorld

    companies = tuple(
        DemoCompany(
            slug=f"bench-{i:03d}",
            name=f"Bench Company {i:03d}",
            sector=("banks", "telecom", "insurance", "retail", "health")[i % 5],
            domain=f"bench{i:03d}.example",
            lang="he" if i % 3 == 2 else "en",
            footer_only=i % 2 == 1,
        )
        for i in range(n)
    )
    return DemoWorld(companies, Clock(), 9, "replies.bench.test").start()


def write_workspace(
    root: Path, world: Any, min_fill: float, typing: tuple[int, int], sites: int | None = None
) -> None:
    """A fresh workspace surveying the world's first ``sites`` sites (all by default)."""
    import yaml

    from audit.pipeline import init_workspace

    init_workspace(root)
    survey = yaml.safe_load((root / "survey.yaml").read_text(encoding="utf-8"))
    survey["reply_address"] = {"scheme": "plus", "local": "survey", "domain": "replies.bench.test"}
    survey["mailbox"] = {"host": "127.0.0.1", "port": 9, "tls": "plain"}
    survey["browser"] = {
        "min_fill_seconds": min_fill,
        "typing_delay_ms": list(typing),
        "site_delay_s": 0,
        "timeout_s": 60,
    }
    (root / "survey.yaml").write_text(yaml.safe_dump(survey, allow_unicode=True), "utf-8")
    companies = []
    for s in world.sites[:sites]:
        e = {"name": s.company.name, "id": s.company.slug, "homepage": s.url}
        if not s.company.footer_only:
            e["contact_url"] = s.url + "contact"
        companies.append(e)
    (root / "companies.yaml").write_text(yaml.safe_dump({"companies": companies}), "utf-8")


# -- the children ---------------------------------------------------------------------
def child_pipeline(ws: Path, n: int, block_outside: bool = True) -> dict[str, Any]:
    from audit import pipeline

    t0 = time.monotonic()
    summary = pipeline.run_survey(
        ws, pipeline.RunOptions(submit=True, block_outside=block_outside, concurrency=n)
    )
    wall = time.monotonic() - t0
    return {"wall_s": round(wall, 2), "counts": summary.counts}


async def _baseline(
    urls: list[str], min_fill: float, typing: tuple[int, int], proxy: str | None = None
) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    from probes.browser import find_browser

    lo, hi = typing

    async def pause() -> None:  # between fields, as probes.fill.pause does
        await asyncio.sleep(random.uniform(lo, hi) * 4 / 1000)

    info = find_browser(None)
    ok = 0
    t0 = time.monotonic()
    async with async_playwright() as pw:
        kwargs: dict[str, Any] = {"headless": True}
        if info.path:
            kwargs["executable_path"] = info.path
        if proxy:
            kwargs["proxy"] = {"server": proxy}
        browser = await pw.chromium.launch(**kwargs)
        for i, url in enumerate(urls):
            ctx = await browser.new_context()
            page = await ctx.new_page()
            try:
                await page.goto(url)
                if not url.endswith("/contact"):  # homepage only: follow the contact link
                    await page.click("a[href='/contact']")
                    await page.wait_for_selector("form#contact")
                started = time.monotonic()
                token = f"bench{i:03d}"
                values = {
                    "#f-name": PERSONA["fullname"],
                    "#f-email": PERSONA["email"].format(t=token),
                    "#f-phone": PERSONA["phone"],
                    "#f-subject": SUBJECT.format(T=token.upper()),
                    "#f-msg": MESSAGE.format(T=token.upper()),
                }
                for sel, text in values.items():
                    await page.click(sel)
                    typed, rest = text[:MAX_TYPED], text[MAX_TYPED:]
                    j = 0
                    while j < len(typed):
                        k = random.randint(1, 4)
                        await page.keyboard.type(typed[j : j + k], delay=random.randint(lo, hi))
                        j += k
                    if rest:
                        await page.keyboard.insert_text(rest)
                    await pause()
                await page.check("input[name=privacy]")
                await pause()
                wait = min_fill - (time.monotonic() - started)
                if wait > 0:
                    await asyncio.sleep(wait)
                await page.click("button[type=submit]")
                await page.wait_for_selector(".success", timeout=30_000)
                ok += 1
            finally:
                await ctx.close()
        await browser.close()
    return {"wall_s": round(time.monotonic() - t0, 2), "counts": {"submitted": ok}}


# -- the parent -----------------------------------------------------------------------
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sites", type=int, default=16)
    ap.add_argument(
        "--rounds", type=int, default=10, help="a level N runs over max(sites, rounds x N) sites"
    )
    ap.add_argument("--concurrency", default="1,2,4,8")
    ap.add_argument("--min-fill", type=float, default=1.0)
    ap.add_argument("--typing", default="20,60", help="ms per keystroke: lo,hi")
    ap.add_argument("--full", action="store_true", help="the issue's size: 60 sites")
    ap.add_argument("--child", nargs=2, metavar=("MODE", "ARG"), help=argparse.SUPPRESS)
    ap.add_argument("--child-n", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args()
    typing = tuple(int(x) for x in args.typing.split(","))
    assert len(typing) == 2

    if args.child:  # a measured child: print one JSON line
        mode, arg = args.child
        if mode == "pipeline":
            res = child_pipeline(Path(arg), args.child_n)
        else:
            urls = json.loads(Path(arg).read_text())
            res = asyncio.run(_baseline(urls, args.min_fill, typing))  # type: ignore[arg-type]
        print(json.dumps(res))
        return 0

    n_sites = 60 if args.full else args.sites
    levels = [int(x) for x in args.concurrency.split(",")]
    sites_at = {n: max(n_sites, args.rounds * n) for n in levels}
    cores = os.cpu_count() or 1
    world = make_world(max([n_sites, *sites_at.values()]))
    env = dict(os.environ, AUDIT_BLOCK_OUTSIDE="1")
    me = [sys.executable, str(Path(__file__).resolve())]
    common = ["--min-fill", str(args.min_fill), "--typing", args.typing]
    runs: dict[str, Any] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-submit-") as tmp:
            received0 = sum(len(s.received) for s in world.sites)

            def new_forms(before: list[int]) -> list[dict[str, str]]:
                return [
                    r.fields
                    for s, b in zip(world.sites, before, strict=True)
                    for r in s.received[b:]
                ]

            def counts() -> list[int]:
                return [len(s.received) for s in world.sites]

            urls = [
                s.url + ("" if s.company.footer_only else "contact") for s in world.sites[:n_sites]
            ]
            url_file = Path(tmp) / "urls.json"
            url_file.write_text(json.dumps(urls))
            print(f"baseline over {n_sites} sites (load {loadavg()})", file=sys.stderr)
            before = counts()
            runs["baseline"] = run_measured(
                [*me, *common, "--child", "baseline", str(url_file)], env
            )
            runs["baseline"]["load_after"] = loadavg()
            runs["baseline"]["values"] = check_values(new_forms(before))
            for n in levels:
                ws = Path(tmp) / f"ws-{n}"
                write_workspace(ws, world, args.min_fill, typing, sites_at[n])  # type: ignore[arg-type]
                print(
                    f"pipeline N={n} over {sites_at[n]} sites (load {loadavg()})", file=sys.stderr
                )
                before = counts()
                runs[f"pipeline-{n}"] = run_measured(
                    [*me, *common, "--child", "pipeline", str(ws), "--child-n", str(n)], env
                )
                runs[f"pipeline-{n}"]["load_after"] = loadavg()
                runs[f"pipeline-{n}"]["values"] = check_values(new_forms(before))
            received = sum(len(s.received) for s in world.sites) - received0
    finally:
        world.stop()

    def rate(r: dict[str, Any]) -> float:
        return r["counts"].get("submitted", 0) / r["wall_s"] * 60

    def cpu_per_form(r: dict[str, Any]) -> float:
        return r["cpu_s"] / max(1, r["counts"].get("submitted", 0))

    base = runs["baseline"]
    base_rate = rate(base)
    base_cpf = cpu_per_form(base)
    seq_rate = rate(runs[f"pipeline-{levels[0]}"]) / levels[0]  # the tool's own, one at a time
    rows = []
    for n in levels:
        r = runs[f"pipeline-{n}"]
        cpf = cpu_per_form(r)
        goal = 0.9 * min(n * seq_rate, cores * 60 / cpf)
        rows.append(
            {
                "concurrency": n,
                "sites": sites_at[n],
                "forms_per_min": round(rate(r), 1),
                "baseline_forms_per_min": round(base_rate, 1),
                "ratio": round(rate(r) / base_rate, 2),
                "cpu_s_per_form": round(cpf, 2),
                "baseline_cpu_s_per_form": round(base_cpf, 2),
                "cpu_ratio_to_naive": round(cpf / base_cpf, 3),
                "cpu_goal_met": cpf <= 0.5 * base_cpf,
                "sequential_forms_per_min": round(seq_rate, 1),
                "cpu_bound_forms_per_min": round(cores * 60 / cpf, 1),
                "goal_vs_naive_rate": round(0.9 * min(n * base_rate, cores * 60 / cpf), 1),
                "values": r["values"],
                "cpu_s_by_process": r.get("cpu_s_by_process"),
                "peak_pss_chromium_mb": r["peak_pss_chromium_mb"],
                "pss_mb_per_form_slot": round(r["peak_pss_chromium_mb"] / n, 1),
                "baseline_peak_pss_chromium_mb": base["peak_pss_chromium_mb"],
                "goal_forms_per_min": round(goal, 1),
                "met": rate(r) >= goal,
                "submitted": r["counts"].get("submitted", 0),
                "counts": r["counts"],
            }
        )
    emit(
        {
            "benchmark": "submit",
            "sites": n_sites,
            "min_fill_seconds": args.min_fill,
            "typing_delay_ms": list(typing),
            "cores": cores,
            "received_by_sites": received,
            "sites_per_level": {str(n): k for n, k in sites_at.items()},
            "rounds": args.rounds,
            "expected_received": n_sites + sum(sites_at.values()),
            "baseline_values": base["values"],
            "goals": {
                "cpu": "CPU-s per form <= 0.5 x the naive script's (same values at the servers)",
                "throughput": "forms/min at N >= 0.9 x min(N x the tool's sequential rate, "
                "cores x 60 / CPU-s per form at N)",
            },
            "rows": rows,
            "raw": runs,
        }
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
