"""The knowledge base as a langchain retriever, and the text of a hit as a passage.

A site that builds its own langchain chains can plug :class:`KnowledgeRetriever` in wherever a
``BaseRetriever`` goes; it returns only knowledge that may be told as current (published and not
expired; superseded entries already come back as the entry that replaced it), plus drafts when asked.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LangchainDocument
from langchain_core.retrievers import BaseRetriever

from kb import Filters, Hit


def passage_text(hit: Hit) -> str:
    """What a hit says, as given to a reader or a model: an entry's question and answer (with its 依据),
    or the matched passage of a document."""
    if hit.kind != "entry":
        return hit.text
    text = f"问：{hit.title}\n答：{hit.answer}"
    return f"{text}\n依据：{hit.basis}" if hit.basis else text


def usable(hit: Hit, drafts: bool = False) -> bool:
    """Whether a hit may be given as knowledge: published and unexpired, or an unexpired draft when
    ``drafts`` is asked for."""
    return hit.is_current or (drafts and hit.status == "draft" and not hit.expired_on)


def hit_document(hit: Hit) -> LangchainDocument:
    """A hit as a langchain ``Document``: :func:`passage_text` as the content; metadata ``id``, ``kind``
    (entry/document), ``title``, ``item`` (事项), ``department`` (部门), ``date`` (ISO), ``status``
    (published/draft), ``source`` (file name) and ``score`` (the fused relevance, higher is better)."""
    return LangchainDocument(
        page_content=passage_text(hit),
        metadata={"id": hit.parent_id, "kind": hit.kind, "title": hit.title, "item": hit.item,
                  "department": hit.department, "date": hit.date, "status": hit.status,
                  "source": hit.source, "score": hit.score},
    )


class KnowledgeRetriever(BaseRetriever):
    """Retrieve current knowledge from a :class:`kb.KnowledgeBase` for langchain chains.

    Attributes:
        kb: the open knowledge base.
        k: how many entries/documents to search for (fewer come back when some are not current).
        filters: metadata filters (事项, 部门, kind, date range).
        drafts: also return entries awaiting review (``metadata["status"] == "draft"``).
        as_of: judge currency on this ISO date (today when empty).
    """

    kb: Any
    k: int = 5
    filters: Filters | None = None
    drafts: bool = False
    as_of: str = ""

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun
                                ) -> list[LangchainDocument]:
        hits = self.kb.search(query, k=self.k, filters=self.filters, drafts=self.drafts, as_of=self.as_of)
        return [hit_document(hit) for hit in hits if usable(hit, self.drafts)]
