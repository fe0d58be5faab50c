"""The SKM survey: the IKM by hand, the rate rules, the wire form, the config keys."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml

from signage.config import SurveyConfig, parse_config
from signage.core import messages as m, protocol, rules, survey
from signage.errors import CommandRejected, ConfigError, ProtocolError
from support import ROOT, hall_config

WIB = ZoneInfo("Asia/Jakarta")
MORNING = datetime(2026, 11, 30, 9, 0, tzinfo=WIB)


# ---------------------------------------------------------------- the IKM, worked by hand


def sums(*respondents: tuple[int, ...]) -> list[int]:
    return [sum(r[i] for r in respondents) for i in range(9)]


def test_ikm_of_four_respondents_worked_by_hand():
    r1, r2 = (4,) * 9, (3,) * 9
    r3 = (4, 3, 4, 4, 3, 4, 4, 3, 4)
    r4 = (2, 3, 3, 4, 3, 3, 3, 2, 1)
    # Element sums 13 13 14 15 13 14 14 12 12 → NRR 3.25 3.25 3.5 3.75 3.25 3.5 3.5 3 3,
    # Σ NRR = 30, IKM = 30 / 9 × 25 = 83.333… → 83.33: B, Baik.
    result = survey.ikm(sums(r1, r2, r3, r4), 4)
    assert result.nrr == (3.25, 3.25, 3.5, 3.75, 3.25, 3.5, 3.5, 3.0, 3.0)
    assert (result.value, result.grade, result.label, result.respondents) == (83.33, "B", "Baik", 4)


def test_ikm_rounds_halves_up_not_to_even():
    # Eight respondents, each element adds up to 4+4+3+3+3+3+3+2 = 25: NRR 3.125 each, Σ 28.125,
    # IKM = 28.125 / 9 × 25 = 78.125 exactly. Half up gives 78.13; Python's round() would say 78.12.
    people = [(4,) * 9, (4,) * 9] + [(3,) * 9] * 5 + [(2,) * 9]
    result = survey.ikm(sums(*people), 8)
    assert result.nrr == (3.125,) * 9
    assert result.value == 78.13 and round(78.125, 2) == 78.12
    assert (result.grade, result.label) == ("B", "Baik")


def test_ikm_ends_of_the_scale():
    assert (survey.ikm([9] * 9, 9).value, survey.ikm([9] * 9, 9).grade) == (25.0, "D")
    best = survey.ikm([12] * 9, 3)
    assert (best.value, best.grade, best.label) == (100.0, "A", "Sangat Baik")


def test_ikm_without_respondents_is_empty_not_zero():
    result = survey.ikm([0] * 9, 0)
    assert (result.value, result.grade, result.nrr, result.respondents) == (None, None, None, 0)


@pytest.mark.parametrize("hundredths,grade", [
    (10000, "A"), (8831, "A"), (8830, "B"), (7661, "B"), (7660, "C"), (6500, "C"), (6499, "D"), (2500, "D"),
])
def test_grade_boundaries_of_the_regulation(hundredths, grade):
    assert survey.grade_of(hundredths)[0] == grade


def test_grade_labels():
    assert [survey.grade_of(h)[1] for h in (9000, 8000, 7000, 5000)] == [
        "Sangat Baik", "Baik", "Kurang Baik", "Tidak Baik"]


# ---------------------------------------------------------------- the rate rules (pure, no hub)


@pytest.fixture
def cfg(tmp_path):
    return hall_config(tmp_path)


def token(cfg, name):
    return next(t for t in cfg.tokens if t.name == name)


class Day:
    """Drives rules.decide like the hub does, with time passed in."""

    def __init__(self, cfg, now=MORNING):
        self.cfg, self.now, self.state, self.seq = cfg, now, rules.HubState(), 0
        self.events: list[m.Event] = []

    def do(self, who: str, cmd: m.Command) -> m.Event:
        self.state = self.state.for_day(self.now.date().isoformat())
        event = rules.decide(self.state, cmd, token(self.cfg, who), self.cfg, self.now, self.seq + 1)
        self.seq += 1
        self.state = self.state.apply(event)
        self.events.append(event)
        return event

    def serve(self, service: str, counter: int, operator: str) -> str:
        ticket = self.do("anjungan-1", m.Issue(f"i{self.seq}", service)).ticket
        self.do(operator, m.Next(f"n{self.seq}", counter))
        self.do(operator, m.Done(f"d{self.seq}", counter))
        return ticket


FULL = (4, 3, 4, 4, 3, 4, 4, 3, 4)


def test_the_survey_token_of_the_counter_that_served_rates_once(cfg):
    day = Day(cfg)
    ticket = day.serve("DUKCAPIL-01", 1, "loket-01")
    rated = day.do("survei-01", m.Rate("r1", 1, ticket, FULL, "Petugas ramah"))
    assert (rated.counter, rated.ticket, rated.service, rated.form, rated.scores, rated.comment) == (
        1, ticket, "DUKCAPIL-01", "full", FULL, "Petugas ramah")
    with pytest.raises(CommandRejected) as again:
        day.do("survei-01", m.Rate("r2", 1, ticket, (4,)))
    assert again.value.code == "already_rated"


def test_another_counters_tablet_is_refused(cfg):
    day = Day(cfg)
    ticket = day.serve("DUKCAPIL-01", 1, "loket-01")
    with pytest.raises(CommandRejected) as scope:
        day.do("survei-05", m.Rate("r1", 1, ticket, FULL))
    assert scope.value.code == "forbidden" and "counter 1" in scope.value.message
    with pytest.raises(CommandRejected) as elsewhere:
        day.do("survei-05", m.Rate("r2", 5, ticket, FULL))
    assert elsewhere.value.code == "not_served"
    assert elsewhere.value.message == f"ticket {ticket} was served at counter 1, not counter 5"


def test_an_unserved_ticket_is_refused(cfg):
    day = Day(cfg)
    waiting = day.do("anjungan-1", m.Issue("i1", "DUKCAPIL-01")).ticket
    with pytest.raises(CommandRejected) as refused:
        day.do("survei-01", m.Rate("r1", 1, waiting, FULL))
    assert refused.value.code == "not_served"
    day.do("loket-01", m.Next("n1", 1))  # being served is not served yet
    with pytest.raises(CommandRejected):
        day.do("survei-01", m.Rate("r2", 1, waiting, FULL))


def test_rating_only_on_the_tickets_service_day(cfg):
    day = Day(cfg)
    ticket = day.serve("DUKCAPIL-01", 1, "loket-01")
    with pytest.raises(CommandRejected) as stale:
        day.do("survei-01", m.Rate("r1", 1, ticket, FULL, day="2026-11-29"))
    assert stale.value.code == "not_served" and "2026-11-29" in stale.value.message
    day.now += timedelta(days=1)
    with pytest.raises(CommandRejected) as tomorrow:
        day.do("survei-01", m.Rate("r2", 1, ticket, FULL))
    assert tomorrow.value.code == "not_served" and "today (2026-12-01)" in tomorrow.value.message


def test_short_form_is_recorded_as_such(cfg):
    day = Day(cfg)
    ticket = day.serve("POLRES-01", 5, "loket-05")
    rated = day.do("survei-05", m.Rate("r1", 5, ticket, (3,)))
    assert (rated.form, rated.scores, rated.service) == ("short", (3,), "POLRES-01")


@pytest.mark.parametrize("who,cmd", [
    ("loket-01", m.Rate("r", 1, "A-001", FULL)),
    ("supervisor", m.Rate("r", 1, "A-001", FULL)),
    ("anjungan-1", m.Rate("r", 1, "A-001", FULL)),
    ("survei-01", m.Next("n", 1)),
    ("survei-01", m.Issue("i", "DUKCAPIL-01")),
    ("kepala-mpp", m.Next("n", 1)),
    ("kepala-mpp", m.Rate("r", 1, "A-001", FULL)),
])
def test_only_survey_tokens_rate_and_they_do_nothing_else(cfg, who, cmd):
    day = Day(cfg)
    day.serve("DUKCAPIL-01", 1, "loket-01")
    with pytest.raises(CommandRejected) as refused:
        day.do(who, cmd)
    assert refused.value.code == "forbidden"


def test_survey_state_is_rebuilt_from_the_events_alone(cfg):
    """A hub restart rebuilds state from the day's journal: the rating rules must hold after it."""
    day = Day(cfg)
    ticket = day.serve("DUKCAPIL-01", 1, "loket-01")
    day.do("survei-01", m.Rate("r1", 1, ticket, FULL))
    rebuilt = rules.rebuild(day.events)
    assert rebuilt.survey == day.state.survey
    assert rebuilt.survey.rated == frozenset({ticket}) and rebuilt.survey.last_served == {1: ticket}


