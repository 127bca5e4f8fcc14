"""The cross-lingual word bridge: evidence for an English question over Arabic articles.

Such a question shares no words with the passages. The bridge matches each of
its content words to its nearest word in the hits' sentences (by the embedding
model, word against word) and counts the largest share of the question's words
that one sentence holds a translation of: "minister" meets «وزير», "LoGerfo"
meets «لوجيرفو». Written here because it needs nothing but the model the index
already uses (no dictionary to ship or download).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from qa import arabic
from qa.embedding import Embedder

# Two words count as translations when their embeddings are at least this
# similar (multilingual-e5-small, "passage: " prompt on both): "minister" and
# «وزير», "training" and «تدريب» score 0.90-0.95, unrelated pairs up to ~0.88.
BRIDGE_SIMILARITY = 0.88


class WordVectors:
    """Embeddings of single words, cached: the bridge meets the same words again
    and again. Owned by the assistant; at most `max_words` are kept."""

    def __init__(self, embedder: Embedder, max_words: int = 100_000) -> None:
        self.embedder = embedder
        self.max_words = max_words
        self._cache: dict[str, np.ndarray] = {}

    def __call__(self, words: Sequence[str]) -> np.ndarray:
        new = [w for w in dict.fromkeys(words) if w not in self._cache]
        if new:
            if len(self._cache) + len(new) > self.max_words:
                self._cache.clear()
            self._cache.update(zip(new, self.embedder.embed_documents(new), strict=True))
        return np.stack([self._cache[w] for w in words])


def bridged_share(question_words: Sequence[str], sentences: Sequence[str], words: WordVectors) -> float:
    """The largest share of the question's content words (normalised, as in
    `Query.words`) that one sentence holds a translation of: each is matched to
    its nearest word of the sentences, if at least BRIDGE_SIMILARITY."""
    asked = [w for w in dict.fromkeys(question_words) if w not in arabic.STOPWORDS and len(w) > 1]
    per_sentence = [{w for w in arabic.words(t) if w not in arabic.STOPWORDS and len(w) > 2} for t in sentences]
    vocabulary = sorted(set().union(*per_sentence))
    if not asked or not vocabulary:
        return 0.0
    sims = words(asked) @ words(vocabulary).T
    nearest = [vocabulary[j] for j, sim in zip(sims.argmax(1), sims.max(1), strict=True) if sim >= BRIDGE_SIMILARITY]
    return max(sum(w in held for w in nearest) for held in per_sentence) / len(asked)
