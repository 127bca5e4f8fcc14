"""HTML for the chat: the answer first, then the sources as chips that open to
their passages with the quoted sentences highlighted in place.

Article and question text is data: every piece of it goes through
`html.escape` before it is wrapped in markup, and the result is shown with
`st.html` (sanitised by Streamlit, no JavaScript), never through markdown or
`unsafe_allow_html`. So a `<script>`, a tag or a markdown image in an article
shows as plain text and fetches nothing. The one script of ours (`scroll_to`)
holds no text from articles or questions.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections import Counter
from collections.abc import Sequence
from html import escape
from pathlib import Path

from qa.conversation import follow_up_note, shown_citations
from qa.types import Answer, Citation
from ui.texts import say

CSS = f"<style>{(Path(__file__).parent / 'style.css').read_text(encoding='utf-8')}</style>"
_MARK = re.compile(r"\[(\d+)\]")
_WORD = re.compile(r"\w+")
MIN_GLUED = 8  # shortest token that may be two words glued together (a scraped table's cells)
MIN_PART = 3
TOP_BAR_PX = 72  # Streamlit's fixed top bar: an answer scrolled to starts below it


def direction(lang: str) -> str:
    """The marker class that mirrors a chat bubble (style.css)."""
    return "qa-ltr" if lang == "en" else "qa-rtl"


@functools.lru_cache(maxsize=256)
def vocabulary(text: str) -> Counter[str]:
    """The words of an article as written, with their counts (kept for the
    last 256 articles: the chat redraws every answer on each rerun; do not
    modify the Counter returned)."""
    return Counter(_WORD.findall(text))


def unglue(text: str, vocab: Counter[str]) -> str:
    """`text` with the boundary restored inside tokens that are two of the
    article's own words glued together («السعديمندوب» -> «السعدي مندوب»), when
    exactly one split makes two such words. Display only: quotes and offsets
    keep the original text."""
    def split(m: re.Match[str]) -> str:
        w = m.group(0)
        if len(w) < MIN_GLUED or w.isdigit():
            return w
        cuts = [i for i in range(MIN_PART, len(w) - MIN_PART + 1) if vocab[w[:i]] and vocab[w[i:]]]
        return f"{w[:cuts[0]]} {w[cuts[0]:]}" if len(cuts) == 1 else w

    return _WORD.sub(split, text)


def shown(text: str, vocab: Counter[str] | None) -> str:
    """Article text as displayed: glued cells split (when `vocab` is given), escaped."""
    return escape(unglue(text, vocab) if vocab else text)


def answer_html(answer: Answer, anchor: str, vocab: dict[str, Counter[str]] | None = None) -> str:
    """The reply: a follow-up's note, the short answer in bold with its [n],
    then the quoted sentences with each [n] linked to its source; or, when an
    LLM wrote it, its checked reply (first line bold) and how much was checked."""
    lang = direction(answer.language)
    note = follow_up_note(answer)
    head = f'<div class="qa-note" dir="auto">{escape(note)}</div>' if note else ""
    if answer.refused:
        body = f'<div class="qa-answer qa-refusal" dir="auto">{escape(answer.text)}</div>'
        return f'<div class="{lang}" id="{anchor}">{head}{body}</div>'
    w = answer.checked
    if w is not None:
        first, _, rest = w.text.partition("\n")
        checked = say("llm_checked", answer.language, verified=w.verified, sentences=w.sentences, model=w.model)
        return (f'<div class="{lang}" id="{anchor}">{head}<div class="qa-short" dir="auto"><strong>'
                f'{_linked(first, w.citations, anchor, vocab)}</strong></div><div class="qa-answer" dir="auto">'
                f'{_linked(rest, w.citations, anchor, vocab)}</div><div class="qa-note" dir="auto">{escape(checked)}'
                "</div></div>")
    if answer.written is not None:
        why = answer.written.fallback
        head += f'<div class="qa-note" dir="auto">{escape(say("llm_fallback", answer.language, why=why))}</div>'
    short = ""
    if answer.short_answer is not None:  # the answer itself first, bold, with its own citation
        s = answer.short_answer
        short = f'<div class="qa-short" dir="auto"><strong>{escape(s.text)}</strong> {_link(anchor, s.n)}</div>'
    body = f'<div class="qa-answer" dir="auto">{_linked(answer.text, answer.citations, anchor, vocab)}</div>'
    return f'<div class="{lang}" id="{anchor}">{head}{short}{body}</div>'


def _linked(text: str, citations: Sequence[Citation], anchor: str, vocab: dict[str, Counter[str]] | None) -> str:
    """`text` escaped, each [n] a link to its source (glued cells split by the cited article's words)."""
    by_n = {c.n: c for c in citations}
    parts, pos = [], 0
    for m in _MARK.finditer(text):
        cite = by_n.get(int(m.group(1)))
        words = vocab.get(cite.doc_id) if vocab and cite else None
        parts += [shown(text[pos : m.start()], words), _link(anchor, m.group(1))]
        pos = m.end()
    parts.append(escape(text[pos:]))
    return "".join(parts)


def _link(anchor: str, n: object) -> str:
    return f'<sup><a href="#{anchor}-{n}">[{n}]</a></sup>'


def highlighted(text: str, ranges: list[tuple[int, int, str]], vocab: Counter[str] | None = None) -> str:
    """`text` escaped, each (start, end, css class) range inside <mark> (ranges
    sorted, not overlapping; clipped to the text)."""
    out, pos = [], 0
    for a, b, cls in sorted(ranges):
        a, b = max(pos, a), min(len(text), b)
        if a >= b:
            continue
        out += [shown(text[pos:a], vocab), f'<mark class="{cls}">{shown(text[a:b], vocab)}</mark>']
        pos = b
    out.append(shown(text[pos:], vocab))
    return "".join(out)


def sources_html(answer: Answer, anchor: str, vocab: dict[str, Counter[str]] | None = None) -> str:
    """One chip per cited article (its [n]s, title, outlet, date); opened, it
    shows each cited passage once with the quoted sentences highlighted in
    place and the short answer's span in bold. A link to [n] opens its chip."""
    cited = shown_citations(answer)
    if answer.refused or not cited:
        return ""
    by_doc: dict[str, list[Citation]] = {}
    for c in cited:
        by_doc.setdefault(c.doc_id, []).append(c)
    chips = []
    for doc_id, cites in by_doc.items():
        first = cites[0]
        words = vocab.get(doc_id) if vocab else None
        ns = "".join(f'<span class="qa-n">[{c.n}]</span>' for c in cites)
        meta = " · ".join(escape(x) for x in (first.source, first.date) if x)
        passages = []
        for chunk_id in dict.fromkeys(c.chunk.chunk_id for c in cites):
            group = [c for c in cites if c.chunk.chunk_id == chunk_id]
            chunk = group[0].chunk
            ranges = [(c.start - chunk.start, c.end - chunk.start, "qa-quote") for c in group]
            s = answer.short_answer if cited is answer.citations else None
            if s is not None and any(c.n == s.n for c in group) and chunk.start <= s.start and s.end <= chunk.end:
                ranges = _with_span(ranges, s.start - chunk.start, s.end - chunk.start)
            targets = "".join(f'<span id="{anchor}-{c.n}"></span>' for c in group if c.n != first.n)
            body = highlighted(chunk.text, ranges, words)
            passages.append(f'{targets}<div class="qa-passage" dir="auto">{body}</div>')
        url = f' · <span class="qa-file">{escape(first.url)}</span>' if first.url else ""
        chips.append(
            f'<details class="qa-source" id="{anchor}-{first.n}" dir="auto"><summary>{ns} '
            f'<span class="qa-title">{escape(first.title)}</span>'
            f'{" · <span class=qa-meta>" + meta + "</span>" if meta else ""}</summary>'
            f'{"".join(passages)}<div class="qa-file">{escape(doc_id)}</div>{url}</details>'
        )
    return f'<div class="qa-sources {direction(answer.language)}">{"".join(chips)}</div>'


def _with_span(ranges: list[tuple[int, int, str]], a: int, b: int) -> list[tuple[int, int, str]]:
    """The quote ranges with the short answer's span [a, b) cut out of the one holding it."""
    out = []
    for start, end, cls in ranges:
        if start <= a and b <= end:
            out += [(start, a, cls), (a, b, "qa-span"), (b, end, cls)]
        else:
            out.append((start, end, cls))
    return out


def text_html(text: str, cls: str = "qa-question", lang: str = "ar") -> str:
    return f'<div class="{direction(lang)}"><div class="{cls}" dir="auto">{escape(text)}</div></div>'


# The page's one script, holding no text from articles or questions. Streamlit
# cleans it with DOMPurify, which drops an element whose text has "<" before a
# letter or digit: so no comparison here is written `a<b`.
# - clicking an [n] opens its source chip and brings it into view (a closed
#   <details> does not open on a link to it inside Streamlit's page);
# - when a `scroll_marker` appears, the answer it names is brought just below
#   Streamlit's top bar and kept there for three seconds while the page
#   settles, unless the reader scrolls. Streamlit's chat sticks to the bottom
#   until a wheel event stops its scrolling and a later scroll event (a later
#   millisecond) finds the view away from the bottom: hence the wheel event,
#   then the scroll 30 ms on.
PAGE_SCRIPT = ("""<script>(function(){if(window.qaPage){return;}window.qaPage=true;var seen={};
document.addEventListener('click',function(ev){var a=ev.target.closest&&ev.target.closest('a[href^="#a"]');
if(!a){return;}var t=document.getElementById(a.getAttribute('href').slice(1));if(!t){return;}
ev.preventDefault();var d=t.tagName==='DETAILS'?t:t.closest('details');if(d){d.open=true;}
t.scrollIntoView({block:'center'});},true);
function box(e){while(e&&e!==document.body){var s=getComputedStyle(e).overflowY;
if((s==='auto'||s==='scroll')&&e.scrollHeight>e.clientHeight){return e;}e=e.parentElement;}
return document.scrollingElement;}
function follow(id){var n=0,user=false;function stop(ev){if(ev.isTrusted){user=true;}}
['wheel','touchstart','keydown'].forEach(function(k){window.addEventListener(k,stop,{capture:true,once:true});});
function off(){var e=document.getElementById(id);return e?e.getBoundingClientRect().top-""" + str(TOP_BAR_PX) + """:0;}
function go(){if(user){return;}var e=document.getElementById(id);if(e && Math.abs(off())>4){var m=box(e);
m.dispatchEvent(new WheelEvent('wheel',{deltaY:-1,bubbles:true}));
setTimeout(function(){m.scrollTop+=off();},30);}if(++n < 15){setTimeout(go,200);}}setTimeout(go,100);}
new MutationObserver(function(){document.querySelectorAll('.qa-scroll[data-target]').forEach(function(m){
var k=m.getAttribute('data-run');if(!seen[k]){seen[k]=true;follow(m.getAttribute('data-target'));}});})
.observe(document.body,{childList:true,subtree:true});})();</script>""")


def scroll_marker(anchor: str) -> str:
    """An empty element that makes the page script bring answer `anchor` into view (once)."""
    if not re.fullmatch(r"[a-z0-9-]+", anchor):
        raise ValueError(f"bad anchor {anchor!r}")
    return f'<div class="qa-scroll" data-target="{anchor}" data-run="{uuid.uuid4().hex}"></div>'
