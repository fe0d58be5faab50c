"""The hub's plain-HTTP side: what a request may be, and the headers every answer carries.

Runs in websockets' process_request / process_response hooks, before any
websocket exists. Checks, in order:

- method: GET and HEAD only (405 otherwise);
- Host: exactly one; with `hub.server_names` set it must be one of them, else it
  must be an IP literal or `localhost` (a DNS name the hall did not list is how
  DNS rebinding reaches a LAN service);
- Origin (browsers' websocket upgrades): one of `hub.allowed_origins`, or the
  hub's own pages, i.e. an http(s) origin whose host:port is the request's Host
  (which the Host check above has vouched for).

Every answer gets SECURITY_HEADERS, so no hub page can be framed (clickjacking
with a stored token) or have its type sniffed.
"""

from __future__ import annotations

import ipaddress
import mimetypes
from http import HTTPStatus
from importlib import resources
from typing import Callable
from urllib.parse import urlsplit

from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from signage.core import text
from signage.core.config import Token

SECURITY_HEADERS = (
    ("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'"),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
)
ALLOWED_METHODS = ("GET", "HEAD")
PAGES = {"/": "index.html", "/operator": "operator.html", "/kiosk": "kiosk.html"}


def refusal(request: Request, server_names: tuple[str, ...], allowed_origins: tuple[str, ...]) -> Response | None:
    """A 4xx answer if the request may not go on, else None."""
    if request.method not in ALLOWED_METHODS:
        return response(HTTPStatus.METHOD_NOT_ALLOWED, f"method {text.for_log(request.method)} is not allowed\n",
                        extra=(("Allow", ", ".join(ALLOWED_METHODS)),))
    hosts = request.headers.get_all("Host")
    if len(hosts) != 1:
        return response(HTTPStatus.BAD_REQUEST, f"expected exactly one Host header, got {len(hosts)}\n")
    host = hosts[0]
    if not host_allowed(host, server_names):
        return response(HTTPStatus.MISDIRECTED_REQUEST,
                        f"host {text.for_log(host, 80)} is not a name of this hub (hub.server_names)\n")
    if request.headers.get("Upgrade", "").lower() == "websocket":
        origins = request.headers.get_all("Origin")
        if len(origins) > 1:
            return response(HTTPStatus.BAD_REQUEST, "expected at most one Origin header\n")
        if origins and not origin_allowed(origins[0], host, allowed_origins):
            return response(HTTPStatus.FORBIDDEN, f"origin {text.for_log(origins[0], 80)} is not allowed\n")
    return None


def host_allowed(host: str, server_names: tuple[str, ...]) -> bool:
    name = _hostname(host)
    if name is None:
        return False
    if server_names:
        return name in server_names
    if name == "localhost":
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def origin_allowed(origin: str, host: str, allowed_origins: tuple[str, ...]) -> bool:
    if origin in allowed_origins:
        return True
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host.lower()


def _hostname(host: str) -> str | None:
    """'10.0.0.5:8765' → '10.0.0.5', '[::1]:8765' → '::1', 'Hub.Local' → 'hub.local'; None if malformed."""
    host = host.strip().lower()
    if not host or text.problem(host) is not None or any(c in host for c in " /\\@"):
        return None
    if host.startswith("["):
        end = host.find("]")
        return host[1:end] if end > 0 else None
    name, _, port = host.partition(":")
    if port and not port.isdigit():
        return None
    return name or None


def bearer_token(request: Request, lookup: Callable[[str], Token | None]) -> Token | None:
    """The token of `Authorization: Bearer <secret>` (looked up with `lookup`), or None: no header,
    another scheme, an empty or unknown secret. Callers answer 401 with WWW-Authenticate, or 403 by role."""
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    secret = secret.strip()
    return lookup(secret) if scheme.lower() == "bearer" and secret else None


def secure(resp: Response) -> Response:
    """The security headers on an answer (idempotent)."""
    for name, value in SECURITY_HEADERS:
        if name not in resp.headers:
            resp.headers[name] = value
    return resp


def response(status: HTTPStatus, body: bytes | str, content_type: str = "text/plain; charset=utf-8",
             extra: tuple[tuple[str, str], ...] = ()) -> Response:
    data = body.encode() if isinstance(body, str) else body
    headers = Headers([("Content-Type", content_type), ("Content-Length", str(len(data))),
                       ("Cache-Control", "no-cache"), ("Connection", "close"), *extra])
    return secure(Response(status.value, status.phrase, headers, data))


def static(path: str) -> Response:
    """A page or a file from signage/web/static, or 404."""
    name = PAGES.get(path) or (path[len("/static/"):] if path.startswith("/static/") else None)
    if not name or "/" in name or name.startswith("."):
        return response(HTTPStatus.NOT_FOUND, f"not found: {text.for_log(path, 80)}\n")
    try:
        body = resources.files("signage.web").joinpath("static", name).read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return response(HTTPStatus.NOT_FOUND, f"not found: {text.for_log(path, 80)}\n")
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind in ("application/javascript",):
        kind += "; charset=utf-8"
    return response(HTTPStatus.OK, body, kind)
