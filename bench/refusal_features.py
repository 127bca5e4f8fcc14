"""Candidate refusal features, each added to the fitted rule and checked on
article-block folds (docs/decisions.md, refusal features). None is in the product.

The held-out run of table 2 (every 5th ARCD article left out of the index) is
repeated; for every Arabic question the product's evidence (qa.answer.refusal.assess:
dense, passage term share, sentence term share) is computed with these
candidates beside it:

- miss_passage / miss_sentence: the largest IDF (over the index's largest) of
  a question term missing from the best passage / best sentence. Most
  answered out-of-scope questions ask about an entity that other articles
  only mention («ما عدد سكان الصين؟» meets a world-population paragraph);
- missing_idf: the IDF mass of the terms missing from the best sentence, not
  divided by the question's (the shares are relative);
- unknown: the share of the question's IDF mass in terms the index never saw;
- same_article: the share of the top 10 hits from the first hit's article;
- article_margin: the fused score of the first hit less that of the best hit
  from another article;
- title_share: the question's term share in the first hit's article title;
- fused: the first hit's fused score.

For each, a weight on a grid (either sign, in units of the base score's
standard deviation over the feature's) is added to the rule and the
threshold set to refuse at most 5% of answerable questions, fitted on four
of five article-block folds and tested on the fifth (the base row refits the
threshold alone). "in-sample" fits on all questions.

    .venv/bin/python bench/refusal_features.py PATH/TO/arcd-train.json
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
from pathlib import Path

import numpy as np

from qa import arabic, quiet_libraries
from qa.answer.refusal import coverage, sentences
from qa.assistant import Assistant
from qa.chunking import passage_text
from qa.embedding import load_embedder
from qa.eval.calibrate import threshold_for
from qa.eval.datasets import load_squad
from qa.indexer import update_index
from qa.settings import Settings

FEATURES = ("miss_passage", "miss_sentence", "missing_idf", "unknown", "same_article", "article_margin",
            "title_share", "fused")
# weights in units of the base score's spread over the feature's (scale-free)
GRID = np.round(np.arange(-1.0, 1.01, 0.05), 2)


def features(bot: Assistant, question: str) -> dict[str, float]:
    """The rule's own score ("base") and every candidate feature for one question."""
    arts, idf = bot.index.articles, bot.idf
    query = bot.analyse(question)
    hits = bot.retrieve(query, max(20, bot.answer_hits))
    c = bot.composer.calibration
    ev = bot.answer(query, hits).evidence
    out = {"base": c.dense_weight * ev.dense + c.lexical_weight * ev.lexical + c.sentence_weight * ev.sentence}
    qw = query.weights
    top_idf = max(idf.values())
    top = hits[:3]
    passages = [set(arabic.terms(passage_text(arts[h.chunk.doc_id], h.chunk.start, h.chunk.text))) for h in top]
    sentence_terms = [set(arabic.terms(text)) for *_, text in sentences(top, arts)]
    best_p = max(passages, key=lambda ts: coverage(qw, ts), default=set())
    best_s = max(sentence_terms, key=lambda ts: coverage(qw, ts), default=set())
    out["miss_passage"] = max((w for t, w in qw.items() if t not in best_p), default=0.0) / top_idf
    out["miss_sentence"] = max((w for t, w in qw.items() if t not in best_s), default=0.0) / top_idf
    out["missing_idf"] = sum(w for t, w in qw.items() if t not in best_s) / top_idf
    out["unknown"] = sum(w for t, w in qw.items() if t not in idf) / (sum(qw.values()) or 1.0)
    first = arts[hits[0].chunk.doc_id].title if hits else ""
    titles = [arts[h.chunk.doc_id].title for h in hits[:10]]
    out["same_article"] = sum(t == first for t in titles) / max(1, len(titles))
    others = [h.score for h in hits if arts[h.chunk.doc_id].title != first]
    out["article_margin"] = hits[0].score - others[0] if hits and others else 0.0
    out["title_share"] = coverage(qw, set(arabic.terms(first)))
    out["fused"] = hits[0].score if hits else 0.0
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", type=Path)
    p.add_argument("--holdout-every", type=int, default=5)
    p.add_argument("--folds", type=int, default=5)
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    quiet_libraries()
    s = Settings()
    articles, questions = load_squad(args.file, args.holdout_every)
    article_of = {str(qa["id"]): ai for ai, art in enumerate(json.loads(args.file.read_text("utf-8"))["data"])
                  for para in art["paragraphs"] for qa in para["qas"]}
    embedder = load_embedder(s.model, batch_size=s.batch_size)
    with tempfile.TemporaryDirectory(prefix="refusal-features-") as tmp:
        update_index(Path(tmp), articles, (), embedder, s, rebuild=True)
        bot = Assistant.open(Path(tmp), s, embedder=embedder)
        questions = [q for q in questions if arabic.is_arabic(q.question)]
        rows = [features(bot, q.question) for q in questions]
    oos = np.array([q.doc_id is None for q in questions])
    # each fold holds whole articles, held-out ones included
    fold = np.array([(article_of[q.qid] // args.holdout_every) % args.folds for q in questions])
    base = np.array([r["base"] for r in rows])
    print(f"{oos.sum()} out-of-scope, {(~oos).sum()} answerable Arabic questions; "
          f"refused out-of-scope / false refusals\n")
    print("| feature added | in-sample (weight) | across folds |\n|---|---|---|")

    def rate(score: np.ndarray, thr: float, mask: np.ndarray) -> tuple[int, int]:
        return int((score[mask] < thr).sum()), int(mask.sum())

    for name in ("(none: the rule as it is)", *FEATURES):
        feat = np.zeros(len(rows)) if name.startswith("(") else np.array([r[name] for r in rows])
        feat = feat * base.std() / feat.std() if feat.std() > 0 else feat
        grid = [0.0] if name.startswith("(") else GRID

        def best(mask: np.ndarray, feat: np.ndarray = feat, grid: list | np.ndarray = grid) -> tuple[float, float]:
            fits = []
            for w in grid:
                score = base + w * feat
                thr = threshold_for(score[mask & ~oos], 0.05)
                fits.append(((score[mask & oos] < thr).mean(), float(w), thr))
            _, w, thr = max(fits, key=lambda f: (f[0], -abs(f[1])))
            return w, thr

        w, thr = best(np.ones(len(rows), bool))
        score = base + w * feat
        inside = f"{(score[oos] < thr).mean():.3f} / {(score[~oos] < thr).mean():.3f} ({w:+.2f})"
        refused = wrong = 0
        for k in range(args.folds):
            w, thr = best(fold != k)
            score = base + w * feat
            refused += rate(score, thr, (fold == k) & oos)[0]
            wrong += rate(score, thr, (fold == k) & ~oos)[0]
        print(f"| {name} | {inside} | {refused / oos.sum():.3f} / {wrong / (~oos).sum():.3f} |", flush=True)


if __name__ == "__main__":
    main()
