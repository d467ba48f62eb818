"""The `kb` command: thin wrappers that parse arguments, call the library and print results."""

from . import accounts, backups, browsing, ingesting, knowledge, lexicon, lifecycle, serve  # noqa: F401  (registers the commands)
from .base import cli

__all__ = ["cli"]
