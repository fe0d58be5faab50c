"""The command line: every subcommand honours the global --config, before or after its name."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from signage import cli
from support import ROOT

REAL = (ROOT / "config.yaml").read_text()
# Enough arguments for each subcommand to get as far as loading its config.
SUBCOMMANDS = {
    "hub": [], "display": [], "render": ["--state", "s.json", "--size", "640x360", "--out", "x.png"], "say": ["A-001", "5"],
    "demo": [], "call": ["5", "A-001"], "recall": ["5"], "clear": ["5"], "ticker": ["teks"], "next": ["5"],
    "skip": ["5"], "done": ["5"], "transfer": ["5", "POLRES-01"], "issue": ["POLRES-01"], "watch": [],
    "check-config": [], "announcer": [], "printer": ["--kiosk", "anjungan-1", "--device", "tcp://127.0.0.1:9100"],
    "screenshot": ["tv-semua", "--out", "x.png"], "identify": ["tv-semua"], "restart": ["tv-semua"],
    "content": ["check"], "report": [],
}
WITHOUT_CONFIG = {"init"}  # writes a config; tests/unit/test_packaging.py covers it


def test_the_table_covers_every_subcommand():
    parser = cli.build_parser()
    choices = next(a for a in parser._actions if a.dest == "command").choices
    assert set(choices) == set(SUBCOMMANDS) | WITHOUT_CONFIG


@pytest.fixture
def broken(tmp_path, monkeypatch):
    """A config that fails with its own line, in a directory without ./config.yaml or $SIGNAGE_CONFIG."""
    path = tmp_path / "elsewhere" / "hall.yaml"
    path.parent.mkdir()
    path.write_text(REAL.replace("  sync: full", "  snyc: full", 1))
    monkeypatch.chdir(tmp_path)  # if --config were ignored: "config.yaml: file not found", not a hub on :8765
    monkeypatch.delenv("SIGNAGE_CONFIG", raising=False)
    return path


@pytest.mark.parametrize("where", ["before", "after"])
@pytest.mark.parametrize("command", sorted(SUBCOMMANDS))
def test_every_subcommand_loads_the_config_it_is_given(broken, capsys, command, where):
    args = [command, *SUBCOMMANDS[command]]
    argv = ["--config", str(broken), *args] if where == "before" else [*args, "--config", str(broken)]
    assert cli.main(argv) == 2
    assert capsys.readouterr().err.strip() == "hall.yaml: hub.snyc: unknown key (allowed: allowed_origins, " \
        "compression, history, host, journal, max_message_bytes, ping_interval, ping_timeout, port, public_url, " \
        "rate, replay_window, send_queue, server_names, sync)"


def test_log_level_before_the_subcommand_is_kept():
    args = cli.build_parser().parse_args(["--log-level", "debug", "--config", "a.yaml", "hub"])
    assert (args.log_level, args.config) == ("debug", "a.yaml")
    args = cli.build_parser().parse_args(["--config", "a.yaml", "hub", "--config", "b.yaml"])
    assert args.config == "b.yaml"  # the later one wins, as usual
    args = cli.build_parser().parse_args(["hub"])
    assert (args.log_level, args.config) == ("info", None)


@pytest.mark.parametrize("where", ["before", "after"])
def test_a_real_process_speaks_with_the_given_config(tmp_path, where):
    raw = yaml.safe_load(REAL)
    raw["announcer"]["templates"] = {"id": "Uji konfigurasi, {letter}, {number}, ke {counter}."}
    path = tmp_path / "uji.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True))
    say = ["say", "A-007", "5", "--text-only"]
    argv = ["--config", str(path), *say] if where == "before" else [*say, "--config", str(path)]
    done = subprocess.run([sys.executable, "-m", "signage", *argv], capture_output=True, text=True, cwd=ROOT)
    assert (done.returncode, done.stdout.strip()) == (0, "Uji konfigurasi, a, tujuh, ke loket lima.")
