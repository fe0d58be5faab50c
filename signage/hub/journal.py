"""The durable journal: every event, in seq order, in one SQLite file (WAL mode).

An event is acked only after `append` returned, i.e. after COMMIT; with
`sync: full` that COMMIT is fsynced, so it survives power loss, with `normal`
it survives a killed process. A batch of events (group commit) is one
transaction: all stored, or none and JournalError.

One hub owns a journal at a time: an advisory lock file next to it turns a
second hub into a clear error instead of two writers racing for seqs.
Blocking calls; the hub runs them on its single journal thread.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from signage.core import messages as m, protocol, text
from signage.core.hall import service_day
from signage.errors import JournalError, ProtocolError

SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq        INTEGER PRIMARY KEY,
    day        TEXT NOT NULL,      -- service day, local date in the hall's zone
    at         TEXT NOT NULL,      -- ISO-8601 with offset
    type       TEXT NOT NULL,
    actor      TEXT NOT NULL,      -- token name that sent the command
    command_id TEXT NOT NULL,      -- client-chosen id, unique per actor
    command    TEXT NOT NULL,      -- canonical command text, to spot a reused id
    body       TEXT NOT NULL       -- the event as sent to displays
);
CREATE UNIQUE INDEX IF NOT EXISTS events_by_command ON events (actor, command_id);
CREATE INDEX IF NOT EXISTS events_by_day ON events (day, seq);
CREATE TABLE IF NOT EXISTS receipts (  -- voice receipts (docs/voice.md): one per call, the first wins
    seq        INTEGER PRIMARY KEY,  -- the call's event seq
    day        TEXT NOT NULL,
    zone       TEXT NOT NULL,
    epoch      INTEGER NOT NULL,
    status     TEXT NOT NULL,        -- spoken | skipped
    reason     TEXT,
    holder     TEXT,
    at         TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS receipts_by_day ON receipts (day, seq);
CREATE TABLE IF NOT EXISTS voice_epochs (zone TEXT PRIMARY KEY, epoch INTEGER NOT NULL);
"""


@dataclass(frozen=True)
class Record:
    event: m.Event
    actor: str
    command_id: str
    command: str
    body: str = ""  # the event's frame, encoded once for the journal and every client; "" = encode here


@dataclass(frozen=True)
class PriorCommand:
    seq: int
    command: str
    event: m.Event


