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


@pytest.mark.parametrize("first_margin", [-20.0, 0.0, 10.0, 40.0])
def test_passages_that_cannot_overtake_the_first_are_not_read(bot: Assistant, first_margin: float):
    query = bot.analyse("التعاون الأمني بين اليمن والولايات المتحدة")
    plain = bot.retriever.search(query, 4)
    gap = plain[0].score - plain[1].score
    w = bot.settings.reader_weight
    margins = {plain[0].chunk.text: first_margin, plain[1].chunk.text: 10.0}  # the second at the cap
    bot.reader = CappedReader(margins)
    read = bot.retrieve(query, 4)
    skipped = gap + w * first_margin >= w * CappedReader.margin_cap
    assert bot.reader.calls == ([1] if skipped else [1, 3])
    assert [h.reading is not None for h in read] == [True] + [not skipped] * 3
    bot.reader = StandInReader()  # no cap: all read at once, in the same order
    bot.reader.read = CappedReader(margins).read
    assert [h.chunk.chunk_id for h in bot.retrieve(query, 4)] == [h.chunk.chunk_id for h in read]
