"""Building and updating the stored index from loaded articles.

Incremental by content: every article's content hash is kept in the manifest.
Unchanged articles keep their chunks and vectors, renamed ones (same hash under
a new doc_id) reuse them too, changed and new ones are chunked and embedded,
deleted ones disappear from every store. The same content under two names is
indexed once and reported as a duplicate.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from qa import store
from qa.changes import classify
from qa.chunking import chunk_article, passage_text
from qa.embedding import Embedder
from qa.errors import IndexWriteFailed, disk_refused
from qa.faults import checkpoint
from qa.lexical import LexicalIndex, tokenize
from qa.loading import Skipped, load_folder
from qa.loading.folder import LoadResult
from qa.settings import Settings
from qa.types import Article, Chunk
from qa.vector import VectorIndex

log = logging.getLogger(__name__)


class Progress(Protocol):
    def start(self, total: int, what: str) -> None: ...
    def advance(self, n: int) -> None: ...
    def close(self) -> None: ...


Loader = Callable[[Sequence[Path]], LoadResult]  # reads the docs folder, leaving out the given folders


class NoProgress:
    def start(self, total: int, what: str) -> None:
        pass

    def advance(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class IndexReport:
    """What one `qa index` run did."""

    articles: int
    chunks: int
    added: int
    updated: int
    removed: int
    unchanged: int
    renamed: int
    duplicates: tuple[tuple[str, str], ...]  # (duplicate doc_id, the doc_id indexed instead)
    skipped: tuple[Skipped, ...]
    embedded_chunks: int
    seconds: float
    model: str
    index: str
    changed: bool = field(default=True)
    lexical_ready_seconds: float | None = None  # when new articles became keyword-searchable
    resumed_chunks: int = 0  # vectors kept from a run killed while embedding, not embedded again


def update_index(index_dir: Path, articles: list[Article] | tuple[Article, ...], skipped: tuple[Skipped, ...],
                 embedder: Embedder, settings: Settings, *, rebuild: bool = False,
                 progress: Progress | None = None, wait: bool = False) -> IndexReport:
    """Bring the index at `index_dir` up to date with `articles`, holding the
    writer lock (IndexBusy if another writer holds it, unless `wait`)."""
    with _disk_errors(index_dir), store.writer_lock(index_dir, wait=wait):
        return _update(index_dir, articles, skipped, embedder, settings, rebuild, progress)


@contextlib.contextmanager
def _disk_errors(index_dir: Path) -> Iterator[None]:
    """A full, read-only or over-quota disk ends the run in one clear line
    (IndexWriteFailed); the previous version stays live."""
    try:
        yield
    except (OSError, RuntimeError) as exc:
        if disk_refused(exc):
            raise IndexWriteFailed(index_dir, exc) from exc
        raise


def update_from_folder(index_dir: Path, docs: Path | Loader, embedder: Embedder, settings: Settings, *,
                       rebuild: bool = False, progress: Progress | None = None, wait: bool = False) -> IndexReport:
    """`update_index` with the folder read while the writer lock is held (and
    the index folder left out when it lies inside the docs folder). `docs`: the
    folder, or a Loader that reads it (given the folders to leave out)."""
    with _disk_errors(index_dir), store.writer_lock(index_dir, wait=wait):
        loaded = docs([index_dir]) if callable(docs) else load_folder(docs, settings, exclude=[index_dir])
        return _update(index_dir, loaded.articles, loaded.skipped, embedder, settings, rebuild, progress)


def _update(index_dir: Path, articles: list[Article] | tuple[Article, ...], skipped: tuple[Skipped, ...],
            embedder: Embedder, settings: Settings, rebuild: bool, progress: Progress | None) -> IndexReport:
    t0 = time.perf_counter()
    progress = progress or NoProgress()
    old: store.StoredIndex | None = None
    if not rebuild and store.current_version(index_dir) is not None:
        old = store.load(index_dir)
        store.check_compatible(old.manifest, embedder.model_id, embedder.dimension, index_dir, embedder.runtime)
        if old.manifest.settings != settings.index_settings():
            raise store.IndexMismatch(
                f"index at {index_dir} was built with settings {old.manifest.settings}, now "
                f"{settings.index_settings()} is asked for. Rebuild it: qa index --rebuild --index {index_dir}"
            )

    carried = old.manifest.changes if old is not None and old.manifest.pending else {}
    changes = classify(articles, old.manifest.articles if old else {}, carried.get("articles"))
    kept, hashes, status = changes.kept, changes.hashes, changes.status
    added, updated, renamed = changes.count("added"), changes.count("updated"), changes.count("renamed")
    unchanged = changes.unchanged
    removed = len(changes.removed) + carried.get("removed", 0)
    duplicates = changes.duplicates
    old_chunks_by_doc: dict[str, list[Chunk]] = {}
    for c in old.chunks if old else []:
        old_chunks_by_doc.setdefault(c.doc_id, []).append(c)

    # chunk: reuse old spans and vectors where the content is unchanged
    chunks: list[Chunk] = []
    reuse_old_ids: list[int] = []
    reuse_new_ids: list[int] = []
    to_embed_ids: list[int] = []
    to_embed_text: list[str] = []
    old_tokens = old.lexical.tokens() if old is not None and old_chunks_by_doc else None
    tokens: list[list[str]] = []
    old_pending = set(old.manifest.pending) if old else set()
    for a in kept:
        source_doc = changes.source.get(a.doc_id)
        if source_doc is not None and source_doc in old_chunks_by_doc and source_doc not in old_pending:
            for oc in old_chunks_by_doc[source_doc]:
                cid = len(chunks)
                chunks.append(Chunk(cid, a.doc_id, oc.start, oc.end, oc.text))
                tokens.append(old_tokens[oc.chunk_id] if old_tokens is not None
                              else tokenize(passage_text(a, oc.start, oc.text)))
                reuse_old_ids.append(oc.chunk_id)
                reuse_new_ids.append(cid)
        else:
            for c in chunk_article(a, settings.chunk_size, settings.chunk_overlap, first_id=len(chunks)):
                chunks.append(c)
                passage = passage_text(a, c.start, c.text)
                tokens.append(tokenize(passage))
                to_embed_ids.append(c.chunk_id)
                to_embed_text.append(passage)

    changed = bool(added or updated or removed or renamed or old_pending) or old is None
    if not changed:
        progress.close()
        return IndexReport(len(kept), len(chunks), 0, 0, 0, unchanged, 0, tuple(duplicates), tuple(skipped),
                           0, time.perf_counter() - t0, embedder.model_id, str(index_dir), changed=False)

    vectors = np.zeros((len(chunks), embedder.dimension), np.float32)
    if reuse_old_ids:
        vectors[reuse_new_ids] = old.vectors.vectors(np.array(reuse_old_ids))  # type: ignore[union-attr]
    previous = old.vectors if old else None
    del old, old_chunks_by_doc, old_tokens  # the old version's articles and chunks: a third of the peak at full size
    lexical = LexicalIndex.build(tokens)

    def write(embedded: list[int], pending: list[str]) -> None:
        nonlocal previous
        manifest = store.Manifest(
            format_version=store.FORMAT_VERSION, embedder=embedder.model_id, dimension=embedder.dimension,
            settings=settings.index_settings(), articles=hashes,
            counts={"articles": len(kept), "chunks": len(chunks), "vectors": len(embedded)},
            created=store.now_iso(), libraries=store.library_versions(), pending=pending,
            changes={"articles": status, "removed": removed} if pending else {},
            runtime=embedder.runtime,
        )
        ids = np.array(sorted(embedded), dtype=np.int64)
        vector_index = VectorIndex.build(vectors[ids], ids, approximate_above=settings.ann_threshold,
                                         nprobe=settings.ann_nprobe, previous=previous)
        previous = vector_index  # the final write reuses lists the keyword-only write trained
        store.write(index_dir, manifest, kept, chunks, vector_index, lexical)

    lexical_ready = None
    if len(to_embed_text) >= settings.lexical_first_min:
        # Searchable by keyword now: a version whose new chunks have no vectors
        # yet; the dense side catches up in the version written after embedding.
        write(reuse_new_ids, sorted({chunks[i].doc_id for i in to_embed_ids}))
        lexical_ready = time.perf_counter() - t0
        checkpoint("index:keyword-only-written")
    kept_vectors = store.PendingVectors(index_dir, embedder.model_id, embedder.dimension, embedder.runtime)
    resumed = embed_passages(kept_vectors, embedder, settings, to_embed_text, to_embed_ids, vectors, progress)
    write(list(range(len(chunks))), [])
    kept_vectors.clear()
    return IndexReport(len(kept), len(chunks), added, updated, removed, unchanged, renamed, tuple(duplicates),
                       tuple(skipped), len(to_embed_text) - resumed, time.perf_counter() - t0, embedder.model_id,
                       str(index_dir), lexical_ready_seconds=lexical_ready, resumed_chunks=resumed)


def embed_passages(cache: store.PendingVectors | None, embedder: Embedder, settings: Settings, texts: list[str],
                   ids: list[int], vectors: np.ndarray, progress: Progress) -> int:
    """Fill `vectors[ids]` with the embeddings of `texts`, shortest first in
    slices, each slice kept in `cache` (if any) as soon as it is done: a run killed
    midway resumes from there (an embedder may set `slice_size`: Ray's starts its
    actors once a slice). Returns how many came from a killed run's slices."""
    if not texts:
        return 0
    keys = [store.passage_key(t) for t in texts]
    done = cache.load() if cache is not None else {}
    todo = []
    for i, key in enumerate(keys):
        if key in done:
            vectors[ids[i]] = done[key]
        else:
            todo.append(i)
    todo.sort(key=lambda i: len(texts[i]))  # slices of like lengths pad little
    step = getattr(embedder, "slice_size", None) or max(256, settings.batch_size * 8)
    progress.start(len(todo), "embedding chunks")
    try:
        for at in range(0, len(todo), step):
            part = todo[at:at + step]
            got = embedder.embed_documents([texts[i] for i in part], progress=progress.advance)
            vectors[[ids[i] for i in part]] = got
            if cache is not None:
                cache.add([keys[i] for i in part], got)
            checkpoint("index:embedding")
    finally:
        progress.close()
    return len(texts) - len(todo)

