"""A year of journal reported: `signage report` over ~220,000 events, against a bare SQL scan. Not a test.

    .venv/bin/python bench/bench_report.py [--days 250] [--visitors 287] [--rounds 7] [--seed 15] [--end DAY]

Setup: a journal for a year of service days (Monday to Friday, --days of them, the last on the last
weekday up to --end, by default today in WIB, so that every day but today is closed, as on a hall PC) is made by the hub's
own pure rules (signage.core.rules.decide) driven by a simulated hall: --visitors tickets a day,
busiest 08–11, 21 counters, service 3–15 minutes; 82% done, 8% skipped (a third called back), 4%
transferred, 10% called twice; 35% of the served rate on the counter's tablet (15% with the short
form, 10% with a comment). The events are written with the hub's Journal class, one transaction per
day, so the file is exactly what a hub writes. The defaults give about 220,000 events. The content
does not depend on the dates (the same seed gives the same events on other dates).

Measured, interleaved in --rounds rounds on a read-only connection (what a report uses):

- baseline: the bare SQL scan, `SELECT body FROM events WHERE day BETWEEN ? AND ?`, all rows fetched;
- naive: the same scan, then every record decoded by the codec (protocol.decode_event) and folded;
- ours: the whole year's report in-process (read, fold, percentiles, IKM) and its json text, in one
  process without the cache (as the hub does it), cut in two processes (as `signage report
  --no-cache` does on two cores), and with a warm report cache (closed days from the cache, today
  folded from the journal);
- cli: `python -m signage report --from … --to … --format json --out /dev/null`, wall time of the
  process (interpreter start, config load included): what a supervisor waits for. Three ways each
  round: `--no-cache`; cold (the cache file deleted first: every day folded, the closed ones written
  to the cache); warm (the cache the cold run left). Python's bytecode is cached in a temporary
  directory (PYTHONPYCACHEPREFIX), as it is for an installed package; `cli warm, no bytecode cache`
  runs with PYTHONDONTWRITEBYTECODE=1, compiling every module at each start.

Then each other format once per round (html, xlsx, csv) from the same Report.
Targets: the warm CLI at ≤ 1.0 s wall p50 on an idle machine, and ≤ 2 s under a load of about 2.
"""

from __future__ import annotations

import argparse
import heapq
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import PYTHON, ROOT, header, percentile, ratio, table, write_hub_config  # noqa: E402

from signage.config import Token, load_config  # noqa: E402
from signage.core import messages as m, protocol, report, rules  # noqa: E402
from signage.errors import CommandRejected  # noqa: E402
from signage.hub.journal import Journal, Record  # noqa: E402
from signage.reports import cache as report_cache, source, writers  # noqa: E402

WIB = ZoneInfo("Asia/Jakarta")
FIRST_DAY = date(2026, 1, 5)  # a Monday: the year of the figures before --end (use --end 2026-12-18)
HOUR_WEIGHTS = {8: 9, 9: 10, 10: 9, 11: 6, 12: 3, 13: 5, 14: 4}
AGENCY_WEIGHTS = {"DUKCAPIL": 8, "SAMSAT": 5, "BPJSKES": 4, "BAPENDA": 3, "POLRES": 3}


# ---------------------------------------------------------------- a simulated year, through the pure rules


class Hall:
    def __init__(self, config, rng: random.Random):
        self.config = config
        self.rng = rng
        self.state = rules.HubState()
        self.seq = 0
        self.kiosk = config.first_token("kiosk")
        self.operator = next(t for t in config.tokens if t.role == "operator" and t.counters is None)
        self.tablets = {c.number: Token(f"survei-bench-{c.number}", "survey", f"tok-bench-survey-{c.number}",
                                        (c.number,)) for c in config.counters}
        self.records: list[Record] = []

    def do(self, actor: Token, cmd: m.Command, now: datetime) -> m.Event | None:
        self.state = self.state.for_day(now.date().isoformat())
        try:
            event = rules.decide(self.state, cmd, actor, self.config, now, self.seq + 1)
        except CommandRejected:
            return None
        self.seq += 1
        self.state = self.state.apply(event)
        self.records.append(Record(event, actor.name, cmd.id, protocol.encode_command(cmd)))
        return event


