"""The index as a LangChain retriever.

    from qa.integrations.langchain import NewsRetriever
    retriever = NewsRetriever(index_dir="index", k=5)
    docs = retriever.invoke("من هو وزير الداخلية اليمني؟")

Each `Document`'s `page_content` is the passage exactly as in the article;
its metadata carries doc_id, title, source, url, date, the passage's offsets
in the article (`start`, `end`: `article_text[start:end] == page_content`),
the chunk id and the fused score. Retrieval is the product's own (hybrid
BM25 + dense, Arabic normalisation); an open `Assistant` can be shared with
`NewsRetriever(assistant=bot)`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForRetrieverRun, CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field, model_validator

from qa.assistant import Assistant
from qa.errors import BadSettings
from qa.retrieval import MODES, Mode
from qa.settings import Settings
from qa.types import Hit


class NewsRetriever(BaseRetriever):
    """Hybrid retrieval over a `qa` index, returning LangChain Documents."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index_dir: str | None = None  # the index folder (ignored when `assistant` is given)
    model: str | None = None  # the embedding model (default: the one the index was built with)
    k: int = Field(default=5, ge=1, le=1000)  # passages per query
    mode: Mode = "hybrid"
    assistant: Any = Field(default=None, exclude=True)  # an open qa Assistant

    @model_validator(mode="after")
    def _open(self) -> NewsRetriever:
        if self.mode not in MODES:
            raise BadSettings(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if self.assistant is not None and not isinstance(self.assistant, Assistant):
            raise BadSettings(f"assistant must be a qa Assistant, got {type(self.assistant).__name__}")
        if self.assistant is None:
            if not self.index_dir:
                raise BadSettings("give index_dir (a folder built with qa index) or an open assistant")
            settings = Settings(model=self.model) if self.model else None
            self.assistant = Assistant.open(Path(self.index_dir), settings)
        return self

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun,
                                **kwargs: Any) -> list[Document]:
        k = int(kwargs.get("k", self.k))
        if k < 1:
            raise BadSettings(f"k must be at least 1, got {k}")
        bot = self.assistant.refreshed()
        self.assistant = bot
        return [to_document(bot, hit) for hit in bot.search(query, k, mode=self.mode)]


    async def _aget_relevant_documents(self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun,
                                       **kwargs: Any) -> list[Document]:
        import asyncio

        return await asyncio.get_running_loop().run_in_executor(
            None, lambda: self._get_relevant_documents(query, run_manager=run_manager.get_sync(), **kwargs))


def to_document(bot: Assistant, hit: Hit) -> Document:
    """One hit as a Document with its article's metadata and exact offsets."""
    art = bot.index.articles[hit.chunk.doc_id]
    return Document(page_content=hit.chunk.text, metadata={
        "doc_id": art.doc_id, "title": art.title, "source": art.source, "url": art.url, "date": art.date,
        "start": hit.chunk.start, "end": hit.chunk.end, "chunk_id": hit.chunk.chunk_id, "score": hit.score,
    })
