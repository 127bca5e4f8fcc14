"""Hybrid retrieval: dense (FAISS) and lexical (BM25) candidates fused by
weighted reciprocal-rank fusion.

`mode` selects "hybrid" (default), "dense" or "lexical"; the last two are the
baselines the evaluation compares against.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from qa.embedding import Embedder
from qa.lexical import LexicalIndex
from qa.settings import Settings
from qa.types import Chunk, Hit
from qa.vector import VectorIndex

Mode = Literal["hybrid", "dense", "lexical"]
MODES: tuple[Mode, ...] = ("hybrid", "dense", "lexical")


class Retriever:
    def __init__(self, chunks: Sequence[Chunk], vectors: VectorIndex, lexical: LexicalIndex,
                 embedder: Embedder, settings: Settings) -> None:
        self.chunks = chunks
        self.vectors = vectors
        self.lexical = lexical
        self.embedder = embedder
        self.settings = settings

    def search(self, query: str, k: int | None = None, *, mode: Mode = "hybrid",
               query_vector: np.ndarray | None = None) -> list[Hit]:
        """Top-k hits for `query`, best first."""
        if mode not in MODES:
            raise ValueError(f"unknown retrieval mode {mode!r}; use one of {', '.join(MODES)}")
        s = self.settings
        k = k or s.top_k
        n = max(s.candidates, k)
        dense: list[tuple[int, float]] = []
        lexical: list[tuple[int, float]] = []
        if mode in ("hybrid", "dense"):
            qv = self.embedder.embed_query(query) if query_vector is None else query_vector
            dense = self.vectors.search(qv, n)
        if mode in ("hybrid", "lexical"):
            lexical = self.lexical.search(query, n)
        fused: dict[int, float] = {}
        d_rank = {cid: r for r, (cid, _) in enumerate(dense, 1)}
        l_rank = {cid: r for r, (cid, _) in enumerate(lexical, 1)}
        d_score = dict(dense)
        l_score = dict(lexical)
        for cid, r in d_rank.items():
            fused[cid] = fused.get(cid, 0.0) + s.dense_weight / (s.rrf_k + r)
        for cid, r in l_rank.items():
            fused[cid] = fused.get(cid, 0.0) + s.lexical_weight / (s.rrf_k + r)
        best = sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
        return [
            Hit(self.chunks[cid], score, d_rank.get(cid), l_rank.get(cid), d_score.get(cid), l_score.get(cid))
            for cid, score in best
        ]
