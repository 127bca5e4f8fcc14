"""How the reader's readings flow through retrieval, refusal and the answer,
with a stand-in reader (the real one is exercised in the slow suite)."""

import json
from pathlib import Path

import pytest

from qa.assistant import Assistant, build_or_update
from qa.cli import main
from qa.types import Reading

NAME = "إبراهيم حيدان"


class StandInReader:
    """Points at NAME wherever a passage holds it; elsewhere no span."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def read(self, question: str, passages: list[str]) -> list[Reading]:
        self.calls.append(len(passages))
        out = []
        for text in passages:
            at = text.find(NAME)
            out.append(Reading(at, at + len(NAME), 9.0, 1.0) if at >= 0 else Reading(0, 0, -5.0, 3.0))
        return out


@pytest.fixture
def bot(seeds: Path, tmp_path: Path, fake_settings) -> Assistant:
    build_or_update(seeds, tmp_path / "index", fake_settings)
    return Assistant.open(tmp_path / "index", fake_settings.with_(reader_passages=4, reader_weight=0.5),
                          reader=StandInReader())


def test_the_short_answer_is_the_span_with_exact_article_offsets(bot: Assistant):
    a = bot.ask("من هو وزير الداخلية اليمني؟")
    assert not a.refused and a.short_answer is not None
    s = a.short_answer
    article = bot.index.articles[a.citations[s.n - 1].doc_id].text
    c = a.citations[s.n - 1]  # the sentence holding the span
    assert s.text == NAME and article[s.start : s.end] == NAME
    assert c.start <= s.start and s.end <= c.end and article[c.start : c.end] == c.quote
    assert f"{c.quote} [{s.n}]" in a.text
    assert len({(x.doc_id, x.start) for x in a.citations}) == len(a.citations) <= 3  # none quoted twice
    assert a.evidence.reader == 8.0  # the best margin among the top passages
    assert bot.reader.calls == [4]  # the reader read reader_passages hits once


def test_reading_re_ranks_the_passages_it_read(bot: Assistant):
    query = bot.analyse("التعاون الأمني بين اليمن والولايات المتحدة")
    plain = bot.retriever.search(query, 4)
    last = plain[-1].chunk.text

    class FavoursTheLast(StandInReader):
        def read(self, question, passages):
            return [Reading(0, 5, 20.0, 0.0) if p == last else Reading(0, 0, -5.0, 3.0) for p in passages]

    bot.reader = FavoursTheLast()
    read = bot.retrieve(query, 4)
    assert {h.chunk.chunk_id for h in read} == {h.chunk.chunk_id for h in plain}
    assert read[0].chunk.text == last  # its margin (20, weight 0.5) outweighs the fused scores
    assert all(h.reading is not None for h in read)
    assert [h.score for h in read] == sorted((h.score for h in read), reverse=True)
    bot.settings = bot.settings.with_(reader_weight=0.0)
    assert [h.chunk.chunk_id for h in bot.retrieve(query, 4)] == [h.chunk.chunk_id for h in plain]  # weight 0


def test_ask_json_has_the_short_answer_or_null(bot: Assistant, tmp_path: Path, capsys, monkeypatch):
    from qa.cli.output import answer_dict

    d = answer_dict(bot.ask("من هو وزير الداخلية اليمني؟"))
    article = bot.index.articles[d["citations"][d["short_answer"]["n"] - 1]["doc_id"]].text
    assert article[d["short_answer"]["start"] : d["short_answer"]["end"]] == d["short_answer"]["text"] == NAME
    assert answer_dict(bot.ask("ما هي عاصمة فرنسا؟"))["short_answer"] is None  # refused
    assert main(["ask", "سؤال", "--index", str(tmp_path / "index"), "--json", "--no-reader"]) == 0
    assert json.loads(capsys.readouterr().out)["short_answer"] is None  # the fake model has no reader anyway


class CappedReader(StandInReader):
    """Gives each passage a set margin and says no margin exceeds `margin_cap`."""

    margin_cap = 10.0

    def __init__(self, margins: dict[str, float]) -> None:
        super().__init__()
        self.margins = margins

    def read(self, question, passages):
        self.calls.append(len(passages))
        return [Reading(0, 3, self.margins.get(p, 0.0), 0.0) for p in passages]


@pytest.mark.parametrize("side", [-1, 1])
def test_passages_that_cannot_overtake_the_first_are_not_read(bot: Assistant, side: int):
    from dataclasses import replace

    query = bot.analyse("التعاون الأمني بين اليمن والولايات المتحدة")
    plain = bot.retriever.search(query, 4)
    w, cap = bot.settings.reader_weight, CappedReader.margin_cap
    # just below or just above the margin the first needs so that no other could pass it
    needed = cap - (plain[0].score - max(h.score for h in plain[1:])) / w
    # the second at the cap, the last at half of it (it passes the third in a full read)
    margins = {plain[0].chunk.text: needed + side * 0.01, plain[1].chunk.text: cap, plain[-1].chunk.text: cap / 2}
    bot.reader = CappedReader(margins)
    read = bot.retrieve(query, 4)
    if side < 0:  # the second could still pass the first: all read, and ranked by score + w * margin
        assert bot.reader.calls == [1, 3] and all(h.reading is not None for h in read)
        full = sorted(plain, key=lambda h: -(h.score + w * margins.get(h.chunk.text, 0.0)))
        assert [h.chunk.chunk_id for h in read] == [h.chunk.chunk_id for h in full]
        assert read[0].chunk.chunk_id == plain[1].chunk.chunk_id  # and it did
    else:  # none could: the first alone is read, the rest keep their fused order
        assert bot.reader.calls == [1] and [h.reading is not None for h in read] == [True, False, False, False]
        assert [h.chunk.chunk_id for h in read] == [h.chunk.chunk_id for h in plain]
        assert bot.answer(query, read).evidence.reader == pytest.approx(needed + 0.01)  # the first's margin only
    bot.reader = CappedReader(margins)  # a refusal rule that weighs the reader's margins sees all of them
    bot.composer.calibration = replace(bot.composer.calibration, reader_weight=0.01)
    bot.retrieve(query, 4)
    assert bot.reader.calls == [4]
