"""Follow-up questions: the rules that spot them, `Assistant.ask(history=...)`,
`qa ask --history`/`--batch` with history, `qa chat`, and the follow-up set
(tests/data/followups.jsonl: 29 two- and three-turn conversations over the seeds,
Arabic and English) against its recorded baseline."""

import json
from pathlib import Path

import pytest

from conftest import ROOT, SEEDS
from qa import Assistant, Settings, build_or_update
from qa.cli import main
from qa.cli.chat import chat
from qa.conversation import Turn, entity, is_follow_up, needs_context, resolve, switches_subject, turns
from qa.errors import BadInput
from qa.eval import evaluate_conversations
from qa.eval.conversations import load_conversations

DATA = ROOT / "tests" / "data"
A, B = "000_1e06ce93cb234a3e.txt", "001_32ac849551dd6a76.txt"
HIGHER_IS_BETTER = ("recall_at_1", "recall_at_5", "mrr", "containment", "cited_right", "refusal_recall")


@pytest.mark.parametrize("question", ["ومتى حدث ذلك؟", "وماذا ناقشا؟", "ما منصبه؟", "وكيف يمكن التصدي لها؟",
                                      "وفي أي مناقشات شارك؟", "and when?", "What did they discuss?",
                                      "And who else attended?", "Who did he meet?"])
def test_elliptical_questions_are_follow_ups(question):
    assert is_follow_up(question)


@pytest.mark.parametrize("question", ["من هو وزير الداخلية اليمني؟", "من التقى وزير الخارجية اليمني؟",
                                      "ما هي عاصمة فرنسا؟", "Who is Yemen's foreign minister?",
                                      "كم بلغ النمو هذا العام في السعودية؟"])
def test_self_contained_questions_are_not(question):
    assert not is_follow_up(question) and not needs_context(question)


def test_a_new_subject_takes_only_the_earlier_frame():
    assert switches_subject("وماذا عن وزير الخارجية؟") and switches_subject("What about the interior minister?")
    assert switches_subject("ومن هو وزير الداخلية؟") and not switches_subject("من هو وزير الداخلية اليمني؟")
    ctx = resolve("وماذا عن وزير الخارجية؟", [Turn("من هو وزير الداخلية اليمني؟", "حيدان [1]\nنص [1]", (B,))],
                  lambda reply: ())
    assert ctx is not None and ctx.doc_ids == () and ctx.added == "من هو"


def test_a_follow_up_gets_the_earlier_key_words_entity_and_articles():
    history = [Turn("من التقى وزير الخارجية اليمني؟", "جريجوري لوجيرفو [1]\nالتقى وزير ... [1]")]
    ctx = resolve("ومتى حدث ذلك؟", history, lambda reply: (A,))
    assert ctx is not None and ctx.question == "من التقى وزير الخارجية اليمني؟" and ctx.doc_ids == (A,)
    assert ctx.added == "التقى وزير الخارجية اليمني جريجوري لوجيرفو"
    assert resolve("من هو وزير الداخلية اليمني؟", history, lambda reply: (A,)) is None


def test_a_chain_of_follow_ups_goes_back_to_the_last_full_question():
    history = [Turn("من هو وزير الداخلية اليمني؟", "إبراهيم حيدان [1]\n...", (B,)),
               Turn("ومع من التقى؟", "جوناثان بيتشا [1]\n...", (B,))]
    ctx = resolve("وماذا ناقشا؟", history, lambda reply: ())
    assert ctx is not None and ctx.question == "من هو وزير الداخلية اليمني؟"
    assert "جوناثان بيتشا" in ctx.added and "إبراهيم حيدان" in ctx.added


def test_entity_is_the_short_first_line_only():
    assert entity("إبراهيم حيدان [2]\nالتعاون الأمني ... [1]") == "إبراهيم حيدان"
    assert entity("a whole quoted sentence with its marker [1]") == ""


def test_bad_history_is_a_clear_error():
    with pytest.raises(BadInput, match=r"history turn 2: expected"):
        turns([{"question": "q", "answer": "a"}, {"question": "q"}])
    with pytest.raises(BadInput, match="doc_ids"):
        turns([{"question": "q", "answer": "a", "doc_ids": "x"}])


@pytest.fixture(scope="module")
def bot(tmp_path_factory) -> Assistant:
    index = tmp_path_factory.mktemp("fu") / "index"
    build_or_update(SEEDS, index, Settings(model="fake"))
    return Assistant.open(index)


def test_ask_with_history_reads_the_follow_up_against_it(bot: Assistant):
    first = bot.ask("من التقى وزير الخارجية اليمني؟")
    assert not first.refused and first.citations[0].doc_id == A
    assert bot.ask("وماذا ناقشا؟", history=[first]).follows == "من التقى وزير الخارجية اليمني؟"
    assert bot.analyse("وماذا ناقشا؟", history=[first]).prefer == (A,)
    as_text = [{"question": first.question, "answer": first.text}]  # the articles are found from the quotes
    assert bot.analyse("وماذا ناقشا؟", history=as_text).prefer == (A,)
    assert bot.search("وماذا ناقشا؟", history=as_text)[0].chunk.doc_id == A


def test_a_self_contained_question_ignores_the_history(bot: Assistant):
    first = bot.ask("من التقى وزير الخارجية اليمني؟")
    alone, after = bot.ask("من هو وزير الداخلية اليمني؟"), bot.ask("من هو وزير الداخلية اليمني؟", history=[first])
    assert after.follows is None and after.text == alone.text


