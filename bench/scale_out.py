"""Scaling out, measured on one SaudiNewsNet slice in one run: indexing with
Ray against the single-process path, and questions answered from Milvus
(milvus-lite) against the embedded index.

    .venv/bin/python bench/scale_out.py PATH/TO/saudinewsnet --articles 600

Indexing runs one after another on fresh indexes (the machine otherwise idle):
single process -> index folder; Ray (started on this machine: one actor
using every core) -> index folder; single process -> Milvus; Ray -> Milvus. Then the same questions
(the bench's news questions and the slice's first titles) are asked of the
index folder, of Milvus with exact search (FLAT), and of Milvus with HNSW
(the folder copied in with --from-index): latency p50/p95 and how many top-5
hit lists and answers are identical. The data is read by path; nothing is
copied into the project.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from news import QUESTIONS, first_day

from qa import Assistant, Settings, build_or_update, quiet_libraries
from qa.backends import parse_location
from qa.backends.milvus import MilvusStore, migrate


def timed_ms(fn, *args) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn(*args)
    return (time.perf_counter() - t) * 1000, out


def pct(xs: list[float], q: float) -> float:
    return round(float(np.percentile(xs, q)), 1)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data", type=Path, help="folder of SaudiNewsNet YYYY-MM-DD.zip files")
    p.add_argument("--articles", type=int, default=600, help="the first N records of the first day")
    p.add_argument("--titles", type=int, default=40, help="also ask the first N titles of the slice")
    p.add_argument("--json", type=Path, help="also write the results here")
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    quiet_libraries()
    day, records = first_day(args.data, args.articles)
    print(f"$ python bench/scale_out.py {args.data.name} --articles {args.articles} --titles {args.titles}")
    settings = Settings()
    out: dict[str, object] = {"articles": len(records)}
    with tempfile.TemporaryDirectory(prefix="qa-scale-") as tmp:
        docs = Path(tmp) / "docs"
        docs.mkdir()
        (docs / f"{day}.json").write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
        print("\n| indexing | store | chunks | seconds | chunks/s | × single process |")
        print("|---|---|---|---|---|---|")
        runs = [("single process", "folder", Path(tmp) / "index", "local"),
                ("Ray (local)", "folder", Path(tmp) / "index-ray", "ray"),
                ("single process", "milvus-lite", f"milvus-lite://{tmp}/m.db/local", "local"),
                ("Ray (local)", "milvus-lite", f"milvus-lite://{tmp}/m.db/ray", "ray")]
        base = None
        for engine_name, store_name, where, engine in runs:
            t0 = time.perf_counter()
            report = build_or_update(docs, where, settings, engine=engine)
            secs = time.perf_counter() - t0
            base = base or secs
            rate = report.embedded_chunks / secs
            out[f"index_{engine}_{store_name}"] = {"seconds": round(secs, 1), "chunks_per_s": round(rate, 1)}
            print(f"| {engine_name} | {store_name} | {report.chunks} | {secs:.1f} | {rate:.1f} | "
                  f"{base / secs:.2f} |", flush=True)
        hnsw = f"milvus-lite://{tmp}/m.db/hnsw"
        migrate(MilvusStore.connect(parse_location(hnsw)), Path(tmp) / "index", settings.with_(milvus_index="HNSW"))
        folder = Assistant.open(Path(tmp) / "index", settings)
        bots = {"folder": folder,
                "milvus FLAT": Assistant.open(runs[2][2], settings, embedder=folder.embedder, reader=folder.reader),
                "milvus HNSW": Assistant.open(hnsw, settings, embedder=folder.embedder, reader=folder.reader)}
        questions = QUESTIONS + [r["title"].strip() for r in records[: args.titles] if r.get("title", "").strip()]
        for bot in bots.values():  # warm
            bot.ask(questions[0])
        print(f"\n| store | ask p50 ms | ask p95 ms | search p50 ms | search p95 ms | same top-5 | same answer "
              f"({len(questions)} questions) |")
        print("|---|---|---|---|---|---|---|")
        ref = {q: ([(h.chunk.doc_id, h.chunk.start) for h in folder.search(q, 5)], folder.ask(q).text)
               for q in questions}
        for name, bot in bots.items():
            ask, search, same_hits, same_answer = [], [], 0, 0
            for q in questions:
                ms, hits = timed_ms(bot.search, q)
                search.append(ms)
                ms, answer = timed_ms(bot.ask, q)
                ask.append(ms)
                same_hits += [(h.chunk.doc_id, h.chunk.start) for h in hits] == ref[q][0]
                same_answer += answer.text == ref[q][1]
            out[f"query_{name}"] = {"ask_p50": statistics.median(ask), "ask_p95": pct(ask, 95),
                                    "search_p50": statistics.median(search), "search_p95": pct(search, 95),
                                    "same_top5": same_hits, "same_answer": same_answer, "questions": len(questions)}
            print(f"| {name} | {statistics.median(ask):.1f} | {pct(ask, 95)} | {statistics.median(search):.1f} | "
                  f"{pct(search, 95)} | {same_hits} | {same_answer} |", flush=True)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
