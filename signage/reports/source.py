"""Read the journal for a report: a read-only SQLite connection, facts out.

`mode=ro` (a URI) means a report can never write, lock out or corrupt the live
hub's journal; in WAL mode it reads a consistent snapshot while the hub keeps
appending. SQLite extracts the few fields a report needs from each stored event
(see protocol.journal_projection); the facts go to signage.core.report.
"""

from __future__ import annotations

import hashlib
import os
import queue
import sqlite3
import threading
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Iterator
from urllib.parse import quote

from signage.core import protocol, report
from signage.errors import JournalError
from signage.hub.journal import SCHEMA_VERSION

# The journal's `at` column is the event time's isoformat() (see hub/journal.py): its local hour
# and its instant in whole milliseconds (truncated, as the wire's times are) come from SQLite too.
_HOUR = "CAST(substr(at, 12, 2) AS INTEGER)"
_MS = ("CAST(strftime('%s', at) AS INTEGER) * 1000"
       " + CASE WHEN substr(at, 20, 1) = '.' THEN CAST(substr(at, 21, 3) AS INTEGER) ELSE 0 END")
_QUEUE_FIELDS = (
    f"CASE WHEN type <> 'issued' THEN {protocol.journal_projection(('counter',))} END",
    protocol.journal_projection(("ticket",)),
    f"CASE WHEN type = 'issued' THEN {protocol.journal_projection(('service',))} END",
    f"CASE WHEN type = 'cleared' THEN {protocol.journal_projection(('reason',))} END",
    f"CASE WHEN type = 'cleared' THEN {protocol.journal_projection(('to_service',))} END",
)  # only what the fold reads of each kind: SQLite parses each body once per field extracted
_KINDS = f"type IN ({', '.join(repr(k) for k in report.QUEUE_KINDS)})"
_SELECT = f"SELECT seq, day, {_HOUR}, {_MS}, type, {', '.join(_QUEUE_FIELDS)} FROM events"
# Days follow seq (events are appended with the hub's clock), so the range is one span of rowids,
# read in order without an index lookup per row or a sort; SORTED is for a journal where they don't.
_QUEUE_SQL = (f"{_SELECT} WHERE seq BETWEEN (SELECT min(seq) FROM events WHERE day >= ?1) "
              f"AND (SELECT max(seq) FROM events WHERE day <= ?2) AND day BETWEEN ?1 AND ?2 AND {_KINDS} "
              "ORDER BY seq")
_QUEUE_SQL_SORTED = f"{_SELECT} WHERE day BETWEEN ?1 AND ?2 AND {_KINDS} ORDER BY day, seq"
_RATING_FIELDS = ("at", "counter", "ticket", "service", "form", "comment", "scores")
_RATING_SQL = (f"SELECT {protocol.journal_projection(_RATING_FIELDS)} FROM events "
               "WHERE day BETWEEN ?1 AND ?2 AND type = 'rated' ORDER BY seq")
_RATING_DAY_SQL = (f"SELECT day, {protocol.journal_projection(_RATING_FIELDS)} FROM events "
                   "WHERE day BETWEEN ?1 AND ?2 AND type = 'rated' ORDER BY seq")
# A day's key for the report cache: from the (day, seq) index alone, then two records read by rowid.
_DAYS_SQL = ("SELECT day, count(*), min(seq), max(seq) FROM events WHERE day BETWEEN ?1 AND ?2 "
             "GROUP BY day ORDER BY day")
_ENDS_SQL = "SELECT seq, CAST(body AS BLOB) FROM events WHERE seq IN (SELECT value FROM json_each(?1))"
BATCH = 4096


def connect(path: Path) -> sqlite3.Connection:
    """A read-only connection to the journal at `path`. Raises JournalError."""
    path = Path(path)
    if not path.is_file():
        raise JournalError(f"journal {path} does not exist (hub.journal in config, or --journal)")
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    try:
        db = sqlite3.connect(uri, uri=True, timeout=5.0, check_same_thread=False)
        version = db.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise JournalError(f"journal {path}: cannot read: {exc}") from None
    if version != SCHEMA_VERSION:
        db.close()
        raise JournalError(f"journal {path}: schema version {version}, reports read version {SCHEMA_VERSION}")
    return db


