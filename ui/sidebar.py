"""The sidebar: the index in plain words, uploads and re-indexing with a
report that stays until dismissed, the article library, a new conversation."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import streamlit as st

from qa import Assistant, QAError, Settings, build_or_update, store
from qa.backends import Location, read_manifest
from qa.embedding import Embedder
from qa.indexer import IndexReport
from qa.loading import MAX_UPLOAD_BYTES, SUPPORTED_SUFFIXES, safe_filename, save_upload
from ui import library
from ui.chats import ChatStore
from ui.texts import both, plain, say


class StatusProgress:
    """The indexer's progress callbacks drawn as a Streamlit progress bar."""

    def __init__(self) -> None:
        self._bar = None
        self._done = self._total = 0
        self._what = ""

    def start(self, total: int, what: str) -> None:
        self._total, self._done, self._what = total, 0, what
        self._bar = st.progress(0.0, text=f"{what}: 0 / {total}")

    def advance(self, n: int) -> None:
        self._done += n
        if self._bar is not None and self._total:
            self._bar.progress(min(1.0, self._done / self._total), text=f"{self._what}: {self._done} / {self._total}")

    def close(self) -> None:
        pass


def summary(r: IndexReport) -> str:
    return both("summary", articles=r.articles, added=r.added, updated=r.updated, removed=r.removed,
                skipped=len(r.skipped))


def reindex(docs: Path, index: Location, settings: Settings, get_embedder: Callable[[Settings], Embedder],
            chats: ChatStore, label: str, uploaded: tuple[Path, ...] = ()) -> IndexReport | None:
    """Bring the index up to date with progress; what it skipped is kept as a
    notice until dismissed, and an uploaded file it could not index is removed."""
    with st.status(label, expanded=True) as status:
        try:
            report = build_or_update(docs, index, settings, embedder=get_embedder(settings),
                                     progress=StatusProgress())
        except QAError as exc:
            status.update(label=plain(both("index_failed", error=exc)), state="error")
            chats.notify("error", [both("index_failed", error=exc)])
            return None
        status.update(label=both("index_ready", summary=summary(report)), state="complete", expanded=False)
    names = {p.name for p in uploaded}
    notes = [both("skipped", path=s.path, reason=s.reason) for s in report.skipped]
    for s in report.skipped:
        if s.path in names:  # an upload that cannot be indexed is not kept in the articles folder
            (docs / s.path).unlink(missing_ok=True)
            notes.append(both("not_kept", path=s.path))
    chats.notify("warning", notes)
    chats.notify("info", [both("duplicate", dup=d, same=s) for d, s in report.duplicates])
    chats.set_skipped([(s.path, s.reason) for s in report.skipped if s.path not in names])
    return report


def sidebar(docs: Path, index: Location, settings: Settings, get_embedder: Callable[[Settings], Embedder],
            chats: ChatStore, bot: Assistant | None, conv: str) -> None:
    with st.sidebar:
        st.header(both("articles"))
        manifest = read_manifest(index)
        if manifest:
            st.markdown(f"{both('n_articles', n=manifest.counts.get('articles', 0))}  \n"
                        f"{say('updated_at', 'ar', when=library.when(manifest.created))}  \n"
                        f"{say('model', 'ar', name=library.model_name(manifest.embedder))}")
        else:
            st.markdown(both("no_index"))
        notices = chats.notices()
        for _, kind, text in notices:
            getattr(st, kind)(plain(text))
        if notices and st.button(both("dismiss"), key="dismiss"):
            chats.dismiss()
            st.rerun()
        upload(docs, index, settings, get_embedder, chats)
        if st.button(both("reindex_button"), help=str(docs)):
            reindex(docs, index, settings, get_embedder, chats, both("reindexing"))
            st.rerun()
        if st.button(both("new_chat"), key="new_chat"):
            st.query_params["c"] = uuid.uuid4().hex
            st.session_state.pop("conv", None)
            st.rerun()
        if bot is not None and manifest is not None:
            with st.expander(both("library")):
                articles(docs, index, settings, get_embedder, chats, bot, manifest)


def upload(docs: Path, index: Location, settings: Settings, get_embedder: Callable[[Settings], Embedder],
           chats: ChatStore) -> None:
    types = sorted(s.lstrip(".") for s in SUPPORTED_SUFFIXES)
    files = st.file_uploader(both("add", types=", ".join(types), mb=MAX_UPLOAD_BYTES // 1_000_000), type=types,
                             accept_multiple_files=True, key=f"upload-{st.session_state.upload_round}")
    replace = bool(files) and st.checkbox(both("replace_same"), key="upload_replace")
    if not (files and st.button(both("add_button"), type="primary")):
        return
    saved, failed, renamed = [], [], []
    for f in files:
        try:
            path = save_upload(docs, f.name, f.getvalue(), replace=replace)
            saved.append(path)
            if path.name != safe_filename(f.name):
                renamed.append(both("saved_as", name=f.name, path=path.name))
        except QAError as exc:
            failed.append(str(exc))
        except OSError as exc:
            failed.append(both("save_failed", name=f.name, error=exc.strerror))
    chats.notify("error", failed)
    chats.notify("info", renamed)
    if saved:
        reindex(docs, index, settings, get_embedder, chats, both("indexing", n=len(saved)), tuple(saved))
    st.session_state.upload_round += 1
    st.rerun()


def articles(docs: Path, index: Location, settings: Settings, get_embedder: Callable[[Settings], Embedder],
             chats: ChatStore, bot: Assistant, manifest: store.Manifest) -> None:
    """The library: search, the list with statuses, removal with confirmation."""
    items = library.entries(bot.index.articles, manifest, chats.skipped())
    found = library.matching(items, st.text_input(both("filter"), key="lib_filter"))
    labels = {k: both(k) for k in ("indexed", "keyword_only")} | {"skipped": both("skipped_status")}
    st.caption(both("showing", shown=min(len(found), library.SHOWN), total=len(found)))
    st.html(library.entries_html(found, labels))
    removable = [e for e in found if e.status != "skipped"][: library.SHOWN]
    if not removable:
        return
    by_label = {f"{e.title} — {e.path}": e for e in removable}
    pick = st.selectbox(both("remove_pick"), list(by_label), index=None, key="lib_pick")
    if pick is not None and st.button(both("remove_button"), key="lib_remove"):
        st.session_state.confirm_remove = by_label[pick]
    target = st.session_state.get("confirm_remove")
    if target is None:
        return
    others = sum(1 for a in bot.index.articles.values() if (a.path or a.doc_id) == target.path) - 1
    more = "  \n" + both("confirm_more", n=others) if others > 0 else ""
    st.warning(plain(both("confirm_remove", title=target.title, path=target.path)) + plain(more))
    yes, no = st.columns(2)
    if yes.button(both("yes_remove"), key="lib_yes", type="primary"):
        st.session_state.confirm_remove = None
        path = (docs / target.path).resolve()
        if docs.resolve() in path.parents:  # only files inside the articles folder
            path.unlink(missing_ok=True)
        chats.notify("info", [both("removed", path=target.path)])
        reindex(docs, index, settings, get_embedder, chats, both("reindexing"))
        st.rerun()
    if no.button(both("cancel"), key="lib_no"):
        st.session_state.confirm_remove = None
        st.rerun()
