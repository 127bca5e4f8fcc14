"""Checking an LLM's reply against the passages it was given.

The reply is split into sentences (at line ends and . ! ? ؟ ؛), each with the
[n] markers it carries. For each sentence:

1. markers naming no passage given ([7] of 3) are removed;
2. a sentence left with no marker is not cited, so it is dropped;
3. it must be supported by one of its cited passages (a short answer, of at
   most four terms, is checked with the question's words after it): the IDF-weighted share
   of its content terms held by two neighbouring sentences of the passage is
   at least `overlap`, and its dense similarity to one of the passage's
   sentences at least `dense` (across scripts, the similarity alone); both
   measured: `bench/verify_thresholds.py`, docs/llm.md;
4. its numbers, and its rare words (the names: terms as rare as `name_idf` in
   the index, not in the question), must occur in that passage; across
   scripts (an English reply over Arabic passages) only numbers are checked,
   since a transliterated name cannot be matched.

If none of its own passages supports it but another passage given does, it
is kept citing that one (a small model misnumbers passages): a sentence is
only ever shown citing a passage that supports it. A supported sentence
cites, as its evidence, the passage sentence most similar to it; an
unsupported one is dropped. The checks are written by
hand: no maintained library checks citations against passages offline.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from qa import arabic
from qa.answer.refusal import coverage

_MARKERS = re.compile(r"\s*\[(\d+)\]")
_SPLIT = re.compile(r"(?<=[.!?؟؛])\s+|\n+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
SHORT_ANSWER_TERMS = 4


@dataclass(frozen=True)
class Passage:
    """A passage given to the LLM: its sentences (text and article offsets)."""

    n: int  # its number in the prompt, from 1
    doc_id: str
    text: str
    sentences: tuple[tuple[int, int, str], ...]  # (start, end, text) in the article


@dataclass(frozen=True)
class Claim:
    """One sentence of the reply, checked."""

    text: str  # as written, without its markers
    cited: tuple[int, ...]  # valid passage numbers it cited
    removed: tuple[int, ...]  # marker numbers that named no passage
    supported: bool
    passage: int | None = None  # the passage that supports it
    sentence: int | None = None  # index of the supporting sentence in that passage
    overlap: float = 0.0
    dense: float = 0.0
    why: str | None = None  # why it was dropped


def split(reply: str, passages: int) -> list[tuple[str, tuple[int, ...], tuple[int, ...]]]:
    """(text without markers, valid markers, invalid markers) for each sentence of `reply`."""
    out = []
    for piece in _SPLIT.split(reply.strip()):
        ns = [int(m) for m in _MARKERS.findall(piece)]
        text = _MARKERS.sub("", piece).strip()
        if not text:
            if out and ns:  # markers on a line of their own belong to the sentence before
                t, ok, bad = out[-1]
                out[-1] = (t, tuple(dict.fromkeys(ok + tuple(n for n in ns if 1 <= n <= passages))),
                           bad + tuple(n for n in ns if not 1 <= n <= passages))
            continue
        ok = tuple(dict.fromkeys(n for n in ns if 1 <= n <= passages))
        out.append((text, ok, tuple(n for n in ns if not 1 <= n <= passages)))
    return out


def numbers(text: str) -> set[str]:
    return set(_NUMBER.findall(arabic.normalize(text)))


class Verifier:
    """Checks replies; `embed_query`/`embed_sentences` give vectors (normalised)."""

    def __init__(self, idf: Mapping[str, float], embed_query: Callable[[str], np.ndarray],
                 embed_sentences: Callable[[list[str]], np.ndarray], *, overlap: float, dense: float,
                 name_idf: float) -> None:
        self.idf = idf
        self.embed_query = embed_query
        self.embed_sentences = embed_sentences
        self.overlap = overlap
        self.dense = dense
        self.name_idf = name_idf
        self.top_idf = max(idf.values(), default=1.0)

    def weights(self, text: str) -> dict[str, float]:
        return {t: self.idf.get(t, self.top_idf) for t in dict.fromkeys(arabic.terms(text))}

    def scores(self, text: str, passage: Passage) -> tuple[float, float, int]:
        """(term share, best dense similarity, index of that sentence) of `text`
        against `passage`. The term share is the IDF-weighted share of `text`'s
        terms held by the best window of two neighbouring sentences, not by the
        whole passage: «وزير الداخلية ... الزنداني» must not pass because one
        sentence names the interior ministry and another «الزنداني»."""
        w = self.weights(text)
        sents = [s for *_, s in passage.sentences] or [passage.text]
        terms = [set(arabic.terms(s)) for s in sents]
        windows = [terms[i] | (terms[i + 1] if i + 1 < len(terms) else set()) for i in range(len(terms))]
        share = max((coverage(w, held) for held in windows), default=0.0)
        sims = self.embed_sentences(sents) @ self.embed_query(text)
        best = int(np.argmax(sims))
        return share, float(sims[best]), best

    def passes(self, text: str, share: float, sim: float, passage: Passage) -> bool:
        """The support rule: both the term share and the similarity clear their
        thresholds; across scripts (no shared words) the similarity alone."""
        if arabic.cross_lingual(text, passage.text):
            return sim >= self.dense
        return share >= self.overlap and sim >= self.dense

    def names_held(self, text: str, question: str, passage: Passage) -> bool:
        """Whether `text`'s numbers and rare words (not the question's) occur in `passage`."""
        if not numbers(text) <= numbers(passage.text):
            return False
        if arabic.cross_lingual(text, passage.text):
            return True
        asked = set(arabic.terms(question))
        held = set(arabic.terms(passage.text))
        rare = {t for t in arabic.terms(text) if t not in asked and self.idf.get(t, self.top_idf) >= self.name_idf}
        return rare <= held

    def check(self, reply: str, question: str, passages: Sequence[Passage]) -> list[Claim]:
        """Every sentence of `reply`, checked against the passages it cites."""
        claims = []
        for text, cited, removed in split(reply, len(passages)):
            if not cited:
                claims.append(Claim(text, cited, removed, False, why="cites no passage given"))
                continue
            best: Claim | None = None
            # a short answer is checked as it answers the question, the question's words after it
            # (how the thresholds were measured: a bare name is not "similar" to a long sentence)
            probe = f"{text} {question}" if len(arabic.terms(text)) <= SHORT_ANSWER_TERMS else text
            # its own [n]s first; if none supports it, the other passages (a small model misnumbers
            # them): the citation shown is always the passage that supports it
            others = [n for n in range(1, len(passages) + 1) if n not in cited]
            for n in [*cited, *others]:
                if n in others and best is not None and best.supported:
                    break
                p = passages[n - 1]
                share, sim, at = self.scores(probe, p)
                ok = self.passes(probe, share, sim, p) and self.names_held(text, question, p)
                c = Claim(text, cited, removed, ok, n, at, share, sim,
                          None if ok else "not supported by its passage")
                if best is None or (c.supported and not best.supported) or \
                        (c.supported == best.supported and n in cited and c.dense > best.dense):
                    best = c
            claims.append(best)  # type: ignore[arg-type]
        return claims
