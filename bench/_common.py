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


def descendants(root: int) -> list[int]:
    parent: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _stat(int(entry))
            if st:
                parent[int(entry)] = st[0]
    out, frontier = [], {root}
    while frontier:
        nxt = {p for p, pp in parent.items() if pp in frontier}
        out.extend(nxt)
        frontier = nxt
    return out


@dataclass
class TreeSampler:
    """Samples a process tree: peak PSS of its Chromium processes, CPU of every process seen.

    CPU per process is its last sampled own utime+stime (a lower bound: a process that
    ends between samples loses its last slice). The caller should prefer RUSAGE_CHILDREN
    of the waited-for root when it is larger: it holds every reaped descendant exactly once.
    """

    root: int
    interval_s: float = 0.5
    peak_pss_mb: float = 0.0
    peak_all_pss_mb: float = 0.0
    peak_procs: int = 0
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
        chrome_kb = all_kb = 0
        for pid in pids:
            st = _stat(pid)
            if st is None:
                continue
            # Own CPU only: a parent's reaped-children time repeats its children's, which
            # are sampled themselves (counting both counted Chromium two or three times).
            self._cpu[pid] = max(self._cpu.get(pid, 0.0), st[1])
            if pid not in self._kinds:
                self._kinds[pid] = _kind(pid)
            kb = _pss_kb(pid)
            all_kb += kb
            if _comm(pid).startswith(("chrom", "headless")):
                chrome_kb += kb
        self.peak_pss_mb = max(self.peak_pss_mb, chrome_kb / 1024)
        self.peak_all_pss_mb = max(self.peak_all_pss_mb, all_kb / 1024)
        self.peak_procs = max(self.peak_procs, len(pids))


def run_measured(cmd: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a child (which prints JSON last), sampling its tree; add cpu_s and PSS peaks."""
    before = children_cpu_s()
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    sampler = TreeSampler(proc.pid).start()
    out, _ = proc.communicate()
    sampler.stop()
    wall = time.monotonic() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}")
    result = json.loads(out.strip().splitlines()[-1])
    reaped = children_cpu_s() - before
    result.update(
        process_wall_s=round(wall, 2),
        cpu_s=round(max(reaped, sampler.cpu_s), 2),
        cpu_s_reaped=round(reaped, 2),
        cpu_s_sampled=round(sampler.cpu_s, 2),
        cpu_s_by_process=sampler.cpu_by_kind(),
        peak_pss_chromium_mb=round(sampler.peak_pss_mb, 1),
        peak_pss_tree_mb=round(sampler.peak_all_pss_mb, 1),
    )
    return result
