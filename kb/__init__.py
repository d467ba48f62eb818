"""窗口知识库 core: records, vector and keyword indexes, hybrid search. Imports nothing of ours."""

from .base import RECORDS_FILE, FileChange, KnowledgeBase
from .embed import Embedder, get_embedder
from .errors import EmbedderMismatch, IngestError, KBError
from .types import Chunk, Document, Entry, Filters, Hit

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
