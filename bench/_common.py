"""Helpers shared by the benchmarks: the machine, load, and a /proc sampler of a process tree.

No psutil: everything is read from /proc (Linux only, like the benchmarks).
"""

from __future__ import annotations

import json
import os
import platform
import re
import resource
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CLK_TCK = os.sysconf("SC_CLK_TCK")


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def machine() -> dict[str, Any]:
    """CPU model and count (/proc/cpuinfo), memory (free -m), kernel, Python."""
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        free = subprocess.run(["free", "-m"], capture_output=True, text=True).stdout
        mem = next(ln for ln in free.splitlines() if ln.startswith("Mem:")).split()
        memory = f"{mem[1]} MB total, {mem[6] if len(mem) > 6 else '?'} MB available"
    except Exception:
        memory = "?"
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory": memory,
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "loadavg": loadavg(),
    }


def emit(result: dict[str, Any]) -> None:
    """Every benchmark prints one JSON object on stdout as its last line."""
    result.setdefault("loadavg_end", loadavg())
    print(json.dumps(result, default=str))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def children_cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _stat(pid: int) -> tuple[int, float, float] | None:
    """(ppid, own cpu seconds, reaped children's cpu seconds) of a process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    ppid = int(fields[1])
    own = (int(fields[11]) + int(fields[12])) / CLK_TCK
    kids = (int(fields[13]) + int(fields[14])) / CLK_TCK
    return ppid, own, kids


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _kind(pid: int) -> str:
    """What a process is, for the CPU breakdown: python, driver (node), or Chromium's
    browser / renderer / gpu-process / utility / zygote process (Chromium rewrites its
    argv, so the type is searched in the whole command line)."""
    comm = _comm(pid)
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return comm or "?"
    if comm.startswith("python"):
        return "python"
    if comm == "node" or b"playwright" in cmdline[:300] and b"node" in cmdline[:300]:
        return "driver (node)"
    if comm.startswith(("chrom", "headless")):
        m = re.search(rb"--type=([a-z-]+)", cmdline)
        return "chromium " + (m.group(1).decode() if m else "browser")
    return comm or "?"


def _children(pid: int) -> list[int]:
    """A process's children from /proc/PID/task/*/children (no scan of every process)."""
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        try:
            out.extend(int(x) for x in Path(f"/proc/{pid}/task/{tid}/children").read_text().split())
        except (OSError, ValueError):
            continue
    return out


def descendants(root: int) -> list[int]:
    """Every process under ``root``: its children's children, and so on. Read from
    /proc/PID/task/*/children when the kernel has it, else by scanning every /proc/PID/stat
    for parents (the slow way: ~140 files a look on a quiet machine, more when busy)."""
    if Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").exists():
        out, frontier = [], [root]
        while frontier:
            nxt = [c for pid in frontier for c in _children(pid)]
            out.extend(nxt)
            frontier = nxt
        return out
    parent: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _stat(int(entry))
            if st:
                parent[int(entry)] = st[0]
    out, seen = [], {root}
    while seen:
        nxt = {p for p, pp in parent.items() if pp in seen}
        out.extend(nxt)
        seen = nxt
    return out


@dataclass
class TreeSampler:
    """Samples a process tree: peak PSS of its Chromium processes, CPU of every process seen.

    How, and what it costs the measured run (the sampler shares the machine with it):

    - CPU, every ``interval_s`` (0.5 s): the tree from /proc/PID/task/*/children, then
      each process's /proc/PID/stat (own utime+stime). Cheap: ~1 ms a look. CPU per
      process is its last sampled value (a lower bound: a process that ends between
      samples loses its last slice); the caller should prefer RUSAGE_CHILDREN of the
      waited-for root when it is larger: it holds every reaped descendant exactly once.
    - PSS, every ``pss_every`` looks (4: every 2 s): /proc/PID/smaps_rollup of every
      process, summed. Not free: the kernel walks each process's page tables under its
      memory lock (~60 ms a look at 8 forms at once, stalling Chromium's page faults
      meanwhile), so the peak is taken 4x less often than the CPU (a short peak between
      two looks is missed: a lower bound).
    - Each process's kind (comm, cmdline) is read once, on the look that first sees it.
    """

    root: int
    interval_s: float = 0.5
    pss_every: int = 4
    peak_pss_mb: float = 0.0
    peak_all_pss_mb: float = 0.0
    peak_procs: int = 0
    _looks: int = 0
    _cpu: dict[int, float] = field(default_factory=dict)
    _kinds: dict[int, str] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> TreeSampler:
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()

    @property
    def cpu_s(self) -> float:
        return sum(self._cpu.values())

    def cpu_by_kind(self) -> dict[str, float]:
        """Sampled CPU seconds per kind of process (python, driver, chromium renderer...)."""
        out: dict[str, float] = {}
        for pid, cpu in self._cpu.items():
            kind = self._kinds.get(pid, "?")
            out[kind] = round(out.get(kind, 0.0) + cpu, 2)
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval_s)

    def sample(self) -> None:
        pids = [self.root, *descendants(self.root)]
        pss = self._looks % self.pss_every == 0
        self._looks += 1
        chrome_kb = all_kb = 0
        for pid in pids:
            st = _stat(pid)
            if st is None:
                continue
            # Own CPU only: a parent's reaped-children time repeats its children's, which
            # are sampled themselves (counting both counted Chromium two or three times).
            self._cpu[pid] = max(self._cpu.get(pid, 0.0), st[1])
            if pid not in self._kinds or (pid == self.root and self._kinds[pid] == "sh"):
                self._kinds[pid] = _kind(pid)  # the root: read again once its shell execs
            if pss:
                kb = _pss_kb(pid)
                all_kb += kb
                if self._kinds[pid].startswith("chromium"):
                    chrome_kb += kb
        if pss:
            self.peak_pss_mb = max(self.peak_pss_mb, chrome_kb / 1024)
            self.peak_all_pss_mb = max(self.peak_all_pss_mb, all_kb / 1024)
        self.peak_procs = max(self.peak_procs, len(pids))


