"""The long-running commands refuse a broken config at once: exit 2, one line, no traceback.

tests/unit/test_config.py covers 20 broken configs through load_config and one through
`signage check-config`; this closes the gap for the commands a supervisor (systemd) starts:
`signage hub` and `signage display` must not half-start, hang or print a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from support import ROOT, timeout

REAL = (ROOT / "config.yaml").read_text()
BROKEN = {  # edit of the real config → the one line expected on stderr
    "bad-value": (("number: 5,", "number: lima,"), "config.yaml: counters[4].number: expected a positive integer, "
                                                   "got 'lima'"),
    "typo-key": (("  sync: full", "  snyc: full"), "config.yaml: hub.snyc: unknown key"),
}


@pytest.mark.parametrize("command", ["hub", "display"])
@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_config_stops_the_command_with_one_line(tmp_path, command, case):
    (old, new), expected = BROKEN[case]
    assert old in REAL
    path = tmp_path / "config.yaml"
    path.write_text(REAL.replace(old, new, 1))
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    done = subprocess.run([sys.executable, "-m", "signage", command, "--config", str(path)],
                          capture_output=True, text=True, timeout=timeout(30), env=env, cwd=tmp_path)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and lines[0].startswith(expected), done.stderr
