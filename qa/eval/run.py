"""Running an evaluation: index the articles, ask every question, score.

Modes: "hybrid" (the product), "dense" (dense retrieval only) and
"bm25-plain" (`qa.eval.baselines.PlainBM25`); every answer is made by the
product's composer from the first hits, as `Assistant.ask` makes it, and its
refusal evidence is read off the answer (`Answer.evidence`).
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from qa.assistant import Assistant
from qa.embedding import load_embedder
from qa.errors import BadInput, IndexMismatch
from qa.eval.baselines import PlainBM25
from qa.eval.datasets import GoldQuestion, load_jsonl, load_overlay, load_squad
from qa.eval.llm import LLMTally
from qa.eval.metrics import EvalResult, Tally, contains_answer, gold_rank
from qa.indexer import update_index
from qa.loading import load_folder
from qa.settings import Settings
from qa.types import Article, Hit

log = logging.getLogger(__name__)

MODES = ("hybrid", "dense", "bm25-plain")
RANKED = 10  # hits ranked per question (MRR@10)


@dataclass(frozen=True)
class QuestionRecord:
    """One question's outcome in one mode, with the refusal evidence unrounded
    (`qa eval --dump`; `qa eval calibrate` fits the refusal rule on them)."""

    qid: str
    question: str
    mode: str
    in_scope: bool
    rank: int | None
    contained: bool
    refused: bool
    lexical: float  # the refusal evidence (qa.types.Evidence)
    sentence: float
    dense: float
    cross_lingual: bool
    bridged: float
    model: str = ""  # the embedding model the run used
    reader: float | None = None  # the reader's best margin in the top passages (None: no reader)
    short_answer: str | None = None


def evaluate_jsonl(path: Path, docs: Path, settings: Settings, *, modes: Sequence[str] = ("hybrid",),
                   index_dir: Path | None = None, records: list[QuestionRecord] | None = None) -> list[EvalResult]:
    """Evaluate a JSONL question set against the articles in `docs`."""
    questions = load_jsonl(path)
    return evaluate(list(load_folder(docs).articles), questions, settings, modes, index_dir, records)


def evaluate_squad(path: Path, settings: Settings, *, modes: Sequence[str] = ("hybrid",), limit: int | None = None,
                   index_dir: Path | None = None, holdout_every: int | None = None,
                   records: list[QuestionRecord] | None = None, overlay: Path | None = None,
                   holdout_shift: int = 0, ask_every: int | None = None) -> list[EvalResult]:
    """Evaluate `modes` on a SQuAD file; per-question records go to `records`.
    With `overlay`, only its questions are asked, in its wording (`load_overlay`);
    `holdout_shift` and `ask_every` as in `load_squad`."""
    articles, questions = load_squad(path, holdout_every, holdout_shift=holdout_shift, ask_every=ask_every)
    if overlay:
        questions = load_overlay(overlay, questions)
    if limit:
        questions = questions[:limit]
    return evaluate(articles, questions, settings, modes, index_dir, records)


def evaluate(articles: list[Article], questions: list[GoldQuestion], settings: Settings, modes: Sequence[str],
             index_dir: Path | None, records: list[QuestionRecord] | None) -> list[EvalResult]:
    """Index `articles` (in `index_dir`, reused if current, else a temporary
    folder) and evaluate every mode on `questions`."""
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        raise BadInput(f"unknown evaluation mode(s) {', '.join(unknown)}; use {', '.join(MODES)}")
    with indexed(articles, settings, index_dir) as bot:
        return [run_mode(bot, questions, mode, records) for mode in modes]


@contextmanager
def indexed(articles: list[Article], settings: Settings, index_dir: Path | None) -> Iterator[Assistant]:
    """An assistant over `articles`, indexed in `index_dir` (reused if current)
    or in a temporary folder removed afterwards."""
    embedder = load_embedder(settings.model, batch_size=settings.batch_size, runtime=settings.runtime)
    with tempfile.TemporaryDirectory(prefix="qa-eval-") as tmp:
        idx = index_dir or Path(tmp)
        try:
            update_index(idx, articles, (), embedder, settings)
        except IndexMismatch:  # a kept index of another format, model or settings: start again
            update_index(idx, articles, (), embedder, settings, rebuild=True)
        yield Assistant.open(idx, settings, embedder=embedder)


def run_mode(bot: Assistant, questions: list[GoldQuestion], mode: str,
             records: list[QuestionRecord] | None = None) -> EvalResult:
    """Ask every question in one mode and score the answers."""
    plain = PlainBM25([c.text for c in bot.index.chunks]) if mode == "bm25-plain" else None
    tally, llm = Tally.empty(), LLMTally()
    ranked = max(RANKED, bot.answer_hits)
    for q in questions:
        t0 = time.perf_counter()
        if plain is not None:
            query = bot.analyse(q.question, "lexical")
            hits = bot.read(query, [Hit(bot.index.chunks[r], s, lexical_rank=i + 1, lexical_score=s)
                                    for i, (r, s) in enumerate(plain.search(q.question, ranked))])
        else:
            query = bot.analyse(q.question, mode)  # type: ignore[arg-type]
            hits = bot.retrieve(query, ranked, mode=mode)  # type: ignore[arg-type]
        answer = bot.answer(query, hits, dense=plain is None)
        tally.latency_ms.append((time.perf_counter() - t0) * 1000)
        if bot.writer is not None and not answer.refused and plain is None and q.doc_id is not None:
            answer = replace(answer, written=bot.writer.write(query, hits, quoted=answer.citations))
            llm.add(answer, q.answers)
        ok = not answer.refused and contains_answer(answer.text, q.answers)
        rank = gold_rank(hits, q.doc_id)
        if records is not None:
            ev = answer.evidence
            records.append(QuestionRecord(q.qid, q.question, mode, q.doc_id is not None, rank,
                                          ok, answer.refused, ev.lexical, ev.sentence, ev.dense, ev.cross_lingual,
                                          ev.bridged, bot.embedder.model_id, ev.reader,
                                          answer.short_answer.text if answer.short_answer else None))
        tally.add(answer, hits, q.doc_id, q.answers, rank, ok, short=bot.reader is not None)
    return replace(tally.result(mode), llm=llm.result())
