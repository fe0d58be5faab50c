"""The hall logo, drawn with pygame shapes (no font, no outside artwork).

A public-hall pediment with five columns on a rounded navy tile, in the board's
amber. `python -m signage.display.logo [PATH]` writes assets/logo.png; the
display also draws it in memory when the configured logo file is missing.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pygame

from signage.core.layout import PALETTE

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "assets" / "logo.png"


def draw_logo(size: int = 256) -> pygame.Surface:
    s = size / 256
    surface = pygame.Surface((size, size), pygame.SRCALPHA)
    navy, amber, white = PALETTE.panel, PALETTE.highlight, PALETTE.text
    pygame.draw.rect(surface, navy, (0, 0, size, size), border_radius=round(44 * s))
    pygame.draw.rect(surface, amber, (0, 0, size, size), width=max(2, round(8 * s)), border_radius=round(44 * s))

    def r(x: float, y: float, w: float, h: float) -> tuple[int, int, int, int]:
        return (round(x * s), round(y * s), round(w * s), round(h * s))

    pygame.draw.polygon(surface, amber, [(round(128 * s), round(40 * s)), (round(214 * s), round(92 * s)),
                                         (round(42 * s), round(92 * s))])
    pygame.draw.rect(surface, amber, r(42, 96, 172, 12))
    for i in range(5):
        pygame.draw.rect(surface, white, r(54 + i * 32, 116, 20, 74))
    pygame.draw.rect(surface, amber, r(42, 194, 172, 12))
    pygame.draw.rect(surface, amber, r(32, 210, 192, 10))
    return surface


def write_logo(path: Path = DEFAULT_PATH, size: int = 256) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pygame.image.save(draw_logo(size), str(path))
    return path


if __name__ == "__main__":  # pragma: no cover
    print(write_logo(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PATH))
