"""Streamlit chat over the `qa` library: widgets and rendering only.

Start it with `qa ui` (or `streamlit run ui/app.py`). Folders and model come
from the environment, which `qa ui --docs D --index I --model M` sets:
QA_DOCS (default seeds/), QA_INDEX (default index/, or a Milvus address),
QA_MODEL (default: the index's own model, or the offline default for a new
index). The conversation is kept in chat.sqlite3 in the index folder (with
Milvus: in QA_CHATS, default chats/) under the id in the page's URL (`?c=...`), so
a reload shows it again (ui/chats.py).
"""

from __future__ import annotations

import os
import re
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import streamlit as st

from qa import Answer, Assistant, QAError, Settings
from qa.answer.reader import Reader, load_reader
from qa.arabic import reply_language
from qa.backends import current_name, index_exists, parse_location, read_manifest
from qa.conversation import shown_citations
from qa.embedding import Embedder, load_embedder, resolve_runtime
from qa.errors import BadSettings
from qa.query import MAX_QUESTION_CHARS
from ui import render
from ui.chats import ChatStore
from ui.sidebar import reindex, sidebar
from ui.texts import both, plain, say

EXAMPLES = [
    "من هو وزير الداخلية اليمني؟",
    "من التقى وزير الخارجية اليمني؟",
    "ما أبرز محاور التعاون الأمني بين اليمن والولايات المتحدة؟",
    "Who is Yemen's interior minister?",
]

DOCS = Path(os.environ.get("QA_DOCS", "seeds"))
INDEX = parse_location(os.environ.get("QA_INDEX", "index"))
CHATS = (INDEX if isinstance(INDEX, Path) else Path(os.environ.get("QA_CHATS", "chats"))) / "chat.sqlite3"
_CONV = re.compile(r"[0-9a-f]{32}")


def settings() -> Settings:
    """The model (QA_MODEL, else the index's, else the default), its runtime
    (QA_RUNTIME, else the index's, else the default) and the optional LLM writer
    (QA_LLM, QA_LLM_BASE_URL, QA_LLM_TIMEOUT, as `qa ui --llm` sets them)."""
    manifest = read_manifest(INDEX)
    model = os.environ.get("QA_MODEL") or (manifest.embedder if manifest else Settings().model)
    runtime = resolve_runtime(os.environ.get("QA_RUNTIME") or "auto", manifest.runtime if manifest else None, model)
    timeout = os.environ.get("QA_LLM_TIMEOUT")
    try:
        seconds = float(timeout) if timeout else Settings.llm_timeout
    except ValueError as exc:
        raise BadSettings(f"QA_LLM_TIMEOUT must be a number of seconds, got {timeout!r}") from exc
    return Settings(model=model, runtime=runtime, llm=os.environ.get("QA_LLM") or None,
                    llm_base_url=os.environ.get("QA_LLM_BASE_URL") or None, llm_timeout=seconds)


def get_embedder(s: Settings) -> Embedder:
    """The embedder `s` names (model and runtime), loaded once."""
    return _embedder(s.model, s.runtime)


@st.cache_resource(show_spinner=False)
def _embedder(model_id: str, runtime: str) -> Embedder:
    return load_embedder(model_id, runtime=runtime)


@st.cache_resource(show_spinner=False)
def get_reader(model_id: str, runtime: str) -> Reader | None:
    return load_reader(model_id, embedder=_embedder(model_id, runtime))


@st.cache_resource(show_spinner=False, max_entries=2)
def get_assistant(index: str, version: str, _embedder: Embedder) -> Assistant:
    """One Assistant per index version: a re-index makes a new version and so a
    fresh Assistant on the next question, without restarting the app (the
    models are loaded once)."""
    return Assistant.open(index, settings().with_(model=_embedder.model_id), embedder=_embedder,
                          reader=get_reader(_embedder.model_id, _embedder.runtime))


def current_assistant() -> Assistant | None:
    version = current_name(INDEX)
    if version is None:
        return None
    return get_assistant(str(INDEX), version, get_embedder(settings()))


def load_models() -> None:
    """Load the models when the app opens, with a visible status (not on the first question)."""
    if st.session_state.get("models_ready"):
        return
    slot = st.empty()
    with slot.container():
        with st.status(both("loading_models")) as status:
            s = settings()
            get_embedder(s)
            get_reader(s.model, s.runtime)
            status.update(label=both("models_ready"), state="complete")
    slot.empty()
    st.session_state.models_ready = True


def conversation(chats: ChatStore) -> str:
    """This browser tab's conversation id (from the URL; a new one if none) and its messages."""
    conv = st.query_params.get("c", "")
    if not _CONV.fullmatch(conv):
        conv = uuid.uuid4().hex
        st.query_params["c"] = conv
    if st.session_state.get("conv") != conv:
        st.session_state.conv = conv
        st.session_state.messages = chats.messages(conv)
    return conv