def simulate_day(hall: Hall, day: date, visitors: int) -> None:
    rng, cfg = hall.rng, hall.config
    services = [s.code for s in cfg.services]
    weights = [AGENCY_WEIGHTS.get(s.agency, 1) for s in cfg.services]
    hours = list(HOUR_WEIGHTS)
    agenda: list = []
    order = iter(range(10**9))
    opening = datetime(day.year, day.month, day.day, 8, 0, tzinfo=WIB)

    def at(when: datetime, kind: str, *payload) -> None:
        heapq.heappush(agenda, (when, next(order), kind, payload))

    for _ in range(visitors):
        hour = rng.choices(hours, [HOUR_WEIGHTS[h] for h in hours])[0]
        at(opening.replace(hour=hour) + timedelta(seconds=rng.randint(0, 3599)), "arrive",
           rng.choices(services, weights)[0])
    for c in cfg.counters:
        at(opening + timedelta(minutes=rng.randint(0, 10)), "free", c.number)
    recalls: dict[int, list] = {}
    closing_time = opening.replace(hour=15, minute=30)
    ids = iter(range(10**9))

    def cid(prefix: str) -> str:
        return f"{prefix}-{day:%m%d}-{next(ids)}"

    while agenda:
        now, _, kind, payload = heapq.heappop(agenda)
        if kind == "arrive":
            hall.do(hall.kiosk, m.Issue(cid("k"), payload[0]), now)
        elif kind == "free":
            (counter,) = payload
            if now > closing_time:
                continue
            queued = recalls.get(counter)
            event = None
            if queued and rng.random() < 0.5:
                event = hall.do(hall.operator, m.Recall(cid("r"), counter, queued.pop()), now)
            if event is None:
                event = hall.do(hall.operator, m.Next(cid("n"), counter), now)
            if event is None:
                at(now + timedelta(minutes=rng.randint(1, 5)), "free", counter)
                continue
            if rng.random() < 0.10:
                at(now + timedelta(seconds=40), "repeat", counter, event.ticket)
            at(now + timedelta(seconds=rng.randint(180, 900)), "finish", counter, event.ticket)
        elif kind == "repeat":
            counter, ticket = payload
            serving = hall.state.queue.serving.get(counter)
            if serving and serving.ticket == ticket:
                hall.do(hall.operator, m.Recall(cid("rr"), counter), now)
        elif kind == "finish":
            counter, ticket = payload
            draw = rng.random()
            if draw < 0.08:
                hall.do(hall.operator, m.Skip(cid("s"), counter), now)
                if rng.random() < 0.33:
                    recalls.setdefault(counter, []).append(ticket)
            elif draw < 0.12:
                target = rng.choice(services)
                hall.do(hall.operator, m.Transfer(cid("t"), counter, target), now)
            elif draw < 0.13:
                hall.do(hall.operator, m.Clear(cid("x"), counter), now)
            else:
                hall.do(hall.operator, m.Done(cid("d"), counter), now)
                if rng.random() < 0.35:
                    at(now + timedelta(seconds=rng.randint(10, 90)), "rate", counter, ticket)
            at(now + timedelta(seconds=rng.randint(0, 120)), "free", counter)
        elif kind == "rate":
            counter, ticket = payload
            short = rng.random() < 0.15
            pool = (2, 3, 3, 4, 4)
            scores = (rng.choice(pool),) if short else tuple(rng.choice(pool) for _ in range(9))
            comment = rng.choice(["Petugas ramah", "Antre lama", "Terima kasih"]) if rng.random() < 0.10 else ""
            hall.do(hall.tablets[counter], m.Rate(cid("v"), counter, ticket, scores, comment), now)


def first_day_for(end: date, days: int) -> date:
    """The weekday from which `days` weekdays end on the last weekday ≤ end."""
    first, counted = end, 0
    while True:
        if first.weekday() < 5:
            counted += 1
            if counted == days:
                return first
        first -= timedelta(days=1)


def make_year(path: Path, config, days: int, visitors: int, seed: int, first_day: date = FIRST_DAY
              ) -> tuple[int, str, str]:
    hall = Hall(config, random.Random(seed))
    journal = Journal(path, "normal").open()
    day, made, first = first_day, 0, None
    try:
        while made < days:
            if day.weekday() < 5:
                simulate_day(hall, day, visitors)
                journal.append(hall.records)
                hall.records = []
                first = first or day
                made += 1
            last = day
            day += timedelta(days=1)
    finally:
        journal.close()
    return hall.seq, first.isoformat(), last.isoformat()


