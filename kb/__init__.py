"""窗口知识库 core: records, vector and keyword indexes, hybrid search. Imports nothing of ours."""

from .base import FileChange, KnowledgeBase
from .embed import Embedder, get_embedder
from .errors import EmbedderMismatch, IngestError, KBError
from .types import Chunk, Document, Entry, Filters, Hit

__all__ = [
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
