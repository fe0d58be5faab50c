"""`signage demo`: the hub, the board and a simulated hall on one machine.

    signage demo [--config PATH] [--speed X] [--duration S] [--size WxH] [--silent]
                 [--headless [--out-dir DIR] [--frame-every S]] [--host H] [--port P]
                 [--data-dir DIR] [--leave-counter N ...] [--seed N]

What runs, and where:

    this process (one asyncio loop)                    child process
    ├── Hub (in-process), journal in the data dir      `signage display` (the real board),
    ├── kiosk: issues tickets           ─ws─► hub ─ws─►  windowed with sound, or headless
    ├── one operator per counter: next/done/skip/recall   on SDL's dummy drivers writing
    └── supervisor: a ticker message now and then         --snapshot-dir frames

The simulated people use the real protocol client with the config's tokens, so
the demo exercises exactly what a hall does. The board runs as a child in its
own session: Ctrl-C reaches only this process, which then stops the board with
SIGTERM (its clean-quit signal) and reaps it; the child also asks the kernel
for SIGTERM should this process die without cleaning up.

The pace is a day of ~600 visitors compressed into DAY_MINUTES / --speed
minutes, with human pauses of a few seconds (also divided by --speed). The
pure part (screen check, pace, visits, service choice) takes its inputs as
parameters; the shells below it do the I/O.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import errno
import logging
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Mapping

from signage.config import Config, Service
from signage.core import protocol
from signage.display.cli_render import parse_size
from signage.errors import HubRefused, JournalError, SignageError

log = logging.getLogger("signage.demo")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

VISITORS_PER_DAY = 600
DAY_MINUTES = 60  # at --speed 1 the whole day takes an hour: a ticket every ~6 s
OPENING_CROWD = 12  # people already waiting at the door when the hall opens
TARGET_UTILISATION = 0.85  # busiest counter's share of time serving: queues stay bounded
SERVICE_SECONDS = (10.0, 120.0)  # bounds of a counter's mean service time at --speed 1
MAX_KEPT_FRAMES = 240  # headless: older frame-NNNN files are deleted
BOARD_STOP_SECONDS = 5.0  # grace for the board to quit on SIGTERM before it is killed

# People per day relative to a typical agency (1.0). Busy ones from MPP practice:
# KTP-el/KK at Disdukcapil, vehicle tax at Samsat, BPJS, SKCK at Polres.
AGENCY_DEMAND: Mapping[str, float] = {
    "DUKCAPIL": 8.0, "SAMSAT": 5.0, "BPJSKES": 4.0, "POLRES": 3.0, "BAPENDA": 2.5, "BPJSTK": 2.0,
    "DPMPTSP": 1.5, "IMIGRASI": 1.5, "ATRBPN": 1.5, "BJB": 1.5, "KEMENAG": 1.2, "DISNAKER": 1.2,
    "DINSOS": 0.8, "PA": 0.8, "POS": 0.7, "TASPEN": 0.6, "DINKES": 0.5,
}

# Running-text notices a supervisor might post during a day ({...} filled from config/clock).
TICKER_NOTICES = (
    "Mohon perhatian: kendaraan berpelat A 1234 XY harap dipindahkan dari depan pintu masuk.",
    "Loket {counter} ({agency}) istirahat sebentar, pelayanan dilanjutkan pukul {back} {tz}.",
    "Pengunjung yang nomornya terlewat dapat melapor ke petugas loket dalam {window} menit.",
    "Jagalah kebersihan dan ketertiban ruang tunggu. Terima kasih atas kesabaran Anda.",
    "Pengambilan KTP-el yang sudah tercetak: siapkan bukti perekaman dan tunggu panggilan Loket 1.",
    "Layanan hari ini tidak dipungut biaya kecuali yang ditetapkan peraturan. Laporkan pungutan liar.",
)


# ---------------------------------------------------------------- options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--headless", action="store_true",
                        help="no window and no sound: write board frames to --out-dir instead")
    parser.add_argument("--duration", type=_positive_float, metavar="SECONDS",
                        help="stop after this long (default: run until Ctrl-C)")
    parser.add_argument("--speed", type=_positive_float, default=1.0, metavar="X",
                        help=f"pace factor; 1 = a day of {VISITORS_PER_DAY} visitors in {DAY_MINUTES} minutes")
    parser.add_argument("--size", type=parse_size, default=(1600, 900), metavar="WxH",
                        help="board window / frame size (default 1600x900)")
    parser.add_argument("--silent", action="store_true", help="board without sound (always so with --headless)")
    parser.add_argument("--out-dir", type=Path, metavar="DIR",
                        help="--headless frames (default: DATA_DIR/demo-frames)")
    parser.add_argument("--frame-every", type=_positive_float, default=5.0, metavar="SECONDS",
                        help="--headless: keep a frame this often, when the board changed (default 5)")
    parser.add_argument("--data-dir", type=Path, metavar="DIR",
                        help="demo journal and frames (default: $XDG_DATA_HOME/signage or ~/.local/share/signage)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="hub listen address (default 127.0.0.1; 0.0.0.0 lets phones on the LAN open the pages)")
    parser.add_argument("--port", type=int, default=None,
                        help="hub port (default: hub.port, or any free port if that one is taken)")
    parser.add_argument("--leave-counter", type=int, action="append", default=[], metavar="N",
                        help="don't simulate counter N: serve it yourself from the operator panel (repeatable)")
    parser.add_argument("--seed", type=int, default=None, help="random seed, for a repeatable day")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or math.isinf(value):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


# ---------------------------------------------------------------- pure: where things go


USABLE_WITHOUT_DISPLAY = ("kmsdrm", "kmsdrm_legacy", "directfb", "rpi", "vivante", "android", "cocoa", "windows")
SHOWS_NOTHING = ("dummy", "offscreen", "evdev")


def missing_screen(environ: Mapping[str, str], platform: str = sys.platform) -> str | None:
    """Why a board window can't be shown here, or None when it can."""
    if not platform.startswith("linux"):
        return None  # macOS and Windows always have a window system
    drivers = [d.strip().lower() for d in environ.get("SDL_VIDEODRIVER", "").split(",") if d.strip()]
    has_x11, has_wayland = bool(environ.get("DISPLAY")), bool(environ.get("WAYLAND_DISPLAY"))
    if not drivers:
        return None if has_x11 or has_wayland else "DISPLAY and WAYLAND_DISPLAY are not set"
    for driver in drivers:
        if driver in USABLE_WITHOUT_DISPLAY or (driver == "x11" and has_x11) or (driver == "wayland" and has_wayland):
            return None
        if driver not in SHOWS_NOTHING + ("x11", "wayland"):
            return None  # a driver we don't know: let SDL try it
    return f"SDL_VIDEODRIVER={environ['SDL_VIDEODRIVER']} with DISPLAY={environ.get('DISPLAY', '')!r}"


