"""Real processes for the voice-zone tests and benchmarks: one hub, N `signage announcer`s.

Each announcer process captures what its mixer played with SDL's disk driver into its
own file (one file per process start) and logs `voice start/end/cut seq=N wall=T`
and `voice: holding zone ... wall=T`. `VoiceRig.results()` reads all of it back:

    rig = VoiceRig(tmp_path, announcers=3).start()
    rig.call(5, "A-001")                      # a real operator command
    rig.kill(rig.holder())                    # SIGKILL the holder, restarted with restart()
    r = rig.results()                          # per call: captures it is found in; speech intervals
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import yaml

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from audio_harness import find_all, wav_frames  # noqa: E402
from support import HubProcess, timeout, write_config  # noqa: E402

FAST = {"rate": 260, "repeat": 1, "burst_threshold": 1000, "volume": 1.0,
        "templates": {"id": "{letter} {number}, {counter}.", "en": "{letter} {number}, {counter}."}}
LINE = re.compile(r"voice (start|end|cut) seq=(\d+) zone=\S+ wall=([\d.]+)")
HOLDING = re.compile(r"voice: holding zone \S+, epoch (\d+) .*wall=([\d.]+)")


def make_pack(folder: Path, config_path: Path, languages) -> Path:
    """espeak-ng's own words as a voice pack, so every process plays bit-identical speech.

    espeak-ng through pyttsx3 is not deterministic across processes (the same phrase came out a few
    samples longer or shorter in two runs), so a capture can't be matched against a WAV synthesised
    here. Clips made once and joined by the production voice-pack path are the same everywhere.
    """
    from signage.announcer import voicepack
    from signage.config import load_config

    folder.mkdir(parents=True, exist_ok=True)
    cfg = load_config(config_path)
    for language in languages:
        voice = "id" if language == "id" else "en"
        for word in voicepack.required_words(cfg.announcer, language, tuple(c.name for c in cfg.counters), 120):
            clip = voicepack.clip_path(folder, word)
            if not clip.exists():
                subprocess.run(["espeak-ng", "-v", voice, "-s", str(cfg.announcer.rate), "-w", str(clip), word],
                               check=True, capture_output=True)
    return folder


def rig_config(tmp: Path, *, lease_seconds: float = 3, languages=("id",), announcer: dict | None = None) -> Path:
    path = write_config(tmp)
    raw = yaml.safe_load(path.read_text())
    raw["announcer"].update(FAST, **(announcer or {}))
    raw["audio"] = {"lease_seconds": lease_seconds}
    raw["audio_zones"] = [{"name": "aula", "counters": "all", "languages": list(languages)}]
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False))
    pack = make_pack(PACKS / "-".join(languages), path, languages)
    raw["announcer"]["voice_pack"] = str(pack)
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False))
    return path


PACKS = Path(os.environ.get("SIGNAGE_TEST_PACKS", "/tmp/signage-test-voice-packs"))


@dataclass
class Run:
    """One start of one announcer process."""

    name: str
    capture: Path
    log: Path
    proc: subprocess.Popen
    killed_at: float | None = None


@dataclass
class Results:
    found: dict[int, list[str]]  # call seq -> capture files its speech is found in (verbatim)
    intervals: dict[str, list[tuple[float, float, int]]]  # capture -> (start, end, seq) of each announcement
    holdings: list[tuple[float, str]]  # (wall time a process became holder, capture)
    cut: list[int] = field(default_factory=list)


class VoiceRig:
    def __init__(self, tmp: Path, *, announcers: int = 3, lease_seconds: float = 3, languages=("id",),
                 hub_port: int | None = None, announcer: dict | None = None):
        self.tmp = tmp
        self.names = [f"a{i + 1}" for i in range(announcers)]
        self.config_path = rig_config(tmp, lease_seconds=lease_seconds, languages=languages, announcer=announcer)
        self.config = yaml.safe_load(self.config_path.read_text())
        self.hub = HubProcess(self.config_path)
        self.hub_port = hub_port
        self.runs: list[Run] = []
        self.operator = next(t["token"] for t in self.config["tokens"]
                             if t["role"] == "operator" and t.get("counters", "all") == "all")
        self.hub_url_override: str | None = None  # announcers connect here (a proxy), if set

    # ------------------------------------------------------------ processes

    def start(self) -> "VoiceRig":
        self.hub.start(self.hub_port or 0)
        for name in self.names:
            self.spawn(name)
        self.wait_for(lambda h: h["voice"]["aula"]["holder"] is not None
                      and h["voice"]["aula"]["candidates"] == len(self.names), 30)
        return self

    def spawn(self, name: str, hub_url: str | None = None) -> Run:
        """`display-semua` starts a board (`signage display`), any other name a headless announcer."""
        n = sum(1 for r in self.runs if r.name == name)
        capture = self.tmp / f"{name}-{n}.raw"
        log = self.tmp / f"{name}-{n}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SDL_")}
        env.update(SDL_AUDIODRIVER="disk", SDL_DISKAUDIOFILE=str(capture), SDL_VIDEODRIVER="dummy",
                   PYGAME_HIDE_SUPPORT_PROMPT="1")
        url = hub_url or self.hub_url_override or self.hub.url
        if name.startswith("display-"):
            command = ["display", "--windowed", "320x180", "--zone", name.removeprefix("display-")]
        else:
            command = ["announcer", "--name", name, "--zone", "aula"]
        with open(log, "w") as out:
            proc = subprocess.Popen([sys.executable, "-m", "signage", *command, "--config", str(self.config_path),
                                     "--hub", url], stdout=out, stderr=subprocess.STDOUT, env=env)
        run = Run(name, capture, log, proc)
        self.runs.append(run)
        return run

    def live(self, name: str) -> Run:
        return next(r for r in reversed(self.runs) if r.name == name and r.proc.poll() is None)

    def kill(self, name: str) -> float:
        run = self.live(name)
        run.killed_at = time.time()
        run.proc.send_signal(signal.SIGKILL)
        run.proc.wait()
        return run.killed_at

    def stop_announcers(self) -> None:
        for run in self.runs:
            if run.proc.poll() is None:
                run.proc.terminate()
        for run in self.runs:
            try:
                run.proc.wait(timeout(10))
            except subprocess.TimeoutExpired:
                run.proc.kill()

    def stop(self) -> None:
        self.stop_announcers()
        self.hub.stop()

    # ------------------------------------------------------------ hub

    def health(self) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.hub.port}/healthz", timeout=5) as r:
            return json.loads(r.read())

    def wait_for(self, condition, seconds: float) -> dict:
        deadline = time.monotonic() + timeout(seconds)
        last = None
        while time.monotonic() < deadline:
            try:
                last = self.health()
                if condition(last):
                    return last
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"condition not met in {seconds} s; last /healthz: {last}")

    def holder(self) -> str:
        label = self.health()["voice"]["aula"]["holder"]
        return label.split("/")[1].split("#")[0]

    def call(self, counter: int, ticket: str) -> int:
        from signage.core import messages as m
        from signage.operator.client import new_id, send

        return asyncio.run(send(self.hub.url, self.operator, m.Call(new_id("t"), counter, ticket))).seq

    def receipts(self) -> dict[int, tuple[str, str | None]]:
        db = sqlite3.connect(f"file:{self.config['hub']['journal']}?mode=ro", uri=True)
        try:
            return {seq: (status, reason) for seq, status, reason in
                    db.execute("SELECT seq, status, reason FROM receipts")}
        finally:
            db.close()

    def wait_receipts(self, seqs, seconds: float) -> dict:
        deadline = time.monotonic() + timeout(seconds)
        while time.monotonic() < deadline:
            got = self.receipts()
            if set(seqs) <= set(got):
                return got
            time.sleep(0.2)
        raise AssertionError(f"no receipt for {sorted(set(seqs) - set(self.receipts()))}")

    # ------------------------------------------------------------ what was heard

    def speech(self, calls: dict[int, tuple[int, str]], language: str = "id") -> dict[int, bytes]:
        """The exact PCM each call's speech is: synthesised here by the same TTS and settings."""
        from signage.announcer.service import Announcer
        from signage.config import load_config
        from signage.core.announcements import Announcement, CallNotice
        from datetime import datetime, timezone

        from signage.announcer import voicepack

        cfg = load_config(self.config_path)
        announcer = Announcer(cfg.announcer, {c.number: c.name for c in cfg.counters}, "id")
        out = {}
        now = datetime.now(timezone.utc)
        for seq, (counter, ticket) in calls.items():
            text = announcer.phrase(Announcement(CallNotice(seq, "call", ticket, counter, now, True), "call", 1,
                                                 True), language)
            wav = self.tmp / f"expected-{seq}-{language}.wav"
            assert voicepack.render(text, cfg.announcer.voice_pack, wav), f"voice pack lacks a word of {text!r}"
            out[seq] = wav_frames(wav.read_bytes())[1]
        return out

    def results(self, speech: dict[int, bytes]) -> Results:
        captures = {r.capture.name: (r.capture.read_bytes() if r.capture.exists() else b"") for r in self.runs}
        killed = {r.capture.name for r in self.runs if r.killed_at}
        found = {seq: [name for name, data in captures.items()
                       if find_all(data, pcm) or (name in killed and _cut_off_at_the_end(data, pcm))]
                 for seq, pcm in speech.items()}
        intervals: dict[str, list[tuple[float, float, int]]] = {}
        holdings, cut = [], []
        for run in self.runs:
            open_start: dict[int, float] = {}
            spans = []
            for line in run.log.read_text(errors="replace").splitlines():
                if (hit := LINE.search(line)):
                    kind, seq, wall = hit.group(1), int(hit.group(2)), float(hit.group(3))
                    if kind == "start":
                        open_start[seq] = wall
                    elif seq in open_start:
                        spans.append((open_start.pop(seq), wall, seq))
                        if kind == "cut":
                            cut.append(seq)
                elif (hit := HOLDING.search(line)):
                    holdings.append((float(hit.group(2)), run.capture.name))
            for seq, start in open_start.items():  # killed while speaking: sound until the kill
                spans.append((start, run.killed_at or time.time(), seq))
            intervals[run.capture.name] = sorted(spans)
        return Results(found, intervals, sorted(holdings), cut)


