import json
import zipfile
from pathlib import Path

import pytest

from conftest import SEEDS, SHARED
from qa.errors import BadInput, DocsNotFound
from qa.loading import content_hash, load_folder, safe_filename, save_upload


def test_seed_articles_load_with_original_text_and_headline_title():
    result = load_folder(SEEDS)
    assert [a.doc_id for a in result.articles] == ["000_1e06ce93cb234a3e.txt", "001_32ac849551dd6a76.txt"]
    first = result.articles[0]
    assert first.text == (SEEDS / first.doc_id).read_text(encoding="utf-8")
    assert first.title.startswith("تخادم الحوثيين")
    assert result.skipped == ()


def test_formats_and_skips(tmp_path: Path):
    (tmp_path / "a.md").write_text("\n# عنوان الخبر\n\nنص الخبر هنا.", encoding="utf-8")
    (tmp_path / "b.json").write_text(json.dumps([
        {"id": "x1", "title": "خبر", "content": "محتوى الخبر", "source": "sabq", "date": "2015-07-21"},
        {"title": "بلا نص"},
    ], ensure_ascii=False), encoding="utf-8")
    (tmp_path / "c.jsonl").write_text('{"title": "t", "text": "نص"}\nnot json\n', encoding="utf-8")
    (tmp_path / "d.html").write_text(
        "<html><head><title>عنوان الصفحة</title></head><body><nav>قائمة الموقع</nav><article><h1>عنوان المقال</h1>"
        "<p>" + "التقى وزير الخارجية اليمني بمنسق مكافحة الإرهاب الأمريكي في واشنطن اليوم. " * 3 + "</p>"
        "</article></body></html>", encoding="utf-8")
    (tmp_path / "e.pdf").write_bytes(b"%PDF")
    (tmp_path / "f.txt").write_bytes(bytes(range(128, 256)) * 4)
    (tmp_path / ".hidden.txt").write_text("secret", encoding="utf-8")
    result = load_folder(tmp_path)
    by_id = {a.doc_id: a for a in result.articles}
    assert set(by_id) == {"a.md", "b.json#x1", "c.jsonl#0", "d.html"}
    assert by_id["a.md"].title == "عنوان الخبر"
    assert by_id["b.json#x1"].source == "sabq" and by_id["b.json#x1"].date == "2015-07-21"
    assert "وزير الخارجية اليمني" in by_id["d.html"].text
    assert "قائمة الموقع" not in by_id["d.html"].text
    reasons = {s.path: s.reason for s in result.skipped}
    assert set(reasons) == {"b.json#1", "c.jsonl#1", "e.pdf", "f.txt"}
    assert "invalid JSON" in reasons["c.jsonl#1"]
    assert "unsupported" in reasons["e.pdf"]
    assert "UTF-8" in reasons["f.txt"]


def test_missing_folder_is_a_clear_error(tmp_path: Path):
    with pytest.raises(DocsNotFound, match="does not exist"):
        load_folder(tmp_path / "nope")
    (tmp_path / "file.txt").write_text("نص", encoding="utf-8")
    with pytest.raises(DocsNotFound, match="must be a folder"):
        load_folder(tmp_path / "file.txt")


def test_content_hash_ignores_the_file_name(tmp_path: Path):
    (tmp_path / "a.txt").write_text("عنوان\nنص", encoding="utf-8")
    (tmp_path / "b.txt").write_text("عنوان\nنص", encoding="utf-8")
    a, b = load_folder(tmp_path).articles
    assert content_hash(a) == content_hash(b)


@pytest.mark.skipif(not (SHARED / "data" / "saudinewsnet").exists(), reason="needs ../shared/data")
def test_saudinewsnet_day_file_loads_as_is(tmp_path: Path):
    day = sorted((SHARED / "data" / "saudinewsnet").glob("*.zip"))[0]
    with zipfile.ZipFile(day) as z:
        z.extractall(tmp_path)
    records = json.loads(next(tmp_path.glob("*.json")).read_text(encoding="utf-8"))
    result = load_folder(tmp_path)
    assert len(result.articles) + len(result.skipped) == len(records)
    assert len(result.articles) > 0.9 * len(records)
    a = result.articles[0]
    assert a.doc_id.endswith("#0") and a.url and a.source and a.date
    assert a.text == records[0]["content"]


@pytest.mark.parametrize("name, expected", [
    ("../../etc/passwd.txt", "passwd.txt"),
    ("C:\\Users\\me\\خبر اليوم.txt", "خبر اليوم.txt"),
    ("..txt", "article.txt"),
    ("a<script>b.HTML", "a_script_b.html"),
    ("news;rm -rf.json", "news_rm -rf.json"),
])
def test_safe_filename(name, expected):
    assert safe_filename(name) == expected


def test_safe_filename_rejects_unsupported_types():
    with pytest.raises(BadInput, match="not a supported"):
        safe_filename("evil.sh")


def test_save_upload_stays_inside_docs_and_enforces_the_limit(tmp_path: Path):
    docs = tmp_path / "docs"
    path = save_upload(docs, "../../outside.txt", "عنوان\nنص".encode())
    assert path.parent == docs and path.read_text(encoding="utf-8") == "عنوان\nنص"
    assert not (tmp_path / "outside.txt").exists()
    with pytest.raises(BadInput, match="limit"):
        save_upload(docs, "big.txt", b"x" * 101, max_bytes=100)
    with pytest.raises(BadInput, match="empty"):
        save_upload(docs, "empty.txt", b"  ")


def test_an_upload_never_overwrites_an_article_unless_asked(tmp_path: Path):
    docs = tmp_path / "docs"
    first = save_upload(docs, "news.txt", "الأول".encode())
    assert save_upload(docs, "news.txt", "الأول".encode()) == first  # the same bytes: stored once
    second = save_upload(docs, "news.txt", "الثاني".encode())
    assert second.name == "news-2.txt" and first.read_text(encoding="utf-8") == "الأول"
    assert save_upload(docs, "news.txt", "الثالث".encode(), replace=True) == first
    assert first.read_text(encoding="utf-8") == "الثالث"
