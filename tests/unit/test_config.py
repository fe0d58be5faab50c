"""Config loading: the real example is valid, and broken files name key and value."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
import yaml

from signage.config import load_config, parse_config
from signage.core.config import DEFAULTS, fallback_counter_name
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
    (lambda r: r["display"].update(show_estimate="ya\x00"),
     "config.yaml: display.show_estimate: holds a control character U+0000"),
    (lambda r: r["display"].update(show_estimate="ya"),
     "config.yaml: display.show_estimate: expected true or false, got 'ya'"),
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


# ---------------------------------------------------------------- hostile and careless files


def refused(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return info.value.problems


def edited(old: str, new: str) -> str:
    assert REAL.count(old) >= 1, old
    return REAL.replace(old, new, 1)


# YAML escapes let a file carry what the text rule refuses; each is one line naming the key path.
TEXT = [
    (edited('short_name: "Bapenda"', 'short_name: "Bape\\0nda"'),
     "config.yaml: agencies[3].short_name: holds a control character U+0000 at index 4"),
    (edited('name: "Badan Pendapatan', 'name: "Bada\\0n Pendapatan'),
     "config.yaml: agencies[3].name: holds a control character U+0000 at index 4"),
    (edited('name: "Loket 5"', 'name: "Loket \\ud800"'),
     "config.yaml: counters[4].name: holds a lone surrogate U+D800 at index 6"),
    (edited('title: "Semua Loket"', 'title: "Semua\\nLoket"'),
     "config.yaml: display.zones[0].title: holds a control character U+000A at index 5"),
    (edited('  ticker:\n    - "Selamat', '  ticker:\n    - "\\e[2J Selamat'),
     "config.yaml: display.ticker[0]: holds a control character U+001B at index 0"),
    (edited('BPJS: "be pe je es"', 'BPJS: "be pe\\x85je es"'),
     "config.yaml: announcer.pronunciations.BPJS: holds a control character U+0085 at index 5"),
    (edited('BPJS: "be pe je es"', '"BP\\x07JS": "be pe je es"'),
     "config.yaml: announcer.pronunciations: key 'BP\\x07JS' holds a control character U+0007 at index 2"),
    (edited('token: tok-35c149fb089e6bbaf063', 'token: "tok-35c149fb\\t089e6bbaf063"'),
     "config.yaml: tokens[0].token: holds a control character U+0009 at index 12"),
    (edited('opening_hours: "Senin', 'opening_hours: "\\u202e\\u0000Senin'),
     "config.yaml: hall.opening_hours: holds a control character U+0000 at index 1"),
    (edited('    id: "Nomor antrian, {letter}', '    id: "Nomor antrian,\\r{letter}'),
     "config.yaml: announcer.templates.id: holds a control character U+000D at index 14"),
]


@pytest.mark.parametrize("text,expected", TEXT, ids=[t[1].split(": ")[1] for t in TEXT])
def test_every_config_string_obeys_the_text_rule(tmp_path, text, expected):
    assert refused(tmp_path, text) == [expected]


def test_a_block_scalar_with_newlines_is_refused_outside_long_text_fields(tmp_path):
    text = edited('  short_name: "MPP Pandeglang"\n', '  short_name: |\n    MPP\n    Pandeglang\n')
    assert refused(tmp_path, text) == ["config.yaml: hall.short_name: holds a control character U+000A at index 3"]


def test_long_text_fields_take_newlines(monkeypatch):
    """A key in LONG_TEXT_KEYS (the slide texts, or one added later) takes newlines and tabs; its neighbours don't."""
    import signage.config as loader

    raw = yaml.safe_load(REAL)
    raw["display"]["ticker"][1] = "Jam layanan:\n\tSenin–Kamis"
    raw["display"]["ticker"][2] = "bad\x00"
    monkeypatch.setattr(loader, "LONG_TEXT_KEYS", loader.LONG_TEXT_KEYS | {"display.ticker[]"})
    with pytest.raises(ConfigError) as info:
        loader.parse_config(raw)
    assert info.value.problems == ["config.yaml: display.ticker[2]: holds a control character U+0000 at index 3"]


