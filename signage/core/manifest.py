"""Config + facts about the content files → the Manifest the hub publishes. Pure.

    build(config, facts) -> Built(manifest, problems)

`facts` maps each file named by the playlist to FileFacts (its SHA-256 and size, read by the
hub) or to a string saying why it can't be used ("not found", "not a file"). An item whose file
is unusable, or a slide that yields nothing, is left out of the manifest, and the reason is kept
in `problems`, one line naming the item and the file: the hub logs them and /content/status
and `signage content check` report them. The generated slides always ride along as the
manifest's `fallback`: what plays when the playlist is empty or nothing in it is due.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping

from signage.core import protocol, slides
from signage.core.content import Manifest, ManifestItem, PlaylistItem

if TYPE_CHECKING:
    from signage.core.config import Config


@dataclass(frozen=True)
class FileFacts:
    sha256: str
    size: int


@dataclass(frozen=True)
class Built:
    manifest: Manifest
    problems: tuple[str, ...]


def label(index: int, item: PlaylistItem) -> str:
    """How an item is named in problems: 'playlist[2] video profil-mpp.mp4'."""
    what = item.file if item.file else item.slide
    return f"playlist[{index}] {item.kind} {what}"


def build(config: "Config", facts: Mapping[str, FileFacts | str]) -> Built:
    items: list[ManifestItem] = []
    problems: list[str] = []
    for index, item in enumerate(config.content.playlist):
        key = f"playlist[{index}]"
        if item.kind == "slide":
            try:
                docs = slides.documents(item, config)
            except slides.SlideProblem as exc:
                problems.append(f"{label(index, item)}: {exc}")
                continue
            for part, doc in enumerate(docs, start=1):
                items.append(ManifestItem(key if len(docs) == 1 else f"{key}.{part}", "slide", item.seconds,
                                          item.schedule, item.zones, slide=doc))
            continue
        fact = facts.get(item.file, "not scanned")
        if isinstance(fact, str):
            problems.append(f"{label(index, item)}: {fact}")
            continue
        items.append(ManifestItem(key, item.kind, item.seconds, item.schedule, item.zones, item.file, fact.sha256,
                                  fact.size))
    fallback = tuple(ManifestItem(f"generated[{i}]", "slide", None, slide=doc)
                     for i, doc in enumerate(slides.fallback(config)))
    return Built(protocol.make_manifest(items, fallback), tuple(problems))


def local(config: "Config") -> Manifest:
    """What a display plays before it has ever heard from the hub: the slides its own config generates."""
    return build(config, {}).manifest  # files are the hub's: without facts they are left out
