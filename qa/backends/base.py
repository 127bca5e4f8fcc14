"""What a reader searches: one consistent view (a snapshot) of a store.

Two stores implement it: the embedded one (FAISS + bm25s files in an index
folder, `qa.backends.embedded`) and Milvus (`qa.backends.milvus`). The
retriever and the assistant talk to this protocol only, so the same question
is fused, read and answered by the same code over either store.

Chunk ids are whole numbers the store assigns; a snapshot never changes while
it is open (a writer publishes a new one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import numpy as np

from qa.store.manifest import Manifest
from qa.types import Article, Chunk


class Snapshot(Protocol):
    """One published state of a store: its chunks, vectors, terms and articles."""

    name: str  # changes whenever a writer publishes
    manifest: Manifest  # the model, dimension, runtime and settings it was built with, and counts
    articles: Mapping[str, Article]  # doc_id -> article, original text
    pending: frozenset[int]  # chunks with no vector yet (keyword search only)

    def dense_search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(chunk id, inner product) of the k nearest chunks, best first."""
        ...

    def dense_scores(self, vector: np.ndarray, ids: Sequence[int]) -> dict[int, float]:
        """The inner product of `vector` with each chunk's stored vector."""
        ...

    def lexical_search(self, terms: Sequence[str], k: int) -> list[tuple[int, float]]:
        """(chunk id, BM25) of the k best keyword matches for analysed terms, best first; no zero scores."""
        ...

    def lexical_scores(self, terms: Sequence[str], ids: Sequence[int]) -> dict[int, float]:
        """BM25 of the terms for each given chunk (0 where none occurs)."""
        ...

    def fetch(self, ids: Sequence[int]) -> dict[int, Chunk]:
        """The chunks with these ids."""
        ...

    def idf(self) -> Mapping[str, float]:
        """Term -> inverse document frequency over this snapshot's chunks."""
        ...

    def top_idf(self) -> float:
        """The IDF a term unknown to the index is given (that of the rarest term)."""
        ...
