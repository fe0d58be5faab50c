"""Reports and the SKM survey against a real hub, a real journal and a fake clock.

A simulated day (issues, calls, skips, recalls, transfers, dones, ratings at
whole minutes) is played through a real hub. The test keeps its own record of
what it did and when; every figure is computed from that record here, with
plain code and the statistics module, and compared with `signage report`'s
json, run as a separate process against the live hub's journal.
"""

from __future__ import annotations

import asyncio
import dataclasses
import heapq
import io
import json
import random
import statistics
import subprocess
import sys
import urllib.error
import urllib.request
import zipfile
from collections import defaultdict
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from signage.config import load_config
from signage.core import messages as m, report
from signage.errors import HubRefused
from signage.hub.journal import Journal
from signage.operator.client import Session, new_id
from signage.reports import source
from support import FakeClock, running_hub, timeout, write_config

WIB = ZoneInfo("Asia/Jakarta")
DAY = "2026-11-30"
OPEN = datetime(2026, 11, 30, 8, 0, tzinfo=WIB)
SERVICES = {1: ("DUKCAPIL-01", "DUKCAPIL-02"), 2: ("DPMPTSP-01", "DPMPTSP-02"), 3: ("SAMSAT-01", "SAMSAT-02"),
            5: ("POLRES-01", "POLRES-02")}
TRANSFER_TO = {1: "DPMPTSP-01", 2: "DUKCAPIL-02", 3: "POLRES-01", 5: "SAMSAT-01"}
TABLETS = {1: "survei-01", 5: "survei-05"}


@dataclass
class Act:
    """One thing the test did, at a known time. Tickets come from the hub's acks."""

    at: datetime
    kind: str  # issue, call, recall_no_show, repeat, done, skip, transfer, clear, rate
    ticket: str
    counter: int | None = None
    service: str | None = None  # issue: its service; transfer: the target
    scores: tuple[int, ...] = ()
    comment: str = ""


@dataclass
class SimulatedDay:
    acts: list[Act] = field(default_factory=list)


async def play_day(hub, config, clock: FakeClock, seed: int = 15, visitors: int = 64) -> SimulatedDay:
    rng = random.Random(seed)
    secrets = {t.name: t.secret for t in config.tokens}
    day = SimulatedDay()
    agenda: list = []
    order = iter(range(10**9))

    def at(minutes: int, kind: str, *payload) -> None:
        heapq.heappush(agenda, (minutes, next(order), kind, payload))

    for _ in range(visitors):
        counter = rng.choice(list(SERVICES))
        at(rng.randint(0, 150), "arrive", rng.choice(SERVICES[counter]))
    for counter in SERVICES:
        at(rng.randint(3, 8), "free", counter)
    serving: dict[int, str] = {}
    to_recall: dict[int, list[tuple[int, str]]] = defaultdict(list)  # counter → (skipped at minute, ticket)
    closing = 300

    async with Session(hub.url, secrets["anjungan-1"], role="kiosk") as kiosk:
        desks = {c: await Session(hub.url, secrets[f"loket-{c:02d}"]).__aenter__() for c in SERVICES}
        tablets = {c: await Session(hub.url, secrets[name], role="survey").__aenter__() for c, name in TABLETS.items()}
        try:
            while agenda:
                minute, _, kind, payload = heapq.heappop(agenda)
                clock.now = OPEN + timedelta(minutes=minute)
                now = clock.now
                if kind == "arrive":
                    (service,) = payload
                    ack = await kiosk.request(m.Issue(new_id("k"), service))
                    day.acts.append(Act(now, "issue", ack.event.ticket, service=service))
                elif kind == "free":
                    (c,) = payload
                    if minute > closing:
                        continue
                    recall = next(((s, t) for s, t in to_recall[c] if 3 <= minute - s <= 25), None)
                    if recall is not None:
                        to_recall[c].remove(recall)
                        await desks[c].request(m.Recall(new_id("r"), c, recall[1]))
                        day.acts.append(Act(now, "recall_no_show", recall[1], c))
                        ticket = recall[1]
                    else:
                        try:
                            ack = await desks[c].request(m.Next(new_id("n"), c))
                        except HubRefused as exc:
                            assert exc.code == "queue_empty"
                            at(minute + rng.randint(1, 4), "free", c)
                            continue
                        ticket = ack.event.ticket
                        day.acts.append(Act(now, "call", ticket, c))
                    serving[c] = ticket
                    if rng.random() < 0.15:
                        at(minute + 1, "repeat", c, ticket)
                    at(minute + rng.randint(2, 14), "finish", c, ticket)
                elif kind == "repeat":
                    c, ticket = payload
                    if serving.get(c) == ticket:
                        await desks[c].request(m.Recall(new_id("rr"), c))
                        day.acts.append(Act(now, "repeat", ticket, c))
                elif kind == "finish":
                    c, ticket = payload
                    draw = rng.random()
                    if draw < 0.72:
                        await desks[c].request(m.Done(new_id("d"), c))
                        day.acts.append(Act(now, "done", ticket, c))
                        if c in tablets and rng.random() < 0.7:
                            at(minute, "rate", c, ticket)
                    elif draw < 0.86:
                        await desks[c].request(m.Skip(new_id("s"), c))
                        day.acts.append(Act(now, "skip", ticket, c))
                        if rng.random() < 0.5:
                            to_recall[c].append((minute, ticket))
                    elif draw < 0.95:
                        await desks[c].request(m.Transfer(new_id("t"), c, TRANSFER_TO[c]))
                        day.acts.append(Act(now, "transfer", ticket, c, TRANSFER_TO[c]))
                    else:
                        await desks[c].request(m.Clear(new_id("x"), c))  # counter closes a moment
                        day.acts.append(Act(now, "clear", ticket, c))
                    del serving[c]
                    at(minute + rng.randint(0, 3), "free", c)
                elif kind == "rate":
                    c, ticket = payload
                    short = rng.random() < 0.2
                    pool = (3, 4, 4, 4) if c == 1 else (1, 2, 3, 3)  # Loket 1 pleases its visitors more
                    scores = (rng.choice(pool),) if short else tuple(rng.choice(pool) for _ in range(9))
                    comment = rng.choice(["", "", "Petugas ramah", "Antre terlalu lama", "=HYPERLINK(\"x\")"])
                    await tablets[c].request(m.Rate(new_id("v"), c, ticket, scores, comment, DAY))
                    day.acts.append(Act(now, "rate", ticket, c, scores=scores, comment=comment))
        finally:
            for session in [*desks.values(), *tablets.values()]:
                await session.__aexit__(None, None, None)
    return day