SPLIT_AT = 40_000  # events: below this, one process is quicker than starting another


def read_report(path: Path, config, first_day: str, last_day: str, workers: int = 1,
                split_at: int = SPLIT_AT, cache=None, closed_before: str | None = None) -> report.Report:
    """The report for first_day..last_day from the journal at `path`.

    With workers > 1 a long range is cut into that many runs of whole days, each
    folded by its own process (forked: nothing to import again), and the
    partials combined. Only for a process that owns nothing else: the hub
    passes 1. Within each piece SQLite reads on a thread of its own (it
    releases the GIL while it works) while the fold takes what it has read.

    With a `cache` (signage.reports.cache.ReportCache), days whose cached entry
    has the key the journal gives them now are taken from it, the others are
    folded one by one, and those before `closed_before` (a past service day is
    closed) are stored for next time. The report is the same either way.
    """
    if cache is not None:
        return _read_cached(Path(path), config, first_day, last_day, workers, split_at, cache, closed_before)
    pieces = _pieces(path, first_day, last_day, workers, split_at) if workers > 1 else [(first_day, last_day)]
    if len(pieces) == 1:
        partials = [fold_range(path, config, first_day, last_day)]
    else:
        with _forking_pool(len(pieces) - 1) as pool:
            others = [pool.submit(fold_range, path, config, a, b) for a, b in pieces[1:]]  # forks now
            partials = [fold_range(path, config, *pieces[0])] + [f.result() for f in others]
    with closing(connect(path)) as db:
        return report.combine(partials, ratings(db, first_day, last_day), config, first_day, last_day)


def fold_range(path: Path, config, first_day: str, last_day: str) -> report.Partial:
    with closing(connect(path)) as db:
        return _fold_on(db, report.fold, config, first_day, last_day)


def _fold_on(db: sqlite3.Connection, fold, config, first_day: str, last_day: str):
    for sql in (_QUEUE_SQL, _QUEUE_SQL_SORTED):
        rows = _Prefetch(db, sql, (first_day, last_day))
        try:
            return fold(rows, config, first_day, last_day)
        except report.DaysOutOfOrder:
            continue  # the clock was set back over midnight once: read day by day instead
        finally:
            rows.close()
    raise AssertionError("unreachable: sorted facts are in day order")  # pragma: no cover


# ---------------------------------------------------------------- with the report cache (cache.py)

Runs = list[tuple[str, str]]  # runs of whole days, each first..last with no cached day between


def day_keys(db: sqlite3.Connection, first_day: str, last_day: str) -> dict[str, tuple[int, str]]:
    """{day: (events, key)} for the days of first_day..last_day with events. The key changes when
    the day gets an event (its count and last seq), and when the journal is another one or a restored
    copy gone another way (a hash of the day's first and last record)."""
    try:
        rows = db.execute(_DAYS_SQL, (first_day, last_day)).fetchall()
        ends = sorted({seq for _, _, low, high in rows for seq in (low, high)})
        bodies = dict(db.execute(_ENDS_SQL, ("[" + ",".join(map(str, ends)) + "]",)))
    except sqlite3.DatabaseError as exc:
        raise JournalError(f"journal: cannot read events: {exc}") from None
    out = {}
    for day, count, low, high in rows:
        digest = hashlib.sha256(bodies[low] + b"\0" + bodies[high]).hexdigest()
        out[day] = (count, f"{count}:{low}:{high}:{digest}")
    return out


