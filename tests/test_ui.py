"""The Streamlit app through streamlit.testing.v1.AppTest, with the fake
embedder and private copies of the seeds and the index."""

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT

APP = str(ROOT / "ui" / "app.py")


@pytest.fixture
def app(seeds: Path, tmp_path: Path, monkeypatch) -> AppTest:
    monkeypatch.setenv("QA_DOCS", str(seeds))
    monkeypatch.setenv("QA_INDEX", str(tmp_path / "index"))
    monkeypatch.setenv("QA_MODEL", "fake")
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def html_of(at: AppTest) -> str:
    return "\n".join(h.value for h in at.html)


def ask(at: AppTest, question: str) -> str:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return html_of(at)


def test_empty_chat_builds_the_index_and_shows_examples(app: AppTest):
    labels = [b.label for b in app.button]
    assert "من هو وزير الداخلية اليمني؟" in labels
    assert any("2** articles" in m.value for m in app.sidebar.markdown)


def test_seed_question_gets_a_cited_answer_with_matching_cards(app: AppTest):
    html = ask(app, "من هو وزير الداخلية اليمني؟")
    markers = set(re.findall(r'href="#(a\d+-\d+)"', html))
    cards = set(re.findall(r'class="qa-card" id="(a\d+-\d+)"', html))
    assert markers and markers == cards
    assert "001_32ac849551dd6a76.txt" in html
    assert "<mark>" in html and "إبراهيم حيدان" in html
    assert 'dir="auto"' in html
    assert len(app.expander) == len(cards)


def test_example_button_asks(app: AppTest):
    next(b for b in app.button if b.label == "من التقى وزير الخارجية اليمني؟").click().run()
    assert "000_1e06ce93cb234a3e.txt" in html_of(app)


def test_refusal_has_no_cards(app: AppTest):
    html = ask(app, "ما هي عاصمة فرنسا؟")
    assert "لم أجد في المقالات المفهرسة" in html and "qa-refusal" in html
    assert 'class="qa-card"' not in html


def test_history_is_kept_and_clear_chat_empties_it(app: AppTest):
    ask(app, "من هو وزير الداخلية اليمني؟")
    ask(app, "ما هي عاصمة فرنسا؟")
    assert len(app.chat_message) == 4
    next(b for b in app.button if b.label == "Clear chat").click().run()
    assert len(app.chat_message) == 0


def upload(at: AppTest, name: str, data: bytes) -> None:
    at.sidebar.file_uploader[0].set_value((name, data, "text/plain")).run()
    next(b for b in at.sidebar.button if b.label == "Add and re-index").click().run()
    assert not at.exception, at.exception


def test_upload_a_new_article_and_ask_about_it(app: AppTest, seeds: Path):
    text = "افتتاح مستشفى الأمل في عدن\n\nافتتحت وزارة الصحة مستشفى الأمل الجديد في مدينة عدن بسعة مئتي سرير."
    upload(app, "../../مستشفى.txt", text.encode())
    assert (seeds / "مستشفى.txt").read_text(encoding="utf-8") == text
    assert "added 1" in app.session_state.last_report
    assert any("3** articles" in m.value for m in app.sidebar.markdown)
    html = ask(app, "كم سعة مستشفى الأمل في عدن؟")
    assert "مستشفى.txt" in html and "مئتي سرير" in html


def test_article_html_and_script_render_as_text(app: AppTest):
    evil = ("بيان مريب عن شبكة الكهرباء\n\n<script>alert('x')</script> أعلنت شركة الكهرباء انقطاع التيار "
            "<b>غدا</b> في صنعاء ![صورة](http://example.invalid/track.png) لمدة ساعتين.")
    upload(app, "evil.txt", evil.encode())
    html = ask(app, "متى ينقطع التيار الكهربائي في صنعاء؟")
    assert "evil.txt" in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "<script" not in html and "<b>" not in html and "<img" not in html
    assert "![صورة](http://example.invalid/track.png)" in html  # shown as text, not as an image
    assert not any("example.invalid" in m.value for m in app.markdown)


def test_reindex_folder_picks_up_dropped_files(app: AppTest, seeds: Path):
    (seeds / "dropped.txt").write_text("خبر عن الزراعة\n\nارتفع إنتاج البن اليمني هذا العام.", encoding="utf-8")
    next(b for b in app.sidebar.button if b.label == "Re-index folder").click().run()
    assert not app.exception
    assert "dropped.txt" in ask(app, "ما الذي ارتفع إنتاجه في اليمن هذا العام؟ البن")


def test_the_short_answer_comes_first_in_bold_and_escaped():
    from qa.types import Answer, Chunk, Citation, ShortAnswer
    from ui import render

    text = "قال الوزير <b>إبراهيم</b> حيدان كلمته."
    chunk = Chunk(0, "a.txt", 0, len(text), text)
    citation = Citation(1, "a.txt", "عنوان", text, 0, len(text), chunk, 1.0)
    answer = Answer("من؟", f"{text} [1]", False, (citation,), "ar",
                    short_answer=ShortAnswer("<b>إبراهيم</b> حيدان", 1, 10, 28))
    html = render.answer_html(answer, "a1")
    assert html.index('class="qa-short"') < html.index('class="qa-answer"')
    assert "<strong>&lt;b&gt;إبراهيم&lt;/b&gt; حيدان</strong>" in html and "<b>" not in html
    assert 'href="#a1-1"' in html
    plain = render.answer_html(Answer("من؟", f"{text} [1]", False, (citation,), "ar"), "a1")
    assert "qa-short" not in plain