# ---------------------------------------------------------------- the figures, computed here from the record


def minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 2)


def p50(values):
    return statistics.median(values) if values else None


def p90(values):
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=10, method="inclusive")[8]


def stats(values, with_max=True) -> dict:
    out = {"n": len(values), "p50": minutes(p50(values)), "p90": minutes(p90(values))}
    if with_max:
        out["max"] = minutes(max(values)) if values else None
    return out


@dataclass
class Visit:
    ticket: str
    service: str
    joined: datetime
    first: bool
    first_call: datetime | None = None
    caller: int | None = None
    outcome: str | None = None


def expected_figures(day: SimulatedDay, config) -> dict:
    visits: list[Visit] = []
    current: dict[str, Visit] = {}
    issued_at: dict[str, datetime] = {}
    at_counter: dict[str, tuple[int, datetime]] = {}
    skipped: dict[str, int] = {}
    dones: list[tuple[str, int, str, float, datetime]] = []  # ticket, counter, service, seconds, at
    transfers: list[tuple[str, int, str]] = []  # ticket, counter, from service
    stretches: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    ratings: list[Act] = []
    for act in day.acts:
        t = act.ticket
        if act.kind == "issue":
            issued_at[t] = act.at
            current[t] = Visit(t, act.service, act.at, True)
            visits.append(current[t])
        elif act.kind in ("call", "recall_no_show"):
            v = current[t]
            if v.first_call is None:
                v.first_call, v.caller = act.at, act.counter
            at_counter[t] = (act.counter, act.at)
            skipped.pop(t, None)
        elif act.kind in ("done", "skip", "transfer", "clear"):
            counter, since = at_counter.pop(t)
            assert counter == act.counter
            stretches[counter].append((since, act.at))
            v = current[t]
            if act.kind == "done":
                dones.append((t, counter, v.service, (act.at - since).total_seconds(), act.at))
            elif act.kind == "skip":
                skipped[t] = counter
            elif act.kind == "transfer":
                transfers.append((t, counter, v.service))
                current[t] = Visit(t, act.service, act.at, False)
                visits.append(current[t])
        elif act.kind == "rate":
            ratings.append(act)

    def wait(v: Visit) -> float:
        return (v.first_call - v.joined).total_seconds()

    hall_waits = [wait(v) for v in visits if v.first and v.first_call]
    hall = {
        "issued": len(issued_at),
        "called": len({v.ticket for v in visits if v.first_call}),
        "served": len({d[0] for d in dones}),
        "no_show": len(skipped),
        "transferred": len({x[0] for x in transfers}),
        "wait_minutes": stats(hall_waits),
        "service_minutes": stats([d[3] for d in dones]),
    }

    def service_figures(codes: set[str]) -> dict:
        vs = [v for v in visits if v.service in codes]
        return {
            "issued": sum(1 for v in vs if v.first),
            "called": sum(1 for v in vs if v.first_call),
            "served": sum(1 for d in dones if d[2] in codes),
            "no_show": sum(1 for t in skipped if current[t].service in codes),
            "transferred": sum(1 for x in transfers if x[2] in codes),
            "wait_minutes": stats([wait(v) for v in vs if v.first_call]),
            "service_minutes": stats([d[3] for d in dones if d[2] in codes]),
        }

    services = {s.code: service_figures({s.code}) for s in config.services}
    agencies = {a.code: service_figures({s.code for s in config.services if s.agency == a.code})
                for a in config.agencies}

    counters = {}
    for c in config.counters:
        n = c.number
        own = {s.code for s in config.services if n in s.counters}
        spans = sorted(stretches.get(n, []))
        gaps = [(a[1], b[0]) for a, b in zip(spans, spans[1:])]
        waiting = [(v.joined, v.first_call or datetime.max.replace(tzinfo=WIB)) for v in visits if v.service in own]
        counters[n] = {
            "issued": None,
            "called": sum(1 for v in visits if v.caller == n),
            "served": sum(1 for d in dones if d[1] == n),
            "no_show": sum(1 for who in skipped.values() if who == n),
            "transferred": sum(1 for x in transfers if x[1] == n),
            "wait_minutes": stats([wait(v) for v in visits if v.caller == n]),
            "service_minutes": stats([d[3] for d in dones if d[1] == n]),
            "idle_minutes": {
                "busy": minutes(sum((b - a).total_seconds() for a, b in spans)),
                "idle": minutes(sum((b - a).total_seconds() for a, b in gaps)),
                "idle_while_waiting": minutes(sum(covered(gap, waiting) for gap in gaps)),
            },
        }
        counters[n]["idle_minutes"]["working"] = round(
            counters[n]["idle_minutes"]["busy"] + counters[n]["idle_minutes"]["idle"], 2)

    by_hour = defaultdict(lambda: {"arrivals": 0, "served": 0, "waits": []})
    for t, when in issued_at.items():
        by_hour[when.hour]["arrivals"] += 1
    for d in dones:
        by_hour[d[4].hour]["served"] += 1
    for v in visits:
        if v.first and v.first_call:
            by_hour[v.joined.hour]["waits"].append(wait(v))
    hours = [{"hour": h, "arrivals": by_hour[h]["arrivals"], "served": by_hour[h]["served"],
              "wait_p50_minutes": minutes(p50(by_hour[h]["waits"]))}
             for h in range(min(by_hour), max(by_hour) + 1)]
    peak = max(hours, key=lambda h: (h["arrivals"], -h["hour"]))

    service_of_rating = {}
    for t, counter, service, _, _ in dones:
        service_of_rating[t] = service
    ikm = {"hall": ikm_by_hand([r for r in ratings])}
    for s in config.services:
        ikm[s.code] = ikm_by_hand([r for r in ratings if service_of_rating[r.ticket] == s.code])
    for a in config.agencies:
        codes = {s.code for s in config.services if s.agency == a.code}
        ikm[a.code] = ikm_by_hand([r for r in ratings if service_of_rating[r.ticket] in codes])
    return {"hall": hall, "services": services, "agencies": agencies, "counters": counters, "hours": hours,
            "peak": peak["hour"], "ikm": ikm, "comments": [r.comment for r in ratings if r.comment]}


