"""What the CLI prints: text for people, one JSON object a line with --json
(the schemas are in docs/cli.md)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from qa.conversation import follow_up_note, shown_citations
from qa.indexer import IndexReport
from qa.types import Answer, Citation, Hit, Written


class TqdmProgress:
    """Progress bar on stderr with chunks per second."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._bar: Any = None

    def start(self, total: int, what: str) -> None:
        if self.enabled:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=what, unit="chunk", file=sys.stderr, dynamic_ncols=True)

    def advance(self, n: int) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def report_dict(r: IndexReport) -> dict[str, Any]:
    return {
        "articles": r.articles, "chunks": r.chunks, "added": r.added, "updated": r.updated,
        "removed": r.removed, "unchanged": r.unchanged, "renamed": r.renamed,
        "duplicates": [{"doc_id": d, "same_as": s} for d, s in r.duplicates],
        "skipped": [{"path": s.path, "reason": s.reason} for s in r.skipped],
        "embedded_chunks": r.embedded_chunks, "resumed_chunks": r.resumed_chunks,
        "seconds": round(r.seconds, 3), "model": r.model,
        "lexical_ready_seconds": round(r.lexical_ready_seconds, 3) if r.lexical_ready_seconds is not None else None,
        "index": r.index,
    }


def report_text(r: IndexReport) -> str:
    lines = [
        f"index {r.index}: {r.articles} articles, {r.chunks} chunks (model {r.model})",
        f"  added {r.added}, updated {r.updated}, removed {r.removed}, unchanged {r.unchanged}, "
        f"renamed {r.renamed}, duplicates {len(r.duplicates)}, skipped {len(r.skipped)}",
        (f"  embedded {r.embedded_chunks} chunks in {r.seconds:.1f}s"
         + (f" ({r.resumed_chunks} more kept from a run that was stopped)" if r.resumed_chunks else ""))
        if r.changed else "  nothing changed",
    ]
    if r.lexical_ready_seconds is not None:
        lines.append(f"  new articles were keyword-searchable after {r.lexical_ready_seconds:.1f}s, "
                     "before their embeddings were done")
    for d, s in r.duplicates[:5]:
        lines.append(f"  duplicate: {d} has the same content as {s} (indexed once)")
    for s in r.skipped[:5]:
        lines.append(f"  skipped: {s.path}: {s.reason}")
    if len(r.skipped) > 5:
        lines.append(f"  ... and {len(r.skipped) - 5} more skipped (see --json)")
    return "\n".join(lines)


def _citations(cites: Sequence[Citation]) -> list[dict[str, Any]]:
    return [{"n": c.n, "doc_id": c.doc_id, "title": c.title, "quote": c.quote, "start": c.start, "end": c.end,
             "score": c.score, "source": c.source, "url": c.url, "date": c.date} for c in cites]


def written_dict(w: Written | None) -> dict[str, Any] | None:
    if w is None:
        return None
    return {"text": w.text, "citations": _citations(w.citations), "sentences": w.sentences, "verified": w.verified,
            "dropped": list(w.dropped), "model": w.model, "seconds": round(w.seconds, 3), "fallback": w.fallback}


def answer_dict(a: Answer, qid: Any = None) -> dict[str, Any]:
    s = a.short_answer
    return {
        "id": qid, "question": a.question, "answer": a.text, "refused": a.refused,
        "refusal": a.reason, "follows": a.follows,
        "short_answer": {"text": s.text, "n": s.n, "start": s.start, "end": s.end} if s else None,
        "citations": _citations(a.citations),
        "llm": written_dict(a.written),
    }


def answer_text(a: Answer) -> str:
    """The reply for people: a follow-up's note, the answer (an LLM's checked
    reply when there is one, else the short answer and the quotes), the sources."""
    note = follow_up_note(a)
    lines = [f"({note})"] if note else []
    w = a.checked
    if w is not None:
        lines += [w.text, "", f"({w.model}: {w.verified} of {w.sentences} sentences checked against their "
                             "passages; only those are shown)"]
    else:
        if a.written is not None:
            lines.append(f"({a.written.model}: {a.written.fallback}; showing the quotes)")
        lines += [f"{a.short_answer.text} [{a.short_answer.n}]", ""] if a.short_answer else []
        lines.append(a.text)
    cites = shown_citations(a)
    if cites:
        lines.append("")
        for c in cites:
            meta = ", ".join(x for x in (c.source, c.date, c.url) if x)
            lines.append(f"[{c.n}] {c.title} ({c.doc_id}, chars {c.start}-{c.end}){' — ' + meta if meta else ''}")
    return "\n".join(lines)


def hits_dict(hits: Sequence[Hit], qid: Any = None) -> dict[str, Any]:
    return {"id": qid, "hits": [
        {"doc_id": h.chunk.doc_id, "chunk_id": h.chunk.chunk_id, "score": round(h.score, 6),
         "start": h.chunk.start, "end": h.chunk.end, "text": h.chunk.text}
        for h in hits
    ]}


def hits_text(hits: Sequence[Hit]) -> str:
    out = []
    for i, h in enumerate(hits, 1):
        snippet = " ".join(h.chunk.text.split())[:160]
        out.append(f"{i}. {h.chunk.doc_id} #{h.chunk.chunk_id} score {h.score:.4f}\n   {snippet}")
    return "\n".join(out) or "no hits"


def json_line(obj: dict[str, Any]) -> str:
    """One JSON object as one line."""
    return json.dumps(obj, ensure_ascii=False)


def emit(obj: dict[str, Any]) -> None:
    """One JSON object on a line of stdout."""
    sys.stdout.write(json_line(obj) + "\n")
    sys.stdout.flush()
