"""Hostile input, built on the fly: files that used to stop a run or escape the
articles folder, questions with nothing to match, batches with bad lines."""

import json
import os
from pathlib import Path

import pytest

from qa import Assistant, Settings, build_or_update
from qa.cli import main
from qa.errors import BadSettings
from qa.loading import load_folder

ARTICLE = "خبر عن الكهرباء\n\nأعلنت وزارة الكهرباء في عدن افتتاح محطة جديدة بقدرة 120 ميغاواط."


def reasons(docs: Path) -> dict[str, str]:
    return {s.path: s.reason for s in load_folder(docs).skipped}


def test_a_huge_first_line_is_not_a_huge_title(tmp_path: Path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "long.txt").write_text("كلمة " * 18_000 + "\n\n" + ARTICLE, encoding="utf-8")  # a 90 KB line
    (docs / "longer.txt").write_text("كلمة " * 40_000 + "\n\n" + ARTICLE, encoding="utf-8")  # 200 KB
    (art,) = load_folder(docs).articles
    assert len(art.title) <= Settings().max_title_chars + 2 and art.title.endswith("…")
    assert reasons(docs)["longer.txt"].startswith("a line of 200,000 characters (the limit is 100,000")
    report = build_or_update(docs, tmp_path / "index", Settings(model="fake"))  # finishes: titles are short
    assert report.articles == 1
    assert len(Assistant.open(tmp_path / "index").index.chunks[0].text) <= Settings().chunk_size


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
                                           ensure_ascii=False),
                                '{"id": 5, "question": "\\ud800"}', json.dumps({"id": 6, "question": "ا" * 3000})]),
                     encoding="utf-8")
    index = bot.index.path.parent.parent
    assert main(["ask", "--batch", str(batch), "--index", str(index), "--json"]) == 2
    out = [json.loads(x) for x in capsys.readouterr().out.strip().splitlines()]
    assert [o.get("id") for o in out] == [1, 2, 3, 4, 5, 6]  # a line's id, or its number
    assert "empty" in out[0]["error"] and "invalid JSON" in out[1]["error"] and "nested" in out[2]["error"]
    assert out[3]["question"] == "ما قدرة المحطة الجديدة في عدن؟" and "error" not in out[3]
    assert "lone surrogate" in out[4]["error"] and "the limit is 2000" in out[5]["error"]


def two_versions(tmp_path: Path) -> tuple[Path, Path, Path]:
    """An index with an intact older version and a newer current one."""
    from qa import store

    docs, index = tmp_path / "docs", tmp_path / "index"
    docs.mkdir()
    (docs / "a.txt").write_text(ARTICLE, encoding="utf-8")
    build_or_update(docs, index, Settings(model="fake"))
    older = store.current_version(index)
    (docs / "b.txt").write_text("خبر ثان\n\nوصل وفد تجاري إلى صنعاء لبحث الاستثمار في الموانئ.", encoding="utf-8")
    build_or_update(docs, index, Settings(model="fake"))
    return docs, index, older


@pytest.mark.parametrize("damage", ["truncate vectors", "zero manifest", "delete articles", "offsets",
                                    "dangling CURRENT", "empty CURRENT"])
