import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from qa import store
from qa.assistant import Assistant, build_or_update
from qa.embedding import FakeEmbedder
from qa.settings import Settings


def test_save_load_gives_the_same_hits(seeds: Path, tmp_path: Path, fake_settings: Settings):
    index = tmp_path / "index"
    report = build_or_update(seeds, index, fake_settings)
    assert (report.articles, report.added, report.chunks) == (2, 2, report.embedded_chunks)
    bot1 = Assistant.open(index)
    hits1 = bot1.search("وزير الداخلية إبراهيم حيدان", 5)
    bot2 = Assistant.open(index)
    hits2 = bot2.search("وزير الداخلية إبراهيم حيدان", 5)
    assert [(h.chunk.chunk_id, h.score) for h in hits1] == [(h.chunk.chunk_id, h.score) for h in hits2]
    assert hits1[0].chunk.doc_id == "001_32ac849551dd6a76.txt"
    for h in hits1:
        art = bot1.index.articles[h.chunk.doc_id]
        assert art.text[h.chunk.start : h.chunk.end] == h.chunk.text


def test_manifest_records_model_settings_and_hashes(seeds: Path, tmp_path: Path, fake_settings: Settings):
    index = tmp_path / "index"
    build_or_update(seeds, index, fake_settings)
    m = store.read_manifest(index)
    assert m.format_version == store.FORMAT_VERSION
    assert (m.embedder, m.dimension) == ("fake", 256)
    assert m.settings == fake_settings.index_settings()
    assert set(m.articles) == {p.name for p in seeds.iterdir()}
    assert all(len(h) == 64 for h in m.articles.values())
    assert "faiss-cpu" in m.libraries
    version = store.current_version(index)
    assert {p.name for p in version.iterdir()} == {"manifest.json", "articles.jsonl", "chunks.jsonl",
                                                   "vectors.faiss", "lexical"}
    assert not list(version.rglob("*.pkl")) and not list(version.rglob("*.pickle"))


def test_querying_with_another_model_is_a_clear_error(seeds: Path, tmp_path: Path, fake_settings: Settings):
    index = tmp_path / "index"
    build_or_update(seeds, index, fake_settings)
    with pytest.raises(store.IndexMismatch, match=r"built with embedding model 'fake'.*qa index --rebuild"):
        Assistant.open(index, embedder=FakeEmbedder(128, "fake-128"))
    with pytest.raises(store.IndexMismatch, match="--rebuild"):
        build_or_update(seeds, index, Settings(model="fake-64"))
    with pytest.raises(store.IndexMismatch, match="settings"):
        build_or_update(seeds, index, fake_settings.with_(chunk_size=300))
    report = build_or_update(seeds, index, fake_settings.with_(chunk_size=300), rebuild=True)
    assert report.added == 2


def test_missing_index_is_a_clear_error(tmp_path: Path):
    with pytest.raises(store.IndexMissing, match="qa index"):
        Assistant.open(tmp_path / "nothing")


def test_incremental_update_counts(seeds: Path, tmp_path: Path, fake_settings: Settings):
    index = tmp_path / "index"
    build_or_update(seeds, index, fake_settings)
    again = build_or_update(seeds, index, fake_settings)
    assert (again.changed, again.unchanged, again.embedded_chunks) == (False, 2, 0)

    (seeds / "002_new.txt").write_text("خبر جديد\n\nأعلنت وزارة الصحة افتتاح مستشفى جديد في عدن.", encoding="utf-8")
    first = seeds / "000_1e06ce93cb234a3e.txt"
    first.write_text(first.read_text(encoding="utf-8") + "\n\nفقرة مضافة عن الاجتماع.", encoding="utf-8")
    r = build_or_update(seeds, index, fake_settings)
    assert (r.added, r.updated, r.removed, r.unchanged, r.renamed) == (1, 1, 0, 1, 0)
    changed_chunks = r.embedded_chunks
    assert 0 < changed_chunks < r.chunks

    shutil.move(seeds / "002_new.txt", seeds / "003_renamed.txt")
    r = build_or_update(seeds, index, fake_settings)
    assert (r.added, r.updated, r.removed, r.unchanged, r.renamed, r.embedded_chunks) == (0, 0, 0, 2, 1, 0)

    shutil.copy(seeds / "003_renamed.txt", seeds / "004_copy.txt")
    r = build_or_update(seeds, index, fake_settings)
    assert r.duplicates == (("004_copy.txt", "003_renamed.txt"),)
    assert (r.articles, r.changed) == (3, False)

    (seeds / "003_renamed.txt").unlink()
    (seeds / "004_copy.txt").unlink()
    r = build_or_update(seeds, index, fake_settings)
    assert (r.removed, r.unchanged, r.articles) == (1, 2, 2)
    bot = Assistant.open(index)
    assert all(h.chunk.doc_id != "003_renamed.txt" for h in bot.search("مستشفى عدن", 10))
    assert len(bot.index.chunks) == bot.index.vectors.size == bot.index.lexical.size


