"""Milvus as the store: dense and BM25 search in one collection set, for an
archive that has outgrown one machine (docs/scaling-out.md). The only module
that imports pymilvus."""

from qa.backends.milvus.snapshot import MilvusSnapshot
from qa.backends.milvus.store import MilvusStore
from qa.backends.milvus.update import migrate, update_milvus

__all__ = ["MilvusSnapshot", "MilvusStore", "migrate", "update_milvus"]