# ---------------------------------------------------------------- the wire form


def rate_frame(**changes) -> str:
    frame = {"type": "rate", "id": "survey-1", "counter": 5, "ticket": "A-023", "scores": list(FULL),
             "comment": "Pelayanan cepat"}
    frame.update(changes)
    return json.dumps({k: v for k, v in frame.items() if v is not ...})


def test_rate_frame_as_documented():
    cmd = protocol.parse_client_frame(rate_frame())
    assert cmd == m.Rate("survey-1", 5, "A-023", FULL, "Pelayanan cepat")
    short = protocol.parse_client_frame(rate_frame(scores=[2], comment=..., ticket="a23", day="2026-11-30"))
    assert short == m.Rate("survey-1", 5, "A-023", (2,), "", "2026-11-30")


@pytest.mark.parametrize("scores", [[], [4, 4], [4] * 8, [4] * 10, [0], [5], [True], [4.0], ["4"], "4444", None, 4])
def test_scores_must_be_nine_or_one_integers_1_to_4(scores):
    with pytest.raises(ProtocolError) as err:
        protocol.parse_client_frame(rate_frame(scores=scores))
    assert err.value.code == "bad_message" and err.value.message.startswith("scores:")
    assert err.value.id == "survey-1"


@pytest.mark.parametrize("comment,why", [
    ("a\x00b", "control character U+0000"),
    ("bagus\x1b[2J", "control character U+001B"),
    ("\ud800", "lone surrogate U+D800"),
    ("x" * 501, "longer than 500 characters"),
    (42, "expected a string"),
])
def test_hostile_comments_are_refused_with_the_field_named(comment, why):
    with pytest.raises(ProtocolError) as err:
        protocol.parse_client_frame(rate_frame(comment=comment))
    assert err.value.message.startswith("comment:") and why in err.value.message


