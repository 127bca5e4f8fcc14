"""The lexical index: BM25 (bm25s) over normalised, stop-worded, stemmed terms.

Stored with bm25s' own `save` (JSON + .npy arrays, loaded with
allow_pickle=False) plus `terms.txt`, each row's terms on one line, so an
update re-tokenises only new chunks. Rows are chunk positions in the chunk store.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np

from qa import arabic

EMPTY = "\u2205"  # the one term of a row with no terms (bm25s needs one)


def tokenize(text: str) -> list[str]:
    """A row's terms, as indexed."""
    return arabic.terms(text) or [EMPTY]


class LexicalIndex:
    def __init__(self, bm25: bm25s.BM25 | None, size: int, tokens: list[list[str]] | None = None,
                 folder: Path | None = None) -> None:
        self._bm25 = bm25
        self.size = size
        self._tokens = tokens
        self._folder = folder

    @classmethod
    def build(cls, tokens: Sequence[list[str]]) -> LexicalIndex:
        """An index over rows given as term lists (see `tokenize`)."""
        tokens = list(tokens)
        if not tokens:
            return cls(None, 0, [])
        bm25 = bm25s.BM25()
        bm25.index(tokens, show_progress=False)
        return cls(bm25, len(tokens), tokens)

    def tokens(self) -> list[list[str]] | None:
        """Every row's terms (read from disk on first use); None for an index
        written before terms were stored."""
        if self._tokens is None:
            if self._folder is None or not (self._folder / "terms.txt").exists():
                return None
            with open(self._folder / "terms.txt", encoding="utf-8") as f:
                self._tokens = [list(map(sys.intern, line.split())) for line in f]  # one string a term: 0.5 GB less
        return self._tokens

    def search(self, terms: Sequence[str], k: int) -> list[tuple[int, float]]:
        """(row, score) pairs for a question's terms (`arabic.terms`), best
        first; rows with score 0 are left out."""
        if self._bm25 is None or self.size == 0:
            return []
        q = self._known(terms)
        if not q:
            return []
        rows, scores = self._bm25.retrieve([q], k=min(k, self.size), show_progress=False, n_threads=1)
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if s > 0]

    def _known(self, terms: Sequence[str]) -> list[str]:
        """The terms that occur in the index."""
        return [t for t in terms if t in self._bm25.vocab_dict]

    def scores_for(self, terms: Sequence[str], rows: Sequence[int]) -> dict[int, float]:
        """BM25 scores of a question's terms for the given rows (0 where no term matches)."""
        if self._bm25 is None or not rows:
            return {}
        q = self._known(terms)
        if not q:
            return {int(r): 0.0 for r in rows}
        all_scores = self._bm25.get_scores(q)
        return {int(r): float(all_scores[r]) for r in rows}

    def idf(self) -> dict[str, float]:
        """Term -> inverse document frequency, read off the index (what
        counting the terms of every row would give, without re-tokenising)."""
        if self._bm25 is None:
            return {}
        indptr = np.asarray(self._bm25.scores["indptr"])
        df = np.diff(indptr).astype(np.float64)  # documents per term (CSC column lengths)
        idf = _idf(df, self.size)
        return {term: float(idf[i]) for term, i in self._bm25.vocab_dict.items() if i < len(idf)}

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self._bm25 is not None:
            self._bm25.save(str(folder))
        with open(folder / "terms.txt", "w", encoding="utf-8") as f:
            for row in self.tokens() or []:
                f.write(" ".join(row) + "\n")
        (folder / "size.txt").write_text(str(self.size), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        size = int((folder / "size.txt").read_text(encoding="utf-8"))
        if size == 0:
            return cls(None, 0, [])
        return cls(bm25s.BM25.load(str(folder), allow_pickle=False), size, folder=folder)


def _idf(df: np.ndarray, n: int) -> np.ndarray:
    return np.log(1 + (n - df + 0.5) / (df + 0.5))

