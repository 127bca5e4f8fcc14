"""Bytes of an article file -> its text, with the encoding detected.

UTF-8 first (a leading BOM dropped), UTF-16 when a BOM says so, the charset an
HTML page declares, then `charset-normalizer` restricted to the encodings Arabic
news is found in (Windows-1256, ISO-8859-6, UTF-16) and checked: the decoded text
must read as text (letters, few control characters), and between the two Arabic
single-byte code pages, which decode the same bytes to different Arabic letters,
the one giving more common Arabic words wins. Nothing else is guessed: a file no
candidate decodes cleanly is skipped with the reason. Line endings are kept.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

import charset_normalizer

CANDIDATES = ("cp1256", "iso8859_6", "utf_16")
_DECLARED = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w-]+)""", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]*>")
_ARABIC = re.compile("[\u0621-\u064a]")
_LATIN = re.compile("[A-Za-z\u00c0-\u024f]")
_COMMON_AR = frozenset("في من على إلى أن عن التي الذي مع هذا هذه كان قد وقال بين إن بعد".split())


class Undecodable(ValueError):
    """The bytes are not text in any encoding this loader accepts."""


def _declared(data: bytes) -> str | None:
    m = _DECLARED.search(data[:4096])
    if not m:
        return None
    try:
        return codecs.lookup(m.group(1).decode("ascii")).name
    except (LookupError, UnicodeDecodeError):
        return None


def _reads_as_text(text: str) -> bool:
    visible = [c for c in text if not c.isspace()]
    if not visible:
        return True  # judged later as "no words"
    letters = sum(c.isalpha() for c in visible)
    controls = sum(unicodedata.category(c) in ("Cc", "Co", "Cn") for c in visible)
    words = text.split()
    mixed = sum(bool(_ARABIC.search(w)) and bool(_LATIN.search(w)) for w in words)
    return controls <= 0.01 * len(visible) and letters >= 0.3 * len(visible) and mixed <= 0.05 * len(words)


def _arabic_score(text: str) -> int:
    words = text.split()
    return sum(w in _COMMON_AR or w.startswith("ال") for w in words)


def decode(data: bytes, *, html: bool = False) -> tuple[str, str]:
    """`(text, encoding)` of a file's bytes; raises Undecodable with the reason."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise Undecodable("starts as UTF-16 but does not decode as UTF-16") from exc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    tried: list[str] = []
    declared = _declared(data) if html else None
    if declared:
        tried.append(declared)
    best = charset_normalizer.from_bytes(data, cp_isolation=list(CANDIDATES)).best()
    if best is not None:
        tried.append(codecs.lookup(best.encoding).name)
    tried += [codecs.lookup(c).name for c in CANDIDATES]
    decoded: list[tuple[str, str]] = []
    for enc in dict.fromkeys(tried):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        if _reads_as_text(_TAGS.sub(" ", text) if html else text):
            decoded.append((text, enc))
            if enc == declared:
                return text, enc
    if not decoded:
        raise Undecodable("not UTF-8 text, nor Windows-1256, ISO-8859-6 or UTF-16 that reads as text; "
                          "save it as UTF-8")
    arabic = [d for d in decoded if d[1] in ("cp1256", "iso8859-6")]
    if len(arabic) == 2:
        return max(arabic, key=lambda d: _arabic_score(d[0]))
    return decoded[0]


def junk_reason(text: str) -> str | None:
    """Why a decoded text is not an article (binary, no words), or None."""
    if not text.strip():
        return "file is empty"
    if "\x00" in text:
        return "holds NUL bytes: a binary file, not text"
    if not any(c.isalpha() for c in text):
        return "no words (only spaces, marks, digits or symbols)"
    return None
