"""Turn files into entries and documents and put them into a knowledge base."""

from .pipeline import FileResult, IngestReport, ingest_paths

__all__ = ["FileResult", "IngestReport", "ingest_paths"]
