"""Every bad file a news folder can hold, built on the fly: each is indexed with
the right text or skipped with the right reason, and none stops the run."""

import json
import os
from pathlib import Path

import pytest

from qa import Assistant, Settings, build_or_update
from qa.loading import load_folder

ARTICLE = ("وزارة الكهرباء تفتتح محطة\n\nأعلنت وزارة الكهرباء في عدن افتتاح محطة جديدة بقدرة 120 ميغاواط. "
           "وقال الوزير إن المحطة ستخدم الأحياء الشرقية من المدينة.")
PAGE = ("<html><head><meta charset=\"windows-1256\"><title>محطة جديدة</title></head><body><article><p>"
        + ARTICLE.replace("\n", " ") + "</p></article></body></html>")
NAV = ("<html><head><title>الموقع</title></head><body><nav><ul>" + "".join(
    f"<li><a href='/{i}'>{w}</a></li>" for i, w in enumerate(["الرئيسية", "سياسة", "رياضة", "اتصل بنا"]))
    + "</ul></nav><footer>جميع الحقوق محفوظة</footer></body></html>")

# file name -> ("indexed", the text it must load as) or ("skipped", the start of the reason)
EXPECTED = {
    "utf8.txt": ("indexed", ARTICLE),
    "crlf.txt": ("indexed", ARTICLE.replace("\n", "\r\n")),
    "windows1256.txt": ("indexed", ARTICLE),
    "iso8859-6.txt": ("indexed", ARTICLE),
    "notepad-unicode.txt": ("indexed", ARTICLE),
    "declared-1256.html": ("indexed", None),
    "empty.txt": ("skipped", "file is empty"),
    "nul.txt": ("skipped", "holds NUL bytes"),
    "bidi-marks.txt": ("skipped", "no words"),
    "digits.txt": ("skipped", "no words"),
    "navigation.html": ("skipped", "no article body in the HTML"),
    "random-bytes.txt": ("skipped", "not UTF-8 text, nor Windows-1256"),
    "huge.txt": ("skipped", "50 MB is over the limit of 20 MB"),
    "long-line.txt": ("skipped", "a line of 150,000 characters"),
    "loop-a.txt": ("skipped", "a link loop"),
    "loop-b.txt": ("skipped", "a link loop"),
    "dangling.txt": ("skipped", "a broken link"),
    "device.txt": ("skipped", "a link to a file outside the articles folder"),
    "fifo.txt": ("skipped", "not a regular file"),
    "report.pdf": ("skipped", "unsupported file type '.pdf'"),
}


def make_bad_folder(docs: Path) -> None:
    """Write every case of EXPECTED into `docs`."""
    docs.mkdir(parents=True, exist_ok=True)
    (docs / "utf8.txt").write_bytes(ARTICLE.encode("utf-8"))
    (docs / "crlf.txt").write_bytes(ARTICLE.replace("\n", "\r\n").encode("utf-8"))
    (docs / "windows1256.txt").write_bytes(ARTICLE.encode("cp1256"))
    (docs / "iso8859-6.txt").write_bytes(ARTICLE.encode("iso8859_6"))
    (docs / "notepad-unicode.txt").write_bytes(ARTICLE.encode("utf-16"))  # with its BOM
    (docs / "declared-1256.html").write_bytes(PAGE.encode("cp1256"))
    (docs / "empty.txt").write_bytes(b"")
    (docs / "nul.txt").write_bytes(b"\x00" * 4096)
    (docs / "bidi-marks.txt").write_text(" \u200f\u202e\n\t\u200e \u061c", encoding="utf-8")
    (docs / "digits.txt").write_text("123 456\n٧٨٩ !!", encoding="utf-8")
    (docs / "navigation.html").write_text(NAV, encoding="utf-8")
    (docs / "random-bytes.txt").write_bytes(bytes(range(128, 256)) * 64)
    with open(docs / "huge.txt", "wb") as f:
        f.truncate(50_000_000)  # sparse: 50 MB on paper, written in no time
    (docs / "long-line.txt").write_text("كلمة " * 30_000, encoding="utf-8")
    (docs / "loop-a.txt").symlink_to(docs / "loop-b.txt")
    (docs / "loop-b.txt").symlink_to(docs / "loop-a.txt")
    (docs / "dangling.txt").symlink_to(docs / "gone.txt")
    (docs / "device.txt").symlink_to("/dev/zero")
    os.mkfifo(docs / "fifo.txt")
    (docs / "report.pdf").write_bytes(b"%PDF-1.4")


