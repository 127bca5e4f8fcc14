"""Indexing on Ray (`qa index --engine ray`): the folder is read and the
passages embedded as Ray Data pipelines, on this machine's cores or on a
cluster (`--ray-address`); the store is written by the driver exactly as
without Ray, so the same incremental rules and counts apply.

    files  -> flat_map(load_one)                         -> articles, skipped
    chunks -> map_batches(Embed actor pool, each holding the model)  -> vectors

Chunking stays in the driver: it assigns chunk ids and takes well under 1% of
an update (docs/scaling-out.md). Nothing imports Ray unless this engine is used.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qa.embedding import Embedder, ProgressFn, load_embedder
from qa.errors import BadSettings
from qa.loading.folder import LoadResult, check_folder, iter_files, load_one
from qa.loading.formats import Skipped
from qa.settings import Settings
from qa.types import Article

log = logging.getLogger(__name__)
BATCH = 64  # passages an actor is sent at a time (it embeds them batch_size at a time)


@contextlib.contextmanager
def ray_session(address: str | None = None) -> Iterator[None]:
    """Connect to the Ray cluster at `address`, or start one on this machine
    (stopped again at the end)."""
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")  # gRPC's info lines when Ray forks beside a Milvus client
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise BadSettings("--engine ray needs Ray: pip install 'arabic-news-qa[scale]'") from exc
    started = not ray.is_initialized()
    if started and address:
        _reachable(address)
    quiet = logging.getLogger("ray.data")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # its plan, timing and progress-bar lines on every dataset
    if started:
        os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")  # Ray's C++ notices, e.g. on actor restarts
        _init(ray, address)
        ray.data.DataContext.get_current().enable_progress_bars = False
    try:
        yield
    finally:
        quiet.setLevel(level)
        if started:
            ray.shutdown()


def _init(ray: Any, address: str | None) -> None:
    """ray.init, with one more try when a local head does not come up: Ray
    forks its head processes from this one, and in a process that already runs
    a Milvus client and a model, about one start in ten timed out waiting for
    the GCS server (build_or_update therefore starts Ray before either)."""
    env = {"env_vars": {"QA_CACHE_DIR": os.environ["QA_CACHE_DIR"]}} if os.environ.get("QA_CACHE_DIR") else None
    for attempt in (1, 2):
        before = _children()
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False,
                     runtime_env=env)
            return
        except RuntimeError as exc:  # "Timed out waiting for file .../gcs_server_port_..."
            ray.shutdown()  # forgets the head, but a head that never came up is not known to it: its processes
            for pid in _children() - before:  # started by this attempt are stopped here
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            if address or attempt == 2 or "Timed out waiting for file" not in str(exc):
                raise
            log.warning("Ray's local head did not start (%s); starting it again", exc)


def _children() -> set[int]:
    """This process's child processes (Linux; elsewhere none are known)."""
    try:
        return {int(p) for t in Path(f"/proc/{os.getpid()}/task").iterdir()
                for p in (t / "children").read_text().split()}
    except OSError:
        return set()


def _reachable(address: str) -> None:
    """BadSettings now, instead of Ray retrying an address nobody answers at for minutes."""
    if address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=5).close()
    except (OSError, ValueError) as exc:
        raise BadSettings(f"no Ray cluster answers at {address} ({exc}): start one with ray start --head, and "
                          "pass its HOST:PORT (e.g. 10.0.0.5:6379) or ray://HOST:10001") from None


def load_folder_ray(docs: Path, settings: Settings, *, exclude: Iterable[Path] = ()) -> LoadResult:
    """`qa.loading.load_folder` with the files read by Ray tasks."""
    import ray.data

    check_folder(docs)
    skipped: list[Skipped] = []
    max_bytes = int(settings.max_file_mb * 1_000_000)
    paths = [{"path": str(p), "rel": p.relative_to(docs).as_posix()}
             for p in iter_files(docs, skipped, exclude=exclude, max_bytes=max_bytes)]
    if not paths:
        return LoadResult((), tuple(skipped))

    def load(row: dict[str, Any]) -> list[dict[str, Any]]:
        got, bad = load_one(Path(row["path"]), row["rel"], settings)
        return ([{"rel": row["rel"], "article": vars(a), "skipped": None} for a in got] +
                [{"rel": row["rel"], "article": None, "skipped": [s.path, s.reason]} for s in bad])

    articles: list[Article] = []
    for row in sorted(ray.data.from_items(paths).flat_map(load).take_all(), key=lambda r: r["rel"]):
        if row["article"] is not None:
            articles.append(Article(**row["article"]))
        else:
            skipped.append(Skipped(*row["skipped"]))
    return LoadResult(tuple(articles), tuple(sorted(skipped, key=lambda s: s.path)))


def _embed_actor(model: str, runtime: str, batch_size: int, threads: int) -> type:
    """The Ray actor class holding one copy of the model (its settings captured, so
    the actor takes no constructor arguments Ray would have to keep for restarts)."""

    class Embed:
        def __init__(self) -> None:
            self.embedder = load_embedder(model, batch_size=batch_size, runtime=runtime, threads=threads)

        def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
            return {"i": batch["i"], "vector": self.embedder.embed_documents([str(t) for t in batch["text"]])}

    return Embed


class RayEmbedder:
    """An Embedder whose `embed_documents` runs on a pool of Ray actors;
    questions are embedded in this process by `local`."""

    slice_size = 8192  # passages an update hands over at a time: the actors load the model once a slice

    def __init__(self, local: Embedder, settings: Settings, *, actors: int | None = None,
                 threads: int | None = None) -> None:
        self.local = local
        self.model_id, self.dimension, self.runtime = local.model_id, local.dimension, local.runtime
        self.settings = settings
        self.threads = threads
        self.actors = actors

    def embed_query(self, text: str) -> np.ndarray:
        return self.local.embed_query(text)

    def embed_documents(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        import ray
        import ray.data

        out = np.zeros((len(texts), self.dimension), np.float32)
        if not texts:
            return out
        nodes = [n["Resources"].get("CPU", 0) for n in ray.nodes() if n.get("Alive")]
        # one actor a machine using all its cores: on one machine, two one-thread actors embed 12.3
        # passages/s against 19.7 for one two-thread actor (each holds its own copy of the weights)
        threads = self.threads or max(1, int(min(nodes, default=1)))
        actors = self.actors or max(1, int(sum(nodes)) // threads)
        s = self.settings
        ds = ray.data.from_items([{"i": i, "text": t} for i, t in enumerate(texts)])
        actor = _embed_actor(self.model_id, self.runtime, s.batch_size, threads)
        vectors = ds.map_batches(actor, batch_size=BATCH, num_cpus=threads,
                                 compute=ray.data.ActorPoolStrategy(size=actors))
        for batch in vectors.iter_batches(batch_size=None, batch_format="numpy"):
            out[batch["i"]] = np.stack(batch["vector"])
            if progress is not None:
                progress(len(batch["i"]))
        return out
