"""A question analysed once: the record that retrieval and composition share.

`analyse` normalises and tokenises the question, weighs its terms by IDF,
notes the answer type it asks for, takes its vector (when dense retrieval is
used) and decides once whether it is cross-lingual: written in another script
than the index's best match for it (an English question over Arabic
articles), so that no word of it can occur in the passages. Every later stage
reads these fields instead of working them out again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from qa import arabic
from qa.answer.cues import AnswerType, wanted_type
from qa.conversation import Context
from qa.errors import BadQuestion

MAX_QUESTION_CHARS = 2000
Language = Literal["ar", "en"]
# (question vector or None, question terms) -> text of the index's best match, or None
BestMatch = Callable[[np.ndarray | None, tuple[str, ...]], str | None]


@dataclass(frozen=True, eq=False)
class Query:
    """One question, analysed."""

    text: str  # as the user typed it
    language: Language  # the reply's language
    words: tuple[str, ...]  # normalised words, stop words kept (the cross-lingual bridge reads them)
    terms: tuple[str, ...]  # lexical terms, as the index holds them (BM25 reads them)
    weights: Mapping[str, float] = field(repr=False)  # each distinct term's IDF (unknown terms: the highest)
    wants: AnswerType | None  # "number" for «كم», "date" for «متى», else None
    vector: np.ndarray | None = field(repr=False)  # the query embedding; None for keyword-only retrieval
    cross_lingual: bool  # the question's script differs from its best match's
    standalone: str = ""  # what retrieval and the reader read: `text`, plus an earlier turn's words for a follow-up
    follows: str | None = None  # the earlier question a follow-up was read against
    prefer: tuple[str, ...] = ()  # articles the earlier answers cited: retrieval prefers them
    unresolved: bool = False  # a follow-up with no earlier turn to read it against

    def __post_init__(self) -> None:
        if not self.standalone:
            object.__setattr__(self, "standalone", self.text)


def check_question(text: object) -> str:
    """`text` if it can be asked, else BadQuestion saying why."""
    if not isinstance(text, str):
        raise BadQuestion(f"the question must be text (a str), got {type(text).__name__}")
    if not text.strip():
        raise BadQuestion("the question is empty; type a question, e.g. «من هو وزير الداخلية اليمني؟»")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadQuestion("the question holds an invalid character (a lone surrogate such as \\ud800); "
                          "send it as UTF-8 text") from None
    if len(text) > MAX_QUESTION_CHARS:
        raise BadQuestion(f"the question is {len(text)} characters long; the limit is {MAX_QUESTION_CHARS}")
    return text


def analyse(text: str, idf: Mapping[str, float], *, vector: np.ndarray | None = None,
            best_match: BestMatch | None = None, top_idf: float | None = None,
            context: Context | None = None, unresolved: bool = False, standalone: str | None = None) -> Query:
    """The analysed question; `best_match` finds the index's best match for
    the cross-lingual decision (no match: not cross-lingual). `top_idf`, the
    highest IDF (the weight of a term the index never saw), saves a pass over
    the vocabulary when the caller already knows it. A follow-up's `context`
    (qa.conversation) adds the earlier turn's words to what is retrieved and
    read (`vector` should embed the same `standalone` text: by default
    `standalone_text(text, context)`, or the follow-up as an LLM restated it);
    the reply's language and the answer type stay the question's own."""
    check_question(text)
    standalone = standalone or standalone_text(text, context)
    words = tuple(arabic.words(standalone))
    terms = tuple(arabic.terms(standalone))
    top = max(idf.values(), default=1.0) if top_idf is None else top_idf
    weights = {t: idf.get(t, top) for t in dict.fromkeys(terms)}
    language: Language = arabic.reply_language(text)
    match = best_match(vector, terms) if best_match is not None else None
    cross = match is not None and arabic.cross_lingual(text, match)
    return Query(text, language, words, terms, weights, wanted_type(text), vector, cross, standalone,
                 context.question if context else None, context.doc_ids if context else (), unresolved)


def standalone_text(text: str, context: Context | None) -> str:
    """The question with a follow-up's context added (the question alone without)."""
    return f"{text} {context.added}".strip() if context is not None and context.added else text
