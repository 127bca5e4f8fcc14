"""Grounded answer composition, offline and without an LLM.

The composer reads the sentences of the top retrieved chunks and scores each
against the question: the IDF-weighted share of the question's content terms
(normalised, stemmed) that the sentence contains, its dense similarity to the
question when few question words occur in the passages (this is what lets an
English question quote an Arabic sentence), and the rank of its chunk. The
best one to `max_sentences` sentences are quoted verbatim, each marked [n] and
cited with its exact offsets. When the refusal rule (`qa.answer.refusal`) says
the hits do not support an answer, it says so in the question's language and
cites nothing.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from qa import arabic
from qa.answer import cues
from qa.answer.bridge import WordVectors
from qa.answer.refusal import LEXICAL_ONLY, Calibration, assess, coverage, sentences
from qa.embedding import Embedder
from qa.query import Query
from qa.settings import Settings
from qa.types import Answer, Article, Citation, Evidence, Hit, Reason, ShortAnswer

REFUSAL_AR = ("لم أجد في المقالات المفهرسة ما يجيب عن هذا السؤال. "
              "جرّب كلمات أخرى، أو اذكر اسم الشخص أو المكان أو الجهة التي تسأل عنها.")
REFUSAL_EN = ("I could not find anything in the indexed articles that answers this question. "
              "Try other words, or name the person, place or organisation you are asking about.")
# a question that cannot be understood alone (a follow-up with no earlier turn, or no content word)
UNCLEAR_AR = ("لم أفهم السؤال وحده: لا يذكر مَن أو ما الذي تسأل عنه. "
              "اكتبه كاملًا، واذكر الشخص أو المكان أو الحدث.")
UNCLEAR_EN = ("I did not understand the question on its own: it does not say who or what it is about. "
              "Ask it in full, naming the person, place or event.")

# Dense cosine similarities of e5-style models sit in a narrow band; these map
# the band onto [0, 1] when sentences are scored. Cross-lingual ones run lower.
DENSE_BAND = (0.80, 0.90)
SENTENCE_CACHE = 4096  # sentence vectors kept (384 floats each: about 6 MB)
CROSS_BAND = (0.74, 0.82)


@dataclass(frozen=True)
class Candidate:
    """A sentence that may be quoted, with its score."""

    hit_rank: int
    hit: Hit
    start: int
    end: int
    lexical: float
    dense: float
    score: float


def _band(cos: float, band: tuple[float, float]) -> float:
    lo, hi = band
    return float(min(1.0, max(0.0, (cos - lo) / (hi - lo))))


def refusal(query: Query, evidence: Evidence, reason: Reason = "not_found") -> Answer:
    """The reply that says nothing was found (or, `reason="not_understood"`,
    that the question was not understood), in the question's language, with a
    rephrasing to try."""
    ar = query.language == "ar"
    if reason == "not_understood":
        text = UNCLEAR_AR if ar else UNCLEAR_EN
    else:
        text = REFUSAL_AR if ar else REFUSAL_EN
    return Answer(query.text, text, True, (), query.language, evidence, follows=query.follows, reason=reason)


class Composer:
    """Answers from hits over `articles`; `embedder` (None: lexical evidence
    only) compares meanings, `words` bridges languages."""

    def __init__(self, articles: Mapping[str, Article], settings: Settings,
                 calibration: Calibration = LEXICAL_ONLY, embedder: Embedder | None = None,
                 words: WordVectors | None = None) -> None:
        self.articles = articles
        self.settings = settings
        self.calibration = calibration
        self.embedder = embedder
        self.words = words
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()  # sentence -> vector, most recent last
        self._lock = threading.Lock()  # one assistant may answer several chat sessions at once

    def sentence_vectors(self, texts: list[str], embedder: Embedder | None = None) -> np.ndarray:
        """The sentences' vectors (by `embedder`, default the composer's own),
        embedding only those not among the last SENTENCE_CACHE embedded (a
        follow-up, or the check of an LLM's reply, reads the same passages again)."""
        embedder = embedder or self.embedder
        if embedder is None:
            raise ValueError("sentence vectors need an embedder")
        with self._lock:
            known = {t: self._vectors[t] for t in texts if t in self._vectors}
        todo = [t for t in dict.fromkeys(texts) if t not in known]
        if todo:
            known.update(zip(todo, embedder.embed_documents(todo), strict=True))
        with self._lock:
            for t in dict.fromkeys(texts):
                self._vectors[t] = known[t]
                self._vectors.move_to_end(t)
            while len(self._vectors) > SENTENCE_CACHE:
                self._vectors.popitem(last=False)
        return np.stack([known[t] for t in texts])

    def compose(self, query: Query, hits: Sequence[Hit], *, dense: bool = True) -> Answer:
        """Answer `query` from `hits` by quoting their best sentences;
        `dense=False` uses no model (keyword baselines)."""
        words = self.words if dense else None
        ev = assess(query, hits, self.articles, self.calibration, words)
        if not ev.supported:
            return refusal(query, ev)
        # A cross-lingual question shares no words with the passages and chunk-level
        # dense ranks are close to noise, so every hit's sentences compete on meaning.
        s = self.settings
        spans = sentences(hits if query.cross_lingual else hits[: s.answer_chunks], self.articles)
        if not spans:
            return refusal(query, ev)
        chosen = self._choose(query, spans, self.embedder if dense else None)
        short = None
        top = hits[0]
        span = top.chunk.text[top.reading.start : top.reading.end] if top.reading is not None else ""
        fits = query.wants is None or cues.holds(query.wants, arabic.normalize(span))
        if span and not query.cross_lingual and fits:
            # («متى»/«كم» get no short answer that holds no date/number: it would read as the answer)
            # (across languages its spans are right too rarely to show: F1 0.18 on the English seed set)
            # the reader's span is the short answer, cited by the sentence that holds it: one the
            # composer chose anyway, or one quoted after them (in place of the last if it is full)
            held = self._holding(top)
            same = [i for i, c in enumerate(chosen) if c.hit.chunk.doc_id == top.chunk.doc_id
                    and c.start < held.end and held.start < c.end]
            if not same:
                chosen = [*chosen[: self.settings.max_sentences - 1], held]
            a, b = top.chunk.start + top.reading.start, top.chunk.start + top.reading.end
            n = same[0] + 1 if same else len(chosen)
            if not (chosen[n - 1].start <= a and b <= chosen[n - 1].end):  # the sentence cut differently
                chosen[n - 1] = held
            short = ShortAnswer(self.articles[top.chunk.doc_id].text[a:b], n, a, b)
        citations, parts = [], []
        for n, c in enumerate(chosen, 1):
            art = self.articles[c.hit.chunk.doc_id]
            quote = art.text[c.start : c.end]
            citations.append(Citation(n, art.doc_id, art.title, quote, c.start, c.end, c.hit.chunk,
                                      round(c.score, 4), art.source, art.url, art.date))
            parts.append(f"{quote} [{n}]")
        return Answer(query.text, " ".join(parts), False, tuple(citations), query.language, ev, short, query.follows)

    def _holding(self, hit: Hit) -> Candidate:
        """The sentence(s) of the hit that hold the reader's span, as a candidate."""
        art = self.articles[hit.chunk.doc_id]
        a, b = hit.chunk.start + hit.reading.start, hit.chunk.start + hit.reading.end  # type: ignore[union-attr]
        held = [sp for sp in arabic.sentence_spans(art.text, hit.chunk.start, hit.chunk.end)
                if sp.start < b and sp.end > a]
        start, end = (held[0].start, held[-1].end) if held else (a, b)
        return Candidate(0, hit, start, end, 0.0, 0.0, hit.score)

    def _choose(self, query: Query, spans: list[tuple[int, Hit, int, int, str]],
                embedder: Embedder | None) -> list[Candidate]:
        s = self.settings
        lexical = [coverage(query.weights, set(arabic.terms(text))) for *_, text in spans]
        dense = np.zeros(len(spans), np.float32)
        if embedder is not None and (query.cross_lingual or max(lexical) < s.dense_sentences_below):
            # The question's words are not in the passages (another language, or a
            # paraphrase): compare meanings instead, for the top chunks' sentences.
            near = [i for i, sp in enumerate(spans) if sp[0] < s.dense_sentence_chunks or query.cross_lingual]
            qv = embedder.embed_query(query.standalone) if query.vector is None else query.vector
            dense[near] = self.sentence_vectors([spans[i][4] for i in near], embedder) @ qv
        cands = []
        seen: set[str] = set()
        for (rank, hit, a, b, text), lex, dsim in zip(spans, lexical, dense, strict=True):
            key = arabic.normalize(text)
            if key in seen:
                continue
            seen.add(key)
            if query.cross_lingual:
                score = _band(float(dsim), CROSS_BAND) + 0.02 / (rank + 1)
            else:
                score = lex + _band(float(dsim), DENSE_BAND) * 0.5 + s.answer_rank_weight / (rank + 1)
                if query.wants and cues.holds(query.wants, key):
                    score += s.answer_type_bonus
            cands.append(Candidate(rank, hit, a, b, lex, float(dsim), score))
        cands.sort(key=lambda c: -c.score)
        best = cands[0]
        close = [c for c in cands[1:] if c.score >= s.extra_sentence_ratio * best.score]
        return [best, *close[: s.max_sentences - 1]]
