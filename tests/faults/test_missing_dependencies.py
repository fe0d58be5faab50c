"""The display without a speech engine or without a sound card: it keeps showing calls, and says so once.

tests/integration/test_degradation.py covers the announcer alone; this runs the whole
`signage display` process (announcer on, i.e. without --silent) against a hub process.

    no-pyttsx3   the package is not importable (a stub earlier on PYTHONPATH raises ImportError)
    no-espeak    pyttsx3 imports but cannot load libespeak-ng (a stub package whose espeak driver
                 raises the OSError ctypes gives for a missing library; hiding the real .so
                 would mean changing the system, which a test must not do)
    no-audio     SDL has no usable audio device (SDL_AUDIODRIVER names a driver that does not exist)
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from faults.harness import DisplayProcess, call_for
from integration.test_display_live import SIZE
from signage.operator.client import Session
from support import ROOT, HubProcess

MISSING_LIB = "OSError('libespeak-ng.so.1: cannot open shared object file: No such file or directory')"
STUBS = {  # case → files of a fake pyttsx3 package
    "no-pyttsx3": {"__init__.py": 'raise ImportError("No module named \'pyttsx3\' (hidden by the fault test)")\n'},
    # pyttsx3's espeak driver loads the library with ctypes when drivers/_espeak.py is imported
    "no-espeak": {"__init__.py": f"def init(*args, **kwargs):\n    raise {MISSING_LIB}\n",
                  "drivers/__init__.py": "",
                  "drivers/_espeak.py": f"raise {MISSING_LIB}\n"},
}
CASES = {  # case → (environment changes, the one warning expected)
    "no-pyttsx3": ({}, "cannot import pyttsx3"),
    "no-espeak": ({}, "pyttsx3 could not start espeak-ng"),
    "no-audio": ({"SDL_AUDIODRIVER": "no-such-driver"}, "no audio device"),
}
CALLS = 3


class AnnouncingDisplay(DisplayProcess):
    """DisplayProcess with its announcer on (no --silent), in a given environment."""

    def __init__(self, config_path: Path, url: str, snapshot_dir: Path, env: dict):
        self.snapshot_dir = snapshot_dir
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "signage", "display", "--config", str(config_path), "--hub", url,
             "--windowed", f"{SIZE[0]}x{SIZE[1]}", "--snapshot-dir", str(snapshot_dir)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()


def environment(case: str, tmp_path: Path) -> dict:
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy", "PYGAME_HIDE_SUPPORT_PROMPT": "1"}
    if case in STUBS:
        stub = tmp_path / "stubs" / "pyttsx3"
        for name, text in STUBS[case].items():
            (stub / name).parent.mkdir(parents=True, exist_ok=True)
            (stub / name).write_text(text)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(stub.parent), env.get("PYTHONPATH")]))
    env.update(CASES[case][0])
    return env


def problems(display: DisplayProcess) -> list[str]:
    """Warnings, errors and tracebacks, except the logo one (the test config has no logo file)."""
    return [line for line in display.lines
            if re.search(r" (WARNING|ERROR|CRITICAL) |Traceback", line) and "display.logo" not in line]


@pytest.mark.e2e
@pytest.mark.parametrize("case", sorted(CASES))
async def test_display_runs_and_warns_once(tmp_path, hall, case):
    hub = HubProcess(hall.config_path).start()
    display = AnnouncingDisplay(hall.config_path, hub.url, tmp_path / "frames", environment(case, tmp_path))
    try:
        await display.wait_frame(lambda f: f["link"] == "online", 20, "the link online")
        async with Session(hub.url, hall.operator) as operator:
            for n in range(1, CALLS + 1):
                await operator.request(call_for(n))
        info = await display.wait_frame(lambda f: f["seq"] == CALLS, 10, f"seq {CALLS}")
        assert "announcer on" in display.log()  # the announcer was really asked for
        # and the board goes on drawing (the new call flashes, the clock ticks)
        await display.wait_frame(lambda f: f["frame"] > info["frame"] + 10, 5, "more frames")
        assert sorted(await display.wait_notices(range(1, CALLS + 1))) == list(range(1, CALLS + 1))
        found = problems(display)
        print(f"\n{case}: {found}")
        assert len(found) == 1 and CASES[case][1] in found[0], "\n".join(found) or display.log()
    finally:
        assert display.stop() == 0, display.log()
        hub.stop()
