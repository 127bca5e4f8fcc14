"""Hostile input, built on the fly: files that used to stop a run or escape the
articles folder, questions with nothing to match, batches with bad lines."""

import json
import os
from pathlib import Path

import pytest

from qa import Assistant, Settings, build_or_update
from qa.cli import main
from qa.errors import BadSettings
from qa.loading import MAX_TITLE_CHARS, load_folder

ARTICLE = "خبر عن الكهرباء\n\nأعلنت وزارة الكهرباء في عدن افتتاح محطة جديدة بقدرة 120 ميغاواط."


def reasons(docs: Path) -> dict[str, str]:
    return {s.path: s.reason for s in load_folder(docs).skipped}


def test_a_huge_first_line_is_not_a_huge_title(tmp_path: Path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "long.txt").write_text("كلمة " * 40_000 + "\n\n" + ARTICLE, encoding="utf-8")
    (art,) = load_folder(docs).articles
    assert len(art.title) <= MAX_TITLE_CHARS + 2 and art.title.endswith("…")
    report = build_or_update(docs, tmp_path / "index", Settings(model="fake"))  # finishes: titles are short
    assert report.articles == 1


def test_poison_files_are_skipped_with_a_reason_and_the_rest_indexed(tmp_path: Path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "good.txt").write_text(ARTICLE, encoding="utf-8")
    (docs / "deep.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    (docs / "deep.jsonl").write_text('{"content": "نص"}\n' + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    (docs / "surrogate.json").write_text('{"title": "x", "content": "نص \\ud800 مكسور"}', encoding="utf-8")
    os.mkfifo(docs / "pipe.txt")
    (docs / "outside.txt").symlink_to("/etc/hostname")
    (docs / "inside.txt").symlink_to(docs / "good.txt")
    (docs / os.fsdecode(b"bad\xff.txt")).write_text(ARTICLE, encoding="utf-8")
    got = reasons(docs)
    assert got["deep.json"] == "JSON nested too deeply"
    assert got["deep.jsonl#1"] == "line 2: JSON nested too deeply"
    assert got["surrogate.json#0"] == "holds an invalid character (a lone surrogate)"
    assert got["pipe.txt"].startswith("not a regular file")
    assert got["outside.txt"].startswith("a link to a file outside the articles folder")
    assert any(r.startswith("the file name is not valid UTF-8") for r in got.values())
    ids = {a.doc_id for a in load_folder(docs).articles}
    assert {"good.txt", "inside.txt", "deep.jsonl#0"} <= ids and "outside.txt" not in ids
    report = build_or_update(docs, tmp_path / "index", Settings(model="fake"))  # one bad file stops nothing
    assert report.articles >= 2


@pytest.fixture(scope="module")
def bot(tmp_path_factory) -> Assistant:
    root = tmp_path_factory.mktemp("hard")
    (root / "docs").mkdir()
    (root / "docs" / "a.txt").write_text(ARTICLE, encoding="utf-8")
    build_or_update(root / "docs", root / "index", Settings(model="fake"))
    return Assistant.open(root / "index")


@pytest.mark.parametrize("question", ["؟؟؟", "123", "😀😀", "中国的首都是哪里", "ًٌٍ", "\u202e", "...!"])
def test_a_question_with_nothing_to_match_is_refused_as_not_understood(bot: Assistant, question: str):
    answer = bot.ask(question)
    assert answer.refused and answer.reason == "not_understood" and not answer.citations


def test_search_rejects_a_bad_k(bot: Assistant):
    for k in (-1, 0, 2.5, True):
        with pytest.raises(BadSettings, match="k must be"):
            bot.search("الكهرباء", k)


def test_one_bad_batch_line_does_not_stop_the_others(bot: Assistant, tmp_path: Path, capsys):
    batch = tmp_path / "b.jsonl"
    batch.write_text("\n".join([json.dumps({"id": 1, "question": ""}), "not json", "[" * 50_000,
                                json.dumps({"id": 4, "question": "ما قدرة المحطة الجديدة في عدن؟"},
                                           ensure_ascii=False)]), encoding="utf-8")
    index = bot.index.path.parent.parent
    assert main(["ask", "--batch", str(batch), "--index", str(index), "--json"]) == 2
    out = [json.loads(x) for x in capsys.readouterr().out.strip().splitlines()]
    assert [o.get("id") for o in out] == [1, None, None, 4]
    assert "empty" in out[0]["error"] and "invalid JSON" in out[1]["error"] and "nested" in out[2]["error"]
    assert out[3]["question"] == "ما قدرة المحطة الجديدة في عدن؟" and "error" not in out[3]
