"""Question sets and folds of the evaluation harness."""

import json
from pathlib import Path

import pytest

from qa.errors import BadInput
from qa.eval.calibrate import calibrate
from qa.eval.datasets import load_squad


def squad(tmp_path: Path, articles: int) -> Path:
    data = {"data": [{"title": f"t{ai}", "paragraphs": [{"context": f"نص المقال {ai}.", "qas": [
        {"id": f"q{ai}", "question": f"سؤال {ai}؟", "answers": [{"text": f"{ai}"}]}]}]} for ai in range(articles)]}
    path = tmp_path / "set.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_folds_hold_out_and_ask_the_articles_they_name(tmp_path: Path):
    path = squad(tmp_path, 20)
    articles, questions = load_squad(path, ask_every=5)  # only articles 4, 9, 14, 19 are asked
    assert len(articles) == 20 and [q.qid for q in questions] == ["q4", "q9", "q14", "q19"]
    _, questions = load_squad(path, 10, ask_every=5)  # 9 and 19 held out: out of scope
    assert {q.qid: q.doc_id is None for q in questions} == {"q4": False, "q9": True, "q14": False, "q19": True}
    articles, questions = load_squad(path, 10, holdout_shift=5, ask_every=5)  # the other half: 4 and 14
    assert {q.qid: q.doc_id is None for q in questions} == {"q4": True, "q9": False, "q14": True, "q19": False}
    assert len(articles) == 18 and "004-00" not in {a.doc_id for a in articles}


def test_a_fold_size_below_two_is_refused(tmp_path: Path):
    with pytest.raises(BadInput, match="--ask-every must be at least 2"):
        load_squad(squad(tmp_path, 3), ask_every=1)


def test_a_given_bridge_weight_is_kept_and_the_grid_optimum_reported():
    rows = [{"mode": "hybrid", "in_scope": i % 3 != 0, "dense": 0.7 + (i % 3 != 0) * 0.05 + i / 1e4,
             "bridged": 0.0, "lexical": 0.0, "sentence": 0.0, "cross_lingual": True} for i in range(60)]
    rows += [{**r, "cross_lingual": False, "sentence": 0.5 * r["in_scope"]} for r in rows]
    rule, report = calibrate(rows, bridge_weight=0.04)
    assert rule.bridge_weight == 0.04 and report["bridge_weight_given"] == 0.04
    assert [0.0, 0.0] in report["cross_lingual"]["best_on_the_grid"]
    assert report["cross_lingual"]["refused_out_of_scope"] == 1.0 and report["cross_lingual"]["false_refusals"] <= 0.05


def test_records_read_by_the_reader_give_a_reader_rule_written_beside_the_plain_one(tmp_path: Path):
    from qa.answer.refusal import calibration_for
    from qa.eval.calibrate import across_folds, write_calibration

    def rows(seed: int) -> list[dict]:  # dense says little; the reader's margin tells the two kinds apart
        return [{"mode": "hybrid", "in_scope": i % 3 != 0, "dense": 0.85 + ((i * 7 + seed) % 10) / 1000,
                 "lexical": 0.5, "sentence": 0.5, "cross_lingual": False, "bridged": 0.0,
                 "reader": 4.0 + i / 100 if i % 3 else -3.0 + i / 100} for i in range(90)]

    plain = [{**r, "reader": None} for r in rows(0)]
    folder = tmp_path / "calibrations"
    rule, report = calibrate(plain)
    write_calibration(rule, report, ["m"], folder / "m.json")
    reader_rule, reader_report = calibrate(rows(0))
    assert reader_report["reader"] and reader_rule.reader_weight > 0
    assert reader_report["monolingual"]["refused_out_of_scope"] == 1.0
    write_calibration(reader_rule, reader_report, ["m"], folder / "m.json")
    assert calibration_for("m", folder, reader=True).reader_weight == reader_rule.reader_weight
    assert calibration_for("m", folder).reader_weight == 0.0  # the plain rule was kept beside it
    held = across_folds([rows(0), rows(1)])["monolingual"]
    assert held is not None and held[0] == 1.0 and held[1] <= 0.1