def covered(gap: tuple[datetime, datetime], intervals: list[tuple[datetime, datetime]]) -> float:
    """Seconds of `gap` inside the union of `intervals`."""
    clipped = sorted((max(a, gap[0]), min(b, gap[1])) for a, b in intervals if a < gap[1] and b > gap[0])
    total, end = 0.0, gap[0]
    for a, b in clipped:
        a = max(a, end)
        if b > a:
            total += (b - a).total_seconds()
            end = b
    return total


def ikm_by_hand(ratings: list[Act]) -> dict:
    full = [r.scores for r in ratings if len(r.scores) == 9]
    short = [r.scores[0] for r in ratings if len(r.scores) == 1]
    mean = (Decimal(sum(short)) / Decimal(len(short))).quantize(Decimal("0.01"), ROUND_HALF_UP) if short else None
    out = {"respondents": len(full), "short": len(short), "short_mean": float(mean) if short else None}
    if not full:
        return {**out, "ikm": None, "grade": None}
    nrr = [Decimal(sum(r[i] for r in full)) / Decimal(len(full)) for i in range(9)]
    value = (sum(nrr) / 9 * 25).quantize(Decimal("0.01"), ROUND_HALF_UP)
    grade = "A" if value >= Decimal("88.31") else "B" if value >= Decimal("76.61") else \
        "C" if value >= Decimal("65.00") else "D"
    return {**out, "ikm": float(value), "grade": grade}