def test_each_bad_file_is_indexed_right_or_skipped_with_its_reason(tmp_path: Path):
    make_bad_folder(tmp_path / "docs")
    loaded = load_folder(tmp_path / "docs")
    articles = {a.doc_id: a for a in loaded.articles}
    skipped = {s.path: s.reason for s in loaded.skipped}
    assert set(articles) | set(skipped) == set(EXPECTED)
    for name, (outcome, want) in EXPECTED.items():
        if outcome == "indexed":
            assert name in articles, f"{name} skipped: {skipped.get(name)}"
            if want is not None:
                assert articles[name].text == want, name
        else:
            assert skipped.get(name, "").startswith(want), f"{name}: {skipped.get(name)!r}"
    page = articles["declared-1256.html"]
    assert "أعلنت وزارة الكهرباء في عدن" in page.text and page.title == "محطة جديدة"


def test_offsets_of_a_crlf_file_match_the_file(tmp_path: Path):
    make_bad_folder(tmp_path / "docs")
    build_or_update(tmp_path / "docs", tmp_path / "index", Settings(model="fake"))
    bot = Assistant.open(tmp_path / "index")
    original = (tmp_path / "docs" / "crlf.txt").read_bytes().decode("utf-8")
    chunks = [c for c in bot.index.chunks if c.doc_id == "crlf.txt"]
    assert chunks and all(original[c.start:c.end] == c.text for c in chunks)
    assert "\r\n" in original[chunks[0].start:chunks[-1].end]


@pytest.mark.parametrize("inside", ["index", "sub/index"])
def test_an_index_inside_the_docs_folder_is_never_indexed(tmp_path: Path, inside: str):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (docs / "sub").mkdir()
    first = build_or_update(docs, docs / inside, Settings(model="fake"))
    again = build_or_update(docs, docs / inside, Settings(model="fake"))
    assert first.articles == again.articles == 1 and not again.changed
    assert not any(s.path.startswith(inside) for s in again.skipped)


def test_size_limits_are_settings(tmp_path: Path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("عنوان طويل جدا للخبر\n" + ARTICLE, encoding="utf-8")
    (docs / "b.txt").write_text(ARTICLE * 5, encoding="utf-8")
    (skip,) = load_folder(docs, Settings(max_file_mb=0.001)).skipped
    assert skip.path == "b.txt" and skip.reason.startswith("0.00133 MB is over the limit of 0.001 MB")
    (docs / "b.txt").unlink()
    (art,) = load_folder(docs, Settings(max_title_chars=10, max_line_chars=200)).articles
    assert art.title == "عنوان طويل …"
    (skip,) = load_folder(docs, Settings(max_line_chars=100)).skipped
    assert "the limit is 100, setting max_line_chars" in skip.reason


def test_records_with_repeated_or_clashing_ids_get_distinct_ids_and_the_index_loads(tmp_path: Path):
    docs = tmp_path / "docs"
    docs.mkdir()
    records = [{"id": "1", "content": ARTICLE}, {"content": ARTICLE + " ثانٍ"},
               {"id": "1", "content": ARTICLE + " ثالث"}]
    (docs / "a.json").write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    assert [a.doc_id for a in load_folder(docs).articles] == ["a.json#1", "a.json#1~2", "a.json#1~3"]
    assert build_or_update(docs, tmp_path / "index", Settings(model="fake")).articles == 3
    assert len(Assistant.open(tmp_path / "index").index.articles) == 3
