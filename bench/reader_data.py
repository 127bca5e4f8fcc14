"""The reader's training data: XQuAD (Arabic, and English questions over the
Arabic paragraphs) and ARCD articles, as (question, passage) pairs with
answer offsets, two no-answer pairs per question, tokenised into windows."""

from __future__ import annotations

import json
import logging
import random
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from transformers import PreTrainedTokenizerBase

log = logging.getLogger("train_reader")

@dataclass(frozen=True)
class Example:
    """A (question, passage) pair; start = end = -1 means no answer."""

    qid: str
    question: str
    context: str
    start: int
    end: int
    kind: str  # pos | neg-same | neg-other
    source: str  # xquad-ar | xquad-en | arcd


Feature = tuple[list[int], int, int]  # a tokenised window, its start/end token labels (0 = [CLS])


_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي"})


def norm_tokens(text: str) -> list[str]:
    """Tokens for the negatives' answer check (part of the data recipe: kept as trained)."""
    text = _DIACRITICS.sub("", unicodedata.normalize("NFKC", text)).translate(_FOLD).casefold()
    text = "".join(" " if unicodedata.category(c)[0] in "PS" else c for c in text)
    return [t[2:] if t.startswith("ال") and len(t) > 3 else t for t in text.split()]


def load_articles(path: Path) -> list[list[dict]]:
    """SQuAD json -> articles, each a list of paragraphs {context, qas}."""
    return [art["paragraphs"] for art in json.loads(path.read_text(encoding="utf-8"))["data"]]


def align(context: str, text: str, start: int) -> tuple[int, int] | None:
    """Char span of `text` in `context` nearest `start`, tolerant of whitespace
    differences (three ARCD answers differ from their context in spaces)."""
    if context[start : start + len(text)] == text:
        return start, start + len(text)
    hits = [m.span() for m in re.finditer(r"\s+".join(map(re.escape, text.split())), context)]
    return min(hits, key=lambda s: abs(s[0] - start)) if hits else None


def build_examples(articles: list[list[dict]], keep: list[int], source: str, rng: random.Random,
                   questions: dict[str, str] | None = None) -> list[Example]:
    """Positives plus two no-answer pairs per question (same article, other article).
    `questions` replaces question texts by id (English questions over Arabic text).
    A negative paragraph that contains the normalised answer is not used."""
    norm = {(ai, pi): " ".join(norm_tokens(p["context"])) for ai in keep for pi, p in enumerate(articles[ai])}
    out: list[Example] = []
    for ai in keep:
        paras = articles[ai]
        for pi, para in enumerate(paras):
            ctx = para["context"]
            for qa in para["qas"]:
                ans = qa["answers"][0]
                span = align(ctx, ans["text"], ans["answer_start"])
                text = questions.get(qa["id"]) if questions is not None else qa["question"]
                if span is None or text is None:
                    log.warning("%s %s: skipped (answer not in context or no question)", source, qa["id"])
                    continue
                q = text.strip(" -\u200f\n\t")
                out.append(Example(qa["id"], q, ctx, *span, "pos", source))
                gold = " ".join(norm_tokens(ans["text"]))
                pools = {"neg-same": [(ai, pj) for pj in range(len(paras)) if pj != pi],
                         "neg-other": [(aj, pj) for aj in keep if aj != ai for pj in range(len(articles[aj]))]}
                for kind, pool in pools.items():
                    tries = [rng.choice(pool) for _ in range(10)] if pool else []
                    pick = next((t for t in tries if gold not in norm[t]), None)
                    if pick:
                        out.append(Example(qa["id"], q, articles[pick[0]][pick[1]]["context"], -1, -1, kind, source))
    return out


def featurize(tok: PreTrainedTokenizerBase, examples: list[Example], max_len: int, stride: int,
              neg_windows: int) -> list[Feature]:
    """Windows of (question, passage) with token labels; a window that does not
    hold the whole answer is labelled [CLS]. Negatives keep `neg_windows` windows."""
    feats: list[Feature] = []
    for i in range(0, len(examples), 256):
        chunk = examples[i : i + 256]
        enc = tok([e.question for e in chunk], [e.context for e in chunk], truncation="only_second",
                  max_length=max_len, stride=stride, return_overflowing_tokens=True, return_offsets_mapping=True)
        windows: Counter[int] = Counter()
        for w, ids in enumerate(enc["input_ids"]):
            k = enc["overflow_to_sample_mapping"][w]
            ex, windows[k] = chunk[k], windows[k] + 1
            s = e = 0
            if ex.start < 0 and windows[k] > neg_windows:
                continue
            if ex.start >= 0:
                offs = enc["offset_mapping"][w]
                ctx = [t for t, sid in enumerate(enc.sequence_ids(w)) if sid == 1]
                if ctx and offs[ctx[0]][0] <= ex.start and offs[ctx[-1]][1] >= ex.end:
                    s = next(t for t in ctx if offs[t][1] > ex.start)
                    e = next(t for t in reversed(ctx) if offs[t][0] < ex.end)
            feats.append((ids, s, e))
    return feats