# ---------------------------------------------------------------- measurements


def bare_scan(path: Path, first: str, last: str) -> int:
    with closing(source.connect(path)) as db:
        rows = db.execute("SELECT body FROM events WHERE day BETWEEN ? AND ?", (first, last)).fetchall()
    return len(rows)


def naive(path: Path, config, first: str, last: str) -> report.Report:
    with closing(source.connect(path)) as db:
        rows = db.execute("SELECT body FROM events WHERE day BETWEEN ? AND ? ORDER BY seq", (first, last))
        events = [protocol.decode_event(body) for (body,) in rows]
    queue, ratings = report.facts(events)
    return report.build(queue, ratings, config, first, last)


def ours(path: Path, config, first: str, last: str) -> str:
    return writers.to_json(source.read_report(path, config, first, last))


def ours_split(path: Path, config, first: str, last: str) -> str:
    return writers.to_json(source.read_report(path, config, first, last, workers=2))


def ours_cached(path: Path, config, first: str, last: str, today: str) -> str:
    cache = report_cache.ReportCache(report_cache.default_path(path), report_cache.context_key(config), path)
    return writers.to_json(source.read_report(path, config, first, last, workers=2, cache=cache,
                                              closed_before=today))


def cli(config_path: Path, path: Path, first: str, last: str, env: dict, *extra: str) -> None:
    subprocess.run([PYTHON, "-m", "signage", "report", "--config", str(config_path), "--journal", str(path),
                    "--from", first, "--to", last, "--format", "json", "--out", "/dev/null", *extra],
                   check=True, cwd=ROOT, capture_output=True, env=env)


def cli_cold(config_path: Path, path: Path, first: str, last: str, env: dict) -> None:
    report_cache.default_path(path).unlink(missing_ok=True)
    cli(config_path, path, first, last, env)


