import json
from pathlib import Path

import pytest

from qa.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def indexed(seeds: Path, tmp_path: Path, capsys):
    index = tmp_path / "index"
    code, out, err = run(capsys, "index", "--docs", str(seeds), "--index", str(index), "--model", "fake", "--json")
    assert code == 0, err
    return seeds, index, json.loads(out)


def test_index_json_summary(indexed):
    _, _, summary = indexed
    assert {"articles", "chunks", "added", "updated", "removed", "unchanged", "skipped", "seconds"} <= set(summary)
    assert (summary["articles"], summary["added"], summary["skipped"]) == (2, 2, [])


def test_index_text_summary_and_skipped_reasons(seeds: Path, tmp_path: Path, capsys):
    (seeds / "notes.pdf").write_bytes(b"%PDF")
    code, out, _ = run(capsys, "index", "--docs", str(seeds), "--index", str(tmp_path / "i"), "--model", "fake", "-q")
    assert code == 0
    assert "2 articles" in out and "added 2" in out and "skipped: notes.pdf: unsupported" in out


def test_ask_json_cites_the_right_article(indexed, capsys):
    _, index, _ = indexed
    code, out, _ = run(capsys, "ask", "من هو وزير الداخلية اليمني؟", "--index", str(index), "--json")
    assert code == 0
    a = json.loads(out)
    assert not a["refused"] and a["citations"]
    c = a["citations"][0]
    assert {"n", "doc_id", "title", "quote", "start", "end", "score"} <= set(c)
    assert c["doc_id"] == "001_32ac849551dd6a76.txt"
    assert "[1]" in a["answer"]


def test_ask_text_output_lists_sources(indexed, capsys):
    _, index, _ = indexed
    code, out, _ = run(capsys, "ask", "من التقى وزير الخارجية اليمني؟", "--index", str(index))
    assert code == 0
    assert "[1]" in out and "000_1e06ce93cb234a3e.txt" in out


def test_ask_and_search_batch(indexed, tmp_path: Path, capsys):
    _, index, _ = indexed
    batch = tmp_path / "q.jsonl"
    batch.write_text(
        json.dumps({"id": "q1", "question": "من هو وزير الداخلية اليمني؟"}, ensure_ascii=False) + "\n"
        + json.dumps({"id": 2, "question": "ما هي عاصمة فرنسا؟"}, ensure_ascii=False) + "\n",
        encoding="utf-8")
    code, out, _ = run(capsys, "ask", "--batch", str(batch), "--index", str(index), "--json")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == ["q1", 2]
    assert not rows[0]["refused"] and rows[1]["refused"] and rows[1]["citations"] == []
    code, out, _ = run(capsys, "search", "--batch", str(batch), "--index", str(index), "--top-k", "3", "--json")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 2 and len(rows[0]["hits"]) == 3
    assert {"doc_id", "chunk_id", "score", "text"} <= set(rows[0]["hits"][0])


def test_ask_builds_a_missing_index_first(seeds: Path, tmp_path: Path, capsys):
    index = tmp_path / "fresh"
    code, out, err = run(capsys, "ask", "من هو وزير الداخلية اليمني؟", "--docs", str(seeds), "--index", str(index),
                         "--model", "fake", "--json")
    assert code == 0
    assert "building it from" in err
    assert json.loads(out)["citations"]


@pytest.mark.parametrize("argv, message", [
    (["ask", "   "], "question is empty"),
    (["ask"], "missing the question"),
    (["search", "x", "--top-k", "0"], "--top-k must be at least 1"),
    (["ask", "x", "--batch", "nope.jsonl"], "either a QUESTION or --batch"),
    (["ask", "--batch", "/no/such/file.jsonl"], "cannot read --batch file"),
])
def test_user_errors_are_one_line_and_exit_2(indexed, capsys, argv, message):
    _, index, _ = indexed
    code, _, err = run(capsys, *argv, "--index", str(index))
    assert code == 2
    assert err.startswith("qa: error:") and message in err and err.count("\n") == 1


