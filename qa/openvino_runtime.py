"""The OpenVINO embedding runtime: a sentence-transformers folder exported once
to OpenVINO IR, run with `openvino` and `tokenizers` (no torch at run time).

    <cache>/openvino/<folder name>-<folder key>-<key>/
      model.xml, model.bin   the transformer as OpenVINO IR (weights stored in fp16)
      export.json            what it was built from: the source folder and key, the openvino version

The cache is qa's model cache (QA_CACHE_DIR, else ~/.cache/arabic-news-qa);
`folder key` hashes the source folder's absolute path, `key` its weight,
config and tokenizer files (name, size, modification time), the openvino
version and EXPORT_VERSION: a changed source gets a new export, and older
exports of the same folder are removed. The
export is written to a temporary folder and renamed, under a lock, so two
processes never build it twice or read half of it. Only mean-pooled models
(multilingual-e5 and most sentence-transformers models) are supported.
OpenVINO picks the inference precision (bf16 on CPUs with AVX512-BF16 or AMX,
else fp32); `QA_OV_PRECISION=f32` forces full precision.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from qa.embedding import normalize_rows, prompts_for
from qa.errors import ModelNotFound
from qa.tokens import Truncation, shared_tokenizer

log = logging.getLogger(__name__)

EXPORT_VERSION = 1
_SOURCE_FILES = ("model.safetensors", "config.json", "tokenizer.json")


def _source(folder: Path) -> list[str]:
    """What identifies a model folder's export: its weight, config and tokenizer files."""
    return [f"{name} {(st := (folder / name).stat()).st_size} {st.st_mtime_ns}" for name in _SOURCE_FILES]


def cached_ir(stem: str, source: object, build: Callable[[], Any], cache_dir: Path | None = None) -> Path:
    """`<cache>/openvino/<stem>-<key>/model.xml`, exported from the torch module
    `build()` returns (called only when the export is missing; its forward takes
    `input_ids` and `attention_mask`); cached as `cached_model` caches."""

    def write(folder: Path) -> None:
        import openvino as ov
        import torch

        model = build()
        example = {"input_ids": torch.ones(2, 16, dtype=torch.long),
                   "attention_mask": torch.ones(2, 16, dtype=torch.long)}
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracing warnings about shapes the export does not fix
            ov.save_model(ov.convert_model(model, example_input=example), folder / "model.xml")

    return cached_model(stem, source, write, cache_dir, "exporting %s to OpenVINO (once; about 10 s)")