def vocabularies(answer: Answer, bot: Assistant | None) -> dict[str, Counter[str]]:
    """Each cited article's words (to show glued table cells split), from the
    index when it still holds the article, else from the cited passages."""
    out: dict[str, Counter[str]] = {}
    for c in shown_citations(answer):
        if c.doc_id not in out:
            art = bot.index.articles.get(c.doc_id) if bot is not None else None
            out[c.doc_id] = render.vocabulary(art.text if art else c.chunk.text)
    return out


def show_answer(answer: Answer, key: str, seq: int, chats: ChatStore, bot: Assistant | None) -> None:
    vocab = vocabularies(answer, bot)
    st.html(render.answer_html(answer, key, vocab) + render.sources_html(answer, key, vocab))
    fb = f"fb-{st.session_state.conv}-{seq}"
    st.feedback("thumbs", key=fb, on_change=save_feedback, args=(chats, fb, seq, answer))


def save_feedback(chats: ChatStore, key: str, seq: int, answer: Answer) -> None:
    chats.feedback(st.session_state.conv, seq, st.session_state.get(key), answer)
    st.toast(say("feedback_saved", answer.language))


def ask_later(question: str) -> None:
    st.session_state.pending = question


def take_typed() -> None:
    typed = (st.session_state.get("typed") or "").strip()
    if typed:
        st.session_state.pending = typed


def ask_streaming(bot: Assistant, question: str, history: list[Answer], slot: Any, lang: str) -> Answer:
    """Ask with the LLM writer, its reply shown in the bubble as it streams
    (escaped: it is not markdown, since article text can reach it); the
    checked reply replaces it on the rerun."""
    written: list[str] = []

    def show(piece: str) -> None:
        written.append(piece)
        slot.html(render.text_html("".join(written), "qa-answer", lang))

    return bot.ask(question, history=history, on_token=show)


def answer_pending(question: str, chats: ChatStore) -> None:
    """Answer `question` inside the assistant's bubble, with progress in the
    question's language; keep both turns; then rerun to show them."""
    lang = reply_language(question)
    messages = st.session_state.messages
    history = [m["answer"] for m in messages if m["role"] == "assistant"]
    user = {"role": "user", "text": question}
    with st.chat_message("user"):
        st.html(render.text_html(question, "qa-question", lang))
    with st.chat_message("assistant"):
        slot = st.empty()
        slot.html(render.text_html(say("searching", lang), "qa-status", lang))
        try:
            bot = current_assistant()
            if bot is None:
                raise QAError(say("no_index", lang))
            answer = ask_streaming(bot, question, history, slot, lang) if bot.writer is not None else bot.ask(
                question, history=history)
        except QAError as exc:  # shown after the rerun that enables the input again; not kept
            st.session_state.failed = (question, say("error", lang, error=exc))
            st.rerun()
        slot.empty()
    conv = st.session_state.conv
    for msg in (user, {"role": "assistant", "answer": answer}):
        chats.add(conv, len(messages), msg)
        messages.append(msg)
    st.session_state.scroll_to = f"a{len(messages) - 1}"
    st.rerun()


def main() -> None:
    st.set_page_config(page_title="اسأل الأخبار · Ask the news", page_icon="📰", layout="centered")
    st.html(render.CSS)
    st.html(render.PAGE_SCRIPT, unsafe_allow_javascript=True)  # ours alone: no article or question text
    chats = ChatStore(CHATS)
    st.session_state.setdefault("upload_round", 0)
    st.title(both("title"))
    load_models()
    conv = conversation(chats)
    if not index_exists(INDEX) and reindex(DOCS, INDEX, settings(), get_embedder, chats,
                                                       say("building", "ar", docs=DOCS)) is None:
        st.stop()
    try:
        bot = current_assistant()
    except QAError as exc:  # e.g. QA_LLM names an LLM whose extra is not installed
        st.error(plain(both("error", error=exc)))
        st.stop()
    sidebar(DOCS, INDEX, settings(), get_embedder, chats, bot, conv)

    messages = st.session_state.messages
    for i, msg in enumerate(messages):
        with st.chat_message(msg["role"]):
            if msg["role"] == "user":
                st.html(render.text_html(msg["text"], "qa-question", reply_language(msg["text"])))
            else:
                show_answer(msg["answer"], f"a{i}", i, chats, bot)

    failed = st.session_state.pop("failed", None)
    if failed is not None:
        with st.chat_message("user"):
            st.html(render.text_html(failed[0], "qa-question", reply_language(failed[0])))
        with st.chat_message("assistant"):
            st.error(plain(failed[1]))
    pending = st.session_state.pop("pending", None)
    if not messages and pending is None:
        st.caption(both("examples"))
        cols = st.columns(2)
        for i, q in enumerate(EXAMPLES):
            cols[i % 2].button(q, key=f"example-{i}", use_container_width=True, on_click=ask_later, args=(q,))
    st.chat_input(say("placeholder", "ar"), key="typed", max_chars=MAX_QUESTION_CHARS, submit_mode="disable",
                  disabled=pending is not None, on_submit=take_typed)
    if pending is not None:
        answer_pending(pending, chats)
    target = st.session_state.pop("scroll_to", None)
    if target:
        st.html(render.scroll_marker(target))


main()
