"""Grounded answer composition, offline and without an LLM.

The composer reads the sentences of the top retrieved chunks and scores each
against the question: the IDF-weighted share of the question's content terms
(normalised, stemmed) that the sentence contains, its dense similarity to the
question when an embedder is given (this is what lets an English question
quote an Arabic sentence), and the rank of its chunk. The best one to
`max_sentences` sentences are quoted verbatim, each marked [n] and cited with
its exact offsets.

Refusal: the evidence score is the larger of (a) the IDF-weighted share of
question terms found in the best passage and (b) the best passage's dense
similarity mapped onto [0, 1]; below `settings.refuse_below` the assistant
says it found nothing, in the question's language, and cites nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from qa import arabic
from qa.embedding import Embedder
from qa.settings import Settings
from qa.types import Answer, Article, Citation, Hit

REFUSAL_AR = "لم أجد في المقالات المفهرسة ما يجيب عن هذا السؤال."
REFUSAL_EN = "I could not find anything in the indexed articles that answers this question."

# Dense cosine similarities of e5-style models sit in a narrow band; this maps
# the band onto [0, 1] for the evidence score (calibrated on ARCD, see README).
DENSE_FLOOR = 0.80
DENSE_CEIL = 0.90


@dataclass(frozen=True)
class Candidate:
    hit_rank: int
    hit: Hit
    start: int
    end: int
    lexical: float
    dense: float
    score: float


def _coverage(q_weights: Mapping[str, float], text_terms: set[str]) -> float:
    total = sum(q_weights.values())
    if total <= 0:
        return 0.0
    return sum(w for t, w in q_weights.items() if t in text_terms) / total


def _dense01(cos: float) -> float:
    return float(min(1.0, max(0.0, (cos - DENSE_FLOOR) / (DENSE_CEIL - DENSE_FLOOR))))


def question_weights(question: str, idf: Mapping[str, float]) -> dict[str, float]:
    """Content terms of the question with their IDF (unknown terms get the max)."""
    top = max(idf.values(), default=1.0)
    return {t: idf.get(t, top) for t in dict.fromkeys(arabic.terms(question))}


def evidence(question: str, hits: Sequence[Hit], articles: Mapping[str, Article],
             idf: Mapping[str, float]) -> float:
    """How well the best hits support an answer, in [0, 1]."""
    if not hits:
        return 0.0
    from qa.indexer import passage_text

    qw = question_weights(question, idf)
    lex = max(
        _coverage(qw, set(arabic.terms(passage_text(articles[h.chunk.doc_id], h.chunk.start, h.chunk.text))))
        for h in hits[:3]
    )
    dense = max((_dense01(h.dense_score) for h in hits[:3] if h.dense_score is not None), default=0.0)
    return max(lex, dense)


def compose(question: str, hits: Sequence[Hit], articles: Mapping[str, Article], idf: Mapping[str, float],
            settings: Settings, embedder: Embedder | None = None,
            query_vector: np.ndarray | None = None) -> Answer:
    """Answer `question` from `hits` by quoting their best sentences."""
    lang = "ar" if arabic.is_arabic(question) or not arabic.words(question) else "en"
    if evidence(question, hits, articles, idf) < settings.refuse_below:
        return Answer(question, REFUSAL_AR if lang == "ar" else REFUSAL_EN, True, (), lang)

    qw = question_weights(question, idf)
    spans = []
    for rank, hit in enumerate(hits[: settings.answer_chunks]):
        art = articles[hit.chunk.doc_id]
        for s in arabic.sentence_spans(art.text, hit.chunk.start, hit.chunk.end):
            spans.append((rank, hit, s.start, s.end, art.text[s.start : s.end]))
    if not spans:
        return Answer(question, REFUSAL_AR if lang == "ar" else REFUSAL_EN, True, (), lang)

    dense = np.zeros(len(spans), np.float32)
    if embedder is not None:
        qv = embedder.embed_query(question) if query_vector is None else query_vector
        dense = embedder.embed_documents([t for *_, t in spans]) @ qv

    cands = []
    seen: set[str] = set()
    for (rank, hit, a, b, text), dsim in zip(spans, dense, strict=True):
        key = arabic.normalize(text)
        if key in seen:
            continue
        seen.add(key)
        lex = _coverage(qw, set(arabic.terms(text)))
        score = lex + _dense01(float(dsim)) * 0.5 + 0.15 / (rank + 1)
        cands.append(Candidate(rank, hit, a, b, lex, float(dsim), score))
    cands.sort(key=lambda c: -c.score)
    best = cands[0]
    chosen = [best] + [c for c in cands[1:] if c.score >= 0.8 * best.score][: settings.max_sentences - 1]

    citations = []
    parts = []
    for n, c in enumerate(chosen, 1):
        art = articles[c.hit.chunk.doc_id]
        quote = art.text[c.start : c.end]
        citations.append(Citation(n, art.doc_id, art.title, quote, c.start, c.end, c.hit.chunk, round(c.score, 4),
                                  art.source, art.url, art.date))
        parts.append(f"{quote} [{n}]")
    return Answer(question, " ".join(parts), False, tuple(citations), lang)
