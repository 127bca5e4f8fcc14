"""The index on disk: a documented, versioned, pickle-free format.

    index/
      CURRENT                 name of the live version, e.g. "v-20261123T011502-ab12cd"
      versions/<name>/
        manifest.json         format version, embedder id + dimension, settings,
                              per-article content hashes, counts, library versions,
                              [size, sha256] of every other file, its own checksum
        articles.jsonl        one Article per line (original text, metadata)
        chunks.jsonl          {"chunk_id", "doc_id", "start", "end"}; the text is
                              article.text[start:end], never stored twice
        vectors.faiss         FAISS IndexIDMap2(IndexFlatIP), or IndexIVFFlat above
                              50k chunks; id = chunk_id (chunks of `pending` articles
                              have no vector yet)
        lexical/              bm25s index (JSON + .npy) + terms.txt (a row's terms per line), row = chunk_id
      versions/damaged-<name>/  a version `qa index --verify` found damaged, set aside
      embedding/<model key>/  vectors of an update still embedding (qa/store/pending.py),
                              removed once its version is live

A new version is written completely beside the live one, then `CURRENT` is
replaced with `os.replace` (atomic), then older versions are removed. A reader
that opened a version keeps reading it; an interrupted write leaves the
previous version live.
"""

from qa.errors import IndexBusy, IndexDamaged, IndexMismatch, IndexMissing, IndexUnusable
from qa.store.check import VersionCheck, set_aside, verify
from qa.store.manifest import (
    FORMAT_VERSION,
    Manifest,
    check_compatible,
    library_versions,
    now_iso,
)
from qa.store.pending import PendingVectors, passage_key
from qa.store.versions import (
    KEEP_OLD_VERSIONS,
    StoredIndex,
    current_version,
    load,
    read_manifest,
    versions_newest_first,
    write,
    writer_lock,
)

__all__ = [
    "FORMAT_VERSION", "KEEP_OLD_VERSIONS", "IndexBusy", "IndexDamaged", "IndexMismatch", "IndexMissing",
    "IndexUnusable", "Manifest", "PendingVectors", "StoredIndex", "VersionCheck", "check_compatible",
    "current_version", "library_versions", "load", "now_iso", "passage_key", "read_manifest", "set_aside",
    "verify", "versions_newest_first", "write", "writer_lock",
]
