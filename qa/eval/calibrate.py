"""Fitting the refusal rule (`qa.answer.refusal.Calibration`) from the
per-question records of `qa eval --holdout-every K --dump FILE`.

The rule answers when dense + lexical_weight*lexical + sentence_weight*sentence
reaches a threshold. Both weights are searched on a grid; for each pair the
threshold is the highest that refuses at most `max_false_refusals` of the
answerable questions, put halfway between the answerable scores on either side
of it (so that writing it with 6 decimals cannot move a question across it);
the pair that refuses the most out-of-scope questions wins, the first on the
grid among equals. Cross-lingual questions (an English question over Arabic
articles) get their own rule, dense + bridge_weight*bridged >= cross_threshold,
fitted the same way from a run of questions asked in English
(`--questions bench/data/arcd_en.jsonl`).

`write_calibration` stores the rule as the JSON file the composer reads.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa import arabic
from qa.answer.refusal import CALIBRATION_FORMAT, CALIBRATIONS_DIR, Calibration
from qa.errors import BadInput

GRID = np.round(np.arange(0.0, 0.31, 0.02), 2)
BRIDGE_GRID = GRID[:9]


@dataclass(frozen=True)
class Fit:
    """One candidate rule and how it does on the records."""

    refused_out_of_scope: float
    false_refusals: float
    weight: float  # lexical_weight (or bridge_weight for the cross-lingual rule)
    sentence_weight: float
    threshold: float


def threshold_for(scores: np.ndarray, max_fr: float) -> float:
    """A threshold below which at most `max_fr` of `scores` (answerable
    questions) fall: halfway between the highest score that may be refused and
    the next."""
    answerable = np.sort(scores)
    k = int(np.floor(max_fr * len(answerable)))  # at most k answerable questions may fall below
    if k >= len(answerable):
        return math.inf
    return float((answerable[k - 1] + answerable[k]) / 2) if k else float(answerable[0])


def _fits(score_of, weights, oos: np.ndarray, max_fr: float) -> list[Fit]:
    rows = []
    for w, sw in weights:
        score = score_of(w, sw)
        thr = threshold_for(score[~oos], max_fr)
        rows.append(Fit(float((score[oos] < thr).mean()), float((score[~oos] < thr).mean()), float(w), float(sw),
                        round(thr, 6)))
    return sorted(rows, key=lambda r: (-r.refused_out_of_scope, r.false_refusals))  # stable: grid order breaks ties


def fit_monolingual(recs: Sequence[dict], max_fr: float, use_sentence: bool = True) -> list[Fit]:
    """Rules for questions in the articles' script, best first."""
    oos = np.array([not r["in_scope"] for r in recs])
    dense, lex, sent = (np.array([r[k] for r in recs], dtype=np.float64) for k in ("dense", "lexical", "sentence"))
    grid = itertools.product(GRID, GRID if use_sentence else [0.0])
    return _fits(lambda lw, sw: dense + lw * lex + sw * sent, grid, oos, max_fr)


def fit_cross(recs: Sequence[dict], max_fr: float, bridge_weight: float | None = None) -> list[Fit]:
    """Rules for cross-lingual questions, best first (only `bridge_weight`'s, if given)."""
    oos = np.array([not r["in_scope"] for r in recs])
    dense = np.array([r["dense"] for r in recs], dtype=np.float64)
    bridged = np.array([r.get("bridged", 0.0) for r in recs], dtype=np.float64)
    grid = BRIDGE_GRID if bridge_weight is None else [bridge_weight]
    return _fits(lambda w, _: dense + w * bridged, ((w, 0.0) for w in grid), oos, max_fr)


