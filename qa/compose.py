"""Grounded answer composition, offline and without an LLM.

The composer reads the sentences of the top retrieved chunks and scores each
against the question: the IDF-weighted share of the question's content terms
(normalised, stemmed) that the sentence contains, its dense similarity to the
question when few question words occur in the passages (this is what lets
an English question quote an Arabic sentence), and the rank of its chunk. The best one to
`max_sentences` sentences are quoted verbatim, each marked [n] and cited with
its exact offsets.

Refusal: the evidence score is the larger of (a) the IDF-weighted share of
question terms found in the best passage and (b) the best passage's dense
similarity mapped onto [0, 1] (only (b) when the question is in another
language than the passages); below `settings.refuse_below` the assistant says
it found nothing, in the question's language, and cites nothing.
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

# Dense cosine similarities of e5-style models sit in a narrow band; these map
# the band onto [0, 1] for the evidence score (calibrated on ARCD with held-out
# articles, see README). Cross-lingual similarities run lower.
DENSE_BAND = (0.80, 0.90)
CROSS_BAND = (0.74, 0.82)


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


def _band(cos: float, band: tuple[float, float]) -> float:
    lo, hi = band
    return float(min(1.0, max(0.0, (cos - lo) / (hi - lo))))


def question_weights(question: str, idf: Mapping[str, float]) -> dict[str, float]:
    """Content terms of the question with their IDF (unknown terms get the max)."""
    top = max(idf.values(), default=1.0)
    return {t: idf.get(t, top) for t in dict.fromkeys(arabic.terms(question))}


@dataclass(frozen=True)
class Evidence:
    """How well the top hits support an answer."""

    lexical: float  # IDF-weighted share of question terms in the best top passage
    dense: float  # best raw dense cosine among the top passages (0 if none)
    cross_lingual: bool  # question and passages in different scripts
    score: float  # in [0, 1]; refuse below settings.refuse_below


def assess(question: str, hits: Sequence[Hit], articles: Mapping[str, Article],
           idf: Mapping[str, float]) -> Evidence:
    if not hits:
        return Evidence(0.0, 0.0, False, 0.0)
    from qa.indexer import passage_text

    top = hits[:3]
    qw = question_weights(question, idf)
    texts = [passage_text(articles[h.chunk.doc_id], h.chunk.start, h.chunk.text) for h in top]
    lex = max(_coverage(qw, set(arabic.terms(t))) for t in texts)
    dense = max((h.dense_score for h in top if h.dense_score is not None), default=0.0)
    cross = arabic.is_arabic(question) != arabic.is_arabic(texts[0])
    score = _band(dense, CROSS_BAND) if cross else max(lex, _band(dense, DENSE_BAND))
    return Evidence(lex, dense, cross, score)


def compose(question: str, hits: Sequence[Hit], articles: Mapping[str, Article], idf: Mapping[str, float],
            settings: Settings, embedder: Embedder | None = None,
            query_vector: np.ndarray | None = None) -> Answer:
    """Answer `question` from `hits` by quoting their best sentences."""
    lang = "ar" if arabic.is_arabic(question) or not arabic.words(question) else "en"
    ev = assess(question, hits, articles, idf)
    if ev.score < settings.refuse_below:
        return Answer(question, REFUSAL_AR if lang == "ar" else REFUSAL_EN, True, (), lang)

    qw = question_weights(question, idf)
    spans = []
    for rank, hit in enumerate(hits[: settings.answer_chunks]):
        art = articles[hit.chunk.doc_id]
        for s in arabic.sentence_spans(art.text, hit.chunk.start, hit.chunk.end):
            spans.append((rank, hit, s.start, s.end, art.text[s.start : s.end]))
    if not spans:
        return Answer(question, REFUSAL_AR if lang == "ar" else REFUSAL_EN, True, (), lang)

    lexical = [_coverage(qw, set(arabic.terms(text))) for *_, text in spans]
    dense = np.zeros(len(spans), np.float32)
    if embedder is not None and (ev.cross_lingual or max(lexical) < settings.dense_sentences_below):
        # The question's words are not in the passages (another language, or a
        # paraphrase): compare meanings instead, for the top chunks' sentences.
        near = [i for i, sp in enumerate(spans) if sp[0] < settings.dense_sentence_chunks or ev.cross_lingual]
        qv = embedder.embed_query(question) if query_vector is None else query_vector
        dense[near] = embedder.embed_documents([spans[i][4] for i in near]) @ qv

    cands = []
    seen: set[str] = set()
    for (rank, hit, a, b, text), lex, dsim in zip(spans, lexical, dense, strict=True):
        key = arabic.normalize(text)
        if key in seen:
            continue
        seen.add(key)
        score = lex + _band(float(dsim), CROSS_BAND if ev.cross_lingual else DENSE_BAND) * 0.5 + 0.15 / (rank + 1)
        cands.append(Candidate(rank, hit, a, b, lex, float(dsim), score))
    cands.sort(key=lambda c: -c.score)
    best = cands[0]
    close = [c for c in cands[1:] if c.score >= 0.8 * best.score]
    chosen = [best, *close[: settings.max_sentences - 1]]

    citations = []
    parts = []
    for n, c in enumerate(chosen, 1):
        art = articles[c.hit.chunk.doc_id]
        quote = art.text[c.start : c.end]
        citations.append(Citation(n, art.doc_id, art.title, quote, c.start, c.end, c.hit.chunk, round(c.score, 4),
                                  art.source, art.url, art.date))
        parts.append(f"{quote} [{n}]")
    return Answer(question, " ".join(parts), False, tuple(citations), lang)
