"""The optional answer writer: an LLM phrases the answer, our rules stay in charge.

Retrieval, refusal and the choice of passages are the assistant's: the writer
is called only for a question the refusal rule says the articles answer, with
the top `llm_passages` hits. Its reply is checked (qa/llm/verify.py): only
sentences supported by the passage they cite are kept, each citing the
passage sentence that supports it. If the LLM fails, times out, finds no
answer, or nothing it wrote is supported, `Written.fallback` says so and the
extractive answer stands.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from qa import arabic
from qa.conversation import Turn
from qa.llm.prompt import NO_ANSWER, answer_messages, condense_messages
from qa.llm.verify import Claim, Passage, Verifier
from qa.query import Query
from qa.settings import Settings
from qa.types import Article, Citation, Hit, Written

log = logging.getLogger(__name__)
MAX_CONDENSED_CHARS = 400


def _text(chunk: Any) -> str:
    content = getattr(chunk, "content", chunk)
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)


class Writer:
    """Writes checked answers with `model` (a LangChain chat model)."""

    def __init__(self, model: Any, settings: Settings, verifier: Verifier, articles: Mapping[str, Article]) -> None:
        self.model = model
        self.settings = settings
        self.verifier = verifier
        self.articles = articles
        self.name = settings.llm or "llm"

    def passages(self, hits: Sequence[Hit]) -> list[Passage]:
        out = []
        for n, h in enumerate(hits[: self.settings.llm_passages], 1):
            text = self.articles[h.chunk.doc_id].text
            spans = [(s.start, s.end, text[s.start:s.end]) for s in arabic.sentence_spans(text, h.chunk.start,
                                                                                           h.chunk.end)]
            out.append(Passage(n, h.chunk.doc_id, h.chunk.text,
                               tuple(spans) or ((h.chunk.start, h.chunk.end, h.chunk.text),)))
        return out

    def write(self, query: Query, hits: Sequence[Hit], on_token: Callable[[str], None] | None = None,
              quoted: Sequence[Citation] = ()) -> Written:
        """The checked reply to `query` from `hits` (streamed to `on_token` as it
        comes). The passages the extractive answer `quoted` come first: a small
        LLM leans on passage [1], and the quotes were chosen by the reader and
        the composer, which weigh the question better than retrieval order."""
        t0 = time.perf_counter()
        rank = {cid: i for i, cid in enumerate(dict.fromkeys(c.chunk.chunk_id for c in quoted))}
        hits = sorted(hits, key=lambda h: rank.get(h.chunk.chunk_id, len(rank)))  # stable: the rest keep their order
        passages = self.passages(hits)
        titles = [self.articles[p.doc_id].title for p in passages]
        messages = answer_messages(query.standalone, query.language, passages, titles)
        reply = ""
        try:
            for chunk in self.model.stream(messages):
                piece = _text(chunk)
                reply += piece
                if on_token is not None and piece:
                    on_token(piece)
                if time.perf_counter() - t0 > self.settings.llm_timeout:
                    raise TimeoutError(f"no complete reply within {self.settings.llm_timeout:g} s")
        except Exception as exc:  # any failure of the server or its client: the extractive answer stands
            log.info("the LLM %s failed: %s", self.name, exc)  # the reply says so (Written.fallback)
            return self._fallback(t0, f"the LLM did not answer ({type(exc).__name__}: {str(exc)[:200]})")
        if reply.strip().startswith(NO_ANSWER):
            return self._fallback(t0, "the LLM found no answer in the passages")
        claims = self.verifier.check(reply, query.text, passages)
        return self._written(t0, claims, passages, hits)

    def _fallback(self, t0: float, why: str, claims: Sequence[Claim] = ()) -> Written:
        return Written("", (), len(claims), 0, tuple(c.text for c in claims), self.name,
                       time.perf_counter() - t0, why)

    def _written(self, t0: float, claims: list[Claim], passages: list[Passage], hits: Sequence[Hit]) -> Written:
        kept = [c for c in claims if c.supported]
        if not kept:
            return self._fallback(t0, "nothing the LLM wrote was supported by the passages it was given", claims)
        numbers: dict[tuple[int, int], int] = {}
        citations: list[Citation] = []
        lines = []
        for c in kept:
            key = (c.passage, c.sentence)
            if key not in numbers:
                p, hit = passages[c.passage - 1], hits[c.passage - 1]  # type: ignore[operator]
                start, end, quote = p.sentences[c.sentence]  # type: ignore[index]
                art = self.articles[p.doc_id]
                numbers[key] = len(numbers) + 1
                citations.append(Citation(numbers[key], art.doc_id, art.title, quote, start, end, hit.chunk,
                                          round(c.dense, 4), art.source, art.url, art.date))
            lines.append(f"{c.text} [{numbers[key]}]")
        text = lines[0] + ("\n" + " ".join(lines[1:]) if len(lines) > 1 else "")
        return Written(text, tuple(citations), len(claims), len(kept), tuple(c.text for c in claims if not c.supported),
                       self.name, time.perf_counter() - t0)

    def condense(self, question: str, turns: Sequence[Turn]) -> str | None:
        """`question` rewritten by the LLM to stand alone, or None if it fails
        (the follow-up rules of qa.conversation are then used)."""
        try:
            reply = _text(self.model.invoke(condense_messages(question, [(t.question, t.answer) for t in turns[-3:]])))
        except Exception as exc:  # any failure: fall back to the rules
            log.info("the LLM %s could not rewrite the follow-up: %s", self.name, exc)
            return None
        lines = [x.strip() for x in reply.strip().splitlines() if x.strip()]
        if not lines or len(lines[0]) > MAX_CONDENSED_CHARS:
            return None
        out = lines[0].removeprefix("Question:").strip()
        # a rewrite that repeats an earlier question lost the new one (a small model does
        # that): the rules do better
        if not out or any(arabic.terms(t.question) == arabic.terms(out) for t in turns):
            log.info("the LLM's rewrite %r of %r is not used", out, question)
            return None
        return out