KILL_LOSS = 0.25  # seconds of a SIGKILLed process's capture still in SDL's stdio buffer, never written


def _cut_off_at_the_end(capture: bytes, pcm: bytes) -> bool:
    """The speech runs verbatim to the end of a killed process's capture and at most KILL_LOSS is
    missing: it was played (its receipt may have been sent) but the file lost its last buffer."""
    head = pcm[: min(len(pcm), 8000)]
    for start in find_all(capture, head):
        kept = len(capture) - start * 2
        if kept < len(pcm) and capture[start * 2:] == pcm[:kept] and len(pcm) - kept <= KILL_LOSS * 22050 * 2:
            return True
    return False


def overlaps(intervals: dict[str, list[tuple[float, float, int]]]) -> list[tuple]:
    """Pairs of announcements in different captures whose wall-clock intervals overlap."""
    spans = sorted((start, end, seq, name) for name, items in intervals.items() for start, end, seq in items)
    bad = []
    for i, (start, end, seq, name) in enumerate(spans):
        for other in spans[i + 1:]:
            if other[0] >= end:
                break
            if other[3] != name:
                bad.append(((name, seq, start, end), (other[3], other[2], other[0], other[1])))
    return bad


@dataclass
class FailoverReport:
    calls: dict[int, tuple[int, str]]
    results: Results
    kills: list[float]
    failover_seconds: list[float]
    receipts: dict[int, tuple[str, str | None]]

    @property
    def missing(self) -> list[int]:
        return [seq for seq, where in self.results.found.items() if not where]

    @property
    def duplicates(self) -> list[int]:
        return [seq for seq, where in self.results.found.items() if len(where) > 1]


