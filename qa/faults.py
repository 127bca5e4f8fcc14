"""Named crash points for the writer's kill tests.

`checkpoint(name)` does nothing unless the environment variable QA_FAIL_AT
names that point (`NAME`, or `NAME#N` for its N-th passage): then the process
ends at once with exit code FAULT_EXIT, as a SIGKILL would leave it (no clean-up,
no `finally`). Tests set it on a `qa index` subprocess so that each crash point
is hit deterministically instead of after a guessed delay.
"""

from __future__ import annotations

import os

FAULT_EXIT = 97
POINTS = (
    "write:files",  # a version's files written, not yet fsynced or renamed into place
    "write:before-switch",  # the version folder in place, CURRENT not switched yet
    "write:before-cleanup",  # CURRENT switched, older versions not removed yet
    "index:keyword-only-written",  # the keyword-only version is live, embedding not started
    "index:embedding",  # a slice of chunks embedded and kept on disk, final version not written
)
_passed: dict[str, int] = {}


def checkpoint(name: str) -> None:
    """End the process here if QA_FAIL_AT names this point (see module doc)."""
    wanted = os.environ.get("QA_FAIL_AT")
    if not wanted:
        return
    point, _, nth = wanted.partition("#")
    if point != name:
        return
    _passed[name] = _passed.get(name, 0) + 1
    if _passed[name] == int(nth or 1):
        os._exit(FAULT_EXIT)
