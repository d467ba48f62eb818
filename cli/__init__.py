"""The `kb` command: thin wrappers that parse arguments, call the library and print results."""

from . import (  # noqa: F401  (registers the commands)
    accounts, backups, browsing, department, escalations, gaps, ingesting, knowledge, lexicon, lifecycle, papers, quiz,
    selftest, serve, study, training,
)
from .base import cli

__all__ = ["cli"]
