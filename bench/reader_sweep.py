"""Re-ranking by the reader, measured: ARCD questions of the articles the
reader never saw (every 5th, as `bench/train_reader.py` holds out), every
paragraph indexed, for each reader weight and number of passages read, beside
the answers without the reader.

    .venv/bin/python bench/reader_sweep.py PATH/TO/arcd-train.json --weights 0 0.05 0.1 0.2 0.4
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from qa import Settings, quiet_libraries
from qa.eval import evaluate_squad


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", type=Path)
    p.add_argument("--weights", type=float, nargs="+", default=[0.0, 0.05, 0.1, 0.2, 0.4])
    p.add_argument("--passages", type=int, nargs="+", default=[5])
    p.add_argument("--ask-every", type=int, default=5)
    args = p.parse_args()
    quiet_libraries()
    with tempfile.TemporaryDirectory() as tmp:
        index = Path(tmp) / "index"
        runs = [("no reader", Settings(reader=False))]
        runs += [(f"reader on {n}, weight {w}", Settings(reader_passages=n, reader_weight=w))
                 for n in args.passages for w in args.weights]
        print("| run | recall@1 | recall@5 | MRR | containment | words | short F1 | short EM | p50 ms | p95 ms |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for name, settings in runs:
            (r,) = evaluate_squad(args.file, settings, index_dir=index, ask_every=args.ask_every)
            f1 = f"{r.short_f1:.3f}" if r.short_f1 is not None else "-"
            em = f"{r.short_em:.3f}" if r.short_em is not None else "-"
            print(f"| {name} | {r.recall_at_1:.3f} | {r.recall_at_5:.3f} | {r.mrr:.3f} | {r.containment:.3f} | "
                  f"{r.answer_words:.0f} | {f1} | {em} | {r.latency_p50_ms:.0f} | {r.latency_p95_ms:.0f} |",
                  flush=True)


if __name__ == "__main__":
    main()
