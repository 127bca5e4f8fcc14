"""A published generation of a Milvus index, searched as the retriever asks.

Dense search is Milvus' (exact FLAT, or HNSW / IVF). Lexical candidates come
from Milvus' own BM25 function over our analysed terms; every BM25 score is
computed here, as bm25s computes it in the embedded store (k1 1.5, b 0.75,
Lucene's idf, without its constant k1 + 1 factor), from the chunk's stored
terms, the generation's chunk count and average length, and each term's
document frequency (the terms collection): Milvus keeps its statistics per
segment, so its own scores differ once an index has been updated.
"""

from __future__ import annotations

import math
import re
from collections import Counter, OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from qa.backends.milvus import schema
from qa.store.manifest import Manifest
from qa.types import Article, Chunk

_TERM = re.compile(r"\w+")
CHUNK_FIELDS = ["doc_id", "start", "end", "text"]
WIDEN = 4  # BM25 candidates asked of Milvus per hit wanted


def _idf(df: float, n: float) -> float:
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


class MilvusSnapshot:
    """Generation `gen` of a Milvus index: every search filters on the rows visible in it."""

    def __init__(self, store: Any, state: dict[str, Any]) -> None:
        self.store = store
        self.client = store.client
        self.gen: int = state["gen"]
        self.name: str = state["name"]
        self.manifest = Manifest(**state["manifest"])
        self.pending: frozenset[int] = frozenset()
        self.size: int = state["chunks"]
        self.avgdl: float = state["total_length"] / max(1, self.size)
        self.index_type: str = state["index_type"]
        self.nprobe: int = state.get("nprobe", 64)
        self.filter = schema.visible(self.gen)
        self.articles = Articles(store, self.gen)
        self._idf = Idf(self)

    def dense_search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        got = self.client.search(self.store.chunks, data=[np.asarray(vector, np.float32).tolist()],
                                 anns_field="vector", filter=self.filter, limit=min(k, 16384), output_fields=["id"],
                                 search_params=schema.search_params(self.index_type, self.nprobe))
        return [(int(h["id"]), float(h["distance"])) for h in got[0]]

    def dense_scores(self, vector: np.ndarray, ids: Sequence[int]) -> dict[int, float]:
        if not ids:
            return {}
        rows = self.client.query(self.store.chunks, ids=[int(i) for i in ids], output_fields=["vector"])
        vecs = np.array([r["vector"] for r in rows], np.float32)
        return dict(zip((int(r["id"]) for r in rows), (vecs @ vector).tolist(), strict=True))

    def lexical_search(self, terms: Sequence[str], k: int) -> list[tuple[int, float]]:
        """Milvus' BM25 finds WIDEN times k candidates; their scores are then
        computed here with the generation's own statistics (`lexical_scores`),
        because Milvus keeps BM25 statistics per segment: after an update its
        scores drift from the index folder's (measured on milvus-lite)."""
        if not terms or not self.size:
            return []
        got = self.client.search(self.store.chunks, data=[" ".join(terms)], anns_field="sparse",
                                 filter=self.filter, limit=min(k * WIDEN, 16384), output_fields=["id"],
                                 search_params={"metric_type": "BM25"})
        scores = self.lexical_scores(terms, [int(h["id"]) for h in got[0]])
        best = sorted(((i, x) for i, x in scores.items() if x > 0), key=lambda ix: (-ix[1], ix[0]))
        return best[:k]

    def lexical_scores(self, terms: Sequence[str], ids: Sequence[int]) -> dict[int, float]:
        if not ids:
            return {}
        rows = self.client.query(self.store.chunks, ids=[int(i) for i in ids], output_fields=["terms", "length"])
        weights = Counter(terms)
        self._idf.fetch(list(weights))
        idf = {t: self._idf.get(t, 0.0) for t in weights}
        out = {int(i): 0.0 for i in ids}
        for r in rows:
            tf = Counter(r["terms"].split())
            norm = schema.K1 * (1 - schema.B + schema.B * r["length"] / self.avgdl)
            out[int(r["id"])] = sum(q * idf[t] * tf[t] / (tf[t] + norm)
                                    for t, q in weights.items() if tf[t])
        return out

    def fetch(self, ids: Sequence[int]) -> dict[int, Chunk]:
        if not ids:
            return {}
        rows = self.client.query(self.store.chunks, ids=[int(i) for i in ids], output_fields=CHUNK_FIELDS)
        return {int(r["id"]): Chunk(int(r["id"]), r["doc_id"], r["start"], r["end"], r["text"]) for r in rows}

    def idf(self) -> Mapping[str, float]:
        return self._idf

    def top_idf(self) -> float:
        return _idf(1, self.size)

    def document_frequencies(self, terms: Sequence[str]) -> dict[str, int]:
        """How many of this generation's chunks hold each term (terms in none are left out)."""
        wanted = [t for t in dict.fromkeys(terms) if _TERM.fullmatch(t) and len(t) <= schema.MAX_TERM_CHARS]
        if not wanted:
            return {}
        rows = self.client.query(self.store.terms, ids=wanted, output_fields=["df", "since", "before"])
        return {r["term"]: n for r in rows if (n := schema.df_at(r, self.gen)) > 0}


