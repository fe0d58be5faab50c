"""`signage` command line: one entry point, one subcommand per job.

Config is loaded here once and passed down. Exit status: 0 done, 1 refused by
the hub or failed at run time, 2 bad config or bad usage.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import sys
from typing import Callable

from signage.config import Config, load_config
from signage.core.tokens import token_warnings
from signage.errors import (AccessDenied, ConfigError, HubFailed, HubRefused, HubUnreachable, JournalError,
                            SignageError)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

# Subcommands that live with their own layer: (name, module, help). Each module
# provides add_arguments(parser) and run(args, config) -> int, and imports
# pygame/pyttsx3 only inside run(), so `signage --help` stays fast.
PLUGGED: list[tuple[str, str, str]] = [
    ("display", "signage.display.cli_display", "run the fullscreen hall board"),
    ("render", "signage.display.cli_render", "render one board frame to a PNG"),
    ("say", "signage.announcer.cli_say", "speak (or print, or save) a call announcement"),
    ("announcer", "signage.announcer.cli_announcer", "speak an audio zone's calls, headless, while holding its lease"),
    ("demo", "signage.demo", "run hub, board and simulated operators together"),
    ("printer", "signage.printer.cli_printer", "print the tickets a kiosk issues (ESC/POS ticket printer)"),
    ("content", "signage.cli_content", "check the media playlist and files, or make the hub publish them"),
    ("report", "signage.reports.cli_report", "figures and survey results (IKM) from the journal"),
]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser(plugged_command(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(argv)
    logging.basicConfig(level=getattr(logging, args.log_level.upper()),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("websockets").setLevel(logging.WARNING)  # one line per connection is our job
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        if args.command == "check-config":
            return check_config(args)
        if getattr(args, "without_config", False):  # signage init writes the config
            return args.run(args, None)
        if args.command == "demo" and not (args.config or os.environ.get("SIGNAGE_CONFIG")
                                           or os.path.exists("config.yaml")):
            from signage.cli_fleet import packaged_config_path

            with packaged_config_path() as example:  # outside a checkout: the hall shipped in the package
                return args.run(args, load_config(example))
        config = load_config(args.config)
        return args.run(args, config)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    except AccessDenied as exc:
        print(f"signage: {exc.code}: {exc.message}", file=sys.stderr)
        return EXIT_FAILED
    except HubRefused as exc:
        print(f"signage: {exc.code}: {exc.message}", file=sys.stderr)
        return EXIT_FAILED
    except (HubUnreachable, JournalError) as exc:
        print(f"signage: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return EXIT_OK
    except SignageError as exc:
        print(f"signage: {exc}", file=sys.stderr)
        return EXIT_FAILED


def common_options(*, subcommand: bool) -> argparse.ArgumentParser:
    """--config and --log-level, accepted before and after the subcommand's name.

    A subcommand's copy has no defaults of its own (SUPPRESS): otherwise its default
    would overwrite what was given before the name (`signage --config X hub`).
    """
    def default(value):
        return argparse.SUPPRESS if subcommand else value

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="PATH", default=default(None),
                        help="config file (default: $SIGNAGE_CONFIG or ./config.yaml)")
    common.add_argument("--log-level", default=default(os.environ.get("SIGNAGE_LOG_LEVEL", "info")),
                        choices=["debug", "info", "warning", "error"])
    return common


def plugged_command(argv: list[str]) -> str | None:
    """The PLUGGED subcommand `argv` runs, if it is one: then only its module need be imported."""
    i = 0
    while i < len(argv):
        token = argv[i]
        if len(token) > 2 and "=" not in token and any(o.startswith(token) for o in ("--config", "--log-level")):
            i += 2  # an option with its value (argparse takes abbreviations too)
        elif token.startswith("-"):
            if token in ("-h", "--help"):
                return None
            i += 1
        else:
            return token if token in {name for name, _, _ in PLUGGED} else None
    return None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Every subcommand; with `command` (a PLUGGED one, about to run) only its module is imported,
    and the other plugged ones and cli_fleet's are left out or bare (`signage report` starts faster)."""
    common = common_options(subcommand=True)
    client = argparse.ArgumentParser(add_help=False)
    client.add_argument("--hub", metavar="URL", help="hub address, e.g. ws://10.0.0.5:8765/ (default: from config)")
    client.add_argument("--token", help="access token (default: $SIGNAGE_TOKEN, else one from config)")

    parser = argparse.ArgumentParser(prog="signage", parents=[common_options(subcommand=False)],
                                     description="Screens and voice for a public-service waiting hall.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, help: str, run: Callable, parents=(common,)) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help, parents=list(parents))
        p.set_defaults(run=run)
        return p

    p = add("hub", "run the hub: websocket server, journal, web pages", run_hub)
    p.add_argument("--host", help="listen address (default: hub.host)")
    p.add_argument("--port", type=int, help="listen port (default: hub.port; 0 = any free port)")

    p = sub.add_parser("check-config", help="validate a config file and print a summary", parents=[common])
    p.add_argument("path", nargs="?", metavar="PATH")
    p.add_argument("--strict", action="store_true",
                   help="also refuse (exit 2) sample and short tokens, which are otherwise warnings")

    ops = (common, client)
    p = add("call", "call a ticket to a counter", run_command, ops)
    p.add_argument("counter", type=int)
    p.add_argument("ticket")
    wait_spoken(p)
    p = add("recall", "call the counter's ticket again (or a skipped ticket with --ticket)", run_command, ops)
    p.add_argument("counter", type=int)
    p.add_argument("--ticket", help="a ticket from the no-show list")
    wait_spoken(p)
    p = add("clear", "mark the counter idle or closed", run_command, ops)
    p.add_argument("counter", type=int)
    p = add("ticker", "set the running text on every board ('' clears it)", run_command, ops)
    p.add_argument("text")
    p = add("next", "call the oldest waiting ticket for the counter's services", run_command, ops)
    p.add_argument("counter", type=int)
    wait_spoken(p)
    p = add("skip", "the counter's ticket did not show up (moves it to the no-show list)", run_command, ops)
    p.add_argument("counter", type=int)
    p = add("done", "the counter finished serving its ticket", run_command, ops)
    p.add_argument("counter", type=int)
    p = add("transfer", "send the counter's ticket to another service's line", run_command, ops)
    p.add_argument("counter", type=int)
    p.add_argument("service", help="service code, e.g. DUKCAPIL-01")
    p = add("issue", "issue a ticket for a service, as a kiosk does", run_command, ops)
    p.add_argument("service", help="service code, e.g. DUKCAPIL-01")
    p.add_argument("--priority", action="store_true", help="priority ticket (elderly, disabled, pregnant)")
    p = add("watch", "print events as they arrive", run_watch, ops)
    p.add_argument("--since", type=int, default=None, help="replay events after this seq first")

    for name, module, help in PLUGGED:
        if command is not None and name != command:
            add(name, help, None)  # not the one that runs: its name is enough
            continue
        mod = importlib.import_module(module)
        p = add(name, help, mod.run)
        mod.add_arguments(p)
    if command is None:
        from signage import cli_fleet  # screenshot, identify, restart, init

        cli_fleet.add_subcommands(add, common, client)
    return parser


def wait_spoken(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--wait-spoken", action="store_true",
                        help="wait until the call was announced: exit 0 once spoken, 1 if skipped or no receipt "
                             "within announcer.max_age_seconds + 30 s")


def check_config(args: argparse.Namespace) -> int:
    cfg = load_config(args.path or args.config)
    findings = token_warnings(cfg)
    if args.strict and findings:
        print("\n".join(findings), file=sys.stderr)
        return EXIT_USAGE
    roles = {role: sum(1 for t in cfg.tokens if t.role == role)
             for role in ("operator", "display", "kiosk", "survey", "admin")}
    print(f"{cfg.path}: OK")
    print(f"  hall      {cfg.hall.name} ({cfg.hall.timezone_name}, {cfg.hall.timezone_label}, locale {cfg.hall.locale})")
    print(f"  layout    {len(cfg.agencies)} agencies, {len(cfg.counters)} counters, {len(cfg.services)} services, "
          f"{len(cfg.display.zones)} zones ({', '.join(z.name for z in cfg.display.zones)})")
    print(f"  tokens    {roles['operator']} operator, {roles['display']} display, {roles['kiosk']} kiosk, "
          f"{roles['survey']} survey, {roles['admin']} admin (survey form: {cfg.survey.form})")
    print(f"  hub       {cfg.hub.host}:{cfg.hub.port}, journal {cfg.hub.journal} (sync {cfg.hub.sync})")
    print(f"  announcer {'on' if cfg.announcer.enabled else 'off'}, voice {cfg.announcer.voice}, "
          f"repeat {cfg.announcer.repeat}")
    layouts = sorted({cfg.content.layout_for(z.name) for z in cfg.display.zones})
    print(f"  content   {len(cfg.content.playlist)} playlist item(s), layout {'/'.join(layouts)}, "
          f"{len(cfg.content.standards)} service standard(s) (signage content check tests the files)")
    for zone in cfg.audio.zones:
        speakers = ", ".join(zone.speakers) if zone.speakers else "any announcer"
        print(f"  audio     zone {zone.name}: {len(zone.counters)} counters, speakers {speakers}, "
              f"languages {', '.join(zone.languages)}, lease {cfg.audio.lease_seconds:g} s")
    for finding in findings:
        print(f"warning: {finding}", file=sys.stderr)
    return EXIT_OK


# ---------------------------------------------------------------- hub


class _Terminated(Exception):
    """SIGTERM arrived: a normal stop."""


def run_hub(args: argparse.Namespace, config: Config) -> int:
    import asyncio

    from signage.hub.server import Hub

    async def serve() -> None:
        hub = Hub(config, host=args.host, port=args.port)
        await hub.start()
        # systemd stops services with SIGTERM: close the journal cleanly, like Ctrl-C.
        task = asyncio.current_task()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        print(f"signage hub: {hub.url} (journal {config.hub.journal}, seq {hub.seq})", flush=True)
        try:
            await hub.serve_forever()  # raises HubFailed if the hub can no longer serve
        except asyncio.CancelledError:
            raise _Terminated() from None
        finally:
            await hub.stop()
            print("signage hub: stopped", flush=True)

    try:
        asyncio.run(serve())
    except (KeyboardInterrupt, _Terminated):
        pass
    except HubFailed as exc:
        print(f"signage: hub failed: {exc}; exiting so that systemd restarts it", file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:  # e.g. the port is taken by another hub
        host = args.host or config.hub.host
        port = args.port if args.port is not None else config.hub.port
        print(f"signage: hub cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


# ---------------------------------------------------------------- operator commands


def hub_url(args: argparse.Namespace, config: Config) -> str:
    if getattr(args, "hub", None):
        return args.hub
    if os.environ.get("SIGNAGE_HUB"):
        return os.environ["SIGNAGE_HUB"]
    host = config.hub.host
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    return f"ws://{host}:{config.hub.port}/"


def pick_token(args: argparse.Namespace, config: Config, role: str, counter: int | None = None) -> str:
    """--token, then $SIGNAGE_TOKEN, then the config token that fits best."""
    if getattr(args, "token", None):
        return args.token
    if os.environ.get("SIGNAGE_TOKEN"):
        return os.environ["SIGNAGE_TOKEN"]
    candidates = [t for t in config.tokens if t.role == role]
    if counter is not None:
        scoped = [t for t in candidates if t.counters and counter in t.counters]
        candidates = scoped or [t for t in candidates if t.counters is None] or candidates
    if not candidates:
        raise ConfigError(f"{config.path.name}: tokens: no {role} token; pass --token")
    return candidates[0].secret


def build_command(args: argparse.Namespace):
    from signage.core import messages as m
    from signage.core.tickets import normalize as normalize_ticket
    from signage.operator.client import new_id

    i = new_id()
    return {
        "call": lambda: m.Call(i, args.counter, normalize_ticket(args.ticket)),
        "recall": lambda: m.Recall(i, args.counter, normalize_ticket(args.ticket) if args.ticket else None),
        "clear": lambda: m.Clear(i, args.counter),
        "ticker": lambda: m.Ticker(i, args.text),
        "next": lambda: m.Next(i, args.counter),
        "skip": lambda: m.Skip(i, args.counter),
        "done": lambda: m.Done(i, args.counter),
        "transfer": lambda: m.Transfer(i, args.counter, args.service),
        "issue": lambda: m.Issue(i, args.service, args.priority),
    }[args.command]()


def run_command(args: argparse.Namespace, config: Config) -> int:
    import asyncio

    from signage.operator.client import send
    from signage.operator.describe import describe_ack

    command = build_command(args)
    role = "kiosk" if args.command == "issue" else "operator"
    token = pick_token(args, config, role, getattr(args, "counter", None))
    if getattr(args, "wait_spoken", False):
        from signage.operator.client import send_and_wait_spoken

        wait = config.announcer.max_age_seconds + 30
        ack, receipt = asyncio.run(send_and_wait_spoken(hub_url(args, config), token, command, wait))
        print(describe_ack(ack, config))
        if receipt is None:
            print(f"no voice receipt within {wait:g} s (is an announcer holding the zone? see /healthz)",
                  file=sys.stderr)
            return EXIT_FAILED
        if receipt.status != "spoken":
            print(f"tidak diumumkan: {receipt.reason}", flush=True)
            return EXIT_FAILED
        print(f"diumumkan ✓ (zone {receipt.zone}, by {receipt.by})", flush=True)
        return EXIT_OK
    ack = asyncio.run(send(hub_url(args, config), token, command, role=role))
    print(describe_ack(ack, config))
    return EXIT_OK


def run_watch(args: argparse.Namespace, config: Config) -> int:
    import asyncio

    from signage.operator.client import Session
    from signage.operator.describe import describe_event

    async def watch() -> None:
        token = pick_token(args, config, "display")
        async with Session(hub_url(args, config), token, role="display", client="signage-watch",
                           subscribe=True, since=args.since) as session:
            w = session.welcome
            print(f"connected: seq {w.seq}, day {w.state.day}, replaying {w.replaying}", flush=True)
            async for event in session.events():
                print(describe_event(event, config), flush=True)
        print("hub closed the connection", file=sys.stderr)

    try:
        asyncio.run(watch())
    except KeyboardInterrupt:
        return EXIT_OK
    return EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
