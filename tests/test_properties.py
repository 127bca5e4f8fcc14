"""Property-based tests (hypothesis) of loading, normalisation, sentence
splitting and chunking: offsets always give back the original text,
normalisation is idempotent, and no input raises."""

import itertools
import string
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa import arabic
from qa.chunking import chunk_spans
from qa.loading import Undecodable, decode, load_folder
from qa.loading.formats import junk_reason

ARABIC = "".join(chr(c) for c in range(0x0621, 0x064B)) + "ًٌٍَُِّْـ٠١٢٣٤٥٦٧٨٩،؛؟«»"
# news-like text: Arabic and Latin letters, digits, punctuation, spaces, CR/LF, tabs, bidi marks, emoji
TEXT = st.text(st.sampled_from(ARABIC + string.ascii_letters + string.digits + " .!?…-:\"'\n\r\t\u200f\u202e😀")
               | st.characters(codec="utf-8"), max_size=3000)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(TEXT)
def test_normalisation_is_idempotent(text: str):
    once = arabic.normalize(text)
    assert arabic.normalize(once) == once


@FAST
@given(TEXT)
def test_terms_never_raise_and_are_normalised(text: str):
    for term in arabic.terms(text, stem=False):
        assert term and arabic.normalize(term) == term


@FAST
@given(TEXT, st.integers(0, 3000), st.integers(0, 3000))
def test_sentence_spans_lie_inside_the_range_in_order(text: str, a: int, b: int):
    start, end = sorted((min(a, len(text)), min(b, len(text))))
    spans = arabic.sentence_spans(text, start, end)
    for s in spans:
        assert start <= s.start < s.end <= end
        assert text[s.start:s.end] == text[s.start:s.end].rstrip() and any(c.isalnum() for c in text[s.start:s.end])
    assert all(x.end <= y.start for x, y in itertools.pairwise(spans))


@FAST
@given(TEXT, st.integers(50, 1500), st.integers(0, 49))
def test_chunks_cover_every_word_in_order_and_respect_the_size(text: str, size: int, overlap: int):
    spans = chunk_spans(text, size, overlap)
    for s in spans:
        assert 0 <= s.start < s.end <= len(text) and s.end - s.start <= size
    assert all(x.start < y.start for x, y in itertools.pairwise(spans))
    covered = set()
    for s in spans:
        covered.update(range(s.start, s.end))
    assert all(i in covered for i, c in enumerate(text) if c.isalnum())  # nothing a reader could ask about is lost


@FAST
@given(st.binary(max_size=2000))
def test_decoding_any_bytes_gives_text_or_a_reason(data: bytes):
    try:
        text, encoding = decode(data)
    except Undecodable as exc:
        assert "save it as UTF-8" in str(exc)
        return
    assert isinstance(text, str) and encoding
    if encoding == "utf-8":
        assert text.encode("utf-8") == data.removeprefix(b"\xef\xbb\xbf")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXT.filter(lambda t: "\x00" not in t), st.sampled_from(["a.txt", "a.md", "a.json", "a.jsonl", "a.html"]))
def test_loading_any_file_gives_the_text_byte_for_byte_or_a_reason(text: str, name: str):
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return  # a lone surrogate cannot be in a file
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / name).write_bytes(text.encode("utf-8"))
        loaded = load_folder(Path(tmp))  # never raises
        assert len(loaded.articles) + len(loaded.skipped) >= 1 or name.startswith("a.json")
        if name.endswith((".txt", ".md")):
            if loaded.articles:
                assert loaded.articles[0].text == text  # line endings and all
            else:
                assert loaded.skipped[0].reason == junk_reason(text) or "line of" in loaded.skipped[0].reason
