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

from qa.answer.refusal import CALIBRATION_FORMAT, CALIBRATIONS_DIR, Calibration
from qa.errors import BadInput
from qa.types import Evidence

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


READER_GRID = (0.0, 0.005, 0.01, 0.02, 0.03, 0.05, 0.08, 0.12)


def fit_with_reader(recs: Sequence[dict], max_fr: float, cross: bool) -> list[Fit]:
    """Rules with the reader's margin: dense + w2 * (sentence share, or the
    bridged share when cross-lingual) + reader_weight * margin; `weight` is
    the reader's weight, `sentence_weight` w2."""
    oos = np.array([not r["in_scope"] for r in recs])
    dense, reader = (np.array([r[k] for r in recs], dtype=np.float64) for k in ("dense", "reader"))
    second = np.array([r.get("bridged", 0.0) if cross else r["sentence"] for r in recs], dtype=np.float64)
    grid = ((rw, w2) for w2 in (BRIDGE_GRID if cross else GRID) for rw in READER_GRID)
    return _fits(lambda rw, w2: dense + w2 * second + rw * reader, grid, oos, max_fr)


def _best(group: Sequence[dict], max_fr: float, cross: bool, with_reader: bool,
          bridge_weight: float | None) -> tuple[Fit, list[list[float]]]:
    if with_reader:
        fits = fit_with_reader(group, max_fr, cross)
    else:
        fits = fit_cross(group, max_fr) if cross else fit_monolingual(group, max_fr)
    ties = [[f.weight, f.sentence_weight] for f in fits if (f.refused_out_of_scope, f.false_refusals)
            == (fits[0].refused_out_of_scope, fits[0].false_refusals)]
    if cross and bridge_weight is not None and not with_reader:
        return fit_cross(group, max_fr, bridge_weight)[0], ties
    return fits[0], ties


def _rule(best: Fit, cross: bool, with_reader: bool) -> dict[str, float]:
    if cross:
        bridge = best.sentence_weight if with_reader else best.weight
        return {"bridge_weight": bridge, "cross_threshold": best.threshold,
                **({"reader_weight": best.weight} if with_reader else {})}
    if with_reader:
        return {"sentence_weight": best.sentence_weight, "reader_weight": best.weight, "threshold": best.threshold}
    return {"lexical_weight": best.weight, "sentence_weight": best.sentence_weight, "threshold": best.threshold}


def calibrate(recs: Sequence[dict], max_fr: float = 0.05,
              bridge_weight: float | None = None) -> tuple[Calibration, dict[str, Any]]:
    """The fitted rule and a report of the fit. Records of a run with the
    reader (`reader` set) give a rule that weighs its margin too (the file's
    `reader_rule`); `bridge_weight` fixes the cross-lingual rule's weight of a
    rule without the reader (its threshold is still fitted)."""
    with_reader = all(r.get("reader") is not None for r in recs)
    report: dict[str, Any] = {"max_false_refusals": max_fr, "reader": with_reader}
    rule: dict[str, float] = {"dense_weight": 1.0, "lexical_weight": 0.0, "sentence_weight": 0.0,
                              "threshold": math.inf, "cross_threshold": math.inf, "bridge_weight": 0.0}
    if bridge_weight is not None:
        report["bridge_weight_given"] = bridge_weight
    for name in ("monolingual", "cross_lingual"):
        cross = name == "cross_lingual"
        group = [r for r in recs if bool(r["cross_lingual"]) == cross]
        oos = sum(not r["in_scope"] for r in group)
        if not oos or oos == len(group):
            report[name] = None  # nothing to fit: needs answerable and out-of-scope questions
            continue
        best, ties = _best(group, max_fr, cross, with_reader, bridge_weight)
        report[name] = {"answerable": len(group) - oos, "out_of_scope": oos, "best_on_the_grid": ties,
                        "refused_out_of_scope": round(best.refused_out_of_scope, 4),
                        "false_refusals": round(best.false_refusals, 4)}
        rule.update(_rule(best, cross, with_reader))
    if report["monolingual"] is None:
        raise BadInput("the records hold no monolingual questions both answerable and out of scope: "
                       "run qa eval with --holdout-every K --dump FILE")
    return Calibration(**rule), report


def across_folds(folds: Sequence[Sequence[dict]], max_fr: float = 0.05,
                 bridge_weight: float | None = None) -> dict[str, tuple[float, float] | None]:
    """Fit on all folds but one, test on that one, for each: the shares of
    out-of-scope questions refused and of answerable ones refused, per group."""
    out: dict[str, tuple[float, float] | None] = {}
    for name in ("monolingual", "cross_lingual"):
        refused_oos, refused_ans = [], []
        for i, test in enumerate(folds):
            train = [r for j, f in enumerate(folds) if j != i for r in f]
            test = [r for r in test if bool(r["cross_lingual"]) == (name == "cross_lingual")]
            try:
                rule, report = calibrate(train, max_fr, bridge_weight)
            except BadInput:
                continue
            if report[name] is None or not test:
                continue
            for r in test:
                ev = Evidence(r["lexical"], r["sentence"], r["dense"], r["cross_lingual"], False,
                              r.get("bridged", 0.0), r.get("reader"))
                (refused_ans if r["in_scope"] else refused_oos).append(not rule.supports(ev))
        out[name] = (float(np.mean(refused_oos)), float(np.mean(refused_ans))) if refused_oos and refused_ans else None
    return out


def write_calibration(rule: Calibration, report: dict[str, Any], models: Sequence[str], out: Path | None) -> Path:
    """Write the calibration file the composer reads for `models`: the rule
    goes in as `reader_rule` when fitted with the reader, else as `rule`; the
    file's other rule is kept."""
    out = out or CALIBRATIONS_DIR / (models[0].replace("/", "__") + ".json")
    out.parent.mkdir(parents=True, exist_ok=True)
    key = "reader_rule" if report.get("reader") else "rule"
    data: dict[str, Any] = {"format": CALIBRATION_FORMAT, "models": list(models)}
    try:
        old = json.loads(out.read_text(encoding="utf-8"))
        if old.get("format") == CALIBRATION_FORMAT and old.get("models") == list(models):
            data.update({k: v for k, v in old.items() if k not in ("format", "models", key, f"fit_{key}")})
    except (OSError, ValueError):
        pass
    fitted = rule.to_json()
    if key == "reader_rule" and report.get("cross_lingual") is None and "rule" in data:
        # no cross-lingual records read by the reader: keep the plain rule's cross-lingual part
        fitted.update({k: data["rule"][k] for k in ("cross_threshold", "bridge_weight")})
        report = {**report, "cross_lingual": "taken from rule"}
    data.update({key: fitted, f"fit_{key}": report})
    out.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return out
