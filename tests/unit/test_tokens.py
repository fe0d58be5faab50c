"""Sample and short tokens: token_warnings, `check-config` warnings and `check-config --strict`."""

from __future__ import annotations

import dataclasses
import hashlib
import subprocess
import sys

import yaml

from signage.config import load_config
from signage.core.tokens import SAMPLE_TOKEN_SHA256, is_sample, token_warnings
from support import ROOT

REAL = (ROOT / "config.yaml").read_text()


def strong_tokens(raw: dict) -> dict:
    for i, token in enumerate(raw["tokens"]):
        token["token"] = hashlib.sha256(f"hall secret {i}".encode()).hexdigest()[:24]
    return raw


def write(tmp_path, raw: dict):
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False))
    return path


def check_config(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "signage", "check-config", *args], capture_output=True, text=True)


def test_the_sample_list_is_exactly_the_shipped_tokens():
    """If config.yaml's tokens change, this list must change with them (and the other way round)."""
    shipped = {hashlib.sha256(t["token"].encode()).hexdigest() for t in yaml.safe_load(REAL)["tokens"]}
    assert SAMPLE_TOKEN_SHA256 == shipped


def test_every_shipped_token_is_named():
    config = load_config(ROOT / "config.yaml")
    found = token_warnings(config)
    assert len(found) == len(config.tokens) == 27
    assert found[0] == ("config.yaml: tokens[0].token (supervisor): a sample from the config.yaml shipped with "
                        "signage (public): replace it before going live")
    assert found[25].startswith("config.yaml: tokens[25].token (anjungan-1): a sample")


def test_short_tokens_are_named_with_their_length():
    config = load_config(ROOT / "config.yaml")
    tokens = tuple(dataclasses.replace(t, secret=f"{t.name}-secret-0123456789") for t in config.tokens)
    tokens = (dataclasses.replace(tokens[0], secret="12345678"),) + tokens[1:]  # 8: the least load_config takes
    tokens = tokens[:5] + (dataclasses.replace(tokens[5], secret="fifteen-chars!!"),) + tokens[6:]
    found = token_warnings(dataclasses.replace(config, tokens=tokens))
    assert found == [
        "config.yaml: tokens[0].token (supervisor): 8 characters; use at least 16 "
        "(e.g. python3 -c 'import secrets; print(secrets.token_hex(16))')",
        "config.yaml: tokens[5].token (loket-05): 15 characters; use at least 16 "
        "(e.g. python3 -c 'import secrets; print(secrets.token_hex(16))')",
    ]
    assert not is_sample("loket-05-secret-0123456789")


def test_check_config_warns_and_passes_without_strict(tmp_path):
    done = check_config(str(ROOT / "config.yaml"))
    assert done.returncode == 0 and ": OK" in done.stdout
    warnings = done.stderr.strip().splitlines()
    assert len(warnings) == 27 and all(w.startswith("warning: config.yaml: tokens[") for w in warnings)


def test_check_config_strict_refuses_samples_and_short_tokens(tmp_path):
    done = check_config("--strict", str(ROOT / "config.yaml"))
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and done.stdout == ""
    assert [line.split(" (")[0] for line in lines] == [f"config.yaml: tokens[{i}].token" for i in range(27)]

    raw = strong_tokens(yaml.safe_load(REAL))
    raw["tokens"][3]["token"] = "short-but-ok8"
    done = check_config("--strict", str(write(tmp_path, raw)))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "config.yaml: tokens[3].token (loket-03): 13 characters; use at least 16 "
        "(e.g. python3 -c 'import secrets; print(secrets.token_hex(16))')"]


def test_check_config_strict_passes_a_hall_with_its_own_tokens(tmp_path):
    done = check_config("--strict", str(write(tmp_path, strong_tokens(yaml.safe_load(REAL)))))
    assert (done.returncode, done.stderr) == (0, "")
    assert ": OK" in done.stdout
