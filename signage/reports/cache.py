"""The report cache: the folded figures of closed service days, in an SQLite file beside the journal.

A past day never changes in a journal that is only appended to, so `signage report` keeps each
closed day's Partial (signage.core.report) and a year is ~250 cached days + today to combine.
Each entry is stored under the key of what made it (source.day_keys: the day's number of events,
its first and last seq and a hash of those two records, plus the fold's code and the config it
read), and that key is compared on every read: a day that got another event, a journal restored
or swapped for another, a new version of the fold or another set of counters all miss and are
folded again from the journal, which stays the only truth.

The cache is a convenience, never a reason for a report to fail: a cache that is missing,
corrupt, not ours, locked or unwritable is logged once as a warning and the report is computed
from the journal. It is a file of its own, never the journal (which a report opens read-only).
Entries are hostile input: size-capped, versioned and checked value by value when decoded.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
from pathlib import Path
from urllib.parse import quote

from signage.core import protocol, report, text

log = logging.getLogger("signage.reports.cache")

SUFFIX = ".report-cache"
APPLICATION_ID = 0x53475243  # "SGRC": this file is a signage report cache
SCHEMA_VERSION = 1
MAX_ENTRY = 16 << 20  # bytes of one day's entry (a day of 290 tickets is ~30 kB)
MAX_LOAD = 256 << 20  # bytes of entries one report reads (a year is ~8 MB); beyond, the rest are folded
SCHEMA = """
CREATE TABLE IF NOT EXISTS days (
    day  TEXT PRIMARY KEY,   -- service day
    key  TEXT NOT NULL,      -- what the entry was folded from (see context_key and source.day_keys)
    data BLOB NOT NULL       -- protocol.encode_folded(*report.partial_to_plain(...))
);
"""


def default_path(journal: Path) -> Path:
    """Where the cache of `journal` lives unless told otherwise: journal.sqlite.report-cache."""
    return Path(f"{journal}{SUFFIX}")


def context_key(config) -> str:
    """What every entry also depends on: the plain form's version, the fold's code and the config it reads."""
    h = hashlib.sha256()
    h.update(f"{report.PLAIN_VERSION}\n".encode())
    h.update(Path(report.__file__).read_bytes())
    h.update(repr(report.fold_inputs(config)).encode())
    return h.hexdigest()


class ReportCache:
    """Cached Partials of closed days for one journal and one config. Never raises on I/O."""

    def __init__(self, path: Path, context: str, journal: Path | None = None):
        self.path = Path(path)
        self.context = context
        self.broken = False  # not ours to read or write (the journal, another program's file)
        self.warned = False  # one warning per report is enough
        if journal is not None and _same_file(self.path, Path(journal)):
            self._give_up("is the journal itself; a report never writes the journal")

    def _warn(self, why: str) -> None:
        if not self.warned:
            log.warning("report cache %s %s; computing from the journal", self.path, why)
        self.warned = True

    def _give_up(self, why: str) -> None:
        self._warn(why)
        self.broken = True

    def _key(self, day_key: str) -> str:
        return hashlib.sha256(f"{self.context}\n{day_key}".encode()).hexdigest()

    # -- reading

    def load(self, day_keys: dict[str, str]) -> dict[str, report.Partial]:
        """The cached Partials of those days whose entry has the same key; the others are missing."""
        if self.broken or not day_keys or not self.path.exists():
            return {}
        wanted = {day: self._key(k) for day, k in day_keys.items()}
        found: dict[str, report.Partial] = {}
        bad = 0
        try:
            db = self._connect(f"file:{quote(str(self.path.resolve()))}?mode=ro")
            try:
                rows = db.execute("SELECT day, key, CASE WHEN length(data) <= ? THEN data END FROM days "
                                  "WHERE day BETWEEN ? AND ?", (MAX_ENTRY, min(wanted), max(wanted))).fetchall()
            finally:
                db.close()
        except _OtherVersion as exc:
            log.info("report cache %s %s: folding every day again", self.path, exc)
            return {}  # store() makes it over
        except _NotOurs as exc:
            self._give_up(str(exc))
            return {}
        except (sqlite3.Error, OSError) as exc:
            self._warn(f"cannot be read ({exc})")  # store() may still mend it (e.g. roll back a torn write)
            return {}
        budget = MAX_LOAD
        for day, key, data in rows:
            if type(day) is not str or wanted.get(day) != key:
                continue  # another day, or the day as it was before: fold it again
            budget -= len(data) if isinstance(data, bytes) else 0
            if budget < 0:
                self._warn(f"holds more than {MAX_LOAD >> 20} MB for this range")
                break
            try:
                partial = report.partial_from_plain(*protocol.decode_folded(data, MAX_ENTRY))
                if any(d.day != day for d in partial.days):
                    raise ValueError(f"entry holds another day than {day}")
            except (ValueError, TypeError, KeyError, OverflowError) as exc:
                bad += 1
                if bad == 1:
                    log.warning("report cache %s: entry for %s is unusable (%s); folding it again",
                                self.path, day, text.for_log(str(exc)))
                continue
            found[day] = partial
        return found

    # -- writing

    def store(self, entries: dict[str, tuple[str, bytes]]) -> None:
        """Keep these days: {day: (day key, protocol.encode_folded(*report.partial_to_plain(its Partial)))}.
        One transaction; failures are a warning."""
        if self.broken or not entries:
            return
        rows = [(day, self._key(k), data) for day, (k, data) in sorted(entries.items())]
        try:
            db = self._connect(f"file:{quote(str(self.path.resolve()))}?mode=rwc", create=True)
            try:
                with db:
                    db.executemany("INSERT OR REPLACE INTO days (day, key, data) VALUES (?, ?, ?)", rows)
            finally:
                db.close()
        except _NotOurs as exc:
            self._give_up(str(exc))
        except (sqlite3.Error, OSError) as exc:
            self._warn(f"cannot be written ({exc})")

    def _connect(self, uri: str, create: bool = False) -> sqlite3.Connection:
        db = sqlite3.connect(uri, uri=True, timeout=1.0)
        try:
            db.execute("PRAGMA trusted_schema = OFF")  # a file from elsewhere runs no functions of its own
            app, version = db.execute("PRAGMA application_id").fetchone()[0], \
                db.execute("PRAGMA user_version").fetchone()[0]
            if app == 0 and version == 0 and _empty(db):  # a new (or empty) file: make it ours
                if not create:
                    raise _OtherVersion("is empty")
                db.executescript(f"BEGIN; PRAGMA application_id = {APPLICATION_ID}; "
                                 f"PRAGMA user_version = {SCHEMA_VERSION}; {SCHEMA} COMMIT;")
            elif app != APPLICATION_ID:
                raise _NotOurs("is not a signage report cache (another file at that path: remove it or use --cache)")
            elif version != SCHEMA_VERSION:
                if not create:
                    raise _OtherVersion(f"has schema version {version}, this reads {SCHEMA_VERSION}")
                # ours, but of another version: its entries are no use
                db.executescript(f"BEGIN; DROP TABLE IF EXISTS days; {SCHEMA} "
                                 f"PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")
        except BaseException:
            db.close()
            raise
        return db


class _NotOurs(Exception):
    pass


class _OtherVersion(Exception):
    pass


def _empty(db: sqlite3.Connection) -> bool:
    return db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False
