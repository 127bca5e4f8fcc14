"""Checking every byte of an index's versions, and setting damaged ones aside."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from qa.store.manifest import Manifest, problems
from qa.store.versions import current_version, switch, versions_newest_first

log = logging.getLogger(__name__)
OLD_FORMAT = "written before checksums were kept: only its loading can be checked"


@dataclass(frozen=True)
class VersionCheck:
    """What `verify` found in one version."""

    name: str
    current: bool
    problems: tuple[str, ...]
    note: str = ""

    @property
    def intact(self) -> bool:
        return not self.problems


def verify(index_dir: Path) -> list[VersionCheck]:
    """Check every version's files against its manifest, every byte hashed;
    newest first, the current one marked. Changes nothing."""
    current = current_version(index_dir)
    checks = []
    for version in versions_newest_first(index_dir):
        try:
            manifest = Manifest.read(version)
            found = problems(version, manifest, hashes=True)
            note = "" if manifest.files else OLD_FORMAT
        except (OSError, ValueError, TypeError) as exc:
            found, note = [f"manifest.json: {exc}"], ""
        checks.append(VersionCheck(version.name, version == current, tuple(found), note))
    return checks


def set_aside(index_dir: Path, checks: list[VersionCheck]) -> None:
    """Rename each damaged version to `damaged-<name>` (kept, never deleted, and
    never loaded again); if the current one was damaged, make the newest intact
    version current. Call it holding the writer lock."""
    versions = index_dir / "versions"
    for c in checks:
        if not c.intact:
            os.replace(versions / c.name, versions / f"damaged-{c.name}")
            log.warning("index at %s: version %s is damaged (%s); set aside as damaged-%s",
                        index_dir, c.name, "; ".join(c.problems), c.name)
    intact = [c.name for c in checks if c.intact]
    if any(c.current and not c.intact for c in checks) and intact:
        switch(index_dir, intact[0])
