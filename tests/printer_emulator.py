"""An ESC/POS printer on 127.0.0.1 (the hardware seam): records what it is sent, answers status queries.

Decodes what tickets need: ESC @, GS v 0 raster images (→ a Pillow image), GS V cuts,
and the real-time status queries DLE EOT 1/2/4, answered from `paper_out` / `cover_open`.
"""

from __future__ import annotations

import socket
import threading

from PIL import Image

ONLINE, OFFLINE = 0x12, 0x1A  # DLE EOT 1 answers; bit 3 = offline
CAUSE_OK, CAUSE_COVER, CAUSE_PAPER = 0x12, 0x16, 0x32  # DLE EOT 2: bit 2 cover open, bit 5 paper-out stop
PAPER_OK, PAPER_END = 0x12, 0x72  # DLE EOT 4: bits 5-6 paper end


class PrinterEmulator:
    def __init__(self):
        self.paper_out = False
        self.cover_open = False
        self.connections: list[bytes] = []  # everything each connection sent, in full
        self.done = threading.Condition()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def uri(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def close(self) -> None:
        try:
            self.server.shutdown(socket.SHUT_RDWR)  # wakes the accept() thread; later connects are refused
        except OSError:
            pass
        self.server.close()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._connection, args=(conn,), daemon=True).start()

    def _connection(self, conn: socket.socket) -> None:
        data = bytearray()
        with conn:
            while True:
                try:
                    chunk = conn.recv(65536)
                except OSError:
                    break
                if not chunk:
                    break
                start = len(data)
                data += chunk
                if b"\x1dv0" not in data:  # status queries come before the image; raster bytes are not commands
                    for n in self._queries(data, start):
                        conn.sendall(bytes([self._status(n)]))
        with self.done:
            self.connections.append(bytes(data))
            self.done.notify_all()

    @staticmethod
    def _queries(data: bytearray, start: int):
        i = max(0, start - 2)
        while (i := data.find(b"\x10\x04", i)) >= 0 and i + 2 < len(data):
            if i + 2 >= start:
                yield data[i + 2]
            i += 3

    def _status(self, n: int) -> int:
        if n == 1:
            return OFFLINE if (self.paper_out or self.cover_open) else ONLINE
        if n == 2:
            return CAUSE_COVER if self.cover_open else (CAUSE_PAPER if self.paper_out else CAUSE_OK)
        return PAPER_END if self.paper_out else PAPER_OK

    @property
    def jobs(self) -> list[bytes]:
        """Connections that sent more than status queries: prints (an agent's status probes are not)."""
        with self.done:
            return [c for c in self.connections if not _only_queries(c)]

    @property
    def probes(self) -> int:
        with self.done:
            return sum(1 for c in self.connections if _only_queries(c))

    def wait_jobs(self, count: int, wait: float) -> list[bytes]:
        with self.done:
            if not self.done.wait_for(lambda: len(self.jobs) >= count, wait):
                raise TimeoutError(f"printer got {len(self.jobs)} print jobs, expected {count}")
            return self.jobs

    def wait_probes(self, count: int, wait: float) -> None:
        with self.done:
            if not self.done.wait_for(lambda: self.probes >= count, wait):
                raise TimeoutError(f"printer got {self.probes} status-only connections, expected {count}")


def _only_queries(data: bytes) -> bool:
    """Nothing but DLE EOT n queries (a status probe, or a print that stopped at a bad status)."""
    return len(data) % 3 == 0 and all(data[i:i + 2] == b"\x10\x04" for i in range(0, len(data), 3))


def decode(stream: bytes) -> tuple[list[Image.Image], int]:
    """The raster images in an ESC/POS stream (GS v 0), stacked fragments joined, and the number of cuts."""
    images, cuts, i = [], 0, 0
    while i < len(stream):
        if stream.startswith(b"\x1dv0", i):
            xl, xh, yl, yh = stream[i + 4:i + 8]
            width_bytes, height = xl + 256 * xh, yl + 256 * yh
            raster = stream[i + 8:i + 8 + width_bytes * height]
            image = Image.frombytes("1", (width_bytes * 8, height), bytes(raster))
            images.append(Image.eval(image.convert("L"), lambda v: 255 - v))  # 1 bits are black dots
            i += 8 + width_bytes * height
        elif stream.startswith(b"\x1dV", i):
            cuts += 1
            i += 3
        else:
            i += 1
    return images, cuts


def stack(images: list[Image.Image]) -> Image.Image:
    width = max(im.width for im in images)
    out = Image.new("L", (width, sum(im.height for im in images)), 255)
    y = 0
    for im in images:
        out.paste(im, (0, y))
        y += im.height
    return out
