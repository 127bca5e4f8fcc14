"""Baselines the product is compared with in `qa eval --compare`.

"dense" is the product's own dense retrieval alone (`Assistant.retrieve`
with mode="dense"); "bm25-plain" is BM25 over lower-cased words with no
Arabic processing at all, below. All answer with the same composer, so
retrieval is what differs.
"""

from __future__ import annotations

import bm25s


class PlainBM25:
    """bm25s over lower-cased \\w\\w+ tokens, no Arabic processing."""

    def __init__(self, chunk_texts: list[str]) -> None:
        self._bm25 = bm25s.BM25()
        self._bm25.index(bm25s.tokenize(chunk_texts, stopwords=None, show_progress=False), show_progress=False)
        self._n = len(chunk_texts)

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """(row, score) pairs, best first, rows with score 0 left out."""
        tokens = bm25s.tokenize([query], stopwords=None, show_progress=False)
        if not tokens.ids or not tokens.ids[0]:
            return []
        rows, scores = self._bm25.retrieve(tokens, k=min(k, self._n), show_progress=False)
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if s > 0]
