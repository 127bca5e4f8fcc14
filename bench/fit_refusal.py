"""Fit the refusal rule (qa.compose.Calibration) from `qa eval --dump` records
of a run with held-out articles: answer when
dense + lexical_weight*lexical + sentence_weight*sentence >= threshold.

Grid-searches the two weights; for each, the threshold is the highest that
refuses at most `--max-false-refusals` of the answerable questions; prints the
rules that refuse the most out-of-scope questions. With `--halves` it also
fits on half of the questions (alternate blocks) and tests on the other half,
to see whether a gain survives outside the data it was fitted on. It ends with
the refusals the product made in that run, by question style (the question
word the question opens with), to see whether the rule holds across styles.

Cross-lingual questions (an English question over Arabic articles) share no
words with the passages, so their rule is dense + bridge_weight * bridged >=
cross_threshold (qa.compose.bridged_share); it is fitted the same way from a
run of English questions (`--questions bench/data/arcd_en.jsonl`: ARCD
questions translated to English), for each weight on the grid.

    .venv/bin/qa eval ../shared/data/arcd/arcd-train.json --holdout-every 5 --dump records.jsonl
    .venv/bin/python bench/fit_refusal.py records.jsonl --halves
    .venv/bin/qa eval ../shared/data/arcd/arcd-train.json --holdout-every 5 \
        --questions bench/data/arcd_en.jsonl --dump records-en.jsonl
    .venv/bin/python bench/fit_refusal.py records-en.jsonl
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np

from qa import arabic

GRID = np.round(np.arange(0.0, 0.31, 0.02), 2)


def fit(dense: np.ndarray, lex: np.ndarray, sent: np.ndarray, oos: np.ndarray, max_fr: float,
        use_sentence: bool) -> list[tuple[float, float, float, float, float]]:
    """(out-of-scope refused, false refusals, lexical_weight, sentence_weight, threshold), best first."""
    rows = []
    for lw, sw in itertools.product(GRID, GRID if use_sentence else [0.0]):
        score = dense + lw * lex + sw * sent
        thr = threshold_for(score[~oos], max_fr)
        rows.append((float((score[oos] < thr).mean()), float((score[~oos] < thr).mean()), lw, sw, thr))
    return sorted(rows, key=lambda r: (-r[0], r[1]))


# Question styles by their question word (normalised): MSA and colloquial forms,
# and «مادا», a common misspelling of «ماذا» in ARCD.
STYLES = {
    "who (من)": "من مين منو",
    "what (ما/ماذا)": "ما ماذا مادا ماهو ماهي شو ايش وش",
    "when (متى)": "متي امتي",
    "where (أين)": "اين وين فين",
    "how many (كم)": "كم قديش",
    "yes/no (هل)": "هل",
    "why (لماذا)": "لماذا لمادا ليش ليه",
    "how (كيف)": "كيف ازاي شلون اشلون",
    "which (أي)": "اي",
}
_OPENERS = {w: style for style, ws in STYLES.items() for w in ws.split()}
_PREPOSITIONS = {"الي", "علي", "في", "عن", "مع", "ضد", "تحت", "حتي"}


def style(question: str) -> str:
    """The style a question is asked in: its question word, which may carry a
    preposition («بماذا», «لمن», «ممن») or follow one («إلى كم», «في أي»)."""
    if not arabic.is_arabic(question):
        return "English"
    for w in arabic.words(question)[:2]:
        if w in _OPENERS:
            return _OPENERS[w]
        if w[:1] in "بلم" and w[1:] in _OPENERS:
            return _OPENERS[w[1:]]
        if w not in _PREPOSITIONS:
            break
    return "other"


def by_style(recs: list[dict]) -> None:
    if not all("question" in r for r in recs):  # records of an older qa eval, without the question text
        return
    print("\nthe run's own refusals by question style: answerable (false refusals), out of scope (refused)")
    groups: dict[str, list[dict]] = {}
    for r in recs:
        groups.setdefault(style(r["question"]), []).append(r)
    for name, rs in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        ans = [r["refused"] for r in rs if r["in_scope"]]
        oos = [r["refused"] for r in rs if not r["in_scope"]]
        fr = f"{len(ans):4d} ({np.mean(ans):.3f})" if ans else "   0"
        ref = f"{len(oos):4d} ({np.mean(oos):.3f})" if oos else "   0"
        print(f"  {name:16s} {fr}   {ref}")


def threshold_for(scores: np.ndarray, max_fr: float) -> float:
    """A threshold below which at most `max_fr` of `scores` (answerable questions)
    fall: halfway between the highest score that may be refused and the next,
    so that writing it with 6 decimals cannot move a question across it."""
    answerable = np.sort(scores)
    k = int(np.floor(max_fr * len(answerable)))  # at most k answerable questions may fall below
    if k >= len(answerable):
        return float("inf")
    return float((answerable[k - 1] + answerable[k]) / 2) if k else float(answerable[0])


def fit_cross(recs: list[dict], max_fr: float) -> None:
    """The cross-lingual rule dense + bridge_weight * bridged >= cross_threshold, for each weight."""
    oos = np.array([not r["in_scope"] for r in recs])
    dense = np.array([r["dense"] for r in recs])
    bridged = np.array([r.get("bridged", 0.0) for r in recs])
    print(f"cross-lingual: {oos.sum()} out-of-scope, {(~oos).sum()} answerable questions")
    print("  bridge_weight, cross_threshold: refused out-of-scope, false refusals")
    for w in GRID[:9]:
        score = dense + w * bridged
        thr = threshold_for(score[~oos], max_fr)
        print(f"  {w:.2f}  {thr:.6f}: {(score[oos] < thr).mean():.3f}  {(score[~oos] < thr).mean():.3f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("records", type=Path)
    p.add_argument("--max-false-refusals", type=float, default=0.05)
    p.add_argument("--halves", action="store_true")
    args = p.parse_args()
    recs = [json.loads(line) for line in args.records.read_text(encoding="utf-8").splitlines()]
    recs = [r for r in recs if r["mode"] == "hybrid"]
    everyone = recs
    cross = [r for r in recs if r["cross_lingual"]]
    if cross:
        fit_cross(cross, args.max_false_refusals)
    recs = [r for r in recs if not r["cross_lingual"]]
    if not recs:
        by_style(everyone)
        return
    oos = np.array([not r["in_scope"] for r in recs])
    dense, lex, sent = (np.array([r[k] for r in recs]) for k in ("dense", "lexical", "sentence"))
    print(f"{oos.sum()} out-of-scope, {(~oos).sum()} answerable questions")
    for use_sentence in (False, True):
        name = "dense + lexical + sentence" if use_sentence else "dense + lexical"
        print(f"\n{name}: refused out-of-scope, false refusals, lexical_weight, sentence_weight, threshold")
        for row in fit(dense, lex, sent, oos, args.max_false_refusals, use_sentence)[:5]:
            print("  {:.3f}  {:.3f}  {:.2f}  {:.2f}  {:.6f}".format(*row))
        if args.halves:
            half = (np.arange(len(recs)) // 35) % 2 == 0  # alternate blocks of questions (ARCD is in article order)
            for train in (half, ~half):
                test = ~train
                _, _, lw, sw, thr = fit(dense[train], lex[train], sent[train], oos[train],
                                        args.max_false_refusals, use_sentence)[0]
                score = dense + lw * lex + sw * sent
                print(f"  fitted on one half, tested on the other: refused {(score[test & oos] < thr).mean():.3f} "
                      f"of its out-of-scope, {(score[test & ~oos] < thr).mean():.3f} of its answerable")
    by_style(everyone)


if __name__ == "__main__":
    main()
