"""Metrics of an evaluation run, and their table.

recall@1, recall@5 and MRR@10 of the gold article; whether the top passage
holds a gold answer at all (ARCD repeats facts across paragraphs, so this is
what a reader of the top passage gets); answer containment (the normalised
gold answer inside the normalised composed answer); mean answer length in
words (answered questions); false refusals; latency p50/p95; with held-out
articles, the share of their questions refused.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from qa import arabic
from qa.types import Answer, Hit

if TYPE_CHECKING:
    from qa.eval.llm import LLMResult

_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)
_MARKER = re.compile(r"\[\d+\]")


@dataclass(frozen=True)
class EvalResult:
    mode: str
    questions: int  # answerable ones (their paragraph is indexed)
    out_of_scope: int  # questions whose article was held out of the index
    recall_at_1: float
    recall_at_5: float
    mrr: float
    containment: float
    answer_words: float
    latency_p50_ms: float
    latency_p95_ms: float
    refusal_recall: float | None  # share of out-of-scope questions refused
    refusal_precision: float | None  # share of refusals that were right (out of scope)
    false_refusals: float  # share of answerable questions refused
    cited_right: float  # answerable questions answered with [1] citing the gold article
    answer_at_1: float  # the top passage holds a gold answer (gold paragraph or not: ARCD repeats facts)
    short_f1: float | None = None  # the reader's short answer against the gold answers (None: no reader)
    short_em: float | None = None
    llm: LLMResult | None = None  # when an LLM wrote answers


def normalize_answer(text: str) -> str:
    """Text folded for answer matching: Arabic normalisation, no punctuation."""
    return " ".join(_PUNCT.sub(" ", arabic.normalize(text)).split())


def contains_answer(answer: str, golds: Sequence[str]) -> bool:
    """Whether a gold answer occurs in `answer` as whole words (normalised)."""
    hay = f" {normalize_answer(answer)} "
    return any(f" {normalize_answer(g)} " in hay for g in golds if normalize_answer(g))


def answer_tokens(text: str) -> list[str]:
    """Tokens for the SQuAD metrics: normalised (diacritics, alef/hamza, ة/ه,
    ى/ي folded), punctuation dropped, and the article «ال» taken off."""
    return [t[2:] if t.startswith("ال") and len(t) > 3 else t for t in normalize_answer(text).split()]


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    """1.0 when the prediction's tokens equal a gold answer's."""
    return float(any(answer_tokens(prediction) == answer_tokens(g) for g in golds))


def token_f1(prediction: str, golds: Sequence[str]) -> float:
    """SQuAD token F1 against the best-matching gold answer."""
    pred = answer_tokens(prediction)
    best = 0.0
    for gold in map(answer_tokens, golds):
        common = sum((Counter(pred) & Counter(gold)).values())
        if common:
            precision, recall = common / len(pred), common / len(gold)
            best = max(best, 2 * precision * recall / (precision + recall))
        elif pred == gold:
            best = max(best, 1.0)
    return best


def answer_words(text: str) -> int:
    """Words of an answer, without its [n] markers."""
    return len(_MARKER.sub("", text).split())


def gold_rank(hits: Sequence[Hit], doc_id: str | None) -> int | None:
    """The rank of the gold article among the hits' distinct articles."""
    seen: list[str] = []
    for h in hits:
        if h.chunk.doc_id not in seen:
            seen.append(h.chunk.doc_id)
        if h.chunk.doc_id == doc_id:
            return len(seen)
    return None


@dataclass
class Tally:
    """Per-question outcomes of one mode, summed up by `result`."""

    ranks: list[int | None]
    contained: list[bool]
    refused: list[bool]
    words: list[int]
    latency_ms: list[float]
    cited: list[bool]
    top_holds: list[bool]
    oos_refused: list[bool]
    short_f1: list[float]
    short_em: list[float]

    @classmethod
    def empty(cls) -> Tally:
        return cls([], [], [], [], [], [], [], [], [], [])

    def add(self, answer: Answer, hits: Sequence[Hit], doc_id: str | None, golds: Sequence[str],
            rank: int | None, contained: bool, short: bool = False) -> None:
        """One question's outcome (latency is added by the caller); `short`:
        score the reader's short answer too."""
        if doc_id is None:
            self.oos_refused.append(answer.refused)
            return
        self.ranks.append(rank)
        self.top_holds.append(bool(hits) and contains_answer(hits[0].chunk.text, golds))
        self.cited.append(not answer.refused and answer.citations[0].doc_id == doc_id)
        self.contained.append(contained)
        self.refused.append(answer.refused)
        if not answer.refused:
            self.words.append(answer_words(answer.text))
        if short:
            text = answer.short_answer.text if answer.short_answer else ""
            self.short_f1.append(token_f1(text, golds) if text else 0.0)
            self.short_em.append(exact_match(text, golds) if text else 0.0)

    def result(self, mode: str) -> EvalResult:
        ranks, lat, refused, oos = self.ranks, self.latency_ms, self.refused, self.oos_refused
        n = max(len(ranks), 1)
        return EvalResult(
            mode=mode, questions=len(ranks), out_of_scope=len(oos),
            recall_at_1=round(sum(1 for r in ranks if r == 1) / n, 4),
            recall_at_5=round(sum(1 for r in ranks if r and r <= 5) / n, 4),
            mrr=round(sum(1 / r for r in ranks if r) / n, 4),
            containment=round(sum(self.contained) / n, 4),
            answer_words=round(float(np.mean(self.words)) if self.words else 0.0, 1),
            latency_p50_ms=round(float(np.percentile(lat, 50)), 1) if lat else 0.0,
            latency_p95_ms=round(float(np.percentile(lat, 95)), 1) if lat else 0.0,
            refusal_recall=round(sum(oos) / len(oos), 4) if oos else None,
            refusal_precision=(round(sum(oos) / (sum(oos) + sum(refused)), 4)
                               if oos and sum(oos) + sum(refused) else None),
            false_refusals=round(sum(refused) / n, 4),
            cited_right=round(sum(self.cited) / n, 4),
            answer_at_1=round(sum(self.top_holds) / n, 4),
            short_f1=round(sum(self.short_f1) / n, 4) if self.short_f1 else None,
            short_em=round(sum(self.short_em) / n, 4) if self.short_em else None,
        )


def format_table(results: Sequence[EvalResult]) -> str:
    """The results as a Markdown table, one row a mode."""
    head = ("| mode | questions | recall@1 | recall@5 | MRR | answer in top passage | containment | cited right "
            "| words | short F1 / EM | false refusals | out-of-scope refused | refusal precision | p50 ms | p95 ms |")
    rows = [head, "|" + "---|" * 15]
    for r in results:
        oos = f"{r.refusal_recall:.3f} of {r.out_of_scope}" if r.refusal_recall is not None else "-"
        prec = f"{r.refusal_precision:.3f}" if r.refusal_precision is not None else "-"
        short = f"{r.short_f1:.3f} / {r.short_em:.3f}" if r.short_f1 is not None else "-"
        rows.append(f"| {r.mode} | {r.questions} | {r.recall_at_1:.3f} | {r.recall_at_5:.3f} | {r.mrr:.3f} | "
                    f"{r.answer_at_1:.3f} | {r.containment:.3f} | {r.cited_right:.3f} | {r.answer_words:.0f} | "
                    f"{short} | {r.false_refusals:.3f} | "
                    f"{oos} | {prec} | {r.latency_p50_ms:.0f} | {r.latency_p95_ms:.0f} |")
    return "\n".join(rows)
