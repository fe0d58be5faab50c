"""`signage report`: the day's (or a range's) figures from the journal, in json, csv, xlsx or html.

Reads the journal read-only, so it is safe to run beside the live hub.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

from signage.config import Config
from signage.reports.cache import ReportCache, context_key, default_path
from signage.reports.source import read_report
from signage.reports.writers import FORMATS, file_stem, render, write_csv_dir

EXIT_OK, EXIT_USAGE = 0, 2


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--date", metavar="DAY", help="one service day: YYYY-MM-DD, today or yesterday (default: today)")
    p.add_argument("--from", dest="first", metavar="DAY", help="first day of a range (with --to; default --to: today)")
    p.add_argument("--to", dest="last", metavar="DAY", help="last day of a range")
    p.add_argument("--format", choices=FORMATS, default="json", help="json (default), csv, xlsx or html")
    p.add_argument("--out", metavar="PATH",
                   help="output file, or a directory for csv (one file per table); '-' = standard output. "
                        "Default: standard output for json and html, laporan-<days>.xlsx / laporan-<days>/ here")
    p.add_argument("--journal", metavar="PATH", help="journal to read (default: hub.journal from config)")
    p.add_argument("--cache", metavar="PATH",
                   help="the report cache of closed days (default: the journal's path + .report-cache)")
    p.add_argument("--no-cache", action="store_true", help="fold every day from the journal; keep nothing")


class UsageError(Exception):
    pass


def parse_day(value: str, today: date, option: str) -> str:
    if value == "today":
        return today.isoformat()
    if value == "yesterday":
        return (today - timedelta(days=1)).isoformat()
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise UsageError(f"{option}: expected a day such as 2026-11-28 (or today, yesterday), got {value!r}") from None


def day_range(args: argparse.Namespace, today: date) -> tuple[str, str]:
    if args.date and (args.first or args.last):
        raise UsageError("--date: give either --date or --from/--to, not both")
    if args.last and not args.first:
        raise UsageError("--to: needs --from")
    if args.first:
        first = parse_day(args.first, today, "--from")
        last = parse_day(args.last, today, "--to") if args.last else today.isoformat()
        if first > last:
            raise UsageError(f"--from: {first} is after --to {last}")
        return first, last
    day = parse_day(args.date, today, "--date") if args.date else today.isoformat()
    return day, day


def run(args: argparse.Namespace, config: Config) -> int:
    now = datetime.now(config.hall.timezone)
    try:
        first, last = day_range(args, now.date())
    except UsageError as exc:
        print(f"signage report: {exc}", file=sys.stderr)
        return EXIT_USAGE
    journal = Path(args.journal) if args.journal else config.hub.journal
    cache = None
    if not args.no_cache:
        cache = ReportCache(Path(args.cache) if args.cache else default_path(journal), context_key(config), journal)
    # A year's fold makes a few hundred thousand small objects, none of them in a cycle: the cyclic
    # collector would only walk them again and again (a third of the time). This process is short.
    gc.disable()
    try:
        report = read_report(journal, config, first, last, workers=min(4, len(os.sched_getaffinity(0))),
                             cache=cache, closed_before=now.date().isoformat())
    finally:
        gc.enable()
    fmt = args.format
    if fmt == "csv" and args.out != "-":
        directory = Path(args.out) if args.out else Path(file_stem(report))
        written = write_csv_dir(report, directory)
        print(f"signage report: wrote {len(written)} csv files to {directory}/", file=sys.stderr)
        return EXIT_OK
    data = render(report, fmt, now)
    out = args.out or ("-" if fmt in ("json", "html") else f"{file_stem(report)}.{fmt}")
    if out == "-":
        if fmt == "csv":  # the zip of every table, for a pipe
            sys.stdout.buffer.write(data)
        else:
            sys.stdout.buffer.write(data + (b"\n" if fmt == "json" else b""))
        sys.stdout.flush()
    else:
        Path(out).write_bytes(data)
        print(f"signage report: wrote {out}", file=sys.stderr)
    return EXIT_OK
