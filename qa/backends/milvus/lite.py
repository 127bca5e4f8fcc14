"""milvus-lite specifics: it serves a `.db` folder from threads of the process
that opened it, and one process at a time holds the folder's lock."""

from __future__ import annotations

import os
from pathlib import Path

from qa.backends.location import MilvusLocation
from qa.errors import IndexBusy

LOCK = "LOCK"  # milvus_lite.db.LOCK_FILENAME, flock-ed while a process serves the folder


def check_free(location: MilvusLocation) -> None:
    """IndexBusy naming the fix when another process holds the file (milvus-lite
    itself logs a traceback and pymilvus reports only "Open local milvus failed")."""
    try:
        import fcntl

        from milvus_lite.server_manager import server_manager_instance
    except ImportError:  # Windows, or no milvus-lite: pymilvus' own error stands
        return
    served = getattr(server_manager_instance, "_servers", None)
    lock = Path(location.uri) / LOCK
    if served is None or os.path.abspath(location.uri) in served or not lock.exists():
        return  # served by this process already (or unknown: no guess), or never opened
    try:
        fd = os.open(lock, os.O_RDONLY)
    except OSError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
    except OSError:
        raise IndexBusy(f"{location} is open in another process (a chat, or qa index): milvus-lite serves a file "
                        "to one process at a time. Stop that process, or use a Milvus server (docs/scaling-out.md)"
                        ) from None
    finally:
        os.close(fd)


def release(location: MilvusLocation) -> None:
    """Stop this process serving the file, so another process can open it."""
    from milvus_lite.server_manager import server_manager_instance

    server_manager_instance.release_server(location.uri)