# ---------------------------------------------------------------- the day through a real hub


def run_report(config_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "signage", "report", "--config", str(config_path), *args],
                          capture_output=True, timeout=timeout(60))


@pytest.fixture(scope="module")
def played(tmp_path_factory):
    """One simulated day through a real hub; the report is taken while the hub still runs."""
    tmp = tmp_path_factory.mktemp("day")
    config_path = write_config(tmp)
    config = load_config(config_path)
    clock = FakeClock(OPEN)

    async def scenario():
        async with running_hub(config, clock) as hub:
            day = await play_day(hub, config, clock)
            seq = hub.seq
            # A report is a reader: it runs beside the live hub, which keeps serving.
            result = await asyncio.to_thread(run_report, config_path, "--date", DAY, "--format", "json")
            display = next(t.secret for t in config.tokens if t.role == "display")
            async with Session(hub.url, display, role="display") as session:
                assert session.welcome.seq == seq  # still serving, nothing written by the report
            return day, result, seq

    day, result, seq = asyncio.run(scenario())
    assert result.returncode == 0, result.stderr.decode()
    return {"day": day, "doc": json.loads(result.stdout), "config": config, "config_path": config_path,
            "tmp": tmp, "seq": seq}


def test_the_day_has_every_kind_of_event(played):
    kinds = {a.kind for a in played["day"].acts}
    assert kinds == {"issue", "call", "recall_no_show", "repeat", "done", "skip", "transfer", "clear", "rate"}
    assert played["doc"]["report"]["events"] == played["seq"]


def test_hall_counts_and_percentiles_match_a_direct_computation(played):
    want = expected_figures(played["day"], played["config"])["hall"]
    got = played["doc"]["hall"]
    for key in ("issued", "called", "served", "no_show", "transferred"):
        assert got[key] == want[key], key
    assert got["wait_minutes"] == want["wait_minutes"]
    assert got["service_minutes"] == want["service_minutes"]


def test_every_service_agency_and_counter_matches(played):
    want = expected_figures(played["day"], played["config"])
    doc = played["doc"]
    for kind, key in (("services", "code"), ("agencies", "code"), ("counters", "number")):
        got = {entry[key]: entry for entry in doc[kind]}
        assert set(got) == set(want[kind])
        for code, figures in want[kind].items():
            for name, value in figures.items():
                assert got[code][name] == value, f"{kind} {code} {name}"
    assert any(e["transferred"] for e in doc["counters"]) and any(e["no_show"] for e in doc["services"])


def test_per_hour_figures_and_the_peak_hour(played):
    want = expected_figures(played["day"], played["config"])
    assert [{k: h[k] for k in ("hour", "arrivals", "served", "wait_p50_minutes")} for h in played["doc"]["hours"]] \
        == want["hours"]
    assert played["doc"]["peak_hour"]["hour"] == want["peak"]
    row = played["doc"]["heatmap"]["rows"][0]
    assert row["day"] == DAY and sum(row["arrivals"]) == want["hall"]["issued"]


