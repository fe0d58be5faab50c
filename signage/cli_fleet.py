"""`signage screenshot|identify|restart NAME` (admin actions) and `signage init [DIR]`.

    signage screenshot NAME --out PNG   what that screen shows now, as a PNG (<= 640 px wide)
    signage identify NAME               that screen shows its name, address and version for 10 s
    signage restart NAME                that display exits cleanly; systemd starts it again
    signage init [DIR]                  a starter config.yaml with fresh random tokens (+ its assets)

NAME is the screen's name on /status (`signage display --name`, default its token's name).
The actions need an admin token (--token, $SIGNAGE_TOKEN, else the config's first admin token).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import secrets
import shutil
import sys
from importlib import resources
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXAMPLE_PACKAGE = "signage.examples"
TOKEN_LINE = re.compile(r"^(\s*-\s*\{name:\s*([\w.-]+),\s*role:\s*(\w+),\s*token:\s*)(\S+?)(\s*[,}].*)$")


def add_subcommands(add, common, client) -> None:
    """Called by signage.cli.build_parser with its `add` helper and shared option parents."""
    ops = (common, client)
    p = add("screenshot", "save what a screen shows now as a PNG (admin token)", run_action, ops)
    p.add_argument("name", help="the screen's name, as on /status")
    p.add_argument("--out", type=Path, required=True, metavar="PNG", help="where to write the PNG")
    p = add("identify", "show a screen's name, address and version on it for 10 s (admin token)", run_action, ops)
    p.add_argument("name")
    p = add("restart", "make a display exit cleanly, for systemd to start it again (admin token)", run_action, ops)
    p.add_argument("name")
    p = add("init", "write a starter config.yaml with fresh random tokens", run_init, (common,))
    p.add_argument("dir", nargs="?", type=Path, default=Path("."), metavar="DIR",
                   help="where to write config.yaml and assets/ (default: here)")
    p.add_argument("--force", action="store_true", help="overwrite an existing config.yaml")
    p.set_defaults(without_config=True)


def run_action(args: argparse.Namespace, config) -> int:
    from signage.cli import hub_url, pick_token
    from signage.core import messages as m
    from signage.operator.client import Session, new_id

    token = pick_token(args, config, "admin")
    act = m.Act(new_id("admin"), args.command, args.name)

    async def go() -> m.ActionResult:
        async with Session(hub_url(args, config), token, role="admin", client=f"signage-{args.command}") as s:
            return await s.request(act)

    result = asyncio.run(go())
    if args.command == "screenshot":
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_bytes(result.png or b"")
        print(f"{args.name}: {len(result.png or b'')} bytes → {args.out}")
    else:
        print(f"{args.name}: {args.command} done" + (f" ({result.detail})" if result.detail else ""))
    return EXIT_OK


# ---------------------------------------------------------------- init


def example_config_text() -> str:
    """The example config for MPP Pandeglang shipped inside the package."""
    return resources.files(EXAMPLE_PACKAGE).joinpath("config.yaml").read_text(encoding="utf-8")


def with_fresh_tokens(text: str) -> tuple[str, list[tuple[str, str, str]]]:
    """The config text with every token secret replaced by a new random one; and (name, role, secret)."""
    out, made = [], []
    for line in text.splitlines(keepends=True):
        found = TOKEN_LINE.match(line.rstrip("\n"))
        if found:
            secret = "tok-" + secrets.token_hex(16)
            made.append((found.group(2), found.group(3), secret))
            line = f"{found.group(1)}{secret}{found.group(5)}\n"
        out.append(line)
    return "".join(out), made


WHERE = {
    "operator": "operator panel http://HUB:8765/operator on that counter's PC (or `signage call` --token)",
    "display": "the TV's box: SIGNAGE_TOKEN in /etc/signage/display.env (deploy/install.sh)",
    "kiosk": "the ticket kiosk's page http://HUB:8765/kiosk",
    "admin": "the technician: http://HUB:8765/status, /metrics, `signage screenshot|identify|restart`",
}


def run_init(args: argparse.Namespace, _config=None) -> int:
    target: Path = args.dir
    path = target / "config.yaml"
    if path.exists() and not args.force:
        print(f"signage init: {path} exists; pass --force to overwrite it", file=sys.stderr)
        return EXIT_USAGE
    text, made = with_fresh_tokens(example_config_text())
    target.mkdir(parents=True, exist_ok=True)
    assets = resources.files(EXAMPLE_PACKAGE).joinpath("assets")
    (target / "assets").mkdir(exist_ok=True)
    for item in assets.iterdir():
        if item.is_file() and not (target / "assets" / item.name).exists():
            with resources.as_file(item) as source:
                shutil.copyfile(source, target / "assets" / item.name)
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.chmod(0o600)  # it holds every secret of the hall
    tmp.replace(path)
    print(f"wrote {path} (mode 600) with {len(made)} fresh tokens, and {target / 'assets'}/")
    print("Edit the hall, counters and services for your hall, then: signage check-config --strict "
          f"{path}\nWhere each token goes:")
    width = max((len(name) for name, _, _ in made), default=0)
    for name, role, secret in made:
        print(f"  {name:<{width}}  {role:<8}  {secret}  → {WHERE.get(role, role)}")
    return EXIT_OK


def packaged_config_path():
    """A context manager giving a real path to the shipped example config (for `signage demo` anywhere)."""
    return resources.as_file(resources.files(EXAMPLE_PACKAGE).joinpath("config.yaml"))
