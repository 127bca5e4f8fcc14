"""What an update changes: the loaded articles against the stored hashes.

Both stores (the embedded index folder and Milvus) classify the same way, so
the same folder gives the same counts whichever store it is indexed into:
added, updated, renamed (the same content under a new doc_id, whose chunks and
vectors are reused), removed, unchanged, and duplicates (the same content
under two names is indexed once).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from qa.loading import content_hash
from qa.types import Article


@dataclass(frozen=True)
class Changes:
    kept: tuple[Article, ...]  # the articles to index, by doc_id, duplicates left out
    hashes: dict[str, str]  # doc_id -> content hash of every kept article
    status: dict[str, str]  # doc_id -> "added", "updated" or "renamed" (unchanged ones are not listed)
    source: dict[str, str]  # doc_id -> the stored doc_id whose chunks hold the same content
    duplicates: tuple[tuple[str, str], ...]  # (duplicate doc_id, the doc_id indexed instead)
    removed: tuple[str, ...]  # stored doc_ids gone from the folder (renamed ones not counted)
    gone: tuple[str, ...]  # every stored doc_id whose stored chunks leave: removed, updated, renamed-from

    def count(self, what: str) -> int:
        return sum(1 for s in self.status.values() if s == what)

    @property
    def unchanged(self) -> int:
        return len(self.kept) - len(self.status)

    @property
    def any(self) -> bool:
        return bool(self.status or self.removed)


def classify(articles: Iterable[Article], stored: Mapping[str, str],
             carried: Mapping[str, str] | None = None) -> Changes:
    """Compare `articles` with the `stored` doc_id -> hash map. `carried`: the
    status of articles a killed run already wrote (reported again, not as unchanged)."""
    carried = carried or {}
    by_hash: dict[str, str] = {}
    for doc_id, h in stored.items():
        by_hash.setdefault(h, doc_id)
    kept: list[Article] = []
    hashes: dict[str, str] = {}
    seen: dict[str, str] = {}
    duplicates: list[tuple[str, str]] = []
    status: dict[str, str] = {}
    source: dict[str, str] = {}
    renamed_from: set[str] = set()
    for a in sorted(articles, key=lambda a: a.doc_id):
        h = content_hash(a)
        if h in seen:
            duplicates.append((a.doc_id, seen[h]))
            continue
        seen[h] = a.doc_id
        kept.append(a)
        hashes[a.doc_id] = h
        if h in by_hash:
            source[a.doc_id] = a.doc_id if stored.get(a.doc_id) == h else by_hash[h]
        if stored.get(a.doc_id) == h:
            if a.doc_id in carried:
                status[a.doc_id] = carried[a.doc_id]
        elif a.doc_id in stored:
            status[a.doc_id] = "updated"
        elif h in by_hash:
            status[a.doc_id] = "renamed"
            renamed_from.add(by_hash[h])
        else:
            status[a.doc_id] = "added"
    removed = tuple(d for d in stored if d not in hashes and d not in renamed_from)
    gone = tuple(d for d in stored if stored[d] != hashes.get(d))
    return Changes(tuple(kept), hashes, status, source, tuple(duplicates), removed, gone)