def test_ikm_and_respondents_per_hall_agency_and_service(played):
    expected = expected_figures(played["day"], played["config"])
    want = expected["ikm"]
    doc = played["doc"]
    entries = [("hall", doc["hall"])] + [(e["code"], e) for e in doc["agencies"] + doc["services"]]
    for code, entry in entries:
        w = want[code]
        assert (entry["ikm"], entry["grade"], entry["respondents"]) == (w["ikm"], w["grade"], w["respondents"]), code
        assert (entry["short_form"]["respondents"], entry["short_form"]["mean"]) == (w["short"], w["short_mean"]), code
    assert want["hall"]["respondents"] >= 10 and want["hall"]["short"] >= 1
    assert len({w["grade"] for w in want.values() if w["grade"]}) >= 2  # the day exercises more than one grade
    assert [c["comment"] for c in doc["survey"]["comments"]] == expected["comments"]


def test_sql_facts_equal_the_decoded_events(played):
    """The report reads fields with SQLite's json_extract; they must be exactly what the codec decodes."""
    journal = Journal(played["tmp"] / "journal.sqlite").open()
    try:
        events = journal.events_of_day(DAY)
    finally:
        journal.close()
    want_queue, want_ratings = report.facts(events)
    with closing(source.connect(played["tmp"] / "journal.sqlite")) as db:
        assert list(source.queue_facts(db, DAY, DAY)) == want_queue
        assert list(source.ratings(db, DAY, DAY)) == want_ratings
    assert len(want_ratings) >= 10


