"""Every error signage raises on purpose, in one tree.

    SignageError
    ├── ConfigError            config file missing, unreadable or invalid (CLI exit 2)
    ├── JournalError           the SQLite journal can't be opened or written
    ├── HubFailed              a vital hub task stopped: the process exits so systemd restarts it
    ├── ClientError            a peer's message was refused; carries a protocol error code
    │   ├── ProtocolError      the frame itself is bad (bad_message, too_large, ...)
    │   └── CommandRejected    the frame is fine but the rules refuse it
    │                          (unauthorized, forbidden, unknown_counter, queue_empty,
    │                          not_served, already_rated, ...)
    ├── SessionError           a session state machine was driven out of order (our bug, not the peer's)
    ├── HubRefused             client side: the hub answered {"type": "error"}
    │   └── AccessDenied       ... with unauthorized/forbidden: retrying won't help
    ├── HubUnreachable         client side: no connection to the hub
    └── AudioUnavailable       no audio device or no TTS engine; callers degrade to silent

A ClientError is the peer's fault and is answered, never fatal to the hub (like
h11's RemoteProtocolError). Messages state the fact and name the value.
"""

from __future__ import annotations


class SignageError(Exception):
    """Base of every error raised on purpose by signage."""


class ConfigError(SignageError):
    """The configuration is invalid. `problems` holds one line per bad key."""

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class JournalError(SignageError):
    """The journal could not be opened or an event could not be stored."""


class HubFailed(SignageError):
    """A vital part of the hub (the command processor) stopped; the hub must restart."""


# Codes a hub may answer with; docs/protocol.md lists their meaning.
ERROR_CODES = frozenset(
    {
        "bad_message",  # not JSON, not an object, wrong field type, unknown type
        "too_large",  # frame exceeds hub.max_message_bytes
        "rate_limited",  # more messages than hub.rate allows
        "unauthorized",  # missing hello, or unknown token
        "forbidden",  # token's role or counters don't allow this
        "unknown_counter",  # counter number not in config
        "unknown_service",  # service code not in config
        "unknown_ticket",  # ticket not waiting / not in the no-show list
        "queue_empty",  # `next` with nobody waiting for the counter's services
        "no_current_ticket",  # recall/skip/done/transfer on an idle counter
        "storage_failed",  # journal write failed; the command was NOT applied
        "conflict",  # same id reused for a different command
        "not_served",  # rate: this counter did not serve this ticket on this service day
        "already_rated",  # rate: the ticket was already rated (one rating per ticket)
        "printer_offline",  # reprint: no printer agent of this kiosk is connected
        "internal_error",  # a hub bug while deciding this command; it was NOT applied
        # admin actions (signage.hub.fleet)
        "unknown_client",  # no client of that name has sent a heartbeat
        "offline",  # that client is known but not connected
        "busy",  # a screenshot of that client is already on its way
        "timeout",  # that client did not answer the action in time
        "bad_screenshot",  # its answer was not a PNG within the bounds
        "action_failed",  # it answered that it could not do it
        "unsupported",  # that client cannot do that action (a printer agent has no screen)
    }
)


class ClientError(SignageError):
    """A client's message was refused with a protocol error code."""

    def __init__(self, code: str, message: str, *, id: str | None = None):
        assert code in ERROR_CODES, code
        self.code = code
        self.message = message
        self.id = id
        super().__init__(f"{code}: {message}")


class ProtocolError(ClientError):
    """The frame is malformed: not JSON, wrong shape, too large."""


class CommandRejected(ClientError):
    """The frame is well formed but the rules refuse it."""


class SessionError(SignageError):
    """A call to a session state machine that its phase does not allow; the state is unchanged."""


class HubRefused(SignageError):
    """Client side: the hub answered with an error frame."""

    def __init__(self, code: str, message: str):
        self.code = code
        self.message = message
        super().__init__(f"hub refused: {code}: {message}")


class AccessDenied(HubRefused):
    """Client side: the token was rejected; retrying will not help."""


class HubUnreachable(SignageError):
    """Client side: could not connect to the hub, or the connection dropped."""


class AudioUnavailable(SignageError):
    """No audio device or no speech engine; the caller runs silent."""