def default_data_dir(environ: Mapping[str, str]) -> Path:
    base = environ.get("XDG_DATA_HOME") or os.path.join(environ.get("HOME") or os.path.expanduser("~"),
                                                       ".local", "share")
    return Path(base) / "signage"


# ---------------------------------------------------------------- pure: the simulated hall


@dataclass(frozen=True)
class Pace:
    """Every duration of the simulated day, in seconds of wall time."""

    ticket_gap: float  # mean time between two visitors at the kiosk
    service: Mapping[str, float]  # agency code → mean service time at its counters
    pause: tuple[float, float]  # operator's pause between two visitors
    walk_up: tuple[float, float]  # from the call to the visitor at the counter
    patience: tuple[float, float]  # how long an operator waits for a no-show before recalling/skipping
    comes_back: tuple[float, float]  # a no-show returns after this long (within the no-show window)
    ticker_gap: tuple[float, float]  # between two supervisor notices
    ticker_shown: tuple[float, float]  # how long a notice stays up before it is cleared


def agency_demand(config: Config) -> dict[str, float]:
    """Agency code → share of the day's visitors (sums to 1); agencies without services get none."""
    served = {s.agency for s in config.services}
    raw = {a.code: AGENCY_DEMAND.get(a.code, 1.0) for a in config.agencies if a.code in served}
    total = sum(raw.values())
    return {code: weight / total for code, weight in raw.items()}