def halves(recs: Sequence[dict], max_fr: float) -> list[tuple[float, float]]:
    """Fit on one half of the questions (alternate blocks of 35, ARCD being in
    article order), test on the other: (out-of-scope refused, false refusals)."""
    half = (np.arange(len(recs)) // 35) % 2 == 0
    out = []
    oos = np.array([not r["in_scope"] for r in recs])
    dense, lex, sent = (np.array([r[k] for r in recs], dtype=np.float64) for k in ("dense", "lexical", "sentence"))
    for train in (half, ~half):
        best = fit_monolingual([r for r, t in zip(recs, train, strict=True) if t], max_fr)[0]
        score = dense + best.weight * lex + best.sentence_weight * sent
        test = ~train
        out.append((float((score[test & oos] < best.threshold).mean()),
                    float((score[test & ~oos] < best.threshold).mean())))
    return out


def read_records(paths: Sequence[Path]) -> list[dict]:
    """The hybrid-mode records of `qa eval --dump` files."""
    recs = []
    for path in paths:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
            recs += [json.loads(line) for line in lines if line.strip()]
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BadInput(f"cannot read records {path} ({exc}); write them with qa eval ... --dump FILE") from exc
    needed = {"mode", "in_scope", "dense", "lexical", "sentence", "cross_lingual"}
    if not recs or any(needed - r.keys() for r in recs):
        raise BadInput("the records need the fields of qa eval --dump (" + ", ".join(sorted(needed)) + ")")
    recs = [r for r in recs if r["mode"] == "hybrid"]
    if not recs:
        raise BadInput("no hybrid-mode records: run qa eval without --compare, or with it (hybrid is included)")
    return recs


def calibrate(recs: Sequence[dict], max_fr: float = 0.05,
              bridge_weight: float | None = None) -> tuple[Calibration, dict[str, Any]]:
    """The fitted rule and a report of the fit; `bridge_weight` fixes the
    cross-lingual rule's weight (its threshold is still fitted)."""
    mono = [r for r in recs if not r["cross_lingual"]]
    cross = [r for r in recs if r["cross_lingual"]]
    report: dict[str, Any] = {"max_false_refusals": max_fr}
    rule: dict[str, float] = {"dense_weight": 1.0, "lexical_weight": 0.0, "sentence_weight": 0.0,
                              "threshold": math.inf, "cross_threshold": math.inf, "bridge_weight": 0.0}
    if bridge_weight is not None:
        report["bridge_weight_given"] = bridge_weight
    for name, group in (("monolingual", mono), ("cross_lingual", cross)):
        oos = sum(not r["in_scope"] for r in group)
        if not oos or oos == len(group):
            report[name] = None  # nothing to fit: needs answerable and out-of-scope questions
            continue
        fits = fit_monolingual(group, max_fr) if name == "monolingual" else fit_cross(group, max_fr)
        ties = [[f.weight, f.sentence_weight] for f in fits if (f.refused_out_of_scope, f.false_refusals)
                == (fits[0].refused_out_of_scope, fits[0].false_refusals)]
        best = fits[0] if name == "monolingual" or bridge_weight is None else fit_cross(group, max_fr, bridge_weight)[0]
        report[name] = {"answerable": len(group) - oos, "out_of_scope": oos, "best_on_the_grid": ties,
                        "refused_out_of_scope": round(best.refused_out_of_scope, 4),
                        "false_refusals": round(best.false_refusals, 4)}
        if name == "monolingual":
            rule.update(lexical_weight=best.weight, sentence_weight=best.sentence_weight, threshold=best.threshold)
        else:
            rule.update(bridge_weight=best.weight, cross_threshold=best.threshold)
    if report["monolingual"] is None:
        raise BadInput("the records hold no monolingual questions both answerable and out of scope: "
                       "run qa eval with --holdout-every K --dump FILE")
    return Calibration(**rule), report


def write_calibration(rule: Calibration, report: dict[str, Any], models: Sequence[str], out: Path | None) -> Path:
    """Write the calibration file the composer reads for `models`."""
    out = out or CALIBRATIONS_DIR / (models[0].replace("/", "__") + ".json")
    out.parent.mkdir(parents=True, exist_ok=True)
    data = {"format": CALIBRATION_FORMAT, "models": list(models), "rule": rule.to_json(), "fit": report}
    out.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return out


# Question styles by their question word (normalised): MSA and colloquial forms,
# and «مادا», a common misspelling of «ماذا» in ARCD.
STYLES = {
    "who (من)": "من مين منو", "what (ما/ماذا)": "ما ماذا مادا ماهو ماهي شو ايش وش", "when (متى)": "متي امتي",
    "where (أين)": "اين وين فين", "how many (كم)": "كم قديش", "yes/no (هل)": "هل",
    "why (لماذا)": "لماذا لمادا ليش ليه", "how (كيف)": "كيف ازاي شلون اشلون", "which (أي)": "اي",
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


def by_style(recs: Sequence[dict]) -> list[tuple[str, int, float | None, int, float | None]]:
    """The run's own refusals by question style: (style, answerable, their
    false-refusal rate, out of scope, their refusal rate), largest first."""
    groups: dict[str, list[dict]] = {}
    for r in recs:
        if "question" in r:
            groups.setdefault(style(r["question"]), []).append(r)
    rows = []
    for name, rs in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        ans = [r["refused"] for r in rs if r["in_scope"]]
        oos = [r["refused"] for r in rs if not r["in_scope"]]
        rows.append((name, len(ans), float(np.mean(ans)) if ans else None, len(oos),
                     float(np.mean(oos)) if oos else None))
    return rows
