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
    side = " ".join(m.value for m in app.sidebar.markdown)
    assert "2 مقالة مفهرسة · 2 articles indexed" in side and "test model" in side and "chunks" not in side


def test_seed_question_gets_the_answer_first_then_source_chips(app: AppTest):
    html = ask(app, "من هو وزير الداخلية اليمني؟")
    markers = set(re.findall(r'href="#(a\d+-\d+)"', html))
    targets = set(re.findall(r'<(?:details class="qa-source"|span) id="(a\d+-\d+)"', html))
    assert markers and markers <= targets
    assert html.index('class="qa-answer"') < html.index('class="qa-source"')
    assert "001_32ac849551dd6a76.txt" in html and "<mark" in html and "إبراهيم حيدان" in html
    files = set(re.findall(r'<div class="qa-file">([^<]+)</div>', html))
    assert html.count("<details") == len(files)  # one chip an article
    assert 'class="qa-rtl"' in html


def test_example_button_asks_and_the_examples_go(app: AppTest):
    next(b for b in app.button if b.label == "من التقى وزير الخارجية اليمني؟").click().run()
    assert "000_1e06ce93cb234a3e.txt" in html_of(app)
    assert not any(b.label == "من هو وزير الداخلية اليمني؟" for b in app.button)


def test_refusal_has_no_sources_and_suggests_a_rephrasing(app: AppTest):
    html = ask(app, "ما هي عاصمة فرنسا؟")
    assert "لم أجد في المقالات المفهرسة" in html and "جرّب كلمات أخرى" in html and "qa-refusal" in html
    assert 'class="qa-source"' not in html


def test_a_follow_up_is_read_against_the_last_question(app: AppTest):
    ask(app, "من التقى وزير الخارجية اليمني؟")
    html = ask(app, "وماذا ناقشا؟")
    assert "فهمتُ سؤالك متابعةً لـ«من التقى وزير الخارجية اليمني؟»" in html
    alone = AppTest.from_file(APP, default_timeout=60)
    alone.run()
    assert "لم أفهم السؤال" in ask(alone, "وماذا ناقشا؟")


def test_the_conversation_survives_a_reload_and_new_conversation_starts_afresh(app: AppTest):
    ask(app, "من هو وزير الداخلية اليمني؟")
    ask(app, "ما هي عاصمة فرنسا؟")
    assert len(app.chat_message) == 4
    conv = app.query_params["c"]
    again = AppTest.from_file(APP, default_timeout=60)
    again.query_params["c"] = conv
    again.run()
    assert len(again.chat_message) == 4 and "إبراهيم حيدان" in html_of(again)
    next(b for b in again.sidebar.button if b.key == "new_chat").click().run()
    assert len(again.chat_message) == 0 and again.query_params["c"] != conv


def test_the_input_disables_itself_while_answering_and_an_error_leaves_it_usable(app: AppTest, monkeypatch):
    from qa import Assistant
    from qa.errors import IndexUnusable

    box = app.chat_input[0]
    # the browser disables the box from send until the answer is drawn (checked in test_browser_slow.py)
    assert box.proto.submit_mode == box.proto.SubmitMode.SUBMIT_MODE_DISABLE and not box.disabled
    real_ask = Assistant.ask

    def failing(self, question, **kw):  # an error whose text carries a file name that is markdown
        raise IndexUnusable("the index files are damaged: ![b](http://tracker.example/b.png) [x](http://x.example)")

    monkeypatch.setattr(Assistant, "ask", failing)
    ask(app, "من هو وزير الداخلية اليمني؟")
    assert app.error and "خطأ" in app.error[0].value and "damaged" in app.error[0].value
    assert "![b](" not in app.error[0].value and "[x](" not in app.error[0].value  # shown as text, not fetched
    assert not app.chat_input[0].disabled
    monkeypatch.setattr(Assistant, "ask", real_ask)
    assert "إبراهيم حيدان" in ask(app, "من هو وزير الداخلية اليمني؟")


