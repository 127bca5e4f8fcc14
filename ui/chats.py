"""What the chat keeps between page loads, in one SQLite file beside the index
(`INDEX/chat.sqlite3`, never inside an index version):

- `messages`: each browser conversation's turns, so a reload shows it again
  (the conversation id is in the page's URL, `?c=...`);
- `feedback`: thumbs up (1) or down (0) per answer, with the question, the
  reply and its citations, for evaluation; it never leaves this computer;
- `notices`: what the last re-index reported (skipped files and why), shown
  until dismissed; `skipped`: the files it skipped, for the library.

Answers are stored as JSON (`answer_to_json` / `answer_from_json`), never pickled.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from qa import Answer, Chunk, Citation, Evidence
from qa.conversation import reply_text, shown_citations
from qa.types import ShortAnswer, Written

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (conv TEXT, seq INTEGER, role TEXT, payload TEXT, at REAL,
                                     PRIMARY KEY (conv, seq));
CREATE TABLE IF NOT EXISTS feedback (conv TEXT, seq INTEGER, score INTEGER, question TEXT, reply TEXT,
                                     citations TEXT, at REAL, PRIMARY KEY (conv, seq));
CREATE TABLE IF NOT EXISTS skipped (path TEXT PRIMARY KEY, reason TEXT);
CREATE TABLE IF NOT EXISTS notices (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT, text TEXT, at REAL);
"""


def answer_to_json(answer: Answer) -> str:
    return json.dumps(asdict(answer), ensure_ascii=False)


def _citations(rows: list[dict[str, Any]]) -> tuple[Citation, ...]:
    return tuple(Citation(**{**c, "chunk": Chunk(**c["chunk"])}) for c in rows)


def answer_from_json(text: str) -> Answer:
    d: dict[str, Any] = json.loads(text)
    short, written = d.pop("short_answer"), d.pop("written", None)
    if written is not None:
        written = Written(**{**written, "citations": _citations(written["citations"]),
                             "dropped": tuple(written["dropped"])})
    return Answer(**{**d, "citations": _citations(d.pop("citations")), "evidence": Evidence(**d["evidence"]),
                     "short_answer": ShortAnswer(**short) if short else None, "written": written})


class ChatStore:
    """The chat's SQLite file; one short connection a call (Streamlit runs each
    session in its own thread)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.executescript(SCHEMA)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10)
        try:
            with db:  # commits, or rolls back on an error
                yield db
        finally:
            db.close()

    def messages(self, conv: str) -> list[dict[str, Any]]:
        """The conversation's messages, oldest first: {"role": "user", "text"}
        or {"role": "assistant", "answer": Answer}."""
        with self._db() as db:
            rows = db.execute("SELECT role, payload FROM messages WHERE conv = ? ORDER BY seq", (conv,)).fetchall()
        return [{"role": "user", "text": p} if r == "user" else {"role": "assistant", "answer": answer_from_json(p)}
                for r, p in rows]

    def add(self, conv: str, seq: int, message: dict[str, Any]) -> None:
        payload = message["text"] if message["role"] == "user" else answer_to_json(message["answer"])
        with self._db() as db:
            db.execute("INSERT OR REPLACE INTO messages VALUES (?, ?, ?, ?, ?)",
                       (conv, seq, message["role"], payload, time.time()))

    def clear(self, conv: str) -> None:
        with self._db() as db:
            db.execute("DELETE FROM messages WHERE conv = ?", (conv,))

    def feedback(self, conv: str, seq: int, score: int | None, answer: Answer) -> None:
        """Save (or, `score` None, withdraw) the reader's verdict on one answer."""
        with self._db() as db:
            if score is None:
                db.execute("DELETE FROM feedback WHERE conv = ? AND seq = ?", (conv, seq))
                return
            cites = json.dumps([{"n": c.n, "doc_id": c.doc_id, "start": c.start, "end": c.end, "quote": c.quote}
                                for c in shown_citations(answer)], ensure_ascii=False)
            reply = reply_text(answer)
            db.execute("INSERT OR REPLACE INTO feedback VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (conv, seq, score, answer.question, reply, cites, time.time()))

    def feedback_rows(self) -> list[dict[str, Any]]:
        with self._db() as db:
            rows = db.execute("SELECT conv, seq, score, question, reply, citations FROM feedback").fetchall()
        return [{"conv": c, "seq": s, "score": sc, "question": q, "reply": r, "citations": json.loads(ci)}
                for c, s, sc, q, r, ci in rows]

    def notify(self, kind: str, texts: list[str]) -> None:
        """Keep `texts` (e.g. skipped files) until dismissed; `kind` is a
        Streamlit alert: "warning", "info" or "error"."""
        with self._db() as db:
            db.executemany("INSERT INTO notices (kind, text, at) VALUES (?, ?, ?)",
                           [(kind, t, time.time()) for t in texts])

    def notices(self) -> list[tuple[int, str, str]]:
        with self._db() as db:
            return db.execute("SELECT id, kind, text FROM notices ORDER BY id").fetchall()

    def set_skipped(self, skipped: list[tuple[str, str]]) -> None:
        """The files the last re-index skipped, with why (the library lists them)."""
        with self._db() as db:
            db.execute("DELETE FROM skipped")
            db.executemany("INSERT OR REPLACE INTO skipped VALUES (?, ?)", skipped)

    def skipped(self) -> list[tuple[str, str]]:
        with self._db() as db:
            return db.execute("SELECT path, reason FROM skipped ORDER BY path").fetchall()

    def dismiss(self) -> None:
        with self._db() as db:
            db.execute("DELETE FROM notices")
