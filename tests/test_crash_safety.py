"""Killing `qa index` at any moment leaves the previous index loadable and
consistent: a subprocess is SIGKILLed at several points of an update."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qa import store
from qa.assistant import Assistant, build_or_update

WORDS = ("التعاون الأمني بين اليمن والولايات المتحدة مكافحة الإرهاب وزارة الداخلية التدريب التأهيل "
         "التحول الرقمي الملاحة الدولية الشراكة الاستراتيجية الأجهزة الأمنية تبادل المعلومات").split()


def write_corpus(docs: Path, n: int, tag: str) -> None:
    docs.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        body = " ".join(WORDS[(i * 7 + j) % len(WORDS)] for j in range(120))
        (docs / f"{tag}{i:04d}.txt").write_text(f"خبر {tag} رقم {i}\n\n{body} {tag}{i}.\n\n{body}", encoding="utf-8")


@pytest.mark.parametrize("delay", [0.3, 1.2, 1.8, 2.2, 3.0])
def test_killed_indexer_leaves_a_loadable_index(tmp_path: Path, delay: float):
    docs, index = tmp_path / "docs", tmp_path / "index"
    write_corpus(docs, 40, "old")
    from qa.settings import Settings

    build_or_update(docs, index, Settings(model="fake"))
    write_corpus(docs, 400, "new")
    proc = subprocess.Popen([sys.executable, "-m", "qa.cli", "index", "--docs", str(docs), "--index", str(index),
                             "--model", "fake", "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    idx = store.load(index)  # raises if inconsistent
    n = len(idx.articles)
    assert n in (40, 440)
    assert len(idx.chunks) == idx.lexical.size
    # killed while embedding: the keyword-only version may be live, its new chunks pending
    assert idx.vectors.size == len(idx.chunks) - len(idx.pending_chunk_ids())
    bot = Assistant.open(index)
    found = {h.chunk.doc_id for h in bot.search("new7", 5, mode="lexical")}
    assert ("new0007.txt" in found) == (n == 440)
    # and the next run finishes the job
    report = build_or_update(docs, index, Settings(model="fake"))
    assert report.articles == 440
    final = store.load(index)
    assert final.manifest.pending == [] and final.vectors.size == len(final.chunks)
    assert not any(p.name.startswith(".writing-") for p in (index / "versions").iterdir())
    print(f"killed after {delay}s: index had {n} articles, {len(idx.manifest.pending)} pending")
