import pytest

from conftest import SEEDS
from qa.chunking import blocks, chunk_article, chunk_spans
from qa.loading import load_folder


@pytest.mark.parametrize("size", [200, 500, 800, 1500])
def test_chunk_offsets_reproduce_the_article_text(size):
    for art in load_folder(SEEDS).articles:
        chunks = chunk_article(art, size)
        assert chunks
        for c in chunks:
            assert art.text[c.start : c.end] == c.text
            assert len(c.text) <= size
        starts = [c.start for c in chunks]
        assert starts == sorted(starts)


def test_seo_line_is_left_out_and_headings_stay_with_their_paragraph():
    art = load_folder(SEEDS).articles[1]
    chunks = chunk_article(art, 800)
    assert not any("الكلمة المفتاحية" in c.text for c in chunks)
    heading = "جهود التعاون الأمني بين اليمن والولايات المتحدة في مكافحة الإرهاب"
    holder = next(c for c in chunks if heading in c.text)
    assert "يركز التعاون الأمني" in holder.text  # the paragraph it introduces


def test_list_and_table_stay_in_one_block():
    art = load_folder(SEEDS).articles[1]
    spans = blocks(art.text)
    texts = [art.text[s.start : s.end] for s in spans]
    holder = next(t for t in texts if "تعزيز تبادل المعلومات الاستخباراتية" in t)
    assert "تقديم الدعم الفني واللوجستي" in holder  # last bullet
    assert "التعاون المستقبلي" in holder  # last table row


def test_oversized_block_is_split_within_size():
    text = "عنوان\n\n" + "جملة طويلة عن التعاون الأمني بين البلدين، " * 60
    spans = chunk_spans(text, 300)
    assert len(spans) > 3
    assert all(s.end - s.start <= 300 for s in spans)
    assert all(text[s.start : s.end].strip() == text[s.start : s.end] for s in spans)


def test_tiny_chunk_size_is_rejected():
    with pytest.raises(ValueError, match="chunk_size"):
        chunk_spans("نص", 10)
