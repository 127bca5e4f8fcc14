import threading
import time
from pathlib import Path

from qa import store
from qa.assistant import build_or_update
from qa.settings import Settings
from qa.watch import watch


def indexed(index: Path) -> set[str]:
    m = store.read_manifest(index)
    return set(m.articles) if m else set()


def wait_for(cond, timeout=15.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.1)
    return False


def test_watch_reindexes_after_add_change_and_delete(seeds: Path, tmp_path: Path):
    index = tmp_path / "index"
    runs = []

    def reindex():
        runs.append(build_or_update(seeds, index, Settings(model="fake"), wait=True))

    stop = threading.Event()
    t = threading.Thread(target=watch, args=(seeds, reindex), kwargs={"debounce": 0.3, "stop": stop})
    t.start()
    try:
        assert wait_for(lambda: runs)
        assert runs[0].added == 2
        new = seeds / "new.txt"
        new.write_text("خبر جديد\n\nافتتاح مستشفى في عدن.", encoding="utf-8")
        assert wait_for(lambda: "new.txt" in indexed(index)), runs
        new.write_text("خبر جديد\n\nافتتاح مستشفى كبير في عدن.", encoding="utf-8")
        assert wait_for(lambda: any(r.updated == 1 for r in runs)), runs
        new.unlink()
        assert wait_for(lambda: "new.txt" not in indexed(index)), runs
        n = len(runs)
        time.sleep(1.0)
        assert len(runs) == n, runs  # quiet folder: no extra runs
    finally:
        stop.set()
        t.join(10)
    assert not t.is_alive()


def test_changes_inside_an_index_kept_in_the_docs_folder_do_not_trigger_a_run(tmp_path: Path):
    from watchdog.events import DirModifiedEvent, FileCreatedEvent, FileModifiedEvent

    from qa.watch import _Changes

    index = tmp_path / "docs" / "index"
    changes = _Changes((index.resolve(),))
    changes.on_any_event(FileModifiedEvent(str(index / ".lock")))
    changes.on_any_event(FileCreatedEvent(str(index / "versions" / "v-1" / "manifest.json")))
    changes.on_any_event(DirModifiedEvent(str(tmp_path / "docs")))
    assert not changes.pending
    changes.on_any_event(FileCreatedEvent(str(tmp_path / "docs" / "new.txt")))
    assert changes.pending
