"""Stores behind the assistant: the embedded index folder (default) or Milvus.

`open_snapshot` loads what a reader searches, `current_name` tells whether a
writer has published since; only `qa.backends.milvus` imports pymilvus, and
only when a Milvus address is used.
"""

from __future__ import annotations

from qa import store
from qa.backends.base import Snapshot
from qa.backends.embedded import EmbeddedSnapshot
from qa.backends.location import Location, MilvusLocation, parse_location
from qa.store.manifest import Manifest


def open_snapshot(location: Location) -> Snapshot:
    """The current snapshot of the store at `location`."""
    if isinstance(location, MilvusLocation):
        from qa.backends.milvus import MilvusStore

        return MilvusStore.connect(location).snapshot()
    return EmbeddedSnapshot.open(location)


def current_name(location: Location) -> str | None:
    """The name of the store's current snapshot (None: nothing published yet)."""
    if isinstance(location, MilvusLocation):
        from qa.backends.milvus import MilvusStore

        return MilvusStore.connect(location).current_name()
    current = store.current_version(location)
    return current.name if current is not None else None


def index_exists(location: Location) -> bool:
    """Whether an index was ever written there (a damaged folder counts: it is never rebuilt silently)."""
    if isinstance(location, MilvusLocation):
        return read_manifest(location) is not None
    return bool(store.versions_newest_first(location))


def read_manifest(location: Location) -> Manifest | None:
    """The current snapshot's manifest, None when nothing is published."""
    if isinstance(location, MilvusLocation):
        from qa.backends.milvus import MilvusStore

        return MilvusStore.connect(location).manifest()
    return store.read_manifest(location)


__all__ = ["EmbeddedSnapshot", "Location", "MilvusLocation", "Snapshot", "current_name", "index_exists",
           "open_snapshot", "parse_location", "read_manifest"]
