"""Refusal: does the retrieved evidence support an answer at all?

The evidence (`qa.types.Evidence`) is (a) the IDF-weighted share of the
question's terms found in the best of the top passages, (b) that share for
their best single sentence (an answer sits in one sentence; terms scattered
over a passage are weaker evidence), (c) the best dense similarity among them
and, for a cross-lingual question, (d) the word bridge's share
(`qa.answer.bridge`). A per-model `Calibration` combines them linearly; below
its threshold the assistant says it found nothing.

Calibrations are JSON files written by `qa eval calibrate` (see
docs/evaluation.md) into a folder, by default the `calibrations/` folder
beside this module; no fitted number lives in code. A model without one falls
back to lexical evidence alone.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from qa import arabic
from qa.answer.bridge import WordVectors, bridged_share
from qa.chunking import passage_text
from qa.errors import BadSettings
from qa.query import Query
from qa.types import NO_EVIDENCE, Article, Evidence, Hit

CALIBRATIONS_DIR = Path(__file__).resolve().parent / "calibrations"
CALIBRATION_FORMAT = 1
EVIDENCE_HITS = 3  # the top hits whose passages and sentences are weighed


@dataclass(frozen=True)
class Calibration:
    """Answer when dense_weight*dense + lexical_weight*lexical +
    sentence_weight*sentence reaches `threshold`; a cross-lingual question is
    answered when dense + bridge_weight*bridged reaches `cross_threshold`."""

    dense_weight: float
    lexical_weight: float
    threshold: float
    cross_threshold: float
    sentence_weight: float = 0.0
    bridge_weight: float = 0.0
    reader_weight: float = 0.0  # the reader's margin, in rules fitted with the reader

    def supports(self, ev: Evidence) -> bool:
        """Whether this rule answers on evidence `ev` (its `supported` field is ignored)."""
        read = self.reader_weight * ev.reader if ev.reader is not None else 0.0
        if ev.cross_lingual:
            return ev.dense + self.bridge_weight * ev.bridged + read >= self.cross_threshold
        return (self.dense_weight * ev.dense + self.lexical_weight * ev.lexical
                + self.sentence_weight * ev.sentence + read >= self.threshold)

    def to_json(self) -> dict[str, Any]:
        """The rule as stored in a calibration file (no cross-lingual fit: null)."""
        d = asdict(self)
        d["cross_threshold"] = None if math.isinf(self.cross_threshold) else self.cross_threshold
        return d

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Calibration:
        args = {f.name: d[f.name] for f in fields(cls) if f.name in d}
        if args.get("cross_threshold") is None:
            args["cross_threshold"] = math.inf
        return cls(**args)


# Without a fitted calibration only the lexical evidence is trusted.
LEXICAL_ONLY = Calibration(dense_weight=0.0, lexical_weight=1.0, threshold=0.5, cross_threshold=math.inf)


@functools.lru_cache(maxsize=8)
def _calibrations(folder: str) -> dict[str, tuple[Calibration, Calibration | None]]:
    out: dict[str, tuple[Calibration, Calibration | None]] = {}
    for path in sorted(Path(folder).glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != CALIBRATION_FORMAT:
                raise ValueError(f"format {data.get('format')!r}, this program reads {CALIBRATION_FORMAT}")
            rules = (Calibration.from_json(data["rule"]),
                     Calibration.from_json(data["reader_rule"]) if data.get("reader_rule") else None)
            out.update(dict.fromkeys(data["models"], rules))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise BadSettings(f"calibration file {path} is unreadable ({exc}); write it again with "
                              "qa eval calibrate, or remove it") from exc
    return out


def calibration_for(model_id: str, folder: Path | str | None = None, *, reader: bool = False) -> Calibration:
    """The refusal rule fitted for `model_id` in `folder` (default: the
    shipped calibrations), the one fitted with the reader's evidence when
    `reader` (if there is one); LEXICAL_ONLY when none was fitted."""
    plain, with_reader = _calibrations(str(folder or CALIBRATIONS_DIR)).get(model_id, (LEXICAL_ONLY, None))
    return with_reader if reader and with_reader is not None else plain


def coverage(weights: Mapping[str, float], text_terms: set[str]) -> float:
    """The IDF-weighted share of the question's terms that `text_terms` holds."""
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    return sum(w for t, w in weights.items() if t in text_terms) / total


def sentences(hits: Sequence[Hit], articles: Mapping[str, Article]) -> list[tuple[int, Hit, int, int, str]]:
    """(hit rank, hit, start, end, text) of every sentence of the hits' chunks."""
    out = []
    for rank, hit in enumerate(hits):
        text = articles[hit.chunk.doc_id].text
        out += [(rank, hit, s.start, s.end, text[s.start : s.end])
                for s in arabic.sentence_spans(text, hit.chunk.start, hit.chunk.end)]
    return out


def assess(query: Query, hits: Sequence[Hit], articles: Mapping[str, Article],
           calibration: Calibration = LEXICAL_ONLY, words: WordVectors | None = None) -> Evidence:
    """The refusal evidence of the hits; `words` enables the cross-lingual bridge."""
    if not hits:
        return NO_EVIDENCE
    top = hits[:EVIDENCE_HITS]
    qw = query.weights
    texts = [passage_text(articles[h.chunk.doc_id], h.chunk.start, h.chunk.text) for h in top]
    lex = max(coverage(qw, set(arabic.terms(t))) for t in texts)
    sentence = max((coverage(qw, set(arabic.terms(text))) for *_, text in sentences(top, articles)), default=0.0)
    dense_scores = [h.dense_score for h in top if h.dense_score is not None]
    dense = max(dense_scores, default=0.0)
    margins = [h.reading.margin for h in top if h.reading is not None]
    reader = max(margins) if margins else None
    bridged = 0.0
    if query.cross_lingual and words is not None:  # over every hit, as the cross-lingual answer reads them all
        bridged = bridged_share(query.words, [text for *_, text in sentences(hits, articles)], words)
    ev = Evidence(lex, sentence, dense, query.cross_lingual, False, bridged, reader)
    # the fitted rule weighs dense evidence; where a top passage has none (keyword-only retrieval, or
    # a passage not embedded yet in a keyword-only version) the lexical rule can answer too
    fitted = bool(dense_scores) and calibration.supports(ev)
    lexical = len(dense_scores) < len(top) and LEXICAL_ONLY.supports(ev)
    return replace(ev, supported=fitted or lexical)