def failover_run(rig: VoiceRig, *, failovers: int, calls_per_round: int, pause: float = 1.5,
                 restart: bool = True) -> FailoverReport:
    """Stream calls; after each round of calls SIGKILL the holder (and start it again)."""
    calls: dict[int, tuple[int, str]] = {}
    kills: list[float] = []
    number = 0
    lease = rig.config["audio"]["lease_seconds"]
    for round_ in range(failovers + 1):
        for _ in range(calls_per_round):
            counter = number % 21 + 1
            number += 1
            ticket = f"A-{number:03d}"
            calls[rig.call(counter, ticket)] = (counter, ticket)
            time.sleep(pause)
        if round_ == failovers:
            break
        victim = rig.holder()
        old = rig.health()["voice"]["aula"]["epoch"]
        kills.append(rig.kill(victim))
        rig.wait_for(lambda h: h["voice"]["aula"]["epoch"] > old and h["voice"]["aula"]["holder"] is not None,
                     lease + 10)
        if restart:
            rig.spawn(victim)
    receipts = rig.wait_receipts(calls, 60 + 4 * len(calls))
    rig.stop_announcers()  # their captures are complete once they closed the audio device
    results = rig.results(rig.speech(calls))
    failover = []
    for kill in kills:
        after = [t for t, _ in results.holdings if t > kill]
        failover.append(min(after) - kill if after else float("inf"))
    return FailoverReport(calls, results, kills, failover, receipts)
