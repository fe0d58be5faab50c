"""The content core: schedules (windows, weekdays, dates, midnight wrap), what plays next, the manifest wire form."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime, time, timedelta, timezone

import pytest

from signage.config import load_config
from signage.core import manifest as manifests, protocol
from signage.core.content import (DEFAULT_CONTENT, ManifestItem, Schedule, SlideDoc, SlideSection, duration,
                                  is_due, kind_of_file, pick)
from signage.core.manifest import FileFacts
from signage.errors import ProtocolError
from support import ROOT

WIB = timezone(timedelta(hours=7))
FRIDAY = date(2026, 11, 27)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=WIB)


# ---------------------------------------------------------------- schedules


class TestSchedule:
    def test_no_restriction_is_always_due(self):
        assert Schedule().is_due(at(FRIDAY, 3))

    def test_time_window_is_half_open(self):
        s = Schedule(window_from=time(8), window_until=time(12))
        assert not s.is_due(at(FRIDAY, 7, 59))
        assert s.is_due(at(FRIDAY, 8, 0)) and s.is_due(at(FRIDAY, 11, 59))
        assert not s.is_due(at(FRIDAY, 12, 0))

    def test_only_from_or_only_until(self):
        assert Schedule(window_from=time(13)).is_due(at(FRIDAY, 23, 59))
        assert not Schedule(window_from=time(13)).is_due(at(FRIDAY, 12, 59))
        assert Schedule(window_until=time(10)).is_due(at(FRIDAY, 0, 0))
        assert not Schedule(window_until=time(10)).is_due(at(FRIDAY, 10, 0))

    def test_window_wrapping_past_midnight(self):
        s = Schedule(window_from=time(22), window_until=time(2))
        assert s.wraps
        assert s.is_due(at(FRIDAY, 22, 0)) and s.is_due(at(FRIDAY, 23, 59))
        assert s.is_due(at(FRIDAY, 0, 0)) and s.is_due(at(FRIDAY, 1, 59))
        assert not s.is_due(at(FRIDAY, 2, 0)) and not s.is_due(at(FRIDAY, 12, 0))

    def test_after_midnight_belongs_to_the_day_the_window_opened(self):
        friday_night = Schedule(weekdays=frozenset({4}), window_from=time(22), window_until=time(2))
        saturday = FRIDAY + timedelta(days=1)
        assert friday_night.is_due(at(FRIDAY, 23))
        assert friday_night.is_due(at(saturday, 1))  # Saturday 01.00 is still Friday night
        assert not friday_night.is_due(at(FRIDAY, 1))  # Friday 01.00 is Thursday night
        assert not friday_night.is_due(at(saturday, 23))

    def test_date_range_is_inclusive_and_follows_the_wrapped_day(self):
        s = Schedule(start_date=date(2026, 12, 1), end_date=date(2026, 12, 31), window_from=time(20),
                     window_until=time(1))
        assert not s.is_due(at(date(2026, 11, 30), 21))
        assert s.is_due(at(date(2026, 12, 1), 21))
        assert s.is_due(at(date(2026, 12, 31), 23, 30))
        assert s.is_due(at(date(2027, 1, 1), 0, 30))  # New Year's Eve's window, after midnight
        assert not s.is_due(at(date(2027, 1, 1), 21))

    def test_weekdays(self):
        workdays = Schedule(weekdays=frozenset(range(5)))
        assert workdays.is_due(at(FRIDAY, 9))
        assert not workdays.is_due(at(FRIDAY + timedelta(days=1), 9))

    def test_the_hall_clock_is_what_counts(self):
        # 23.30 UTC on Thursday is 06.30 WIB on Friday: a Friday morning item is due.
        s = Schedule(weekdays=frozenset({4}), window_from=time(6), window_until=time(7))
        utc_thursday = datetime(2026, 11, 26, 23, 30, tzinfo=timezone.utc)
        assert s.is_due(utc_thursday.astimezone(WIB))


# ---------------------------------------------------------------- what plays next


def item(key: str, kind: str = "image", **kw) -> ManifestItem:
    if kind == "slide":
        return ManifestItem(key, kind, kw.pop("seconds", None), slide=SlideDoc("maklumat", key), **kw)
    return ManifestItem(key, kind, kw.pop("seconds", None), file=f"{key}.png", sha256="0" * 64, size=1, **kw)


class TestPick:
    def test_in_order_and_wrapping(self):
        items = [item("a"), item("b"), item("c")]
        now = at(FRIDAY, 9)
        assert pick(items, None, now, None) == 0
        assert pick(items, 0, now, None) == 1
        assert pick(items, 2, now, None) == 0

    def test_items_outside_their_window_are_skipped(self):
        items = [item("morning", schedule=Schedule(window_until=time(12))), item("always"),
                 item("night", schedule=Schedule(window_from=time(22), window_until=time(2)))]
        assert [pick(items, i, at(FRIDAY, 9), None) for i in (None, 0, 1)] == [0, 1, 0]
        assert [pick(items, i, at(FRIDAY, 23), None) for i in (None, 1, 2)] == [1, 2, 1]

    def test_zones_and_skips(self):
        items = [item("lobby", zones=("lantai-1",)), item("everywhere"), item("broken")]
        assert pick(items, None, at(FRIDAY, 9), "lantai-2") == 1
        assert pick(items, None, at(FRIDAY, 9), "lantai-1") == 0
        assert pick(items, 1, at(FRIDAY, 9), "lantai-2", skip={2}) == 1  # only itself is left

    def test_nothing_due_is_none(self):
        items = [item("weekend", schedule=Schedule(weekdays=frozenset({5, 6})))]
        assert pick(items, None, at(FRIDAY, 9), None) is None
        assert pick([], None, at(FRIDAY, 9), None) is None

    def test_durations(self):
        assert duration(item("a"), DEFAULT_CONTENT) == DEFAULT_CONTENT.image_seconds
        assert duration(item("s", "slide"), DEFAULT_CONTENT) == DEFAULT_CONTENT.slide_seconds
        assert duration(item("s", "slide", seconds=4), DEFAULT_CONTENT) == 4
        video = dataclasses.replace(item("v"), kind="video")
        assert duration(video, DEFAULT_CONTENT) is None  # plays to its end

    def test_is_due_combines_zone_and_schedule(self):
        i = item("x", zones=("a",), schedule=Schedule(window_from=time(8)))
        assert is_due(i, at(FRIDAY, 9), "a") and not is_due(i, at(FRIDAY, 9), "b")
        assert not is_due(i, at(FRIDAY, 7), "a")

    def test_kind_of_file(self):
        assert kind_of_file("Profil-MPP.MP4") == "video" and kind_of_file("a.webm") == "video"
        assert kind_of_file("jam.png") == "image" and kind_of_file("x.JPG") == "image"
        assert kind_of_file("notes.txt") is None


# ---------------------------------------------------------------- manifest


@pytest.fixture(scope="module")
def cfg():
    return load_config(ROOT / "config.yaml")


def with_playlist(cfg, *items):
    return dataclasses.replace(cfg, content=dataclasses.replace(cfg.content, playlist=tuple(items)))


class TestManifest:
    def test_the_shipped_playlist_builds_without_problems(self, cfg):
        built = manifests.build(cfg, {})
        assert built.problems == ()
        kinds = {i.slide.kind for i in built.manifest.items}
        assert kinds == {"standar-pelayanan", "maklumat", "jam-layanan"}
        assert built.manifest.fallback, "the generated slides ride along"
        # Disdukcapil has three documented services, two per slide: one item stands for two slides.
        assert [i.key for i in built.manifest.items[:2]] == ["playlist[0].1", "playlist[0].2"]

    def test_files_and_their_problems(self, cfg):
        from signage.core.content import PlaylistItem
        config = with_playlist(cfg, PlaylistItem("video", file="profil.mp4"), PlaylistItem("image", file="gone.png"),
                               PlaylistItem("slide", slide="standar-pelayanan", agency="PLN"))
        built = manifests.build(config, {"profil.mp4": FileFacts("a" * 64, 1234), "gone.png": "not found"})
        assert [(i.kind, i.sha256, i.size) for i in built.manifest.items] == [("video", "a" * 64, 1234)]
        assert built.problems == ("playlist[1] image gone.png: not found",
                                  "playlist[2] slide standar-pelayanan: no service of agency PLN has standar "
                                  "pelayanan fields (persyaratan, jangka_waktu, biaya, produk) in config")
        assert built.manifest.files() == {"a" * 64: 1234}

    def test_digest_changes_with_any_item_and_only_then(self, cfg):
        from signage.core.content import PlaylistItem
        one = manifests.build(with_playlist(cfg, PlaylistItem("image", file="a.png")), {"a.png": FileFacts("1" * 64, 5)})
        same = manifests.build(with_playlist(cfg, PlaylistItem("image", file="a.png")), {"a.png": FileFacts("1" * 64, 5)})
        other = manifests.build(with_playlist(cfg, PlaylistItem("image", file="a.png")), {"a.png": FileFacts("2" * 64, 5)})
        longer = manifests.build(with_playlist(cfg, PlaylistItem("image", file="a.png", seconds=20)),
                                 {"a.png": FileFacts("1" * 64, 5)})
        assert one.manifest.digest == same.manifest.digest
        assert len({one.manifest.digest, other.manifest.digest, longer.manifest.digest}) == 3

    def test_round_trip_through_the_codec(self, cfg):
        m = manifests.build(cfg, {}).manifest
        assert protocol.decode_manifest(protocol.encode_manifest(m)) == m

    def test_a_content_event_round_trips(self, cfg):
        from signage.core import messages as msg
        m = manifests.build(cfg, {}).manifest
        event = msg.ContentChanged(7, at(FRIDAY, 9), "content-1", m)
        assert protocol.parse_hub_frame(protocol.encode(event)) == event
        assert protocol.decode_event(protocol.encode_event(event)) == event

    def test_publish_is_never_accepted_from_a_client(self):
        with pytest.raises(ProtocolError, match="unknown message type 'publish'"):
            protocol.parse_client_frame(json.dumps({"type": "publish", "id": "x", "digest": "0" * 64}))


def tampered(m, edit) -> str:
    obj = json.loads(protocol.encode_manifest(m))
    edit(obj)
    return json.dumps(obj)


class TestHostileManifests:
    @pytest.fixture
    def m(self, cfg):
        from signage.core.content import PlaylistItem
        config = with_playlist(cfg, PlaylistItem("video", file="v.mp4"),
                               PlaylistItem("slide", slide="maklumat"))
        return manifests.build(config, {"v.mp4": FileFacts("b" * 64, 10)}).manifest

    @pytest.mark.parametrize("edit,message", [
        (lambda o: o["items"][0].update(sha256="abc"), "items[0].sha256: expected 64 hex digits, got 'abc'"),
        (lambda o: o["items"][0].update(size=-1), "items[0].size: expected an integer"),
        (lambda o: o["items"][0].update(kind="flash"), "items[0].kind: expected one of image, video, slide"),
        (lambda o: o["items"][0].update(file="a\x00b"), "items[0].file: holds a control character U+0000"),
        (lambda o: o["items"][1]["slide"].update(heading="\ud800"), "items[1].slide.heading: holds a lone surrogate"),
        (lambda o: o["items"][0].update(schedule={"from": "25:00"}), "items[0].schedule.from: expected a time"),
        (lambda o: o["items"][0].update(schedule={"weekdays": [9]}), "items[0].schedule.weekdays[0]: expected a"),
        (lambda o: o["items"][0].update(evil=True), "items[0].evil: unknown field"),
        (lambda o: o["items"][0].update(seconds=1e9), "items[0].seconds: expected a number of seconds"),
        (lambda o: o.update(items="all"), "manifest.items: expected a list"),
    ])
    def test_refused_with_the_field_named(self, m, edit, message):
        with pytest.raises(ProtocolError) as info:
            protocol.decode_manifest(tampered(m, edit))
        assert message in info.value.message

    def test_items_changed_behind_the_digest_are_refused(self, m):
        text = tampered(m, lambda o: o["items"][0].update(size=11))
        with pytest.raises(ProtocolError, match="does not match its items"):
            protocol.decode_manifest(text)

    def test_multiline_body_is_allowed_but_controls_are_not(self, m):
        ok = protocol.make_manifest([ManifestItem("k", "slide", None, slide=SlideDoc(
            "maklumat", "H", sections=(SlideSection(body="line one\nline two"),)))])
        assert protocol.decode_manifest(protocol.encode_manifest(ok)) == ok
        with pytest.raises(ProtocolError, match=r"control character U\+001B"):
            protocol.decode_manifest(tampered(ok, lambda o: o["items"][0]["slide"]["sections"][0].update(
                body="x\x1b[31m")))


# ---------------------------------------------------------------- who may publish


def test_only_the_hub_role_publishes_and_it_sends_nothing_else():
    from signage.config import Token
    from signage.core import messages as m
    from signage.core.rules import HUB_ROLE, HubState, decide
    from signage.errors import CommandRejected

    config = load_config(ROOT / "config.yaml")
    manifest = manifests.build(config, {}).manifest
    hub, operator = Token("hub", HUB_ROLE, "h" * 32), Token("supervisor", "operator", "o" * 32)
    now = at(FRIDAY, 9)
    event = decide(HubState(), m.Publish("p-1", manifest), hub, config, now, 1)
    assert isinstance(event, m.ContentChanged) and event.manifest == manifest and event.seq == 1
    with pytest.raises(CommandRejected) as refused:
        decide(HubState(), m.Publish("p-2", manifest), operator, config, now, 1)
    assert refused.value.code == "forbidden"
    with pytest.raises(CommandRejected):
        decide(HubState(), m.Call("c-1", 1, "A-001"), hub, config, now, 1)