def test_update_reuses_vectors_of_unchanged_articles(seeds: Path, tmp_path: Path, fake_settings: Settings):
    index = tmp_path / "index"
    build_or_update(seeds, index, fake_settings)
    before = Assistant.open(index)
    v_before = before.index.vectors.vectors(__import__("numpy").arange(before.index.vectors.size))

    class Counting(FakeEmbedder):
        calls = 0

        def embed_documents(self, texts, progress=None):
            Counting.calls += len(texts)
            return super().embed_documents(texts, progress)

    (seeds / "zzz.txt").write_text("عنوان\n\nنص جديد تماما.", encoding="utf-8")
    build_or_update(seeds, index, fake_settings, embedder=Counting())
    after = Assistant.open(index)
    assert Counting.calls == 1
    v_after = after.index.vectors.vectors(__import__("numpy").arange(len(v_before)))
    assert (v_after == v_before).all()


def test_old_version_stays_readable_and_only_one_is_kept(seeds: Path, tmp_path: Path, fake_settings: Settings):
    index = tmp_path / "index"
    build_or_update(seeds, index, fake_settings)
    reader = Assistant.open(index)
    for i in range(3):
        (seeds / f"n{i}.txt").write_text(f"عنوان {i}\n\nنص رقم {i} عن الاقتصاد.", encoding="utf-8")
        build_or_update(seeds, index, fake_settings)
    assert len([p for p in (index / "versions").iterdir() if p.name.startswith("v-")]) == 2
    assert reader.search("وزير الداخلية", 3)  # the reader's arrays are in memory


def test_inconsistent_index_is_detected(seeds: Path, tmp_path: Path, fake_settings: Settings):
    index = tmp_path / "index"
    build_or_update(seeds, index, fake_settings)
    chunks = store.current_version(index) / "chunks.jsonl"
    lines = chunks.read_text(encoding="utf-8").splitlines()
    chunks.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    with pytest.raises(store.IndexDamaged, match=r"chunks.jsonl is \d+ bytes, not \d+.*qa index --rebuild"):
        Assistant.open(index)  # the only version is damaged: nothing older to fall back to


