"""The architecture the README promises, checked: a pure core, and JSON in one module.

Purity holds transitively: from every module under signage/core, the import graph
is walked through every signage.* module it reaches (absolute, relative and
`from x import y` forms, imports inside functions too, and each parent package's
__init__), and no module on the way may import an I/O library.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import deque
from pathlib import Path
from typing import Callable

import pytest

from support import ROOT

PACKAGE = ROOT / "signage"
IO_MODULES = frozenset({"asyncio", "websockets", "pygame", "pyttsx3", "sqlite3", "socket", "threading",
                        "subprocess", "yaml", "av", "escpos"})

Source = Callable[[str], "str | None"]  # module name -> its source, or None if not ours


# ---------------------------------------------------------------- the checker


def package_source(root: Path, package: str = "signage") -> tuple[Source, Callable[[str], bool]]:
    """(source_of, is_package) for the modules of `package` under `root`."""
    def file_of(name: str) -> Path | None:
        parts = name.split(".")
        if parts[0] != package:
            return None
        base = root.joinpath(*parts[1:])
        for candidate in (base / "__init__.py", base.with_suffix(".py")):
            if candidate.is_file():
                return candidate
        return None

    def source_of(name: str) -> str | None:
        path = file_of(name)
        return path.read_text(encoding="utf-8") if path else None

    def is_package(name: str) -> bool:
        path = file_of(name)
        return path is not None and path.name == "__init__.py"

    return source_of, is_package


def imported_names(source: str, module: str, is_package: bool) -> set[str]:
    """Every module name `source` may import, resolved to absolute dotted names.

    `from a import b` yields both `a` and `a.b` (b may be a submodule); the caller
    keeps `a.b` only if it is a module.
    """
    found: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                up = node.level - 1
                if up >= len(parts):
                    raise ValueError(f"{module}: relative import beyond the top package")
                base = ".".join(parts[: len(parts) - up])
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names if alias.name != "*"}
    return found


def with_parents(name: str) -> list[str]:
    """'signage.core.rules' -> ['signage', 'signage.core', 'signage.core.rules']: importing runs each __init__."""
    parts = name.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def io_imports(start: str, source_of: Source, is_package: Callable[[str], bool],
               forbidden: frozenset[str] = IO_MODULES) -> list[str]:
    """Each forbidden import reachable from `start`, as a chain 'a -> b -> yaml'."""
    chains: list[str] = []
    came_from: dict[str, str | None] = {}
    todo: deque[str] = deque()
    for name in with_parents(start):
        if source_of(name) is not None and name not in came_from:
            came_from[name] = None
            todo.append(name)
    while todo:
        module = todo.popleft()
        for name in sorted(imported_names(source_of(module) or "", module, is_package(module))):
            if name.split(".")[0] in forbidden:
                path = [name, module]
                while came_from[path[-1]] is not None:
                    path.append(came_from[path[-1]])
                chains.append(" -> ".join(reversed(path)))
                continue
            for step in with_parents(name):
                if step not in came_from and source_of(step) is not None:
                    came_from[step] = module
                    todo.append(step)
    return sorted(set(chains))


def core_modules() -> list[str]:
    core = PACKAGE / "core"
    names = []
    for path in sorted(core.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


# ---------------------------------------------------------------- the rules


@pytest.mark.parametrize("module", core_modules())
def test_the_core_does_no_io_even_transitively(module):
    source_of, is_package = package_source(PACKAGE)
    assert io_imports(module, source_of, is_package) == []


def test_the_core_loads_no_io_module_at_run_time():
    """The same promise, asked of Python itself: stdlib modules that import threading count too."""
    names = core_modules()
    probe = ("import importlib, sys\n"
             f"for name in {names!r}: importlib.import_module(name)\n"
             f"print(sorted(m for m in sys.modules if m.split('.')[0] in {sorted(IO_MODULES)!r}))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_the_core_never_reads_the_clock():
    for path in sorted((PACKAGE / "core").rglob("*.py")):
        text = path.read_text()
        for call in ("datetime.now(", "time.time(", "time.monotonic(", "date.today("):
            assert call not in text, f"{path.name} reads the clock with {call}: pass time in instead"


def top_level_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_raw_json_only_in_the_protocol_module():
    users = sorted(p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")
                   if "json" in top_level_imports(p))
    assert users == ["core/protocol.py"]


# ---------------------------------------------------------------- the checker can fail


def fake_package(modules: dict[str, str]) -> tuple[Source, Callable[[str], bool]]:
    """A module graph in memory: {'pkg.core.a': source}; names ending in '/' are packages."""
    sources = {name.rstrip("/"): text for name, text in modules.items()}
    packages = {name.rstrip("/") for name in modules if name.endswith("/")}
    return sources.get, packages.__contains__


def test_checker_follows_a_chain_of_absolute_imports():
    source_of, is_package = fake_package({
        "pkg/": "", "pkg.core/": "", "pkg.config": "import yaml\n",
        "pkg.core.rules": "from pkg.config import Config\n",
    })
    assert io_imports("pkg.core.rules", source_of, is_package) == ["pkg.core.rules -> pkg.config -> yaml"]


def test_checker_follows_relative_and_from_package_import_forms():
    source_of, is_package = fake_package({
        "pkg/": "", "pkg.core/": "", "pkg.shell/": "",
        "pkg.core.a": "from . import b\n",  # sibling module through the package
        "pkg.core.b": "from ..shell import link\n",  # two levels up, then a submodule
        "pkg.shell.link": "def f():\n    import websockets.asyncio.client\n",  # inside a function
    })
    assert io_imports("pkg.core.a", source_of, is_package) == [
        "pkg.core.a -> pkg.core.b -> pkg.shell.link -> websockets.asyncio.client"]


def test_checker_runs_parent_package_inits():
    source_of, is_package = fake_package({
        "pkg/": "", "pkg.shell/": "import sqlite3\n", "pkg.shell.util": "X = 1\n",
        "pkg.core/": "", "pkg.core.a": "from pkg.shell.util import X\n",
    })
    assert io_imports("pkg.core.a", source_of, is_package) == ["pkg.core.a -> pkg.shell -> sqlite3"]


def test_checker_passes_a_pure_graph_and_survives_cycles():
    source_of, is_package = fake_package({
        "pkg/": "", "pkg.core/": "",
        "pkg.core.a": "import re\nfrom pkg.core import b\n", "pkg.core.b": "from pkg.core.a import x\n",
    })
    assert io_imports("pkg.core.a", source_of, is_package) == []


def test_checker_catches_the_real_mistake_in_a_tmp_package(tmp_path):
    """On files, as the real test runs: a core module that reaches the loader through a shell."""
    root = tmp_path / "signage"
    (root / "core").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "core" / "__init__.py").write_text("")
    (root / "core" / "layout.py").write_text("from signage.config import Config\n")
    (root / "config.py").write_text("from __future__ import annotations\nimport os\nimport yaml\n")
    source_of, is_package = package_source(root)
    assert io_imports("signage.core.layout", source_of, is_package) == [
        "signage.core.layout -> signage.config -> yaml"]


def test_every_error_code_the_code_raises_is_a_known_one():
    """An unknown code trips the assertion in ClientError: the client would get a dropped connection, not an error."""
    import re

    from signage.errors import ERROR_CODES

    raised = {(found.group(1), str(path.relative_to(ROOT))) for path in (ROOT / "signage").rglob("*.py")
              for found in re.finditer(r'(?:CommandRejected|ProtocolError|ClientError)\(\s*"([a-z_]+)"',
                                       path.read_text(encoding="utf-8"))}
    assert len(raised) > 20  # the scan finds them
    assert sorted(code for code in raised if code[0] not in ERROR_CODES) == []