def test_a_damaged_current_version_falls_back_to_the_intact_one(tmp_path: Path, damage: str):
    from qa import store

    _, index, older = two_versions(tmp_path)
    current = store.current_version(index)
    if damage == "truncate vectors":
        (current / "vectors.faiss").write_bytes((current / "vectors.faiss").read_bytes()[:100])
    elif damage == "zero manifest":
        (current / "manifest.json").write_bytes(b"\0" * 50)
    elif damage == "delete articles":
        (current / "articles.jsonl").unlink()
    elif damage == "offsets":
        rows = [json.loads(x) for x in (current / "chunks.jsonl").read_text(encoding="utf-8").splitlines()]
        rows[0]["end"] = 10**9
        (current / "chunks.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    else:
        (index / "CURRENT").write_text("v-missing" if damage == "dangling CURRENT" else "", encoding="utf-8")
    bot = Assistant.open(index)
    if damage.endswith("CURRENT"):
        assert bot.index.path == current  # the newest complete version
    else:
        assert bot.index.path == older and bot.search("الكهرباء")[0].chunk.doc_id == "a.txt"


def test_qa_ask_never_rebuilds_an_index_that_exists(tmp_path: Path, capsys):
    from qa import store

    docs, index, _ = two_versions(tmp_path)
    for version in store.versions_newest_first(index):
        (version / "articles.jsonl").unlink()  # every version damaged
    assert main(["ask", "ما قدرة المحطة الجديدة في عدن؟", "--index", str(index), "--docs", str(docs),
                 "--model", "fake"]) == 2
    err = capsys.readouterr().err
    assert "damaged" in err and "qa index --rebuild" in err
    assert len(store.versions_newest_first(index)) == 2  # nothing was rebuilt or cleaned away


def test_an_index_from_a_newer_qa_is_refused_with_advice_to_upgrade(tmp_path: Path):
    from qa import store
    from qa.errors import IndexMismatch

    _, index, _ = two_versions(tmp_path)
    manifest = store.current_version(index) / "manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["format_version"] = store.FORMAT_VERSION + 1
    manifest.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(IndexMismatch, match=r"newer qa.*Upgrade qa.*do not rebuild"):
        Assistant.open(index)


def test_a_keyword_only_version_answers_from_lexical_evidence(tmp_path: Path):
    """An update killed before embedding leaves a keyword-only version: its new
    article answers what its words support, beside embedded ones, even under a
    refusal rule that trusts dense similarity alone; what its words do not
    support is still refused."""
    import subprocess
    import sys

    from qa import store
    from qa.faults import FAULT_EXIT

    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "fake.json").write_text(json.dumps({"format": 1, "models": ["fake"], "rule": {
        "dense_weight": 1.0, "lexical_weight": 0.0, "threshold": 0.9, "cross_threshold": None}}), encoding="utf-8")
    docs, index = tmp_path / "docs", tmp_path / "index"
    docs.mkdir()
    (docs / "b.txt").write_text("خبر عن الموانئ\n\nوصل وفد تجاري إلى صنعاء لبحث الاستثمار في الموانئ والطاقة.",
                                encoding="utf-8")
    build_or_update(docs, index, Settings(model="fake"))  # embedded
    (docs / "a.txt").write_text(ARTICLE, encoding="utf-8")
    code = ("import sys; from pathlib import Path; from qa import Settings, build_or_update; "
            "build_or_update(Path(sys.argv[1]), Path(sys.argv[2]), Settings(model='fake', lexical_first_min=1))")
    proc = subprocess.run([sys.executable, "-c", code, str(docs), str(index)], capture_output=True,
                          env=dict(os.environ, QA_FAIL_AT="index:keyword-only-written"), timeout=120)
    assert proc.returncode == FAULT_EXIT, proc.stderr.decode()
    idx = store.load(index)
    assert idx.manifest.pending == ["a.txt"] and 0 < idx.vectors.size < len(idx.chunks)
    bot = Assistant.open(index, Settings(model="fake", calibrations=str(rules)))
    answer = bot.ask("ما قدرة المحطة الجديدة في عدن؟")
    assert {h.chunk.doc_id for h in bot.search("ما قدرة المحطة الجديدة في عدن؟", 3)} == {"a.txt", "b.txt"}
    assert not answer.refused and "120 ميغاواط" in answer.text and answer.citations[0].doc_id == "a.txt"
    assert bot.ask("ما هي أسعار النفط اليوم؟").refused

def test_a_writer_that_waited_for_the_lock_publishes_what_the_folder_holds_then(tmp_path: Path):
    """No lost update: a writer queued behind another reads the folder only once
    it holds the lock, so an article added meanwhile is in what it publishes."""
    import threading
    import time

    from qa import store

    docs, index = tmp_path / "docs", tmp_path / "index"
    docs.mkdir()
    (docs / "a.txt").write_text(ARTICLE, encoding="utf-8")
    build_or_update(docs, index, Settings(model="fake"))
    reports = []
    with store.writer_lock(index):  # another writer is at work
        queued = threading.Thread(target=lambda: reports.append(
            build_or_update(docs, index, Settings(model="fake"), wait=True)))
        queued.start()
        time.sleep(0.5)
        assert queued.is_alive()  # waiting for the lock
        (docs / "c.txt").write_text("خبر ثالث\n\nافتتح ميناء جديد في المكلا لاستقبال السفن التجارية.",
                                    encoding="utf-8")
    queued.join(timeout=60)
    assert reports[0].added == 1
    assert set(store.load(index).articles) == {"a.txt", "c.txt"}


