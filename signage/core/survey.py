"""The SKM survey (Survei Kepuasan Masyarakat, PermenPANRB 14/2017), tied to the served ticket.

A tablet at a counter holds a `survey` token scoped to that counter. When the
counter marks a ticket done, the tablet asks the visitor to rate it; the hub
turns a `rate` command into a `rated` event. This module holds the rules and
the arithmetic, with no I/O:

- `SurveyState` folds `cleared`/done and `rated` events of one service day:
  which counter served which ticket, and which tickets were rated.
- `check_rate` is the hub's decision: a ticket may be rated only through the
  counter that served it, only once, and only on its service day.
- `ikm` is the regulation's index: NRR per element = the mean of its scores;
  IKM = (Σ NRR / 9) × 25, to two decimals; grade A–D. Exact (Fractions), so a
  worked example computed by hand gives the same digits.

The full form asks the nine elements below on a 1–4 scale; the short form
(`survey.form: short`) asks one overall question, and is counted apart: it is
not the regulation's instrument, so it never enters an IKM.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from fractions import Fraction
from typing import Mapping, Sequence

from signage.core import messages as m
from signage.core.config import SURVEY_FORMS
from signage.core.hall import service_day
from signage.errors import CommandRejected

# The nine elements (unsur) of PermenPANRB 14/2017, in the order of the wire's `scores`.
ELEMENTS: tuple[tuple[str, str], ...] = (
    ("persyaratan", "Persyaratan"),
    ("prosedur", "Sistem, mekanisme dan prosedur"),
    ("waktu", "Waktu penyelesaian"),
    ("biaya", "Biaya/tarif"),
    ("produk", "Produk spesifikasi jenis pelayanan"),
    ("kompetensi", "Kompetensi pelaksana"),
    ("perilaku", "Perilaku pelaksana"),
    ("sarana", "Sarana dan prasarana"),
    ("pengaduan", "Penanganan pengaduan, saran dan masukan"),
)
FORMS = SURVEY_FORMS  # survey.form; the schema (SurveyConfig) lives with the rest of config's
FULL, SHORT = FORMS
FORM_OF_LENGTH = {len(ELEMENTS): FULL, 1: SHORT}

# (lowest IKM in hundredths, grade, label): the regulation's table, best first.
GRADES: tuple[tuple[int, str, str], ...] = (
    (8831, "A", "Sangat Baik"),
    (7661, "B", "Baik"),
    (6500, "C", "Kurang Baik"),
    (2500, "D", "Tidak Baik"),
)


# ---------------------------------------------------------------- live state and the rule


@dataclass(frozen=True)
class Served:
    ticket: str
    counter: int
    service: str | None
    at: datetime


@dataclass(frozen=True)
class SurveyState:
    day: str | None = None
    served: Mapping[str, Served] = field(default_factory=dict)  # ticket → its last `done` today
    last_served: Mapping[int, str] = field(default_factory=dict)  # counter → ticket it served last
    rated: frozenset[str] = frozenset()  # tickets rated today


def apply(state: SurveyState, event: m.Event) -> SurveyState:
    day = service_day(event.at)
    if state.day != day:
        state = SurveyState(day=day)
    if isinstance(event, m.Cleared) and event.reason == "done" and event.ticket:
        served = Served(event.ticket, event.counter, event.service, event.at)
        return replace(state, served={**state.served, event.ticket: served},
                       last_served={**state.last_served, event.counter: event.ticket})
    if isinstance(event, m.Rated):
        return replace(state, rated=state.rated | {event.ticket})
    return state


def check_rate(state: SurveyState, cmd: m.Rate, today: str) -> Served:
    """The served ticket `cmd` rates, or CommandRejected. The token's counter scope is checked before."""
    if cmd.day is not None and cmd.day != today:
        raise CommandRejected(
            "not_served", f"ticket {cmd.ticket} of {cmd.day} could only be rated on that day; today is {today}")
    served = state.served.get(cmd.ticket) if state.day == today else None
    if served is None:
        raise CommandRejected("not_served", f"ticket {cmd.ticket} has not been served today ({today})")
    if served.counter != cmd.counter:
        raise CommandRejected(
            "not_served", f"ticket {cmd.ticket} was served at counter {served.counter}, not counter {cmd.counter}")
    if cmd.ticket in state.rated:
        raise CommandRejected("already_rated", f"ticket {cmd.ticket} was already rated today")
    return served


def form_of(scores: Sequence[int]) -> str:
    return FORM_OF_LENGTH[len(scores)]


# ---------------------------------------------------------------- the index


@dataclass(frozen=True)
class Ikm:
    respondents: int  # full-form ratings
    nrr: tuple[float, ...] | None  # mean score per element, three decimals; None without respondents
    value: float | None  # (Σ NRR / 9) × 25, two decimals (half up)
    grade: str | None  # A, B, C or D
    label: str | None  # Sangat Baik, Baik, Kurang Baik, Tidak Baik


def ikm(sums: Sequence[int], respondents: int) -> Ikm:
    """The IKM of `respondents` full-form ratings whose scores add up to `sums` per element."""
    if len(sums) != len(ELEMENTS):
        raise ValueError(f"expected {len(ELEMENTS)} element sums, got {len(sums)}")
    if respondents <= 0:
        return Ikm(0, None, None, None, None)
    nrr = [Fraction(s, respondents) for s in sums]
    hundredths = _half_up(sum(nrr) / len(ELEMENTS) * 25 * 100)
    grade, label = grade_of(hundredths)
    return Ikm(respondents, tuple(_half_up(x * 1000) / 1000 for x in nrr), hundredths / 100, grade, label)


def grade_of(hundredths: int) -> tuple[str, str]:
    """The grade of an IKM given in hundredths (8235 = 82.35)."""
    for lowest, grade, label in GRADES:
        if hundredths >= lowest:
            return grade, label
    raise ValueError(f"an IKM of {hundredths / 100:.2f} is below the scale's minimum of 25.00")


def round_half_up(numerator: int, denominator: int, digits: int) -> float:
    """numerator / denominator to `digits` decimals, halves up: round_half_up(7, 2, 0) == 4."""
    scale = 10 ** digits
    return _half_up(Fraction(numerator, denominator) * scale) / scale


def _half_up(x: Fraction) -> int:
    """Round a non-negative exact number to the nearest integer, halves up (as the regulation's tables do)."""
    return int((x + Fraction(1, 2)) // 1)
