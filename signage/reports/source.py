"""Read the journal for a report: a read-only SQLite connection, facts out.

`mode=ro` (a URI) means a report can never write, lock out or corrupt the live
hub's journal; in WAL mode it reads a consistent snapshot while the hub keeps
appending. SQLite extracts the few fields a report needs from each stored event
(see protocol.journal_projection); the facts go to signage.core.report.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Iterator
from urllib.parse import quote

from signage.core import protocol, report, survey
from signage.errors import JournalError
from signage.hub.journal import SCHEMA_VERSION

_QUEUE_FIELDS = ("at", "counter", "ticket", "service", "reason", "to_service")
_RATING_FIELDS = ("at", "counter", "ticket", "service", "form", "comment") + tuple(
    f"scores[{i}]" for i in range(len(survey.ELEMENTS)))
_QUEUE_SQL = (f"SELECT seq, type, {protocol.journal_projection(_QUEUE_FIELDS)} FROM events "
              f"WHERE day BETWEEN ? AND ? AND type IN ({', '.join('?' * len(report.QUEUE_KINDS))}) ORDER BY seq")
_RATING_SQL = (f"SELECT {protocol.journal_projection(_RATING_FIELDS)} FROM events "
               "WHERE day BETWEEN ? AND ? AND type = 'rated' ORDER BY seq")
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


def read_report(path: Path, config, first_day: str, last_day: str) -> report.Report:
    """The report for first_day..last_day from the journal at `path`."""
    with closing(connect(path)) as db:
        return report.build(queue_facts(db, first_day, last_day), ratings(db, first_day, last_day),
                            config, first_day, last_day)


def queue_facts(db: sqlite3.Connection, first_day: str, last_day: str) -> Iterator[report.QueueFact]:
    parse = datetime.fromisoformat
    for rows in _batches(db, _QUEUE_SQL, (first_day, last_day, *report.QUEUE_KINDS)):
        for seq, kind, at, counter, ticket, service, reason, to_service in rows:
            yield report.QueueFact(seq, parse(at), kind, counter, ticket, service, reason, to_service)


def ratings(db: sqlite3.Connection, first_day: str, last_day: str) -> Iterator[report.RatingFact]:
    for rows in _batches(db, _RATING_SQL, (first_day, last_day)):
        for at, counter, ticket, service, form, comment, *scores in rows:
            yield report.RatingFact(datetime.fromisoformat(at), counter, ticket, service, form,
                                    tuple(s for s in scores if s is not None), comment or "")


def _batches(db: sqlite3.Connection, sql: str, args: tuple) -> Iterator[list]:
    try:
        cursor = db.execute(sql, args)
        while rows := cursor.fetchmany(BATCH):
            yield rows
    except sqlite3.DatabaseError as exc:
        raise JournalError(f"journal: cannot read events: {exc}") from None
