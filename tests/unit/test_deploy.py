"""deploy/: the installer's syntax and plan (never run for real here), and the systemd units."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess

import pytest

from support import ROOT, timeout

DEPLOY = ROOT / "deploy"
INSTALL = DEPLOY / "install.sh"


def dry_run(*args: str) -> subprocess.CompletedProcess:
    # --dry-run is always passed: this machine must not get units, users or /opt/signage.
    return subprocess.run(["bash", str(INSTALL), "--dry-run", *args], capture_output=True, text=True, timeout=timeout(60))


def test_install_script_parses():
    subprocess.run(["bash", "-n", str(INSTALL)], check=True)


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck not installed")
def test_install_script_passes_shellcheck():
    result = subprocess.run(["shellcheck", str(INSTALL)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_dry_run_for_both_roles_plans_every_piece():
    result = dry_run("--role", "both")
    assert result.returncode == 0, result.stderr
    plan = result.stdout
    assert "+ systemctl enable signage-hub.service" in plan
    # On a machine without a previous install, every file is planned (an existing identical one is not).
    for path in ("/etc/systemd/system/signage-hub.service", "/etc/systemd/user/signage-display.service",
                 "/etc/signage/config.yaml", "/etc/signage/display.env",
                 "/etc/systemd/system/getty@tty1.service.d/autologin.conf"):
        if not os.path.exists(path):
            assert f"+ write {path} " in plan, path
    if not os.path.exists("/opt/signage/venv"):
        assert "+ /usr/bin/python3 -m venv /opt/signage/venv" in plan


def test_dry_run_for_the_hub_leaves_the_kiosk_alone():
    result = dry_run("--role", "hub")
    assert result.returncode == 0, result.stderr
    assert "kiosk" not in result.stdout and "signage-display" not in result.stdout


@pytest.mark.parametrize("args", [[], ["--role", "tv"], ["--role", "display", "--hub-url", "http://x"],
                                  ["--role", "hub", "--bogus"]])
def test_bad_options_are_refused_with_exit_2(args):
    result = dry_run(*args)
    assert result.returncode == 2
    assert "install.sh:" in result.stderr


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(DEPLOY / name)
    return parser


def test_hub_unit_restarts_and_may_write_only_its_state_directory():
    service = unit("signage-hub.service")["Service"]
    assert service["Restart"] in ("on-failure", "always") and float(service["RestartSec"]) > 0
    assert service["NoNewPrivileges"] == "yes" and service["ProtectSystem"] == "strict"
    assert service["ReadWritePaths"] == "/var/lib/signage" and service["StateDirectory"] == "signage"
    assert "KillSignal" not in service  # systemd's SIGTERM: `signage hub` closes the journal on it


def test_display_unit_restarts_and_uses_the_plain_framebuffer():
    service = unit("signage-display.service")["Service"]
    assert service["Restart"] == "always" and float(service["RestartSec"]) > 0
    assert "SDL_FRAMEBUFFER_ACCELERATION=0" in service["Environment"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
@pytest.mark.parametrize("name, scope", [("signage-hub.service", []), ("signage-display.service", ["--user"]),
                                         ("signage-printer.service", [])])
def test_units_pass_systemd_analyze_verify(tmp_path, name, scope):
    # verify checks that ExecStart exists: point it at a binary this machine has.
    text = (DEPLOY / name).read_text().replace("/opt/signage/venv/bin/signage", "/bin/true")
    (tmp_path / name).write_text(text)
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    result = subprocess.run(["systemd-analyze", *scope, "verify", str(tmp_path / name)], capture_output=True,
                            text=True, env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)})
    assert result.returncode == 0 and name not in result.stderr, result.stderr


def test_dry_run_for_an_announcer_installs_its_unit_and_no_kiosk():
    result = dry_run("--role", "announcer", "--hub-url", "ws://10.0.0.5:8765/")
    assert result.returncode == 0, result.stderr
    plan = result.stdout
    assert "+ systemctl enable signage-announcer.service" in plan
    assert "kiosk" not in plan and "signage-display" not in plan and "signage-hub" not in plan
    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.read(DEPLOY / "signage-announcer.service")
    assert unit["Service"]["ExecStart"].split()[1:3] == ["announcer", "$SIGNAGE_ANNOUNCER_ARGS"]
    assert unit["Service"]["User"] == "signage" and unit["Service"]["SupplementaryGroups"] == "audio"


def test_dry_run_for_a_kiosk_printer_installs_its_unit_and_udev_rule_only():
    result = dry_run("--role", "printer", "--hub-url", "ws://10.0.0.5:8765/")
    assert result.returncode == 0, result.stderr
    plan = result.stdout
    assert "+ systemctl enable signage-printer.service" in plan
    assert "/etc/udev/rules.d/60-signage-printer.rules" in plan and "+ udevadm control --reload-rules" in plan
    assert "signage-display" not in plan and "signage-hub" not in plan and "signage-announcer" not in plan
    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.read(DEPLOY / "signage-printer.service")
    assert unit["Service"]["ExecStart"].split()[1:3] == ["printer", "$SIGNAGE_PRINTER_ARGS"]
    assert unit["Service"]["User"] == "signage" and "lp" in unit["Service"]["SupplementaryGroups"].split()
