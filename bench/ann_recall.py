"""Recall@10 of the approximate (IVF) vector index against exact search, and
per-query search time of both, on the vectors of a built index.

    .venv/bin/python bench/ann_recall.py INDEX_DIR [--nprobe 8 16 32 64] [--queries 500]

Queries are the article titles of the index, embedded as questions with the
index's own model (realistic queries, not stored vectors).
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np

from qa import quiet_libraries, store
from qa.embedding import load_embedder
from qa.vector import VectorIndex


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("index", type=Path)
    p.add_argument("--nprobe", type=int, nargs="*", default=[8, 16, 32, 64])
    p.add_argument("--queries", type=int, default=300)
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    quiet_libraries()
    idx = store.load(args.index)
    n = idx.vectors.size
    vectors = idx.vectors.vectors(np.arange(n))
    embedder = load_embedder(idx.manifest.embedder)
    rng = np.random.default_rng(0)
    titles = [a.title for a in idx.articles.values()]
    picked = [titles[i] for i in rng.choice(len(titles), size=min(args.queries, len(titles)), replace=False)]
    queries = np.stack([embedder.embed_query(t) for t in picked])
    exact = VectorIndex.build(vectors)
    t0 = time.perf_counter()
    truth = [{i for i, _ in exact.search(q, 10)} for q in queries]
    exact_ms = (time.perf_counter() - t0) * 1000 / len(queries)
    t0 = time.perf_counter()
    ivf = VectorIndex.build(vectors, approximate_above=0)
    build_s = time.perf_counter() - t0
    print(f"{n} vectors, {len(queries)} queries; exact search {exact_ms:.2f} ms/query; IVF build {build_s:.1f} s")
    print("| nprobe | recall@10 | ms/query |")
    print("|---|---|---|")
    for nprobe in args.nprobe:
        ivf._index.nprobe = nprobe
        t0 = time.perf_counter()
        got = [{i for i, _ in ivf.search(q, 10)} for q in queries]
        ms = (time.perf_counter() - t0) * 1000 / len(queries)
        recall = float(np.mean([len(g & t) / 10 for g, t in zip(got, truth, strict=True)]))
        print(f"| {nprobe} | {recall:.3f} | {ms:.2f} |")


if __name__ == "__main__":
    main()
