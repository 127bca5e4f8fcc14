"""The vector index: FAISS inner product over L2-normalised embeddings.

Exact search (`IndexIDMap2(IndexFlatIP)`) while the index is small; above
`approximate_above` vectors an inverted-file index (`IndexIVFFlat`, about
4·sqrt(n) lists, `nprobe` lists searched) whose recall@10 against exact search
is measured by `bench/ann_recall.py` (docs/evaluation.md). Both keep vectors readable by
id, so unchanged articles are never re-embedded, and every version is built
from the full vector set, so removals need nothing special.

Stored with `faiss.write_index` (FAISS' own binary format, no pickle). Vector
ids are chunk positions in the chunk store.
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np


class VectorIndex:
    def __init__(self, index: faiss.Index) -> None:
        self._index = index

    @classmethod
    def build(cls, vectors: np.ndarray, ids: np.ndarray | None = None, *, approximate_above: int | None = None,
              nprobe: int = 64, previous: VectorIndex | None = None) -> VectorIndex:
        """Index `vectors` under `ids` (default 0..n-1): exact, or IVF above the threshold.
        An IVF `previous` version lends its trained lists while the index has
        not doubled since they were trained (training is the slow part)."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        n, d = vectors.shape
        ids = np.arange(n, dtype=np.int64) if ids is None else np.ascontiguousarray(ids, dtype=np.int64)
        if approximate_above is not None and n > approximate_above:
            centroids = previous.centroids_for(n) if previous is not None else None
            quantizer = faiss.IndexFlatIP(d)
            if centroids is None:
                nlist = max(16, int(4 * np.sqrt(n)))
                index = faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT)
                rng = np.random.default_rng(0)
                index.train(vectors[rng.choice(n, size=min(n, nlist * 40), replace=False)])
            else:
                quantizer.add(centroids)
                index = faiss.IndexIVFFlat(quantizer, d, len(centroids), faiss.METRIC_INNER_PRODUCT)
                index.is_trained = True
            index.set_direct_map_type(faiss.DirectMap.Hashtable)  # read vectors back by id
            index.add_with_ids(vectors, ids)
            index.nprobe = nprobe
            return cls(index)
        index = faiss.IndexIDMap2(faiss.IndexFlatIP(d))
        if n:
            index.add_with_ids(vectors, ids)
        return cls(index)

    @property
    def approximate(self) -> bool:
        return isinstance(self._index, faiss.IndexIVF)

    def centroids_for(self, n: int) -> np.ndarray | None:
        """This IVF index's list centroids, if they still suit `n` vectors (it
        was trained for at most twice fewer lists than n would get)."""
        if not self.approximate:
            return None
        nlist = int(self._index.nlist)
        if int(4 * np.sqrt(n)) > 2 * nlist:
            return None
        return self._index.quantizer.reconstruct_n(0, nlist)

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
    def load(cls, path: Path, nprobe: int | None = None) -> VectorIndex:
        index = faiss.read_index(str(path))
        if isinstance(index, faiss.IndexIVF):  # read_index returns the concrete class
            if nprobe:
                index.nprobe = nprobe
            index.set_direct_map_type(faiss.DirectMap.Hashtable)
        return cls(index)
