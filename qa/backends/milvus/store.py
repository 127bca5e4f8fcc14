"""A Milvus collection set holding one index: connecting, reading the published
state, the writer's lease, and the row operations an update is made of."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

os.environ.setdefault("GRPC_VERBOSITY", "ERROR")  # gRPC's info lines when Ray forks beside a Milvus client

from pymilvus import MilvusClient
from pymilvus.exceptions import MilvusException

from qa.backends.location import MilvusLocation
from qa.backends.milvus import lite, schema
from qa.errors import IndexBusy, IndexMissing, IndexUnusable
from qa.store.manifest import Manifest

log = logging.getLogger(__name__)


class _LiteNoise(logging.Filter):
    """milvus-lite serves in this process and logs a traceback for each call it does not implement
    (AllocTimestamp, while creating a collection); the client carries on without it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Method not implemented" not in record.getMessage()


logging.getLogger("grpc._server").addFilter(_LiteNoise())



PAGE = 10_000  # ids a scan reads at a time (Milvus returns at most 16,384 rows a query)
LEASE_SECONDS = 3600.0  # a writer's lease, renewed as it writes; a killed writer's lease lapses
_clients: dict[tuple[str, str], MilvusClient] = {}
_stores: dict[MilvusLocation, MilvusStore] = {}


def _client(location: MilvusLocation) -> MilvusClient:
    """One client per address in a process (milvus-lite opens its file once)."""
    key = (location.uri, location.token)
    if key not in _clients:
        if location.lite:
            lite.check_free(location)
        try:
            _clients[key] = MilvusClient(uri=location.uri, token=location.token)
        except MilvusException as exc:
            raise IndexUnusable(f"cannot reach Milvus at {location}: {exc.message}. Start the server (docs/"
                                "scaling-out.md), or check the address") from exc
    return _clients[key]


