"""Vectors embedded by an update that has not finished, kept so a killed run resumes.

    index/embedding/<key of the model, its dimension and runtime>/
      part-<n>.npy    float32 vectors, one row per passage
      part-<n>.keys   the sha256 of each row's passage text, one per line

A part is written to a temporary name and renamed, so a kill leaves whole parts
only. The next update of the same model reuses every vector whose passage is
unchanged and embeds the rest; the folder is removed once a complete version is
live. Plain NumPy and text: no pickle.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


def passage_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class PendingVectors:
    """The embedding cache of one index and one model."""

    def __init__(self, index_dir: Path, model_id: str, dimension: int, runtime: str = "") -> None:
        self.root = index_dir / "embedding"
        key = f"{model_id}\0{dimension}\0{runtime}"
        self.folder = self.root / hashlib.sha256(key.encode()).hexdigest()[:16]
        self.dimension = dimension

    def load(self) -> dict[str, np.ndarray]:
        """Every vector kept so far, by passage key (a damaged part is ignored)."""
        found: dict[str, np.ndarray] = {}
        for keys_file in sorted(self.folder.glob("part-*.keys")):
            try:
                keys = keys_file.read_text(encoding="ascii").split()
                rows = np.load(keys_file.with_suffix(".npy"), allow_pickle=False)
            except (OSError, ValueError) as exc:
                log.warning("ignoring a damaged embedding part %s: %s", keys_file.name, exc)
                continue
            if rows.shape != (len(keys), self.dimension):
                continue
            found.update(zip(keys, rows, strict=True))
        return found

    def add(self, keys: Sequence[str], vectors: np.ndarray) -> None:
        """Keep one embedded slice (whole or not at all)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        n = len(list(self.folder.glob("part-*.keys")))
        name = f"part-{n:06d}"
        try:
            np.save(self.folder / f".{name}.npy", np.asarray(vectors, np.float32), allow_pickle=False)
            (self.folder / f".{name}.keys").write_text("\n".join(keys), encoding="ascii")
        except BaseException:
            for tmp in (self.folder / f".{name}.npy", self.folder / f".{name}.keys"):
                tmp.unlink(missing_ok=True)
            raise
        os.replace(self.folder / f".{name}.npy", self.folder / f"{name}.npy")
        os.replace(self.folder / f".{name}.keys", self.folder / f"{name}.keys")  # the keys file marks it whole

    def clear(self) -> None:
        """Drop every kept vector (the update they belong to is live)."""
        shutil.rmtree(self.root, ignore_errors=True)
