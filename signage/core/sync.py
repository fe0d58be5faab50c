"""A display's copy of the hall state. Pure.

When to adopt the hub's snapshot and which events to apply is the session's
rule (core/session.py: Welcomed.resumed, EventReceived only for the next seq);
this module only folds what the session hands over:

    adopt(welcome)                 -> the board the hub's snapshot describes
    apply(board, event, history)   -> the board after the next event
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from signage.core import hall, messages as m


@dataclass(frozen=True)
class Board:
    state: m.Snapshot = hall.EMPTY
    synced: bool = False  # a welcome was received at least once: state.seq is meaningful

    @property
    def seq(self) -> int:
        return self.state.seq


def adopt(welcome: m.Welcome) -> Board:
    return Board(replace(welcome.state, seq=welcome.seq), True)


def apply(board: Board, event: m.Event, history_limit: int) -> Board:
    return Board(hall.apply(board.state, event, history_limit), True)