def test_feedback_is_saved_with_the_question_answer_and_citations(app: AppTest, tmp_path: Path):
    from ui.chats import ChatStore

    ask(app, "من هو وزير الداخلية اليمني؟")
    app.feedback[0].set_value(1).run()
    assert not app.exception
    (row,) = ChatStore(tmp_path / "index" / "chat.sqlite3").feedback_rows()
    assert row["score"] == 1 and row["question"] == "من هو وزير الداخلية اليمني؟"
    assert row["citations"] and row["citations"][0]["doc_id"].endswith(".txt") and "[1]" in row["reply"]


def upload(at: AppTest, name: str, data: bytes) -> None:
    at.sidebar.file_uploader[0].set_value((name, data, "text/plain")).run()
    next(b for b in at.sidebar.button if "Add and re-index" in b.label).click().run()
    assert not at.exception, at.exception


def test_upload_a_new_article_and_ask_about_it(app: AppTest, seeds: Path):
    text = "افتتاح مستشفى الأمل في عدن\n\nافتتحت وزارة الصحة مستشفى الأمل الجديد في مدينة عدن بسعة مئتي سرير."
    upload(app, "../../مستشفى.txt", text.encode())
    assert (seeds / "مستشفى.txt").read_text(encoding="utf-8") == text
    assert any("3 articles indexed" in m.value for m in app.sidebar.markdown)
    html = ask(app, "كم سعة مستشفى الأمل في عدن؟")
    assert "مستشفى.txt" in html and "مئتي سرير" in html


def test_article_html_and_script_render_as_text(app: AppTest):
    evil = ("بيان مريب عن شبكة الكهرباء\n\n<script>alert('x')</script> أعلنت شركة الكهرباء انقطاع التيار "
            "<b>غدا</b> في صنعاء ![صورة](http://example.invalid/track.png) لمدة ساعتين.")
    upload(app, "evil.txt", evil.encode())
    html = ask(app, "متى ينقطع التيار الكهربائي في صنعاء؟")
    assert "evil.txt" in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "<script>alert" not in html and "<b>" not in html and "<img" not in html
    assert "![صورة](http://example.invalid/track.png)" in html  # shown as text, not as an image
    assert not any("example.invalid" in m.value for m in app.markdown)


def test_reindex_folder_picks_up_dropped_files(app: AppTest, seeds: Path):
    (seeds / "dropped.txt").write_text("خبر عن الزراعة\n\nارتفع إنتاج البن اليمني هذا العام.", encoding="utf-8")
    next(b for b in app.sidebar.button if "Re-index folder" in b.label).click().run()
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


def test_a_failed_upload_is_reported_until_dismissed_and_not_kept(app: AppTest, seeds: Path):
    upload(app, "bad.txt", "خبر".encode("cp1256") + b"\xff\xfe\x00")
    shown = r"bad\.txt"  # markdown characters of file names are escaped in notices
    warned = [w.value for w in app.sidebar.warning]
    assert any(shown in w for w in warned) and not (seeds / "bad.txt").exists()
    ask(app, "من هو وزير الداخلية اليمني؟")  # another run: the report is still there
    assert any(shown in w.value for w in app.sidebar.warning)
    next(b for b in app.sidebar.button if b.key == "dismiss").click().run()
    assert not any(shown in w.value for w in app.sidebar.warning)


def test_the_library_lists_articles_and_removes_one_after_confirmation(app: AppTest, seeds: Path):
    listing = html_of(app)
    assert "«تعزيز الأمان» مباحثات يمنية أمريكية" in listing and "تخادم الحوثيين" in listing
    assert "مفهرسة · indexed" in listing
    app.sidebar.text_input(key="lib_filter").set_value("تخادم").run()
    assert "تعزيز الأمان" not in html_of(app).split('class="qa-lib"')[1]
    app.sidebar.selectbox(key="lib_pick").select_index(0).run()
    app.sidebar.button(key="lib_remove").click().run()
    assert any(r"000\_1e06ce93cb234a3e\.txt" in w.value for w in app.sidebar.warning)  # asks first
    assert (seeds / "000_1e06ce93cb234a3e.txt").exists()
    app.sidebar.button(key="lib_yes").click().run()
    assert not app.exception and not (seeds / "000_1e06ce93cb234a3e.txt").exists()
    assert any("1 articles indexed" in m.value for m in app.sidebar.markdown)


