"""Sweep a few settings on the ARCD development set and print one table row
per setting: how the default chunk size and fusion weights were chosen.

    .venv/bin/python bench/arcd_sweep.py ../shared/data/arcd/arcd-train.json
    .venv/bin/python bench/arcd_sweep.py FILE --chunk-sizes 400 800 1200 --limit 300
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
    p.add_argument("--lexical-weights", type=float, nargs="*", default=[1.0])
    p.add_argument("--limit", type=int, default=None)
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    quiet_libraries()
    rows = []
    for size in args.chunk_sizes:
        for lw in args.lexical_weights:
            s = Settings(model=args.model, chunk_size=size, lexical_weight=lw)
            (r,) = evaluate_squad(args.file, s, limit=args.limit)
            rows.append((f"chunk_size={size} lexical_weight={lw}", r))
            print(f"chunk_size={size} lexical_weight={lw}\n{format_table([r])}\n", flush=True)
    print("summary")
    for name, r in rows:
        print(f"  {name}: recall@1 {r.recall_at_1:.3f} recall@5 {r.recall_at_5:.3f} MRR {r.mrr:.3f} "
              f"containment {r.containment:.3f} words {r.answer_words:.0f}")


if __name__ == "__main__":
    main()
