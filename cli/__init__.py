"""The `kb` command: thin wrappers that parse arguments, call the library and print results."""

from .chinese import install

install()

from . import (  # noqa: E402, F401  (registers the commands)
    accounts, backups, browsing, department, escalations, gaps, ingesting, knowledge, lexicon, lifecycle, papers, quiz,
    selftest, serve, study, training,
)
from .base import cli  # noqa: E402

__all__ = ["cli"]
