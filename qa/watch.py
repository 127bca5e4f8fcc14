"""Watching the docs folder: re-index shortly after files are added, changed,
renamed or removed (watchdog events, debounced so a burst of saves is one run).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

log = logging.getLogger(__name__)


class _Changes(FileSystemEventHandler):
    def __init__(self, ignore: tuple[Path, ...] = ()) -> None:
        self.ignore = ignore  # folders whose changes are ours (an index kept inside the docs folder)
        self.last = 0.0
        self.pending = False
        self.lock = threading.Lock()

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        path = Path(str(event.src_path)).resolve()
        if path.name.startswith(".") and not event.is_directory:  # our own .part files, editor swap files
            return
        if event.is_directory and event.event_type == "modified":  # an entry inside changed: that has its event
            return
        if any(path == folder or path.is_relative_to(folder) for folder in self.ignore):
            return
        with self.lock:
            self.pending = True
            self.last = time.monotonic()


def watch(docs: Path, reindex: Callable[[], None], *, debounce: float = 2.0,
          stop: threading.Event | None = None, poll: float = 0.2, ignore: tuple[Path, ...] = ()) -> None:
    """Call `reindex()` once now, then again `debounce` seconds after the last
    change under `docs` outside the `ignore` folders, until `stop` is set (or
    KeyboardInterrupt)."""
    stop = stop or threading.Event()
    changes = _Changes(tuple(p.resolve() for p in ignore))
    observer = Observer()
    observer.schedule(changes, str(docs), recursive=True)
    observer.start()
    try:
        reindex()
        while not stop.is_set():
            stop.wait(poll)
            with changes.lock:
                due = changes.pending and time.monotonic() - changes.last >= debounce
                if due:
                    changes.pending = False
            if due:
                try:
                    reindex()
                except Exception:  # keep watching; the error is reported, the next change retries
                    log.exception("re-indexing failed; will retry on the next change")
    finally:
        observer.stop()
        observer.join()
