"""`signage content check` and `signage content publish`: the media content, from a shell.

    signage content check [--config PATH]      validate the playlist and every file; exit 2 on any problem
    signage content publish [--hub URL]         make the running hub rescan its folder and config, and publish

check, for each playlist item: a slide must yield at least one slide (an agency needs services
with standards; the maklumat and the opening hours must be set); a file must exist in
content.dir, and decode: an image as PNG or JPEG of at most 8192 px a side, a video with a
supported codec, a resolution from 64×64 to 3840×2160 and a duration from 0.5 s to 2 hours.
Each problem is one line naming the item and the file:

    config.yaml: playlist[2] video profil-mpp.mp4: unsupported codec 'prores'
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from signage.config import Config

MIN_SIDE, MAX_W, MAX_H = 64, 3840, 2160
MIN_SECONDS, MAX_SECONDS = 0.5, 7200
EXIT_OK, EXIT_FAILED, EXIT_PROBLEMS = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="content_command", metavar="ACTION", required=True)
    # --config after the action too (`signage content check --config X`); SUPPRESS keeps one given before it.
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS,
                       help="config file (default: $SIGNAGE_CONFIG or ./config.yaml)")
    sub.add_parser("check", help="validate the playlist and every file it names", parents=[where])
    publish = sub.add_parser("publish", help="make the running hub rescan and publish its content", parents=[where])
    publish.add_argument("--hub", metavar="URL", help="hub address (default: $SIGNAGE_HUB, else from config)")
    publish.add_argument("--token", help="an operator token for all counters (default: $SIGNAGE_TOKEN, else config)")
    publish.add_argument("--wait", type=float, default=60.0, metavar="S", help="seconds to wait for the result")


def run(args: argparse.Namespace, config: Config) -> int:
    if args.content_command == "check":
        return check(config)
    return publish(args, config)


# ---------------------------------------------------------------- check


def problems_of(config: Config) -> tuple[list[str], list[str]]:
    """(problems, one summary line per usable item)."""
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    from signage.core import slides
    from signage.core.manifest import label
    from signage.display.media.stills import check_image
    from signage.display.media.video import SUPPORTED_CODECS, probe
    from signage.hub.content import FileIndex, scan

    index = FileIndex()
    built = scan(config, index)
    problems = list(built.problems)
    summary = []
    for i, item in enumerate(config.content.playlist):
        name = label(i, item)
        if item.kind == "slide":
            try:
                summary.append(f"{name}: {len(slides.documents(item, config))} slide(s)")
            except slides.SlideProblem:
                pass  # already in built.problems
            continue
        facts = next((m for m in built.manifest.items if m.key == f"playlist[{i}]"), None)
        if facts is None:
            continue  # missing file: already in built.problems
        path = index.path(facts.sha256)
        try:
            if item.kind == "image":
                w, h = check_image(path)
                summary.append(f"{name}: {w}x{h}, {facts.size:,} bytes")
                continue
            info = probe(path)
        except (ValueError, OSError) as exc:
            problems.append(f"{name}: {exc}")
            continue
        found = []
        if info.codec not in SUPPORTED_CODECS:
            found.append(f"unsupported codec {info.codec!r} (use H.264, VP9, AV1, ...)")
        if not (MIN_SIDE <= info.width <= MAX_W and MIN_SIDE <= info.height <= MAX_H) and \
                not (MIN_SIDE <= info.width <= MAX_H and MIN_SIDE <= info.height <= MAX_W):
            found.append(f"resolution {info.width}x{info.height} is outside {MIN_SIDE}x{MIN_SIDE}..{MAX_W}x{MAX_H}")
        if info.duration is None or not MIN_SECONDS <= info.duration <= MAX_SECONDS:
            shown = "unknown" if info.duration is None else f"{info.duration:.2f} s"
            found.append(f"duration {shown} is outside {MIN_SECONDS:g} s..{MAX_SECONDS // 3600} h")
        problems += [f"{name}: {text}" for text in found]
        if not found:
            summary.append(f"{name}: {info.codec} {info.width}x{info.height}, {info.duration:.1f} s, "
                           f"{info.fps or 0:g} fps, {facts.size:,} bytes")
    return sorted(problems, key=_index), summary


def _index(problem: str) -> int:
    """Problems in playlist order: 'playlist[12] video …' → 12."""
    head = problem.split("]", 1)[0]
    return int(head.rsplit("[", 1)[1]) if "[" in head and head.rsplit("[", 1)[1].isdigit() else -1


def check(config: Config) -> int:
    problems, summary = problems_of(config)
    where = config.content.playlist_file.name if config.content.playlist_file else config.path.name
    for problem in problems:
        print(f"{where}: {problem}", file=sys.stderr)
    if problems:
        return EXIT_PROBLEMS
    layouts = {config.content.layout_for(z.name) for z in config.display.zones}
    print(f"{where}: content OK: {len(config.content.playlist)} item(s) in {config.content.dir}")
    for line in summary:
        print(f"  {line}")
    if layouts == {"queue"}:
        print("  note: every zone uses the queue layout, which has no media area (display.layout: split or media)")
    return EXIT_OK


# ---------------------------------------------------------------- publish


def publish(args: argparse.Namespace, config: Config) -> int:
    import urllib.error
    import urllib.request

    from signage.cli import hub_url
    from signage.core import protocol
    from signage.display.media.sync import http_base

    base = http_base(hub_url(args, config))
    token = args.token or os.environ.get("SIGNAGE_TOKEN") or next(
        (t.secret for t in config.tokens if t.role == "operator" and t.counters is None), None)
    if token is None:
        print("signage: no operator token for all counters in config; pass --token", file=sys.stderr)
        return EXIT_PROBLEMS

    def get(path: str, headers=None) -> tuple[int, dict]:
        request = urllib.request.Request(base + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (the hall's own hub)
                return response.status, protocol.decode_document(response.read().decode())
        except urllib.error.HTTPError as exc:
            return exc.code, {"error": exc.read().decode(errors="replace").strip()}

    try:
        status, reply = get("/content/publish", {"Authorization": f"Bearer {token}"})
        if status != 202:
            print(f"signage: hub refused publish: HTTP {status}: {reply.get('error', reply)}", file=sys.stderr)
            return EXIT_FAILED
        number = reply["request"]
        deadline = time.monotonic() + args.wait
        while time.monotonic() < deadline:
            status, current = get("/content/status")
            if status == 200 and current.get("completed", 0) >= number:
                print(f"{base}: {current['last_result']}")
                for problem in current.get("problems", []):
                    print(f"  problem: {problem}")
                failed = not current["last_result"].startswith(("published", "unchanged"))
                return EXIT_FAILED if failed else EXIT_OK
            time.sleep(0.2)
    except (urllib.error.URLError, OSError) as exc:
        print(f"signage: cannot reach the hub at {base}: {getattr(exc, 'reason', exc)}", file=sys.stderr)
        return EXIT_FAILED
    print(f"signage: the hub did not finish publishing within {args.wait:g} s", file=sys.stderr)
    return EXIT_FAILED