def test_public_api_arguments_are_validated_with_clear_errors(bot: Assistant, tmp_path: Path):
    from qa.errors import BadInput, BadQuestion

    with pytest.raises(BadQuestion, match="must be text"):
        bot.ask(123)
    with pytest.raises(BadInput, match="history must be a list"):
        bot.ask("من؟", history="سؤال سابق")
    with pytest.raises(BadSettings, match=r"settings must be a qa\.Settings, got dict"):
        Assistant.open(bot.index.path.parent.parent, {"model": "fake"})
    with pytest.raises(BadSettings, match="an index must be a folder path or a milvus:// address"):
        Assistant.open(5)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text(ARTICLE, encoding="utf-8")
    assert build_or_update(str(docs), str(tmp_path / "index"), Settings(model="fake")).articles == 1  # str paths do


def test_an_index_refuses_questions_embedded_by_another_runtime(tmp_path: Path, capsys, monkeypatch):
    import dataclasses

    from qa import store
    from qa.errors import IndexMismatch

    docs, index = tmp_path / "docs", tmp_path / "index"
    docs.mkdir()
    (docs / "a.txt").write_text(ARTICLE, encoding="utf-8")
    build_or_update(docs, index, Settings(model="fake"))
    assert store.read_manifest(index).runtime == "numpy"  # the test embedder's own: never compared
    Assistant.open(index, Settings(model="fake", runtime="openvino"))
    version = store.current_version(index)  # as if built on OpenVINO
    built = dataclasses.replace(store.read_manifest(index), runtime="openvino")
    (version / "manifest.json").write_text(built.to_json(), encoding="utf-8")
    with pytest.raises(IndexMismatch, match=r"embedded with the openvino runtime, but torch.*QA_RUNTIME=openvino"):
        Assistant.open(index, Settings(model="fake", runtime="torch"))
    monkeypatch.setenv("QA_RUNTIME", "torch")
    assert main(["ask", "ما قدرة المحطة؟", "--index", str(index)]) == 2
    assert "embedded with the openvino runtime, but torch was asked for" in capsys.readouterr().err
    built = dataclasses.replace(store.read_manifest(index), runtime="openvino-int8")
    (version / "manifest.json").write_text(built.to_json(), encoding="utf-8")
    with pytest.raises(IndexMismatch, match=r"openvino-int8 runtime, but openvino was.*QA_RUNTIME=openvino-int8"):
        Assistant.open(index, Settings(model="fake", runtime="openvino"))
    with pytest.raises(BadSettings, match="runtime must be one of"):
        Settings(runtime="onnx")


def test_every_way_a_disk_refuses_a_write_is_one_clear_error(tmp_path: Path, monkeypatch):
    import errno

    from qa import store
    from qa.errors import IndexWriteFailed, disk_refused

    for code in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG, errno.EACCES, errno.EPERM):
        assert disk_refused(OSError(code, os.strerror(code)))
    assert disk_refused(OSError("65536 requested and 33760 written"))  # NumPy's short write: no errno
    assert disk_refused(RuntimeError("Error in faiss::FileIOWriter: fwrite failed"))
    assert not disk_refused(OSError(errno.ENOENT, "missing")) and not disk_refused(RuntimeError("bug"))
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text(ARTICLE, encoding="utf-8")

    def short_write(*args, **kwargs):
        raise OSError("65536 requested and 33760 written")

    monkeypatch.setattr(store, "write", short_write)
    with pytest.raises(IndexWriteFailed, match=r"65536 requested and 33760 written\. Nothing was lost"):
        build_or_update(docs, tmp_path / "index", Settings(model="fake"))