def test_bad_batch_line_names_the_line(indexed, tmp_path: Path, capsys):
    _, index, _ = indexed
    batch = tmp_path / "bad.jsonl"
    batch.write_text('{"id": 1, "question": "سؤال"}\n{oops\n', encoding="utf-8")
    code, _, err = run(capsys, "ask", "--batch", str(batch), "--index", str(index), "--json")
    assert code == 2 and "line 2" in err


def test_model_mismatch_and_missing_docs(indexed, tmp_path: Path, capsys):
    _, index, _ = indexed
    code, _, err = run(capsys, "ask", "سؤال", "--index", str(index), "--model", "fake-64")
    assert code == 2 and "--rebuild" in err and err.count("\n") == 1
    code, _, err = run(capsys, "index", "--docs", str(tmp_path / "missing"), "--index", str(tmp_path / "x"),
                       "--model", "fake")
    assert code == 2 and "does not exist" in err


def test_eval_on_a_broken_question_set_is_one_line(tmp_path: Path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    code, _, err = run(capsys, "eval", str(bad), "--model", "fake")
    assert code == 2 and "SQuAD-format" in err and err.count("\n") == 1
    code, _, err = run(capsys, "eval", str(tmp_path / "missing.json"), "--model", "fake")
    assert code == 2 and "does not exist" in err


def test_eval_on_the_seed_set_with_the_fake_model(capsys):
    from conftest import ROOT, SEEDS

    code, out, err = run(capsys, "eval", str(ROOT / "tests" / "data" / "seed_questions.jsonl"),
                         "--docs", str(SEEDS), "--model", "fake", "--json")
    assert code == 0, err
    (result,) = json.loads(out)["results"]
    assert result["questions"] == 47 and result["out_of_scope"] == 12
    assert 0 < result["recall_at_5"] <= 1 and result["refusal_recall"] is not None


def test_eval_counts_a_top_passage_holding_the_answer_apart_from_the_gold_one(tmp_path: Path, capsys):
    # Both paragraphs state the answer; the question's words point at the first,
    # while the gold paragraph is the second (ARCD repeats facts like this).
    squad = {"data": [{"title": "مصر", "paragraphs": [
        {"context": "عاصمة جمهورية مصر العربية هي القاهرة، وتقع على ضفاف النيل.", "qas": []},
        {"context": "تضم القاهرة الأزهر والأهرامات قريبة منها.", "qas": [
            {"id": "q1", "question": "ما هي عاصمة جمهورية مصر العربية؟", "answers": [{"text": "القاهرة"}]}]},
    ]}]}
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(squad, ensure_ascii=False), encoding="utf-8")
    code, out, err = run(capsys, "eval", str(path), "--model", "fake", "--json")
    assert code == 0, err
    (result,) = json.loads(out)["results"]
    assert result["recall_at_1"] == 0.0 and result["recall_at_5"] == 1.0
    assert result["answer_at_1"] == 1.0


