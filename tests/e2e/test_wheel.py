"""The package stands alone: build the wheel, install it into a clean venv outside the checkout, and there run
`signage init`, `signage check-config --strict` and `signage demo --headless --duration 5`.

PYTHONPATH is dropped for the installed commands, so they import the wheel, never this tree. The wheel's
dependencies come from pip's configured index (or its cache), as on a technician's machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from support import ROOT, timeout

pytestmark = pytest.mark.e2e


def run(args, cwd: Path, env: dict, seconds: float = 120) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout(seconds))
    assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done


def test_wheel_installs_and_runs_outside_the_checkout(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SIGNAGE_CONFIG", "VIRTUAL_ENV")}
    env.update(PYGAME_HIDE_SUPPORT_PROMPT="1", SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy",
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    wheels = tmp_path / "wheels"
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", wheels, ROOT], tmp_path, env, 300)
    (wheel,) = wheels.glob("signage-*.whl")
    venv = tmp_path / "venv"
    run([sys.base_prefix + "/bin/python3", "-m", "venv", venv], tmp_path, env)  # not the test venv's packages
    run([venv / "bin" / "pip", "install", "-q", wheel], tmp_path, env, 600)
    signage = venv / "bin" / "signage"
    where = run([venv / "bin" / "python", "-c", "import signage; print(signage.__file__)"], tmp_path, env)
    assert where.stdout.startswith(str(venv)), where.stdout  # the wheel, not the checkout

    work = tmp_path / "elsewhere"
    work.mkdir()
    made = run([signage, "init", "hall"], work, env)
    assert "teknisi" in made.stdout and "admin" in made.stdout
    config = (work / "hall" / "config.yaml").read_text()
    shipped = (ROOT / "config.yaml").read_text()
    assert "tok-35c149fb089e6bbaf063" in shipped and "tok-35c149fb089e6bbaf063" not in config  # fresh secrets
    run([signage, "check-config", "--strict", work / "hall" / "config.yaml"], work, env)
    refused = subprocess.run([signage, "check-config", "--strict"], cwd=ROOT, env=env, capture_output=True,
                             text=True, timeout=timeout(60))
    assert refused.returncode == 2  # the shipped samples are refused: --strict can fail

    demo = run([signage, "demo", "--headless", "--duration", "5", "--port", "0", "--data-dir", tmp_path / "data"],
               work, env, 120)  # no config.yaml in `work`: the example hall inside the package
    assert "demo stopped" in demo.stdout + demo.stderr
    frames = list((tmp_path / "data" / "demo-frames").glob("*.png"))
    assert frames, "the board wrote no frame"
