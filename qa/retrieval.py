"""Hybrid retrieval: dense (FAISS) and lexical (BM25) candidates, fused.

Fusion (chosen by measurement on ARCD, docs/decisions.md): the union of both
retrievers' top `candidates` is scored by both (a dense score is a dot product
with the stored vector, a lexical score is BM25 for that chunk), each score is
standardised over the union (z-score), and the two are mixed with
`dense_weight`. Reciprocal-rank fusion (`fusion="rrf"`) is kept for
comparison; it ranks ~4 points lower at recall@1 on ARCD.

`mode` selects "hybrid" (default), "dense" or "lexical"; the last two are the
baselines the evaluation compares against. A hybrid search for a
cross-lingual question (`Query.cross_lingual`: an English question over
Arabic articles) is answered by dense retrieval alone: the question's words
cannot occur in the passages, so BM25 only rewards stray Latin words in them
(on English ARCD questions it cut recall@1 from 0.62 to 0.47,
docs/decisions.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from qa.backends.base import Snapshot
from qa.errors import BadSettings
from qa.query import Query
from qa.settings import Settings
from qa.types import Hit

Mode = Literal["hybrid", "dense", "lexical"]
MODES: tuple[Mode, ...] = ("hybrid", "dense", "lexical")


def _z(x: np.ndarray) -> np.ndarray:
    if not len(x):
        return x
    std = float(x.std())
    return (x - x.mean()) / std if std > 1e-9 else np.zeros_like(x)


class Retriever:
    """Searches one snapshot of a store (qa/backends/); its `pending` chunks have no vector yet."""

    def __init__(self, snapshot: Snapshot, settings: Settings) -> None:
        self.snapshot = snapshot
        self.pending = snapshot.pending  # chunks with no vector yet: lexical evidence only
        self.settings = settings

    def best_match(self, vector: np.ndarray | None, terms: Sequence[str]) -> str | None:
        """The text of the best dense match (or, with no vector, the best
        keyword match): what `qa.query.analyse` compares scripts with."""
        snap = self.snapshot
        top = snap.dense_search(vector, 1) if vector is not None else snap.lexical_search(terms, 1)
        return snap.fetch([top[0][0]])[top[0][0]].text if top else None

    def search(self, query: Query, k: int | None = None, *, mode: Mode = "hybrid") -> list[Hit]:
        """Top-k hits for `query`, best first (dense modes need `query.vector`)."""
        if mode not in MODES:
            raise BadSettings(f"unknown retrieval mode {mode!r}; use one of {', '.join(MODES)}")
        s = self.settings
        k = k or s.top_k
        n = max(s.candidates, k)
        dense: list[tuple[int, float]] = []
        lexical: list[tuple[int, float]] = []
        qv = query.vector
        if mode in ("hybrid", "dense"):
            if qv is None:
                raise ValueError(f"a {mode} search needs the question's vector: analyse it with mode={mode!r}")
            dense = self.snapshot.dense_search(qv, n)
        if mode == "hybrid" and query.cross_lingual:
            mode = "dense"
        if mode in ("hybrid", "lexical"):
            lexical = self.snapshot.lexical_search(query.terms, n)
        d_rank = {cid: r for r, (cid, _) in enumerate(dense, 1)}
        l_rank = {cid: r for r, (cid, _) in enumerate(lexical, 1)}
        d_score = dict(dense)
        l_score = dict(lexical)
        if mode == "hybrid":
            ids = np.array(sorted(set(d_score) | set(l_score)), dtype=np.int64)
            if qv is not None and len(ids):
                missing = [int(i) for i in ids if i not in d_score and i not in self.pending]
                d_score.update(self.snapshot.dense_scores(qv, missing))
                neutral = float(np.mean(list(d_score.values()))) if d_score else 0.0
                for i in ids:  # not embedded yet: no dense evidence either way, so the mean
                    if int(i) in self.pending:
                        d_score[int(i)] = neutral
                l_score.update(self.snapshot.lexical_scores(query.terms, [int(i) for i in ids if i not in l_score]))
            fused = self._fuse(ids, d_score, l_score, d_rank, l_rank)
        else:
            fused = dict(dense or lexical)
        best = sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
        chunks = self.snapshot.fetch([cid for cid, _ in best])
        return [  # a chunk not embedded yet has no dense score: its neutral one only served the fusion
            Hit(chunks[cid], score, d_rank.get(cid), l_rank.get(cid),
                None if cid in self.pending else d_score.get(cid), l_score.get(cid))
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
