"""News-scale benchmark on SaudiNewsNet: days "arrive" one at a time.

Each day's zip is unpacked into a docs folder and `qa index` runs
incrementally; the script prints, per day, the articles and chunks added,
total seconds, seconds spent embedding and chunks/s, and at the end query
latency p50/p95 for search and ask, peak memory and index size on disk.

    .venv/bin/python bench/news_scale.py PATH/TO/saudinewsnet --days 2
    .venv/bin/python bench/news_scale.py PATH/TO/saudinewsnet            # all 18 day files (hours)

The data is read by path and unpacked into a temporary folder; nothing is
copied into the project.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import shutil
import statistics
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
from news import QUESTIONS

from qa import quiet_libraries, store
from qa.assistant import Assistant, build_or_update
from qa.embedding import load_embedder
from qa.settings import Settings


class Timer:
    """Counts the time spent inside the embedder (the bottleneck)."""

    def __init__(self, embedder) -> None:
        self.embedder, self.seconds, self.chunks = embedder, 0.0, 0
        self.model_id, self.dimension = embedder.model_id, embedder.dimension

    def embed_documents(self, texts, progress=None):
        t0 = time.perf_counter()
        out = self.embedder.embed_documents(texts, progress)
        self.seconds += time.perf_counter() - t0
        self.chunks += len(texts)
        return out

    def embed_query(self, text):
        return self.embedder.embed_query(text)

    def __getattr__(self, name):  # runtime, slice_size, ... as the embedder's
        if name == "embedder":  # not set yet (a copy being made)
            raise AttributeError(name)
        return getattr(self.embedder, name)


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data", type=Path, help="folder of SaudiNewsNet YYYY-MM-DD.zip files")
    p.add_argument("--days", type=int, default=None, help="only the first N days")
    p.add_argument("--model", default=Settings().model)
    p.add_argument("--json", type=Path, help="also write the results here")
    p.add_argument("--keep", type=Path, help="build the index in this folder and keep it (e.g. for ann_recall.py)")
    p.add_argument("--resume", action="store_true",
                   help="with --keep: the days already in that index are unpacked and checked (nothing to "
                        "embed) without being reported, then the run continues with the next day")
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    quiet_libraries()
    zips = sorted(args.data.glob("*.zip"))[: args.days]
    if not zips:
        raise SystemExit(f"no .zip day files in {args.data}")
    settings = Settings(model=args.model)
    embedder = Timer(load_embedder(settings.model))
    rows = []
    with tempfile.TemporaryDirectory(prefix="qa-news-") as tmp:
        docs, index = Path(tmp) / "docs", args.keep or Path(tmp) / "index"
        docs.mkdir()
        print("| day | articles | +chunks | seconds | embedding s | chunks/s | overhead × | keyword-ready s |")
        print("|---|---|---|---|---|---|---|---|")
        if args.resume and args.keep and (args.keep / "CURRENT").exists():
            done = {a.split(".json#")[0] for a in store.read_manifest(args.keep).articles}
            for z in [z for z in zips if f"{z.stem}" in done]:
                with zipfile.ZipFile(z) as zf:
                    zf.extractall(docs)
            check = build_or_update(docs, index, settings, embedder=embedder)
            print(f"resumed: {check.articles} articles already indexed, {check.embedded_chunks} chunks re-embedded",
                  flush=True)
            zips = [z for z in zips if z.stem not in done]
        for z in zips:
            with zipfile.ZipFile(z) as zf:
                zf.extractall(docs)
            e0, c0, t0 = embedder.seconds, embedder.chunks, time.perf_counter()
            report = build_or_update(docs, index, settings, embedder=embedder)
            total = time.perf_counter() - t0
            emb, n = embedder.seconds - e0, embedder.chunks - c0
            row = {"day": z.stem, "articles": report.articles, "chunks": report.chunks, "new_chunks": n,
                   "seconds": round(total, 1), "embedding_seconds": round(emb, 1),
                   "chunks_per_s": round(n / emb, 1) if emb else None,
                   "overhead": round(total / emb, 2) if emb else None,
                   "lexical_ready_seconds": (round(report.lexical_ready_seconds, 1)
                                             if report.lexical_ready_seconds is not None else None)}
            rows.append(row)
            print(f"| {z.stem} | {report.articles} | {n} | {total:.1f} | {emb:.1f} | {row['chunks_per_s']} | "
                  f"{row['overhead']} | {row['lexical_ready_seconds']} |", flush=True)
        t0 = time.perf_counter()
        bot = Assistant.open(index, settings, embedder=embedder)
        open_s = time.perf_counter() - t0
        lat: dict[str, list[float]] = {"search": [], "ask": []}
        for _ in range(2):
            for q in QUESTIONS:
                t = time.perf_counter()
                bot.search(q)
                lat["search"].append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                bot.ask(q)
                lat["ask"].append((time.perf_counter() - t) * 1000)
        summary = {
            "days": len(zips), "articles": rows[-1]["articles"], "chunks": rows[-1]["chunks"],
            "open_seconds": round(open_s, 2),
            "search_p50_ms": round(statistics.median(lat["search"]), 1),
            "search_p95_ms": round(float(np.percentile(lat["search"], 95)), 1),
            "ask_p50_ms": round(statistics.median(lat["ask"]), 1),
            "ask_p95_ms": round(float(np.percentile(lat["ask"], 95)), 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "index_mb": round(folder_size(index) / 1e6, 1),
        }
        print()
        for k, v in summary.items():
            print(f"{k}: {v}")
        if args.json:
            args.json.write_text(json.dumps({"days": rows, "summary": summary}, indent=1), encoding="utf-8")
        shutil.rmtree(docs, ignore_errors=True)


if __name__ == "__main__":
    main()
