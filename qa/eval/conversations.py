"""Conversations: follow-up questions asked after the turns before them.

A conversation set is JSONL, one conversation a line:

    {"id": "c01", "turns": [{"question": "...", "answers": ["..."], "doc_id": "..."}, ...]}

A turn whose `doc_id` is null is one the articles do not answer: it should be refused.

Each turn is asked with the assistant's own earlier replies as its history
(`Assistant.ask(question, history=...)`), so a wrong first answer can mislead
the follow-up, as it would in the chat. Every turn is scored like a JSONL
question (its article's rank, the gold phrase in the reply); the follow-up
turns (the second and later) are also scored on their own.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from qa.assistant import Assistant
from qa.conversation import reply_text
from qa.eval.datasets import GoldQuestion, read_jsonl
from qa.eval.metrics import EvalResult, Tally, contains_answer, gold_rank
from qa.eval.run import indexed
from qa.loading import load_folder
from qa.settings import Settings
from qa.types import Answer

RANKED = 10


@dataclass(frozen=True)
class Conversation:
    """Turns asked in order, each with its gold answers and article."""

    cid: str
    turns: tuple[GoldQuestion, ...]


@dataclass(frozen=True)
class TurnRecord:
    """One turn's outcome (`qa eval --dump`)."""

    cid: str
    turn: int  # 1 for the opening question
    question: str
    follows: str | None  # the earlier question it was read against (None: read alone)
    rank: int | None
    contained: bool
    refused: bool
    reply: str


def _parse(row: dict) -> Conversation:
    turns = row["turns"]
    if not isinstance(turns, list) or not turns:
        raise ValueError('"turns" must be a non-empty list')
    cid = str(row["id"])
    return Conversation(cid, tuple(GoldQuestion(f"{cid}/{i}", t["question"], tuple(t.get("answers") or ()),
                                                t.get("doc_id")) for i, t in enumerate(turns, 1)))


def load_conversations(path: Path) -> list[Conversation]:
    """The conversations of a JSONL file (the format above)."""
    return read_jsonl(path, _parse, '{"id", "turns": [{"question", "answers", "doc_id"}, ...]}')


def is_conversation_file(path: Path) -> bool:
    """Whether a JSONL file holds conversations (its first line has "turns")."""
    with path.open(encoding="utf-8") as f:
        first = next((line for line in f if line.strip()), "")
    return '"turns"' in first


def evaluate_conversations(path: Path, docs: Path, settings: Settings, *, index_dir: Path | None = None,
                           records: list[TurnRecord] | None = None) -> list[EvalResult]:
    """Evaluate a conversation set against the articles in `docs`."""
    conversations = load_conversations(path)
    with indexed(list(load_folder(docs).articles), settings, index_dir) as bot:
        return run_conversations(bot, conversations, records)


def run_conversations(bot: Assistant, conversations: Sequence[Conversation],
                      records: list[TurnRecord] | None = None) -> list[EvalResult]:
    """Ask every conversation; results for all turns and for the follow-up turns."""
    every, later = Tally.empty(), Tally.empty()
    for conv in conversations:
        history: list[Answer] = []
        for i, q in enumerate(conv.turns, 1):
            t0 = time.perf_counter()
            query = bot.analyse(q.question, history=history)
            hits = [] if query.unresolved else bot.retrieve(query, max(RANKED, bot.answer_hits))
            answer = bot.answer(query, hits)
            ms = (time.perf_counter() - t0) * 1000
            ok = not answer.refused and contains_answer(answer.text, q.answers)
            rank = gold_rank(hits, q.doc_id)
            if records is not None:
                records.append(TurnRecord(conv.cid, i, q.question, answer.follows, rank, ok, answer.refused,
                                          reply_text(answer)))
            history.append(answer)
            for tally in (every, later) if i > 1 else (every,):  # a turn without doc_id should be refused
                if q.doc_id is not None:
                    tally.latency_ms.append(ms)
                tally.add(answer, hits, q.doc_id, q.answers, rank, ok)
    return [every.result("all turns"), later.result("follow-up turns")]
