"""The web UI's entry point: `python ui.py [--host … --port … --demo]` does what `kb serve` does.

The app itself is assembled in :mod:`web.app` (``build_app``), so the ``kb`` command can serve it
without importing this script; options are parsed by the CLI only.
"""

from web.app import PAGES, build_app, launch
from web.context import Context

__all__ = ["PAGES", "Context", "build_app", "launch"]

if __name__ == "__main__":
    import sys

    from cli import cli

    cli.main(["serve", *sys.argv[1:]], prog_name="python ui.py")
