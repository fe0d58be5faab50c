"""The journal's disk fills up or turns read-only under a running hub process.

The hub must answer storage_failed instead of acking, say "degraded" on /healthz, keep
serving, and once the fault clears ack the retried call with the next seq (no gap).
Each fault is made with a real kernel mechanism (we run as root, so chmod would not stop
a write):

    tmpfs-full   the journal on a 1 MiB tmpfs, filled up by another file: ENOSPC
    fsize-limit  RLIMIT_FSIZE of the hub process lowered to 0 with prlimit(2): EFBIG
                 (Python ignores SIGXFSZ, so the write fails instead of killing the hub)
    immutable    chattr +i on the database and its WAL: EPERM, as on a read-only file.
                 Not on the -shm file: SQLite mmaps it, and a write to an immutable mmapped
                 page is SIGBUS — that would kill any SQLite program, not test the hub.

A read-only remount is not among them: Linux refuses it (EBUSY) while the hub holds the
files open for writing, which is exactly the hub's situation.
"""

from __future__ import annotations

import errno
import resource
import shutil
import subprocess
from pathlib import Path

import pytest

from faults.harness import Hall, call_for, healthz, journal_seqs, make_hall
from signage.errors import HubRefused
from signage.operator.client import Session
from support import HubProcess


class TmpfsFull:
    name = "tmpfs-full"
    says = "disk is full"

    def __init__(self, tmp_path: Path):
        self.mount = tmp_path / "disk"
        self.mount.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(self.mount)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
        self.journal = self.mount / "journal.sqlite"
        self.filler = self.mount / "filler"

    def apply(self, pid: int) -> None:
        with open(self.filler, "wb", buffering=0) as f:
            try:
                while True:
                    f.write(bytes(4096))
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc

    def clear(self, pid: int) -> None:
        self.filler.unlink()

    def close(self) -> None:
        subprocess.run(["umount", "-l", str(self.mount)], check=False)


class FileSizeLimit:
    name = "fsize-limit"
    says = "disk I/O error"  # SQLite reports EFBIG as SQLITE_IOERR_WRITE

    def __init__(self, tmp_path: Path):
        self.journal = tmp_path / "journal.sqlite"
        self.saved = None

    def apply(self, pid: int) -> None:
        self.saved = resource.prlimit(pid, resource.RLIMIT_FSIZE)
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (0, self.saved[1]))

    def clear(self, pid: int) -> None:
        resource.prlimit(pid, resource.RLIMIT_FSIZE, self.saved)

    def close(self) -> None:
        pass


class Immutable:
    name = "immutable"
    says = "disk I/O error"  # EPERM on write: SQLITE_IOERR_WRITE

    def __init__(self, tmp_path: Path):
        if shutil.which("chattr") is None:
            pytest.skip("chattr not installed")
        self.journal = tmp_path / "journal.sqlite"
        self.files = [self.journal, Path(f"{self.journal}-wal")]

    def _chattr(self, flag: str) -> None:
        for path in self.files:
            done = subprocess.run(["chattr", flag, str(path)], capture_output=True, text=True)
            if done.returncode != 0:
                pytest.skip(f"chattr {flag} not supported on {path.parent}: {done.stderr.strip()}")

    def apply(self, pid: int) -> None:
        self._chattr("+i")

    def clear(self, pid: int) -> None:
        self._chattr("-i")

    def close(self) -> None:
        for path in self.files:
            subprocess.run(["chattr", "-i", str(path)], capture_output=True)  # or tmp_path can't be removed


@pytest.fixture(params=[TmpfsFull, FileSizeLimit, Immutable], ids=lambda cls: cls.name)
def fault(request, tmp_path):
    made = request.param(tmp_path)
    yield made
    made.close()


@pytest.mark.e2e
async def test_journal_fault_refuses_calls_then_recovers_without_a_gap(tmp_path, fault):
    hall: Hall = make_hall(tmp_path, journal=str(fault.journal), sync="full")
    hub = HubProcess(hall.config_path).start()
    try:
        async with Session(hub.url, hall.operator) as operator, \
                Session(hub.url, hall.display, role="display", subscribe=True) as display:
            assert (await operator.request(call_for(1))).seq == 1

            fault.apply(hub.proc.pid)
            for _ in range(2):  # refused every time, not just once
                with pytest.raises(HubRefused) as refused:
                    await operator.request(call_for(2))
                assert refused.value.code == "storage_failed" and fault.says in refused.value.message
            status, health = healthz(hub.port)
            assert (status, health["status"], health["seq"]) == (503, "degraded", 1)
            assert fault.says in health["journal"]

            fault.clear(hub.proc.pid)
            assert (await operator.request(call_for(2))).seq == 2  # the retry, acked with the next seq
            assert (await operator.request(call_for(3))).seq == 3
            status, health = healthz(hub.port)
            assert (status, health["status"], health["journal"]) == (200, "ok", "ok")

            events = [await anext(display.events()) for _ in range(3)]
            assert [e.seq for e in events] == [1, 2, 3]  # refused calls were never broadcast
        assert hub.proc.poll() is None, "".join(hub.output)
    finally:
        hub.stop()
    assert journal_seqs(hall.journal) == [1, 2, 3]
