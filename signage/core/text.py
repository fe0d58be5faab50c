"""The rule for text from outside: what a frame, a config value or a stored row may hold.

Every string that reaches the hub from a client, or the board from config, is
checked here before it is stored, drawn or spoken. Refused:

- lone UTF-16 surrogates (U+D800–U+DFFF): valid in JSON escapes, but they can't
  be encoded to UTF-8, so SQLite, the websocket writer and every log line choke;
- NUL and the other C0 controls (U+0000–U+001F) and DEL + C1 (U+007F–U+009F):
  pygame refuses NUL, and control bytes forge log lines and confuse terminals.

Long-text fields (a slide's body, a comment) may hold newlines and tabs.

    >>> problem("A-023")
    >>> problem("ab\\x00c")
    'holds a control character U+0000 at index 2'

`sanitize` is for data already stored before this rule existed: it replaces what
the rule refuses, so an old journal still loads and draws.
"""

from __future__ import annotations

import re

# Surrogates, C0 controls, DEL and C1 controls.
_BAD = re.compile("[\ud800-\udfff\x00-\x1f\x7f-\x9f]")
_BAD_LONG = re.compile("[\ud800-\udfff\x00-\x08\x0b-\x1f\x7f-\x9f]")  # allows \t \n
_CR = re.compile("\r\n?")
REPLACEMENT = "\ufffd"


def problem(value: str, *, multiline: bool = False) -> str | None:
    """Why `value` may not be used as text, or None if it may.

    With multiline=True, newlines and tabs are allowed (\\r\\n counts as a newline).
    """
    pattern = _BAD_LONG if multiline else _BAD
    text = _CR.sub("\n", value) if multiline else value
    match = pattern.search(text)
    if match is None:
        return None
    char = match.group()
    index = match.start()
    if "\ud800" <= char <= "\udfff":
        return f"holds a lone surrogate U+{ord(char):04X} at index {index}"
    return f"holds a control character U+{ord(char):04X} at index {index}"


def sanitize(value: str, *, multiline: bool = False) -> str:
    """`value` with everything `problem` refuses replaced by U+FFFD."""
    if multiline:
        return _BAD_LONG.sub(REPLACEMENT, _CR.sub("\n", value))
    return _BAD.sub(REPLACEMENT, value)


def for_log(value: object, limit: int = 120) -> str:
    """A value as one safe log token: controls and surrogates escaped, length capped."""
    text = value if isinstance(value, str) else repr(value)
    text = _BAD.sub(lambda mt: f"\\u{ord(mt.group()):04x}", text)
    return text if len(text) <= limit else text[: limit - 3] + "..."
