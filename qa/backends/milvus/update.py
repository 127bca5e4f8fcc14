"""Bringing a Milvus index up to date: the same classification as the embedded
store (qa/changes.py), written as one new generation and published at once.

A killed run leaves the published generation untouched: the next run first
removes the rows it added and restores the rows it retired.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from qa import store
from qa.backends.milvus import schema
from qa.backends.milvus.store import MilvusStore, term_delta
from qa.changes import classify
from qa.chunking import chunk_article, passage_text
from qa.embedding import Embedder
from qa.errors import BadSettings, IndexMismatch
from qa.indexer import IndexReport, NoProgress, Progress, embed_passages
from qa.lexical import EMPTY, tokenize
from qa.loading import content_hash
from qa.loading.folder import LoadResult
from qa.settings import Settings
from qa.types import Article


def update_milvus(ms: MilvusStore, load: Callable[[], LoadResult], embedder: Embedder, settings: Settings, *,
                  rebuild: bool = False, progress: Progress | None = None, wait: bool = False) -> IndexReport:
    """Bring the Milvus index `ms` up to date with the articles `load` reads
    (called holding the writer's lease): a new generation, published atomically."""
    t0 = time.perf_counter()
    progress = progress or NoProgress()
    if settings.chunk_size > schema.MAX_CHUNK_CHARS:
        raise BadSettings(f"chunk_size {settings.chunk_size} is too large for Milvus' text fields; use at most "
                          f"{schema.MAX_CHUNK_CHARS}")
    if rebuild:
        ms.drop()
    if not ms.exists():
        ms.create(embedder.dimension, _index_type(settings, 0))
    with ms.writer_lease(wait=wait):
        state = ms.state()
        if state is not None:
            _check(ms, state, embedder, settings)
        gen = state["gen"] if state else 0
        ms.recover(gen)
        loaded = load()
        articles, skipped = loaded.articles, loaded.skipped
        stored = {r["doc_id"]: r["meta"]["hash"]
                  for r in ms.rows(ms.articles, f"part == 0 and {schema.visible(gen)}", ["doc_id", "meta"])}
        changes = classify(articles, stored)
        counts = {k: changes.count(k) for k in ("added", "updated", "renamed")}
        if state is not None and not changes.any:
            return IndexReport(len(changes.kept), state["chunks"], 0, 0, 0, changes.unchanged, 0, changes.duplicates,
                               skipped, 0, time.perf_counter() - t0, embedder.model_id, str(ms), changed=False)
        new = gen + 1
        retired = ms.retire(list(changes.gone), gen, new)
        by_doc: dict[str, list[dict[str, Any]]] = {}
        for r in retired:
            by_doc.setdefault(r["doc_id"], []).append(r)
        next_id = state_next(state, "next_id")
        rows: list[dict[str, Any]] = []
        texts: list[str] = []
        at: list[int] = []
        parts: list[dict[str, Any]] = []
        for a in changes.kept:
            if a.doc_id not in changes.status:
                continue
            parts += article_rows(a, changes.hashes[a.doc_id], new, len(parts) + state_next(state, "next_article"))
            source = by_doc.get(changes.source.get(a.doc_id, ""))
            if source:  # the same content stored under another name: its chunks and vectors move over
                for r in sorted(source, key=lambda r: r["start"]):
                    rows.append({**r, "id": next_id + len(rows), "doc_id": a.doc_id,
                                 "doc_key": schema.doc_key(a.doc_id), "gen": new, "until": schema.FOREVER})
                continue
            for c in chunk_article(a, settings.chunk_size, settings.chunk_overlap):
                passage = passage_text(a, c.start, c.text)
                at.append(len(rows))
                texts.append(passage)
                rows.append(chunk_row(next_id + len(rows), a.doc_id, c.start, c.end, c.text, tokenize(passage), new))
        vectors = np.zeros((len(rows), embedder.dimension), np.float32)
        embed_passages(None, embedder, settings, texts, at, vectors, progress)
        for i in at:
            rows[i]["vector"] = vectors[i].tolist()
        ms.renew()
        ms.count_terms(term_delta(retired, rows), gen)
        ms.insert(ms.chunks, rows)
        ms.insert(ms.articles, parts)
        chunks = (state["chunks"] if state else 0) - len(retired) + len(rows)
        length = (state["total_length"] if state else 0) - sum(r["length"] for r in retired) + \
            sum(r["length"] for r in rows)
        publish(ms, new, embedder, settings, chunks, length, len(changes.kept), next_id + len(rows),
                state_next(state, "next_article") + len(parts), state)
    return IndexReport(len(changes.kept), chunks, counts["added"], counts["updated"], len(changes.removed),
                       changes.unchanged, counts["renamed"], changes.duplicates, skipped, len(texts),
                       time.perf_counter() - t0, embedder.model_id, str(ms))


def migrate(ms: MilvusStore, index_dir: Path, settings: Settings, *, rebuild: bool = False,
            progress: Progress | None = None) -> IndexReport:
    """Copy the embedded index at `index_dir` into Milvus as it is: no article is embedded again."""
    t0 = time.perf_counter()
    progress = progress or NoProgress()
    old = store.load(index_dir)
    if old.manifest.pending:
        raise IndexMismatch(f"index at {index_dir} is still embedding {len(old.manifest.pending)} articles; "
                            f"finish it first: qa index --index {index_dir} --docs YOUR_ARTICLES")
    if ms.exists() and ms.state() is not None and not rebuild:
        raise IndexMismatch(f"{ms} already holds an index; add --rebuild to replace it with {index_dir}")
    ms.drop()
    ms.create(old.manifest.dimension, _index_type(settings, len(old.chunks)))
    tokens = old.lexical.tokens() or [tokenize(passage_text(old.articles[c.doc_id], c.start, c.text))
                                      for c in old.chunks]
    with ms.writer_lease():
        parts: list[dict[str, Any]] = []
        for a in old.articles.values():
            parts += article_rows(a, old.manifest.articles.get(a.doc_id) or content_hash(a), 1, len(parts))
        ms.insert(ms.articles, parts)
        progress.start(len(old.chunks), "copying chunks")
        length = 0
        df: Counter[str] = Counter()
        for at in range(0, len(old.chunks), 2000):
            part = old.chunks[at:at + 2000]
            vecs = old.vectors.vectors(np.array([c.chunk_id for c in part], dtype=np.int64))
            rows = [chunk_row(c.chunk_id, c.doc_id, c.start, c.end, c.text, tokens[c.chunk_id], 1, v.tolist())
                    for c, v in zip(part, vecs, strict=True)]
            length += sum(r["length"] for r in rows)
            df += term_delta([], rows)
            ms.insert(ms.chunks, rows)
            ms.renew()
            progress.advance(len(rows))
        progress.close()
        ms.count_terms(df, 0)
        m = old.manifest
        publish(ms, 1, None, settings, len(old.chunks), length, len(old.articles), len(old.chunks), len(parts),
                None, manifest=asdict(m) | {"articles": {}, "files": {}, "checksum": "", "created": store.now_iso()})
    return IndexReport(len(old.articles), len(old.chunks), len(old.articles), 0, 0, 0, 0, (), (), 0,
                       time.perf_counter() - t0, m.embedder, str(ms))


def chunk_row(cid: int, doc_id: str, start: int, end: int, text: str, terms: list[str], gen: int,
              vector: list[float] | None = None) -> dict[str, Any]:
    words = [t for t in terms if t != EMPTY]
    return {"id": cid, "doc_key": schema.doc_key(doc_id), "doc_id": doc_id, "start": start, "end": end,
            "text": text, "terms": " ".join(words), "length": len(words), "gen": gen, "until": schema.FOREVER,
            "vector": vector}


def article_rows(a: Article, content: str, gen: int, first_id: int) -> list[dict[str, Any]]:
    meta = {k: v for k, v in asdict(a).items() if k not in ("doc_id", "text")} | {"hash": content}
    texts = [a.text[i:i + schema.PART_CHARS] for i in range(0, max(1, len(a.text)), schema.PART_CHARS)]
    return [{"id": first_id + n, "doc_key": schema.doc_key(a.doc_id), "doc_id": a.doc_id, "part": n, "text": t,
             "meta": meta, "gen": gen, "until": schema.FOREVER, "slot": schema.SLOT} for n, t in enumerate(texts)]


def state_next(state: dict[str, Any] | None, key: str) -> int:
    return int(state[key]) if state else 0


def publish(ms: MilvusStore, gen: int, embedder: Embedder | None, settings: Settings, chunks: int, length: int,
            articles: int, next_id: int, next_article: int, old: dict[str, Any] | None,
            manifest: dict[str, Any] | None = None) -> None:
    """Publish generation `gen`, drop what older ones retired, and move the
    vector index to HNSW / IVF when the collection has outgrown exact search."""
    if manifest is None:
        assert embedder is not None
        manifest = asdict(store.Manifest(
            format_version=store.FORMAT_VERSION, embedder=embedder.model_id, dimension=embedder.dimension,
            settings=settings.index_settings(), articles={}, counts={"articles": articles, "chunks": chunks},
            created=store.now_iso(), libraries=store.library_versions(), runtime=embedder.runtime))
    index_type = old["index_type"] if old else _index_type(settings, chunks)
    ms.publish({"gen": gen, "name": f"g{gen}-{manifest['created']}", "chunks": chunks, "total_length": length,
                "next_id": next_id, "next_article": next_article, "index_type": index_type,
                "nprobe": settings.ann_nprobe, "manifest": manifest})
    ms.collect(gen)
    wanted = _index_type(settings, chunks)
    if wanted != index_type and settings.milvus_index == "auto" and index_type == "FLAT":
        ms.set_vector_index(wanted)
        ms.publish({**ms.state(), "index_type": wanted})  # type: ignore[dict-item]


def _index_type(settings: Settings, chunks: int) -> str:
    if settings.milvus_index != "auto":
        return settings.milvus_index
    return "HNSW" if chunks > settings.ann_threshold else "FLAT"


def _check(ms: MilvusStore, state: dict[str, Any], embedder: Embedder, settings: Settings) -> None:
    manifest = store.Manifest(**state["manifest"])
    store.check_compatible(manifest, embedder.model_id, embedder.dimension, ms.location, embedder.runtime)
    if manifest.settings != settings.index_settings():
        raise IndexMismatch(f"index at {ms} was built with settings {manifest.settings}, now "
                            f"{settings.index_settings()} is asked for. Rebuild it: qa index --rebuild "
                            f"--docs YOUR_ARTICLES --index {ms}")
