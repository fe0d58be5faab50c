"""Config loading: the real example is valid, and broken files name key and value."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from signage.config import load_config
from signage.errors import ConfigError
from support import ROOT

REAL = (ROOT / "config.yaml").read_text()


def test_the_pandeglang_example():
    cfg = load_config(ROOT / "config.yaml")
    assert cfg.hall.name == "Mal Pelayanan Publik Kabupaten Pandeglang"
    assert len(cfg.counters) == 21 and len(cfg.agencies) == 21 and len(cfg.services) == 153
    assert cfg.counter(5).name == "Loket 5"
    assert all(cfg.services_for_counter(c.number) for c in cfg.counters)
    assert cfg.hall.locale == "id" and cfg.hall.timezone_label == "WIB"
    assert cfg.zone("lantai-2").counters == tuple(range(11, 22))
    assert cfg.token(cfg.first_token("kiosk").secret).role == "kiosk"
    assert cfg.hub.journal == ROOT / "var" / "journal.sqlite"


def broken(tmp_path: Path, edit) -> ConfigError:
    raw = yaml.safe_load(REAL)
    edit(raw)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return info.value


# 20 broken configs: each must give one line naming the key path and the value.
BROKEN = [
    (lambda r: r["counters"][4].update(number="lima"),
     "config.yaml: counters[4].number: expected a positive integer, got 'lima'"),
    (lambda r: r["counters"][1].update(number=1), "config.yaml: counters[1].number: duplicate counter number 1"),
    (lambda r: r["counters"][2].update(agency="NASA"), "config.yaml: counters[2].agency: unknown agency 'NASA'"),
    (lambda r: r["hub"].update(port=70000), "config.yaml: hub.port: expected a port number 0-65535, got 70000"),
    (lambda r: r["hub"].update(port="8765"), "config.yaml: hub.port: expected a port number 0-65535, got '8765'"),
    (lambda r: r["hub"].update(sync="sometimes"), "config.yaml: hub.sync: expected full or normal, got 'sometimes'"),
    (lambda r: r["hall"].update(timezone="Mars/Olympus"), "config.yaml: hall.timezone: expected a time zone"),
    (lambda r: r["hall"].update(locale="fr"), "config.yaml: hall.locale: expected one of id, en, got 'fr'"),
    (lambda r: r["hall"].pop("name"), "config.yaml: hall.name: missing"),
    (lambda r: r.pop("tokens"), "config.yaml: tokens: missing"),
    (lambda r: r["tokens"][0].update(token="short"), "config.yaml: tokens[0].token: expected a secret"),
    (lambda r: r["tokens"][3].update(role="root"), "config.yaml: tokens[3].role: expected one of operator"),
    (lambda r: r["tokens"][2].update(counters=[42]), "config.yaml: tokens[2].counters: unknown counter 42"),
    (lambda r: r["services"][7].update(prefix="a1"), "config.yaml: services[7].prefix: expected 1-3 capital letters"),
    (lambda r: r["services"][9].update(counters=[]), "config.yaml: services[9].counters: expected a non-empty list"),
    (lambda r: r["services"][3].update(code=r["services"][2]["code"]), "config.yaml: services[3].code: duplicate"),
    (lambda r: r["display"].update(history=500), "config.yaml: display.history: expected an integer 0-50, got 500"),
    (lambda r: r["display"]["zones"][1].update(counters=["1-99"]), "config.yaml: display.zones[1].counters: unknown"),
    (lambda r: r["announcer"].update(volume=3), "config.yaml: announcer.volume: expected a number from 0 to 1, got 3"),
    (lambda r: r["announcer"]["templates"].update(id="Nomor {tiket}"), "config.yaml: announcer.templates.id: bad"),
    (lambda r: r["hub"].update(jounral="x.db"), "config.yaml: hub.jounral: unknown key"),
]


@pytest.mark.parametrize("edit,expected", BROKEN, ids=[b[1].split(": ")[1] for b in BROKEN])
def test_broken_configs_name_key_and_value(tmp_path, edit, expected):
    err = broken(tmp_path, edit)
    assert len(err.problems) == 1, err.problems
    assert err.problems[0].startswith(expected), err.problems[0]


def test_all_problems_are_reported_together(tmp_path):
    def edit(r):
        r["hub"]["port"] = -1
        r["counters"][0]["number"] = "satu"
        r["display"]["show_waiting"] = "ya"
    assert len(broken(tmp_path, edit).problems) == 3


def test_invalid_yaml_names_line(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("hall:\n  name: [unclosed\n")
    with pytest.raises(ConfigError, match=r"config.yaml: line \d+, column \d+: invalid YAML"):
        load_config(path)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.yaml")


def test_cli_check_config_exit_codes(tmp_path):
    ok = subprocess.run([sys.executable, "-m", "signage", "check-config", str(ROOT / "config.yaml")],
                        capture_output=True, text=True)
    assert ok.returncode == 0 and "21 counters, 153 services" in ok.stdout
    bad = tmp_path / "config.yaml"
    bad.write_text(REAL.replace("number: 5,", "number: lima,", 1))
    result = subprocess.run([sys.executable, "-m", "signage", "check-config", str(bad)],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip() == "config.yaml: counters[4].number: expected a positive integer, got 'lima'"
