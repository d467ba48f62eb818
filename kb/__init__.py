"""窗口知识库 core: records, vector and keyword indexes, hybrid search. Imports nothing of ours.

The names backed by chromadb, langchain and the embedder (``KnowledgeBase``, ``get_embedder``, …)
are imported on first use (PEP 562), so ``import kb.users`` or ``import kb.config`` stays light and
``kb --help`` never loads the indexes.
"""

from importlib import import_module

from .errors import EmbedderMismatch, IngestError, KBError
from .types import Chunk, Document, Entry, Filters, Hit

_LAZY = {
    "RECORDS_FILE": "records",
    "KnowledgeBase": "base",
    "FileChange": "importing",
    "Embedder": "embed",
    "get_embedder": "embed",
}
"""Public name -> the module of this package that defines it, imported when the name is first read."""

__all__ = [
    "RECORDS_FILE",
    "Chunk",
    "Document",
    "Embedder",
    "EmbedderMismatch",
    "Entry",
    "FileChange",
    "Filters",
    "Hit",
    "IngestError",
    "KBError",
    "KnowledgeBase",
    "get_embedder",
]


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
