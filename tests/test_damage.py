"""Damage to every file of an index version: truncated, zeroed, one byte flipped,
deleted. Loading never crashes and never loses the intact older version;
`qa index --verify` finds every case and sets the damaged version aside."""

import shutil
from pathlib import Path

import pytest

from qa import Assistant, Settings, build_or_update, store
from qa.cli import main

FILES = ["articles.jsonl", "chunks.jsonl", "vectors.faiss", "manifest.json", "lexical/data.csc.index.npy",
         "lexical/indices.csc.index.npy", "lexical/indptr.csc.index.npy", "lexical/params.index.json",
         "lexical/size.txt", "lexical/terms.txt", "lexical/vocab.index.json"]
DAMAGES = ["truncate", "zero", "flip", "delete"]
A = "خبر عن الكهرباء\n\nأعلنت وزارة الكهرباء في عدن افتتاح محطة جديدة بقدرة 120 ميغاواط."
B = "خبر ثان\n\nوصل وفد تجاري إلى صنعاء لبحث الاستثمار في الموانئ."


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, str, str]:
    """An index of two versions: the older holds a.txt, the current a.txt and b.txt."""
    root = tmp_path_factory.mktemp("damage")
    docs, index = root / "docs", root / "index"
    docs.mkdir()
    (docs / "a.txt").write_text(A, encoding="utf-8")
    build_or_update(docs, index, Settings(model="fake"))
    older = store.current_version(index).name
    (docs / "b.txt").write_text(B, encoding="utf-8")
    build_or_update(docs, index, Settings(model="fake"))
    return index, older, store.current_version(index).name


def damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif how == "zero":
        path.write_bytes(b"\0" * len(data))
    elif how == "flip":
        at = len(data) // 2
        path.write_bytes(data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:])
    else:
        path.unlink()


def test_the_list_covers_every_file_of_a_version(built):
    index, _, current = built
    version = index / "versions" / current
    assert sorted(p.relative_to(version).as_posix() for p in version.rglob("*") if p.is_file()) == sorted(FILES)


@pytest.mark.parametrize("how", DAMAGES)
@pytest.mark.parametrize("name", FILES)
def test_damage_is_found_and_the_intact_version_answers(built, tmp_path: Path, name: str, how: str, capsys):
    source, older, current = built
    index = tmp_path / "index"
    shutil.copytree(source, index)
    damage(index / "versions" / current / name, how)
    bot = Assistant.open(index)  # never a traceback: the damaged version or the older one loads
    assert bot.index.path.name in (current, older)
    if how in ("truncate", "delete") or name == "manifest.json":
        assert bot.index.path.name == older  # sizes and the manifest's checksum are checked on every load
    checks = {c.name: c for c in store.verify(index)}
    assert not checks[current].intact and checks[older].intact
    assert main(["index", "--verify", "--index", str(index)]) == 1
    assert f"{older} is now current" in capsys.readouterr().out
    assert (index / "versions" / f"damaged-{current}").is_dir()  # set aside, not deleted
    bot = Assistant.open(index)
    assert bot.index.path.name == older
    assert bot.search("الكهرباء في عدن", 1)[0].chunk.doc_id == "a.txt"


def test_an_intact_index_verifies_clean(built, capsys):
    index, _, current = built
    assert main(["index", "--verify", "--index", str(index)]) == 0
    assert f"{current} (current): intact" in capsys.readouterr().out


def test_verify_json_parses_and_names_the_current_version(built, tmp_path: Path, capsys):
    import json

    source, older, current = built
    index = tmp_path / "index"
    shutil.copytree(source, index)
    assert main(["index", "--verify", "--index", str(index), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["current"] == current
    damage(index / "versions" / current / "chunks.jsonl", "flip")
    assert main(["index", "--verify", "--index", str(index), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)  # one JSON object, nothing after it
    assert report["current"] == older and [v["intact"] for v in report["versions"]] == [False, True]
    assert main(["index", "--verify", "--index", str(tmp_path / "typo")]) == 2
    assert not (tmp_path / "typo").exists()  # nothing created for a mistyped folder
