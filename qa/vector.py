"""The vector index: FAISS inner product over L2-normalised embeddings.

Stored with `faiss.write_index` (FAISS' own binary format, no pickle). Vector
ids are chunk positions in the chunk store; `IndexIDMap2` lets vectors be read
back by id, so unchanged articles are never re-embedded on update.
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np


class VectorIndex:
    def __init__(self, index: faiss.Index) -> None:
        self._index = index

    @classmethod
    def build(cls, vectors: np.ndarray, ids: np.ndarray | None = None) -> VectorIndex:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        index = faiss.IndexIDMap2(faiss.IndexFlatIP(vectors.shape[1]))
        if len(vectors):
            ids = np.arange(len(vectors), dtype=np.int64) if ids is None else ids.astype(np.int64)
            index.add_with_ids(vectors, ids)
        return cls(index)

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        if self.size == 0:
            return []
        scores, ids = self._index.search(np.ascontiguousarray(query[None], dtype=np.float32), min(k, self.size))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """Stored vectors for `ids` (in that order)."""
        if len(ids) == 0:
            return np.zeros((0, self.dimension), np.float32)
        return self._index.reconstruct_batch(np.ascontiguousarray(ids, dtype=np.int64))

    def save(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path) -> VectorIndex:
        return cls(faiss.read_index(str(path)))
