"""A short soak through bench/soak.py (the 50,000-call run is the script itself; see docs/reliability.md).

4,000 calls, 21 operators, a hub process and a display process; RSS and open descriptors
are read after a 2,000-call warm-up and at the end. A smaller replay window (500) lets a
short run reach steady state sooner. The display's bounded caches (rendered text, measured
text sizes, fonts) keep filling for a few thousand calls: its RSS reads 84.5, 88.5, 90.7,
~93 MB after 1,000, 2,000, 4,000 and 6,000+ calls (flat from there to 50,000), hence the
warm-up length.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from support import ROOT, timeout


@pytest.mark.e2e
def test_short_soak_memory_and_descriptors_stay_flat(tmp_path):
    out = tmp_path / "soak.json"
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "soak.py"), "--calls", "4000", "--replay-window",
                           "500", "--warm-up", "2000", "--json", str(out)],
                          capture_output=True, text=True, timeout=timeout(240), cwd=ROOT)
    print(done.stdout)
    result = json.loads(out.read_text())
    assert result["display_connects"] == 1, "the display was dropped and had to resync"
    assert not result["display_warnings"], result["display_warnings"]
    for key, growth in result["growth"].items():
        assert growth < 0.10, f"{key} grew by {growth:.1%}: {result['start'][key]} → {result['end'][key]}"
    assert done.returncode == 0, done.stdout + done.stderr
    # the journal: every call stored once, at a size the hall's disk can hold for years
    assert result["journal"]["events"] == 4000
    assert result["journal"]["bytes_per_event"] < 1024
