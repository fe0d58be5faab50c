"""How a display keeps its copy of the hall state in step with the hub. Pure.

    since_for_hello(board)                 -> the `since` to send in hello
    on_welcome(board, welcome, since)      -> board, adopted?
    on_event(board, event, history_limit)  -> board, Verdict

On welcome the hub either replays what we missed (welcome.replaying > 0, or we
are already at its seq): we keep our state and apply the replay; or it cannot
(first connect, our seq is outside its replay window, its journal was reset):
we adopt its snapshot. Events are applied only when their seq is exactly the
next one (hall.accept); duplicates are ignored and a gap means "resync": the
link reconnects with since = board.seq.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from signage.core import hall, messages as m
from signage.core.hall import Verdict


@dataclass(frozen=True)
class Board:
    state: m.Snapshot = hall.EMPTY
    synced: bool = False  # a welcome was received at least once: state.seq is meaningful

    @property
    def seq(self) -> int:
        return self.state.seq


def since_for_hello(board: Board) -> int | None:
    return board.seq if board.synced else None


def on_welcome(board: Board, welcome: m.Welcome, since: int | None) -> tuple[Board, bool]:
    """(board, True) if the hub's snapshot was adopted, (board, False) if ours is kept."""
    if since is not None and board.synced and (welcome.replaying > 0 or since == welcome.seq):
        return board, False
    return Board(replace(welcome.state, seq=welcome.seq), True), True


def on_event(board: Board, event: m.Event, history_limit: int) -> tuple[Board, Verdict]:
    verdict = hall.accept(board.seq, event)
    if verdict is Verdict.APPLY:
        board = Board(hall.apply(board.state, event, history_limit), True)
    return board, verdict