class MilvusStore:
    """The collections `<name>_chunks`, `<name>_articles` and `<name>_meta` (qa.backends.milvus.schema)."""

    def __init__(self, client: MilvusClient, location: MilvusLocation) -> None:
        self.client = client
        self.location = location
        self.chunks, self.articles, self.terms, self.meta = schema.collections(location.collection)
        self._loaded: set[str] = set()

    @classmethod
    def connect(cls, location: MilvusLocation) -> MilvusStore:
        """The store at `location`, one per process (a chat asks whether a new
        generation is out before every question: that costs one query, not ten)."""
        if location not in _stores:
            _stores[location] = cls(_client(location), location)
        ms = _stores[location]
        ms.load()
        return ms

    def load(self) -> None:
        """Load the collections into memory (a server, or milvus-lite in a new process, starts them released)."""
        for name in (self.chunks, self.articles, self.terms, self.meta):
            if name in self._loaded or not self.client.has_collection(name):
                continue
            if "Loaded" not in str(self.client.get_load_state(name)["state"]):
                self.client.load_collection(name)
            self._loaded.add(name)

    def close(self) -> None:
        """Close this address's client, shared by every store and assistant of this process on the same
        address, and forget its stores (milvus-lite then frees its file for another process)."""
        key = (self.location.uri, self.location.token)
        for location in [loc for loc in _stores if (loc.uri, loc.token) == key]:
            del _stores[location]
        client = _clients.pop(key, None)
        if client is not None:
            client.close()
        if self.location.lite:
            lite.release(self.location)

    def __str__(self) -> str:
        return str(self.location)

    # -- the published state -------------------------------------------------

    def exists(self) -> bool:
        return self.client.has_collection(self.meta)

    def state(self) -> dict[str, Any] | None:
        """The published state (generation, counts, manifest), None if nothing is published."""
        if not self.exists():
            return None
        rows = self.client.query(self.meta, ids=["state"], output_fields=["value"])
        return _json(rows[0]["value"]) if rows else None

    def current_name(self) -> str | None:
        state = self.state()
        return state["name"] if state else None

    def manifest(self) -> Manifest | None:
        state = self.state()
        return Manifest(**state["manifest"]) if state else None

    def snapshot(self) -> Any:
        from qa.backends.milvus.snapshot import MilvusSnapshot

        state = self.state()
        if state is None:
            raise IndexMissing(f"no index in {self.location}: build one with: qa index --docs YOUR_ARTICLES "
                               f"--index {self.location}")
        return MilvusSnapshot(self, state)

    # -- writing -------------------------------------------------------------

    def create(self, dimension: int, index_type: str) -> None:
        schema.create(self.client, self.location.collection, dimension, index_type)

    def drop(self) -> None:
        for name in (self.chunks, self.articles, self.terms, self.meta):
            if self.client.has_collection(name):
                self.client.drop_collection(name)
        self._loaded.clear()

    @contextlib.contextmanager
    def writer_lease(self, *, wait: bool = False) -> Iterator[None]:
        """Hold the writer's lease (a meta row naming this writer): a second
        writer raises IndexBusy, or with `wait` retries until it is free. The
        lease of a killed writer lapses at once on its own machine (its process
        is gone), elsewhere after LEASE_SECONDS."""
        while True:
            rows = self.client.query(self.meta, ids=["lease"], output_fields=["value"])
            held = _json(rows[0]["value"]) if rows else None
            if held is None or _lapsed(held):
                break
            if not wait:
                raise IndexBusy(f"the index at {self.location} is being written by {held['owner']}; wait for it "
                                "to finish (or pass --wait to queue behind it)")
            time.sleep(2.0)
        self._lease = {"owner": f"pid {os.getpid()} on {socket.gethostname()}", "pid": os.getpid(),
                       "host": socket.gethostname(), "token": uuid.uuid4().hex}
        self.renew()
        try:
            yield
        finally:
            self.client.delete(self.meta, ids=["lease"])

    def renew(self) -> None:
        self._put("lease", {**self._lease, "until": time.time() + LEASE_SECONDS})

    def publish(self, state: dict[str, Any]) -> None:
        """Make `state` the published one: a single row written, so atomic. The
        rows written before are flushed first: sealed and indexed, so searches do
        not scan them (in the writing process, milvus-lite took 0.97 s a question
        at 4,656 chunks without it, 0.06 s with it)."""
        for name in (self.chunks, self.articles, self.terms):
            self.client.flush(name)
        self._put("state", state)

    def _put(self, key: str, value: dict[str, Any]) -> None:
        self.client.upsert(self.meta, [{"key": key, "value": value, "slot": schema.SLOT}])

    def rows(self, collection: str, filter: str, fields: Sequence[str], below: int | None = None) -> list[dict]:
        """Every row matching `filter`, with `fields`, read in id ranges (ids are
        below `below`; default: the published state's next id)."""
        if below is None:
            state = self.state()
            below = (state["next_id"] if collection == self.chunks else state["next_article"]) if state else 0
        out: list[dict[str, Any]] = []
        for start in range(0, below, PAGE):
            out += self.client.query(collection, filter=f"id >= {start} and id < {start + PAGE} and ({filter})",
                                     output_fields=list(fields), limit=PAGE)
        return out

    def doc_rows(self, collection: str, doc_ids: Sequence[str], gen: int, fields: Sequence[str]) -> list[dict]:
        """The rows of these articles visible in `gen`."""
        out: list[dict[str, Any]] = []
        wanted = set(doc_ids)
        keys = sorted({schema.doc_key(d) for d in wanted})
        for at in range(0, len(keys), 100):  # an article's rows are a handful: far under a query's limit
            part = ", ".join(str(k) for k in keys[at:at + 100])
            got = self.client.query(collection, filter=f"doc_key in [{part}] and {schema.visible(gen)}",
                                    output_fields=[*fields, "doc_id"], limit=16384)
            out.extend(r for r in got if r["doc_id"] in wanted)
        return out

    def insert(self, collection: str, rows: list[dict[str, Any]]) -> None:
        for at in range(0, len(rows), 500):
            self.client.insert(collection, rows[at:at + 500])

    def retire(self, doc_ids: Sequence[str], gen: int, at: int) -> list[dict[str, Any]]:
        """Mark the chunks and article rows of `doc_ids` visible in `gen` as
        gone from generation `at` on; returns the chunk rows retired."""
        retired = []
        for collection in (self.chunks, self.articles):
            rows = self.doc_rows(collection, doc_ids, gen, ["*"])
            self._set_until(collection, rows, at)
            if collection == self.chunks:
                retired = rows
        return retired

    def _set_until(self, collection: str, rows: list[dict[str, Any]], until: int) -> None:
        """Write `rows` (whole, as read) back with `until` changed."""
        for r in rows:
            r.pop("sparse", None)  # the BM25 function's output: Milvus computes it again
            r["until"] = until
        for i in range(0, len(rows), 500):
            self.client.upsert(collection, rows[i:i + 500])

    def count_terms(self, delta: Counter[str], gen: int) -> None:
        """Move the document frequencies of generation `gen` to `gen` + 1 by
        `delta` (see `term_delta`; readers of `gen` keep reading theirs from `before`)."""
        changed = sorted(t for t, d in delta.items() if d and len(t) <= schema.MAX_TERM_CHARS)
        for at in range(0, len(changed), 1000):
            part = changed[at:at + 1000]
            old = {r["term"]: schema.df_at(r, gen)
                   for r in self.client.query(self.terms, ids=part, output_fields=["df", "since", "before"])}
            self.client.upsert(self.terms, [
                {"term": t, "df": old.get(t, 0) + delta[t], "since": gen + 1, "before": old.get(t, 0),
                 "slot": schema.SLOT} for t in part])

    def recover(self, gen: int) -> None:
        """Undo what a writer killed before publishing left: rows it added
        (gen > the published one) go, rows it retired are visible again, and
        document frequencies are those of `gen` again."""
        while stale := self.client.query(self.terms, filter=f"since > {gen}", output_fields=["before"], limit=5000):
            self.client.upsert(self.terms, [{"term": r["term"], "df": r["before"], "since": 0, "before": r["before"],
                                             "slot": schema.SLOT} for r in stale])
        for collection in (self.chunks, self.articles):
            self.client.delete(collection, filter=f"gen > {gen}")
            rows = self.rows(collection, f"until > {gen} and until < {schema.FOREVER}", ["*"])
            self._set_until(collection, rows, schema.FOREVER)
            if rows:
                log.info("%s: restored %d rows a killed writer had retired", collection, len(rows))

    def collect(self, gen: int) -> None:
        """Delete rows retired before generation `gen` (readers of gen - 1 still see the rest)."""
        for collection in (self.chunks, self.articles):
            self.client.delete(collection, filter=f"until < {gen}")

    def set_vector_index(self, index_type: str) -> None:
        """Rebuild the vector field's index as `index_type` (FLAT, HNSW or IVF_FLAT)."""
        self.client.release_collection(self.chunks)
        self.client.drop_index(self.chunks, "vector")
        params = self.client.prepare_index_params()
        params.add_index("vector", **schema.vector_index(index_type))
        self.client.create_index(self.chunks, params)
        self.client.load_collection(self.chunks)


def term_delta(removed: list[dict[str, Any]], added: list[dict[str, Any]]) -> Counter[str]:
    """How many more chunks hold each term once the chunk rows `removed` are gone and `added` are in."""
    delta: Counter[str] = Counter()
    for r in removed:
        delta.subtract(set(r["terms"].split()))
    for r in added:
        delta.update(set(r["terms"].split()))
    return delta


def _lapsed(lease: dict[str, Any]) -> bool:
    if lease["until"] < time.time():
        return True
    if lease.get("host") != socket.gethostname():
        return False
    try:
        os.kill(int(lease["pid"]), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def _json(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str) else dict(value)
