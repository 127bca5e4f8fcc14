"""Killing `qa index` at any point leaves the previous index loadable and
consistent, and the next run finishes the job. Each crash point of the writer
is hit deterministically (qa.faults: QA_FAIL_AT makes the process die there as
a SIGKILL would); the exit code proves the point was reached."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from qa import store
from qa.assistant import Assistant, build_or_update
from qa.faults import FAULT_EXIT, POINTS
from qa.settings import Settings

WORDS = ("التعاون الأمني بين اليمن والولايات المتحدة مكافحة الإرهاب وزارة الداخلية التدريب التأهيل "
         "التحول الرقمي الملاحة الدولية الشراكة الاستراتيجية الأجهزة الأمنية تبادل المعلومات").split()
FAKE = Settings(model="fake")


def write_corpus(docs: Path, n: int, tag: str) -> None:
    docs.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        body = " ".join(WORDS[(i * 7 + j) % len(WORDS)] for j in range(120))
        (docs / f"{tag}{i:04d}.txt").write_text(f"خبر {tag} رقم {i}\n\n{body} {tag}{i}.\n\n{body}", encoding="utf-8")


# crash point -> what is live afterwards: "old" (40 articles), or "keyword-only" (440, the
# new ones pending). An update of 400 articles writes a keyword-only version first, then the
# full one, so each write point is passed twice; "#2" names its passage in the full write.
EXPECTED = {
    "write:files": "old", "write:before-switch": "old", "write:before-cleanup": "keyword-only",
    "index:keyword-only-written": "keyword-only", "index:embedding": "keyword-only",
    "write:files#2": "keyword-only", "write:before-switch#2": "keyword-only",
}


def test_every_crash_point_is_covered():
    assert {p.partition("#")[0] for p in EXPECTED} == set(POINTS)


# two points (one of each outcome) run by default; the other five in the slow suite (CI)
DEFAULT_POINTS = ("write:before-switch", "index:embedding")


@pytest.mark.parametrize("point", [p if p in DEFAULT_POINTS else pytest.param(p, marks=pytest.mark.slow)
                                   for p in EXPECTED])
def test_killed_indexer_leaves_a_loadable_index(tmp_path: Path, point: str):
    docs, index = tmp_path / "docs", tmp_path / "index"
    write_corpus(docs, 40, "old")
    build_or_update(docs, index, FAKE)
    write_corpus(docs, 400, "new")
    proc = subprocess.run([sys.executable, "-m", "qa.cli", "index", "--docs", str(docs), "--index", str(index),
                           "--model", "fake", "-q"], env=dict(os.environ, QA_FAIL_AT=point),
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
    assert proc.returncode == FAULT_EXIT, proc.stderr.decode()  # died at the point, not before or after
    idx = store.load(index)  # raises if inconsistent
    assert len(idx.chunks) == idx.lexical.size
    assert idx.vectors.size == len(idx.chunks) - len(idx.pending_chunk_ids())
    found = {h.chunk.doc_id for h in Assistant.open(index).search("new7", 5, mode="lexical")}
    if EXPECTED[point] == "old":
        assert len(idx.articles) == 40 and not idx.manifest.pending and "new0007.txt" not in found
    else:
        assert len(idx.articles) == 440 and len(idx.manifest.pending) == 400 and "new0007.txt" in found
    report = build_or_update(docs, index, FAKE)  # the next run finishes the job
    assert report.articles == 440
    assert (report.added, report.updated, report.removed, report.unchanged) == (400, 0, 0, 40)  # what really changed
    new_chunks = sum(1 for c in store.load(index).chunks if c.doc_id.startswith("new"))
    assert report.embedded_chunks + report.resumed_chunks == new_chunks
    if point == "index:embedding":  # killed after its first slice: that slice is not embedded again
        assert report.resumed_chunks == 256
    final = store.load(index)
    assert final.manifest.pending == [] and final.vectors.size == len(final.chunks)
    assert not any(p.name.startswith(".writing-") for p in (index / "versions").iterdir())
    assert not list(index.glob(".CURRENT.*")) and not (index / "embedding").exists()
