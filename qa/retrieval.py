"""Hybrid retrieval: dense (FAISS) and lexical (BM25) candidates, fused.

Fusion (chosen by measurement on ARCD, see README): the union of both
retrievers' top `candidates` is scored by both (a dense score is a dot product
with the stored vector, a lexical score is BM25 for that chunk), each score is
standardised over the union (z-score), and the two are mixed with
`dense_weight`. Reciprocal-rank fusion (`fusion="rrf"`) is kept for
comparison; it ranks ~4 points lower at recall@1 on ARCD.

`mode` selects "hybrid" (default), "dense" or "lexical"; the last two are the
baselines the evaluation compares against. A hybrid search whose question is
in another script than the best dense hit (an English question over Arabic
articles) is answered by dense retrieval alone: the question's words cannot
occur in the passages, so BM25 only rewards stray Latin words in them (on
English ARCD questions it cut recall@1 from 0.62 to 0.47, README).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from qa import arabic
from qa.embedding import Embedder
from qa.lexical import LexicalIndex
from qa.settings import Settings
from qa.types import Chunk, Hit
from qa.vector import VectorIndex

Mode = Literal["hybrid", "dense", "lexical"]
MODES: tuple[Mode, ...] = ("hybrid", "dense", "lexical")


def _z(x: np.ndarray) -> np.ndarray:
    std = float(x.std())
    return (x - x.mean()) / std if std > 1e-9 else np.zeros_like(x)


class Retriever:
    def __init__(self, chunks: Sequence[Chunk], vectors: VectorIndex, lexical: LexicalIndex,
                 embedder: Embedder, settings: Settings, pending: set[int] | None = None) -> None:
        self.pending = pending or set()  # chunks with no vector yet: lexical evidence only
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
        qv = None
        if mode in ("hybrid", "dense"):
            qv = self.embedder.embed_query(query) if query_vector is None else query_vector
            dense = self.vectors.search(qv, n)
        if mode == "hybrid" and dense and arabic.cross_lingual(query, self.chunks[dense[0][0]].text):
            mode = "dense"
        if mode in ("hybrid", "lexical"):
            lexical = self.lexical.search(query, n)
        d_rank = {cid: r for r, (cid, _) in enumerate(dense, 1)}
        l_rank = {cid: r for r, (cid, _) in enumerate(lexical, 1)}
        d_score = dict(dense)
        l_score = dict(lexical)
        if mode == "hybrid":
            ids = np.array(sorted(set(d_score) | set(l_score)), dtype=np.int64)
            if qv is not None and len(ids):
                missing = np.array([i for i in ids if i not in d_score and i not in self.pending], dtype=np.int64)
                if len(missing):
                    d_score.update(zip(missing.tolist(), (self.vectors.vectors(missing) @ qv).tolist(), strict=True))
                neutral = float(np.mean(list(d_score.values()))) if d_score else 0.0
                for i in ids:  # not embedded yet: no dense evidence either way, so the mean
                    if int(i) in self.pending:
                        d_score[int(i)] = neutral
                l_score.update(self.lexical.scores_for(query, [int(i) for i in ids if i not in l_score]))
            fused = self._fuse(ids, d_score, l_score, d_rank, l_rank)
        else:
            fused = dict(dense or lexical)
        best = sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
        return [
            Hit(self.chunks[cid], score, d_rank.get(cid), l_rank.get(cid), d_score.get(cid), l_score.get(cid))
            for cid, score in best
        ]

    def _fuse(self, ids: np.ndarray, d_score: dict[int, float], l_score: dict[int, float],
              d_rank: dict[int, int], l_rank: dict[int, int]) -> dict[int, float]:
        s = self.settings
        if s.fusion == "rrf":
            out: dict[int, float] = {}
            for cid, r in d_rank.items():
                out[cid] = out.get(cid, 0.0) + s.dense_weight / (s.rrf_k + r)
            for cid, r in l_rank.items():
                out[cid] = out.get(cid, 0.0) + (1 - s.dense_weight) / (s.rrf_k + r)
            return out
        d = _z(np.array([d_score.get(int(i), 0.0) for i in ids]))
        lx = _z(np.array([l_score.get(int(i), 0.0) for i in ids]))
        mixed = s.dense_weight * d + (1 - s.dense_weight) * lx
        return dict(zip(ids.tolist(), mixed.tolist(), strict=True))