def test_slide_texts_take_newlines_and_one_line_fields_refuse_them():
    raw = yaml.safe_load(REAL)
    assert "\n" in raw["hall"]["maklumat"]  # the shipped maklumat has several lines, and loads
    raw["services"][0]["prosedur"] = "1. Ambil nomor antrean\n2. Serahkan berkas"
    raw["services"][0]["persyaratan"] = "Fotokopi KK\nPas foto"
    assert parse_config(raw).content.standards[raw["services"][0]["code"]].persyaratan == ("Fotokopi KK", "Pas foto")
    raw["services"][0]["biaya"] = "Gratis\nsemua"
    with pytest.raises(ConfigError) as info:
        parse_config(raw)
    assert info.value.problems[0].startswith("config.yaml: services[0].biaya: holds a control character U+000A")


def test_duplicate_keys_name_the_key_path_and_both_lines(tmp_path):
    text = edited("  port: 8765 ", "  port: 8765\n  port: 9999 ")
    line = next(i for i, row in enumerate(text.splitlines(), 1) if row.startswith("  port: 9999"))
    assert refused(tmp_path, text) == [f"config.yaml: hub.port: duplicate key (line {line}, first at line {line - 1})"]


def test_duplicate_keys_inside_list_entries_and_flow_mappings(tmp_path):
    text = edited("{number: 5, name: \"Loket 5\",", "{number: 5, number: 6, name: \"Loket 5\",")
    text = text.replace("\nhall:\n", "\nhall:\n  locale: en\n", 1)
    problems = refused(tmp_path, text)
    assert [p.split(" (")[0] for p in problems] == ["config.yaml: hall.locale: duplicate key",
                                                    "config.yaml: counters[4].number: duplicate key"]


def test_an_alias_bomb_is_walked_once(tmp_path):
    """A billion-laughs file shares one list per level: checking must not expand it."""
    levels = ["x0: &x0 [" + ", ".join(['"ha"'] * 10) + "]"]
    levels += [f"x{i}: &x{i} [" + ", ".join([f"*x{i - 1}"] * 10) + "]" for i in range(1, 9)]
    text = "\n".join(levels) + "\n" + REAL
    problems = refused(tmp_path, text)  # 10^9 strings if expanded: this returns at once
    assert problems[0].startswith("config.yaml: x0: unknown key")


@pytest.mark.parametrize("old,new,expected", [
    ("port: 8765 ", "port: " + "9" * 5000 + " ",
     "config.yaml: hub.port: expected a number of at most 18 digits, got one of 5000"),
    ("send_queue: 256 ", "send_queue: 99999999999 ",
     "config.yaml: hub.send_queue: expected a positive integer, got 99999999999 (more than 1,000,000,000)"),
    ("ping_interval: 10", "ping_interval: .inf",
     "config.yaml: hub.ping_interval: expected a positive number of seconds, got inf (not a finite number)"),
    ("max_age_seconds: 120", "max_age_seconds: .nan",
     "config.yaml: announcer.max_age_seconds: expected a positive number of seconds, got nan (not a finite number)"),
    ("ticker_speed: 120", "ticker_speed: 1.0e+400",
     "config.yaml: display.ticker_speed: expected a positive number of pixels per second, got inf (not a finite"),
    ('counters: ["1-21"]', 'counters: ["1-999999999"]',
     "config.yaml: display.zones[0].counters: expected a non-empty list of counter numbers, got ['1-999999999']"),
])
def test_huge_numbers_are_refused(tmp_path, old, new, expected):
    problems = refused(tmp_path, edited(old, new))
    assert len(problems) == 1 and problems[0].startswith(expected), problems


@pytest.mark.parametrize("old,new,expected", [
    ("port: 8765 ", "port: true ", "config.yaml: hub.port: expected a port number 0-65535, got True"),
    ("repeat: 2", "repeat: yes", "config.yaml: announcer.repeat: expected an integer 1-5, got True"),
    ("volume: 1.0", "volume: on", "config.yaml: announcer.volume: expected a number from 0 to 1, got True"),
    ("{number: 5,", "{number: no,", "config.yaml: counters[4].number: expected a positive integer, got False"),
    ("tok-086da5616dbf7676a9b9, counters: [1]}", "tok-086da5616dbf7676a9b9, counters: [true]}",
     "config.yaml: tokens[1].counters: expected 'all' or a list of counter numbers, got [True]"),
])
def test_booleans_are_not_numbers(tmp_path, old, new, expected):
    problems = refused(tmp_path, edited(old, new))
    assert len(problems) == 1 and problems[0].startswith(expected), problems


