"""Arabic text processing: one normalisation for index and query time, lexical
tokens (normalised, stop words dropped, Snowball-stemmed), sentence spans and
language detection.

Normalised text is only ever used for matching; users always see the original.
The character folding and the sentence splitter are written by hand (a few
tables and one regex): no maintained library does Arabic orthographic folding
or Arabic-aware sentence spans with offsets. Stemming is PyStemmer's Snowball.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import Stemmer

from qa.types import Span

# --- normalisation ---------------------------------------------------------

_DIACRITICS = "".join(chr(c) for c in [*range(0x0610, 0x061B), *range(0x064B, 0x0660), 0x0670, *range(0x06D6, 0x06EE)])
_INVISIBLE = "\u00ad\u061c\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
_FOLD = {
    **{ord(c): None for c in _DIACRITICS + _INVISIBLE + "\u0640"},  # + tatweel
    **{ord(c): "ا" for c in "أإآٱ"},
    ord("ى"): "ي",
    ord("ئ"): "ي",
    ord("ؤ"): "و",
    ord("ة"): "ه",
    **{0x0660 + i: str(i) for i in range(10)},  # Arabic-Indic digits
    **{0x06F0 + i: str(i) for i in range(10)},  # Eastern Arabic-Indic digits
    ord("٫"): ".",
    ord("٬"): ",",
}


def normalize(text: str) -> str:
    """Fold text for matching: NFKC, no diacritics/tatweel/bidi or zero-width
    marks, alef/hamza/yeh/teh-marbuta variants folded, Western digits, casefolded."""
    return unicodedata.normalize("NFKC", text).translate(_FOLD).casefold()


# --- lexical tokens ----------------------------------------------------------

_WORD = re.compile(r"\w+", re.UNICODE)

# Function words and question words (normalised when the set is built). Dropping them keeps
# BM25 and the evidence score about content words; the question words
# (من ما ماذا متى اين كم هل لماذا كيف) carry no topic.
_AR_STOP = """
من ما ماذا متى اين كم هل لماذا كيف لم لما لن لا ليس ليست اي ايه
في على الى علي عن مع عند منذ حتى بين خلال ضد نحو لدى لدي دون غير سوي
و ف ثم او ام بل لكن كما اذا اذ ان انه انها كان كانت يكون تكون كانوا قد لقد
هذا هذه ذلك تلك هؤلاء هولاء اولئك الذي التي الذين اللذان اللتان اللواتي اللاتي هنا هناك
هو هي هم هن انا نحن انت انتم انتن هما
كل بعض اخر اخري ايضا فقط حيث عبر وفق وفقا عليه عليها فيه فيها منه منها له لها لهم به بها
يا الا اما وقد وكان وهو وهي وفي ومن وعلى والى ثمه تم
"""
_EN_STOP = """
a an the of in on at to for from by with about as is are was were be been being
who whom whose what which when where why how do does did is it its this that these those
and or but not no yes his her their he she they i you we me my our your
"""
STOPWORDS = frozenset(normalize(w) for w in (_AR_STOP + _EN_STOP).split())

_ARABIC_LETTER = re.compile(r"[\u0621-\u064a]")
_LATIN_LETTER = re.compile(r"[A-Za-z]")


@functools.lru_cache(maxsize=4)
def _stemmer(lang: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(lang)


@functools.lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    lang = "arabic" if _ARABIC_LETTER.search(word) else "english"
    return _stemmer(lang).stemWord(word)


def words(text: str) -> list[str]:
    """Normalised word tokens, stop words kept."""
    return _WORD.findall(normalize(text))


def terms(text: str, *, stem: bool = True) -> list[str]:
    """Lexical index terms: normalised words minus stop words, stemmed."""
    out = []
    for w in words(text):
        if w in STOPWORDS or (len(w) == 1 and not w.isdigit()):
            continue
        out.append(_stem(w) if stem else w)
    return out


def is_arabic(text: str) -> bool:
    """True when most letters in `text` are Arabic (used to pick the reply language)."""
    ar = len(_ARABIC_LETTER.findall(text))
    la = len(_LATIN_LETTER.findall(text))
    return ar > 0 and ar >= la


# --- sentences ---------------------------------------------------------------

# A sentence ends after . ! ? ؟ ؛ … (and any closing quotes/brackets) followed by
# space, or at a line break. A dot between digits (3.5) does not end a sentence.
_SENT_END = re.compile(r"(?<!\d)[.!?؟؛…]+[\"'»”)\]]*(?=\s)|(?<=\d)[.!?؟؛…]+(?=\s)|\n")
_LEAD = " \t\r\n\u00a0•●▪◦‣·*-–—"


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Sentence spans of text[start:end], as offsets into `text`, with leading
    bullets and surrounding white space trimmed."""
    end = len(text) if end is None else end
    spans: list[Span] = []
    pos = start
    for m in _SENT_END.finditer(text, start, end):
        cut = m.end() if m.group() != "\n" else m.start()
        _add_trimmed(text, pos, cut, spans)
        pos = m.end()
    _add_trimmed(text, pos, end, spans)
    return spans


def _add_trimmed(text: str, a: int, b: int, out: list[Span]) -> None:
    while a < b and text[a] in _LEAD:
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    if b > a and any(ch.isalnum() for ch in text[a:b]):
        out.append(Span(a, b))
