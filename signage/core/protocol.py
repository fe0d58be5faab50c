"""Protocol v1 codec: JSON text frames ↔ the dataclasses in `messages`.

The only module that touches raw JSON (the journal stores events through it
too). Parsing is strict and every refusal names the field and the value, so a
third-party integrator can fix their client from the error alone:

    >>> parse_client_frame('{"type":"call","id":"c1","counter":"5","ticket":"A-023"}')
    Traceback (most recent call last):
    signage.errors.ProtocolError: bad_message: counter: expected a positive integer, got '5'
"""

from __future__ import annotations

import json
import re
from dataclasses import fields
from datetime import datetime
from typing import Any

from signage.core import messages as m
from signage.core.text import problem
from signage.errors import ProtocolError

TICKET = re.compile(r"^(?:[A-Z]{1,3}-?)?\d{1,5}$")
MAX_ID = 64
MAX_TICKER = 500
MAX_CLIENT = 64
MAX_COMMENT = 500  # a survey comment: a few sentences, not an essay
SURVEY_FORMS = {9: "full", 1: "short"}  # number of scores → survey form (see core/survey.py)
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")

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
}
_EVENTS: dict[str, type] = {
    "called": m.Called,
    "recalled": m.Recalled,
    "cleared": m.Cleared,
    "ticker": m.TickerSet,
    "issued": m.Issued,
    "rated": m.Rated,
}
# "ticker" names both a command and its event, so map classes from each table separately.
_TYPE_OF: dict[type, str] = {cls: name for table in (_COMMANDS, _EVENTS) for name, cls in table.items()}
_TYPE_OF.update({m.Hello: "hello", m.Welcome: "welcome", m.Ack: "ack", m.Error: "error"})

COMMAND_TYPES = tuple(_COMMANDS)
EVENT_TYPE_NAMES = tuple(_EVENTS)


def type_name(message: Any) -> str:
    return _TYPE_OF[type(message)]


# ---------------------------------------------------------------- client → hub


def parse_client_frame(frame: str | bytes, max_bytes: int = 1 << 20) -> m.Hello | m.Command:
    """Parse one frame sent by a client. Raises ProtocolError with a code."""
    size = len(frame.encode("utf-8")) if isinstance(frame, str) else len(frame)
    if size > max_bytes:
        raise ProtocolError("too_large", f"frame is {size} bytes, the limit is {max_bytes}")
    if isinstance(frame, bytes):
        raise ProtocolError("bad_message", "binary frames are not accepted; send JSON as a text frame")
    try:
        obj = json.loads(frame)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError("bad_message", f"not valid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise ProtocolError("bad_message", f"expected a JSON object, got {type(obj).__name__}")
    raw_id = obj.get("id")
    msg_id = raw_id if isinstance(raw_id, str) and 0 < len(raw_id) <= MAX_ID else None
    kind = obj.get("type")
    try:
        if kind == "hello":
            return _hello(obj)
        cls = _COMMANDS.get(kind) if isinstance(kind, str) else None
        if cls is None:
            known = ", ".join(("hello",) + COMMAND_TYPES)
            raise ProtocolError("bad_message", f"type: unknown message type {kind!r} (expected one of {known})")
        return _command(cls, obj)
    except ProtocolError as exc:
        raise ProtocolError(exc.code, exc.message, id=msg_id) from None


def _hello(obj: dict) -> m.Hello:
    r = _Fields(obj, {"type", "role", "token", "client", "since", "subscribe"})
    role = r.choice("role", ("display", "operator", "kiosk", "survey", "admin"))
    token = r.text("token", 256)
    client = r.text("client", MAX_CLIENT, default="anonymous")
    since = r.seq("since")
    subscribe = r.boolean("subscribe", default=None)
    return m.Hello(role, token, client, since, subscribe)


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
    elif cls is m.Transfer:
        values["service"] = r.text("service", 40)
    elif cls is m.Rate:
        values["ticket"] = r.ticket("ticket")
        values["scores"] = r.scores("scores")
        values["comment"] = r.comment("comment")
        values["day"] = r.day("day")
    return cls(**values)


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
        why = problem(value, multiline=True)
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

    def choice(self, key: str, options: tuple[str, ...]) -> str:
        value = self._get(key, _REQUIRED)
        if value not in options:
            raise ProtocolError("bad_message", f"{key}: expected one of {', '.join(options)}, got {_show(value)}")
        return value


_REQUIRED = object()


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def normalize_ticket(ticket: str) -> str:
    """One spelling per ticket, as the hub issues them: 'a23', 'A023', 'A-0023' → 'A-023'."""
    t = ticket.strip().upper()
    match = re.fullmatch(r"([A-Z]{1,3})-?(\d+)", t)
    return f"{match.group(1)}-{int(match.group(2)):03d}" if match else t


# ---------------------------------------------------------------- encoding (both directions)


def encode(message: Any) -> str:
    """Serialise any message dataclass to one JSON text frame."""
    return _dumps(to_wire(message))


def to_wire(message: Any) -> dict:
    kind = type_name(message)
    if isinstance(message, m.Hello):
        out = {"type": kind, "role": message.role, "token": message.token, "client": message.client,
               "since": message.since}
        if message.subscribe is not None:
            out["subscribe"] = message.subscribe
        return out
    if isinstance(message, m.Welcome):
        out = {"type": kind, "protocol": message.protocol, "seq": message.seq, "role": message.role,
               "name": message.name, "counters": list(message.counters) if message.counters else None,
               "replaying": message.replaying, "state": snapshot_to_wire(message.state)}
        if message.server_time:
            out["server_time"] = _time(message.server_time)
        return out
    if isinstance(message, m.Ack):
        out = {"type": kind, "id": message.id, "seq": message.seq}
        if message.duplicate:
            out["duplicate"] = True
        if message.event is not None:
            out["event"] = to_wire(message.event)
        return out
    if isinstance(message, m.Error):
        return {"type": kind, "id": message.id, "code": message.code, "message": message.message}
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
        out[f.name] = value
    return out


def _dumps(obj: dict) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _time(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds")


# ---------------------------------------------------------------- hub → client


def parse_hub_frame(frame: str | bytes) -> m.Welcome | m.Ack | m.Error | m.Event:
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
            )
        if kind == "ack":
            event = from_wire(obj["event"]) if obj.get("event") else None
            return m.Ack(obj["id"], int(obj["seq"]), bool(obj.get("duplicate", False)), event)
        if kind == "error":
            return m.Error(obj.get("id"), obj["code"], obj["message"])
        cls = _EVENTS.get(kind)
        if cls is None:
            raise ProtocolError("bad_message", f"type: unknown frame type {kind!r} from hub")
        values = {}
        for f in fields(cls):
            if f.name in obj:
                value = obj[f.name]
                if f.name == "at":
                    value = _parse_time(value)
                elif f.name == "waiting":
                    value = {str(k): int(v) for k, v in value.items()}
                elif f.name == "scores":
                    value = tuple(int(v) for v in value)
                values[f.name] = value
        return cls(**values)
    except ProtocolError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ProtocolError("bad_message", f"hub frame {kind!r} is malformed: {exc!r}") from None


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
    """Canonical text of a command, stored to detect a reused id with other content."""
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
