"""Helpers shared by the benchmarks: percentiles, /proc readers, Xvfb, machine info, hub configs, tables.

Benchmarks are scripts, not tests: each prints Markdown (machine, date, command, tables) on stdout,
and bench/run_all.py saves that to bench/out/<name>.md.
"""

from __future__ import annotations

import os
import platform
import re
import shlex
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- statistics


def percentile(values: list[float], p: float) -> float:
    """Linear-interpolated percentile, p in 0..100; nan for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def ratio(ours: float, baseline: float) -> str:
    return f"{ours / baseline:.2f}×" if baseline else "n/a"


# ---------------------------------------------------------------- /proc


def cpu_ticks(pid: int) -> int:
    """utime + stime of one process, in clock ticks; 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0
    return int(fields[11]) + int(fields[12])


def rss_mb(pid: int) -> float:
    return _status_kb(pid, "VmRSS") / 1024


def pss_mb(pid: int) -> float:
    """Proportional set size from smaps_rollup (shared pages split between sharers); nan if unreadable."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except (FileNotFoundError, PermissionError, ProcessLookupError):
        pass
    return float("nan")


def _status_kb(pid: int, key: str) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return float("nan")


def process_tree(root: int) -> list[int]:
    """root and all its descendants (by ppid), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


class CpuMeter:
    """% of one core used by a set of processes over a window (pids read at the end: late children count)."""

    def __init__(self, pids_of):
        self.pids_of = pids_of  # () -> list[int]
        self.start_ticks = {pid: cpu_ticks(pid) for pid in pids_of()}
        self.t0 = time.monotonic()

    def percent(self) -> float:
        elapsed = time.monotonic() - self.t0
        used = sum(cpu_ticks(pid) - self.start_ticks.get(pid, 0) for pid in self.pids_of())
        return used / CLK_TCK / elapsed * 100


# ---------------------------------------------------------------- machine, date, command


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def header(title: str) -> str:
    """Markdown lines every benchmark prints first: machine, date, exact command."""
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    command = " ".join(shlex.quote(a) for a in [os.path.relpath(PYTHON, ROOT), os.path.relpath(sys.argv[0], ROOT),
                                                   *sys.argv[1:]])
    return "\n".join([
        f"## {title}",
        "",
        f"- machine: {cpu_model()}, nproc {os.cpu_count()}, Linux {platform.release()}, "
        f"Python {platform.python_version()} (load average at start: {load}; the cores are shared)",
        f"- date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- command: `{command}`",
        "",
    ])


def table(columns: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def ms(seconds_or_ms: float, *, already_ms: bool = True) -> str:
    value = seconds_or_ms if already_ms else seconds_or_ms * 1000
    return f"{value:.2f} ms" if value < 10 else f"{value:.1f} ms"


# ---------------------------------------------------------------- hub config and process


def write_hub_config(directory: Path, *, sync: str = "full", **display_changes) -> Path:
    """config.yaml with the journal in `directory`, rate limits lifted, absolute asset paths."""
    raw = yaml.safe_load((ROOT / "config.yaml").read_text())
    raw["hub"].update({"journal": str(directory / "journal.sqlite"), "host": "127.0.0.1", "port": 0,
                       "sync": sync, "rate": {"per_second": 10_000, "burst": 10_000}})
    raw["display"]["logo"] = str(ROOT / "assets" / "logo.png")
    raw["display"].update(display_changes)
    raw["announcer"]["chime"] = str(ROOT / "assets" / "chime.wav")
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"config-{sync}.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False))
    return path


class Server:
    """A server subprocess that prints its ws:// URL on one line of stdout (the hub, or the raw baseline)."""

    URL = re.compile(r"(ws://\S+)")

    def __init__(self, argv: list[str], env: dict | None = None):
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     cwd=ROOT, env={**os.environ, **(env or {})})
        self.lines: list[str] = []
        for line in self.proc.stdout:
            self.lines.append(line.rstrip())
            found = self.URL.search(line)
            if found:
                self.url = found.group(1)
                threading.Thread(target=self._drain, daemon=True).start()  # a full pipe would block it
                return
        raise RuntimeError("server did not start:\n" + "\n".join(self.lines))

    @classmethod
    def hub(cls, config_path: Path) -> "Server":
        return cls([PYTHON, "-m", "signage", "--log-level", "warning", "hub", "--config", str(config_path),
                    "--host", "127.0.0.1", "--port", "0"])

    @classmethod
    def raw_broadcast(cls) -> "Server":
        return cls([PYTHON, str(ROOT / "bench" / "raw_broadcast_server.py")])

    def _drain(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip())

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ---------------------------------------------------------------- X server


def start_xvfb(size: str = "1920x1080") -> tuple[subprocess.Popen, str]:
    """An Xvfb on the first free display number from :90; returns (process, ':N')."""
    for number in range(90, 160):
        if Path(f"/tmp/.X11-unix/X{number}").exists() or Path(f"/tmp/.X{number}-lock").exists():
            continue
        proc = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", f"{size}x24", "-nolisten", "tcp"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(50):
            if Path(f"/tmp/.X11-unix/X{number}").exists():
                return proc, f":{number}"
            if proc.poll() is not None:
                break
            time.sleep(0.1)
        proc.kill()
        proc.wait()
    raise RuntimeError("could not start Xvfb")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def screenshot(x_display: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["import", "-display", x_display, "-window", "root", str(path)], check=True, timeout=30)
