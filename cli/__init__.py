"""The `kb` command: thin wrappers that parse arguments, call the library and print results."""

from . import accounts, backups, browsing, gaps, ingesting, knowledge, lexicon, lifecycle, quiz, serve, study  # noqa: F401  (registers the commands)
from .base import cli

__all__ = ["cli"]