def test_xlsx_has_a_sheet_per_table_with_the_values(played, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "laporan.xlsx"
    result = run_report(played["config_path"], "--date", DAY, "--format", "xlsx", "--out", str(out))
    assert result.returncode == 0, result.stderr.decode()
    book = load_workbook(out)
    assert book.sheetnames == ["Ringkasan", "Instansi", "Layanan", "Loket", "Per jam", "Harian", "Peta kedatangan",
                               "Unsur SKM", "Komentar", "Keterangan"]
    hall = played["doc"]["hall"]
    header = [c.value for c in book["Ringkasan"][1]]
    values = dict(zip(header, [c.value for c in book["Ringkasan"][2]]))
    assert (values["Diterbitkan"], values["Dilayani"], values["Tidak hadir"], values["Dialihkan"]) == (
        hall["issued"], hall["served"], hall["no_show"], hall["transferred"])
    assert values["Tunggu p50 (menit)"] == hall["wait_minutes"]["p50"] and values["IKM"] == hall["ikm"]
    services = {row[0].value: row for row in book["Layanan"].iter_rows(min_row=2)}
    assert len(services) == 153
    dukcapil = next(e for e in played["doc"]["services"] if e["code"] == "DUKCAPIL-01")
    assert services["DUKCAPIL-01"][3].value == dukcapil["issued"]
    comments = [row[5].value for row in book["Komentar"].iter_rows(min_row=2)]
    assert '=HYPERLINK("x")' in comments  # kept as text …
    formula_cells = [c for row in book["Komentar"].iter_rows() for c in row if c.data_type == "f"]
    assert formula_cells == []  # … never a formula


def test_csv_is_one_file_per_table(played, tmp_path):
    out = tmp_path / "csv"
    result = run_report(played["config_path"], "--date", DAY, "--format", "csv", "--out", str(out))
    assert result.returncode == 0, result.stderr.decode()
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(["hall.csv", "agencies.csv", "services.csv", "counters.csv", "hours.csv", "days.csv",
                            "heatmap.csv", "survey_elements.csv", "comments.csv"])
    import csv

    rows = list(csv.reader((out / "counters.csv").open(encoding="utf-8")))
    assert rows[0][:3] == ["Loket", "Nama", "Instansi"] and len(rows) == 22
    comments = [r[5] for r in csv.reader((out / "comments.csv").open(encoding="utf-8"))][1:]
    assert "'=HYPERLINK(\"x\")" in comments  # a spreadsheet reads it as text, not a formula


def test_html_is_printable_with_its_charts(played, tmp_path):
    out = tmp_path / "laporan.html"
    result = run_report(played["config_path"], "--date", DAY, "--format", "html", "--out", str(out))
    assert result.returncode == 0, result.stderr.decode()
    page = out.read_text(encoding="utf-8")
    doc = played["doc"]
    for chart in ("chart-hours", "chart-wait", "chart-heatmap"):
        assert f'<svg id="{chart}"' in page
    assert page.count('class="bar arrivals"') == len(doc["hours"])
    assert page.count('class="cell"') == len(doc["heatmap"]["hours"])
    assert page.count('class="bar p50"') == sum(1 for a in doc["agencies"] if a["wait_minutes"]["n"])
    assert "@media print" in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "=HYPERLINK(&quot;x&quot;)" in page  # escaped


def test_usage_errors_exit_2_and_a_missing_journal_exits_1(played, tmp_path):
    bad = run_report(played["config_path"], "--date", "30-11-2026")
    assert bad.returncode == 2 and b"--date: expected a day such as 2026-11-28" in bad.stderr
    backwards = run_report(played["config_path"], "--from", "2026-12-01", "--to", "2026-11-30")
    assert backwards.returncode == 2
    missing = run_report(played["config_path"], "--journal", str(tmp_path / "none.sqlite"))
    assert missing.returncode == 1 and b"does not exist" in missing.stderr
    assert not (tmp_path / "none.sqlite").exists()  # a report never creates a journal


# ---------------------------------------------------------------- survey refusals against a real hub


async def test_survey_refusals_through_a_real_hub(tmp_path):
    config = load_config(write_config(tmp_path))
    secrets = {t.name: t.secret for t in config.tokens}
    clock = FakeClock(OPEN)
    async with running_hub(config, clock) as hub:
        async with Session(hub.url, secrets["anjungan-1"], role="kiosk") as kiosk, \
                Session(hub.url, secrets["loket-01"]) as desk, \
                Session(hub.url, secrets["survei-01"], role="survey") as tablet, \
                Session(hub.url, secrets["survei-05"], role="survey") as other, \
                Session(hub.url, secrets["tv-semua"], role="display", subscribe=True) as board:
            served = (await kiosk.request(m.Issue(new_id(), "DUKCAPIL-01"))).event.ticket
            waiting = (await kiosk.request(m.Issue(new_id(), "DUKCAPIL-01"))).event.ticket
            await desk.request(m.Next(new_id(), 1))
            clock.advance(minutes=6)
            await desk.request(m.Done(new_id(), 1))

            async def refused(session, cmd) -> HubRefused:
                with pytest.raises(HubRefused) as err:
                    await session.request(cmd)
                return err.value

            assert (await refused(other, m.Rate(new_id(), 1, served, (4,) * 9))).code == "forbidden"
            assert (await refused(other, m.Rate(new_id(), 5, served, (4,) * 9))).code == "not_served"
            assert (await refused(tablet, m.Rate(new_id(), 1, waiting, (4,) * 9))).code == "not_served"
            ack = await tablet.request(m.Rate(new_id(), 1, served, (4, 4, 3, 3, 4, 4, 4, 3, 2), "Bagus"))
            assert (ack.event.service, ack.event.form) == ("DUKCAPIL-01", "full")
            twice = await refused(tablet, m.Rate(new_id(), 1, served, (3,)))
            assert twice.code == "already_rated" and served in twice.message
            assert (await refused(desk, m.Rate(new_id(), 1, served, (3,)))).code == "forbidden"

            rated = []
            async for event in board.events():
                if isinstance(event, m.Rated):
                    rated.append(event)
                    break
            assert rated[0].ticket == served and rated[0].comment == "Bagus"

    # After a restart the journal still knows; on the next day, yesterday's ticket is closed.
    async with running_hub(config, clock) as hub:
        async with Session(hub.url, secrets["survei-01"], role="survey") as tablet:
            with pytest.raises(HubRefused) as again:
                await tablet.request(m.Rate(new_id(), 1, served, (3,)))
            assert again.value.code == "already_rated"
    clock.advance(days=1)
    async with running_hub(config, clock) as hub:
        async with Session(hub.url, secrets["survei-01"], role="survey") as tablet:
            for day in (None, DAY):
                with pytest.raises(HubRefused) as stale:
                    await tablet.request(m.Rate(new_id(), 1, served, (3,), day=day))
                assert stale.value.code == "not_served"


# ---------------------------------------------------------------- /reports and /survey/state over HTTP


def http(url: str, token: str | None = None) -> tuple[int, dict, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout(30)) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


async def test_reports_over_http_need_an_admin_or_all_counter_token(tmp_path):
    config = load_config(write_config(tmp_path))
    secrets = {t.name: t.secret for t in config.tokens}
    clock = FakeClock(OPEN)
    async with running_hub(config, clock) as hub:
        base = f"http://127.0.0.1:{hub.port}"
        async with Session(hub.url, secrets["anjungan-1"], role="kiosk") as kiosk:
            for _ in range(3):
                await kiosk.request(m.Issue(new_id(), "POLRES-01"))

        def get(path, who=None, raw=None):
            return http(base + path, raw or (secrets[who] if who else None))

        status, headers, body = await asyncio.to_thread(get, "/reports/data")
        assert status == 401 and headers["WWW-Authenticate"].startswith("Bearer")
        assert json.loads(body)["error"] == "unauthorized"
        assert (await asyncio.to_thread(get, "/reports/data", raw="tok-not-a-token"))[0] == 401
        for who in ("loket-01", "anjungan-1", "tv-semua", "survei-01"):
            status, _, body = await asyncio.to_thread(get, "/reports/data", who)
            assert status == 403 and json.loads(body)["error"] == "forbidden", who
            assert (await asyncio.to_thread(get, "/reports/download?format=xlsx", who))[0] == 403
        for who in ("supervisor", "kepala-mpp", "teknisi"):  # one admin role: the technician's token reads too
            status, headers, body = await asyncio.to_thread(get, "/reports/data", who)
            doc = json.loads(body)
            assert status == 200 and headers["Cache-Control"] == "no-store"
            assert doc["hall"]["issued"] == 3 and doc["viewer"] == {"name": who, "role": hub.config.token(
                secrets[who]).role, "today": DAY}
        for fmt, kind in (("xlsx", "spreadsheetml"), ("csv", "zip"), ("html", "text/html"), ("json", "json")):
            status, headers, body = await asyncio.to_thread(get, f"/reports/download?format={fmt}&date={DAY}",
                                                            "kepala-mpp")
            assert status == 200 and kind in headers["Content-Type"], fmt
            extension = "zip" if fmt == "csv" else fmt
            assert headers["Content-Disposition"] == f'attachment; filename="laporan-{DAY}.{extension}"'
        zipped = (await asyncio.to_thread(get, "/reports/download?format=csv", "supervisor"))[2]
        with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
            assert f"laporan-{DAY}/services.csv" in archive.namelist()
        for bad in ("?date=kemarin", "?from=2026-12-01&to=2026-11-30", "?from=2025-01-01&to=2026-11-30",
                    "?format=pdf", "?date=2026-11-30&date=2026-11-29"):
            status, _, body = await asyncio.to_thread(get, "/reports/data" + bad, "supervisor")
            assert status == 400 and json.loads(body)["error"] == "bad_request", bad
        status, headers, page = await asyncio.to_thread(get, "/reports")
        assert status == 200 and b"Laporan" in page  # the page itself holds no data
        # Its framed report needs inline styles; scripts, framing and the other headers stay as on every page.
        assert headers["Content-Security-Policy"] == ("default-src 'self'; style-src 'self' 'unsafe-inline'; "
                                                      "frame-ancestors 'none'")
        assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"
        _, headers, _ = await asyncio.to_thread(get, "/reports/data", "supervisor")
        assert headers["Content-Security-Policy"] == "default-src 'self'; frame-ancestors 'none'"


async def test_survey_state_tells_a_tablet_what_to_rate(tmp_path):
    config = load_config(write_config(tmp_path))
    secrets = {t.name: t.secret for t in config.tokens}
    clock = FakeClock(OPEN)
    async with running_hub(config, clock) as hub:
        base = f"http://127.0.0.1:{hub.port}"

        async def state(who="survei-05"):
            status, _, body = await asyncio.to_thread(http, base + "/survey/state", secrets[who])
            return status, json.loads(body)

        assert (await state("supervisor"))[0] == 403
        status, first = await state()
        assert status == 200 and first["form"] == "full" and len(first["elements"]) == 9
        assert first["counters"] == [{"counter": 5, "name": "Loket 5", "serving": None, "pending": None}]
        async with Session(hub.url, secrets["anjungan-1"], role="kiosk") as kiosk, \
                Session(hub.url, secrets["loket-05"]) as desk, \
                Session(hub.url, secrets["survei-05"], role="survey") as tablet:
            one = (await kiosk.request(m.Issue(new_id(), "POLRES-01"))).event.ticket
            two = (await kiosk.request(m.Issue(new_id(), "POLRES-02"))).event.ticket
            await desk.request(m.Next(new_id(), 5))
            await desk.request(m.Done(new_id(), 5))
            pending = (await state())[1]["counters"][0]["pending"]
            assert (pending["ticket"], pending["service"], pending["service_name"]) == (one, "POLRES-01", "SKCK Baru")
            await desk.request(m.Next(new_id(), 5))  # the next visitor: the last one has left
            assert (await state())[1]["counters"][0] == {"counter": 5, "name": "Loket 5", "serving": two,
                                                         "pending": None}
            await desk.request(m.Done(new_id(), 5))
            assert (await state())[1]["counters"][0]["pending"]["ticket"] == two
            await tablet.request(m.Rate(new_id(), 5, two, (4,)))
            assert (await state())[1]["counters"][0]["pending"] is None


def test_a_clock_set_back_over_midnight_still_gives_whole_days(tmp_path):
    """Days normally follow seq; if one comes back later (the hub's clock set back), the report reads
    day by day instead of splitting it."""
    from signage.hub.journal import Record

    config = load_config(write_config(tmp_path))
    late = OPEN + timedelta(days=1)
    events = [
        m.Issued(1, OPEN, "i1", "A-001", "DUKCAPIL-01", 1),
        m.Issued(2, late, "i2", "A-001", "DUKCAPIL-01", 1),  # the clock ran a day ahead …
        m.Called(3, OPEN + timedelta(minutes=9), "c1", 1, "A-001", "DUKCAPIL-01"),  # … and was set back
        m.Cleared(4, OPEN + timedelta(minutes=15), "d1", 1, "A-001", "done", "DUKCAPIL-01"),
    ]
    # Enough rows behind the set-back that the reading thread is still busy when the fold gives up on
    # the seq order: closing it must not hang.
    events += [m.Issued(5 + i, OPEN + timedelta(minutes=20, milliseconds=i), f"i{5 + i}", f"B-{i:05d}",
                        "DPMPTSP-01", i) for i in range(50_000)]
    journal = Journal(tmp_path / "journal.sqlite", "normal").open()
    journal.append([Record(e, "test", e.id, "{}") for e in events])
    journal.close()
    built = source.read_report(tmp_path / "journal.sqlite", config, DAY, "2026-12-01")
    assert [(d.day, d.issued, d.served, d.wait_p50) for d in built.days] == [
        (DAY, 50_001, 1, 9.0), ("2026-12-01", 1, 0, None)]
    with pytest.raises(report.DaysOutOfOrder):
        report.build(report.facts(events[:4])[0], [], config, DAY, "2026-12-01")


def test_a_range_folded_in_several_processes_is_the_same_report(tmp_path):
    """`signage report` cuts a long range into runs of whole days, one process each: nothing may change."""
    from signage.hub.journal import Record

    config = load_config(write_config(tmp_path))
    rng = random.Random(4)
    events: list[m.Event] = []
    for day in range(5):
        opening = OPEN + timedelta(days=day)
        for i in range(1, 31):
            service = rng.choice(("DUKCAPIL-01", "POLRES-01"))
            counter = 1 if service.startswith("DUKCAPIL") else 5
            ticket = f"{'A' if counter == 1 else 'E'}-{i:03d}"
            issued = opening + timedelta(minutes=i * 7)
            called = issued + timedelta(minutes=rng.randint(1, 40), seconds=rng.randint(0, 59))
            events += [m.Issued(0, issued, "", ticket, service, i), m.Called(0, called, "", counter, ticket, service),
                       m.Cleared(0, called + timedelta(minutes=rng.randint(2, 9)), "", counter, ticket,
                                 rng.choice(("done", "done", "no_show")), service)]
    events.sort(key=lambda e: e.at)
    events = [dataclasses.replace(e, seq=n, id=f"e{n}") for n, e in enumerate(events, start=1)]
    journal = Journal(tmp_path / "journal.sqlite", "normal").open()
    journal.append([Record(e, "test", e.id, "{}") for e in events])
    journal.close()
    last = (OPEN + timedelta(days=4)).date().isoformat()
    assert len(source._pieces(tmp_path / "journal.sqlite", DAY, last, 3, split_at=1)) == 3
    alone = source.read_report(tmp_path / "journal.sqlite", config, DAY, last)
    shared = source.read_report(tmp_path / "journal.sqlite", config, DAY, last, workers=3, split_at=1)
    assert report.to_document(shared) == report.to_document(alone)
    assert alone.hall.issued == 150 and len(alone.days) == 5