def test_eval_dump_writes_one_record_per_question_and_mode(tmp_path: Path, capsys):
    squad = {"data": [
        {"title": "مصر", "paragraphs": [{"context": "عاصمة مصر هي القاهرة، وتقع على ضفاف النيل.", "qas": [
            {"id": "q1", "question": "ما هي عاصمة مصر؟", "answers": [{"text": "القاهرة"}]}]}]},
        {"title": "فرنسا", "paragraphs": [{"context": "باريس عاصمة فرنسا.", "qas": [
            {"id": "q2", "question": "ما هي عاصمة فرنسا؟", "answers": [{"text": "باريس"}]}]}]},
    ]}
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(squad, ensure_ascii=False), encoding="utf-8")
    dump = tmp_path / "records.jsonl"
    code, _, err = run(capsys, "eval", str(path), "--model", "fake", "--holdout-every", "2",
                       "--compare", "--dump", str(dump))
    assert code == 0, err
    records = [json.loads(line) for line in dump.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 2 * 3  # two questions, three modes
    q1 = next(r for r in records if r["qid"] == "q1" and r["mode"] == "hybrid")
    q2 = next(r for r in records if r["qid"] == "q2" and r["mode"] == "hybrid")
    assert q1["question"] == "ما هي عاصمة مصر؟" and q1["in_scope"] and q1["rank"] == 1
    assert q2["in_scope"] is False and q2["rank"] is None  # its article was held out
    assert {"lexical", "sentence", "dense", "refused", "contained"} <= set(q1)


def test_eval_questions_asks_only_the_given_ids_in_their_wording(tmp_path: Path, capsys):
    squad = {"data": [{"title": "مصر", "paragraphs": [{"context": "عاصمة مصر هي القاهرة.", "qas": [
        {"id": "q1", "question": "ما هي عاصمة مصر؟", "answers": [{"text": "القاهرة"}]},
        {"id": "q2", "question": "ما هو نهر مصر؟", "answers": [{"text": "النيل"}]}]}]}]}
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(squad, ensure_ascii=False), encoding="utf-8")
    overlay = tmp_path / "en.jsonl"
    overlay.write_text('{"id": "q1", "question": "What is the capital of Egypt?"}\n', encoding="utf-8")
    dump = tmp_path / "records.jsonl"
    code, out, err = run(capsys, "eval", str(path), "--model", "fake", "--questions", str(overlay),
                         "--dump", str(dump), "--json")
    assert code == 0, err
    (result,) = json.loads(out)["results"]
    assert result["questions"] == 1
    (record,) = [json.loads(line) for line in dump.read_text(encoding="utf-8").splitlines()]
    assert record["qid"] == "q1" and record["question"] == "What is the capital of Egypt?"
    assert record["cross_lingual"] is True

    overlay.write_text('{"id": "q9", "question": "Who?"}\n', encoding="utf-8")
    code, _, err = run(capsys, "eval", str(path), "--model", "fake", "--questions", str(overlay))
    assert code == 2 and "q9" in err and "not in the SQuAD file" in err


@pytest.mark.parametrize("argv, message", [
    (["ask", "سؤال", "--model", "fake-x"], "'fake-x' is not a test embedder"),
    (["index", "--model", "fake-0"], "'fake-0' is not a test embedder"),
    (["eval", "calibrate", "/no/such/records.jsonl"], "cannot read records"),
])
def test_bad_settings_and_files_are_one_line_and_exit_2(indexed, capsys, argv, message):
    _, index, _ = indexed
    code, _, err = run(capsys, *argv, *(["--index", str(index)] if argv[0] != "eval" else []))
    assert code == 2
    assert err.startswith("qa: error:") and message in err and err.count("\n") == 1


def test_eval_calibrate_writes_the_rule_the_assistant_then_reads(tmp_path: Path, capsys):
    from qa.answer.refusal import calibration_for

    records = tmp_path / "records.jsonl"
    rows = [{"qid": str(i), "question": "سؤال", "mode": "hybrid", "in_scope": i % 4 != 0, "dense": 0.8 + i / 10000,
             "lexical": 0.5, "sentence": 0.5 if i % 4 else 0.0, "cross_lingual": False, "refused": False,
             "model": "fake"} for i in range(200)]
    records.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    folder = tmp_path / "calibrations"
    code, out, err = run(capsys, "eval", "calibrate", str(records), "--out", str(folder / "fake.json"), "--json")
    assert code == 0, err
    fitted = json.loads(out)
    assert fitted["models"] == ["fake"] and fitted["fit"]["monolingual"]["false_refusals"] <= 0.05
    assert fitted["fit"]["monolingual"]["refused_out_of_scope"] == 1.0  # the sentence share tells them apart
    rule = calibration_for("fake", folder)
    assert rule.sentence_weight > 0 and rule.threshold == fitted["rule"]["threshold"]
    assert rule.cross_threshold == float("inf")  # no cross-lingual records: English is never trusted