def _read_cached(path: Path, config, first_day: str, last_day: str, workers: int, split_at: int,
                 cache, closed_before: str | None) -> report.Report:
    db = connect(path)
    try:
        db.execute("BEGIN")  # one snapshot for the keys and, in one process, the fold
        keys = day_keys(db, first_day, last_day)
        hits = cache.load({day: key for day, (_, key) in keys.items()})
        missing = [(day, n) for day, (n, _) in keys.items() if day not in hits]
        pieces = _cut(missing, list(keys), workers, split_at)
        if len(pieces) <= 1:
            results = [_fold_runs(db, config, pieces[0] if pieces else [], first_day, last_day, keys)]
        else:
            db.close()  # each process reads its own snapshot, and keys it with that
            with _forking_pool(len(pieces) - 1) as pool:
                others = [pool.submit(fold_runs, path, config, runs, first_day, last_day) for runs in pieces[1:]]
                results = [fold_runs(path, config, pieces[0], first_day, last_day)] + [f.result() for f in others]
    finally:
        db.close()
    partials = dict(hits)
    keep = {}
    for run_keys, folded, uncacheable in results:
        for day, partial in folded.items():
            encoded = None
            if type(partial) is bytes:  # from another process: encoded there, stored as it is
                encoded, partial = partial, report.partial_from_plain(*protocol.decode_folded(partial, len(partial)))
            partials[day] = partial
            if closed_before is not None and day < closed_before and day not in uncacheable and day in run_keys:
                keep[day] = (run_keys[day][1], encoded or protocol.encode_folded(*report.partial_to_plain(partial)))
    cache.store(keep)
    return report.combine([partials[day] for day in sorted(partials)], (), config, first_day, last_day)


def fold_runs(path: Path, config, runs: Runs, first_day: str, last_day: str):
    """_fold_runs on a connection of its own (a forked process's piece), each day's Partial encoded
    as for the cache: bytes are quicker to send back than objects, and the cache keeps them."""
    with closing(connect(path)) as db:
        db.execute("BEGIN")
        run_keys, folded, uncacheable = _fold_runs(db, config, runs, first_day, last_day, None)
    return run_keys, {day: protocol.encode_folded(*report.partial_to_plain(p)) for day, p in folded.items()}, uncacheable


def _fold_runs(db: sqlite3.Connection, config, runs: Runs, first_day: str, last_day: str,
               keys: dict | None) -> tuple[dict, dict[str, report.Partial], set[str]]:
    """(keys, {day: its Partial with its ratings}, days not to cache) for every day of the runs,
    all read in the connection's current snapshot (keys=None: take them in it too)."""
    run_keys: dict[str, tuple[int, str]] = {}
    folded: dict[str, report.Partial] = {}
    uncacheable: set[str] = set()
    for first, last in runs:
        run_keys.update(day_keys(db, first, last) if keys is None else
                        {day: key for day, key in keys.items() if first <= day <= last})
        for partial in _fold_on(db, report.fold_days, config, first, last):
            if len(partial.days) == 1:
                folded[partial.days[0].day] = partial
            else:  # facts outside the run: counted, never cached (SQL gives none)
                stray = folded.setdefault("", report.Partial())
                stray.merge(partial)
        by_day: dict[str, list] = {}
        for rows in _batches(db, _RATING_DAY_SQL, (first, last)):
            for row in rows:
                by_day.setdefault(row[0], []).append(_rating(row[1:]))
        for day, facts in by_day.items():
            folded.setdefault(day, report.Partial()).merge(report.fold_ratings(facts, first_day, last_day))
            if any(f.at.date().isoformat() != day for f in facts):
                uncacheable.add(day)  # its ratings would count under another day of another range
    for day in run_keys:
        folded.setdefault(day, report.Partial())  # a day of other events only: nothing, but known
    uncacheable.add("")
    return run_keys, folded, uncacheable


