"""Question sets: SQuAD-format files (e.g. ARCD) and JSONL sets over a docs folder.

In a SQuAD file every paragraph becomes one article titled with its Wikipedia
article's title, with doc_id `AAA-PP` (article and paragraph positions).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from qa.errors import BadInput
from qa.types import Article

T = TypeVar("T")


@dataclass(frozen=True)
class GoldQuestion:
    """A question with its gold answers and the article that holds them
    (None: the articles do not, and the assistant should refuse)."""

    qid: str
    question: str
    answers: tuple[str, ...]
    doc_id: str | None


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BadInput(f"cannot read question set {path}: {exc.strerror}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path} is not a SQuAD-format JSON file ({exc})") from exc


def load_squad(path: Path, holdout_every: int | None = None, *, holdout_shift: int = 0,
               ask_every: int | None = None) -> tuple[list[Article], list[GoldQuestion]]:
    """Paragraphs as articles and the questions. With `holdout_every` = k, every
    k-th Wikipedia article (position ai with (ai + holdout_shift) % k == k - 1)
    is left out of the returned articles and its questions get doc_id None:
    they are out of scope and should be refused. With `ask_every` = m, only the
    questions of every m-th article (ai % m == m - 1) are returned: the
    articles a trained reader never saw (its training holds out the same)."""
    for name, value in (("--holdout-every", holdout_every), ("--ask-every", ask_every)):
        if value is not None and value < 2:
            raise BadInput(f"{name} must be at least 2, got {value}")
    data = _read_json(path)
    articles, questions = [], []
    try:
        for ai, art in enumerate(data["data"]):  # type: ignore[index]
            held_out = bool(holdout_every) and (ai + holdout_shift) % holdout_every == holdout_every - 1
            asked = not ask_every or ai % ask_every == ask_every - 1
            for pi, para in enumerate(art["paragraphs"]):
                doc_id = f"{ai:03d}-{pi:02d}"
                if not held_out:
                    articles.append(Article(doc_id=doc_id, title=art.get("title", doc_id), text=para["context"]))
                for qa in para["qas"] if asked else ():
                    answers = tuple(a["text"] for a in qa.get("answers", []))
                    q = qa["question"].strip(" -\u200f\n")
                    questions.append(GoldQuestion(str(qa["id"]), q, answers, None if held_out else doc_id))
    except (KeyError, TypeError, AttributeError) as exc:
        raise BadInput(f"{path} is not a SQuAD-format JSON file ({exc.__class__.__name__}: {exc})") from exc
    return articles, questions


def read_jsonl(path: Path, parse: Callable[[dict], T], shape: str) -> list[T]:
    """Every non-blank line of a JSONL file through `parse`; a bad line is a
    BadInput that names the file, the line and the `shape` expected."""
    out = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read {path}: {exc}") from exc
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            out.append(parse(json.loads(line)))
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise BadInput(f"{path} line {lineno}: expected {shape} ({exc})") from exc
        except ValueError as exc:  # parse's own complaint about a well-formed line
            raise BadInput(f"{path} line {lineno}: {exc}") from exc
    return out


def load_jsonl(path: Path) -> list[GoldQuestion]:
    """Questions `{"id", "question", "answers": [...], "doc_id": str or null}`;
    doc_id null means the articles do not contain the answer."""
    return read_jsonl(path, lambda d: GoldQuestion(str(d["id"]), d["question"], tuple(d.get("answers") or ()),
                                                   d.get("doc_id")),
                      '{"id", "question", "answers", "doc_id"}')


def load_overlay(path: Path, questions: list[GoldQuestion]) -> list[GoldQuestion]:
    """The questions named in a JSONL file of {"id", "question"} (e.g. English
    translations of ARCD questions), asked in that file's wording; paragraphs,
    gold answers and scope stay the SQuAD file's."""
    by_id = {q.qid: q for q in questions}

    def parse(row: dict) -> GoldQuestion:
        qid = str(row["id"])
        if qid not in by_id:
            raise ValueError(f"question id {qid!r} is not in the SQuAD file")
        return replace(by_id[qid], question=str(row["question"]).strip())

    return read_jsonl(path, parse, '{"id": ..., "question": ...}')
