"""Saving an uploaded article into the docs folder, never over another one."""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

from qa.errors import BadInput
from qa.loading.formats import SUPPORTED_SUFFIXES

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
_UNSAFE = re.compile(r"[^\w.\- ]+", re.UNICODE)


def safe_filename(name: str) -> str:
    """A file name that is safe to create inside the docs folder: the client's
    path is dropped, `..`, separators and odd characters are removed, Arabic
    letters are kept, and the extension must be a supported one."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, ext = unicodedata.normalize("NFC", base).rpartition(".")
    if not dot:
        stem, ext = base, ""
    ext = ext.lower().strip()
    if f".{ext}" not in SUPPORTED_SUFFIXES:
        raise BadInput(f"'{name}' is not a supported article file; use one of "
                         f"{', '.join(sorted(SUPPORTED_SUFFIXES))}")
    stem = _UNSAFE.sub("_", stem).strip(" ._")[:120] or "article"
    return f"{stem}.{ext}"


def save_upload(docs: Path, name: str, data: bytes, max_bytes: int = MAX_UPLOAD_BYTES, *,
                replace: bool = False) -> Path:
    """Store an uploaded article in `docs` under a sanitised name. An existing
    file of that name is never overwritten unless `replace` (the user chose to
    update it): the upload gets a free name instead («name-2.txt»); the same
    bytes again are stored once."""
    if len(data) > max_bytes:
        raise BadInput(f"'{name}' is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB")
    if not data.strip():
        raise BadInput(f"'{name}' is empty")
    target = docs / safe_filename(name)
    docs.mkdir(parents=True, exist_ok=True)
    n = 1
    while not replace and target.exists() and target.read_bytes() != data:
        n += 1
        base = docs / safe_filename(name)
        target = base.with_name(f"{base.stem}-{n}{base.suffix}")
    tmp = target.with_name(f".{target.name}.part")
    tmp.write_bytes(data)
    os.replace(tmp, target)
    return target
