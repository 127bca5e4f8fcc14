"""Our pipeline against the one a LangChain user writes by default, on the
same SaudiNewsNet slice and the same model folder: indexing throughput,
question latency and peak memory, each pipeline in its own process.

The LangChain pipeline is the tutorial's: `RecursiveCharacterTextSplitter`
(chunk_size 1000, chunk_overlap 200), `HuggingFaceEmbeddings` on the model
folder (sentence-transformers with its defaults: torch fp32, no e5 prompts),
and `FAISS.from_documents` (an exact `IndexFlatL2`), then
`similarity_search(question, k=5)`. langchain-community, where that FAISS
store lives, is not installed here (it is sunset, and its FAISS store loads
pickles); the same calls are made directly: sentence-transformers' `encode`
is what `HuggingFaceEmbeddings` calls, and `IndexFlatL2.add` / `search` is
what `FAISS.from_documents` / `similarity_search` do.

    .venv/bin/python bench/langchain_baseline.py PATH/TO/saudinewsnet --articles 300
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from news import QUESTIONS, first_day


def ours(slice_file: Path, questions: list[str]) -> dict:
    from qa import Assistant, Settings, build_or_update

    with tempfile.TemporaryDirectory() as tmp:
        docs = Path(tmp) / "docs"
        docs.mkdir()
        (docs / "slice.json").write_text(slice_file.read_text(encoding="utf-8"), encoding="utf-8")
        t0 = time.perf_counter()
        report = build_or_update(docs, Path(tmp) / "index", Settings())
        seconds = time.perf_counter() - t0
        bot = Assistant.open(Path(tmp) / "index")
        bot.search(questions[0])
        search = [timed(bot.search, q) for q in questions]
        ask = [timed(bot.ask, q) for q in questions]
    return {"chunks": report.chunks, "index_s": seconds, "search_ms": search, "ask_ms": ask}


def langchain(slice_file: Path, questions: list[str]) -> dict:
    import faiss
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter
    from sentence_transformers import SentenceTransformer

    from qa.e5convert import ensure_converted

    t0 = time.perf_counter()
    records = json.loads(slice_file.read_text(encoding="utf-8"))
    docs = [Document(page_content=f"{r.get('title') or ''}\n\n{r.get('content') or ''}",
                     metadata={"url": r.get("url")}) for r in records]
    splits = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents(docs)
    model = SentenceTransformer(str(ensure_converted()), device="cpu")
    vectors = np.asarray(model.encode([d.page_content for d in splits], show_progress_bar=False), np.float32)
    index = faiss.IndexFlatL2(vectors.shape[1])
    index.add(vectors)
    seconds = time.perf_counter() - t0

    def similarity_search(q: str) -> list[Document]:
        _, ids = index.search(np.asarray(model.encode([q]), np.float32), 5)
        return [splits[i] for i in ids[0]]

    similarity_search(questions[0])
    search = [timed(similarity_search, q) for q in questions]
    return {"chunks": len(splits), "index_s": seconds, "search_ms": search, "ask_ms": None}


def timed(fn, *args) -> float:
    t = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - t) * 1000


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data", type=Path, help="folder of SaudiNewsNet YYYY-MM-DD.zip files")
    p.add_argument("--articles", type=int, default=300, help="the first N records of the first day")
    p.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        slice_file = Path(args.child[1])
        questions = json.loads((slice_file.parent / "questions.json").read_text(encoding="utf-8"))
        out = (ours if args.child[0] == "ours" else langchain)(slice_file, questions)
        out["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
        print(json.dumps(out))
        return
    _, records = first_day(args.data, args.articles)
    print(f"$ python bench/langchain_baseline.py {args.data.name} --articles {args.articles}")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        slice_file = Path(tmp) / "slice.json"
        slice_file.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
        questions = QUESTIONS + [r["title"].strip() for r in records[:28] if (r.get("title") or "").strip()]
        (Path(tmp) / "questions.json").write_text(json.dumps(questions, ensure_ascii=False), encoding="utf-8")
        for name in ("langchain", "ours"):
            proc = subprocess.run([sys.executable, __file__, str(args.data), "--child", name, str(slice_file)],
                                  capture_output=True, text=True, check=True)
            results[name] = json.loads(proc.stdout.strip().splitlines()[-1])
    lc = results["langchain"]
    print(f"\n{len(records)} articles, {len(questions)} questions\n")
    print("| pipeline | chunks | indexing s | articles/s | search p50 / p95 ms | ask p50 / p95 ms | peak RSS GB |")
    print("|---|---|---|---|---|---|---|")
    for name, r in (("LangChain default", lc), ("this project", results["ours"])):
        ask = (f"{statistics.median(r['ask_ms']):.0f} / {np.percentile(r['ask_ms'], 95):.0f}"
               if r["ask_ms"] else "none (no answer step)")
        print(f"| {name} | {r['chunks']} | {r['index_s']:.1f} | {len(records) / r['index_s']:.2f} | "
              f"{statistics.median(r['search_ms']):.0f} / {np.percentile(r['search_ms'], 95):.0f} | {ask} | "
              f"{r['peak_rss_gb']:.2f} |")
    o = results["ours"]
    print(f"\nratios, this project / LangChain default: indexing throughput {lc['index_s'] / o['index_s']:.2f}x, "
          f"search p50 {statistics.median(o['search_ms']) / statistics.median(lc['search_ms']):.2f}x, "
          f"peak memory {o['peak_rss_gb'] / lc['peak_rss_gb']:.2f}x")


if __name__ == "__main__":
    main()
