"""Protocol v1 codec: JSON text frames ↔ the dataclasses in `messages`.

The only module that touches raw JSON (the journal stores events through it
too). Parsing is strict and every refusal names the field and the value, so a
third-party integrator can fix their client from the error alone:

    >>> parse_client_frame('{"type":"call","id":"c1","counter":"5","ticket":"A-023"}')
    Traceback (most recent call last):
    signage.errors.ProtocolError: bad_message: counter: expected a positive integer, got '5'
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import sys
import zlib
from array import array
from dataclasses import fields, replace
from datetime import datetime
from typing import Any

from signage.core import content_wire, messages as m, text
from signage.core.content import Manifest
from signage.core.tickets import PATTERN as TICKET, normalize as normalize_ticket
from signage.errors import ProtocolError

MAX_ID = 64
MAX_TICKER = 500
MAX_CLIENT = 64
MAX_COMMENT = 500  # a survey comment: a few sentences, not an essay
SURVEY_FORMS = {9: "full", 1: "short"}  # number of scores → survey form (see core/survey.py)
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_DEPTH = 8  # objects/arrays nested deeper than this are refused (our frames need 3)
MAX_INT_DIGITS = 15  # beyond ±10^15 no field of ours makes sense, and JS loses precision at 2^53
# Top-level string fields the text rule reads as long text (newlines and tabs allowed): a visitor's comment.
LONG_TEXT_FIELDS = frozenset({"comment"})

_COMMANDS: dict[str, type] = {
    "call": m.Call,
    "recall": m.Recall,
    "clear": m.Clear,
    "ticker": m.Ticker,
    "issue": m.Issue,
    "next": m.Next,
    "skip": m.Skip,
    "done": m.Done,
    "transfer": m.Transfer,
    "rate": m.Rate,
    "printed": m.Printed,
    "print_failed": m.PrintFailed,
    "reprint": m.Reprint,
}
_EVENTS: dict[str, type] = {
    "called": m.Called,
    "recalled": m.Recalled,
    "cleared": m.Cleared,
    "ticker": m.TickerSet,
    "issued": m.Issued,
    "content": m.ContentChanged,
    "rated": m.Rated,
}
# Voice messages (docs/voice.md): client → hub, and hub → client notices outside the seq stream.
_VOICE: dict[str, type] = {"beat": m.Beat, "spoken": m.Spoken, "skipped": m.Skipped, "speaking": m.Speaking}
_VOICE_NOTICES: dict[str, type] = {"voice": m.Voice, "receipt": m.Receipt, "voice_queue": m.VoiceQueue,
                                   "speaking": m.SpeakingState}
_NOTICES: dict[str, type] = {"print": m.PrintJob, "print_status": m.PrintStatus, "ticket_status": m.TicketStatus,
                             "estimates": m.Estimates}
# "ticker" names both a command and its event, so map classes from each table separately.
_TYPE_OF: dict[type, str] = {cls: name for table in (_COMMANDS, _EVENTS, _VOICE, _VOICE_NOTICES, _NOTICES)
                             for name, cls in table.items()}
_TYPE_OF.update({m.Hello: "hello", m.Welcome: "welcome", m.Ack: "ack", m.Error: "error",
                 m.Publish: "publish"})  # publish: internal to the hub, never parsed from a client
MAX_ZONE = 40
# Fleet messages: answered outside the journal (signage.core.fleet, signage.hub.fleet).
_FLEET: dict[str, type] = {"heartbeat": m.Heartbeat, "act": m.Act, "action_reply": m.ActionReply}
_TYPE_OF.update({cls: name for name, cls in _FLEET.items()})
_TYPE_OF.update({m.ActionRequest: "action", m.ActionResult: "action_result"})
FLEET_MESSAGES = tuple(_FLEET.values())

COMMAND_TYPES = tuple(_COMMANDS)
EVENT_TYPE_NAMES = tuple(_EVENTS)


def type_name(message: Any) -> str:
    return _TYPE_OF[type(message)]


# ---------------------------------------------------------------- client → hub


def parse_client_frame(frame: str | bytes,
                       max_bytes: int = 1 << 20) -> m.Hello | m.Command | m.VoiceMessage | m.Heartbeat:
    """Parse one frame sent by a client. Raises ProtocolError with a code.

    Hostile until checked: besides the shape of each message, a frame is refused
    if it has a BOM, duplicate keys, NaN/Infinity, nesting deeper than MAX_DEPTH,
    an integer of more than MAX_INT_DIGITS digits, or any string (key or value,
    extensions included) that breaks the text rule (signage.core.text).
    """
    size = len(frame.encode("utf-8", "surrogatepass")) if isinstance(frame, str) else len(frame)
    if size > max_bytes:
        raise ProtocolError("too_large", f"frame is {size} bytes, the limit is {max_bytes}")
    if isinstance(frame, bytes):
        raise ProtocolError("bad_message", "binary frames are not accepted; send JSON as a text frame")
    obj = loads_strict(frame)
    if not isinstance(obj, dict):
        raise ProtocolError("bad_message", f"expected a JSON object, got {_json_kind(obj)}")
    raw_id = obj.get("id")
    msg_id = raw_id if isinstance(raw_id, str) and 0 < len(raw_id) <= MAX_ID and text.problem(raw_id) is None else None
    try:
        check_tree(obj)
        kind = obj.get("type")
        if kind == "hello":
            return _hello(obj)
        if isinstance(kind, str) and kind in _VOICE:
            return _voice_message(_VOICE[kind], obj)
        if isinstance(kind, str) and kind in _FLEET:
            return _fleet(_FLEET[kind], obj)
        cls = _COMMANDS.get(kind) if isinstance(kind, str) else None
        if cls is None:
            known = ", ".join(("hello",) + COMMAND_TYPES + tuple(_VOICE) + tuple(_FLEET))
            if kind is None:
                raise ProtocolError("bad_message", f"type: missing (expected one of {known})")
            raise ProtocolError("bad_message", f"type: unknown message type {_show(kind)} (expected one of {known})")
        return _command(cls, obj)
    except ProtocolError as exc:
        raise ProtocolError(exc.code, exc.message, id=msg_id) from None


def loads_strict(frame: str) -> Any:
    """json.loads that refuses what a lenient parser lets through. Raises ProtocolError."""
    if frame.startswith("\ufeff"):
        raise ProtocolError("bad_message", "frame starts with a byte order mark (U+FEFF); send plain JSON")
    # Depth is checked before parsing: json's own limit depends on how deep the caller's stack already is.
    depth = 0
    for bracket in _BRACKETS.findall(_STRINGS.sub("", frame)):
        depth += 1 if bracket in "[{" else -1
        if depth > MAX_DEPTH:
            raise ProtocolError("bad_message", f"nested deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(frame, object_pairs_hook=_no_duplicates, parse_constant=_no_constant,
                          parse_int=_bounded_int, parse_float=_finite_float)
    except ProtocolError:
        raise
    except RecursionError:
        raise ProtocolError("bad_message", f"nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:
        raise ProtocolError("bad_message", f"not valid JSON: {text.for_log(str(exc))}") from None


_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(r"[\[\]{}]")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise ProtocolError("bad_message", f"{text.for_log(key, 60)}: duplicate key")
        out[key] = value
    return out


class _OutOfRange:
    """A number the frame may not hold (NaN, Infinity, too many digits), kept until its field is known."""

    def __init__(self, why: str):
        self.why = why


def _no_constant(name: str) -> Any:
    return _OutOfRange(f"{name} is not a number JSON allows")


def _bounded_int(digits: str) -> int | _OutOfRange:
    count = len(digits.lstrip("-"))
    if count > MAX_INT_DIGITS:
        return _OutOfRange(f"integer with {count} digits is out of range (at most {MAX_INT_DIGITS})")
    return int(digits)


def _finite_float(digits: str) -> float | _OutOfRange:
    value = float(digits)
    if not math.isfinite(value):
        return _OutOfRange(f"number {digits[:40]} is out of range")
    return value


def check_tree(obj: Any) -> None:
    """Depth and the text rule over every key and string of a decoded frame (long text for LONG_TEXT_FIELDS).

    Errors name the path, e.g. `x-meta.notes[2]: holds a lone surrogate U+D800 at index 0`.
    """
    stack: list[tuple[Any, str, int]] = [(obj, "", 1)]
    while stack:
        node, path, depth = stack.pop()
        if isinstance(node, dict):
            if depth > MAX_DEPTH:
                raise ProtocolError("bad_message", f"{path or 'frame'}: nested deeper than {MAX_DEPTH} levels")
            children = []
            for key, value in node.items():
                where = f"{path}.{key}" if path else key
                if (why := text.problem(key)) is not None:
                    raise ProtocolError("bad_message", f"{text.for_log(where, 60)}: field name {why}")
                children.append((value, where, depth + 1))
            stack.extend(reversed(children))  # in document order: the first bad field is the one named
        elif isinstance(node, list):
            if depth > MAX_DEPTH:
                raise ProtocolError("bad_message", f"{path or 'frame'}: nested deeper than {MAX_DEPTH} levels")
            stack.extend(reversed([(value, f"{path}[{i}]", depth + 1) for i, value in enumerate(node)]))
        elif isinstance(node, str) and (why := text.problem(node, multiline=path in LONG_TEXT_FIELDS)) is not None:
            raise ProtocolError("bad_message", f"{text.for_log(path, 60)}: {why}")
        elif isinstance(node, _OutOfRange):
            raise ProtocolError("bad_message", f"{text.for_log(path, 60) or 'frame'}: {node.why}")


def _json_kind(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", int: "number",
            float: "number", type(None): "null"}.get(type(value), "number out of range")


def _hello(obj: dict) -> m.Hello:
    r = _Fields(obj, {"type", "role", "token", "client", "since", "subscribe", "announce", "zones"})
    role = r.choice("role", ("display", "operator", "kiosk", "printer", "ticket", "survey", "admin"))
    token = r.text("token", 256)
    client = r.text("client", MAX_CLIENT, default="anonymous")
    since = r.seq("since")
    subscribe = r.boolean("subscribe", default=None)
    announce = r.boolean("announce", default=False)
    zones = r.names("zones", MAX_ZONE)
    return m.Hello(role, token, client, since, subscribe, announce, zones)


def _voice_message(cls: type, obj: dict) -> m.VoiceMessage:
    r = _Fields(obj, {"type", *(f.name for f in fields(cls))})
    if cls is m.Beat:
        return m.Beat(r.text("id", MAX_ID))
    if cls is m.Speaking:
        return m.Speaking(r.text("zone", MAX_ZONE), bool(r.boolean("speaking", default=_REQUIRED)))
    values = {"id": r.text("id", MAX_ID), "seq": r.positive_seq("seq"), "zone": r.text("zone", MAX_ZONE),
              "epoch": r.positive_seq("epoch")}
    if cls is m.Skipped:
        values["reason"] = r.choice("reason", m.SKIP_REASONS)
    return cls(**values)


def _command(cls: type, obj: dict) -> m.Command:
    names = [f.name for f in fields(cls)]
    r = _Fields(obj, {"type", *names})
    values: dict[str, Any] = {"id": r.text("id", MAX_ID)}
    if "counter" in names:
        values["counter"] = r.positive_int("counter")
    if cls is m.Call:
        values["ticket"] = r.ticket("ticket")
    elif cls is m.Recall:
        values["ticket"] = r.ticket("ticket", required=False)
    elif cls is m.Ticker:
        values["text"] = r.text("text", MAX_TICKER, allow_empty=True)
    elif cls is m.Issue:
        values["service"] = r.text("service", 40)
        values["priority"] = r.boolean("priority", default=False)
        values["phone"] = r.phone("phone")
    elif cls in (m.Printed, m.Reprint):
        values["ticket"] = r.ticket("ticket")
    elif cls is m.PrintFailed:
        values["ticket"] = r.ticket("ticket")
        values["reason"] = r.choice("reason", m.PRINT_FAILURES)
    elif cls is m.Transfer:
        values["service"] = r.text("service", 40)
    elif cls is m.Rate:
        values["ticket"] = r.ticket("ticket")
        values["scores"] = r.scores("scores")
        values["comment"] = r.comment("comment")
        values["day"] = r.day("day")
    return cls(**values)


MAX_WARNINGS = 5  # a heartbeat carries at most this many recent warnings
MAX_WARNING = 200
MAX_BYTES_FIELD = 1 << 50  # RSS, disk, cache: anything larger is nonsense


def _fleet(cls: type, obj: dict):
    names = [f.name for f in fields(cls)]
    r = _Fields(obj, {"type", *names})
    if cls is m.Act:
        return m.Act(r.text("id", MAX_ID), r.choice("action", m.ACTIONS), r.text("name", MAX_CLIENT))
    if cls is m.ActionReply:
        return m.ActionReply(r.text("id", MAX_ID), r.boolean("ok", default=True),
                             r.text("detail", MAX_WARNING, default="", allow_empty=True))
    resolution = r._get("resolution", None)
    if resolution is not None and not (isinstance(resolution, list) and len(resolution) == 2 and all(
            isinstance(v, int) and not isinstance(v, bool) and 0 < v <= 16384 for v in resolution)):
        raise ProtocolError("bad_message", f"resolution: expected [width, height] in pixels, got {_show(resolution)}")
    clock = r._get("clock", None)
    if clock is not None:
        try:
            clock = _parse_time(clock) if isinstance(clock, str) and len(clock) <= 40 else None
        except ValueError:
            clock = None
        if clock is None:
            raise ProtocolError("bad_message", f"clock: expected an ISO time with offset, got {_show(obj['clock'])}")
    return m.Heartbeat(
        name=r.text("name", MAX_CLIENT), version=r.text("version", 40),
        uptime_s=r.number("uptime_s", 1e9), fps=r.number("fps", 1000), seq=r.seq("seq") or 0,
        cpu_percent=r.number("cpu_percent", 10000), rss_bytes=int(r.number("rss_bytes", MAX_BYTES_FIELD)),
        disk_free_bytes=int(r.number("disk_free_bytes", MAX_BYTES_FIELD)),
        audio=r.choice("audio", m.AUDIO_STATES), audio_reason=r.text("audio_reason", MAX_WARNING, default="",
                                                                      allow_empty=True),
        zone=r.optional_text("zone", MAX_CLIENT), layout=r.optional_text("layout", MAX_CLIENT),
        resolution=tuple(resolution) if resolution else None,
        rtt_ms=r.number("rtt_ms", 1e6, required=False), clock=clock,
        voice_lease=r.optional_text("voice_lease", MAX_CLIENT),
        content_version=r.optional_text("content_version", MAX_CLIENT),
        cache_bytes=int(r.number("cache_bytes", MAX_BYTES_FIELD, required=False) or 0),
        broken=r.texts("broken", MAX_WARNINGS, MAX_WARNING),
        warnings=int(r.number("warnings", 1e12, required=False) or 0),
        last_warnings=r.texts("last_warnings", MAX_WARNINGS, MAX_WARNING),
        printer=r.choice("printer", m.PRINTER_STATES) if r._get("printer", None) is not None else None,
        printer_device=r.optional_text("printer_device", MAX_WARNING),
        printed=int(r.number("printed", 1e12, required=False) or 0),
        print_failures=int(r.number("print_failures", 1e12, required=False) or 0),
    )


class _Fields:
    """Reads typed fields from a decoded object; errors name the field and value."""

    def __init__(self, obj: dict, allowed: set[str]):
        self.obj = obj
        extra = sorted(k for k in obj if k not in allowed and not k.startswith("x-"))
        if extra:
            raise ProtocolError(
                "bad_message",
                f"{extra[0]}: unknown field for type {obj.get('type')!r} "
                f"(allowed: {', '.join(sorted(allowed - {'type'}))}; extensions start with 'x-')",
            )

    def _get(self, key: str, default: Any) -> Any:
        if key not in self.obj or self.obj[key] is None:
            if default is _REQUIRED:
                raise ProtocolError("bad_message", f"{key}: missing")
            return default
        return self.obj[key]

    def text(self, key: str, max_len: int, default: Any = None, allow_empty: bool = False) -> str:
        value = self._get(key, _REQUIRED if default is None else default)
        if not isinstance(value, str) or (not value.strip() and not allow_empty):
            raise ProtocolError("bad_message", f"{key}: expected a non-empty string, got {_show(value)}")
        if len(value) > max_len:
            raise ProtocolError("bad_message", f"{key}: longer than {max_len} characters ({len(value)})")
        return value

    def positive_int(self, key: str) -> int:
        value = self._get(key, _REQUIRED)
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0 or value > 9999:
            raise ProtocolError("bad_message", f"{key}: expected a positive integer, got {_show(value)}")
        return value

    def seq(self, key: str) -> int | None:
        value = self._get(key, None)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise ProtocolError("bad_message", f"{key}: expected a sequence number >= 0 or null, got {_show(value)}")
        return value

    def positive_seq(self, key: str) -> int:
        value = self._get(key, _REQUIRED)
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ProtocolError("bad_message", f"{key}: expected a positive integer, got {_show(value)}")
        return value

    def names(self, key: str, max_len: int) -> tuple[str, ...]:
        value = self._get(key, ())
        if not isinstance(value, (list, tuple)) or len(value) > 16:
            raise ProtocolError("bad_message", f"{key}: expected a list of up to 16 names, got {_show(value)}")
        for item in value:
            if not isinstance(item, str) or not item.strip() or len(item) > max_len:
                raise ProtocolError("bad_message", f"{key}: expected names of 1-{max_len} characters, "
                                                   f"got {_show(item)}")
        return tuple(value)

    def ticket(self, key: str, required: bool = True) -> str | None:
        value = self._get(key, _REQUIRED if required else None)
        if value is None:
            return None
        if not isinstance(value, str) or not TICKET.fullmatch(value.strip().upper()):
            raise ProtocolError(
                "bad_message",
                f"{key}: expected a ticket such as 'A-023' (1-3 letters, up to 5 digits), got {_show(value)}",
            )
        return normalize_ticket(value)

    def phone(self, key: str) -> str | None:
        """An optional phone number: 8-15 digits, an optional leading +; spaces and dashes dropped."""
        value = self._get(key, None)
        if value is None or value == "":
            return None
        digits = re.sub(r"[ -]", "", value) if isinstance(value, str) else None
        if digits is None or not re.fullmatch(r"\+?[0-9]{8,15}", digits):
            raise ProtocolError("bad_message", f"{key}: expected a phone number such as 081234567890, got "
                                               f"{_show(value)}")
        return digits

    def boolean(self, key: str, default: Any) -> bool | None:
        value = self._get(key, default)
        if value is not default and not isinstance(value, bool):
            raise ProtocolError("bad_message", f"{key}: expected true or false, got {_show(value)}")
        return value

    def scores(self, key: str) -> tuple[int, ...]:
        value = self._get(key, _REQUIRED)
        if (not isinstance(value, list) or len(value) not in SURVEY_FORMS
                or any(not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= 4 for v in value)):
            raise ProtocolError(
                "bad_message",
                f"{key}: expected a list of 9 scores (full form) or 1 score (short form), each an integer "
                f"1-4, got {_show(value)}")
        return tuple(value)

    def comment(self, key: str) -> str:
        """Optional free text from a visitor: capped, no controls but newlines and tabs, trimmed."""
        value = self._get(key, "")
        if not isinstance(value, str):
            raise ProtocolError("bad_message", f"{key}: expected a string, got {_show(value)}")
        why = text.problem(value, multiline=True)
        if why:
            raise ProtocolError("bad_message", f"{key}: {why}")
        value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
        if len(value) > MAX_COMMENT:
            raise ProtocolError("bad_message", f"{key}: longer than {MAX_COMMENT} characters ({len(value)})")
        return value

    def day(self, key: str) -> str | None:
        value = self._get(key, None)
        if value is None:
            return None
        if not isinstance(value, str) or not DAY.fullmatch(value):
            raise ProtocolError("bad_message", f"{key}: expected a service day such as '2026-11-28', got {_show(value)}")
        return value

    def number(self, key: str, limit: float, required: bool = True) -> float | None:
        """A finite number 0..limit (int or float)."""
        value = self._get(key, _REQUIRED if required else None)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= limit:
            raise ProtocolError("bad_message", f"{key}: expected a number 0-{limit:g}, got {_show(value)}")
        return value

    def optional_text(self, key: str, max_len: int) -> str | None:
        value = self._get(key, None)
        return None if value is None else self.text(key, max_len)

    def texts(self, key: str, max_items: int, max_len: int) -> tuple[str, ...]:
        value = self._get(key, [])
        if (not isinstance(value, list) or len(value) > max_items
                or any(not isinstance(v, str) or len(v) > max_len for v in value)):
            raise ProtocolError("bad_message", f"{key}: expected at most {max_items} strings of at most {max_len} "
                                               f"characters, got {_show(value)}")
        return tuple(value)

    def choice(self, key: str, options: tuple[str, ...]) -> str:
        value = self._get(key, _REQUIRED)
        if value not in options:
            raise ProtocolError("bad_message", f"{key}: expected one of {', '.join(options)}, got {_show(value)}")
        return value


_REQUIRED = object()


def _show(value: Any) -> str:
    """A value for an error message: escaped, short, always encodable."""
    shown = json.dumps(value, ensure_ascii=True) if not isinstance(value, str) else repr(value)
    return text.for_log(shown, 60)


# ---------------------------------------------------------------- encoding (both directions)


def encode(message: Any) -> str:
    """Serialise any message dataclass to one JSON text frame.

    An error frame is written with ASCII escapes: it may quote a client's bad
    input, and it must be sendable whatever that input held.
    """
    if isinstance(message, m.Error):
        return json.dumps(to_wire(message), ensure_ascii=True, separators=(",", ":"))
    return _dumps(to_wire(message))


def to_wire(message: Any) -> dict:
    kind = type_name(message)
    if isinstance(message, m.Hello):
        out = {"type": kind, "role": message.role, "token": message.token, "client": message.client,
               "since": message.since}
        if message.subscribe is not None:
            out["subscribe"] = message.subscribe
        if message.announce:
            out["announce"] = True
        if message.zones:
            out["zones"] = list(message.zones)
        return out
    if isinstance(message, m.Welcome):
        out = {"type": kind, "protocol": message.protocol, "seq": message.seq, "role": message.role,
               "name": message.name, "counters": list(message.counters) if message.counters else None,
               "replaying": message.replaying, "state": snapshot_to_wire(message.state)}
        if message.server_time:
            out["server_time"] = _time(message.server_time)
        if message.voice is not None:
            out["voice"] = {"zones": [_plain(z) for z in message.voice.zones],
                            "receipts": [to_wire(r) for r in message.voice.receipts]}
        return out
    if isinstance(message, m.Voice):
        out = {"type": kind, **_plain(message)}
        out["calls"] = [[c.seq, c.kind, c.ticket, c.counter, _time(c.at)] for c in message.calls]
        return out
    if isinstance(message, (m.Beat, m.Spoken, m.Skipped, m.Speaking) + m.HUB_NOTICES):
        return {"type": kind, **_plain(message)}
    if isinstance(message, m.Estimates):
        return {"type": kind, "at": _time(message.at),
                "agencies": {code: {"low": w.low, "high": w.high} for code, w in message.agencies.items()}}
    if isinstance(message, m.Ack):
        out = {"type": kind, "id": message.id, "seq": message.seq}
        if message.duplicate:
            out["duplicate"] = True
        if message.event is not None:
            out["event"] = to_wire(message.event)
        if message.track is not None:
            out["track"] = message.track
        if message.wait is not None:
            out["wait"] = {"low": message.wait.low, "high": message.wait.high}
        if message.printing is not None:
            out["printing"] = message.printing
        return out
    if isinstance(message, m.Error):
        return {"type": kind, "id": message.id, "code": message.code, "message": message.message}
    if isinstance(message, m.Publish):  # the journal keeps the manifest once, in the event
        return {"type": kind, "id": message.id, "digest": message.manifest.digest}
    if isinstance(message, (m.Heartbeat, m.ActionResult)):
        out = {"type": kind}
        for f in fields(message):
            value = getattr(message, f.name)
            if isinstance(value, datetime):
                value = _time(value)
            elif isinstance(value, bytes):
                value = base64.b64encode(value).decode("ascii")
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out
    out = {"type": kind}
    for f in fields(message):
        value = getattr(message, f.name)
        if f.name == "replay":
            if value:
                out["replay"] = True
            continue
        if isinstance(value, datetime):
            value = _time(value)
        elif f.name == "waiting":
            if not value:
                continue
            value = dict(value)
        elif value is None and f.name in ("service", "to_service") and kind != "issued":
            continue
        elif f.name == "keep_place" and not value:
            continue
        elif f.name == "phone" and value is None:
            continue
        elif isinstance(value, m.Wait):
            value = {"low": value.low, "high": value.high}
        elif f.name == "manifest":
            value = content_wire.manifest_to_wire(value)
        out[f.name] = value
    return out


def _plain(message: Any) -> dict:
    """A flat dataclass as a JSON object; tuples become lists."""
    return {f.name: (list(v) if isinstance(v := getattr(message, f.name), tuple) else v) for f in fields(message)}


def _dumps(obj: dict) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _time(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds")


# ---------------------------------------------------------------- hub → client


def parse_hub_frame(frame: str | bytes) -> m.Welcome | m.Ack | m.Error | m.Event | m.HubNotice:
    """Parse one frame sent by the hub (client side). Raises ProtocolError."""
    try:
        obj = json.loads(frame)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError("bad_message", f"hub sent invalid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise ProtocolError("bad_message", "hub sent a non-object frame")
    return from_wire(obj)


def from_wire(obj: dict) -> Any:
    kind = obj.get("type")
    try:
        if kind == "welcome":
            counters = obj.get("counters")
            return m.Welcome(
                seq=int(obj["seq"]), state=snapshot_from_wire(obj["state"]), role=obj["role"],
                name=obj.get("name", ""), counters=tuple(counters) if counters else None,
                replaying=int(obj.get("replaying", 0)),
                server_time=_parse_time(obj["server_time"]) if obj.get("server_time") else None,
                protocol=int(obj.get("protocol", 1)),
                voice=_voice_status(obj["voice"]) if obj.get("voice") else None,
            )
        if kind in _VOICE_NOTICES:
            cls = _VOICE_NOTICES[kind]
            values = {f.name: (tuple(obj[f.name]) if isinstance(obj.get(f.name), list) else obj[f.name])
                      for f in fields(cls) if f.name in obj}
            if cls is m.Voice:
                values["calls"] = tuple(m.VoiceCall(int(s), str(k), str(t), int(c), _parse_time(a))
                                        for s, k, t, c, a in obj.get("calls", ()))
            return cls(**values)
        if kind == "ack":
            event = from_wire(obj["event"]) if obj.get("event") else None
            wait = obj.get("wait")
            return m.Ack(obj["id"], int(obj["seq"]), bool(obj.get("duplicate", False)), event, obj.get("track"),
                         m.Wait(int(wait["low"]), int(wait["high"])) if wait else None, obj.get("printing"))
        if kind == "error":
            return m.Error(obj.get("id"), obj["code"], obj["message"])
        if kind == "action":
            return m.ActionRequest(obj["id"], obj["action"], float(obj.get("seconds", 10.0)),
                                   int(obj.get("max_width", 640)), int(obj.get("max_bytes", 262144)))
        if kind == "action_result":
            png = base64.b64decode(obj["png"], validate=True) if obj.get("png") else None
            return m.ActionResult(obj["id"], obj["action"], obj["name"], obj.get("detail", ""), png)
        cls = _EVENTS.get(kind) or _NOTICES.get(kind)
        if cls is None:
            raise ProtocolError("bad_message", f"type: unknown frame type {kind!r} from hub")
        values = {}
        for f in fields(cls):
            if f.name in obj:
                value = obj[f.name]
                if f.name in ("at", "issued"):
                    value = _parse_time(value)
                elif f.name == "wait":
                    value = m.Wait(int(value["low"]), int(value["high"])) if value else None
                elif f.name == "waiting":
                    value = {str(k): int(v) for k, v in value.items()}
                elif f.name == "manifest":
                    value = manifest_from_wire(value)
                elif f.name == "scores":
                    value = tuple(int(v) for v in value)
                elif f.name == "agencies":
                    value = {str(k): m.Wait(int(v["low"]), int(v["high"])) for k, v in value.items()}
                values[f.name] = value
        return cls(**values)
    except ProtocolError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ProtocolError("bad_message", f"hub frame {kind!r} is malformed: {exc!r}") from None


def _voice_status(obj: dict) -> m.VoiceStatus:
    zones = tuple(m.ZoneVoice(z["zone"], z.get("holder"), int(z["epoch"]), bool(z.get("speaking", False)),
                              tuple(int(s) for s in z.get("waiting", ()))) for z in obj.get("zones", ()))
    return m.VoiceStatus(zones, tuple(from_wire({"type": "receipt", **r}) for r in obj.get("receipts", ())))
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def parse_screenshot(frame: bytes, max_bytes: int, max_width: int) -> tuple[int, int]:
    """Check a binary screenshot answer: a PNG no larger than max_bytes, at most max_width wide.

    Returns (width, height) from its header. Raises ProtocolError.
    """
    if len(frame) > max_bytes:
        raise ProtocolError("too_large", f"screenshot is {len(frame)} bytes, the limit is {max_bytes}")
    if not frame.startswith(PNG_SIGNATURE) or frame[12:16] != b"IHDR" or len(frame) < 33:
        raise ProtocolError("bad_message", "screenshot: not a PNG image")
    width, height = int.from_bytes(frame[16:20], "big"), int.from_bytes(frame[20:24], "big")
    if not 0 < width <= max_width or not 0 < height <= 4 * max_width:
        raise ProtocolError("bad_message", f"screenshot: {width}x{height} pixels; at most {max_width} wide")
    return width, height


def _parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"time without offset: {value!r}")
    return parsed


# ---------------------------------------------------------------- journal records


def encode_event(event: m.Event) -> str:
    return encode(event)


def decode_event(text: str) -> m.Event:
    event = parse_hub_frame(text)
    if not isinstance(event, m.EVENT_TYPES):
        raise ProtocolError("bad_message", f"journal record is not an event: {text[:80]!r}")
    return event


def sanitize_event(event: m.Event) -> m.Event:
    """`event` itself if its text passes the text rule, else a copy with the bad characters replaced.

    For journals written before the rule: their rows still load, draw and speak.
    """
    changes: dict[str, Any] = {}
    for f in fields(event):
        value = getattr(event, f.name)
        long_text = f.name in LONG_TEXT_FIELDS
        if isinstance(value, str) and text.problem(value, multiline=long_text) is not None:
            changes[f.name] = text.sanitize(value, multiline=long_text)
        elif f.name == "waiting" and any(text.problem(k) is not None for k in value):
            changes[f.name] = {text.sanitize(k): v for k, v in value.items()}
    return replace(event, **changes) if changes else event


def journal_projection(names: tuple[str, ...]) -> str:
    """SQL that reads event fields straight out of stored records, for readers of many
    records at once (a year's report): SQLite's json_extract parses in C, several times
    faster than decoding each record here. `names` are wire field names; "scores[0]"
    reads one item of a list. The journal's records are written by encode_event."""
    known = {f.name for cls in _EVENTS.values() for f in fields(cls)} - {"replay"}
    for name in names:
        if name.split("[", 1)[0] not in known:
            raise ValueError(f"{name!r} is not a field of any event")
    return ", ".join(f"json_extract(body, '$.{name}')" for name in names)


def decode_projected(text: str | None) -> Any:
    """A list or object that journal_projection read out of a record (SQLite returns it as JSON text)."""
    return None if text is None else json.loads(text)


def encode_command(command: m.Command) -> str:
    """Canonical text of a command, stored to detect a reused id with other content.

    Without the visitor's phone number: the journal keeps commands for ever, the number only that day.
    """
    if isinstance(command, m.Issue) and command.phone is not None:
        command = replace(command, phone=None)
    return encode(command)


# ---------------------------------------------------------------- snapshot


def snapshot_to_wire(s: m.Snapshot) -> dict:
    return {
        "seq": s.seq,
        "day": s.day,
        "counters": [
            {"counter": c.number, "ticket": c.ticket, "service": c.service,
             "since": _time(c.since) if c.since else None, "seq": c.seq}
            for c in sorted(s.counters.values(), key=lambda c: c.number)
        ],
        "history": [
            {"seq": h.seq, "at": _time(h.at), "counter": h.counter, "ticket": h.ticket,
             "service": h.service, "recall": h.recall}
            for h in s.history
        ],
        "ticker": s.ticker,
        "waiting": dict(s.waiting),
    }


def snapshot_from_wire(obj: dict) -> m.Snapshot:
    counters = {}
    for c in obj.get("counters", []):
        counters[int(c["counter"])] = m.CounterNow(
            int(c["counter"]), c.get("ticket"), c.get("service"),
            _parse_time(c["since"]) if c.get("since") else None, int(c.get("seq", 0)))
    history = tuple(
        m.HistoryEntry(int(h["seq"]), _parse_time(h["at"]), int(h["counter"]), h["ticket"], h.get("service"),
                       bool(h.get("recall", False)))
        for h in obj.get("history", [])
    )
    return m.Snapshot(int(obj.get("seq", 0)), obj.get("day"), counters, history, obj.get("ticker"),
                      {str(k): int(v) for k, v in (obj.get("waiting") or {}).items()})


def snapshot_from_json(text: str) -> m.Snapshot:
    """For `signage render --state FILE`: a file holding a snapshot or a whole welcome frame."""
    try:
        obj = json.loads(text)
    except ValueError as exc:
        raise ProtocolError("bad_message", f"state file is not valid JSON: {exc}") from None
    if isinstance(obj, dict) and obj.get("type") == "welcome":
        obj = obj.get("state", {})
    if not isinstance(obj, dict):
        raise ProtocolError("bad_message", "state file must hold a JSON object")
    try:
        return snapshot_from_wire(obj)
    except (KeyError, TypeError, ValueError) as exc:
        raise ProtocolError("bad_message", f"state file is malformed: {exc!r}") from None


def snapshot_to_json(s: m.Snapshot) -> str:
    return json.dumps(snapshot_to_wire(s), ensure_ascii=False, indent=2)


def encode_document(data: dict) -> str:
    """Plain data as JSON that is not a protocol frame: /healthz, /config.json, a board's frame.json."""
    return _dumps(data)


def decode_document(text: str) -> dict:
    """Read a document written by encode_document. Raises ValueError if it is not a JSON object."""
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    return data


def encode_folded(head: Any, ints: list[int]) -> bytes:
    """A folded day (report.partial_to_plain) for the report cache: the head as JSON, the integers
    packed as signed 64-bit little-endian. Layout: b"SGF1", the CRC-32 of what follows (4 bytes),
    the head's length (4 bytes), the head, the ints."""
    body = json.dumps(head, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
    packed = array("q", ints)  # OverflowError beyond 64 bits: no such sample
    if sys.byteorder != "little":
        packed.byteswap()
    rest = len(body).to_bytes(4, "little") + body + packed.tobytes()
    return _FOLDED + zlib.crc32(rest).to_bytes(4, "little") + rest


_FOLDED = b"SGF1"


def decode_folded(data: bytes, max_bytes: int) -> tuple[Any, list[int]]:
    """(head, ints) of a report cache entry: hostile input (a file anyone may have changed).

    Raises ValueError for more than max_bytes, a wrong magic, checksum or length, a head that is
    not UTF-8 JSON (NaN, Infinity, duplicate keys, nesting too deep); the shape is
    report.partial_from_plain's to check. The CRC finds a damaged file, not a forged one.
    """
    if type(data) is not bytes or len(data) > max_bytes:
        raise ValueError(f"cache entry is not bytes, or larger than {max_bytes}")
    if len(data) < 12 or data[:4] != _FOLDED:
        raise ValueError("cache entry of another format")
    if zlib.crc32(memoryview(data)[8:]) != int.from_bytes(data[4:8], "little"):
        raise ValueError("cache entry damaged (checksum)")
    size = int.from_bytes(data[8:12], "little")
    if 12 + size > len(data) or (len(data) - 12 - size) % 8:
        raise ValueError("cache entry cut short")
    try:
        head = json.loads(data[12:12 + size].decode("utf-8"), object_pairs_hook=_unique_keys,
                          parse_constant=_refuse_constant)
    except RecursionError:
        raise ValueError("cache entry nested too deep") from None
    except UnicodeDecodeError:
        raise ValueError("cache entry is not UTF-8") from None
    packed = array("q")
    packed.frombytes(data[12 + size:])
    if sys.byteorder != "little":
        packed.byteswap()
    return head, packed.tolist()


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("duplicate key")
    return out


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


# ---------------------------------------------------------------- content manifests (docs/content.md)


def manifest_digest(items, fallback=()) -> str:
    """SHA-256 of a manifest's canonical JSON (sorted keys, no spaces): its version."""
    body = json.dumps(content_wire.digest_body(tuple(items), tuple(fallback)), ensure_ascii=False,
                      sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def make_manifest(items, fallback=()) -> Manifest:
    return Manifest(tuple(items), manifest_digest(items, fallback), tuple(fallback))


def manifest_from_wire(obj: Any) -> Manifest:
    """Strict: every field checked, and the digest must match the items. Raises ProtocolError."""
    try:
        digest, items, fallback = content_wire.manifest_from_wire(obj)
    except ValueError as exc:
        raise ProtocolError("bad_message", f"content manifest: {exc}") from None
    actual = manifest_digest(items, fallback)
    if actual != digest:
        raise ProtocolError("bad_message", f"content manifest: digest {digest[:12]}… does not match its items "
                                           f"({actual[:12]}…)")
    return Manifest(items, digest, fallback)


def encode_manifest(manifest: Manifest) -> str:
    return _dumps(content_wire.manifest_to_wire(manifest))


def decode_manifest(text: str | bytes) -> Manifest:
    """A manifest served by the hub or kept in a display's cache. Raises ProtocolError."""
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError("bad_message", f"content manifest is not valid JSON: {exc}") from None
    return manifest_from_wire(obj)
