import numpy as np

from qa import arabic
from qa.answer.bridge import WordVectors, bridged_share
from qa.answer.compose import REFUSAL_AR, REFUSAL_EN, Composer
from qa.answer.cues import wanted_type
from qa.answer.refusal import LEXICAL_ONLY, Calibration, assess
from qa.query import Query, analyse
from qa.settings import Settings
from qa.types import Article, Chunk, Hit

TEXT = (
    "وزير الداخلية يلتقي السفير\n\n"
    "بحث وزير الداخلية اليمني اللواء إبراهيم حيدان مع السفير الأمريكي سبل التعاون. "
    "وتناول اللقاء برامج التدريب. وأكد الطرفان أهمية الشراكة."
)
ART = Article("a.txt", "وزير الداخلية يلتقي السفير", TEXT)
CHUNK = Chunk(0, "a.txt", 0, len(TEXT), TEXT)
IDF = {"زير": 1.0, "داخل": 2.0, "يمن": 1.0, "تدريب": 2.0, "برامج": 2.0, "سفير": 1.0, "عاصم": 3.0, "فرنسا": 3.0}


def ask(text: str, idf: dict[str, float] = IDF, passage: str = TEXT) -> Query:
    """The question analysed against an index whose best match is `passage`."""
    return analyse(text, idf, best_match=lambda *_: passage)


def compose(question, hits, articles, idf, settings, calibration=LEXICAL_ONLY):
    passage = hits[0].chunk.text if hits else TEXT
    return Composer(articles, settings, calibration).compose(ask(question, idf, passage), hits)


def bridge(question: str, sentences: list[str], words: WordVectors) -> float:
    return bridged_share(arabic.words(question), sentences, words)


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


def test_answer_type_cues():
    assert wanted_type("كم عدد الحجاج هذا العام؟") == "number"
    assert wanted_type(" - متى تأسست الشركة؟") == "date"
    assert wanted_type("في أي عام ولد؟") == "date"
    assert wanted_type("How many people attended?") == "number"
    assert wanted_type("من هو وزير الداخلية؟") is None


def test_a_how_many_question_prefers_the_sentence_with_a_number():
    text = ("افتتاح مستشفى في عدن\n\n"
            "افتتحت وزارة الصحة مستشفى الأمل في عدن بحضور المحافظ. "
            "وتبلغ سعة مستشفى الأمل 200 سرير.")
    art = Article("h.txt", "افتتاح مستشفى في عدن", text)
    chunk = Chunk(0, "h.txt", 0, len(text), text)
    idf = {"مستشف": 1.0, "امل": 2.0, "عدن": 1.0, "سعه": 1.0}
    hits = [Hit(chunk, 1.0, 1, 1, None, 5.0)]
    question = "كم عدد الأسرة في مستشفى الأمل في عدن؟"
    a = compose(question, hits, {"h.txt": art}, idf, Settings(max_sentences=1))
    assert "200" in a.citations[0].quote
    plain = compose(question, hits, {"h.txt": art}, idf, Settings(max_sentences=1, answer_type_bonus=0.0))
    assert "200" not in plain.citations[0].quote  # the cue is what made the difference


def test_evidence_weighs_question_terms_in_one_sentence_apart_from_the_passage():
    hits = [Hit(CHUNK, 1.0, 1, 1, None, 5.0)]
    # every term is in the passage, but spread over two sentences
    spread = assess(ask("برامج التدريب وزير الداخلية"), hits, {"a.txt": ART})
    assert spread.lexical == 1.0 and 0.0 < spread.sentence < 1.0
    together = assess(ask("وزير الداخلية اليمني"), hits, {"a.txt": ART})
    assert together.lexical == together.sentence == 1.0


class DictionaryEmbedder:
    """Words that translate each other share a vector; every other word gets its own."""

    model_id, dimension = "dictionary", 64

    def __init__(self) -> None:
        self.embedded: list[str] = []
        self.slot = {"minister": 0, "وزير": 0, "training": 1, "التدريب": 1}

    def embed_documents(self, texts, progress=None):
        self.embedded += texts
        out = np.zeros((len(texts), self.dimension), np.float32)
        for i, t in enumerate(texts):
            out[i, self.slot.setdefault(t, len(self.slot))] = 1.0
        return out


def test_the_word_bridge_finds_translated_words_in_one_sentence():
    words = WordVectors(DictionaryEmbedder())
    sentences = ["بحث وزير الداخلية اليمني مع السفير.", "وتناول اللقاء برامج التدريب."]
    assert bridge("Who is the minister?", sentences, words) == 1.0  # who/is/the are stop words
    # two content words, each translated, but in different sentences: one sentence holds half
    assert bridge("minister training", sentences, words) == 0.5
    assert bridge("minister training", ["وزير التدريب"], words) == 1.0
    assert bridge("What is the weather?", sentences, words) == 0.0
    assert bridge("minister", [], words) == 0.0


def test_word_vectors_are_embedded_once():
    embedder = DictionaryEmbedder()
    words = WordVectors(embedder)
    words(["وزير", "minister"])
    words(["minister", "وزير", "وزير"])
    assert sorted(embedder.embedded) == ["minister", "وزير"]


def test_a_cross_lingual_question_is_answered_on_dense_similarity_plus_the_bridge():
    hits = [Hit(CHUNK, 1.0, 1, None, 0.77, None)]
    rule = Calibration(dense_weight=1.0, lexical_weight=0.0, threshold=1.0, cross_threshold=0.78, bridge_weight=0.04)
    words = WordVectors(DictionaryEmbedder())
    bridged = assess(ask("Who is the minister?"), hits, {"a.txt": ART}, rule, words)
    assert bridged.cross_lingual and bridged.bridged == 1.0 and bridged.supported  # 0.77 + 0.04 >= 0.78
    unrelated = assess(ask("What is the weather?"), hits, {"a.txt": ART}, rule, words)
    assert unrelated.bridged == 0.0 and not unrelated.supported
    assert not assess(ask("Who is the minister?"), hits, {"a.txt": ART}, rule).supported  # no bridge given
