"""Evaluation on SQuAD-format question sets (e.g. ARCD: every paragraph is
indexed as one document titled with its article's title) and on JSONL
question sets over a docs folder; every question is asked; the gold
document's rank and the composed answer are scored.

Metrics: recall@1, recall@5, MRR@10 of the gold paragraph; whether the top
passage holds a gold answer at all (ARCD repeats facts across paragraphs, so
this is what a reader of the top passage gets); answer containment
(the normalised gold answer inside the normalised composed answer); mean
answer length in words (answered questions); false refusals; ask latency
p50/p95. With held-out articles: the share of their questions refused.

Modes: "hybrid" (the product), "dense" (dense retrieval only) and
"bm25-plain" (BM25 over lower-cased words with no Arabic processing at all);
all three answer with the same composer, so retrieval is what differs.
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

import bm25s
import numpy as np

from qa import arabic, store
from qa.assistant import Assistant
from qa.compose import assess, calibration_for
from qa.embedding import load_embedder
from qa.indexer import update_index
from qa.settings import Settings
from qa.types import Article, Hit

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Question:
    qid: str
    question: str
    answers: tuple[str, ...]
    doc_id: str | None


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


@dataclass(frozen=True)
class QuestionRecord:
    qid: str
    question: str
    mode: str
    in_scope: bool
    rank: int | None
    contained: bool
    refused: bool
    lexical: float  # the refusal evidence (qa.compose.Evidence)
    sentence: float
    dense: float
    cross_lingual: bool
    bridged: float  # cross-lingual word bridge (qa.compose.bridged_share)


def load_squad(path: Path, holdout_every: int | None = None) -> tuple[list[Article], list[Question]]:
    """Paragraphs as articles and the questions. With `holdout_every` = k, every
    k-th Wikipedia article is left out of the returned articles and its
    questions get doc_id None: they are out of scope and should be refused."""
    data = json.loads(path.read_text(encoding="utf-8"))
    articles, questions = [], []
    for ai, art in enumerate(data["data"]):
        held_out = bool(holdout_every) and ai % holdout_every == holdout_every - 1
        for pi, para in enumerate(art["paragraphs"]):
            doc_id = f"{ai:03d}-{pi:02d}"
            if not held_out:
                articles.append(Article(doc_id=doc_id, title=art.get("title", doc_id), text=para["context"]))
            for qa in para["qas"]:
                answers = tuple(a["text"] for a in qa.get("answers", []))
                q = qa["question"].strip(" -\u200f\n")
                questions.append(Question(str(qa["id"]), q, answers, None if held_out else doc_id))
    return articles, questions


_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)


def normalize_answer(text: str) -> str:
    return " ".join(_PUNCT.sub(" ", arabic.normalize(text)).split())


def contains_answer(answer: str, golds: tuple[str, ...]) -> bool:
    hay = f" {normalize_answer(answer)} "
    return any(f" {normalize_answer(g)} " in hay for g in golds if normalize_answer(g))


class PlainBM25:
    """The baseline: bm25s over lower-cased \\w\\w+ tokens, no Arabic processing."""

    def __init__(self, chunk_texts: list[str]) -> None:
        self._bm25 = bm25s.BM25()
        self._bm25.index(bm25s.tokenize(chunk_texts, stopwords=None, show_progress=False), show_progress=False)
        self._n = len(chunk_texts)

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        tokens = bm25s.tokenize([query], stopwords=None, show_progress=False)
        if not tokens.ids or not tokens.ids[0]:
            return []
        rows, scores = self._bm25.retrieve(tokens, k=min(k, self._n), show_progress=False)
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if s > 0]


def _rank(hits: list[Hit], doc_id: str | None) -> int | None:
    seen: list[str] = []
    for h in hits:
        if h.chunk.doc_id not in seen:
            seen.append(h.chunk.doc_id)
        if h.chunk.doc_id == doc_id:
            return len(seen)
    return None


def _read_jsonl(path: Path, parse: Callable[[dict], T], shape: str) -> list[T]:
    """Every non-blank line of a JSONL file through `parse`; a bad line is a
    ValueError that names the file, the line and the `shape` expected."""
    out = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(parse(json.loads(line)))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{path} line {lineno}: expected {shape} ({exc})") from exc
        except ValueError as exc:  # parse's own complaint about a well-formed line
            raise ValueError(f"{path} line {lineno}: {exc}") from exc
    return out


def load_jsonl(path: Path) -> list[Question]:
    """Questions `{"id", "question", "answers": [...], "doc_id": str or null}`;
    doc_id null means the articles do not contain the answer."""
    return _read_jsonl(path, lambda d: Question(str(d["id"]), d["question"], tuple(d.get("answers") or ()),
                                                d.get("doc_id")),
                       '{"id", "question", "answers", "doc_id"}')


def evaluate_jsonl(path: Path, docs: Path, settings: Settings, *, modes: list[str] | None = None,
                   index_dir: Path | None = None, records: list[QuestionRecord] | None = None) -> list[EvalResult]:
    """Evaluate a JSONL question set against the articles in `docs`."""
    from qa.loading import load_folder

    questions = load_jsonl(path)
    return _evaluate(list(load_folder(docs).articles), questions, settings, modes, index_dir, records)


def load_overlay(path: Path, questions: list[Question]) -> list[Question]:
    """The questions named in a JSONL file of {"id", "question"} (e.g. English
    translations of ARCD questions), asked in that file's wording; paragraphs,
    gold answers and scope stay the SQuAD file's."""
    by_id = {q.qid: q for q in questions}

    def parse(row: dict) -> Question:
        qid = str(row["id"])
        if qid not in by_id:
            raise ValueError(f"question id {qid!r} is not in the SQuAD file")
        return replace(by_id[qid], question=str(row["question"]).strip())

    return _read_jsonl(path, parse, '{"id": ..., "question": ...}')