def timed(fn, *args) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process's threads and of any child it waited for)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu, start = time.process_time(), time.perf_counter()
    fn(*args)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    child = (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
    return wall, time.process_time() - cpu + child


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=250, help="service days (Monday-Friday) in the journal")
    parser.add_argument("--visitors", type=int, default=287, help="tickets per day")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--end", type=date.fromisoformat, default=datetime.now(WIB).date(),
                        help="the journal's last service day (default: today in WIB)")
    args = parser.parse_args()
    load_start = os.getloadavg()
    today = datetime.now(WIB).date().isoformat()

    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        directory = Path(tmp)
        config_path = write_hub_config(directory)
        config = load_config(config_path)
        journal = directory / "journal.sqlite"
        started = time.perf_counter()
        events, first, last = make_year(journal, config, args.days, args.visitors, args.seed,
                                        first_day_for(args.end, args.days))
        setup_s = time.perf_counter() - started
        size_mb = journal.stat().st_size / 1e6
        assert bare_scan(journal, first, last) == events
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(directory / "pycache")
        no_pyc = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        cli(config_path, journal, first, last, env, "--no-cache")  # compiles the bytecode once
        cached_doc = ours_cached(journal, config, first, last, today)  # the cache filled …
        assert cached_doc == ours_cached(journal, config, first, last, today)  # … and read: the same json
        assert cached_doc == ours(journal, config, first, last)
        cache_mb = report_cache.default_path(journal).stat().st_size / 1e6

        keys = ("baseline", "naive", "ours", "split", "warm", "cli", "cli_cold", "cli_warm", "cli_warm_nopyc",
                "html", "xlsx", "csv")
        samples: dict[str, list] = {k: [] for k in keys}
        built = source.read_report(journal, config, first, last)
        loads = []
        for _ in range(args.rounds):
            loads.append(os.getloadavg()[0])
            samples["baseline"].append(timed(bare_scan, journal, first, last))
            samples["naive"].append(timed(naive, journal, config, first, last))
            samples["ours"].append(timed(ours, journal, config, first, last))
            samples["split"].append(timed(ours_split, journal, config, first, last))
            samples["warm"].append(timed(ours_cached, journal, config, first, last, today))
            samples["cli"].append(timed(cli, config_path, journal, first, last, env, "--no-cache"))
            samples["cli_cold"].append(timed(cli_cold, config_path, journal, first, last, env))
            samples["cli_warm"].append(timed(cli, config_path, journal, first, last, env))
            samples["cli_warm_nopyc"].append(timed(cli, config_path, journal, first, last, no_pyc))
            samples["html"].append(timed(writers.to_html, built))
            samples["xlsx"].append(timed(writers.to_xlsx, built))
            samples["csv"].append(timed(writers.csv_files, built))
    load_end = os.getloadavg()

    with_doc = report.to_document(built)
    hall = with_doc["hall"]
    print(header("A year of journal reported (issue 15) — bench/bench_report.py"))
    print(f"- load average (1, 5, 15 min): {' '.join(f'{x:.2f}' for x in load_start)} at the start, "
          f"{' '.join(f'{x:.2f}' for x in load_end)} at the end; 1-minute load at each round's start: "
          f"{', '.join(f'{x:.2f}' for x in loads)}")
    print(f"- journal: {events:,} events over {args.days} service days ({first} … {last}), {size_mb:.1f} MB, "
          f"made in {setup_s:.1f} s; {hall['issued']:,} tickets, {hall['served']:,} served, "
          f"{hall['respondents']:,} full-form ratings (IKM {hall['ikm']}, {hall['grade']})")
    closed = sum(1 for d in with_doc["days"] if d["day"] < today)
    print(f"- report cache: {closed} closed days cached, {len(with_doc['days']) - closed} open (today, "
          f"{today}) folded from the journal at each warm run; cache file {cache_mb:.1f} MB; "
          "the cached and the uncached json compared equal")
    print(f"- {args.rounds} rounds, interleaved; with {args.rounds} samples p99 is the worst sample")
    print()
    walls = {k: [w for w, _ in v] for k, v in samples.items()}
    cpus = {k: [c for _, c in v] for k, v in samples.items()}
    base50 = percentile(walls["baseline"], 50)
    base99 = percentile(walls["baseline"], 99)
    rows = []
    labels = {
        "baseline": "bare SQL scan of the year (baseline)",
        "naive": "scan + decode every record + fold",
        "ours": "our report, in-process (read + fold + json), one process, no cache (as the hub does it)",
        "split": "the same, the year cut in two processes, no cache",
        "warm": "the same with a warm report cache (closed days cached, today folded)",
        "cli": "`signage report --format json --no-cache` process, wall",
        "cli_cold": "`signage report --format json`, cold: no cache file (folds all, writes the cache)",
        "cli_warm": "`signage report --format json`, warm: the cache of closed days",
        "cli_warm_nopyc": "`signage report --format json`, warm, no bytecode cache (PYTHONDONTWRITEBYTECODE=1)",
        "html": "html from the Report (charts + tables)",
        "xlsx": "xlsx from the Report (openpyxl)",
        "csv": "csv from the Report",
    }
    for key, label in labels.items():
        p50, p99 = percentile(walls[key], 50), percentile(walls[key], 99)
        rows.append([label, f"{p50 * 1000:.0f} ms", f"{p99 * 1000:.0f} ms", ratio(p50, base50), ratio(p99, base99),
                     f"{percentile(cpus[key], 50) * 1000:.0f} ms"])
    print(table(["measure", "wall p50", "wall p99", "p50 / baseline", "p99 / baseline", "CPU p50"], rows))
    print()
    warm50, warm99 = percentile(walls["cli_warm"], 50), percentile(walls["cli_warm"], 99)
    cold50, cold99 = percentile(walls["cli_cold"], 50), percentile(walls["cli_cold"], 99)
    load = max(load_start[0], load_end[0], *loads)
    print(f"Targets (1-minute load average {min(loads):.2f}–{load:.2f} during the rounds): a year reported in ≤ 2 s: warm CLI "
          f"{'met' if warm99 <= 2 else 'NOT met'} (p50 {warm50:.2f} s, p99 {warm99:.2f} s), cold CLI "
          f"{'met' if cold99 <= 2 else 'NOT met'} (p50 {cold50:.2f} s, p99 {cold99:.2f} s); "
          f"headroom, warm CLI p50 ≤ 1.0 s: {'met' if warm50 <= 1.0 else 'NOT met'}"
          f"{' (on a machine that was not idle)' if load > 0.7 else ''}. CPU is the time used on all cores "
          "(the report reads on worker threads while it folds), the figure that depends least on what else runs.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
