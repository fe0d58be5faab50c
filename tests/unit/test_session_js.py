"""The web pages follow the same session rules: hub.js's ClientSession runs tests/vectors/session.json in node."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from support import ROOT

HUB_JS = ROOT / "signage" / "web" / "static" / "hub.js"
VECTORS = ROOT / "tests" / "vectors" / "session.json"
RUNNER = Path(__file__).with_name("session_vectors.js")


def run(vectors: Path) -> list[dict]:
    out = subprocess.run(["node", str(RUNNER), str(HUB_JS), str(vectors)], capture_output=True, text=True,
                         check=True, timeout=60)
    return [json.loads(line) for line in out.stdout.splitlines()]


def test_hub_js_passes_every_session_vector():
    results = run(VECTORS)
    assert len(results) == len(json.loads(VECTORS.read_text())) > 10
    failed = [r for r in results if not r["ok"]]
    assert not failed, json.dumps(failed, indent=1)


def test_the_js_runner_can_fail(tmp_path):
    vectors = json.loads(VECTORS.read_text())
    vectors[2]["steps"][2]["expect"] = [{"close": 1000}]  # the gap vector, expecting the wrong close code
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(vectors))
    results = run(broken)
    assert [r["ok"] for r in results].count(False) == 1 and not results[2]["ok"]
