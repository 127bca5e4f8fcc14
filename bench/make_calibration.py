"""Write the int8 runtime's calibration text (qa/calibration/xquad-ar.jsonl)
from XQuAD's Arabic file: its 240 paragraphs as passages and every 20th of its
1,190 questions as queries, in file order. Activations seen on these set the
int8 model's ranges (qa/int8.py); the file is CC BY-SA 4.0, as XQuAD is.

    .venv/bin/python bench/make_calibration.py PATH/TO/xquad.ar.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "qa" / "calibration" / "xquad-ar.jsonl"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("xquad", type=Path, help="xquad.ar.json")
    args = ap.parse_args()
    data = json.loads(args.xquad.read_text(encoding="utf-8"))["data"]
    paragraphs = [p for article in data for p in article["paragraphs"]]
    questions = [q["question"] for p in paragraphs for q in p["qas"]]
    rows = [{"kind": "passage", "text": p["context"]} for p in paragraphs]
    rows += [{"kind": "query", "text": q} for q in questions[::20]]
    OUT.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    queries = sum(r["kind"] == "query" for r in rows)
    print(f"{OUT}: {len(rows) - queries} passages, {queries} queries")


if __name__ == "__main__":
    main()
