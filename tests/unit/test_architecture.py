"""The architecture the README promises, checked: a pure core, and JSON in one module."""

from __future__ import annotations

import ast
from pathlib import Path

from support import ROOT

PACKAGE = ROOT / "signage"
IO_MODULES = {"asyncio", "websockets", "pygame", "pyttsx3", "sqlite3", "socket", "threading", "subprocess"}


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_the_core_does_no_io():
    for path in sorted((PACKAGE / "core").glob("*.py")):
        assert not imports(path) & IO_MODULES, f"{path.name} imports {imports(path) & IO_MODULES}"


def test_the_core_never_reads_the_clock():
    for path in sorted((PACKAGE / "core").glob("*.py")):
        text = path.read_text()
        for call in ("datetime.now(", "time.time(", "time.monotonic(", "date.today("):
            assert call not in text, f"{path.name} reads the clock with {call}: pass time in instead"


def test_raw_json_only_in_the_protocol_module():
    users = sorted(p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py") if "json" in imports(p))
    assert users == ["core/protocol.py"]
