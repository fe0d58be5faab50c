"""A ticket printer behind a URI, through python-escpos: open, read its status, print an image, cut.

    usb://04b8:0e15        escpos.printer.Usb (needs pyusb and a udev rule for the kiosk user)
    tcp://10.0.0.40:9100   escpos.printer.Network
    serial:///dev/ttyUSB0  escpos.printer.Serial (needs pyserial)
    file:///dev/usb/lp0    escpos.printer.File (write only: no status can be read)

Status is read with the real-time queries DLE EOT 1 (online), 2 (cover open) and 4
(paper sensor) where the connection can be read; a printer that doesn't answer within
STATUS_TIMEOUT prints anyway (many cheap printers ignore the queries). `probe` reads the
same status without printing, for the fleet heartbeat. Every call blocks: the agent runs
them one at a time in its worker thread, so a probe never meets a print on the device.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from escpos import exceptions as escpos_errors
from escpos.constants import RT_STATUS_ONLINE, RT_STATUS_PAPER

from signage.errors import ConfigError

STATUS_TIMEOUT = 3.0
RT_STATUS_OFFLINE_CAUSE = b"\x10\x04\x02"


@dataclass(frozen=True)
class DeviceURI:
    kind: str  # usb | tcp | serial | file
    target: str  # "04b8:0e15", "10.0.0.40:9100", "/dev/ttyUSB0"


def parse_uri(uri: str) -> DeviceURI:
    parts = urlsplit(uri)
    if parts.scheme == "tcp" and parts.hostname:
        return DeviceURI("tcp", f"{parts.hostname}:{parts.port or 9100}")
    if parts.scheme == "usb" and parts.netloc.count(":") == 1:
        vid, pid = parts.netloc.split(":")
        try:
            int(vid, 16), int(pid, 16)
        except ValueError:
            pass
        else:
            return DeviceURI("usb", parts.netloc)
    if parts.scheme in ("serial", "file") and parts.path.startswith("/") and not parts.netloc:
        return DeviceURI(parts.scheme, parts.path)
    raise ConfigError(f"--device: expected usb://VID:PID, tcp://HOST:9100, serial:///dev/ttyUSB0 or "
                      f"file:///dev/usb/lp0, got {uri!r}")


def open_printer(device: DeviceURI, profile: str | None = None):
    """An opened escpos printer. Raises escpos's DeviceNotFoundError or OSError."""
    from escpos import printer as p

    kw = {"profile": profile} if profile else {}
    if device.kind == "tcp":
        host, port = device.target.rsplit(":", 1)
        printer = p.Network(host, int(port), timeout=STATUS_TIMEOUT, **kw)
    elif device.kind == "usb":
        vid, pid = (int(x, 16) for x in device.target.split(":"))
        printer = p.Usb(vid, pid, **kw)
    elif device.kind == "serial":
        printer = p.Serial(device.target, **kw)
    else:
        printer = p.File(device.target, **kw)
    printer.open()
    return printer


def read_status(printer) -> str:
    """ok, unknown (no status over this connection, or no answer) or paper_out, cover_open, offline."""
    if not _readable(printer):
        return "unknown"
    try:
        online = printer.query_status(RT_STATUS_ONLINE)
        if not online:
            return "unknown"  # the printer does not answer status queries
        if online[0] & 0x08:
            cause = printer.query_status(RT_STATUS_OFFLINE_CAUSE)
            if cause and cause[0] & 0x04:
                return "cover_open"
            if cause and cause[0] & 0x20:
                return "paper_out"
            return "offline"
        paper = printer.query_status(RT_STATUS_PAPER)
        if paper and paper[0] & 0x60 == 0x60:
            return "paper_out"
    except (socket.timeout, TimeoutError):
        return "unknown"
    return "ok"


def _open(device: DeviceURI):
    """(printer, None) or (None, the reason it can't be opened)."""
    try:
        return open_printer(device), None
    except (OSError, escpos_errors.Error):  # a network printer that can't be reached is offline, not missing
        return None, "offline" if device.kind == "tcp" else "device_missing"


def _close(printer) -> None:
    try:
        printer.close()
    except Exception:  # closing a dead device must not hide the real answer
        pass


def probe(device: DeviceURI, query: bool = True) -> str:
    """The printer's state for the fleet heartbeat (messages.PRINTER_STATES), printing nothing.

    With query=False only opens and closes it: for printers known not to answer status
    queries, so an idle probe never holds the device for STATUS_TIMEOUT.
    """
    if device.kind == "file":  # opening a character device for writing is all that can be checked
        return "unknown" if os.access(device.target, os.W_OK) else "device_missing"
    printer, why = _open(device)
    if printer is None:
        return why
    try:
        return read_status(printer) if query else "unknown"
    except (OSError, escpos_errors.Error):
        return "offline"
    finally:
        _close(printer)


def _readable(printer) -> bool:
    from escpos import printer as p

    return not isinstance(printer, p.File)


def print_image(device: DeviceURI, image) -> str | None:
    """Print one ticket image and cut. None when printed, else the reason it was not (PRINT_FAILURES)."""
    printer, why = _open(device)
    if printer is None:
        return why
    try:
        why = read_status(printer)
        if why not in ("ok", "unknown"):
            return why
        printer.hw("INIT")
        media = printer.profile.profile_data.setdefault("media", {}).setdefault("width", {})
        media["pixels"] = image.width  # the default profile knows no paper width (escpos prints a warning)
        printer.image(image, impl="bitImageRaster")
        printer.cut()
        return None
    except (OSError, escpos_errors.Error):
        return "offline"
    finally:
        _close(printer)
