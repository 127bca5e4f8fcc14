"""Random kills and concurrent readers against the index writer.

Part 1 (kills): a folder of generated articles grows and shrinks by random
changes; each `qa index` run is killed with SIGKILL after a random delay
within the time a run takes. After every kill the index must load, and after
the last one a normal run must leave exactly what a clean build of the same
folder holds (the same articles and chunks).

Part 2 (readers): threads ask questions through one `Assistant` per thread
(re-opened after each update) while a writer adds and removes articles; it
counts errors and quotes that are not the article's text at their offsets.

    .venv/bin/python bench/kill_storm.py --kills 30 --seconds 60

The test embedder ("fake") is used so that a run is short and kills land in
every phase of it (loading, embedding, writing, switching, cleaning up).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from qa import Assistant, Settings, build_or_update, store

WORDS = ("التعاون الأمني بين اليمن والولايات المتحدة مكافحة الإرهاب وزارة الداخلية التدريب التأهيل التحول "
         "الرقمي الملاحة الدولية الشراكة الاستراتيجية الأجهزة الأمنية تبادل المعلومات الميناء الكهرباء").split()
FAKE = Settings(model="fake", lexical_first_min=64)


def article(rng: random.Random, n: int) -> str:
    body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(80, 400)))
    return f"خبر رقم {n}\n\n{body} رقم{n}.\n\n{body}"


def mutate(docs: Path, rng: random.Random, counter: list[int]) -> None:
    """Add, change, rename and delete a few articles."""
    files = sorted(docs.glob("*.txt"))
    for _ in range(rng.randint(20, 120)):
        counter[0] += 1
        (docs / f"a{counter[0]:05d}.txt").write_text(article(rng, counter[0]), encoding="utf-8")
    for path in rng.sample(files, min(len(files), rng.randint(0, 15))):
        action = rng.choice(["change", "rename", "delete"])
        if action == "change":
            path.write_text(article(rng, rng.randint(0, 10**6)), encoding="utf-8")
        elif action == "rename":
            path.rename(path.with_name(f"r{rng.randint(0, 10**9)}.txt"))
        else:
            path.unlink()


def index_cmd(docs: Path, index: Path) -> list[str]:
    return [sys.executable, "-m", "qa.cli", "index", "--docs", str(docs), "--index", str(index), "--model", "fake",
            "-q", "--wait"]


def content(index: Path) -> tuple[dict[str, str], list[tuple[str, int, int]]]:
    idx = store.load(index)
    return dict(idx.manifest.articles), sorted((c.doc_id, c.start, c.end) for c in idx.chunks)


def kills(root: Path, n: int, rng: random.Random) -> None:
    docs, index = root / "docs", root / "index"
    docs.mkdir()
    counter = [0]
    mutate(docs, rng, counter)
    build_or_update(docs, index, FAKE)
    t0 = time.perf_counter()
    mutate(docs, rng, counter)
    subprocess.run(index_cmd(docs, index), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run_seconds = time.perf_counter() - t0
    loadable = switched = 0
    for _ in range(n):
        mutate(docs, rng, counter)
        before = store.current_version(index)
        proc = subprocess.Popen(index_cmd(docs, index), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0, 2 * run_seconds))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        Assistant.open(index, FAKE).search("الميناء", 3)  # loads and answers, or raises
        loadable += 1
        switched += store.current_version(index) != before
    subprocess.run(index_cmd(docs, index), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    build_or_update(docs, root / "clean", FAKE)
    same = content(index) == content(root / "clean")
    print(f"kills: {n} random SIGKILLs (0 to {2 * run_seconds:.1f} s into a run; {switched} after the run had "
          f"published a version): {loadable} left a loadable index; "
          f"after the next run the index {'equals' if same else 'DIFFERS FROM'} a clean build "
          f"({len(content(index)[0])} articles)")


def readers(root: Path, seconds: float, rng: random.Random, threads: int = 8) -> None:
    docs, index = root / "docs2", root / "index2"
    docs.mkdir()
    counter = [0]
    mutate(docs, rng, counter)
    build_or_update(docs, index, FAKE)
    stop = time.monotonic() + seconds
    asked, errors, bad_quotes = [0], [], [0]
    lock = threading.Lock()

    def reader(seed: int) -> None:
        local = random.Random(seed)
        while time.monotonic() < stop:
            try:
                bot = Assistant.open(index, FAKE)
                for _ in range(20):
                    answer = bot.ask(f"ما أخبار {local.choice(WORDS)} {local.choice(WORDS)}؟")
                    for c in answer.citations:
                        if bot.index.articles[c.doc_id].text[c.start:c.end] != c.quote:
                            with lock:
                                bad_quotes[0] += 1
                    with lock:
                        asked[0] += 1
            except Exception as exc:  # counted and shown, not hidden
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")

    pool = [threading.Thread(target=reader, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    updates = 0
    while time.monotonic() < stop:
        mutate(docs, rng, counter)
        build_or_update(docs, index, FAKE, wait=True)
        updates += 1
    for t in pool:
        t.join()
    print(f"readers: {threads} threads asked {asked[0]} questions during {updates} updates in {seconds:.0f} s: "
          f"{len(errors)} errors, {bad_quotes[0]} quotes not at their offsets")
    for e in errors[:5]:
        print("  ", e)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kills", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=60.0, help="how long readers ask while the writer writes")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    os.environ.pop("QA_FAIL_AT", None)
    with tempfile.TemporaryDirectory() as tmp:
        print(f"$ python bench/kill_storm.py --kills {args.kills} --seconds {args.seconds:g} --seed {args.seed}")
        kills(Path(tmp), args.kills, rng)
        readers(Path(tmp), args.seconds, rng)


if __name__ == "__main__":
    main()
