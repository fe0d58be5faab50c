"""The phone page's capability code: who holds it may read one ticket, on one day. Pure.

    code = base32(HMAC-SHA256(secret, "<service day>|<ticket>"))[:CODE_LENGTH], lower case

80 bits: unguessable by trying (the hub answers a wrong code with 404 and rate-limits
failed hellos). It names no ticket, so a code seen on someone's phone tells nothing
about another's; the hub maps today's codes back to tickets, so yesterday's code
reads nothing. The secret is generated and kept by the hub (a file next to the journal).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

CODE_LENGTH = 16  # base32 characters: 80 bits
SECRET_BYTES = 32
PATTERN = re.compile(r"[a-z2-7]{%d}" % CODE_LENGTH)


def ticket_code(secret: bytes, day: str, ticket: str) -> str:
    mac = hmac.new(secret, f"{day}|{ticket}".encode(), hashlib.sha256).digest()
    return base64.b32encode(mac).decode("ascii")[:CODE_LENGTH].lower()


def looks_like_code(value: str) -> bool:
    return PATTERN.fullmatch(value) is not None
