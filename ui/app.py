"""Streamlit chat over the `qa` library: widgets and rendering only.

Start it with `qa ui` (or `streamlit run ui/app.py`). Folders and model come
from the environment, which `qa ui --docs D --index I --model M` sets:
QA_DOCS (default seeds/), QA_INDEX (default index/), QA_MODEL (default: the
index's own model, or the offline default for a new index).
"""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from qa import Assistant, QAError, Settings, build_or_update, store
from qa.answer.reader import Reader, load_reader
from qa.embedding import Embedder, load_embedder
from qa.indexer import IndexReport
from qa.loading import MAX_UPLOAD_BYTES, SUPPORTED_SUFFIXES, save_upload
from ui import render

EXAMPLES = [
    "من هو وزير الداخلية اليمني؟",
    "من التقى وزير الخارجية اليمني؟",
    "ما أبرز محاور التعاون الأمني بين اليمن والولايات المتحدة؟",
    "Who is Yemen's interior minister?",
]

DOCS = Path(os.environ.get("QA_DOCS", "seeds"))
INDEX = Path(os.environ.get("QA_INDEX", "index"))


def settings() -> Settings:
    model = os.environ.get("QA_MODEL")
    if not model:
        manifest = store.read_manifest(INDEX)
        model = manifest.embedder if manifest else Settings().model
    return Settings(model=model)


@st.cache_resource(show_spinner="Loading the embedding model…")
def get_embedder(model_id: str) -> Embedder:
    return load_embedder(model_id)


@st.cache_resource(show_spinner="Loading the answer reader…")
def get_reader(model_id: str) -> Reader | None:
    return load_reader(model_id, embedder=get_embedder(model_id))


@st.cache_resource(show_spinner="Opening the index…", max_entries=2)
def get_assistant(index_dir: str, version: str, _embedder: Embedder) -> Assistant:
    """One Assistant per index version: a re-index makes a new version and so a
    fresh Assistant on the next question, without restarting the app (the
    models are loaded once)."""
    return Assistant.open(Path(index_dir), Settings(model=_embedder.model_id), embedder=_embedder,
                          reader=get_reader(_embedder.model_id))


class StatusProgress:
    """The indexer's progress callbacks drawn as a Streamlit progress bar."""

    def __init__(self) -> None:
        self._bar = None
        self._done = 0
        self._total = 0
        self._what = ""

    def start(self, total: int, what: str) -> None:
        self._total, self._done, self._what = total, 0, what
        self._bar = st.progress(0.0, text=f"{what}: 0 / {total}")

    def advance(self, n: int) -> None:
        self._done += n
        if self._bar is not None and self._total:
            fraction = min(1.0, self._done / self._total)
            self._bar.progress(fraction, text=f"{self._what}: {self._done} / {self._total}")

    def close(self) -> None:
        pass


def summary(r: IndexReport) -> str:
    return (f"{r.articles} articles, {r.chunks} chunks — added {r.added}, updated {r.updated}, "
            f"removed {r.removed}, unchanged {r.unchanged}, skipped {len(r.skipped)}")


def reindex(label: str) -> IndexReport | None:
    s = settings()
    with st.status(label, expanded=True) as status:
        try:
            report = build_or_update(DOCS, INDEX, s, embedder=get_embedder(s.model), progress=StatusProgress())
        except QAError as exc:
            status.update(label=f"Indexing failed: {exc}", state="error")
            return None
        for sk in report.skipped:
            st.warning(f"skipped {sk.path}: {sk.reason}")
        for dup, same in report.duplicates:
            st.info(f"{dup} has the same content as {same} (indexed once)")
        status.update(label=f"Index ready: {summary(report)}", state="complete", expanded=False)
    st.session_state.last_report = summary(report)
    return report


def sidebar() -> None:
    with st.sidebar:
        st.header("Articles · المقالات")
        manifest = store.read_manifest(INDEX)
        if manifest:
            st.markdown(
                f"**{manifest.counts.get('articles', 0)}** articles · **{manifest.counts.get('chunks', 0)}** chunks  \n"
                f"model: `{manifest.embedder}`  \nbuilt: {manifest.created}"
            )
        else:
            st.markdown("No index yet.")
        if st.session_state.get("last_report"):
            st.caption(f"Last re-index: {st.session_state.last_report}")
        types = sorted(s.lstrip(".") for s in SUPPORTED_SUFFIXES)
        files = st.file_uploader(
            f"Add articles ({', '.join(types)}; up to {MAX_UPLOAD_BYTES // 1_000_000} MB each)",
            type=types, accept_multiple_files=True, key=f"upload-{st.session_state.upload_round}",
        )
        if files and st.button("Add and re-index", type="primary"):
            saved = 0
            for f in files:
                try:
                    save_upload(DOCS, f.name, f.getvalue())
                    saved += 1
                except QAError as exc:
                    st.error(str(exc))
                except OSError as exc:
                    st.error(f"could not save {f.name}: {exc.strerror}")
            if saved:
                reindex(f"Indexing {saved} uploaded file(s)…")
            st.session_state.upload_round += 1
            st.rerun()
        if st.button("Re-index folder", help=f"pick up files added to {DOCS} by other means"):
            reindex(f"Re-indexing {DOCS}…")
            st.rerun()
        if st.button("Clear chat"):
            st.session_state.messages = []
            st.rerun()


def show_answer(answer, key: str) -> None:
    st.html(render.answer_html(answer, key))
    for c in answer.citations:
        st.html(render.card_html(c, key))
        with st.expander(f"[{c.n}] whole passage · المقطع كاملًا"):
            st.html(render.passage_html(c))


def main() -> None:
    st.set_page_config(page_title="Arabic news QA · اسأل الأخبار", page_icon="📰", layout="centered")
    st.html(render.CSS)
    st.session_state.setdefault("messages", [])
    st.session_state.setdefault("upload_round", 0)
    st.title("اسأل الأخبار · Ask the news")

    if store.current_version(INDEX) is None:
        if reindex(f"No index yet: building it from {DOCS}…") is None:
            st.stop()
    sidebar()

    for i, msg in enumerate(st.session_state.messages):
        with st.chat_message(msg["role"]):
            if msg["role"] == "user":
                st.html(render.text_html(msg["text"], "qa-question"))
            else:
                show_answer(msg["answer"], f"a{i}")

    pending = None
    if not st.session_state.messages:
        st.caption("Try one of these · جرّب أحد هذه الأسئلة")
        cols = st.columns(2)
        for i, q in enumerate(EXAMPLES):
            if cols[i % 2].button(q, key=f"example-{i}", use_container_width=True):
                pending = q
    typed = st.chat_input("اكتب سؤالك عن المقالات… Ask about the articles")
    question = typed or pending
    if not question:
        return

    st.session_state.messages.append({"role": "user", "text": question})
    with st.chat_message("user"):
        st.html(render.text_html(question, "qa-question"))
    version = store.current_version(INDEX)
    with st.chat_message("assistant"):
        try:
            bot = get_assistant(str(INDEX), version.name if version else "", get_embedder(settings().model))
            with st.spinner("Searching the articles…"):
                answer = bot.ask(question)
        except QAError as exc:
            st.error(str(exc))
            st.session_state.messages.pop()
            return
        key = f"a{len(st.session_state.messages)}"
        show_answer(answer, key)
    st.session_state.messages.append({"role": "assistant", "answer": answer})


main()
