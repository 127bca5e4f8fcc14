"""The assistant: the one place that knows every stage and wires them.

    loading -> chunking -> embedding -> lexical + vector index -> store   (index)
    store -> retrieval (hybrid) -> answer composition                    (ask)

Use it from Python:

    from qa import Assistant, Settings, build_or_update
    build_or_update(Path("seeds"), Path("index"), Settings())
    bot = Assistant.open(Path("index"))
    bot.ask("من هو وزير الداخلية اليمني؟")
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa import store
from qa.compose import WordVectors, calibration_for, compose
from qa.embedding import Embedder, load_embedder
from qa.indexer import IndexReport, Progress, update_index
from qa.loading import load_folder
from qa.retrieval import Mode, Retriever
from qa.settings import Settings
from qa.types import Answer, Hit

log = logging.getLogger(__name__)


def build_or_update(docs: Path, index_dir: Path, settings: Settings, *, rebuild: bool = False,
                    embedder: Embedder | None = None, progress: Progress | None = None,
                    wait: bool = False) -> IndexReport:
    """Load `docs` and bring the index at `index_dir` up to date."""
    loaded = load_folder(docs)
    embedder = embedder or _embedder_for(index_dir, settings, rebuild)
    return update_index(index_dir, loaded.articles, loaded.skipped, embedder, settings,
                        rebuild=rebuild, progress=progress, wait=wait)


def _embedder_for(index_dir: Path, settings: Settings, rebuild: bool) -> Embedder:
    manifest = store.read_manifest(index_dir)
    if manifest is not None and not rebuild:
        store.check_compatible(manifest, settings.model, None, index_dir)
    return load_embedder(settings.model, batch_size=settings.batch_size)


@dataclass
class Assistant:
    """A loaded index ready to answer questions."""

    index: store.StoredIndex
    retriever: Retriever
    embedder: Embedder
    settings: Settings
    idf: dict[str, float]
    words: WordVectors  # word vectors for the cross-lingual bridge (qa.compose)

    @classmethod
    def open(cls, index_dir: Path, settings: Settings | None = None, *,
             embedder: Embedder | None = None) -> Assistant:
        """Load the current index version; its manifest decides the model unless
        one is given, and a mismatch is an IndexMismatch error."""
        idx = store.load(index_dir)
        settings = settings or Settings(model=idx.manifest.embedder)
        if embedder is None:
            store.check_compatible(idx.manifest, settings.model, None, index_dir)
            embedder = load_embedder(settings.model, batch_size=settings.batch_size)
        store.check_compatible(idx.manifest, embedder.model_id, embedder.dimension, index_dir)
        retriever = Retriever(idx.chunks, idx.vectors, idx.lexical, embedder, settings, idx.pending_chunk_ids())
        idf = idx.lexical.idf()
        return cls(idx, retriever, embedder, settings, idf, WordVectors(embedder))

    @property
    def version(self) -> str:
        return self.index.path.name

    def refreshed(self) -> Assistant:
        """This assistant, or a new one on the index's current version if a
        writer has switched it since (readers never block writers: an open
        assistant keeps answering from the version it loaded)."""
        index_dir = self.index.path.parent.parent
        current = store.current_version(index_dir)
        if current is None or current.name == self.version:
            return self
        return Assistant.open(index_dir, self.settings, embedder=self.embedder)

    def search(self, query: str, k: int | None = None, *, mode: Mode = "hybrid") -> list[Hit]:
        _check_question(query)
        return self.retriever.search(query, k, mode=mode)

    def ask(self, question: str, *, mode: Mode = "hybrid") -> Answer:
        """A short answer quoting the articles, or a refusal."""
        return self.retrieve_and_answer(question, mode=mode)[1]

    def retrieve_and_answer(self, question: str, *, mode: Mode = "hybrid",
                            k: int | None = None) -> tuple[list[Hit], Answer]:
        """The hits retrieved for `question` (`k` of them, default top_k) and the
        answer composed from the first top_k, whatever `k` is: evaluation asks
        for more hits to rank, and must see the answer `ask` gives."""
        _check_question(question)
        qv = self.embedder.embed_query(question) if mode != "lexical" else None
        n = max(self.settings.top_k, self.settings.answer_chunks)
        hits = self.retriever.search(question, max(k or n, n), mode=mode, query_vector=qv)
        return hits, self.answer_from(question, hits[:n], dense=mode != "lexical", query_vector=qv)

    def answer_from(self, question: str, hits: list[Hit], *, dense: bool = True,
                    query_vector: np.ndarray | None = None) -> Answer:
        """Compose an answer from given hits (used by evaluation baselines)."""
        return compose(question, hits, self.index.articles, self.idf, self.settings,
                       self.embedder if dense else None, query_vector, calibration_for(self.embedder.model_id),
                       self.words if dense else None)


class BadQuestion(ValueError):
    pass


MAX_QUESTION_CHARS = 2000


def _check_question(text: str) -> None:
    if not isinstance(text, str) or not text.strip():
        raise BadQuestion("the question is empty; type a question, e.g. qa ask \"من هو وزير الداخلية اليمني؟\"")
    if len(text) > MAX_QUESTION_CHARS:
        raise BadQuestion(f"the question is {len(text)} characters long; the limit is {MAX_QUESTION_CHARS}")