def cached_model(stem: str, source: object, write: Callable[[Path], None], cache_dir: Path | None = None,
                 message: str = "building %s") -> Path:
    """`<cache>/openvino/<stem>-<key>/model.xml`, written by `write(folder)` only
    when missing. `key` hashes `source` (JSON: what the model is built from),
    the openvino version and EXPORT_VERSION. Built under a lock into a
    temporary folder, then renamed; older builds of the same stem are removed."""
    import openvino

    from qa.e5convert import default_cache_dir

    identity = json.dumps([source, openvino.__version__, EXPORT_VERSION], sort_keys=True)
    key = hashlib.sha256(identity.encode()).hexdigest()[:12]
    root = (cache_dir or default_cache_dir()) / "openvino"
    root.mkdir(parents=True, exist_ok=True)
    target = root / f"{stem}-{key}"
    if (target / "export.json").exists():
        return target / "model.xml"
    with open(root / f".{stem}.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / "export.json").exists():  # another process built it while we waited
            return target / "model.xml"
        log.info(message, stem)
        tmp = Path(tempfile.mkdtemp(prefix=f".{stem}-", dir=root))
        try:
            write(tmp)
            (tmp / "export.json").write_text(json.dumps({"stem": stem, "key": key, "openvino": openvino.__version__}),
                                             encoding="utf-8")
            os.replace(tmp, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        for old in root.glob(f"{stem}-*"):
            if old != target:  # (an int8 copy of an older export too: its stem begins with the export's)
                shutil.rmtree(old, ignore_errors=True)
    return target / "model.xml"


def export(folder: Path, cache_dir: Path | None = None) -> Path:
    """The OpenVINO IR of the sentence-transformers model in `folder`, built on first use."""

    def build() -> Any:
        import torch
        from transformers import AutoModel

        return AutoModel.from_pretrained(folder, dtype=torch.float32).eval()

    stem = f"{folder.name}-{hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:8]}"
    return cached_ir(stem, _source(folder), build, cache_dir)


def compile_ir(xml: Path, threads: int | None = None) -> Any:
    """The IR compiled for the CPU, latency-first (QA_OV_PRECISION forces a precision)."""
    import openvino as ov

    config = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": threads or os.cpu_count() or 1}
    if os.environ.get("QA_OV_PRECISION"):
        config["INFERENCE_PRECISION_HINT"] = os.environ["QA_OV_PRECISION"]
    return ov.Core().compile_model(str(xml), "CPU", config)


def pad_batch(encodings: Sequence[Any], pad: int) -> tuple[np.ndarray, np.ndarray]:
    """Token ids padded with `pad` to the longest of `encodings` (tokenizers Encodings), and the attention mask."""
    width = max(len(e.ids) for e in encodings)
    ids = np.full((len(encodings), width), pad, np.int64)
    mask = np.zeros((len(encodings), width), np.int64)
    for row, e in enumerate(encodings):
        ids[row, : len(e.ids)] = e.ids
        mask[row, : len(e.ids)] = 1
    return ids, mask


class OpenVinoEmbedder:
    """A mean-pooled sentence-transformers model run by OpenVINO on the CPU;
    `int8`: its int8 copy (qa/int8.py), the "openvino-int8" runtime."""

    def __init__(self, model_id: str, folder: Path, *, batch_size: int = 32, threads: int | None = None,
                 cache_dir: Path | None = None, int8: bool = False) -> None:
        try:
            import openvino  # noqa: F401 - checked here, used by compile_ir
            import tokenizers  # noqa: F401 - checked here, used by qa.tokens
        except ImportError as exc:
            raise ModelNotFound(model_id, RuntimeError("the openvino runtime needs: pip install openvino")) from exc
        try:
            pooling = json.loads((folder / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
            st_config = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
            hf = json.loads((folder / "config.json").read_text(encoding="utf-8"))
            st_file = folder / "config_sentence_transformers.json"
            prompts = json.loads(st_file.read_text(encoding="utf-8")) if st_file.exists() else {}
        except (OSError, ValueError) as exc:
            raise ModelNotFound(model_id, RuntimeError(f"{folder} is not a complete sentence-transformers folder "
                                                       f"({exc}); use QA_RUNTIME=torch")) from exc
        if not pooling.get("pooling_mode_mean_tokens", pooling.get("pooling_mode") == "mean"):
            raise ModelNotFound(model_id, RuntimeError("the openvino runtime runs mean-pooled models only; "
                                                       "use QA_RUNTIME=torch"))
        self._truncation = Truncation(int(st_config.get("max_seq_length", 512)))
        self._pad = int(hf.get("pad_token_id") or 0)
        self._prompts = prompts_for(model_id, prompts.get("prompts") or {})
        self._tokenizer_file = folder / "tokenizer.json"
        self._xml = export(folder, cache_dir)
        self.runtime = "openvino-int8" if int8 else "openvino"  # recorded in the manifest
        if int8:
            from qa.int8 import quantized

            self._xml = quantized(self._xml, self._token_ids, self._prompts, model_id, cache_dir)
        self._threads = threads
        with ThreadPoolExecutor(1) as pool:  # OpenVINO compiles without the GIL while the tokenizer is read
            compiling = pool.submit(compile_ir, self._xml, threads)
            self._tok = shared_tokenizer(self._tokenizer_file)  # the reader's too
            self._model = compiling.result()
        self.model_id = model_id
        self.dimension = int(pooling.get("word_embedding_dimension") or pooling.get("embedding_dimension")
                             or hf["hidden_size"])
        self.batch_size = batch_size

    def _token_ids(self, text: str) -> list[int]:
        """The token ids of one text (prompt included), cut as the model is fed."""
        return shared_tokenizer(self._tokenizer_file).encode(text, self._truncation).ids

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        ids, mask = pad_batch(self._tok.encode_batch(texts, self._truncation), self._pad)
        hidden = self._model({"input_ids": ids, "attention_mask": mask})[0]
        return normalize_rows((hidden * mask[..., None]).sum(1) / mask.sum(1, keepdims=True))

    def embed_documents(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), np.float32)
        prefix = self._prompts.get("document", "")
        order = np.argsort([len(t) for t in texts], kind="stable")  # batches of like lengths pad little
        for at in range(0, len(order), self.batch_size):
            idx = order[at : at + self.batch_size]
            out[idx] = self._embed([prefix + texts[i] for i in idx])
            if progress:
                progress(len(idx))
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self._embed([self._prompts.get("query", "") + text])[0]