def plan_pace(config: Config, speed: float) -> Pace:
    """Durations for a compressed day; each agency's service time keeps its counters below saturation."""
    ticket_gap = DAY_MINUTES * 60 / VISITORS_PER_DAY
    pause, walk_up = (2.0, 5.0), (3.0, 7.0)
    overhead = sum(pause) / 2 + sum(walk_up) / 2
    counters_of: dict[str, set[int]] = {}
    for service in config.services:
        counters_of.setdefault(service.agency, set()).update(service.counters)
    service = {}
    for agency, share in agency_demand(config).items():
        arrivals = share / ticket_gap  # visitors per second for this agency
        cycle = TARGET_UTILISATION * len(counters_of[agency]) / arrivals
        service[agency] = min(max(cycle - overhead, SERVICE_SECONDS[0]), SERVICE_SECONDS[1]) / speed
    window = config.queue.no_show_window_minutes * 60

    def scaled(lo: float, hi: float) -> tuple[float, float]:
        return lo / speed, hi / speed

    return Pace(ticket_gap=ticket_gap / speed, service=service, pause=scaled(*pause), walk_up=scaled(*walk_up),
                patience=scaled(10.0, 16.0), comes_back=(min(60.0, window / 4) / speed, min(180.0, window / 2) / speed),
                ticker_gap=scaled(60.0, 150.0), ticker_shown=scaled(30.0, 60.0))


@dataclass(frozen=True)
class Visit:
    """What one called visitor will do, decided when the ticket is called."""

    walk_up: float  # seconds until at the counter
    heard_first_call: bool  # False: the operator recalls once before they come
    shows_up: bool  # False: a no-show; the operator recalls, then skips
    comes_back_after: float | None  # a no-show who returns later (operator calls the skipped ticket back)
    service: float  # seconds at the counter


def plan_visit(rng: random.Random, pace: Pace, agency: str) -> Visit:
    shows_up = rng.random() >= 0.06
    comes_back = None
    if not shows_up and rng.random() < 0.4:
        comes_back = rng.uniform(*pace.comes_back)
    mean = pace.service[agency]
    # Service times are skewed: most are quick, some take much longer (missing papers, questions).
    service = min(rng.lognormvariate(math.log(mean) - 0.125, 0.5), 4 * mean)
    return Visit(walk_up=rng.uniform(*pace.walk_up), heard_first_call=rng.random() >= 0.08,
                 shows_up=shows_up, comes_back_after=comes_back, service=service)


def pick_service(rng: random.Random, config: Config, demand: Mapping[str, float]) -> Service:
    """A service for the next visitor: agency by demand, then earlier-listed services more often."""
    agencies = list(demand)
    agency = rng.choices(agencies, weights=[demand[a] for a in agencies])[0]
    services = [s for s in config.services if s.agency == agency]
    return rng.choices(services, weights=[1 / math.sqrt(i + 1) for i in range(len(services))])[0]


def ticker_notice(rng: random.Random, config: Config, now: datetime) -> str:
    counter = rng.choice(config.counters)
    agency = config.agency(counter.agency)
    back = (now + timedelta(minutes=15)).strftime("%H.%M")
    return rng.choice(TICKER_NOTICES).format(
        counter=counter.number, agency=agency.short_name if agency else counter.agency, back=back,
        tz=config.hall.timezone_label, window=f"{config.queue.no_show_window_minutes:g}")


# ---------------------------------------------------------------- entry point


