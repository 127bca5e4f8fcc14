"""Sweep settings on the ARCD development set and print one row per
combination: how the defaults (chunk size, fusion, answer length) were chosen.

Any `Settings` field can be varied; combinations that share the index settings
(model, chunking) share one built index, so sweeping answer settings is quick.

    .venv/bin/python bench/arcd_sweep.py PATH/TO/arcd-train.json
    .venv/bin/python bench/arcd_sweep.py FILE --vary fusion=zscore,rrf --vary dense_weight=0.5,0.6,0.7
    .venv/bin/python bench/arcd_sweep.py FILE --vary answer_rank_weight=0.15,0.8 --vary extra_sentence_ratio=0.8,0.7
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import itertools
import json
import logging
import tempfile
from pathlib import Path
from typing import Any

from qa import quiet_libraries
from qa.eval import evaluate_squad, format_table
from qa.settings import Settings

FIELDS = {f.name: f.type for f in dataclasses.fields(Settings)}


def parse_vary(text: str) -> tuple[str, list[Any]]:
    """'name=v1,v2' -> (name, [typed values]), typed like the Settings field."""
    name, _, values = text.partition("=")
    if name not in FIELDS or not values:
        raise argparse.ArgumentTypeError(f"--vary wants FIELD=V1,V2 with a Settings field; got {text!r} "
                                         f"(fields: {', '.join(FIELDS)})")
    cast = {"int": int, "float": float}.get(str(FIELDS[name]), str)
    return name, [cast(v) for v in values.split(",")]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", type=Path)
    p.add_argument("--vary", type=parse_vary, action="append", default=None,
                   help="FIELD=V1,V2,... (repeatable; default: chunk_size=300,500,800,1200)")
    p.add_argument("--limit", type=int, default=None)
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    quiet_libraries()
    vary = args.vary or [("chunk_size", [300, 500, 800, 1200])]
    names = [n for n, _ in vary]
    rows = []
    with tempfile.TemporaryDirectory(prefix="arcd-sweep-") as tmp:
        for values in itertools.product(*(v for _, v in vary)):
            s = Settings(**dict(zip(names, values, strict=True)))
            key = json.dumps(s.index_settings(), sort_keys=True)
            index_dir = Path(tmp) / hashlib.sha1(key.encode()).hexdigest()[:12]
            (r,) = evaluate_squad(args.file, s, limit=args.limit, index_dir=index_dir)
            name = " ".join(f"{n}={v}" for n, v in zip(names, values, strict=True))
            rows.append((name, r))
            print(f"{name}\n{format_table([r])}\n", flush=True)
    print("summary")
    for name, r in rows:
        print(f"  {name}: recall@1 {r.recall_at_1:.3f} recall@5 {r.recall_at_5:.3f} MRR {r.mrr:.3f} "
              f"containment {r.containment:.3f} words {r.answer_words:.0f}")


if __name__ == "__main__":
    main()
