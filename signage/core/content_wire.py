"""A Manifest as plain data (dicts, lists, strings, numbers) and back. Pure; no JSON here.

signage.core.protocol turns the plain data into JSON text (the only JSON in the project)
and back. Reading is strict, because a manifest arrives from the network: every field is
checked, every string passes the text rule, and an error names the field and the value:

    ValueError: items[2].sha256: expected 64 hex digits, got 'abc'
"""

from __future__ import annotations

import re
from datetime import date, time
from typing import Any

from signage.core import text as text_rule
from signage.core.content import KINDS, SLIDE_KINDS, Manifest, ManifestItem, Schedule, SlideDoc, SlideSection

SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_ITEMS = 1000
MAX_TEXT = 4000
MAX_FILE_BYTES = 1 << 40


# ---------------------------------------------------------------- to plain data


def manifest_items_to_wire(items: tuple[ManifestItem, ...]) -> list[dict]:
    return [_item(i) for i in items]


def manifest_to_wire(manifest: Manifest) -> dict:
    return {"digest": manifest.digest, "items": manifest_items_to_wire(manifest.items),
            "fallback": manifest_items_to_wire(manifest.fallback)}


def digest_body(items: tuple[ManifestItem, ...], fallback: tuple[ManifestItem, ...]) -> dict:
    """What the digest is computed over: everything but the digest itself."""
    return {"items": manifest_items_to_wire(items), "fallback": manifest_items_to_wire(fallback)}


def _item(i: ManifestItem) -> dict:
    out: dict[str, Any] = {"key": i.key, "kind": i.kind}
    if i.seconds is not None:
        out["seconds"] = i.seconds
    schedule = _schedule(i.schedule)
    if schedule:
        out["schedule"] = schedule
    if i.zones is not None:
        out["zones"] = list(i.zones)
    if i.file is not None:
        out.update(file=i.file, sha256=i.sha256, size=i.size)
    if i.slide is not None:
        out["slide"] = _slide(i.slide)
    return out


def _schedule(s: Schedule) -> dict:
    out: dict[str, Any] = {}
    if s.start_date is not None:
        out["start_date"] = s.start_date.isoformat()
    if s.end_date is not None:
        out["end_date"] = s.end_date.isoformat()
    if s.weekdays is not None:
        out["weekdays"] = sorted(s.weekdays)
    if s.window_from is not None:
        out["from"] = s.window_from.isoformat()
    if s.window_until is not None:
        out["until"] = s.window_until.isoformat()
    return out


def _slide(d: SlideDoc) -> dict:
    return {"kind": d.kind, "heading": d.heading, "subheading": d.subheading, "footer": d.footer,
            "sections": [{"title": s.title, "rows": [list(r) for r in s.rows], "bullets": list(s.bullets),
                          "bullets_title": s.bullets_title, "body": s.body} for s in d.sections]}


# ---------------------------------------------------------------- from plain data (strict)


def manifest_from_wire(obj: Any) -> tuple[str, tuple[ManifestItem, ...], tuple[ManifestItem, ...]]:
    """(digest, items, fallback) from plain data. Raises ValueError naming the bad field."""
    r = _Reader(obj, "manifest", {"digest", "items", "fallback"})
    digest = r.text("digest", pattern=SHA256, expected="64 hex digits")
    items = tuple(_read_item(x, f"items[{k}]") for k, x in enumerate(r.list("items", MAX_ITEMS)))
    fallback = tuple(_read_item(x, f"fallback[{k}]") for k, x in enumerate(r.list("fallback", MAX_ITEMS,
                                                                                   required=False)))
    return digest, items, fallback


def _read_item(obj: Any, where: str) -> ManifestItem:
    r = _Reader(obj, where, {"key", "kind", "seconds", "schedule", "zones", "file", "sha256", "size", "slide"})
    kind = r.choice("kind", KINDS)
    seconds = r.number("seconds", 0, 3600, required=False)
    schedule = _read_schedule(r.get("schedule"), f"{where}.schedule") if r.get("schedule") is not None else Schedule()
    zones = r.list("zones", 100, required=False, item=lambda v, w: _text(v, w, 40))
    file = sha = size = slide = None
    if kind in ("image", "video"):
        file = r.text("file")
        sha = r.text("sha256", pattern=SHA256, expected="64 hex digits")
        size = r.integer("size", 0, MAX_FILE_BYTES)
    else:
        slide = _read_slide(r.get("slide"), f"{where}.slide")
    return ManifestItem(r.text("key", limit=80), kind, seconds, schedule, tuple(zones) if zones else None, file,
                        sha, size, slide)


def _read_schedule(obj: Any, where: str) -> Schedule:
    r = _Reader(obj, where, {"start_date", "end_date", "weekdays", "from", "until"})
    days = r.list("weekdays", 7, required=False, item=_weekday)
    return Schedule(r.date("start_date"), r.date("end_date"), frozenset(days) if days else None,
                    r.time("from"), r.time("until"))


