"""HTML for the chat: answers, source cards, highlighted passages.

Article and question text is data: every piece of it goes through
`html.escape` before it is wrapped in markup, and the result is shown with
`st.html` (sanitised by Streamlit, no JavaScript), never through markdown or
`unsafe_allow_html`. So a `<script>`, a tag or a markdown image in an article
shows as plain text and fetches nothing.
"""

from __future__ import annotations

import re
from html import escape

from qa.types import Answer, Citation

# Streamlit has no right-to-left mode (streamlit/streamlit#552): every block
# of ours sets dir="auto" and unicode-bidi: plaintext so Arabic runs right to
# left and mixed Arabic/English/numbers stay readable.
CSS = """
<style>
.qa-rtl, .qa-short, .qa-answer, .qa-card, .qa-question, .qa-passage, .qa-status {
  font-family: "Noto Naskh Arabic", "Noto Sans Arabic", "Amiri", "Scheherazade New", "Segoe UI", Tahoma,
    "DejaVu Sans", sans-serif;
  unicode-bidi: plaintext; text-align: start; line-height: 1.9;
}
.qa-answer { font-size: 1.08rem; }
.qa-short { font-size: 1.3rem; margin-bottom: .3rem; }
.qa-answer sup a, .qa-short sup a, .qa-card .qa-n { font-weight: 700; color: #0b6e4f; text-decoration: none; }
.qa-refusal { color: #8a5300; font-style: italic; }
.qa-card { border: 1px solid #d9dee3; border-radius: 10px; padding: .6rem .9rem; margin: .4rem 0; }
.qa-card .qa-title { font-weight: 700; }
.qa-card .qa-meta { color: #5f6b76; font-size: .85rem; direction: ltr; unicode-bidi: plaintext; }
.qa-card mark, .qa-passage mark { background: #ffe58f; padding: 0 .1em; border-radius: 3px; }
.qa-passage { white-space: pre-wrap; }
</style>
"""

_MARK = re.compile(r"\[(\d+)\]")


def answer_html(answer: Answer, anchor: str) -> str:
    """The answer text with each [n] turned into a link to its card."""
    if answer.refused:
        return f'<div class="qa-answer qa-refusal" dir="auto">{escape(answer.text)}</div>'
    parts = []
    pos = 0
    for m in _MARK.finditer(answer.text):
        parts.append(escape(answer.text[pos : m.start()]))
        n = m.group(1)
        parts.append(f'<sup><a href="#{anchor}-{n}">[{n}]</a></sup>')
        pos = m.end()
    parts.append(escape(answer.text[pos:]))
    short = ""
    if answer.short_answer is not None:  # the answer itself first, bold, with its own citation
        s = answer.short_answer
        short = (f'<div class="qa-short" dir="auto"><strong>{escape(s.text)}</strong> '
                 f'<sup><a href="#{anchor}-{s.n}">[{s.n}]</a></sup></div>')
    return f'{short}<div class="qa-answer" dir="auto">{"".join(parts)}</div>'


def highlighted(text: str, start: int, end: int) -> str:
    """`text` escaped, with text[start:end] inside <mark>."""
    start, end = max(0, start), min(len(text), end)
    return f"{escape(text[:start])}<mark>{escape(text[start:end])}</mark>{escape(text[end:])}"


CONTEXT_CHARS = 160


def snippet(c: Citation, context: int = CONTEXT_CHARS) -> str:
    """The quoted sentence highlighted with up to `context` characters of its
    passage on each side, cut at white space."""
    text, a, b = c.chunk.text, c.start - c.chunk.start, c.end - c.chunk.start
    lo, hi = max(0, a - context), min(len(text), b + context)
    if lo > 0:
        lo = text.find(" ", lo, a) + 1 or lo
    if hi < len(text):
        cut = text.rfind(" ", b, hi)
        hi = cut if cut > b else hi
    body = highlighted(text[lo:hi], a - lo, b - lo)
    return ("… " if lo > 0 else "") + body + (" …" if hi < len(text) else "")


def passage_html(c: Citation) -> str:
    """The whole passage with the quoted sentence highlighted."""
    body = highlighted(c.chunk.text, c.start - c.chunk.start, c.end - c.chunk.start)
    return f'<div class="qa-passage" dir="auto">{body}</div>'


def card_html(c: Citation, anchor: str) -> str:
    """A source card: number, title, metadata, the quoted sentence highlighted in its passage."""
    meta = " · ".join(escape(x) for x in (c.source, c.date, c.url) if x)
    passage = snippet(c)
    return (
        f'<div class="qa-card" id="{anchor}-{c.n}" dir="auto">'
        f'<div><span class="qa-n">[{c.n}]</span> <span class="qa-title">{escape(c.title)}</span></div>'
        f'<div class="qa-meta">{escape(c.doc_id)}{" · " + meta if meta else ""}</div>'
        f'<div class="qa-passage" dir="auto">{passage}</div>'
        "</div>"
    )


def text_html(text: str, cls: str = "qa-rtl") -> str:
    return f'<div class="{cls}" dir="auto">{escape(text)}</div>'