class Idf(Mapping[str, float]):
    """Term -> IDF, read from the terms collection when first asked (and kept).
    Iterating it gives up to 2,000 terms: a sample of the vocabulary, which is
    what the LLM check's rare-word percentile is read from."""

    SAMPLE = 2000

    def __init__(self, snap: MilvusSnapshot) -> None:
        self.snap = snap
        self._known: dict[str, float | None] = {}
        self._sample: list[str] | None = None

    def __getitem__(self, term: str) -> float:
        if term not in self._known:
            self.fetch([term])
        found = self._known[term]
        if found is None:
            raise KeyError(term)
        return found

    def fetch(self, terms: Sequence[str]) -> None:
        """Ask Milvus for the terms not known yet, in one query."""
        todo = [t for t in terms if t not in self._known]
        got = self.snap.document_frequencies(todo) if todo else {}
        for t in todo:
            self._known[t] = _idf(got[t], self.snap.size) if t in got else None

    def _terms(self) -> list[str]:
        if self._sample is None:
            rows = self.snap.client.query(self.snap.store.terms, filter="df > 0", output_fields=["term"],
                                          limit=self.SAMPLE)
            self._sample = sorted(r["term"] for r in rows)
        return self._sample

    def __iter__(self) -> Iterator[str]:
        return iter(self._terms())

    def __len__(self) -> int:
        return len(self._terms())


class Articles(Mapping[str, Article]):
    """doc_id -> Article, read from Milvus on first use (the last 512 kept)."""

    KEEP = 512

    def __init__(self, store: Any, gen: int) -> None:
        self.store = store
        self.gen = gen
        self._cache: OrderedDict[str, Article | None] = OrderedDict()
        self._ids: list[str] | None = None

    def __getitem__(self, doc_id: str) -> Article:
        if doc_id not in self._cache:
            rows = sorted(self.store.doc_rows(self.store.articles, [doc_id], self.gen, ["part", "text", "meta"]),
                          key=lambda r: r["part"])
            self._cache[doc_id] = article_from(doc_id, rows) if rows else None
            while len(self._cache) > self.KEEP:
                self._cache.popitem(last=False)
        found = self._cache[doc_id]
        if found is None:
            raise KeyError(doc_id)
        return found

    def _all(self) -> list[str]:
        if self._ids is None:
            rows = self.store.rows(self.store.articles, f"part == 0 and {schema.visible(self.gen)}", ["doc_id"])
            self._ids = sorted(r["doc_id"] for r in rows)
        return self._ids

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


def article_from(doc_id: str, parts: list[dict[str, Any]]) -> Article:
    meta = dict(parts[0]["meta"])
    meta.pop("hash", None)
    return Article(doc_id=doc_id, text="".join(p["text"] for p in parts), **meta)