def _read_slide(obj: Any, where: str) -> SlideDoc:
    r = _Reader(obj, where, {"kind", "heading", "subheading", "footer", "sections"})
    sections = tuple(_read_section(x, f"{where}.sections[{k}]") for k, x in enumerate(r.list("sections", 20)))
    return SlideDoc(r.choice("kind", SLIDE_KINDS), r.text("heading", limit=200),
                    r.text("subheading", limit=400, empty=True), sections,
                    r.text("footer", limit=MAX_TEXT, empty=True, multiline=True))


def _read_section(obj: Any, where: str) -> SlideSection:
    r = _Reader(obj, where, {"title", "rows", "bullets", "bullets_title", "body"})
    rows = r.list("rows", 40, item=_row)
    bullets = r.list("bullets", 40, item=lambda v, w: _text(v, w, MAX_TEXT))
    return SlideSection(r.text("title", limit=400, empty=True), tuple(rows), tuple(bullets),
                        r.text("bullets_title", limit=200, empty=True),
                        r.text("body", limit=MAX_TEXT, empty=True, multiline=True))


def _row(value: Any, where: str) -> tuple[str, str]:
    if not isinstance(value, list) or len(value) != 2:
        raise ValueError(f"{where}: expected [label, value], got {_show(value)}")
    return (_text(value[0], f"{where}[0]", 400, empty=True), _text(value[1], f"{where}[1]", MAX_TEXT))


def _weekday(value: Any, where: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 6:
        return value
    raise ValueError(f"{where}: expected a weekday 0-6, got {_show(value)}")


def _text(value: Any, where: str, limit: int, *, empty: bool = False, multiline: bool = False) -> str:
    if not isinstance(value, str) or (not empty and not value.strip()):
        raise ValueError(f"{where}: expected a {'' if empty else 'non-empty '}string, got {_show(value)}")
    if len(value) > limit:
        raise ValueError(f"{where}: longer than {limit} characters ({len(value)})")
    problem = text_rule.problem(value, multiline=multiline)
    if problem:
        raise ValueError(f"{where}: {problem}")
    return value


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class _Reader:
    def __init__(self, obj: Any, where: str, allowed: set[str]):
        if not isinstance(obj, dict):
            raise ValueError(f"{where}: expected an object, got {_show(obj)}")
        extra = sorted(k for k in obj if k not in allowed)
        if extra:
            raise ValueError(f"{where}.{extra[0]}: unknown field")
        self.obj, self.where = obj, where

    def get(self, key: str) -> Any:
        return self.obj.get(key)

    def _at(self, key: str) -> str:
        return f"{self.where}.{key}"

    def text(self, key: str, *, limit: int = 400, empty: bool = False, multiline: bool = False,
             pattern: re.Pattern | None = None, expected: str = "") -> str:
        value = self.obj.get(key)
        if value is None and empty:
            return ""
        if pattern is not None:
            if not isinstance(value, str) or not pattern.fullmatch(value):
                raise ValueError(f"{self._at(key)}: expected {expected}, got {_show(value)}")
            return value
        return _text(value, self._at(key), limit, empty=empty, multiline=multiline)

    def choice(self, key: str, options: tuple[str, ...]) -> str:
        value = self.obj.get(key)
        if value not in options:
            raise ValueError(f"{self._at(key)}: expected one of {', '.join(options)}, got {_show(value)}")
        return value

    def number(self, key: str, lo: float, hi: float, *, required: bool = True) -> float | None:
        value = self.obj.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not lo < value <= hi:
            raise ValueError(f"{self._at(key)}: expected a number of seconds in ({lo:g}, {hi:g}], got {_show(value)}")
        return float(value)

    def integer(self, key: str, lo: int, hi: int) -> int:
        value = self.obj.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
            raise ValueError(f"{self._at(key)}: expected an integer {lo}-{hi}, got {_show(value)}")
        return value

    def list(self, key: str, limit: int, *, required: bool = True, item=None) -> list:
        value = self.obj.get(key)
        if value is None and not required:
            return []
        if not isinstance(value, list):
            raise ValueError(f"{self._at(key)}: expected a list, got {_show(value)}")
        if len(value) > limit:
            raise ValueError(f"{self._at(key)}: more than {limit} entries ({len(value)})")
        return [item(v, f"{self._at(key)}[{k}]") for k, v in enumerate(value)] if item else value

    def date(self, key: str) -> date | None:
        value = self.obj.get(key)
        if value is None:
            return None
        try:
            return date.fromisoformat(value)
        except (TypeError, ValueError):
            raise ValueError(f"{self._at(key)}: expected a date such as 2026-12-01, got {_show(value)}") from None

    def time(self, key: str) -> time | None:
        value = self.obj.get(key)
        if value is None:
            return None
        try:
            parsed = time.fromisoformat(value)
        except (TypeError, ValueError):
            raise ValueError(f"{self._at(key)}: expected a time such as 07:30:00, got {_show(value)}") from None
        if parsed.tzinfo is not None:
            raise ValueError(f"{self._at(key)}: expected a local time without offset, got {_show(value)}")
        return parsed
