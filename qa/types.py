"""The frozen records that pass between pipeline stages.

Offsets are character offsets into `Article.text`, the original text exactly as
loaded: `article.text[chunk.start:chunk.end] == chunk.text` always holds, and the
same is true of a citation's quote.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Article:
    """One news article as loaded, text untouched."""

    doc_id: str
    title: str
    text: str
    source: str | None = None
    url: str | None = None
    date: str | None = None
    author: str | None = None
    path: str | None = None  # file it came from, relative to the docs folder


@dataclass(frozen=True)
class Span:
    """A half-open character range [start, end) of an article's text."""

    start: int
    end: int


@dataclass(frozen=True)
class Chunk:
    """A retrievable passage of one article."""

    chunk_id: int
    doc_id: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Reading:
    """The best answer span the reader found in one passage."""

    start: int  # character offsets into the passage (the chunk's text); start == end: no span
    end: int
    score: float  # the span's score (a sum of start and end logits)
    null: float  # the passage's no-answer score

    @property
    def margin(self) -> float:
        """How much more the span scores than "no answer here"."""
        return self.score - self.null


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its fused score and the per-retriever ranks; after
    the reader has read it, its reading (and `score` includes the reader's)."""

    chunk: Chunk
    score: float
    dense_rank: int | None = None
    lexical_rank: int | None = None
    dense_score: float | None = None
    lexical_score: float | None = None
    reading: Reading | None = None


@dataclass(frozen=True)
class Citation:
    """The evidence behind one `[n]` marker of an answer."""

    n: int
    doc_id: str
    title: str
    quote: str
    start: int  # offsets of the quote in the article text
    end: int
    chunk: Chunk
    score: float
    source: str | None = None
    url: str | None = None
    date: str | None = None


@dataclass(frozen=True)
class Evidence:
    """How well the top hits support an answer: what the refusal rule weighed."""

    lexical: float  # IDF-weighted share of question terms in the best top passage
    sentence: float  # the same share in the best sentence of the top passages
    dense: float  # best raw dense cosine among the top passages (0 if none)
    cross_lingual: bool  # question and passages in different scripts
    supported: bool  # the calibration says: answer
    bridged: float = 0.0  # cross-lingual: share of the question's words bridged into one sentence
    reader: float | None = None  # the reader's best margin (span over no-answer) in the top passages


NO_EVIDENCE = Evidence(0.0, 0.0, 0.0, False, False)


@dataclass(frozen=True)
class ShortAnswer:
    """The answer itself, as the reader found it: `article_text[start:end] == text`,
    cited by the answer's citation `n`."""

    text: str
    n: int
    start: int
    end: int


Reason = Literal["not_found", "not_understood"]  # why an answer was refused


@dataclass(frozen=True)
class Written:
    """An LLM's reply to a question the articles answer, after its citations
    were checked (qa/llm/): only supported sentences are kept, each citing the
    passage sentence that supports it. `fallback` says why the extractive
    answer is shown instead (the LLM failed, timed out, found no answer, or
    nothing it wrote was supported); then `text` is empty."""

    text: str  # the kept sentences, the first (the answer itself) on a line of its own, with [n] markers
    citations: tuple[Citation, ...]
    sentences: int  # sentences the LLM wrote
    verified: int  # sentences kept
    dropped: tuple[str, ...]  # sentences removed, as written
    model: str
    seconds: float
    fallback: str | None = None


@dataclass(frozen=True)
class Answer:
    """A composed reply: quoted sentences marked [n], or a refusal, with the
    evidence its refusal decision used."""

    question: str
    text: str
    refused: bool
    citations: tuple[Citation, ...] = field(default_factory=tuple)
    language: str = "ar"
    evidence: Evidence = NO_EVIDENCE
    short_answer: ShortAnswer | None = None  # None without a reader, or when refused
    follows: str | None = None  # a follow-up: the earlier question it was read against
    reason: Reason | None = None  # why it was refused
    written: Written | None = None  # an LLM's checked reply, when one is configured and the articles answer

    @property
    def checked(self) -> Written | None:
        """The LLM's checked reply when it is the one shown (it did not fall back to the quotes)."""
        return self.written if self.written is not None and not self.written.fallback else None
