"""The report cache against real SQLite journals: the same report with or without it, a changed day
or journal never answered from it, and a broken cache only ever a warning."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import random
import re
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from signage.config import load_config
from signage.core import messages as m, report
from signage.hub.journal import Journal, Record
from signage.reports import cache as report_cache, source
from support import timeout, write_config
from unit.test_report import OPEN
from unit.test_report_cache_plain import FIRST, LAST, a_week

CLOSED = "2027-01-01"  # every day of the week is closed


def write_journal(path: Path, events: list[m.Event]) -> None:
    journal = Journal(path, "normal").open()
    try:
        journal.append([Record(e, "test", e.id, "{}") for e in events])
    finally:
        journal.close()


def renumbered(events: list[m.Event], start: int = 1) -> list[m.Event]:
    return [dataclasses.replace(e, seq=n, id=f"e{n}") for n, e in enumerate(events, start=start)]


def another_week(seed: int) -> list[m.Event]:
    """The same days and, day by day, as many events as a_week, but other tickets and times."""
    rng = random.Random(seed)
    return [dataclasses.replace(e, at=e.at + timedelta(seconds=rng.randint(0, 50)),
                                **({"ticket": e.ticket.replace("A-", "C-")} if getattr(e, "ticket", None) else {}))
            for e in a_week()]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Runs:
    """Which runs of days each report folded from the journal (the rest came from the cache)."""

    def __init__(self, monkeypatch):
        self.calls: list[list[tuple[str, str]]] = []
        fold_runs = source._fold_runs

        def spy(db, config, runs, *rest):
            self.calls.append(list(runs))
            return fold_runs(db, config, runs, *rest)

        monkeypatch.setattr(source, "_fold_runs", spy)

    def last(self) -> list[tuple[str, str]]:
        return self.calls[-1]


@pytest.fixture
def week(tmp_path):
    config = load_config(write_config(tmp_path))
    path = tmp_path / "journal.sqlite"
    events = renumbered(a_week())
    write_journal(path, events)
    return config, path, events


def plain(config, path) -> dict:
    return report.to_document(source.read_report(path, config, FIRST, LAST))


def cached(config, path, cache_path: Path | None = None, closed: str | None = CLOSED, **kw) -> dict:
    cache = report_cache.ReportCache(cache_path or report_cache.default_path(path),
                                     report_cache.context_key(config), path)
    return report.to_document(source.read_report(path, config, FIRST, LAST, cache=cache, closed_before=closed, **kw))


def stored_days(cache_path: Path) -> list[str]:
    with sqlite3.connect(cache_path) as db:
        return [day for (day,) in db.execute("SELECT day FROM days ORDER BY day")]


def test_a_cached_run_and_an_uncached_run_give_the_same_json(week, monkeypatch):
    config, path, _ = week
    runs = Runs(monkeypatch)
    before = digest(path)
    expected = plain(config, path)
    assert expected["report"]["service_days"] == 5 and expected["survey"]["comments"]
    cold = cached(config, path)
    assert runs.last() == [(FIRST, LAST)]  # every day folded from the journal …
    cache_path = report_cache.default_path(path)
    assert cache_path.name == "journal.sqlite.report-cache"
    assert stored_days(cache_path) == ["2026-11-30", "2026-12-01", "2026-12-02", "2026-12-03", "2026-12-04"]
    warm = cached(config, path)
    assert runs.last() == []  # … then none
    assert cold == warm == expected
    assert json.dumps(warm, sort_keys=True) == json.dumps(expected, sort_keys=True)
    assert digest(path) == before  # the journal is only read


def test_the_cache_combines_with_ranges_and_processes(week, monkeypatch):
    config, path, _ = week
    runs = Runs(monkeypatch)
    cache = report_cache.ReportCache(report_cache.default_path(path), report_cache.context_key(config), path)
    middle = source.read_report(path, config, "2026-12-01", "2026-12-02", cache=cache, closed_before=CLOSED)
    assert report.to_document(middle) == report.to_document(source.read_report(path, config, "2026-12-01", "2026-12-02"))
    shared = cached(config, path, workers=2, split_at=1)  # two runs around the cached days, two processes
    assert shared == plain(config, path)
    assert stored_days(report_cache.default_path(path)) == ["2026-11-30", "2026-12-01", "2026-12-02", "2026-12-03",
                                                            "2026-12-04"]
    assert cached(config, path, workers=2, split_at=1) == shared and runs.last() == []


def test_an_event_appended_to_a_day_invalidates_that_day_only(week, monkeypatch):
    config, path, events = week
    runs = Runs(monkeypatch)
    old = cached(config, path)
    day = OPEN + timedelta(days=1)
    late = [m.Issued(len(events) + 1, day.replace(hour=15, minute=59), f"e{len(events) + 1}", "A-900",
                     "DUKCAPIL-01", 900)]
    write_journal(path, late)  # the hub's clock was behind: one more ticket on a past day
    new = cached(config, path)
    assert runs.last() == [("2026-12-01", "2026-12-01")]
    assert new == plain(config, path) != old
    assert new["hall"]["issued"] == old["hall"]["issued"] + 1


def test_a_journal_swapped_for_another_is_never_answered_from_the_cache(week, monkeypatch):
    config, path, events = week
    runs = Runs(monkeypatch)
    old = cached(config, path)
    other = renumbered(another_week(3))
    assert [e.seq for e in other] == [e.seq for e in events]  # same days, seqs and counts per day
    for name in ("journal.sqlite", "journal.sqlite-wal", "journal.sqlite-shm"):
        (path.parent / name).unlink(missing_ok=True)
    write_journal(path, other)  # e.g. a backup restored, or another hall's journal
    new = cached(config, path)
    assert runs.last() == [(FIRST, LAST)]
    assert new == plain(config, path) != old


def test_another_config_of_the_counters_misses(week, monkeypatch, tmp_path):
    config, path, _ = week
    runs = Runs(monkeypatch)
    cached(config, path)
    moved = dataclasses.replace(config, services=tuple(
        dataclasses.replace(s, counters=(2,)) if s.code == "DUKCAPIL-01" else s for s in config.services))
    assert cached(moved, path) == plain(moved, path)
    assert runs.last() == [(FIRST, LAST)]


def test_days_not_closed_are_not_kept(week):
    config, path, _ = week
    assert cached(config, path, closed="2026-12-03") == plain(config, path)
    assert stored_days(report_cache.default_path(path)) == ["2026-11-30", "2026-12-01", "2026-12-02"]
    assert cached(config, path, closed=None) == plain(config, path)  # nothing more kept


def test_a_corrupt_cache_file_is_ignored_with_a_warning(week, caplog):
    config, path, _ = week
    cache_path = report_cache.default_path(path)
    cache_path.write_bytes(b"this is not a database, " * 100)
    with caplog.at_level(logging.WARNING, logger="signage.reports.cache"):
        assert cached(config, path) == plain(config, path)
    assert "computing from the journal" in caplog.text
    assert cache_path.read_bytes() == b"this is not a database, " * 100  # not ours to overwrite


def test_a_damaged_entry_is_folded_again_and_rewritten(week, monkeypatch, caplog):
    config, path, _ = week
    runs = Runs(monkeypatch)
    expected = cached(config, path)
    cache_path = report_cache.default_path(path)
    with sqlite3.connect(cache_path) as db:
        data = bytearray(db.execute("SELECT data FROM days WHERE day = '2026-12-02'").fetchone()[0])
        data[len(data) // 2] ^= 0x01
        db.execute("UPDATE days SET data = ? WHERE day = '2026-12-02'", (bytes(data),))
        db.execute("UPDATE days SET data = zeroblob(20000000) WHERE day = '2026-12-03'")  # over the size cap
    with caplog.at_level(logging.WARNING, logger="signage.reports.cache"):
        assert cached(config, path) == expected
    assert "entry for 2026-12-02 is unusable" in caplog.text
    assert runs.last() == [("2026-12-02", "2026-12-03")]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="signage.reports.cache"):
        assert cached(config, path) == expected
    assert caplog.text == "" and runs.last() == []


def test_an_unwritable_cache_is_a_warning(week, caplog, tmp_path):
    config, path, _ = week
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with caplog.at_level(logging.WARNING, logger="signage.reports.cache"):
        assert cached(config, path, cache_path=blocker / "cache") == plain(config, path)
    assert "cannot be written" in caplog.text


def test_the_journal_or_another_database_is_never_written_as_the_cache(week, caplog, tmp_path):
    config, path, _ = week
    before = digest(path)
    with caplog.at_level(logging.WARNING, logger="signage.reports.cache"):
        assert cached(config, path, cache_path=path) == plain(config, path)
    assert "is the journal itself" in caplog.text
    foreign = tmp_path / "other.sqlite"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE days (day TEXT PRIMARY KEY, key TEXT, data BLOB)")
    foreign_before = digest(foreign)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="signage.reports.cache"):
        assert cached(config, path, cache_path=foreign) == plain(config, path)
    assert "is not a signage report cache" in caplog.text
    assert digest(foreign) == foreign_before and digest(path) == before


# ---------------------------------------------------------------- the command line


def run_report(config_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "signage", "report", "--config", str(config_path), *args],
                          capture_output=True, timeout=timeout(60))


def without_time(stdout: bytes) -> bytes:
    """The json text as it was printed, but for the moment it was made: byte for byte the same report."""
    assert json.loads(stdout)["report"]["generated_at"]
    return re.sub(rb'"generated_at":"[^"]*"', b"", stdout)


def test_signage_report_keeps_closed_days_beside_the_journal(tmp_path):
    config_path = write_config(tmp_path)
    journal = tmp_path / "journal.sqlite"
    write_journal(journal, renumbered(a_week()))
    args = ("--journal", str(journal), "--from", FIRST, "--to", LAST)
    uncached = run_report(config_path, *args, "--no-cache")
    assert uncached.returncode == 0, uncached.stderr.decode()
    assert not report_cache.default_path(journal).exists()
    cold, warm = run_report(config_path, *args), run_report(config_path, *args)
    assert cold.returncode == warm.returncode == 0, cold.stderr.decode() + warm.stderr.decode()
    assert without_time(cold.stdout) == without_time(warm.stdout) == without_time(uncached.stdout)
    assert stored_days(report_cache.default_path(journal))  # past days (the week is in 2026-11/12)
    elsewhere = tmp_path / "cache-dir" / "mine"
    elsewhere.parent.mkdir()
    moved = run_report(config_path, *args, "--cache", str(elsewhere))
    assert moved.returncode == 0 and elsewhere.exists()
    assert without_time(moved.stdout) == without_time(uncached.stdout)
    report_cache.default_path(journal).write_bytes(b"\0" * 4096)
    broken = run_report(config_path, *args)
    assert broken.returncode == 0 and b"WARNING" in broken.stderr and b"report cache" in broken.stderr
    assert without_time(broken.stdout) == without_time(uncached.stdout)


def test_an_empty_cache_file_is_made_ours_and_filled(week):
    config, path, _ = week
    cache_path = report_cache.default_path(path)
    cache_path.write_bytes(b"")  # e.g. left by a crash right after it was created
    assert cached(config, path) == plain(config, path)
    assert len(stored_days(cache_path)) == 5


def test_days_read_day_by_day_after_a_clock_set_back_are_cached_alike(tmp_path, monkeypatch):
    """A day whose events came again later in seq order (the hub's clock set back over midnight)."""
    config = load_config(write_config(tmp_path))
    late = OPEN + timedelta(days=1)
    events = [
        m.Issued(1, OPEN, "i1", "A-001", "DUKCAPIL-01", 1),
        m.Issued(2, late, "i2", "A-001", "DUKCAPIL-01", 1),  # the clock ran a day ahead …
        m.Called(3, OPEN + timedelta(minutes=9), "c1", 1, "A-001", "DUKCAPIL-01"),  # … and was set back
        m.Cleared(4, OPEN + timedelta(minutes=15), "d1", 1, "A-001", "done", "DUKCAPIL-01"),
        m.Called(5, late + timedelta(minutes=3), "c2", 2, "A-001", "DUKCAPIL-01"),
    ]
    path = tmp_path / "journal.sqlite"
    write_journal(path, events)
    runs = Runs(monkeypatch)
    expected = plain(config, path)
    assert [d["day"] for d in expected["days"]] == ["2026-11-30", "2026-12-01"]
    assert cached(config, path) == expected and runs.last() == [(FIRST, "2026-12-01")]
    assert cached(config, path) == expected and runs.last() == []


def test_a_json_report_loads_no_board_web_or_excel_module(tmp_path):
    """`signage report --format json` imports what it uses: not pygame, websockets, openpyxl, asyncio or the
    board's layout (start-up is a good part of a warm report's time)."""
    config_path = write_config(tmp_path)
    journal = tmp_path / "journal.sqlite"
    write_journal(journal, renumbered(a_week()))
    script = (
        "import sys\n"
        "from signage import cli\n"
        f"code = cli.main(['report', '--config', {str(config_path)!r}, '--journal', {str(journal)!r},"
        f" '--from', {FIRST!r}, '--to', {LAST!r}, '--out', '/dev/null'])\n"
        "heavy = {'pygame', 'websockets', 'openpyxl', 'asyncio', 'multiprocessing', 'signage.core.layout',"
        " 'signage.display', 'signage.hub.server', 'signage.cli_fleet'}\n"
        "print(code, sorted(m for m in sys.modules if m in heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=timeout(60))
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().split("\n")[0] == "0 []"


@pytest.mark.parametrize("argv, expected", [
    (["report", "--date", "today"], "report"),
    (["--config", "c.yaml", "--log-level", "debug", "report"], "report"),
    (["--config=c.yaml", "display", "--help"], "display"),
    (["--help"], None),
    (["-h", "report"], None),
    (["hub"], None),  # not plugged: the whole parser, as before
    (["--conf", "report"], None),  # an abbreviation of --config, with its value
    (["--conf", "c.yaml", "--log", "info", "report"], "report"),
    ([], None),
])
def test_the_plugged_command_is_found_before_parsing(argv, expected):
    from signage import cli

    assert cli.plugged_command(argv) == expected
    if expected is not None and "--help" not in argv:
        assert cli.build_parser(expected).parse_args(argv).command == expected