def _cut(missing: list[tuple[str, int]], days: list[str], workers: int, split_at: int) -> list[Runs]:
    """The missing (day, events) as runs of days with no cached day between, in at most `workers`
    pieces of about as many events each (one piece when that is quicker)."""
    if not missing:
        return []
    index = {day: i for i, day in enumerate(days)}
    total = sum(n for _, n in missing)
    n_pieces = 1
    if workers > 1 and total >= split_at and len(missing) > 1 and _can_fork():
        n_pieces = min(workers, len(missing))
    pieces: list[list[tuple[str, int]]] = [[]]
    seen = 0
    for day, n in missing:
        if pieces[-1] and len(pieces) < n_pieces and seen >= total * len(pieces) / n_pieces:
            pieces.append([])
        pieces[-1].append((day, n))
        seen += n
    out = []
    for piece in pieces:
        runs: Runs = []
        for day, _ in piece:
            if runs and index[day] == index[runs[-1][1]] + 1:
                runs[-1] = (runs[-1][0], day)
            else:
                runs.append((day, day))
        out.append(runs)
    return out


def _pieces(path: Path, first_day: str, last_day: str, workers: int, split_at: int) -> list[tuple[str, str]]:
    """first_day..last_day cut into at most `workers` runs of whole days with about as many events each."""
    if not _can_fork():
        return [(first_day, last_day)]
    with closing(connect(path)) as db:
        days = db.execute("SELECT day, count(*) FROM events WHERE day BETWEEN ? AND ? GROUP BY day ORDER BY day",
                          (first_day, last_day)).fetchall()
    total = sum(n for _, n in days)
    if total < split_at or len(days) < 2:
        return [(first_day, last_day)]
    pieces, start, seen = [], first_day, 0
    for i, (day, n) in enumerate(days[:-1]):
        seen += n
        if seen >= total * (len(pieces) + 1) / workers and len(pieces) < workers - 1:
            pieces.append((start, day))
            start = days[i + 1][0]
    pieces.append((start, last_day))
    return pieces


def _can_fork() -> bool:
    return hasattr(os, "fork")  # multiprocessing's "fork" start method: POSIX


def _forking_pool(processes: int):
    """Processes forked from this one (nothing to import again). Imported here: most reports fold
    in one process, and multiprocessing takes a while to import."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork"))


def queue_facts(db: sqlite3.Connection, first_day: str, last_day: str,
                sql: str = _QUEUE_SQL) -> Iterator[report.QueueFact]:
    for rows in _batches(db, sql, (first_day, last_day)):
        for row in rows:
            yield report.QueueFact._make(row)


def ratings(db: sqlite3.Connection, first_day: str, last_day: str) -> Iterator[report.RatingFact]:
    for rows in _batches(db, _RATING_SQL, (first_day, last_day)):
        yield from map(_rating, rows)


def _rating(row: tuple) -> report.RatingFact:
    at, counter, ticket, service, form, comment, scores = row
    return report.RatingFact(datetime.fromisoformat(at), counter, ticket, service, form,
                             tuple(protocol.decode_projected(scores)), comment or "")


class _Prefetch:
    """Rows of one query, fetched in batches by a worker thread, iterated here in order."""

    _DONE = object()

    def __init__(self, db: sqlite3.Connection, sql: str, args: tuple):
        self._queue: queue.Queue = queue.Queue(maxsize=8)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(db, sql, args), name="report-read", daemon=True)
        self._thread.start()

    def _run(self, db, sql, args) -> None:
        try:
            for rows in _batches(db, sql, args):
                if not self._offer(rows):
                    return
            self._offer(self._DONE)
        except JournalError as exc:
            self._offer(exc)

    def _offer(self, item) -> bool:
        """Queue an item unless the reader has stopped; False once it has."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self):
        while True:
            item = self._queue.get()
            if item is self._DONE:
                return
            if isinstance(item, JournalError):
                raise item
            yield from item

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


def _batches(db: sqlite3.Connection, sql: str, args: tuple) -> Iterator[list]:
    try:
        cursor = db.execute(sql, args)
        while rows := cursor.fetchmany(BATCH):
            yield rows
    except sqlite3.DatabaseError as exc:
        raise JournalError(f"journal: cannot read events: {exc}") from None