def test_comment_keeps_newlines_and_tabs_and_is_trimmed():
    cmd = protocol.parse_client_frame(rate_frame(comment="  Antre lama.\r\nTapi\tramah.  "))
    assert cmd.comment == "Antre lama.\nTapi\tramah."
    assert protocol.parse_client_frame(rate_frame(comment="é" * 500)).comment == "é" * 500


@pytest.mark.parametrize("day", ["30-11-2026", "2026-11-30T09:00", 20261130, "kemarin"])
def test_day_must_be_a_service_day(day):
    with pytest.raises(ProtocolError) as err:
        protocol.parse_client_frame(rate_frame(day=day))
    assert err.value.message.startswith("day:")


def test_rated_event_round_trips_and_reads_as_documented():
    event = m.Rated(41, MORNING, "survey-1", 5, "E-023", "full", FULL, "POLRES-01", "Ramah")
    wire = json.loads(protocol.encode(event))
    assert wire == {"type": "rated", "seq": 41, "at": "2026-11-30T09:00:00.000+07:00", "id": "survey-1",
                    "counter": 5, "ticket": "E-023", "form": "full", "scores": list(FULL),
                    "service": "POLRES-01", "comment": "Ramah"}
    assert protocol.decode_event(protocol.encode(event)) == event


def test_survey_and_admin_may_say_hello():
    for role in ("survey", "admin"):
        assert protocol.parse_client_frame(json.dumps({"type": "hello", "role": role, "token": "t"})).role == role


# ---------------------------------------------------------------- config


def load_with(tmp_path, edit):
    raw = yaml.safe_load((ROOT / "config.yaml").read_text())
    edit(raw)
    return parse_config(raw, path=tmp_path / "config.yaml")


def problems(tmp_path, edit) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load_with(tmp_path, edit)
    return err.value.problems


def test_shipped_config_has_survey_tablets_and_two_admins(tmp_path):
    cfg = load_with(tmp_path, lambda raw: None)
    tablets = [t for t in cfg.tokens if t.role == "survey"]
    assert len(tablets) >= 3 and all(t.counters and len(t.counters) == 1 for t in tablets)
    assert [t.name for t in cfg.tokens if t.role == "admin"] == ["teknisi", "kepala-mpp"]  # technician, head of MPP
    assert cfg.survey == SurveyConfig("full")


def test_survey_form_short_and_defaults(tmp_path):
    assert load_with(tmp_path, lambda raw: raw["survey"].update(form="short")).survey.form == "short"
    assert load_with(tmp_path, lambda raw: raw.pop("survey")).survey.form == "full"


@pytest.mark.parametrize("edit,expected", [
    (lambda raw: raw["survey"].update(form="medium"), "config.yaml: survey.form: expected full or short, got 'medium'"),
    (lambda raw: raw["survey"].update(questions=3), "config.yaml: survey.questions: unknown key"),
    (lambda raw: raw.update(survey="full"), "config.yaml: survey: expected a mapping"),
    (lambda raw: _survey_token(raw).update(counters="all"), "config.yaml: tokens["),
    (lambda raw: _survey_token(raw).pop("counters"), "config.yaml: tokens["),
    (lambda raw: _survey_token(raw).update(counters=[99]), "config.yaml: tokens["),
    (lambda raw: _admin_token(raw).update(counters=[1]), "config.yaml: tokens["),
])
def test_bad_survey_config_is_named(tmp_path, edit, expected):
    found = problems(tmp_path, edit)
    assert len(found) == 1 and found[0].startswith(expected), found


def test_survey_token_problems_say_what_to_do(tmp_path):
    assert "list them, not 'all'" in problems(tmp_path, lambda raw: _survey_token(raw).update(counters="all"))[0]
    assert "expected a list of counter numbers, got None" in problems(
        tmp_path, lambda raw: _survey_token(raw).pop("counters"))[0]
    assert "only operator and survey tokens have counters" in problems(
        tmp_path, lambda raw: _admin_token(raw).update(counters=[1]))[0]


def _survey_token(raw) -> dict:
    return next(t for t in raw["tokens"] if t["role"] == "survey")


def _admin_token(raw) -> dict:
    return next(t for t in raw["tokens"] if t["role"] == "admin")


def test_config_dataclass_replace_keeps_survey(tmp_path):
    cfg = hall_config(tmp_path)
    assert dataclasses.replace(cfg, survey=SurveyConfig("short")).survey.form == "short"
