"""Metrics of the LLM answer writer, beside the extractive answer's.

Per answered, answerable question: the short-answer F1 of the LLM's first
line (its answer itself) against the gold answers; containment of a gold
answer in its checked reply (falling back to the quotes when it fell back, as
a person would see); the share of the sentences it wrote that the check kept;
how many replies fell back to the quotes; its seconds per reply, p50/p95.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from qa.eval.metrics import contains_answer, token_f1
from qa.types import Answer

_MARKER = re.compile(r"\s*\[\d+\]")


@dataclass(frozen=True)
class LLMResult:
    model: str
    replies: int  # answerable questions the LLM was asked (those the refusal rule answered)
    short_f1: float
    containment: float
    verified_share: float  # sentences kept / sentences written
    fallbacks: int  # replies that fell back to the quotes
    seconds_p50: float
    seconds_p95: float


@dataclass
class LLMTally:
    model: str = ""
    f1: list[float] = field(default_factory=list)
    contained: list[bool] = field(default_factory=list)
    sentences: int = 0
    verified: int = 0
    fallbacks: int = 0
    seconds: list[float] = field(default_factory=list)

    def add(self, answer: Answer, golds: tuple[str, ...]) -> None:
        w = answer.written
        if w is None:
            return
        self.model = w.model
        self.sentences += w.sentences
        self.verified += w.verified
        self.seconds.append(w.seconds)
        if w.fallback:
            self.fallbacks += 1
            self.f1.append(0.0)
            self.contained.append(contains_answer(answer.text, golds))
            return
        first = _MARKER.sub("", w.text.split("\n", 1)[0]).strip()
        self.f1.append(token_f1(first, golds))
        self.contained.append(contains_answer(w.text, golds))

    def result(self) -> LLMResult | None:
        if not self.seconds:
            return None
        n = len(self.f1)
        p50, p95 = (round(float(np.percentile(self.seconds, q)), 2) for q in (50, 95))
        return LLMResult(self.model, n, round(sum(self.f1) / n, 4), round(sum(self.contained) / n, 4),
                         round(self.verified / self.sentences, 4) if self.sentences else 0.0, self.fallbacks, p50, p95)


def llm_table(results: list[LLMResult]) -> str:
    rows = ["| LLM | replies | short F1 | containment | sentences verified | fell back | p50 s | p95 s |",
            "|---|---|---|---|---|---|---|---|"]
    rows += [f"| {r.model} | {r.replies} | {r.short_f1:.3f} | {r.containment:.3f} | {r.verified_share:.3f} | "
             f"{r.fallbacks} | {r.seconds_p50:.1f} | {r.seconds_p95:.1f} |" for r in results]
    return "\n".join(rows)
