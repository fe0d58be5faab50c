"""Run every benchmark and save its Markdown to bench/out/<name>.md (`make bench`).

    .venv/bin/python bench/run_all.py [--quick] [--only hub,queue,...]

Each benchmark runs as its own process, one after the other (they would disturb each other's
figures). --quick uses smaller counts and shorter windows: minutes instead of ~15 min, noisier figures.
A failing benchmark is reported and the others still run; the exit status is 1 if any failed.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"

# name: (script, full arguments, --quick arguments)
BENCHMARKS: dict[str, tuple[str, list[str], list[str]]] = {
    "hub": ("bench_hub.py", [], ["--calls", "100", "--rounds", "1"]),
    "queue": ("bench_queue.py", [], ["--nexts", "105", "--rounds", "1"]),
    "burst": ("bench_burst.py", [], ["--bursts", "2", "--singles", "3"]),
    "footprint": ("bench_footprint.py", [], ["--seconds", "15", "--warmup", "12"]),
    "display": ("bench_display.py", [], ["--calls", "30", "--idle", "10"]),
    "announcer": ("bench_announcer.py", [], ["--events", "10", "--gaps", "4"]),
    "hostile": ("bench_hostile.py", [], ["--frames", "500", "--rounds", "1"]),
    "estimate": ("bench_estimate.py", [], ["--days", "3"]),
    "playback": ("bench_playback.py", [], ["--rounds", "2"]),
    "fleet": ("bench_fleet.py", [], ["--seconds", "6", "--rounds", "1", "--shots", "12"]),
    "content": ("bench_content.py", [], ["--calls", "30", "--rounds", "1", "--seconds", "15", "--warmup", "12"]),
    "content_player": ("bench_content_player.py", [], ["--events", "8", "--switches", "10"]),
    "report": ("bench_report.py", [], ["--days", "60", "--rounds", "3"]),
    "voice": ("bench_voice.py", [], ["--failovers", "3"]),
    "webhook": ("bench_webhook.py", [], ["--visitors", "30", "--rounds", "1"]),
}


def run(name: str, quick: bool) -> bool:
    script, full, short = BENCHMARKS[name]
    argv = [sys.executable, str(BENCH / script), *(short if quick else full)]
    command = " ".join(shlex.quote(a) for a in [str(Path(sys.executable).relative_to(ROOT))
                                                if Path(sys.executable).is_relative_to(ROOT) else sys.executable,
                                                f"bench/{script}", *argv[2:]])
    print(f"== {name}: {command}", file=sys.stderr, flush=True)
    started = time.monotonic()
    done = subprocess.run(argv, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    output = done.stdout.strip()
    if "- command:" not in output:  # the colleagues' scripts print their own format: keep it, add date + command
        tables = any(line.startswith("|") for line in output.splitlines())
        body = output if tables else "\n".join(["```", output, "```"])
        output = "\n".join([f"## {script}", "", f"- date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
                            f"- command: `{command}`", "", body])
    if done.returncode != 0:
        output += f"\n\n**{script} failed with exit status {done.returncode}** (see stderr above).\n"
    OUT.mkdir(exist_ok=True)
    (OUT / f"{name}.md").write_text(output + "\n", encoding="utf-8")
    print(f"== {name}: {'ok' if done.returncode == 0 else 'FAILED'} in {time.monotonic() - started:.0f} s "
          f"→ bench/out/{name}.md", file=sys.stderr, flush=True)
    return done.returncode == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts, shorter windows")
    parser.add_argument("--only", help=f"comma-separated subset of: {', '.join(BENCHMARKS)}")
    args = parser.parse_args()
    names = args.only.split(",") if args.only else list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    failed = [name for name in names if not run(name, args.quick)]
    summary = "\n\n".join((OUT / f"{name}.md").read_text(encoding="utf-8") for name in names)
    (OUT / "all.md").write_text(summary, encoding="utf-8")
    print(f"== wrote bench/out/all.md ({len(names)} benchmarks); failed: {', '.join(failed) or 'none'}",
          file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
