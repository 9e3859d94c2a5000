"""Where a submission's CPU goes: per step and per kind of process (a diagnostic, not a figure).

    .venv/bin/python bench/profile_submit.py [--sites 6] [--cprofile out.prof] [--json]

Runs `audit run --submit` over local demo sites (bench_submit.py's world, one form at a
time) in this process and attributes the CPU of the whole process tree (this Python
process, the Playwright driver, every Chromium process, read from /proc) to what the
probe was doing: the probe's own steps (``Probe.mark``) and, inside them, the browser
actions named in WRAPPED (exclusive time: a nested wrapped call is its own line). Also
counts the calls this process sends to the Playwright driver by method (each one a round
trip, most of them one or more CDP commands). With one form at a time the attribution is
sound up to what the browser does after a call returns (painting after a key press is
billed to whatever comes next).
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import functools
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import _kind, _stat, loadavg  # noqa: E402

# (module, attribute path) of the browser actions to bill separately
WRAPPED = (
    ("probes.analyze", "analyze_page"),
    ("probes.analyze", "wait_for_form"),
    ("probes.fill", "type_text"),
    ("probes.fill", "paste_text"),
    ("probes.fill", "set_checked"),
    ("probes.fill", "pause"),
    ("probes.locate", "goto"),
    ("probes.locate", "dismiss_cookies"),
    ("probes.evidence", "screenshot"),
    ("probes.evidence", "save_html"),
    ("probes.submit", "form_state"),
    ("probes.submit", "await_verdict"),
    ("probes.submit", "click_submit"),
    ("probes.filling", "read_back"),
    ("probes.state", "Probe.close"),
    ("probes.runner", "ProbeSession.__aenter__"),
    ("probes.runner", "ProbeSession.__aexit__"),
)


class Ledger:
    """CPU of the process tree billed to labels (exclusive: a stack of open labels)."""

    def __init__(self) -> None:
        self.me = os.getpid()
        self.kinds: dict[int, str] = {}
        self.last = self.snapshot()
        self.stack: list[str] = ["outside a probe"]
        self.cpu: dict[str, dict[str, float]] = collections.defaultdict(
            lambda: collections.defaultdict(float)
        )
        self.wall: dict[str, float] = collections.defaultdict(float)
        self.calls: collections.Counter[str] = collections.Counter()
        self.t_last = time.monotonic()

    def tree(self) -> list[int]:
        """This process and its descendants, from /proc/PID/task/TID/children (cheap:
        walking all of /proc on a busy machine cost more CPU than a probe's steps)."""
        out, todo = [], [self.me]
        while todo:
            pid = todo.pop()
            out.append(pid)
            try:
                tasks = os.listdir(f"/proc/{pid}/task")
            except OSError:
                continue
            for tid in tasks:
                try:
                    with open(f"/proc/{pid}/task/{tid}/children") as fh:
                        todo.extend(int(x) for x in fh.read().split())
                except OSError:
                    pass
        return out

    def snapshot(self) -> dict[int, float]:
        """Own CPU per process; this ledger's own cost is taken off this process."""
        t0 = time.process_time()
        out = {}
        for pid in self.tree():
            st = _stat(pid)
            if st is not None:
                out[pid] = st[1]
                if pid not in self.kinds:
                    self.kinds[pid] = _kind(pid)
        self.overhead = getattr(self, "overhead", 0.0) + time.process_time() - t0
        out[self.me] -= self.overhead
        return out

    def bill(self) -> None:
        now = self.snapshot()
        label = self.stack[-1]
        for pid, cpu in now.items():
            delta = cpu - self.last.get(pid, 0.0)
            if delta > 0:
                self.cpu[label][self.kinds.get(pid, "?")] += delta
        self.last = {**self.last, **now}
        t = time.monotonic()
        self.wall[label] += t - self.t_last
        self.t_last = t

    def enter(self, label: str) -> None:
        self.bill()
        self.stack.append(label)
        self.calls[label] += 1

    def leave(self) -> None:
        self.bill()
        self.stack.pop()

    def step(self, label: str) -> None:  # the probe's own marks replace the bottom label
        self.bill()
        self.stack[0] = label

    def table(self, forms: int) -> list[dict[str, Any]]:
        rows = []
        for label, kinds in self.cpu.items():
            total = sum(kinds.values())
            rows.append(
                {
                    "label": label,
                    "cpu_s_per_form": round(total / forms, 3),
                    "wall_s_per_form": round(self.wall[label] / forms, 3),
                    "calls_per_form": round(self.calls[label] / forms, 1),
                    "by_kind": {k: round(v / forms, 3) for k, v in sorted(kinds.items())},
                }
            )
        return sorted(rows, key=lambda r: -r["cpu_s_per_form"])


def install(ledger: Ledger) -> collections.Counter[str]:
    import importlib

    from playwright._impl import connection as _connection

    for mod_name, path in WRAPPED:
        mod = importlib.import_module(mod_name)
        owner: Any = mod
        *outer, attr = path.split(".")
        for name in outer:
            owner = getattr(owner, name)
        fn = getattr(owner, attr)

        def wrap(fn: Any, label: str) -> Any:
            @functools.wraps(fn)
            async def inner(*a: Any, **k: Any) -> Any:
                ledger.enter(label)
                try:
                    return await fn(*a, **k)
                finally:
                    ledger.leave()

            return inner

        setattr(owner, attr, wrap(fn, path))
        if not outer:  # the step modules that imported it by name
            for other in ("locate", "filling", "submit", "phone_retry", "runner"):
                user = importlib.import_module(f"probes.{other}")
                if getattr(user, attr, None) is fn:
                    setattr(user, attr, getattr(owner, attr))

    from probes import runner

    orig_mark = runner.Probe.mark

    def mark(self: Any, step: str) -> None:
        ledger.step(f"step {step}" if step != "end" else "outside a probe")
        orig_mark(self, step)

    runner.Probe.mark = mark  # type: ignore[method-assign]

    methods: collections.Counter[str] = collections.Counter()
    orig_send = _connection.Connection.send_message_to_server

    def send(self: Any, obj: Any, method: str, *a: Any, **k: Any) -> Any:
        if method != "__waitInfo__":
            methods[f"{type(obj).__name__}.{method}"] += 1
        return orig_send(self, obj, method, *a, **k)

    _connection.Connection.send_message_to_server = send  # type: ignore[method-assign]
    return methods


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sites", type=int, default=6)
    ap.add_argument("--min-fill", type=float, default=1.0)
    ap.add_argument("--typing", default="20,60")
    ap.add_argument("--cprofile", help="write the Python profile here (pstats)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    typing = tuple(int(x) for x in args.typing.split(","))

    from bench_submit import check_values, make_world, write_workspace

    from audit import pipeline

    world = make_world(args.sites)
    ledger = Ledger()
    methods = install(ledger)
    prof = cProfile.Profile() if args.cprofile else None
    load0 = loadavg()
    try:
        with tempfile.TemporaryDirectory(prefix="profile-submit-") as tmp:
            ws = Path(tmp) / "ws"
            write_workspace(ws, world, args.min_fill, typing)  # type: ignore[arg-type]
            t0 = time.monotonic()
            if prof:
                prof.enable()
            summary = pipeline.run_survey(ws, pipeline.RunOptions(submit=True, block_outside=True))
            if prof:
                prof.disable()
            wall = time.monotonic() - t0
            ledger.bill()
            forms = [r.fields for s in world.sites for r in s.received]
    finally:
        world.stop()
    if prof and args.cprofile:
        prof.dump_stats(args.cprofile)
    n = max(1, summary.counts.get("submitted", 0))
    rows = ledger.table(n)
    total = sum(r["cpu_s_per_form"] for r in rows)
    by_kind: dict[str, float] = collections.defaultdict(float)
    for r in rows:
        for k, v in r["by_kind"].items():
            by_kind[k] += v
    out = {
        "sites": args.sites,
        "counts": summary.counts,
        "values": check_values(forms),
        "wall_s_per_form": round(wall / n, 2),
        "cpu_s_per_form": round(total, 3),
        "by_kind": {k: round(v, 3) for k, v in sorted(by_kind.items(), key=lambda kv: -kv[1])},
        "rows": rows,
        "driver_calls_per_form": {
            k: round(v / n, 1) for k, v in methods.most_common() if v / n >= 0.5
        },
        "load": [load0, loadavg()],
    }
    if args.json:
        print(json.dumps(out))
        return 0
    print(f"{n} forms, {out['cpu_s_per_form']} CPU-s/form, {out['wall_s_per_form']} s/form wall")
    print(f"values: {out['values']}; load {out['load']}")
    print("by kind:", out["by_kind"])
    for r in rows:
        kinds = ", ".join(f"{k} {v}" for k, v in r["by_kind"].items() if v >= 0.005)
        print(
            f"  {r['cpu_s_per_form']:6.3f} CPU-s  {r['wall_s_per_form']:6.3f} s  "
            f"x{r['calls_per_form']:<5} {r['label']:<34} {kinds}"
        )
    print("driver calls per form:")
    for k, v in out["driver_calls_per_form"].items():
        print(f"  {v:7.1f}  {k}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
