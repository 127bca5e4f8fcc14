"""Chunking articles into passages with exact character offsets.

An article is first cut into blocks at blank lines. A heading (a single short
line with no closing punctuation) is glued to the block it introduces; a list
or table stays inside one block because its lines are separated by single line
breaks; scraped SEO lines ("الكلمة المفتاحية: ...") are left out of every chunk.
Whole blocks are then packed into chunks of at most `chunk_size` characters;
a block larger than that is split by LangChain's RecursiveCharacterTextSplitter
at line, sentence, clause and word boundaries, in that order.

Invariant: `article.text[chunk.start:chunk.end] == chunk.text`.
"""

from __future__ import annotations

import re

from qa.types import Article, Chunk, Span

_BLANK = re.compile(r"\n[ \t\r\u00a0]*\n\s*")
_SEO = re.compile(r"^\s*(الكلمة المفتاحية|الكلمات المفتاحية|الوسوم|كلمات مفتاحية)\s*[:：]")
_CLOSING = tuple(".!?؟؛:…\"'»”)")
HEADING_MAX_CHARS = 160

# Arabic and Latin boundaries, coarsest first (keep_separator="end" keeps each
# separator with the text before it, so offsets stay exact).
_SEPARATORS = ["\n", "؟ ", "? ", "! ", ". ", "؛ ", "، ", ", ", " ", ""]


def segments(text: str) -> list[list[Span]]:
    """Blocks grouped into runs that no chunk may cross: a dropped SEO line
    ends a run, so no chunk (a contiguous span) can contain it."""
    runs: list[list[Span]] = [[]]
    pos = 0
    bounds = [(m.start(), m.end()) for m in _BLANK.finditer(text)] + [(len(text), len(text))]
    for cut, nxt in bounds:
        a, b = pos, cut
        pos = nxt
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b <= a:
            continue
        if _SEO.match(text[a:b]):
            runs.append([])
        else:
            runs[-1].append(Span(a, b))
    return [_merge_headings(text, run) for run in runs if run]


def _merge_headings(text: str, run: list[Span]) -> list[Span]:
    merged: list[Span] = []
    pending: Span | None = None
    for s in run:
        if pending is not None:
            s = Span(pending.start, s.end)
            pending = None
        if is_heading(text[s.start : s.end]):
            pending = s
        else:
            merged.append(s)
    if pending is not None:
        merged.append(pending)
    return merged


def blocks(text: str) -> list[Span]:
    """Blank-line separated blocks, headings merged forward, SEO lines dropped."""
    return [b for run in segments(text) for b in run]


def is_heading(block: str) -> bool:
    return "\n" not in block and len(block) <= HEADING_MAX_CHARS and not block.rstrip().endswith(_CLOSING)


def _split_large(text: str, span: Span, size: int, overlap: int) -> list[Span]:
    from langchain_text_splitters import RecursiveCharacterTextSplitter  # imported when needed: 0.2 s

    splitter = RecursiveCharacterTextSplitter(
        chunk_size=size, chunk_overlap=overlap, separators=_SEPARATORS,
        keep_separator="end", add_start_index=True, strip_whitespace=True,
    )
    out = []
    for doc in splitter.create_documents([text[span.start : span.end]]):
        start = span.start + doc.metadata["start_index"]
        out.append(Span(start, start + len(doc.page_content)))
    return out


def chunk_spans(text: str, size: int, overlap: int = 0) -> list[Span]:
    """Spans of the chunks of `text` (see the module docstring)."""
    if size < 50:
        raise ValueError(f"chunk_size must be at least 50 characters, got {size}")
    out: list[Span] = []
    for run in segments(text):
        cur: Span | None = None
        for blk in run:
            if blk.end - blk.start > size:
                if cur is not None:
                    out.append(cur)
                    cur = None
                out.extend(_split_large(text, blk, size, overlap))
            elif cur is not None and blk.end - cur.start <= size:
                cur = Span(cur.start, blk.end)
            else:
                if cur is not None:
                    out.append(cur)
                cur = blk
        if cur is not None:
            out.append(cur)
    return out


def chunk_article(article: Article, size: int, overlap: int = 0, first_id: int = 0) -> list[Chunk]:
    """Chunks of one article, numbered from `first_id`."""
    return [
        Chunk(first_id + i, article.doc_id, s.start, s.end, article.text[s.start : s.end])
        for i, s in enumerate(chunk_spans(article.text, size, overlap))
    ]


def passage_text(article: Article, chunk_start: int, chunk_text: str) -> str:
    """What is embedded and lexically indexed for a chunk: its text, with the
    article title in front unless the chunk already opens with it."""
    if chunk_start == 0 and article.text.lstrip().startswith(article.title):
        return chunk_text
    return f"{article.title}\n{chunk_text}"