def evaluate_squad(path: Path, settings: Settings, *, modes: list[str] | None = None, limit: int | None = None,
                   index_dir: Path | None = None, holdout_every: int | None = None,
                   records: list[QuestionRecord] | None = None, overlay: Path | None = None) -> list[EvalResult]:
    """Evaluate `modes` on a SQuAD file; per-question records go to `records`.
    With `overlay`, only its questions are asked, in its wording (`load_overlay`)."""
    articles, questions = load_squad(path, holdout_every)
    if overlay:
        questions = load_overlay(overlay, questions)
    if limit:
        questions = questions[:limit]
    return _evaluate(articles, questions, settings, modes, index_dir, records)


def _evaluate(articles: list[Article], questions: list[Question], settings: Settings, modes: list[str] | None,
              index_dir: Path | None, records: list[QuestionRecord] | None) -> list[EvalResult]:
    embedder = load_embedder(settings.model, batch_size=settings.batch_size)
    with tempfile.TemporaryDirectory(prefix="qa-eval-") as tmp:
        idx = index_dir or Path(tmp)
        try:
            update_index(idx, articles, (), embedder, settings)
        except store.IndexMismatch:  # a kept index of another format, model or settings: start again
            update_index(idx, articles, (), embedder, settings, rebuild=True)
        bot = Assistant.open(idx, settings, embedder=embedder)
        return [_run(bot, questions, mode, records) for mode in (modes or ["hybrid"])]


