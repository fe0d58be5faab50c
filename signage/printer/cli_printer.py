"""`signage printer --kiosk NAME --device URI [--token TOKEN] [--hub URL] [--paper 58|80] [--name NAME]`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os

from signage.config import Config
from signage.errors import ConfigError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kiosk", required=True, metavar="NAME", help="the kiosk's token name in config")
    parser.add_argument("--device", required=True, metavar="URI",
                        help="usb://VID:PID, tcp://HOST:9100, serial:///dev/ttyUSB0 or file:///dev/usb/lp0")
    parser.add_argument("--token", help="the kiosk's token (default: $SIGNAGE_TOKEN, else from config)")
    parser.add_argument("--hub", metavar="URL", help="hub address, e.g. ws://10.0.0.5:8765/ (default: from config)")
    parser.add_argument("--paper", type=int, choices=(58, 80), help="roll width in mm (default: printer.paper)")
    parser.add_argument("--name", help="this agent's name on /status (default: printer-<kiosk>)")


def run(args: argparse.Namespace, config: Config) -> int:
    from signage.cli import hub_url
    from signage.core import protocol, text
    from signage.display.fleet import WarningCounter
    from signage.printer.agent import PrinterAgent
    from signage.printer.device import parse_uri

    if args.name is not None and (not args.name or len(args.name) > protocol.MAX_CLIENT
                                  or text.problem(args.name) is not None):
        raise ConfigError(f"--name: expected 1-{protocol.MAX_CLIENT} printable characters, got {args.name!r}")
    token = args.token or os.environ.get("SIGNAGE_TOKEN")
    if not token:
        known = next((t for t in config.tokens if t.name == args.kiosk), None)
        if known is None or known.role != "kiosk":
            raise ConfigError(f"--kiosk: no kiosk token named {args.kiosk!r} in {config.path.name}")
        token = known.secret
    warnings = WarningCounter()  # the last few warnings ride on the fleet heartbeat
    logging.getLogger().addHandler(warnings)
    agent = PrinterAgent(config, hub_url(args, config), token, parse_uri(args.device), args.kiosk, args.paper,
                         name=args.name, warnings=warnings)
    try:
        asyncio.run(agent.run())
    except KeyboardInterrupt:
        pass
    return 1 if agent.core.refused is not None else 0