class CpuGroup:
    """A control group of its own for a measured child: the CPU of every process that ever
    ran in it, ended ones included (a Chromium renderer ends between two samples of
    TreeSampler and is reaped by Chromium's zygote, not by us: both other counts miss its
    last slice, ~7% of a run at 8 forms at once). Linux's cgroup v2 ``cpu.stat`` or v1
    ``cpuacct.usage``; None from ``create`` where neither can be made (not root)."""

    def __init__(self, path: Path, v2: bool) -> None:
        self.path, self.v2 = path, v2

    @classmethod
    def create(cls) -> CpuGroup | None:
        name = f"contact-audit-bench-{os.getpid()}-{time.monotonic_ns()}"
        for base, v2 in ((Path("/sys/fs/cgroup"), True), (Path("/sys/fs/cgroup/unified"), True),
                         (Path("/sys/fs/cgroup/cpuacct"), False)):  # fmt: skip
            if not (base / "cgroup.procs").exists():
                continue
            try:
                (base / name).mkdir()
            except OSError:
                continue
            group = cls(base / name, v2)
            if group.cpu_s() is not None:
                return group
            group.remove()
        return None

    def wrap(self, cmd: list[str]) -> list[str]:
        """``cmd`` started inside the group: a shell moves itself in, then execs it."""
        procs = self.path / "cgroup.procs"
        return ["/bin/sh", "-c", f'echo $$ > "{procs}" && exec "$@"', "sh", *cmd]

    def cpu_s(self) -> float | None:
        try:
            if self.v2:
                stat = (self.path / "cpu.stat").read_text()
                usec = next(
                    ln.split()[1] for ln in stat.splitlines() if ln.startswith("usage_usec")
                )
                return int(usec) / 1e6
            return int((self.path / "cpuacct.usage").read_text()) / 1e9
        except (OSError, StopIteration, ValueError, IndexError):
            return None

    def remove(self) -> None:
        for _ in range(50):  # a process that outlived the child keeps the group busy a moment
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.1)


def run_measured(cmd: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a child (which prints JSON last), sampling its tree; add cpu_s and PSS peaks.

    cpu_s: the child's control group's CPU (every process it started, ended ones
    included) where one can be made; else the larger of the reaped children's rusage and
    the sampled sum (both lower bounds)."""
    before = children_cpu_s()
    group = CpuGroup.create()
    t0 = time.monotonic()
    run = group.wrap(cmd) if group else cmd
    proc = subprocess.Popen(run, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    sampler = TreeSampler(proc.pid).start()
    out, _ = proc.communicate()
    sampler.stop()
    wall = time.monotonic() - t0
    grouped = group.cpu_s() if group else None
    if group:
        group.remove()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}")
    result = json.loads(out.strip().splitlines()[-1])
    reaped = children_cpu_s() - before
    result.update(
        process_wall_s=round(wall, 2),
        cpu_s=round(grouped if grouped is not None else max(reaped, sampler.cpu_s), 2),
        cpu_s_how="control group" if grouped is not None else "max(reaped, sampled)",
        cpu_s_reaped=round(reaped, 2),
        cpu_s_sampled=round(sampler.cpu_s, 2),
        cpu_s_by_process=sampler.cpu_by_kind(),
        peak_pss_chromium_mb=round(sampler.peak_pss_mb, 1),
        peak_pss_tree_mb=round(sampler.peak_all_pss_mb, 1),
    )
    return result
