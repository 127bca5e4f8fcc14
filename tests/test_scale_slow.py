"""Beyond one machine, on this one: the real default model, indexing through
Ray (local) into Milvus (milvus-lite), against the embedded single-process path.
Marked slow: Ray starts its processes and every actor loads the model."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qa import Assistant, Settings, build_or_update
from qa.backends import parse_location
from qa.backends.milvus import MilvusStore
from qa.eval.datasets import load_squad

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
ARCD = ROOT.parent / "shared" / "data" / "arcd" / "arcd-train.json"


def arcd_folder(folder: Path, n: int) -> list:
    """The first n ARCD paragraphs as text files, and their questions."""
    articles, questions = load_squad(ARCD)
    folder.mkdir()
    for a in articles[:n]:
        (folder / f"{a.doc_id}.txt").write_text(f"{a.title}\n\n{a.text}", encoding="utf-8")
    return [q for q in questions if q.doc_id in {a.doc_id for a in articles[:n]}]


@pytest.mark.skipif(not ARCD.exists(), reason="ARCD is not beside the project")
def test_ray_into_milvus_answers_as_the_embedded_index(seeds: Path, tmp_path: Path):
    docs = tmp_path / "arcd"
    questions = arcd_folder(docs, 40)
    for f in seeds.iterdir():
        shutil.copy(f, docs / f.name)
    s = Settings()
    milvus = f"milvus-lite://{tmp_path / 'm.db'}/news"
    ray_report = build_or_update(docs, milvus, s, engine="ray")
    local_report = build_or_update(docs, tmp_path / "index", s)
    assert (ray_report.articles, ray_report.chunks, ray_report.embedded_chunks) == \
        (local_report.articles, local_report.chunks, local_report.embedded_chunks) == (42, 79, 79)
    emb = Assistant.open(tmp_path / "index", s)
    mil = Assistant.open(milvus, s, embedder=emb.embedder, reader=emb.reader)
    asked = ["من هو وزير الداخلية اليمني؟", *(q.question for q in questions[:60])]
    same_top = same_answer = 0
    for q in asked:
        a, b = emb.search(q, 5), mil.search(q, 5)
        same_top += [(h.chunk.doc_id, h.chunk.start) for h in a] == [(h.chunk.doc_id, h.chunk.start) for h in b]
        same_answer += emb.ask(q).text == mil.ask(q).text
    assert same_top == same_answer == len(asked)
    assert "إبراهيم حيدان" in mil.ask("من هو وزير الداخلية اليمني؟").text


@pytest.mark.skipif(not ARCD.exists(), reason="ARCD is not beside the project")
def test_a_killed_ray_run_leaves_milvus_consistent_with_the_folder(tmp_path: Path):
    docs = tmp_path / "arcd"
    arcd_folder(docs, 231)
    milvus = f"milvus-lite://{tmp_path / 'm.db'}/news"
    cmd = [str(Path(sys.executable).parent / "qa"), "index", "--engine", "ray", "--docs", str(docs), "--store", milvus]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                            env=dict(os.environ, PYTHONUNBUFFERED="1"))
    seen = b""
    deadline = time.monotonic() + 240
    while b"embedding" not in seen and time.monotonic() < deadline:  # the progress bar has started
        seen += proc.stderr.read1(4096) or b""
        if proc.poll() is not None:
            break
    time.sleep(3)
    if proc.poll() is not None:
        seen += proc.stderr.read()
    assert proc.poll() is None, f"the run ended before it could be killed: {seen.decode(errors='replace')[-3000:]}"
    os.killpg(proc.pid, signal.SIGKILL)  # the whole job: the driver, Ray and milvus-lite
    proc.wait()
    ms = MilvusStore.connect(parse_location(milvus))
    assert ms.state() is None  # nothing was published
    ms.close()
    rerun = subprocess.run([*cmd, "--json"], capture_output=True, text=True, timeout=600)  # as the user would
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    report = json.loads(rerun.stdout)
    assert (report["added"], report["articles"]) == (231, 231)
    ms = MilvusStore.connect(parse_location(milvus))
    gen = ms.state()["gen"]
    visible = ms.rows(ms.chunks, f"gen <= {gen} and until > {gen}", ["doc_id"])
    assert len(visible) == report["chunks"] and {r["doc_id"] for r in visible} == {p.name for p in docs.iterdir()}
    assert len(ms.rows(ms.chunks, "id >= 0", ["id"])) == report["chunks"]  # the killed run's rows are gone
