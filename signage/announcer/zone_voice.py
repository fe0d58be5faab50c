"""One audio zone's voice on this machine: the Announcer, played only under the zone's lease.

Used by the board (`signage display`) and the headless `signage announcer`, both on
their main thread, next to a HubLink made with announce=True:

    voice = ZoneVoice(announcer, link, zone, max_age_seconds, on_speaking=...)
    announcer.gate = voice.may_speak          # (done here)
    ... every BoardChanged:   voice.board(snapshot, notice)    a live call: queued if we hold the lease
    ... every VoiceChanged:   voice.notice(notice)             grant: catch up; loss: drop the queue
    ... every loop turn:      announcer.tick(now); voice.tick(now)   receipts and the speaking state

Receipts (docs/voice.md): `spoken` after the mixer's end of the last part, `skipped`
with the queue's reason. A call cut because the lease ran out gets none: whoever
holds the zone next speaks it again.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Callable

from signage.core import messages as m, voice as v
from signage.core.announcements import Announcement, CallNotice
from signage.core.config import AudioZone
from signage.operator.client import new_id

log = logging.getLogger("signage.voice")


class ZoneVoice:
    def __init__(self, announcer, link, zone: AudioZone, max_age_seconds: float, *,
                 on_speaking: Callable[[str, bool], None] | None = None):
        self.announcer = announcer
        self.link = link
        self.zone = zone
        self.max_age = max_age_seconds
        self.on_speaking = on_speaking  # (zone, speaking): this machine's own voice, for ducking
        self.epoch: int | None = None  # the epoch we hold, as last told by the hub
        self.snapshot: m.Snapshot | None = None
        self.done: set[int] = set()  # seqs we sent a receipt for
        self.speaking = False
        self._started: int | None = None
        self._observer = announcer.observer
        announcer.observer = self._observe
        announcer.gate = self.may_speak

    def may_speak(self) -> bool:
        voice = self.link.holding(self.zone.name)
        return voice is not None and voice.epoch == self.epoch

    # ------------------------------------------------------------ from the link

    def board(self, snapshot: m.Snapshot, notice: CallNotice | None, now: datetime) -> None:
        self.snapshot = snapshot
        if notice is None or notice.counter not in self.zone.counters or self.epoch is None:
            return
        if notice.live:
            self.announcer.submit(notice, now)
        else:
            # Replayed after a reconnect while holding: the hub's watermark says what was spoken.
            self._catch_up(self.link.leases.get(self.zone.name), now)

    def notice(self, notice: m.Voice | m.SpeakingState, now: datetime) -> None:
        if not isinstance(notice, m.Voice) or notice.zone != self.zone.name:
            return
        if notice.you and notice.epoch != self.epoch:
            self.epoch = notice.epoch
            log.info("voice: holding zone %s, epoch %d (watermark %d) wall=%.6f", notice.zone, notice.epoch,
                     notice.watermark, time.time())
            self._catch_up(notice, now)
        elif not notice.you and self.epoch is not None:
            log.info("voice: zone %s is held by %s (epoch %d); dropping our queue", notice.zone, notice.holder,
                     notice.epoch)
            self.epoch = None
            self.announcer.drop_pending()

    def _catch_up(self, voice: m.Voice | None, now: datetime) -> None:
        if voice is None or not voice.you:
            return
        # The hub's list of unspoken calls, and our own history for anything it did not send.
        calls = v.notices_from_calls(voice.calls)
        if self.snapshot is not None:
            calls += v.notices_from_history(self.snapshot.history)
        for notice in v.to_announce(calls, voice.watermark, voice.receipted, now, self.max_age, self.zone.counters):
            if notice.seq not in self.done:
                self.announcer.submit(notice, now)

    # ------------------------------------------------------------ every loop turn

    def tick(self, now: datetime) -> None:
        for notice, reason in self.announcer.take_discarded():
            self._receipt(notice.seq, reason)
        speaking = self.announcer.playing
        if speaking != self.speaking:
            self.speaking = speaking
            if self.epoch is not None or not speaking:
                self.link.send(m.Speaking(self.zone.name, speaking))
            if self.on_speaking is not None:
                self.on_speaking(self.zone.name, speaking)

    def _observe(self, part: str, announcement: Announcement) -> None:
        seq = announcement.notice.seq
        if part in ("chime", "speech") and seq != self._started:
            self._started = seq
            log.info("voice start seq=%d zone=%s wall=%.6f", seq, self.zone.name, time.time())
        elif part == "end":
            log.info("voice end seq=%d zone=%s wall=%.6f", seq, self.zone.name, time.time())
            self._receipt(seq, None)
        elif part == "cut":
            log.info("voice cut seq=%d zone=%s wall=%.6f", seq, self.zone.name, time.time())
        if self._observer is not None:
            self._observer(part, announcement)

    def _receipt(self, seq: int, skipped: str | None) -> None:
        epoch = self.epoch
        if seq in self.done or epoch is None:
            return  # reported already, or not holding: the holder reports this call
        self.done.add(seq)
        if skipped is None:
            self.link.send(m.Spoken(new_id("spoken"), seq, self.zone.name, epoch))
        else:
            self.link.send(m.Skipped(new_id("skipped"), seq, self.zone.name, epoch, skipped))

