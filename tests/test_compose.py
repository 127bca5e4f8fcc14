from qa.compose import REFUSAL_AR, REFUSAL_EN, compose
from qa.settings import Settings
from qa.types import Article, Chunk, Hit

TEXT = (
    "وزير الداخلية يلتقي السفير\n\n"
    "بحث وزير الداخلية اليمني اللواء إبراهيم حيدان مع السفير الأمريكي سبل التعاون. "
    "وتناول اللقاء برامج التدريب. وأكد الطرفان أهمية الشراكة."
)
ART = Article("a.txt", "وزير الداخلية يلتقي السفير", TEXT)
CHUNK = Chunk(0, "a.txt", 0, len(TEXT), TEXT)
IDF = {"زير": 1.0, "داخليه": 2.0, "يمن": 1.0, "تدريب": 2.0, "برامج": 2.0, "سفير": 1.0, "عاصم": 3.0, "فرنس": 3.0}


def test_quotes_the_best_sentence_verbatim_with_exact_offsets():
    hits = [Hit(CHUNK, 1.0, 1, 1, None, 5.0)]
    a = compose("من هو وزير الداخلية اليمني؟", hits, {"a.txt": ART}, IDF, Settings(max_sentences=1))
    assert not a.refused and a.language == "ar"
    assert len(a.citations) == 1
    c = a.citations[0]
    assert c.n == 1 and c.doc_id == "a.txt"
    assert "إبراهيم حيدان" in c.quote
    assert TEXT[c.start : c.end] == c.quote
    assert a.text == f"{c.quote} [1]"


def test_every_marker_has_a_citation_and_at_most_max_sentences():
    hits = [Hit(CHUNK, 1.0, 1, 1, None, 5.0)]
    a = compose("برامج التدريب وزير الداخلية", hits, {"a.txt": ART}, IDF, Settings(max_sentences=3))
    assert 1 <= len(a.citations) <= 3
    for c in a.citations:
        assert f"[{c.n}]" in a.text
        assert TEXT[c.start : c.end] == c.quote


def test_refuses_without_evidence_in_the_question_language():
    hits = [Hit(CHUNK, 1.0, 1, None, 0.70, None)]
    ar = compose("ما هي عاصمة فرنسا؟", hits, {"a.txt": ART}, IDF, Settings())
    assert ar.refused and ar.text == REFUSAL_AR and ar.citations == ()
    en = compose("What is the capital of France?", hits, {"a.txt": ART}, IDF, Settings())
    assert en.refused and en.text == REFUSAL_EN and en.language == "en"
    none = compose("من هو وزير الداخلية؟", [], {}, IDF, Settings())
    assert none.refused