def test_glued_table_cells_are_shown_apart_where_the_article_says_so():
    from ui import render

    vocab = render.vocabulary("السفير عبدالله السعدي، مندوب اليمن. الدكتور شائع الزنداني وزير الخارجية")
    assert render.unglue("عبدالله السعديمندوب اليمن", vocab) == "عبدالله السعدي مندوب اليمن"
    assert render.unglue("الزندانيوزير", vocab) == "الزنداني وزير"
    assert render.unglue("المشاركونالموقع", vocab) == "المشاركونالموقع"  # no such words: left alone


def test_the_page_script_survives_streamlits_html_cleaning():
    """DOMPurify (SAFE_FOR_XML) drops a <script> whose text has "<" before a word character."""
    from ui import render

    body = render.PAGE_SCRIPT.removeprefix("<script>").removesuffix("</script>")
    assert "<script" not in body and not re.search(r"<[/\w]", body)
    assert render.scroll_marker("a12").startswith('<div class="qa-scroll" data-target="a12"')
    with pytest.raises(ValueError):
        render.scroll_marker("a1'><img")


def test_an_llm_reply_is_streamed_then_shown_checked(seeds: Path, tmp_path: Path, monkeypatch):
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    import qa.llm
    from qa import Assistant, Settings, build_or_update

    build_or_update(seeds, tmp_path / "index", Settings(model="fake"))
    hits = Assistant.open(tmp_path / "index").search("من هو وزير الداخلية اليمني؟")
    n = next(i for i, h in enumerate(hits[:3], 1) if "حيدان" in h.chunk.text)  # the passage that names him
    fake = FakeListChatModel(responses=[f"اللواء الركن إبراهيم حيدان [{n}]\nوقد زار القمر مرتين [{n}]."])
    monkeypatch.setattr(qa.llm, "chat_model", lambda settings: fake)
    real = qa.llm.make_writer  # the fake embedder's similarities mean little: drop that bar (see test_llm.py)
    monkeypatch.setattr(qa.llm, "make_writer", lambda settings, *a: real(settings.with_(verify_dense=0.0), *a))
    monkeypatch.setenv("QA_DOCS", str(seeds))
    monkeypatch.setenv("QA_INDEX", str(tmp_path / "index"))
    monkeypatch.setenv("QA_MODEL", "fake")
    monkeypatch.setenv("QA_LLM", "openai:fake")
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    html = ask(at, "من هو وزير الداخلية اليمني؟")
    assert "<strong>اللواء الركن إبراهيم حيدان" in html and "زار القمر" not in html
    assert "تحقّقتُ من 1 من 2 جمل" in html  # the note says how much was checked
    assert html.count('class="qa-source"') == 1 and "<mark" in html


def test_answers_round_trip_through_the_chat_store_with_an_llm_reply(tmp_path: Path):
    from qa.types import Answer, Chunk, Citation, ShortAnswer, Written
    from ui.chats import ChatStore

    chunk = Chunk(3, "a.txt", 10, 40, "قال الوزير إبراهيم حيدان كلمته")
    cite = Citation(1, "a.txt", "عنوان", "إبراهيم حيدان", 21, 35, chunk, 0.9, "سبأ", None, "2025-01-02")
    written = Written("إبراهيم حيدان [1]", (cite,), 2, 1, ("جملة أسقطت",), "openai:local", 1.5)
    answer = Answer("من؟", "قال الوزير إبراهيم حيدان كلمته [1]", False, (cite,), "ar",
                    short_answer=ShortAnswer("إبراهيم حيدان", 1, 21, 35), follows="سؤال سابق", written=written)
    store = ChatStore(tmp_path / "chat.sqlite3")
    store.add("c" * 32, 1, {"role": "assistant", "answer": answer})
    (back,) = store.messages("c" * 32)
    assert back["answer"] == answer


def test_a_crafted_record_id_in_a_notice_is_shown_as_text(app: AppTest):
    crafted = '[{"id": "![x](http://e.invalid/t.png) [link](http://e.invalid)", "title": "t"}]'
    upload(app, "crafted.json", crafted.encode())
    notices = " ".join(w.value for w in app.sidebar.warning)
    assert r"e\.invalid" in notices  # the id is reported ...
    assert "![x](" not in notices and "[link](" not in notices  # ... with its markdown escaped: no image, no link
    assert r"\!\[x\]\(http" in notices