def _run(bot: Assistant, questions: list[Question], mode: str, records: list[QuestionRecord] | None) -> EvalResult:
    plain = PlainBM25([c.text for c in bot.index.chunks]) if mode == "bm25-plain" else None
    ranks, contained, refused, words, lat, cited, top_holds = [], [], [], [], [], [], []
    oos_refused = []
    shown = max(bot.settings.top_k, bot.settings.answer_chunks)  # the hits an answer is made from, as in `ask`
    for q in questions:
        t0 = time.perf_counter()
        if plain is not None:
            hits = [Hit(bot.index.chunks[r], s, lexical_rank=i + 1, lexical_score=s)
                    for i, (r, s) in enumerate(plain.search(q.question, 10))]
            answer = bot.answer_from(q.question, hits[:shown], dense=False)
        else:
            hits, answer = bot.retrieve_and_answer(q.question, mode=mode, k=10)  # type: ignore[arg-type]
        lat.append((time.perf_counter() - t0) * 1000)
        ok = not answer.refused and contains_answer(answer.text, q.answers)
        if records is not None:
            ev = assess(q.question, hits[:shown], bot.index.articles, bot.idf, calibration_for(bot.embedder.model_id),
                        bot.words if mode != "bm25-plain" else None)
            records.append(QuestionRecord(q.qid, q.question, mode, q.doc_id is not None, _rank(hits, q.doc_id), ok,
                                          answer.refused, ev.lexical, ev.sentence, ev.dense, ev.cross_lingual,
                                          ev.bridged))  # unrounded: bench/fit_refusal.py fits thresholds on them
        if q.doc_id is None:
            oos_refused.append(answer.refused)
            continue
        ranks.append(_rank(hits, q.doc_id))
        top_holds.append(bool(hits) and contains_answer(hits[0].chunk.text, q.answers))
        cited.append(not answer.refused and answer.citations[0].doc_id == q.doc_id)
        contained.append(ok)
        refused.append(answer.refused)
        if not answer.refused:
            words.append(len(re.sub(r"\[\d+\]", "", answer.text).split()))
    n = max(len(ranks), 1)
    return EvalResult(
        mode=mode, questions=len(ranks), out_of_scope=len(oos_refused),
        recall_at_1=round(sum(1 for r in ranks if r == 1) / n, 4),
        recall_at_5=round(sum(1 for r in ranks if r and r <= 5) / n, 4),
        mrr=round(sum(1 / r for r in ranks if r) / n, 4),
        containment=round(sum(contained) / n, 4),
        answer_words=round(float(np.mean(words)) if words else 0.0, 1),
        latency_p50_ms=round(float(np.percentile(lat, 50)), 1) if lat else 0.0,
        latency_p95_ms=round(float(np.percentile(lat, 95)), 1) if lat else 0.0,
        refusal_recall=round(sum(oos_refused) / len(oos_refused), 4) if oos_refused else None,
        refusal_precision=(round(sum(oos_refused) / (sum(oos_refused) + sum(refused)), 4)
                           if oos_refused and sum(oos_refused) + sum(refused) else None),
        false_refusals=round(sum(refused) / n, 4),
        cited_right=round(sum(cited) / n, 4),
        answer_at_1=round(sum(top_holds) / n, 4),
    )


def format_table(results: list[EvalResult]) -> str:
    head = ("| mode | questions | recall@1 | recall@5 | MRR | answer in top passage | containment | cited right "
            "| words | false refusals | out-of-scope refused | refusal precision | p50 ms | p95 ms |")
    rows = [head, "|" + "---|" * 14]
    for r in results:
        oos = f"{r.refusal_recall:.3f} of {r.out_of_scope}" if r.refusal_recall is not None else "-"
        prec = f"{r.refusal_precision:.3f}" if r.refusal_precision is not None else "-"
        rows.append(f"| {r.mode} | {r.questions} | {r.recall_at_1:.3f} | {r.recall_at_5:.3f} | {r.mrr:.3f} | "
                    f"{r.answer_at_1:.3f} | {r.containment:.3f} | {r.cited_right:.3f} | {r.answer_words:.0f} | "
                    f"{r.false_refusals:.3f} | "
                    f"{oos} | {prec} | {r.latency_p50_ms:.0f} | {r.latency_p95_ms:.0f} |")
    return "\n".join(rows)
