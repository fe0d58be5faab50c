"""The demo's pure parts: screen detection, data dir, pace, visitors."""

from __future__ import annotations

import collections
import random
from pathlib import Path

import pytest

from signage.demo import (AGENCY_DEMAND, DAY_MINUTES, TARGET_UTILISATION, VISITORS_PER_DAY, agency_demand,
                          default_data_dir, missing_screen, pick_service, plan_pace, plan_visit)
from support import ROOT
from signage.config import load_config

CONFIG = load_config(ROOT / "config.yaml")


# ---------------------------------------------------------------- screen


@pytest.mark.parametrize("environ", [
    {"DISPLAY": ":0"},
    {"WAYLAND_DISPLAY": "wayland-0"},
    {"SDL_VIDEODRIVER": "kmsdrm"},
    {"SDL_VIDEODRIVER": "x11", "DISPLAY": ":1"},
    {"SDL_VIDEODRIVER": "dummy,x11", "DISPLAY": ":1"},
])
def test_a_screen_is_found(environ):
    assert missing_screen(environ, "linux") is None


@pytest.mark.parametrize("environ", [
    {},
    {"SDL_VIDEODRIVER": "dummy"},
    {"SDL_VIDEODRIVER": "offscreen", "DISPLAY": ":0"},
    {"SDL_VIDEODRIVER": "x11"},
    {"SDL_VIDEODRIVER": "wayland", "DISPLAY": ":0"},
])
def test_no_screen_is_reported_with_the_reason(environ):
    reason = missing_screen(environ, "linux")
    assert reason and ("SDL_VIDEODRIVER" in reason or "DISPLAY" in reason)


def test_other_platforms_always_have_a_screen():
    assert missing_screen({}, "darwin") is None


def test_data_dir_follows_xdg_then_home():
    assert default_data_dir({"XDG_DATA_HOME": "/x/data", "HOME": "/home/u"}) == Path("/x/data/signage")
    assert default_data_dir({"HOME": "/home/u"}) == Path("/home/u/.local/share/signage")


# ---------------------------------------------------------------- pace


def test_demand_covers_every_agency_and_favours_the_busy_ones():
    demand = agency_demand(CONFIG)
    assert set(demand) == {a.code for a in CONFIG.agencies}
    assert sum(demand.values()) == pytest.approx(1)
    busiest = sorted(demand, key=demand.get, reverse=True)[:3]
    assert busiest == ["DUKCAPIL", "SAMSAT", "BPJSKES"]


@pytest.mark.parametrize("speed", [0.5, 1, 4, 20])
def test_no_counter_is_given_more_work_than_it_can_do(speed):
    pace = plan_pace(CONFIG, speed)
    assert pace.ticket_gap == pytest.approx(DAY_MINUTES * 60 / VISITORS_PER_DAY / speed)
    overhead = sum(pace.pause) / 2 + sum(pace.walk_up) / 2
    for agency, share in agency_demand(CONFIG).items():
        counters = {n for s in CONFIG.services if s.agency == agency for n in s.counters}
        busy = (share / pace.ticket_gap) * (pace.service[agency] + overhead) / len(counters)
        assert busy <= TARGET_UTILISATION + 1e-9, (agency, busy)


def test_speed_divides_every_duration():
    slow, fast = plan_pace(CONFIG, 1), plan_pace(CONFIG, 4)
    assert fast.pause == (slow.pause[0] / 4, slow.pause[1] / 4)
    assert fast.service["DUKCAPIL"] == pytest.approx(slow.service["DUKCAPIL"] / 4)


def test_services_are_picked_by_agency_demand():
    rng = random.Random(3)
    demand = agency_demand(CONFIG)
    counts = collections.Counter(pick_service(rng, CONFIG, demand).agency for _ in range(20_000))
    for agency, share in demand.items():
        assert counts[agency] / 20_000 == pytest.approx(share, abs=0.015), agency
    assert set(AGENCY_DEMAND) <= set(demand)


def test_visits_are_mostly_ordinary_with_some_no_shows_and_recalls():
    rng = random.Random(5)
    pace = plan_pace(CONFIG, 1)
    visits = [plan_visit(rng, pace, "DUKCAPIL") for _ in range(5_000)]
    no_shows = [v for v in visits if not v.shows_up]
    assert 0.03 < len(no_shows) / len(visits) < 0.10
    assert 0.04 < sum(not v.heard_first_call for v in visits) / len(visits) < 0.12
    assert any(v.comes_back_after for v in no_shows) and not all(v.comes_back_after for v in no_shows)
    assert all(v.comes_back_after is None for v in visits if v.shows_up)
    mean = sum(v.service for v in visits) / len(visits)
    assert mean == pytest.approx(pace.service["DUKCAPIL"], rel=0.1)
    assert all(pace.walk_up[0] <= v.walk_up <= pace.walk_up[1] for v in visits)