class Journal:
    def __init__(self, path: Path, sync: str = "full"):
        self.path = Path(path)
        self.sync = sync
        self._db: sqlite3.Connection | None = None
        self._lock_fd: int | None = None
        self.warnings: list[str] = []  # found while loading (e.g. old rows with text the rule now refuses)
        self._sanitized = 0

    # -- lifecycle

    def open(self) -> "Journal":
        where = str(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise JournalError(f"journal {where}: cannot create directory {self.path.parent}: {exc.strerror}") from None
        self._take_lock()
        try:
            db = sqlite3.connect(where, isolation_level=None, check_same_thread=False, timeout=2.0)
        except sqlite3.Error as exc:
            self._release_lock()
            raise JournalError(f"journal {where}: cannot open: {exc}") from None
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(f"PRAGMA synchronous={'FULL' if self.sync == 'full' else 'NORMAL'}")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA_VERSION):
                raise JournalError(f"journal {where}: schema version {version}, this hub knows {SCHEMA_VERSION}")
            db.executescript(SCHEMA)
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            db.execute("SELECT count(*) FROM events").fetchone()
        except sqlite3.DatabaseError as exc:
            db.close()
            self._release_lock()
            raise JournalError(_explain(where, exc)) from None
        self._db = db
        return self

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        self._release_lock()

    def _take_lock(self) -> None:
        lock_path = f"{self.path}.lock"
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise JournalError(f"journal {self.path}: cannot create lock file {lock_path}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise JournalError(
                f"journal {self.path} is locked by another hub (pid {owner}); stop it or use another journal path"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._lock_fd = fd

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise JournalError(f"journal {self.path} is not open")
        return self._db

    # -- reads

    def last_seq(self) -> int:
        row = self._query("SELECT max(seq) FROM events").fetchone()
        return row[0] or 0

    def events_of_day(self, day: str) -> list[m.Event]:
        rows = self._query("SELECT body FROM events WHERE day = ? ORDER BY seq", (day,))
        return [self._decode(body) for (body,) in rows]

    def events_after(self, seq: int, limit: int = 10_000) -> list[m.Event]:
        rows = self._query("SELECT body FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit))
        return [self._decode(body) for (body,) in rows]

    def last_of_type(self, type_name: str) -> m.Event | None:
        """The newest event of one type (e.g. "content": what was last published), or None."""
        row = self._query("SELECT body FROM events WHERE type = ? ORDER BY seq DESC LIMIT 1", (type_name,)).fetchone()
        return self._decode(row[0]) if row else None

    def count(self) -> int:
        return self._query("SELECT count(*) FROM events").fetchone()[0]

    def find_command(self, actor: str, command_id: str) -> PriorCommand | None:
        return self.find_commands([(actor, command_id)]).get((actor, command_id))

    def find_commands(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], PriorCommand]:
        """Earlier commands with these (actor, id) keys, from committed rows only."""
        self._no_open_transaction()
        found: dict[tuple[str, str], PriorCommand] = {}
        for actor, command_id in dict.fromkeys(keys):
            row = self._query("SELECT seq, command, body FROM events WHERE actor = ? AND command_id = ?",
                              (actor, command_id)).fetchone()
            if row:
                found[(actor, command_id)] = PriorCommand(row[0], row[1], self._decode(row[2]))
        return found

    def _no_open_transaction(self) -> None:
        # append() always ends its transaction; if anything ever left one open, reads on this
        # connection would see rows that were never committed (an acked id pointing at nothing).
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")
            raise JournalError(f"journal {self.path}: a transaction was left open; rolled back")

    def _query(self, sql: str, args: tuple = ()) -> sqlite3.Cursor:
        try:
            return self.db.execute(sql, args)
        except sqlite3.DatabaseError as exc:
            raise JournalError(_explain(str(self.path), exc)) from None

    def _decode(self, body: str) -> m.Event:
        try:
            event = protocol.decode_event(body)
        except ProtocolError as exc:
            raise JournalError(f"journal {self.path}: unreadable event record: {exc.message}") from None
        clean = protocol.sanitize_event(event)
        if clean is not event:
            self._sanitized += 1
            if self._sanitized == 1:
                self.warnings.append(
                    f"journal {self.path}: event {event.seq} ({protocol.type_name(event)}) holds text that is no "
                    f"longer accepted (control characters or lone surrogates); loaded with them replaced by U+FFFD")
        return clean

    # -- voice receipts and lease epochs

    def append_receipt(self, receipt: m.Receipt, day: str, at: str) -> bool:
        """Store a receipt unless the call has one already; True if this one is new. Committed on return."""
        self._no_open_transaction()
        try:
            cursor = self.db.execute(
                "INSERT OR IGNORE INTO receipts VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (receipt.seq, day, receipt.zone, receipt.epoch, receipt.status, receipt.reason, receipt.by, at))
        except sqlite3.DatabaseError as exc:
            raise JournalError(_explain(str(self.path), exc)) from None
        return cursor.rowcount == 1

    def issuers_of_day(self, day: str) -> dict[str, str]:
        """ticket → the token name that issued it (a kiosk), for that day's tickets: who may reprint it."""
        rows = self._query(f"SELECT {protocol.journal_projection(('ticket',))}, actor FROM events "
                           "WHERE day = ? AND type = 'issued' ORDER BY seq", (day,))
        return {ticket: actor for ticket, actor in rows}

    def receipts_of_day(self, day: str) -> list[m.Receipt]:
        rows = self._query("SELECT seq, zone, epoch, status, reason, holder FROM receipts WHERE day = ? "
                           "ORDER BY seq", (day,))
        return [m.Receipt(seq, zone, epoch, status, reason, holder) for seq, zone, epoch, status, reason, holder
                in rows]

    def voice_epochs(self) -> dict[str, int]:
        return dict(self._query("SELECT zone, epoch FROM voice_epochs").fetchall())

    def store_epoch(self, zone: str, epoch: int) -> None:
        self._no_open_transaction()
        self._query("INSERT INTO voice_epochs VALUES (?, ?) ON CONFLICT(zone) DO UPDATE SET epoch = excluded.epoch "
                    "WHERE excluded.epoch > voice_epochs.epoch", (zone, epoch))

    # -- writes

    def append(self, records: list[Record]) -> None:
        """Store records in one transaction. Returns only when committed."""
        rows = [
            (r.event.seq, service_day(r.event.at), r.event.at.isoformat(), protocol.type_name(r.event),
             r.actor, r.command_id, r.command, r.body or protocol.encode_event(r.event))
            for r in records
        ]
        db = self.db
        self._no_open_transaction()
        try:
            db.execute("BEGIN IMMEDIATE")
            db.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
            db.execute("COMMIT")
        except BaseException as exc:  # whatever went wrong, nothing of the batch stays half-written
            try:
                if db.in_transaction:
                    db.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            if isinstance(exc, sqlite3.Error):
                raise JournalError(_explain(str(self.path), exc)) from None
            if isinstance(exc, Exception):
                raise JournalError(f"journal {self.path}: could not store the batch: {type(exc).__name__}: "
                                   f"{text.for_log(str(exc))}") from None
            raise


def _explain(where: str, exc: sqlite3.Error) -> str:
    text = str(exc)
    if "file is not a database" in text or "malformed" in text:
        return f"journal {where} is corrupt ({text}); move it aside to start a new one, keep it for recovery"
    if "readonly" in text or "read-only" in text:
        return f"journal {where} is read-only ({text}); the hub needs write access to the file and its directory"
    if "locked" in text or "busy" in text:
        return f"journal {where} is locked by another process ({text})"
    if "disk is full" in text or "full" in text:
        return f"journal {where}: disk is full ({text}); free space, calls are refused until then"
    return f"journal {where}: {text}"