def run(args: argparse.Namespace, config: Config) -> int:
    if not args.headless:
        problem = missing_screen(os.environ)
        if problem:
            print(f"signage demo: no screen to open the board on ({problem}); "
                  "use `signage demo --headless` to write board frames instead", file=sys.stderr)
            return EXIT_USAGE
    unknown = [n for n in args.leave_counter if config.counter(n) is None]
    if unknown:
        print(f"signage demo: --leave-counter {unknown[0]}: no such counter in {config.path}", file=sys.stderr)
        return EXIT_USAGE
    if args.log_level == "info":
        # One line per connection from the hub and the board would drown the demo's own lines.
        logging.getLogger("signage.hub").setLevel(logging.WARNING)
    try:
        return asyncio.run(Demo(args, config).run())
    except KeyboardInterrupt:  # Ctrl-C before the loop took over the signals
        return EXIT_OK


class Demo:
    def __init__(self, args: argparse.Namespace, config: Config):
        self.args = args
        self.data_dir = (args.data_dir or default_data_dir(os.environ)).expanduser().resolve()
        self.journal = self.data_dir / "demo-journal.sqlite"
        self.config = dataclasses.replace(config, hub=dataclasses.replace(config.hub, journal=self.journal))
        self.rng = random.Random(args.seed)
        self.pace = plan_pace(config, args.speed)
        self.demand = agency_demand(config)
        self.stop = asyncio.Event()
        self.hub = None
        self.board: Board | None = None

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, self.stop.set)
        try:
            self.hub = await self._start_hub()
        except (JournalError, OSError) as exc:
            print(f"signage demo: cannot start the hub: {exc}", file=sys.stderr)
            return EXIT_FAILED
        tasks: list[asyncio.Task] = []
        status = EXIT_OK
        try:
            self.board = Board(self.args, self.config, self.hub.url, self.data_dir)
            await self.board.start()
            self._print_banner()
            tasks = self._start_people()
            status = await self._wait(tasks)
        finally:
            self.stop.set()
            await cancel_all(tasks)
            if self.board is not None:
                await self.board.stop()
            await self.hub.stop()
        log.info("demo stopped")
        return status

    # ------------------------------------------------------------ the hub

    async def _start_hub(self):
        from signage.hub.server import Hub

        self.data_dir.mkdir(parents=True, exist_ok=True)
        fresh_journal(self.journal)
        port = self.args.port if self.args.port is not None else self.config.hub.port
        hub = Hub(self.config, host=self.args.host, port=port)
        try:
            return await hub.start()
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE or self.args.port is not None:
                await hub.stop()
                raise
            await hub.stop()
        log.info("port %d is taken; the demo hub uses a free one", port)
        hub = Hub(self.config, host=self.args.host, port=0)
        return await hub.start()

    def _print_banner(self) -> None:
        cfg = self.config
        http = self.hub.url.replace("ws://", "http://").rstrip("/")
        supervisor = next((t for t in cfg.tokens if t.role == "operator" and t.counters is None), None)
        kiosk = cfg.first_token("kiosk")
        admin = cfg.first_token("admin")
        tablet = cfg.first_token("survey")
        lines = [
            f"signage demo: {cfg.hall.short_name}, {len(cfg.counters)} counters, {len(cfg.services)} services, "
            f"speed {self.args.speed:g} (a day of {VISITORS_PER_DAY} visitors in {DAY_MINUTES / self.args.speed:g} min)",
            f"  hub             {self.hub.url}  (journal {self.journal})",
            f"  operator panel  {http}/operator" + (f"  token {supervisor.secret} (every counter)" if supervisor else ""),
            f"  kiosk           {http}/kiosk" + (f"  token {kiosk.secret}" if kiosk else ""),
            f"  reports         {http}/reports" + (f"  token {admin.secret}" if admin else ""),
            f"  survey tablet   {http}/survey" + (f"?token={tablet.secret}  (counter {tablet.counters[0]})"
                                                  if tablet else ""),
            f"  health          {http}/healthz",
            f"  board           {self.board.describe()}",
        ]
        if self.args.leave_counter:
            lines.append(f"  yours           counter(s) {', '.join(map(str, self.args.leave_counter))} "
                         "are not simulated: serve them from the operator panel")
        lines.append("  stop            Ctrl-C" + (f" (or after {self.args.duration:g} s)" if self.args.duration else ""))
        print("\n".join(lines), flush=True)

    # ------------------------------------------------------------ the people

    def _start_people(self) -> list[asyncio.Task]:
        tasks = [asyncio.create_task(self._kiosk(), name="kiosk"),
                 asyncio.create_task(self._supervisor(), name="supervisor")]
        for counter in self.config.counters:
            if counter.number not in self.args.leave_counter:
                tasks.append(asyncio.create_task(self._operator(counter.number), name=f"counter-{counter.number}"))
        return tasks

    async def _wait(self, tasks: list[asyncio.Task]) -> int:
        """Until Ctrl-C/SIGTERM, --duration, the board closing, or a simulated person failing."""
        stopped = asyncio.create_task(self.stop.wait())
        board = asyncio.create_task(self.board.wait())
        watched = {stopped, board, *tasks}
        try:
            done, _ = await asyncio.wait(watched, timeout=self.args.duration, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            board.cancel()
        if board in done:
            code = board.result()
            if code != 0:
                print(f"signage demo: the board exited with status {code}", file=sys.stderr)
                return EXIT_FAILED
            log.info("board closed")
            return EXIT_OK
        for task in done & set(tasks):
            exc = task.exception()
            print(f"signage demo: {task.get_name()} stopped: {exc or 'ended'}", file=sys.stderr)
            return EXIT_FAILED
        return EXIT_OK

    def _session(self, role: str, token: str, name: str):
        from signage.operator.client import Session

        return Session(self.hub.url, token, role=role, client=f"demo-{name}", subscribe=False)

    async def _sleep(self, lo_hi: tuple[float, float] | float) -> None:
        await asyncio.sleep(self.rng.uniform(*lo_hi) if isinstance(lo_hi, tuple) else lo_hi)

    async def _kiosk(self) -> None:
        from signage.core import messages as m
        from signage.operator.client import new_id

        token = self.config.first_token("kiosk")
        if token is None:
            log.warning("no kiosk token in %s: nobody issues tickets", self.config.path)
            await asyncio.Future()
        async with self._session("kiosk", token.secret, "kiosk") as session:
            issued = 0
            while True:
                service = pick_service(self.rng, self.config, self.demand)
                priority = self.config.queue.priority and self.rng.random() < 0.05
                ack = await session.request(m.Issue(new_id("demo"), service.code, priority))
                issued += 1
                log.debug("kiosk: %s for %s%s", ack.event.ticket, service.name, " (priority)" if priority else "")
                # The opening crowd takes tickets one after another; then visitors trickle in.
                gap = 0.3 / self.args.speed if issued < OPENING_CROWD else self.rng.expovariate(1 / self.pace.ticket_gap)
                await asyncio.sleep(gap)

    async def _operator(self, number: int) -> None:
        from signage.core import messages as m
        from signage.operator.client import new_id

        token = next((t for t in self.config.tokens if t.role == "operator" and t.counters == (number,)), None)
        token = token or next((t for t in self.config.tokens if t.role == "operator" and t.counters is None), None)
        if token is None:
            log.warning("no operator token for counter %d: it stays idle", number)
            await asyncio.Future()
        name = self.config.counter(number).name
        agency = self.config.counter(number).agency
        tablet = next((t for t in self.config.tokens if t.role == "survey" and number in (t.counters or ())), None)
        returning: list[tuple[float, str]] = []  # (monotonic time back, skipped ticket)
        async with self._session("operator", token.secret, f"counter-{number}") as session:
            await self._sleep(self.pace.pause)
            while True:
                due = next((r for r in returning if r[0] <= time.monotonic()), None)
                try:
                    if due is not None:
                        returning.remove(due)
                        ack = await session.request(m.Recall(new_id("demo"), number, due[1]))
                        log.info("%s calls back %s", name, ack.event.ticket)
                    else:
                        ack = await session.request(m.Next(new_id("demo"), number))
                        log.info("%s calls %s", name, ack.event.ticket)
                except HubRefused as exc:
                    if exc.code not in ("queue_empty", "unknown_ticket"):
                        raise
                    await self._sleep(self.pace.pause)
                    continue
                ticket = ack.event.ticket
                visit = plan_visit(self.rng, self.pace, agency)
                if due is not None:  # the returning visitor is at the desk already
                    visit = dataclasses.replace(visit, walk_up=0.0, heard_first_call=True, shows_up=True)
                if not visit.heard_first_call or not visit.shows_up:
                    await self._sleep(self.pace.patience)
                    await session.request(m.Recall(new_id("demo"), number))
                    log.info("%s calls %s again", name, ticket)
                if not visit.shows_up:
                    await self._sleep(self.pace.patience)
                    await session.request(m.Skip(new_id("demo"), number))
                    log.info("%s: %s did not come (no-show)", name, ticket)
                    if visit.comes_back_after is not None:
                        returning.append((time.monotonic() + visit.comes_back_after, ticket))
                else:
                    await asyncio.sleep(visit.walk_up + visit.service)
                    await session.request(m.Done(new_id("demo"), number))
                    if tablet is not None and self.rng.random() < RATING_SHARE:
                        await self._rate(tablet.secret, number, ticket)
                await self._sleep(self.pace.pause)

    async def _rate(self, secret: str, number: int, ticket: str) -> None:
        """The visitor rates the service on the counter's tablet (SKM), as some visitors do."""
        from signage.core import messages as m
        from signage.operator.client import new_id

        async with self._session("survey", secret, f"survey-{number}") as session:
            await session.request(m.Rate(new_id("demo"), number, ticket,
                                         visitor_scores(self.rng, self.config.survey.form)))

    async def _supervisor(self) -> None:
        from signage.core import messages as m
        from signage.operator.client import new_id

        token = next((t for t in self.config.tokens if t.role == "operator" and t.counters is None), None)
        if token is None:
            await asyncio.Future()  # no supervisor token: no notices, nothing else changes
        async with self._session("operator", token.secret, "supervisor") as session:
            while True:
                await self._sleep(self.pace.ticker_gap)
                text = ticker_notice(self.rng, self.config, datetime.now(self.config.hall.timezone))
                await session.request(m.Ticker(new_id("demo"), text))
                log.info("ticker: %s", text)
                await self._sleep(self.pace.ticker_shown)
                await session.request(m.Ticker(new_id("demo"), ""))


RATING_SHARE = 0.4  # of the visitors served at a counter with a survey tablet


def visitor_scores(rng: random.Random, form: str) -> tuple[int, ...]:
    """A mostly satisfied visitor's SKM scores: the full form's nine, or the short form's one."""
    count = 1 if form == "short" else 9
    return tuple(rng.choices((1, 2, 3, 4), (1, 3, 10, 8))[0] for _ in range(count))


async def cancel_all(tasks: list[asyncio.Task]) -> None:
    """Cancel and await the tasks, cancelling again any that swallowed it.

    Python 3.11's asyncio.wait_for (inside Session.request) can lose a
    cancellation that arrives just as its reply does; the task then carries on.
    """
    pending = {t for t in tasks if not t.done()}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=0.5)
    await asyncio.gather(*tasks, return_exceptions=True)


