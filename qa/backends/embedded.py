"""The embedded store's snapshot: one loaded index version (qa/store/)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from qa import store
from qa.store.manifest import Manifest
from qa.types import Article, Chunk


class EmbeddedSnapshot:
    """A loaded version of an index folder, searched with FAISS and bm25s."""

    def __init__(self, stored: store.StoredIndex) -> None:
        self.stored = stored
        self.name: str = stored.path.name
        self.path: Path = stored.path
        self.manifest: Manifest = stored.manifest
        self.articles: Mapping[str, Article] = stored.articles
        self.pending = frozenset(stored.pending_chunk_ids())
        self.chunks: list[Chunk] = stored.chunks  # every chunk, id = position
        self.vectors = stored.vectors
        self.lexical = stored.lexical
        self._idf: dict[str, float] | None = None

    @classmethod
    def open(cls, index_dir: Path) -> EmbeddedSnapshot:
        return cls(store.load(index_dir))

    def dense_search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        return self.vectors.search(vector, k)

    def dense_scores(self, vector: np.ndarray, ids: Sequence[int]) -> dict[int, float]:
        if not len(ids):
            return {}
        got = self.vectors.vectors(np.asarray(ids, dtype=np.int64)) @ vector
        return dict(zip((int(i) for i in ids), got.tolist(), strict=True))

    def lexical_search(self, terms: Sequence[str], k: int) -> list[tuple[int, float]]:
        return self.lexical.search(terms, k)

    def lexical_scores(self, terms: Sequence[str], ids: Sequence[int]) -> dict[int, float]:
        return self.lexical.scores_for(terms, ids)

    def fetch(self, ids: Sequence[int]) -> dict[int, Chunk]:
        return {int(i): self.chunks[int(i)] for i in ids}

    def idf(self) -> Mapping[str, float]:
        if self._idf is None:
            self._idf = self.lexical.idf()
        return self._idf

    def top_idf(self) -> float:
        return max(self.idf().values(), default=1.0)
