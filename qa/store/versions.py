"""Index versions on disk: the writer lock, writing a version and switching
`CURRENT` to it atomically, loading the current one or the newest intact one."""

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
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path

from qa.errors import IndexBusy, IndexDamaged, IndexMismatch, IndexMissing
from qa.faults import checkpoint
from qa.lexical import LexicalIndex
from qa.store.manifest import Manifest, check_format, file_digest, problems
from qa.types import Article, Chunk
from qa.vector import VectorIndex

log = logging.getLogger(__name__)

KEEP_OLD_VERSIONS = 1  # previous versions kept for readers still using them
ARTICLE_FIELDS = tuple(f.name for f in fields(Article))  # an articles.jsonl line's keys


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


def _current_first(index_dir: Path, current: Path) -> list[Path]:
    """`current`, then the other versions newest first: the order to fall back in."""
    return [current, *(v for v in versions_newest_first(index_dir) if v != current)]


def read_manifest(index_dir: Path) -> Manifest | None:
    """The manifest of the current version, or of the newest version whose
    manifest reads when the current one's does not; None without any."""
    current = current_version(index_dir)
    if current is None:
        return None
    for version in _current_first(index_dir, current):
        try:
            return Manifest.read(version)
        except (OSError, ValueError, TypeError):
            continue
    return None


def load(index_dir: Path) -> StoredIndex:
    """The current version; if it is damaged (a file missing, truncated or
    unreadable, counts that disagree, offsets out of range), the newest intact
    older one, said in the log. IndexDamaged when none can be read."""
    current = current_version(index_dir)
    if current is None:
        raise IndexMissing(f"no index at {index_dir}: build one with: qa index --index {index_dir}")
    damaged = []
    for version in _current_first(index_dir, current):
        try:
            idx = _load_version(version, index_dir)
        except IndexMismatch:
            raise
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:  # json, numpy, faiss: damage
            damaged.append(f"{version.name}: {type(exc).__name__}: {str(exc)[:120]}")
            continue
        if version != current:
            log.warning("index at %s: version %s is damaged (%s); answering from %s", index_dir, current.name,
                        damaged[0], version.name)
        return idx
    raise IndexDamaged(f"index at {index_dir} is damaged and no older version is intact ({'; '.join(damaged)}). "
                       f"Rebuild it: qa index --rebuild --index {index_dir}")


def _load_version(version: Path, index_dir: Path) -> StoredIndex:
    manifest = Manifest.read(version)
    check_format(manifest, index_dir)
    damage = problems(version, manifest, hashes=False)
    if damage:
        raise ValueError("; ".join(damage))
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
                f.write(json.dumps({k: getattr(a, k) for k in ARTICLE_FIELDS}, ensure_ascii=False) + "\n")
        with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as f:
            for c in chunks:
                f.write(json.dumps({"chunk_id": c.chunk_id, "doc_id": c.doc_id, "start": c.start, "end": c.end}) + "\n")
        vectors.save(tmp / "vectors.faiss")
        lexical.save(tmp / "lexical")
        files = {p.relative_to(tmp).as_posix(): file_digest(p) for p in sorted(tmp.rglob("*")) if p.is_file()}
        (tmp / "manifest.json").write_text(replace(manifest, files=files).to_json(), encoding="utf-8")
        checkpoint("write:files")
        _fsync_tree(tmp)
        os.replace(tmp, versions / name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    checkpoint("write:before-switch")
    _fsync_dir(versions)  # the new version's name is on disk before CURRENT names it
    switch(index_dir, name)
    checkpoint("write:before-cleanup")
    _cleanup(versions, keep=name)
    return versions / name


def switch(index_dir: Path, name: str) -> None:
    """Make version `name` the current one: CURRENT replaced atomically, fsynced."""
    pointer_tmp = index_dir / f".CURRENT.{uuid.uuid4().hex[:6]}"
    with open(pointer_tmp, "w", encoding="utf-8") as f:
        f.write(name)
        f.flush()
        os.fsync(f.fileno())
    os.replace(pointer_tmp, index_dir / "CURRENT")
    _fsync_dir(index_dir)


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


def _sizes_hold(version: Path) -> bool:
    try:
        manifest = Manifest.read(version)
    except (OSError, ValueError, TypeError):
        return False
    return not problems(version, manifest, hashes=False)


def _cleanup(versions: Path, keep: str) -> None:
    """Remove all but KEEP_OLD_VERSIONS older versions, intact ones kept first."""
    old = [p for p in versions.iterdir() if p.name != keep and p.name.startswith("v-")]
    if len(old) > KEEP_OLD_VERSIONS:  # checking each one's files takes a quarter second at full size
        old.sort(key=lambda p: (_sizes_hold(p), p.stat().st_mtime))
    for path in old[: max(0, len(old) - KEEP_OLD_VERSIONS)]:
        shutil.rmtree(path, ignore_errors=True)
    for path in versions.glob(".writing-*"):  # left by a killed writer (we hold the writer lock)
        shutil.rmtree(path, ignore_errors=True)
    for path in versions.parent.glob(".CURRENT.*"):
        path.unlink(missing_ok=True)



