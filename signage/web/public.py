"""The hall's public facts for the web pages: what `/config.json` serves.

The operator panel needs counter names and which services a counter serves;
the kiosk needs agencies and services to offer. None of that is secret, but
the config also holds tokens and file paths, so this builds an explicit
allow-list instead of dumping the config. Pure: Config in, plain dict out;
the hub encodes it (through signage.core.protocol) and serves it.
"""

from __future__ import annotations

from signage.config import Config

PUBLIC_CONFIG_VERSION = 1


def public_config(config: Config) -> dict:
    """Hall name, queue options, agencies, counters and services. No tokens, no paths."""
    hall = config.hall
    return {
        "version": PUBLIC_CONFIG_VERSION,
        "hall": {
            "name": hall.name,
            "short_name": hall.short_name,
            "timezone": hall.timezone_name,
            "timezone_label": hall.timezone_label,
            "locale": hall.locale,
            "opening_hours": hall.opening_hours,
        },
        "queue": {
            "priority": config.queue.priority,
            "transfer": config.queue.transfer,
            "no_show_window_minutes": config.queue.no_show_window_minutes,
        },
        # The kiosk asks for a phone number only where a gateway will use it (docs/protocol.md, visitor's journey).
        "notify": {"phone": config.notify.webhook is not None, "when_ahead": config.notify.when_ahead},
        "agencies": [
            {"code": a.code, "name": a.name, "short_name": a.short_name} for a in config.agencies
        ],
        "counters": [
            {"number": c.number, "name": c.name, "agency": c.agency} for c in config.counters
        ],
        "services": [
            {"code": s.code, "name": s.name, "agency": s.agency, "prefix": s.prefix, "counters": list(s.counters)}
            for s in config.services
        ],
    }