def test_a_follow_up_without_history_is_refused_as_not_understood(bot: Assistant):
    a = bot.ask("ومتى حدث ذلك؟")
    assert a.refused and a.reason == "not_understood" and "لم أفهم" in a.text
    assert bot.ask("What did they discuss?").reason == "not_understood"
    off = bot.ask("ما هي عاصمة فرنسا؟")
    assert off.refused and off.reason == "not_found" and "جرّب كلمات أخرى" in off.text


def test_qa_ask_history_and_batch_history(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    index = tmp_path / "index"
    hist = tmp_path / "h.json"
    hist.write_text(json.dumps([{"question": "من التقى وزير الخارجية اليمني؟", "answer": "جريجوري لوجيرفو [1]"}],
                               ensure_ascii=False), encoding="utf-8")
    assert main(["ask", "وماذا ناقشا؟", "--history", str(hist), "--index", str(index), "--model", "fake",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["follows"] == "من التقى وزير الخارجية اليمني؟" and out["refusal"] != "not_understood"
    batch = tmp_path / "b.jsonl"
    batch.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in [
        {"id": 1, "question": "ومتى حدث ذلك؟"},
        {"id": 2, "question": "ومتى حدث ذلك؟", "history": [{"question": "من التقى وزير الخارجية اليمني؟",
                                                             "answer": "جريجوري لوجيرفو"}]}]), encoding="utf-8")
    assert main(["ask", "--batch", str(batch), "--index", str(index), "--model", "fake", "--json"]) == 0
    one, two = (json.loads(x) for x in capsys.readouterr().out.strip().splitlines())
    assert one["refusal"] == "not_understood" and two["follows"] == "من التقى وزير الخارجية اليمني؟"
    hist.write_text("{}", encoding="utf-8")
    assert main(["ask", "وماذا ناقشا؟", "--history", str(hist), "--index", str(index), "--model", "fake"]) == 2
    assert "expected a list" in capsys.readouterr().err


def test_qa_chat_keeps_the_conversation_until_clear(bot: Assistant):
    lines = iter(["من التقى وزير الخارجية اليمني؟", "/sources", "وماذا ناقشا؟", "/clear", "وماذا ناقشا؟", "/nope"])
    said: list[str] = []

    def read(prompt: str) -> str:
        try:
            return next(lines)
        except StopIteration:
            raise EOFError from None

    assert chat(bot, read, said.append) == 0
    replies = said[1:]
    assert "quote: chars" in replies[1] and A in replies[1]
    assert "فهمتُ سؤالك متابعةً لـ«من التقى وزير الخارجية اليمني؟»" in replies[2]
    assert "لم أفهم" in replies[4] and "unknown command /nope" in replies[5]


def test_the_follow_up_set_has_its_shape():
    convs = load_conversations(DATA / "followups.jsonl")
    texts = {p.name: p.read_text(encoding="utf-8") for p in SEEDS.iterdir()}
    assert len(convs) >= 20 and all(2 <= len(c.turns) <= 3 for c in convs)
    assert any(t.question.isascii() for c in convs for t in c.turns)
    assert sum(t.doc_id is None for c in convs for t in c.turns) >= 3  # turns that must be refused
    for c in convs:
        for t in c.turns:
            assert t.doc_id is None or any(a in texts[t.doc_id] for a in t.answers), t.qid


@pytest.mark.parametrize("reader", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_the_follow_up_set_does_not_regress(tmp_path: Path, reader: bool):
    """With the real default model; without the reader in the default suite (seconds), with it in CI."""
    results = evaluate_conversations(DATA / "followups.jsonl", SEEDS, Settings(reader=reader),
                                     index_dir=tmp_path / "index")
    recorded = json.loads((DATA / "followup_baseline.json").read_text(encoding="utf-8"))
    base = recorded["reader" if reader else "no_reader"]
    for r in results:
        for key in HIGHER_IS_BETTER:
            assert getattr(r, key) >= base[r.mode][key], (r.mode, key, getattr(r, key), base[r.mode][key])


@pytest.mark.parametrize("question", ["من هو حيدان؟", "ومن هو حيدان؟", "Where is Aden?"])
def test_a_short_question_that_names_its_subject_stands_alone(question):
    assert not is_follow_up(question) and not needs_context(question)


def test_a_follow_up_opening_with_wa_still_asks_for_a_date_or_number():
    from qa.answer.cues import wanted_type

    assert wanted_type("ومتى حدث ذلك؟") == "date" and wanted_type("وكم عددهم؟") == "number"
    assert wanted_type("and when?") == "date"


def test_qa_chat_json_keeps_stdout_to_json_lines(bot: Assistant, capsys, monkeypatch):
    lines = iter(["من التقى وزير الخارجية اليمني؟", "/sources", "/help"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(lines))

    def read(prompt: str) -> str:
        try:
            return input(prompt)
        except StopIteration:
            raise EOFError from None

    said: list[str] = []
    assert chat(bot, read, said.append, as_json=True) == 0
    assert len(said) == 1 and json.loads(said[0])["question"] == "من التقى وزير الخارجية اليمني؟"
    err = capsys.readouterr().err
    assert "/sources" in err and "quote: chars" in err
