"""The example hall inside the package, and `signage init` (tests/e2e/test_wheel.py runs the built wheel)."""

from __future__ import annotations

from importlib import resources

from signage.cli import main
from signage.cli_fleet import example_config_text, with_fresh_tokens
from signage.config import load_config
from signage.core.tokens import is_sample, token_warnings
from support import ROOT


def test_the_packaged_example_is_the_repository_config_and_assets():
    # If this fails after editing config.yaml or assets/: cp config.yaml signage/examples/ (and assets/*).
    assert example_config_text() == (ROOT / "config.yaml").read_text(encoding="utf-8")
    packaged = resources.files("signage.examples").joinpath("assets")
    for name in ("chime.wav", "logo.png"):
        assert packaged.joinpath(name).read_bytes() == (ROOT / "assets" / name).read_bytes(), name


def test_fresh_tokens_replace_every_secret_and_keep_everything_else():
    text, made = with_fresh_tokens(example_config_text())
    shipped = load_config(ROOT / "config.yaml")
    assert [(n, r) for n, r, _ in made] == [(t.name, t.role) for t in shipped.tokens]
    assert not any(is_sample(secret) for _, _, secret in made)
    assert len({secret for _, _, secret in made}) == len(made)
    assert text.count("\n") == example_config_text().count("\n")  # comments and layout kept


def test_init_writes_a_config_that_passes_strict_and_refuses_to_overwrite(tmp_path, capsys):
    assert main(["init", str(tmp_path / "hall")]) == 0
    out = capsys.readouterr().out
    path = tmp_path / "hall" / "config.yaml"
    config = load_config(path)
    assert token_warnings(config) == []
    assert (path.stat().st_mode & 0o777) == 0o600
    for token in config.tokens:
        assert f"{token.name} " in out and token.secret in out  # where each token goes
    assert (tmp_path / "hall" / "assets" / "chime.wav").is_file()
    assert main(["check-config", "--strict", str(path)]) == 0
    before = path.read_text()
    assert main(["init", str(tmp_path / "hall")]) == 2
    assert "exists" in capsys.readouterr().err and path.read_text() == before
    assert main(["init", "--force", str(tmp_path / "hall")]) == 0 and path.read_text() != before
