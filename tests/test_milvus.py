"""The Milvus store (through milvus-lite, a local file speaking the same client
API as a cluster) against the embedded index folder: same hits, same answers,
same incremental counts, and readers that never see half an update."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from qa import Assistant, Settings, build_or_update
from qa.backends import MilvusLocation, parse_location
from qa.backends.milvus import MilvusStore, migrate, update_milvus
from qa.errors import BadSettings, IndexBusy, IndexMismatch
from qa.eval.datasets import load_squad
from qa.indexer import update_index
from qa.loading.folder import LoadResult

ROOT = Path(__file__).resolve().parent.parent
ARCD = ROOT.parent / "shared" / "data" / "arcd" / "arcd-train.json"
SEED_QUESTIONS = ["من هو وزير الداخلية اليمني؟", "مع من التقى وزير الداخلية؟", "ما هي أبرز التحديات الأمنية؟",
                  "What did the minister discuss?", "ما سعر النفط اليوم؟", "الكهرباء في عدن"]


def lite(tmp_path: Path, name: str = "news") -> str:
    return f"milvus-lite://{tmp_path / 'milvus.db'}/{name}"


def hits(bot: Assistant, question: str) -> list[tuple[str, int, float]]:
    return [(h.chunk.doc_id, h.chunk.start, round(h.score, 4)) for h in bot.search(question, 5)]


def test_addresses_are_parsed_or_refused_by_name():
    assert parse_location("milvus://db.example:19530/news") == MilvusLocation("http://db.example:19530", "news")
    assert parse_location("milvus+https://db:443/news").uri == "https://db:443"
    assert parse_location("milvus-lite:///srv/qa/news.db/news") == MilvusLocation("/srv/qa/news.db", "news")
    assert parse_location("index") == Path("index")
    with pytest.raises(BadSettings, match="names no valid collection"):
        parse_location("milvus://db:19530/")
    with pytest.raises(BadSettings, match=r"must end in \.db"):
        parse_location("milvus-lite://news/news")
    with pytest.raises(BadSettings, match="not a Milvus address"):
        parse_location("milvus:/db/news")


def test_same_hits_and_answers_as_the_embedded_index(seeds: Path, tmp_path: Path, fake_settings: Settings):
    build_or_update(seeds, tmp_path / "index", fake_settings)
    build_or_update(seeds, lite(tmp_path), fake_settings)
    emb, mil = Assistant.open(tmp_path / "index", fake_settings), Assistant.open(lite(tmp_path), fake_settings)
    for q in SEED_QUESTIONS:
        assert hits(mil, q) == hits(emb, q), q
        a, b = emb.ask(q), mil.ask(q)
        assert (b.text, b.refused, [c.quote for c in b.citations]) == \
            (a.text, a.refused, [c.quote for c in a.citations])
    terms = emb.analyse("وزير الداخلية اليمني").terms
    every = list(range(len(emb.index.chunks)))
    where = {i: (c.doc_id, c.start) for i, c in mil.index.fetch(every).items()}
    assert where == {c.chunk_id: (c.doc_id, c.start) for c in emb.index.chunks}  # a fresh build: the same ids
    got, want = mil.index.lexical_search(terms, 5), emb.index.lexical_search(terms, 5)
    assert [i for i, _ in got] == [i for i, _ in want] and got
    assert [s for _, s in got] == pytest.approx([s for _, s in want], rel=1e-5)  # Milvus' BM25 = bm25s'
    got, want = mil.index.lexical_scores(terms, every), emb.index.lexical_scores(terms, every)
    assert [got[i] for i in every] == pytest.approx([want[i] for i in every], rel=1e-5)  # the same BM25, here
    assert mil.top_idf == pytest.approx(emb.top_idf)


@pytest.mark.skipif(not ARCD.exists(), reason="ARCD is not beside the project")
def test_an_arcd_slice_gives_the_same_top_hits(tmp_path: Path, fake_settings: Settings):
    articles, questions = load_squad(ARCD)
    articles = articles[:60]
    asked = [q for q in questions if q.doc_id in {a.doc_id for a in articles}][:40]
    from qa.embedding import load_embedder

    embedder = load_embedder("fake")
    update_index(tmp_path / "index", articles, (), embedder, fake_settings)
    ms = MilvusStore.connect(parse_location(lite(tmp_path)))
    update_milvus(ms, lambda: LoadResult(tuple(articles), ()), embedder, fake_settings)
    emb = Assistant.open(tmp_path / "index", fake_settings, embedder=embedder)
    mil = Assistant.open(lite(tmp_path), fake_settings, embedder=embedder)
    same = sum(hits(emb, q.question) == hits(mil, q.question) for q in asked)
    assert same == len(asked)


def test_incremental_counts_match_the_embedded_index(seeds: Path, tmp_path: Path, fake_settings: Settings):
    reports = {}
    for name, where in (("embedded", tmp_path / "index"), ("milvus", lite(tmp_path))):
        docs = tmp_path / f"docs-{name}"
        shutil.copytree(seeds, docs)
        runs = [build_or_update(docs, where, fake_settings)]
        (docs / "new.txt").write_text("خبر جديد\n\nافتتح ميناء جديد في المكلا لاستقبال السفن التجارية.", "utf-8")
        first = sorted(docs.glob("0*.txt"))
        first[0].rename(docs / "renamed.txt")
        runs.append(build_or_update(docs, where, fake_settings))
        (docs / "new.txt").write_text("خبر جديد\n\nافتتح مطار جديد في المكلا.", encoding="utf-8")
        runs.append(build_or_update(docs, where, fake_settings))
        first[1].unlink()
        runs.append(build_or_update(docs, where, fake_settings))
        runs.append(build_or_update(docs, where, fake_settings))
        reports[name] = [(r.added, r.updated, r.renamed, r.removed, r.unchanged, r.chunks, r.embedded_chunks,
                          r.changed) for r in runs]
        bot = Assistant.open(where, fake_settings)
        assert sorted(bot.index.articles) == ["new.txt", "renamed.txt"]
        assert "مطار" in bot.ask("ماذا افتتح في المكلا؟").text
    assert reports["milvus"] == reports["embedded"]
    for q in [*SEED_QUESTIONS, "ماذا افتتح في المكلا؟", "وزير الداخلية"]:  # updated four times: the same scores
        assert hits(Assistant.open(lite(tmp_path), fake_settings), q) == \
            hits(Assistant.open(tmp_path / "index", fake_settings), q), q
    emb, mil = Assistant.open(tmp_path / "index", fake_settings), Assistant.open(lite(tmp_path), fake_settings)
    idf = dict(emb.idf)
    mil.idf.fetch(list(idf))
    assert {t: mil.idf.get(t) for t in idf} == pytest.approx(idf)  # document frequencies kept right by every update
    assert reports["milvus"][1][:5] == (1, 0, 1, 0, 1)  # the renamed article is not embedded again
    assert reports["milvus"][1][6] == 1 and reports["milvus"][-1][-1] is False


def test_a_reader_keeps_its_generation_while_a_writer_publishes(seeds: Path, tmp_path: Path, fake_settings):
    build_or_update(seeds, lite(tmp_path), fake_settings)
    before = Assistant.open(lite(tmp_path), fake_settings)
    question = "ماذا افتتح في المكلا؟"
    (seeds / "new.txt").write_text("خبر جديد\n\nافتتح ميناء جديد في المكلا لاستقبال السفن التجارية.", "utf-8")
    for f in sorted(seeds.glob("0*.txt")):
        f.unlink()
    build_or_update(seeds, lite(tmp_path), fake_settings)
    assert {h.chunk.doc_id for h in before.search(question, 5)} != {"new.txt"}  # the old generation, whole
    assert before.refreshed() is not before
    assert {h.chunk.doc_id for h in before.refreshed().search(question, 5)} == {"new.txt"}


def test_a_writer_killed_midway_leaves_the_published_generation(seeds: Path, tmp_path: Path, fake_settings,
                                                                 monkeypatch: pytest.MonkeyPatch):
    import qa.backends.milvus.update as update

    build_or_update(seeds, lite(tmp_path), fake_settings)
    want = Assistant.open(lite(tmp_path), fake_settings).ask("من هو وزير الداخلية اليمني؟").text
    old = sorted(seeds.glob("0*.txt"))
    old[0].write_text("مقال تغير كله\n\nلا شيء عن الوزير هنا بعد الآن.", encoding="utf-8")
    old[1].rename(seeds / "moved.txt")

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # after articles were retired and before anything was published

    monkeypatch.setattr(update, "embed_passages", killed)
    with pytest.raises(KeyboardInterrupt):
        build_or_update(seeds, lite(tmp_path), fake_settings)
    monkeypatch.undo()
    ms = MilvusStore.connect(parse_location(lite(tmp_path)))
    ms.client.upsert(ms.meta, [{"key": "lease", "slot": [1.0, 0.0], "value": {  # as a killed writer leaves it
        "owner": "pid 4194303", "pid": 4194303, "host": __import__("socket").gethostname(), "until": 2e9}}])
    assert Assistant.open(lite(tmp_path), fake_settings).ask("من هو وزير الداخلية اليمني؟").text == want
    report = build_or_update(seeds, lite(tmp_path), fake_settings)
    assert (report.updated, report.renamed, report.removed, report.unchanged) == (1, 1, 0, 0)
    bot = Assistant.open(lite(tmp_path), fake_settings)
    assert sorted(bot.index.articles) == sorted(p.name for p in seeds.iterdir())
    gen = ms.state()["gen"]
    rows = ms.rows(ms.chunks, "id >= 0", ["gen", "until"])
    assert sum(r["gen"] <= gen < r["until"] for r in rows) == report.chunks
    assert all(r["gen"] <= gen and r["until"] in (gen, 2**62) for r in rows)  # nothing of the killed run is left


def test_a_second_writer_is_refused_while_the_lease_is_held(seeds: Path, tmp_path: Path, fake_settings):
    build_or_update(seeds, lite(tmp_path), fake_settings)
    ms = MilvusStore.connect(parse_location(lite(tmp_path)))
    with ms.writer_lease(), pytest.raises(IndexBusy, match="being written by pid"):
        build_or_update(seeds, lite(tmp_path), fake_settings)
    assert build_or_update(seeds, lite(tmp_path), fake_settings).changed is False


def test_an_index_folder_moves_into_milvus_without_re_embedding(seeds: Path, tmp_path: Path, fake_settings):
    build_or_update(seeds, tmp_path / "index", fake_settings)
    ms = MilvusStore.connect(parse_location(lite(tmp_path)))
    report = migrate(ms, tmp_path / "index", fake_settings)
    assert (report.articles, report.embedded_chunks) == (2, 0)
    emb, mil = Assistant.open(tmp_path / "index", fake_settings), Assistant.open(lite(tmp_path), fake_settings)
    for q in SEED_QUESTIONS:
        assert hits(mil, q) == hits(emb, q) and mil.ask(q).text == emb.ask(q).text
    with pytest.raises(IndexMismatch, match="already holds an index; add --rebuild"):
        migrate(ms, tmp_path / "index", fake_settings)
    assert build_or_update(seeds, lite(tmp_path), fake_settings).changed is False  # the same hashes were copied


def test_a_mismatched_model_is_refused_with_the_fix(seeds: Path, tmp_path: Path, fake_settings):
    build_or_update(seeds, lite(tmp_path), fake_settings)
    with pytest.raises(IndexMismatch, match="--rebuild --model fake-64"):
        build_or_update(seeds, lite(tmp_path), Settings(model="fake-64"))
    with pytest.raises(IndexMismatch, match="--model fake"):
        Assistant.open(lite(tmp_path), Settings(model="fake-64"))


def test_the_vector_index_turns_approximate_above_the_threshold(seeds: Path, tmp_path: Path, fake_settings):
    small = fake_settings.with_(ann_threshold=5)
    build_or_update(seeds, tmp_path / "index", fake_settings)
    build_or_update(seeds, lite(tmp_path), small)
    ms = MilvusStore.connect(parse_location(lite(tmp_path)))
    assert ms.state()["index_type"] == "HNSW"
    emb, mil = Assistant.open(tmp_path / "index", fake_settings), Assistant.open(lite(tmp_path), small)
    for q in SEED_QUESTIONS:  # 12 chunks: HNSW finds them all
        assert hits(mil, q) == hits(emb, q)


def test_the_embedded_path_imports_neither_milvus_nor_ray(seeds: Path, tmp_path: Path):
    import subprocess
    import sys

    code = ("import sys; from qa import Assistant, Settings, build_or_update; "
            f"build_or_update({str(seeds)!r}, {str(tmp_path / 'index')!r}, Settings(model='fake')); "
            f"Assistant.open({str(tmp_path / 'index')!r}).ask('من هو وزير الداخلية؟'); "
            "print(sorted(m for m in ('pymilvus', 'ray', 'milvus_lite') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_the_command_line_never_builds_into_a_milvus_it_cannot_find(tmp_path: Path, capsys):
    from qa.cli import main

    assert main(["ask", "من؟", "--index", lite(tmp_path, "typo"), "--model", "fake"]) == 2
    assert "no index in milvus-lite://" in capsys.readouterr().err  # nothing was written there
    assert MilvusStore.connect(parse_location(lite(tmp_path, "typo"))).state() is None
    assert main(["index", "--ray-address", "10.0.0.5:6379", "--store", lite(tmp_path)]) == 2
    assert "--ray-address is for --engine ray" in capsys.readouterr().err


class FlakyRay:
    """Ray whose local head times out the first time, as it did about one start in ten
    when forked from a process already running a Milvus client and a model."""

    def __init__(self, failures: int) -> None:
        self.failures, self.calls, self.shutdowns, self.started = failures, 0, 0, []

    def init(self, **kwargs) -> None:
        import subprocess

        self.calls += 1
        if self.calls <= self.failures:
            self.started.append(subprocess.Popen(["sleep", "60"]))  # a head process that never came up
            raise RuntimeError("Timed out waiting for file .../gcs_server_port_abc")

    def shutdown(self) -> None:
        self.shutdowns += 1


def test_a_local_ray_head_that_does_not_come_up_is_started_once_more():
    from qa.ray_engine import _init

    ray = FlakyRay(failures=1)
    _init(ray, None)
    assert (ray.calls, ray.shutdowns) == (2, 1)
    assert ray.started[0].wait(timeout=5) == -9  # the failed start's process does not live on beside the new head
    with pytest.raises(RuntimeError, match="Timed out"):
        _init(FlakyRay(failures=2), None)  # twice is an error, not a loop
    with pytest.raises(RuntimeError):
        _init(FlakyRay(failures=1), "10.0.0.5:6379")  # a cluster's address is not ours to restart


def test_a_closed_milvus_lite_file_opens_in_another_process(seeds: Path, tmp_path: Path, fake_settings: Settings):
    import subprocess
    import sys

    build_or_update(seeds, lite(tmp_path), fake_settings)
    ask = [str(Path(sys.executable).parent / "qa"), "ask", "من هو وزير الداخلية اليمني؟",
           "--index", lite(tmp_path), "--model", "fake"]
    held = subprocess.run(ask, capture_output=True, text=True)
    assert held.returncode == 2 and "open in another process" in held.stderr and "Traceback" not in held.stderr
    MilvusStore.connect(parse_location(lite(tmp_path))).close()  # held by this process's milvus-lite until now
    freed = subprocess.run(ask, capture_output=True, text=True)
    assert freed.returncode == 0 and "حيدان" in freed.stdout, freed.stderr[-2000:]
