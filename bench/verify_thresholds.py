"""Measure the thresholds of the LLM citation check (qa/llm/verify.py) on ARCD.

For every ARCD question a claim is made the way an answer states it: the gold
answer followed by the question's content words («إبراهيم حيدان وزير الداخلية
اليمني»). It is checked against its gold paragraph (it should pass), and three
ways it should not: the answer to another question of the same paragraph in
its place, checked against that paragraph (a wrong fact made of the
passage's own words, as a small LLM writes «وزير الداخلية هو الزنداني»);
against another paragraph of the same Wikipedia article (same topic, answer
absent); against a paragraph of another article. The script prints, for a
grid of (term share, dense similarity) thresholds, the pair that passes most
true claims (with the numbers-and-names check) while passing at most
`--max-false` of the same-article claims, and what it passes of each kind.
The wrong facts are reported, not fitted: term share and similarity cannot
tell them from true claims (measured: their medians differ by 0.03 and
0.003), so no threshold that keeps most true claims stops them.

    python bench/verify_thresholds.py PATH/TO/arcd-train.json
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import tempfile
from pathlib import Path

import numpy as np

from qa import Assistant, Settings, arabic, build_or_update
from qa.eval.datasets import load_squad
from qa.llm.verify import Passage, Verifier

log = logging.getLogger("verify_thresholds")


def passage(article, n: int = 1) -> Passage:
    spans = arabic.sentence_spans(article.text, 0, len(article.text))
    return Passage(n, article.doc_id, article.text, tuple((s.start, s.end, article.text[s.start:s.end]) for s in spans))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("arcd", type=Path)
    ap.add_argument("--max-false", type=float, default=0.05,
                    help="share of the same-article claims allowed to pass")
    ap.add_argument("--limit", type=int, default=None, help="the first N questions only")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    articles, questions = load_squad(args.arcd)
    questions = questions[: args.limit] if args.limit else questions
    by_id = {a.doc_id: a for a in articles}
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        build_or_update_from(articles, Path(tmp) / "docs", Path(tmp) / "index")
        bot = Assistant.open(Path(tmp) / "index", Settings(reader=False))
        cache: dict[str, np.ndarray] = {}

        def embed_sentences(texts: list[str]) -> np.ndarray:
            todo = [t for t in dict.fromkeys(texts) if t not in cache]
            if todo:
                cache.update(zip(todo, bot.embedder.embed_documents(todo), strict=True))
            return np.stack([cache[t] for t in texts])

        v = Verifier(bot.idf, bot.embedder.embed_query, embed_sentences, overlap=1.0, dense=1.0, name_idf=1e9)
        idf = sorted(bot.idf.values())
        rows = {"true": [], "wrong fact": [], "same article": [], "other article": []}
        by_paragraph: dict[str, list] = {}
        for q in questions:
            by_paragraph.setdefault(q.doc_id, []).append(q)
        names: dict[str, list[tuple[str, str, Passage]]] = {k: [] for k in rows}
        for q in questions:
            art = by_id[q.doc_id]
            head = q.doc_id.split("-")[0]
            same = [a for a in articles if a.doc_id.startswith(head + "-") and a.doc_id != q.doc_id
                    and not any(g in a.text for g in q.answers)]
            other = [a for a in articles if not a.doc_id.startswith(head + "-")]
            words = " ".join(w for w in q.question.split() if arabic.terms(w))
            claim = f"{q.answers[0]} {words}"
            wrong = [o.answers[0] for o in by_paragraph[q.doc_id] if o.qid != q.qid
                     and not any(o.answers[0] in g or g in o.answers[0] for g in q.answers)]
            for name, target, said in (("true", art, claim),
                                       ("wrong fact", art if wrong else None, f"{rng.choice(wrong)} {words}"
                                        if wrong else ""),
                                       ("same article", rng.choice(same) if same else None, claim),
                                       ("other article", rng.choice(other), claim)):
                if target is None:
                    continue
                p = passage(target)
                share, sim, _ = v.scores(said, p)
                rows[name].append((share, sim))
                names[name].append((said, q.question, p))
        log.info("claims: %s", {k: len(r) for k, r in rows.items()})
        for k, r in rows.items():
            arr = np.array(r)
            print(f"{k}: {len(r)} claims; term share p10/p50 {np.percentile(arr[:, 0], 10):.2f}/"
                  f"{np.percentile(arr[:, 0], 50):.2f}; similarity p10/p50/p90 {np.percentile(arr[:, 1], 10):.3f}/"
                  f"{np.percentile(arr[:, 1], 50):.3f}/{np.percentile(arr[:, 1], 90):.3f}")
        best = None
        for name_pct in (75, 90):
            v.name_idf = float(np.percentile(idf, name_pct))
            held = {k: np.array([v.names_held(c, qq, p) for c, qq, p in names[k]]) for k in rows}
            for a in np.arange(0.3, 1.01, 0.05):
                for b in np.arange(0.70, 0.95, 0.01):
                    rate = {k: float(np.mean([s >= a and d >= b and h for (s, d), h in zip(rows[k], held[k],
                                                                                          strict=True)]))
                            for k in rows}
                    if rate["same article"] <= args.max_false and (best is None or rate["true"] > best[0]):
                        best = (rate["true"], round(float(a), 2), round(float(b), 2), name_pct, rate, v.name_idf)
        print(f"best: overlap {best[1]}, dense {best[2]}, names at idf percentile {best[3]} "
              f"({best[5]:.3f}): passes " + ", ".join(f"{k} {r:.3f}" for k, r in best[4].items()))
    return 0


def build_or_update_from(articles, docs: Path, index: Path) -> None:
    """Index the ARCD paragraphs (for the IDF the check weighs terms by)."""
    docs.mkdir()
    for a in articles:
        (docs / f"{a.doc_id}.txt").write_text(f"{a.title}\n\n{a.text}", encoding="utf-8")
    build_or_update(docs, index, Settings())


if __name__ == "__main__":
    sys.exit(main())
