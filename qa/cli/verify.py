"""`qa index --verify`: every byte of every kept version checked against its manifest.

A damaged version is set aside (renamed `damaged-<name>`, never deleted) and,
if it was the current one, the newest intact version becomes current; the next
`qa index` then re-adds from the docs folder whatever that version lacks.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from qa import store
from qa.cli import output


def cmd_verify(args: argparse.Namespace) -> int:
    """Print each version's state; exit 0 when every version is intact, 1 when one was set aside."""
    index = Path(args.index)
    if not store.versions_newest_first(index):  # checked before the lock, which would create the folder
        raise store.IndexMissing(f"no index at {index}: build one with: qa index --index {index}")
    with store.writer_lock(index, wait=args.wait):
        checks = store.verify(index)
        damaged = any(not c.intact for c in checks)
        if damaged:
            store.set_aside(index, checks)
        current = store.current_version(index)
    now = current.name if current else None
    if args.json:
        output.emit({"index": str(index), "current": now, "versions": [
            {"name": c.name, "current": c.current, "intact": c.intact, "problems": list(c.problems),
             "note": c.note} for c in checks]})
    else:
        for c in checks:
            state = "intact" if c.intact else "DAMAGED: " + "; ".join(c.problems)
            print(f"{c.name}{' (current)' if c.current else ''}: {state}{' (' + c.note + ')' if c.note else ''}")
        if damaged:
            print("damaged versions were renamed damaged-<name> (delete them when you no longer need them); "
                  + (f"{now} is now current: run qa index to add back what it lacks" if now else
                     f"no version is intact: rebuild with qa index --rebuild --index {index}"))
    return 1 if damaged else 0
