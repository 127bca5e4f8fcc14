"""Arabic text processing: one normalisation for index and query time, lexical
tokens (normalised, stop words dropped, light-stemmed), sentence spans and
language detection.

Normalised text is only ever used for matching; users always see the original.
The character folding, the sentence splitter and the Arabic light stemmer are
written by hand (a few tables and one regex each): no maintained library does
Arabic orthographic folding or Arabic-aware sentence spans with offsets, and
the stemmers that exist do not fit folded text. Snowball's Arabic stemmer
(PyStemmer) expects unfolded spelling: on folded text it stems «برامج» to
«رامج» and leaves «التدريبيه» whole, while stemming before folding makes
«الداخلية» and «الداخليه» different terms. Tashaphyne disagrees with itself the
same way and costs ~33 µs a word. Larkey's light10 (below) is defined on
folded text, so every spelling variant gets one stem; it measured better on
ARCD too (docs/decisions.md, stemming). English words keep Snowball's English stemmer.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Literal

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
# (من ما ماذا متى اين كم هل لماذا كيف, and colloquial مين شو ايش وين ليش امتى قديش ازاي...) carry no topic,
# nor do words that point at the document itself («في المقال», «في الجدول»), nor a bare
# definite article «ال» standing alone (a stray particle: 42 ARCD questions end in one; «آل»,
# as in «آل سعود», folds to the same letters and goes too: the name after it carries the meaning).
_AR_STOP = """
من ما ماذا متى اين كم هل لماذا كيف لم لما لن لا ليس ليست اي ايه
في على الى علي عن مع عند منذ حتى بين خلال ضد نحو لدى لدي دون غير سوي
و ف ثم او ام بل لكن كما اذا اذ ان انه انها كان كانت يكون تكون كانوا قد لقد
هذا هذه ذلك تلك هؤلاء هولاء اولئك الذي التي الذين اللذان اللتان اللواتي اللاتي هنا هناك
هو هي هم هن انا نحن انت انتم انتن هما
كل بعض اخر اخري ايضا فقط حيث عبر وفق وفقا عليه عليها فيه فيها منه منها له لها لهم به بها
يا الا اما وقد وكان وهو وهي وفي ومن وعلى والى ثمه تم
مين شو ايش وين فين ليش ليه امتى قديش ازاي شلون اشلون
المقال المقاله الجدول الفقره
ال
"""
_EN_STOP = """
a an the of in on at to for from by with about as is are was were be been being
who whom whose what which when where why how do does did is it its this that these those
and or but not no yes his her their he she they i you we me my our your
"""
STOPWORDS = frozenset(normalize(w) for w in (_AR_STOP + _EN_STOP).split())

_ARABIC_LETTER = re.compile(r"[\u0621-\u064a]")
_LATIN_LETTER = re.compile(r"[A-Za-z]")


@functools.lru_cache(maxsize=1)
def _english_stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


# Larkey, Ballesteros & Connell, "Light Stemming for Arabic Information
# Retrieval" (2007), light10: on normalised words, drop a leading «و» when
# three letters remain, then one definite-article prefix when two remain, then
# each of these suffixes in turn when two remain.
_LIGHT10_PREFIXES = ("وال", "بال", "كال", "فال", "لل", "ال")
_LIGHT10_SUFFIXES = ("ها", "ان", "ات", "ون", "ين", "يه", "ه", "ي")  # «ية»/«ة» are folded to «يه»/«ه»


def light10(word: str) -> str:
    """Larkey's light10 stem of a normalised Arabic word."""
    if len(word) > 3 and word.startswith("و"):
        word = word[1:]
    for p in _LIGHT10_PREFIXES:
        if word.startswith(p) and len(word) - len(p) >= 2:
            word = word[len(p) :]
            break
    for suffix in _LIGHT10_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 2:
            word = word[: -len(suffix)]
    if word.endswith("اء") and len(word) > 3:
        word = word[:-1]  # «شركاء» as «شركائها» (folded «شركايها», stemmed «شركا»)
    return word


@functools.lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    if _ARABIC_LETTER.search(word):
        return light10(word)
    return _english_stemmer().stemWord(word)


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


def reply_language(text: str) -> Literal["ar", "en"]:
    """"ar" or "en": the language a reply to `text` is written in (Arabic
    unless the question is mostly Latin letters, or has no word at all)."""
    return "ar" if is_arabic(text) or not words(text) else "en"


def is_arabic(text: str) -> bool:
    """True when most letters in `text` are Arabic (used to pick the reply language)."""
    ar = len(_ARABIC_LETTER.findall(text))
    la = len(_LATIN_LETTER.findall(text))
    return ar > 0 and ar >= la


def cross_lingual(question: str, passage: str) -> bool:
    """One of the two is mostly Arabic and the other is not (an English
    question over Arabic articles): no word of one can occur in the other."""
    return is_arabic(question) != is_arabic(passage)


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
