"""A day's Partial as plain data (what the report cache keeps), pure: the same report back, and
nothing but ValueError from an entry that was tampered with."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from signage.core import messages as m, protocol, report
from support import hall_config
from unit.test_report import OPEN, Log, a_morning

FIRST, LAST = "2026-11-30", "2026-12-04"


@pytest.fixture(scope="module")
def cfg(tmp_path_factory):
    return hall_config(tmp_path_factory.mktemp("cfg"))


def a_week() -> list[m.Event]:
    """Five days: the worked morning, then random days with transfers, no-shows, recalls, an
    outside call, an unknown counter and service, ratings and comments."""
    rng = random.Random(7)
    events = list(a_morning().events)
    for offset in range(1, 5):
        log = Log(OPEN + timedelta(days=offset))
        for i in range(1, 25):
            ticket, service = f"A-{i:03d}", rng.choice(("DUKCAPIL-01", "DUKCAPIL-02", "DPMPTSP-01"))
            minute = 8 * 60 + i * 9
            hh = lambda extra: f"{(minute + extra) // 60:02d}:{(minute + extra) % 60:02d}"  # noqa: E731
            log.issue(hh(0), ticket, service)
            counter = rng.choice((1, 2, 99))  # 99: not in config
            log.call(hh(rng.randint(1, 20)), counter, ticket, service)
            outcome = rng.choice(("done", "done", "no_show", "transfer"))
            if outcome == "transfer":
                log.clear(hh(25), counter, ticket, "transfer", service, "NOT-IN-CONFIG")
                log.call(hh(30), 1, ticket, "NOT-IN-CONFIG")
                log.clear(hh(33), 1, ticket, "done", "NOT-IN-CONFIG")
            else:
                log.clear(hh(25), counter, ticket, outcome, service)
            if outcome == "done" and rng.random() < 0.5:
                scores = tuple(rng.choice((2, 3, 4)) for _ in range(rng.choice((1, 9))))
                log.rate(hh(26), counter, ticket, service, scores, rng.choice(("", "Cepat", "=1+1\nbaris")))
        log.call("15:00", 2, "X-900")  # from an outside queue system
        log.clear("15:05", 2, "X-900", "done")
        base = len(events)
        events += [e.__class__(**{**e.__dict__, "seq": e.seq + base}) for e in log.events]
    return events


def per_day(events, cfg) -> list[report.Partial]:
    queue, ratings = report.facts(events)
    days = report.fold_days(queue, cfg, FIRST, LAST)
    for part in days:
        day = part.days[0].day
        part.merge(report.fold_ratings([r for r in ratings if r.at.date().isoformat() == day], FIRST, LAST))
    return days


def test_days_folded_one_by_one_give_the_same_report(cfg):
    events = a_week()
    queue, ratings = report.facts(events)
    whole = report.to_document(report.build(queue, ratings, cfg, FIRST, LAST))
    parts = per_day(events, cfg)
    assert [p.days[0].day for p in parts] == ["2026-11-30", "2026-12-01", "2026-12-02", "2026-12-03", "2026-12-04"]
    assert report.to_document(report.combine(parts, [], cfg, FIRST, LAST)) == whole
    assert report.to_document(report.combine(parts[::-1], [], cfg, FIRST, LAST)) == whole  # any order


def test_plain_round_trip_through_the_codec_gives_the_same_report(cfg):
    events = a_week()
    queue, ratings = report.facts(events)
    whole = report.to_document(report.build(queue, ratings, cfg, FIRST, LAST))
    packed = [report.partial_from_plain(*protocol.decode_folded(protocol.encode_folded(*report.partial_to_plain(p)),
                                                                1 << 20)) for p in per_day(events, cfg)]
    assert report.to_document(report.combine(packed, [], cfg, FIRST, LAST)) == whole
    mixed = [packed[0], *(p.unpack() for p in packed[1:3]), *packed[3:]]  # Packed and Partial merge alike
    assert report.to_document(report.combine(mixed, [], cfg, FIRST, LAST)) == whole
    again = [report.partial_to_plain(p.unpack()) for p in packed]
    assert again == [report.partial_to_plain(p) for p in per_day(events, cfg)]


def test_a_day_twice_is_refused(cfg):
    parts = per_day(a_week(), cfg)
    with pytest.raises(ValueError, match="overlap on 2026-12-01"):
        report.combine([parts[1], parts[2], parts[1]], [], cfg, FIRST, LAST)


def test_fold_inputs_change_with_the_counters_a_service_has(cfg, tmp_path):
    import dataclasses

    other = dataclasses.replace(cfg, services=(dataclasses.replace(cfg.services[0], counters=(7,)),
                                               *cfg.services[1:]))
    assert report.fold_inputs(cfg) == report.fold_inputs(cfg) != report.fold_inputs(other)


# ---------------------------------------------------------------- a tampered entry: ValueError, always


@pytest.fixture(scope="module")
def entry(cfg) -> tuple[dict, list[int]]:
    part = per_day(a_week(), cfg)[1]
    assert part.comments and part.surveys and part.idle
    return report.partial_to_plain(part)


def refused(head, ints) -> None:
    with pytest.raises(ValueError):
        report.partial_from_plain(head, ints)


def test_every_cut_or_extension_of_the_numbers_is_refused(entry):
    head, ints = entry
    report.partial_from_plain(head, ints)
    for n in range(len(ints)):
        refused(head, ints[:n])
    refused(head, ints + [0])
    refused(head, ints + [0] * 29)


def test_bad_values_in_the_numbers_are_refused(entry):
    head, ints = entry
    refused(head, [-1, *ints[1:]])  # events
    refused(head, [ints[0], -1, *ints[2:]])  # a count
    refused(head, [ints[0], ints[1], ints[2], ints[3], ints[4], ints[5], ints[6] + 1, *ints[7:]])  # a length
    refused(head, [str(ints[0]), *ints[1:]])
    refused(head, tuple(ints))


@pytest.mark.parametrize("change", [
    lambda h: h.pop("comments"),
    lambda h: h.update(extra=1),
    lambda h: h.update(v=2),
    lambda h: h.update(v=True),
    lambda h: h.update(services=h["services"] + h["services"][:1]),  # a code twice
    lambda h: h.update(services=h["services"][1:]),  # one tally fewer than the numbers
    lambda h: h.update(services=[7] + h["services"][1:]),
    lambda h: h.update(services=["A\x00B"] + h["services"][1:]),
    lambda h: h.update(services=["x" * 201] + h["services"][1:]),
    lambda h: h.update(counters=[-1] + h["counters"][1:]),
    lambda h: h.update(counters=[True] + h["counters"][1:]),
    lambda h: h.update(days=[["2026-02-30", 1.0, 2.0]]),
    lambda h: h.update(days=[["2026-12-1", 1.0, 2.0]]),
    lambda h: h.update(days=[[h["days"][0][0], float("nan"), 2.0]]),
    lambda h: h.update(days=[[h["days"][0][0], 1, 2.0]]),
    lambda h: h.update(days=[]),
    lambda h: h.update(comments=[["2026-12-01T09:00:00", 1, "A-001", None, "full", "x"]]),  # naive time
    lambda h: h.update(comments=[["2026-12-01T09:00:00+07:00", 1, "A-001", None, "long", "x"]]),
    lambda h: h.update(comments=[["2026-12-01T09:00:00+07:00", 1, "A-001", None, "full", "\x1b[2J"]]),
    lambda h: h.update(comments=[["2026-12-01T09:00:00+07:00", 1, "A-001", None, "full", ""]]),
    lambda h: h.update(comments=[["2026-12-01T09:00:00+07:00", 1, "A-001", None, "full"]]),
    lambda h: h.update(comments={}),
], ids=range(22))
def test_a_changed_head_is_refused(entry, change):
    head, ints = entry
    changed = {k: list(v) if isinstance(v, list) else v for k, v in head.items()}
    change(changed)
    refused(changed, ints)


def test_the_codec_refuses_what_is_not_an_entry(entry):
    import zlib

    head, ints = entry
    good = protocol.encode_folded(head, ints)
    assert protocol.decode_folded(good, len(good)) == (head, ints)

    def sealed(rest: bytes) -> bytes:  # a well-formed frame around `rest`: past the checksum
        return b"SGF1" + zlib.crc32(rest).to_bytes(4, "little") + rest

    flipped = bytearray(good)
    flipped[len(good) // 2] ^= 0x10  # one bit of a sample, say: only the checksum can tell
    bad = [
        bytes(flipped),
        good[:-1],
        good[:11],
        b"SGF2" + good[4:],
        sealed(good[8:-1]),  # not whole int64s
        sealed((10 ** 6).to_bytes(4, "little") + good[12:]),  # a head longer than the entry
        *(sealed(len(head_text).to_bytes(4, "little") + head_text) for head_text in (
            b"\xff\xfe\xfd", b"NaN", b'{"v":1, "v":1 }', b"[" * 100_000 + b"]" * 100_000)),
        "SGF1",
    ]
    for data in bad:
        with pytest.raises(ValueError):
            protocol.decode_folded(data, 1 << 20)
    with pytest.raises(ValueError):
        protocol.decode_folded(good, len(good) - 1)  # over the cap