def test_deep_nesting_is_a_config_error(tmp_path):
    text = REAL + "\nextra: " + "[" * 1500 + "]" * 1500 + "\n"
    assert refused(tmp_path, text) == [f"{tmp_path / 'config.yaml'}: invalid YAML: nested too deeply"]


def test_raw_control_characters_are_invalid_yaml(tmp_path):
    problems = refused(tmp_path, edited('short_name: "Bapenda"', 'short_name: "Bape\x07nda"'))
    assert len(problems) == 1 and "invalid YAML" in problems[0] and "#x0007" in problems[0]


# ---------------------------------------------------------------- defaults, stated once


# README describes these defaults in words ("Indonesian and English") or derives them ("all counters").
IN_WORDS = {"announcer.templates", "announcer.short_templates", "announcer.recall_templates", "display.zones"}


def readme_defaults() -> dict[str, str]:
    """Key path -> the default README's configuration table gives it ('—' for required keys)."""
    text = (ROOT / "README.md").read_text()
    table = text.split("| section | key | default | meaning |")[1].split("\n\n")[0]
    found, section = {}, None
    for row in table.strip().splitlines()[1:]:
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        section = cells[0].strip("`").removesuffix("[]") or section
        keys = [k.removesuffix("[]") for k in re.findall(r"`([^`]+)`", cells[1].split("(")[0])]
        values = [v.strip().strip("`") for v in cells[2].split(", ")]
        if len(values) != len(keys):
            values = [cells[2]] * len(keys)
        for key, value in zip(keys, values):
            found[f"{section}.{key}"] = value
    return found


def shown(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, tuple):
        return "[]" if not value else str(list(value))
    if isinstance(value, Mapping) and not value:
        return "{}"
    if isinstance(value, str):
        return value or '""'
    return str(value)


def test_readme_states_every_default_the_loader_applies():
    readme = readme_defaults()
    for key, value in DEFAULTS.items():
        assert key in readme, f"README's configuration table has no row for {key}"
        if key in IN_WORDS:
            assert set(value) == {"id", "en"} and readme[key] == "Indonesian and English"
        else:
            assert readme[key] == shown(value), f"{key}: README says {readme[key]!r}, the loader uses {value!r}"


def test_keys_readme_calls_required_have_no_default_and_vice_versa():
    for key, value in readme_defaults().items():
        if value == "—":
            assert key not in DEFAULTS, key
        else:
            assert key in DEFAULTS or key in IN_WORDS, f"README gives {key} a default the loader doesn't know"


def test_a_minimal_config_gets_the_defaults():
    raw = yaml.safe_load(REAL)
    for section in ("queue", "display", "announcer"):
        raw.pop(section)
    raw["hall"], raw["hub"] = {"name": "Aula"}, {}  # hub: is required, its keys are not
    cfg = parse_config(raw, path=ROOT / "config.yaml")
    assert (cfg.hub.host, cfg.hub.port, cfg.hub.rate.burst) == (DEFAULTS["hub.host"], DEFAULTS["hub.port"],
                                                                 DEFAULTS["hub.rate.burst"])
    assert cfg.hub.journal == ROOT / DEFAULTS["hub.journal"]
    assert cfg.hall.short_name == "Aula" and cfg.hall.timezone_label == DEFAULTS["hall.timezone_label"]
    assert cfg.display.logo is None and cfg.display.ticker == () and cfg.announcer.pronunciations == {}
    assert cfg.announcer.templates == dict(DEFAULTS["announcer.templates"])
    assert cfg.display.zones[0].counters == tuple(range(1, 22))


def test_one_fallback_counter_name():
    raw = yaml.safe_load(REAL)
    del raw["counters"][6]["name"]
    cfg = parse_config(raw, path=ROOT / "config.yaml")
    assert cfg.counter(7).name == fallback_counter_name(7) == "Loket 7"
    assert cfg.counter_name(99) == "Loket 99" and cfg.counter_name(5) == "Loket 5"
