"""HTTP for content on the hub's port: the manifest, files by content hash, publish and status.

    GET /content/manifest.json          the last published manifest (else the last scanned; 404 before both)
    GET /content/files/<sha256>         a file by its SHA-256; honours Range (bytes=a-b), at most 2 MiB per reply
    GET /content/status                 what was published, the scan's problems, the last publish's result
    GET /content/publish                rescan and publish (Authorization: Bearer <operator token for all counters>)

Files are addressed by hash, so a reply never changes: they are cacheable forever. A file that
changed on disk since it was hashed is not served under its old hash (409): publish again.
Replies are bounded (CHUNK_MAX), so a large video costs the hub one chunk of memory at a time;
displays ask for ranges (signage.display.media.sync). websockets' HTTP side answers GET only,
hence GET for publish; it needs a supervisor's token and only triggers a rescan.

`handle(hub, path, request)` is called by the hub's HTTP router and returns None for other paths.
"""

from __future__ import annotations

import re
from http import HTTPStatus

from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from signage.core import protocol

CHUNK_MAX = 2 * 1024 * 1024  # read on the hub's event loop: ~1 ms from the page cache
FILE_PATH = re.compile(r"^/content/files/([0-9a-f]{64})$")
RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")
TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".mp4": "video/mp4", ".m4v": "video/mp4",
         ".mov": "video/quicktime", ".mkv": "video/x-matroska", ".webm": "video/webm"}


def handle(hub, path: str, request: Request) -> Response | None:
    if not path.startswith("/content/"):
        return None
    service = hub.content
    if path == "/content/manifest.json":
        manifest = service.current or service.scanned  # published, else (queue layouts only) scanned
        if manifest is None:
            return _text(HTTPStatus.NOT_FOUND, "nothing scanned or published yet\n")
        return _reply(HTTPStatus.OK, protocol.encode_manifest(manifest).encode(), "application/json",
                      extra=[("X-Content-Seq", str(service.current_seq or 0))])
    if path == "/content/status":
        return _reply(HTTPStatus.OK, protocol.encode_document(service.status()).encode(), "application/json")
    if path == "/content/publish":
        return _publish(hub, request)
    found = FILE_PATH.fullmatch(path)
    if found:
        return _file(service, found.group(1), request.headers.get("Range"))
    return _text(HTTPStatus.NOT_FOUND, f"not found: {path}\n")


def _publish(hub, request: Request) -> Response:
    auth = request.headers.get("Authorization", "")
    secret = auth[len("Bearer "):] if auth.startswith("Bearer ") else None
    token = hub.config.token(secret) if secret else None
    if token is None:
        return _text(HTTPStatus.UNAUTHORIZED, "publish needs 'Authorization: Bearer <token>'\n")
    if token.role != "operator" or token.counters is not None:
        return _text(HTTPStatus.FORBIDDEN, f"token {token.name!r} may not publish: it needs an operator token "
                                           "for all counters (a supervisor)\n")
    number = hub.content.request_publish()
    body = protocol.encode_document({"request": number, "status": "scanning", "current": hub.content.status()})
    return _reply(HTTPStatus.ACCEPTED, body.encode(), "application/json")


def _file(service, sha: str, range_header: str | None) -> Response:
    path = service.file(sha)
    if path is None:
        known = {**(service.scanned.files() if service.scanned else {}), **(service.current.files() if service.current else {})}
        if sha in known:
            return _text(HTTPStatus.CONFLICT, "the file changed on the hub since it was published; publish again\n")
        return _text(HTTPStatus.NOT_FOUND, f"no file with SHA-256 {sha}\n")
    try:
        size = path.stat().st_size
        start, end, partial = 0, size - 1, False
        if range_header:
            m = RANGE.fullmatch(range_header.strip())
            if not m or int(m.group(1)) >= max(size, 1):
                return _reply(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, b"", "text/plain",
                              extra=[("Content-Range", f"bytes */{size}")])
            start = int(m.group(1))
            end = min(size - 1, int(m.group(2)) if m.group(2) else size - 1)
            partial = True
        if end - start + 1 > CHUNK_MAX:
            end, partial = start + CHUNK_MAX - 1, True
        with open(path, "rb") as f:
            f.seek(start)
            body = f.read(end - start + 1)
    except OSError as exc:
        return _text(HTTPStatus.NOT_FOUND, f"cannot read the file: {exc.strerror or exc}\n")
    kind = TYPES.get(path.suffix.lower(), "application/octet-stream")
    extra = [("Accept-Ranges", "bytes"), ("Cache-Control", "public, max-age=31536000, immutable")]
    if partial:
        extra.append(("Content-Range", f"bytes {start}-{start + len(body) - 1}/{size}"))
        return _reply(HTTPStatus.PARTIAL_CONTENT, body, kind, extra=extra, cache=False)
    return _reply(HTTPStatus.OK, body, kind, extra=extra, cache=False)


def _text(status: HTTPStatus, text: str) -> Response:
    return _reply(status, text.encode(), "text/plain; charset=utf-8")


def _reply(status: HTTPStatus, body: bytes, content_type: str, *, extra=(), cache: bool = True) -> Response:
    headers = Headers([("Content-Type", content_type), ("Content-Length", str(len(body))), ("Connection", "close")])
    if cache:
        headers["Cache-Control"] = "no-cache"
    for name, value in extra:
        headers[name] = value
    return Response(status.value, status.phrase, headers, body)