def fresh_journal(path: Path) -> None:
    """Start the demo's day from scratch, unless another demo holds the journal."""
    import fcntl

    lock_path = Path(f"{path}.lock")
    if lock_path.exists():
        with open(lock_path, "a+") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise JournalError(f"journal {path} is in use: is another demo running? "
                                   "(use --data-dir for a second one)") from None
            fcntl.flock(lock, fcntl.LOCK_UN)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


# ---------------------------------------------------------------- the board (child process)


class Board:
    """`signage display` in a child process: a window with sound, or headless frames."""

    def __init__(self, args: argparse.Namespace, config: Config, hub_url: str, data_dir: Path):
        self.args = args
        self.config = config
        self.hub_url = hub_url
        self.headless = args.headless
        self.out_dir = (args.out_dir or data_dir / "demo-frames").resolve()
        self.live_dir = self.out_dir / "live"  # the display's --snapshot-dir
        self.proc: asyncio.subprocess.Process | None = None
        self.copier: asyncio.Task | None = None
        self.kept: list[Path] = []
        self._last_copied: str | None = None

    def describe(self) -> str:
        w, h = self.args.size
        if self.headless:
            return f"headless {w}x{h}, a frame every {self.args.frame_every:g} s in {self.out_dir}"
        return f"window {w}x{h}, sound {'off' if self.args.silent else 'on'} (Escape closes it and ends the demo)"

    async def start(self) -> None:
        token = self.config.first_token("display")
        if token is None:
            raise SignageError(f"{self.config.path}: tokens: no display token for the board")
        w, h = self.args.size
        argv = ["display", "--config", str(Path(self.config.path).resolve()), "--hub", self.hub_url,
                "--windowed", f"{w}x{h}",
                "--log-level", "warning" if self.args.log_level == "info" else self.args.log_level]
        env = {**os.environ, "SIGNAGE_TOKEN": token.secret, "PYGAME_HIDE_SUPPORT_PROMPT": "1"}
        if self.headless:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            for old in self.out_dir.glob("frame-*.*"):
                old.unlink()
            shutil.rmtree(self.live_dir, ignore_errors=True)
            argv += ["--silent", "--snapshot-dir", str(self.live_dir)]
            env.update(SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")
        elif self.args.silent:
            argv.append("--silent")
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", "from signage.demo import board_child; board_child()", str(os.getpid()), *argv,
            env=env, stdin=subprocess.DEVNULL, start_new_session=True)
        if self.headless:
            self.copier = asyncio.create_task(self._keep_frames(), name="frames")

    async def wait(self) -> int:
        return await self.proc.wait()

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)  # the display's clean quit
            try:
                await asyncio.wait_for(self.proc.wait(), BOARD_STOP_SECONDS)
            except asyncio.TimeoutError:
                log.warning("board did not quit within %g s; killing it", BOARD_STOP_SECONDS)
                self.proc.kill()
                await self.proc.wait()
        if self.copier is not None:
            self.copier.cancel()
            await asyncio.gather(self.copier, return_exceptions=True)
            self.keep_frame()  # the last state of the board

    async def _keep_frames(self) -> None:
        while True:
            await asyncio.sleep(self.args.frame_every)
            self.keep_frame()

    def keep_frame(self) -> Path | None:
        """Copy the display's latest frame.png/.json to frame-NNNN.* if the board changed since the last copy."""
        src_json = self.live_dir / "frame.json"
        try:
            before = src_json.read_text(encoding="utf-8")
            png = (self.live_dir / "frame.png").read_bytes()
            after = src_json.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None  # no frame yet
        if before != after or after == self._last_copied:
            return None  # caught mid-update (try next time), or nothing new
        try:
            protocol.decode_document(after)
        except ValueError:
            return None
        self._last_copied = after
        stem = self.out_dir / f"frame-{len(self.kept) + 1:04d}"
        _write_atomic(stem.with_suffix(".png"), png)
        _write_atomic(stem.with_suffix(".json"), after.encode("utf-8"))
        self.kept.append(stem)
        if len(self.kept) > MAX_KEPT_FRAMES:
            old = self.kept[-MAX_KEPT_FRAMES - 1]
            old.with_suffix(".png").unlink(missing_ok=True)
            old.with_suffix(".json").unlink(missing_ok=True)
        return stem.with_suffix(".png")


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def board_child() -> None:
    """Runs in the board's process: `python -c ... PARENT_PID display ...`.

    Asks the kernel for SIGTERM when the demo dies (even by SIGKILL), so a board
    never outlives its demo, then runs `signage display` in this same process.
    """
    parent, argv = int(sys.argv[1]), sys.argv[2:]
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        except (OSError, AttributeError):
            pass  # no prctl: the demo's own cleanup still stops the board
    if os.getppid() != parent:
        sys.exit(0)  # the demo died before we got here
    from signage.cli import main

    sys.exit(main(argv))
