"""The hall board: pure view in signage.core.layout, drawn by pygame here.

Modules: sync (pure state sync), link (hub connection thread), renderer (View →
Surface), app (the pygame loop), logo, cli_display / cli_render (subcommands).
"""

import os

# Before any submodule imports pygame: plain pygame prints a banner on stdout.
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
