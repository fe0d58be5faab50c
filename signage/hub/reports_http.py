"""/reports and /survey on the hub's port: the pages, the report's data and downloads,
and what a survey tablet needs when it (re)starts.

`route(hub, path, request)` answers a path it owns, or returns None. Pages are
public (they hold no data); data needs `Authorization: Bearer <token>`:

    GET /reports                    the supervisor's page
    GET /reports/data?date=D        the json report (+ "viewer"), from=D&to=D for a range
    GET /reports/download?format=F  the same as a file: json, csv (zip), xlsx, html
    GET /survey                     the tablet page
    GET /survey/state               survey tokens: the ticket each of their counters just served

Reports are for all-counter operators and admins: 401 without a known token,
403 for other roles. A report is computed on a worker thread from a read-only
connection to the journal, so the hub's loop keeps serving calls meanwhile;
`route` then returns an awaitable, which websockets' process_request awaits.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from http import HTTPStatus
from importlib import resources
from typing import Awaitable
from urllib.parse import parse_qs, urlsplit

from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from signage.config import Token
from signage.core import protocol, report as core_report, survey
from signage.core.hall import service_day
from signage.errors import JournalError
from signage.hub import http
from signage.reports.source import read_report
from signage.reports.writers import FORMATS, MEDIA_TYPES, file_stem, render

log = logging.getLogger("signage.hub.reports")

PAGES = {"/reports": "reports.html", "/survey": "survey.html"}
# The report page shows the html report in a sandboxed srcdoc frame (no scripts), which inherits the page's
# policy: it needs the report's own <style> and the charts' style attributes. Scripts stay 'self' only.
PAGE_POLICIES = {"reports.html": "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"}
MAX_DAYS = 366  # a range over the hub's HTTP; `signage report` has no limit
CACHE_ENTRIES = 8
# One report at a time, process-wide: a burst of requests queues instead of eating both cores.
_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reports")
_caches: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # hub → {key: Report}


def route(hub, path: str, request: Request) -> Response | Awaitable[Response] | None:
    if path in PAGES:
        return _page(PAGES[path])
    if path in ("/reports/data", "/reports/download"):
        token, refusal = _authorize(hub, request, _may_read_reports, "an admin or an all-counter operator token")
        if refusal:
            return refusal
        return _report(hub, request, token, download=path.endswith("download"))
    if path == "/survey/state":
        token, refusal = _authorize(hub, request, lambda t: t.role == "survey", "a survey token")
        return refusal or _survey_state(hub, token)
    return None


def _may_read_reports(token: Token) -> bool:
    return token.role == "admin" or (token.role == "operator" and token.counters is None)


def _authorize(hub, request: Request, allowed, needed: str) -> tuple[Token | None, Response | None]:
    token = http.bearer_token(request, hub.config.token)
    if token is None:
        what = ("unknown token" if request.headers.get("Authorization")
                else "no token: send Authorization: Bearer <token>")
        return None, _error(HTTPStatus.UNAUTHORIZED, "unauthorized", what,
                            [("WWW-Authenticate", 'Bearer realm="signage"')])
    if not allowed(token):
        return None, _error(HTTPStatus.FORBIDDEN, "forbidden",
                            f"token {token.name!r} ({token.role}) may not read this; it needs {needed}")
    return token, None


# ---------------------------------------------------------------- reports


async def _report(hub, request: Request, token: Token, download: bool) -> Response:
    query = parse_qs(urlsplit(request.path).query)
    today = service_day(hub.clock())
    try:
        first, last = _range(query, today)
        fmt = _one(query, "format", "json")
        if fmt not in FORMATS:
            raise ValueError(f"format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    except ValueError as exc:
        return _error(HTTPStatus.BAD_REQUEST, "bad_request", str(exc))
    loop = asyncio.get_running_loop()
    now = hub.clock()
    try:
        built = await loop.run_in_executor(_worker, _cached_report, hub, first, last, today)
        if not download:
            doc = core_report.to_document(built, now)
            doc["viewer"] = {"name": token.name, "role": token.role, "today": today}
            return _response(HTTPStatus.OK, protocol.encode_document(doc).encode(), MEDIA_TYPES["json"],
                             [("Cache-Control", "no-store")])
        body = await loop.run_in_executor(_worker, render, built, fmt, now)
    except JournalError as exc:
        log.error("report %s..%s failed: %s", first, last, exc)
        return _error(HTTPStatus.SERVICE_UNAVAILABLE, "storage_failed", str(exc))
    extension = "zip" if fmt == "csv" else fmt
    return _response(HTTPStatus.OK, body, MEDIA_TYPES[fmt], [
        ("Content-Disposition", f'attachment; filename="{file_stem(built)}.{extension}"'),
        ("Cache-Control", "no-store")])


def _cached_report(hub, first: str, last: str, today: str) -> core_report.Report:
    """Past days never change (events are only appended to today), so their reports are kept."""
    cache = _caches.setdefault(hub, {})
    key = (first, last, hub.seq if last >= today else None)
    found = cache.get(key)
    if found is None:
        found = read_report(hub.config.hub.journal, hub.config, first, last)
        if len(cache) >= CACHE_ENTRIES:
            cache.pop(next(iter(cache)))
        cache[key] = found
    return found


def _range(query: dict, today: str) -> tuple[str, str]:
    if "date" in query and ("from" in query or "to" in query):
        raise ValueError("give either date or from/to, not both")
    if "from" in query or "to" in query:
        first, last = _day(query, "from", today), _day(query, "to", today)
    else:
        first = last = _day(query, "date", today)
    if first > last:
        raise ValueError(f"from: {first} is after to {last}")
    days = (date.fromisoformat(last) - date.fromisoformat(first)).days + 1
    if days > MAX_DAYS:
        raise ValueError(f"the range has {days} days; the hub reports at most {MAX_DAYS} (use signage report)")
    return first, last


def _day(query: dict, key: str, today: str) -> str:
    value = _one(query, key, today)
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise ValueError(f"{key}: expected a day such as 2026-11-28, got {value[:40]!r}") from None


def _one(query: dict, key: str, default: str) -> str:
    values = query.get(key)
    if not values:
        return default
    if len(values) > 1:
        raise ValueError(f"{key}: given {len(values)} times")
    return values[0]


# ---------------------------------------------------------------- survey tablets


def _survey_state(hub, token: Token) -> Response:
    today = service_day(hub.clock())
    state = hub.state
    live = state.survey if state.survey.day == today else survey.SurveyState(day=today)
    serving = state.queue.serving if state.queue.day == today else {}
    counters = []
    for number in token.counters or ():
        counter = hub.config.counter(number)
        current = serving.get(number)
        last = live.last_served.get(number)
        served = live.served.get(last) if last else None
        pending = None
        # The visitor is still there only until the counter calls the next one.
        if served and served.counter == number and last not in live.rated and current is None:
            service = hub.config.service(served.service) if served.service else None
            pending = {"ticket": last, "service": served.service, "service_name": service.name if service else None,
                       "served_at": served.at.isoformat(timespec="seconds")}
        counters.append({"counter": number, "name": counter.name if counter else f"Loket {number}",
                         "serving": current.ticket if current else None, "pending": pending})
    body = protocol.encode_document({
        "day": today, "form": hub.config.survey.form, "name": token.name,
        "elements": [{"code": code, "name": name} for code, name in survey.ELEMENTS],
        "counters": counters,
    })
    return _response(HTTPStatus.OK, body.encode(), MEDIA_TYPES["json"], [("Cache-Control", "no-store")])


# ---------------------------------------------------------------- plumbing


def _page(name: str) -> Response:
    body = resources.files("signage.web").joinpath("static", name).read_bytes()
    policy = PAGE_POLICIES.get(name)
    return _response(HTTPStatus.OK, body, "text/html; charset=utf-8",
                     [("Content-Security-Policy", policy)] if policy else None)  # http.secure adds the rest


def _error(status: HTTPStatus, code: str, message: str, extra: list | None = None) -> Response:
    body = protocol.encode_document({"error": code, "message": message}).encode()
    return _response(status, body, MEDIA_TYPES["json"], extra)


def _response(status: HTTPStatus, body: bytes, content_type: str, extra: list | None = None) -> Response:
    headers = Headers([("Content-Type", content_type), ("Content-Length", str(len(body))),
                       ("Cache-Control", "no-cache"), ("Connection", "close")])
    for name, value in extra or ():
        if name in headers:
            del headers[name]
        headers[name] = value
    return Response(status.value, status.phrase, headers, body)