def test_chunk_store_is_plain_json(seeds: Path, tmp_path: Path, fake_settings: Settings):
    index = tmp_path / "index"
    build_or_update(seeds, index, fake_settings)
    version = store.current_version(index)
    row = json.loads((version / "chunks.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert set(row) == {"chunk_id", "doc_id", "start", "end"}


def test_idf_read_off_the_index_matches_recomputing_it(seeds: Path, tmp_path: Path, fake_settings: Settings):
    import math

    from qa import arabic
    from qa.chunking import passage_text

    index = tmp_path / "index"
    build_or_update(seeds, index, fake_settings)
    bot = Assistant.open(index)
    texts = [passage_text(bot.index.articles[c.doc_id], c.start, c.text) for c in bot.index.chunks]
    df: dict[str, int] = {}
    for t in texts:
        for term in set(arabic.terms(t)):
            df[term] = df.get(term, 0) + 1
    n = len(texts)
    expected = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}
    got = bot.index.lexical.idf()
    assert set(expected) <= set(got)
    assert all(abs(got[t] - v) < 1e-9 for t, v in expected.items())


def test_a_second_writer_gets_a_clear_error_or_waits(seeds: Path, tmp_path: Path, fake_settings: Settings):
    import threading

    index = tmp_path / "index"
    build_or_update(seeds, index, fake_settings)
    with store.writer_lock(index):
        with pytest.raises(store.IndexBusy, match="being written by pid"):
            build_or_update(seeds, index, fake_settings)
        done = []
        t = threading.Thread(target=lambda: done.append(build_or_update(seeds, index, fake_settings, wait=True)))
        t.start()
        t.join(0.5)
        assert t.is_alive() and not done  # queued behind the lock holder
    t.join(10)
    assert done and done[0].unchanged == 2
    assert Assistant.open(index).search("وزير الداخلية", 1)


def test_reader_keeps_its_version_and_picks_up_the_new_one_when_asked(seeds: Path, tmp_path: Path,
                                                                       fake_settings: Settings):
    index = tmp_path / "index"
    build_or_update(seeds, index, fake_settings)
    reader = Assistant.open(index)
    (seeds / "new.txt").write_text("خبر عن الزراعة\n\nارتفع إنتاج البن اليمني هذا العام.", encoding="utf-8")
    build_or_update(seeds, index, fake_settings)
    assert all(h.chunk.doc_id != "new.txt" for h in reader.search("إنتاج البن", 3))  # still the old version
    assert reader.refreshed() is not reader
    fresh = reader.refreshed()
    assert fresh.search("إنتاج البن", 1)[0].chunk.doc_id == "new.txt"
    assert fresh.refreshed() is fresh


def test_update_tokenises_only_new_chunks(seeds: Path, tmp_path: Path, fake_settings: Settings, monkeypatch):
    from qa import indexer

    index = tmp_path / "index"
    build_or_update(seeds, index, fake_settings)
    calls = []
    real = indexer.tokenize
    monkeypatch.setattr(indexer, "tokenize", lambda text: calls.append(text) or real(text))
    (seeds / "zzz.txt").write_text("عنوان\n\nنص جديد تماما.", encoding="utf-8")
    build_or_update(seeds, index, fake_settings)
    assert len(calls) == 1
    bot = Assistant.open(index)
    assert bot.search("نص جديد تماما", 1, mode="lexical")[0].chunk.doc_id == "zzz.txt"
    assert bot.search("إبراهيم حيدان", 1, mode="lexical")[0].chunk.doc_id == "001_32ac849551dd6a76.txt"


def test_large_indexes_switch_to_ivf_and_keep_working(seeds: Path, tmp_path: Path):
    settings = Settings(model="fake", ann_threshold=5, ann_nprobe=64)
    index = tmp_path / "index"
    for i in range(6):
        (seeds / f"x{i}.txt").write_text(f"خبر {i}\n\nنص رقم {i} عن الاقتصاد والزراعة في اليمن.", encoding="utf-8")
    build_or_update(seeds, index, settings)
    bot = Assistant.open(index)
    assert bot.index.vectors.approximate and bot.index.vectors.size == len(bot.index.chunks)
    assert bot.search("وزير الداخلية إبراهيم حيدان", 1)[0].chunk.doc_id == "001_32ac849551dd6a76.txt"
    (seeds / "x0.txt").unlink()
    (seeds / "y.txt").write_text("خبر\n\nافتتاح مستشفى الأمل في عدن.", encoding="utf-8")
    r = build_or_update(seeds, index, settings)
    assert (r.added, r.removed, r.embedded_chunks) == (1, 1, 1)
    bot = bot.refreshed()
    assert bot.index.vectors.approximate
    assert bot.search("مستشفى الأمل في عدن", 1)[0].chunk.doc_id == "y.txt"
    assert all(h.chunk.doc_id != "x0.txt" for h in bot.search("نص رقم 0 عن الاقتصاد", 10))


def test_new_articles_are_keyword_searchable_before_their_embeddings_are_done(seeds: Path, tmp_path: Path):
    settings = Settings(model="fake", lexical_first_min=1)
    index = tmp_path / "index"
    build_or_update(seeds, index, settings)
    seen = {}

    class Watching(FakeEmbedder):
        def embed_documents(self, texts, progress=None):
            bot = Assistant.open(index, settings, embedder=FakeEmbedder())  # what a reader sees meanwhile
            seen["pending"] = bot.index.manifest.pending
            seen["hybrid"] = bot.search("مستشفى الأمل في عدن", 1)[0].chunk.doc_id
            seen["dense"] = {h.chunk.doc_id for h in bot.search("مستشفى الأمل في عدن", 20, mode="dense")}
            return super().embed_documents(texts, progress)

    (seeds / "new.txt").write_text("خبر\n\nافتتاح مستشفى الأمل في عدن.", encoding="utf-8")
    report = build_or_update(seeds, index, settings, embedder=Watching())
    assert seen["pending"] == ["new.txt"]
    assert seen["hybrid"] == "new.txt"  # found by its words
    assert "new.txt" not in seen["dense"]  # no vector yet
    assert report.lexical_ready_seconds is not None and report.lexical_ready_seconds <= report.seconds
    bot = Assistant.open(index)
    assert bot.index.manifest.pending == []
    assert "new.txt" in {h.chunk.doc_id for h in bot.search("مستشفى الأمل في عدن", 20, mode="dense")}


def test_a_writer_killed_after_the_keyword_only_version_is_finished_by_the_next(seeds: Path, tmp_path: Path):
    settings = Settings(model="fake", lexical_first_min=1)
    index = tmp_path / "index"
    build_or_update(seeds, index, settings)

    class Dies(FakeEmbedder):
        def embed_documents(self, texts, progress=None):
            raise KeyboardInterrupt

    (seeds / "new.txt").write_text("خبر\n\nافتتاح مستشفى الأمل في عدن.", encoding="utf-8")
    with pytest.raises(KeyboardInterrupt):
        build_or_update(seeds, index, settings, embedder=Dies())
    assert store.read_manifest(index).pending == ["new.txt"]
    r = build_or_update(seeds, index, settings)
    assert r.changed and r.embedded_chunks >= 1
    bot = Assistant.open(index)
    assert bot.index.manifest.pending == [] and bot.index.vectors.size == len(bot.index.chunks)


def test_an_index_without_stored_terms_still_updates(seeds: Path, tmp_path: Path, fake_settings: Settings):
    index = tmp_path / "index"
    build_or_update(seeds, index, fake_settings)
    version = store.current_version(index)
    (version / "lexical" / "terms.txt").unlink()  # as written by the first release: no terms, no checksums
    old = dataclasses.replace(store.Manifest.from_json((version / "manifest.json").read_text()), files={}, runtime="")
    (version / "manifest.json").write_text(old.to_json(), encoding="utf-8")
    (seeds / "zzz.txt").write_text("عنوان\n\nنص جديد تماما.", encoding="utf-8")
    r = build_or_update(seeds, index, fake_settings)
    assert (r.added, r.unchanged, r.embedded_chunks) == (1, 2, 1)
    bot = Assistant.open(index)
    assert bot.search("إبراهيم حيدان", 1, mode="lexical")[0].chunk.doc_id == "001_32ac849551dd6a76.txt"


def test_an_index_of_another_format_is_refused_with_the_rebuild_command(seeds: Path, tmp_path: Path,
                                                                         fake_settings: Settings):
    index = tmp_path / "index"
    build_or_update(seeds, index, fake_settings)
    manifest = store.current_version(index) / "manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["format_version"] = store.FORMAT_VERSION - 1
    data["checksum"] = ""  # as an older qa wrote it
    manifest.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(store.IndexMismatch, match=r"format version .*qa index --rebuild"):
        Assistant.open(index)
    with pytest.raises(store.IndexMismatch, match="format version"):
        build_or_update(seeds, index, fake_settings)
    assert build_or_update(seeds, index, fake_settings, rebuild=True).added == 2


def test_an_english_question_over_arabic_articles_is_retrieved_by_meaning_alone(tmp_path: Path,
                                                                                fake_settings: Settings):
    # BM25 can only match stray Latin words inside Arabic passages (here
    # "Bitcoin"), which says nothing about relevance; a question in another
    # script than the passages is ranked by dense similarity alone.
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("العملات الرقمية\n\nظهرت عملة Bitcoin في مقال عابر عن التقنية.", encoding="utf-8")
    (docs / "b.txt").write_text("الاقتصاد اليمني\n\nتراجع سعر صرف الريال اليمني أمام الدولار.", encoding="utf-8")
    build_or_update(docs, tmp_path / "index", fake_settings)
    bot = Assistant.open(tmp_path / "index")
    question = "What is Bitcoin used for?"
    hybrid, dense = bot.search(question, 5), bot.search(question, 5, mode="dense")
    assert [(h.chunk.chunk_id, h.score) for h in hybrid] == [(h.chunk.chunk_id, h.score) for h in dense]
    assert all(h.lexical_score is None and h.lexical_rank is None for h in hybrid)
    arabic_hits = bot.search("سعر صرف الريال اليمني", 5)
    assert arabic_hits[0].chunk.doc_id == "b.txt" and arabic_hits[0].lexical_score


def test_an_answer_carries_the_evidence_its_refusal_decision_used(seeds: Path, tmp_path: Path, fake_settings):
    index = tmp_path / "index"
    build_or_update(seeds, index, fake_settings)
    bot = Assistant.open(index)
    query = bot.analyse("من هو وزير الداخلية اليمني؟")
    assert query.language == "ar" and not query.cross_lingual and query.vector is not None
    answered = bot.answer(query, bot.retrieve(query))
    assert answered.evidence.lexical > 0.5 and answered.evidence.supported and not answered.refused
    refused = bot.ask("ما هي عاصمة فرنسا؟")
    assert refused.refused and not refused.evidence.supported
    english = bot.analyse("Who is the interior minister?")
    assert english.cross_lingual and english.language == "en"  # decided once, against the best match
