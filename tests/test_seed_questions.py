"""The seed question set (tests/data/seed_questions.jsonl: 47 answerable
questions over every paragraph, list and table of the two seed articles, with
spelling variants, diacritics, colloquial and English phrasings, plus 12 the
articles cannot answer) and its English companion (seed_questions_en.jsonl),
asked with the real default model. Fails on any regression below the numbers
recorded in tests/data/seed_baseline*.json.

The evaluations with the real model are marked slow (the first run on a
machine builds the model, ~20 s, into the cache; then about 30 s): CI runs them."""

import json

import pytest

from conftest import ROOT, SEEDS
from qa.eval import evaluate_jsonl
from qa.settings import Settings

DATA = ROOT / "tests" / "data"
HIGHER_IS_BETTER = ("recall_at_1", "recall_at_5", "mrr", "containment", "cited_right", "refusal_recall",
                    "refusal_precision")


# question set -> its recorded baseline. The English set (32 answerable questions in English
# over the same articles, 8 they cannot answer) measures cross-lingual answers, this model's
# weak spot; it guards against them getting worse, not a target met.
SETS = {"seed_questions.jsonl": "seed_baseline.json", "seed_questions_en.jsonl": "seed_baseline_en.json"}


@pytest.fixture(scope="module")
def result_of(tmp_path_factory):
    """Each set's evaluation, run once; the first builds the index, the others reuse it."""
    index_dir = tmp_path_factory.mktemp("seed") / "index"
    results = {}

    def evaluate(name: str):
        if name not in results:
            (results[name],) = evaluate_jsonl(DATA / name, SEEDS, Settings(), index_dir=index_dir)
        return results[name]

    return evaluate


def rows_of(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines()]


def test_seed_set_shape():
    rows = rows_of("seed_questions.jsonl")
    answerable = [r for r in rows if r["doc_id"]]
    assert len(answerable) >= 40 and len(rows) - len(answerable) >= 10
    assert any(r["question"].isascii() for r in answerable)


@pytest.mark.parametrize("name", SETS)
def test_gold_answers_are_in_their_articles(name):
    texts = {p.name: p.read_text(encoding="utf-8") for p in SEEDS.iterdir()}
    for r in rows_of(name):
        if r["doc_id"]:
            assert any(a in texts[r["doc_id"]] for a in r["answers"]), r["id"]


@pytest.mark.slow
@pytest.mark.parametrize("name", SETS)
def test_seed_set_does_not_regress(name, result_of):
    result = result_of(name)
    base = json.loads((DATA / SETS[name]).read_text(encoding="utf-8"))
    for key in HIGHER_IS_BETTER:
        assert getattr(result, key) >= base[key], (key, getattr(result, key), base[key])
    assert result.false_refusals <= base["false_refusals"]


@pytest.mark.slow
def test_every_out_of_scope_seed_question_is_refused(result_of):
    result = result_of("seed_questions.jsonl")
    assert result.out_of_scope >= 10 and result.refusal_recall == 1.0
