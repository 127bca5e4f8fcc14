"""Sweep a few settings on the ARCD development set and print one table row
per setting: how the default chunk size and fusion were chosen.

    .venv/bin/python bench/arcd_sweep.py ../shared/data/arcd/arcd-train.json
    .venv/bin/python bench/arcd_sweep.py FILE --chunk-sizes 800 --fusion zscore rrf --dense-weights 0.5 0.6 0.7
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from qa.cli import quiet_libraries
from qa.evaluation import evaluate_squad, format_table
from qa.settings import Settings


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", type=Path)
    p.add_argument("--model", default=Settings().model)
    p.add_argument("--chunk-sizes", type=int, nargs="*", default=[300, 500, 800, 1200])
    p.add_argument("--dense-weights", type=float, nargs="*", default=[0.6])
    p.add_argument("--fusion", nargs="*", default=["zscore"], choices=["zscore", "rrf"])
    p.add_argument("--limit", type=int, default=None)
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    quiet_libraries()
    rows = []
    for size in args.chunk_sizes:
        for fusion in args.fusion:
            for dw in args.dense_weights:
                s = Settings(model=args.model, chunk_size=size, fusion=fusion, dense_weight=dw)
                (r,) = evaluate_squad(args.file, s, limit=args.limit)
                name = f"chunk_size={size} fusion={fusion} dense_weight={dw}"
                rows.append((name, r))
                print(f"{name}\n{format_table([r])}\n", flush=True)
    print("summary")
    for name, r in rows:
        print(f"  {name}: recall@1 {r.recall_at_1:.3f} recall@5 {r.recall_at_5:.3f} MRR {r.mrr:.3f} "
              f"containment {r.containment:.3f} words {r.answer_words:.0f}")


if __name__ == "__main__":
    main()
