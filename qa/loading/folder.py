"""A docs folder -> every article in it, and every file not loaded with why.

Nothing a file holds can stop a run: each failure becomes a `Skipped` entry
with a one-line reason. Links are followed only to files inside the folder;
FIFOs, devices, link loops, names that are not valid UTF-8, files over the size
limit and the index folder itself are never read.
"""

from __future__ import annotations

import errno
import json
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from qa.errors import DocsNotFound
from qa.loading.decode import Undecodable
from qa.loading.formats import SUPPORTED_SUFFIXES, Skipped, load_file, printable
from qa.settings import Settings
from qa.types import Article

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadResult:
    articles: tuple[Article, ...]
    skipped: tuple[Skipped, ...]


def iter_files(docs: Path, skipped: list[Skipped] | None = None, *, exclude: Iterable[Path] = (),
               max_bytes: int | None = None) -> Iterator[Path]:
    """Regular files under `docs`, sorted, hidden files and folders and the
    folders in `exclude` (an index kept inside the docs folder) left out. Links
    are followed only to files inside `docs` (never to folders: no loops); what
    must not be read goes to `skipped` with why."""
    root = docs.resolve()
    excluded = {p.resolve() for p in exclude}
    found: list[Path] = []
    for folder, dirs, files in os.walk(docs):  # does not follow links to folders
        here = Path(folder)
        dirs[:] = [d for d in dirs if not d.startswith(".") and (here / d).resolve() not in excluded]
        found += [here / f for f in files if not f.startswith(".")]
    for path in sorted(found):
        rel = path.relative_to(docs).as_posix()
        reason = _unreadable(path, root, rel, max_bytes)
        if reason is None:
            yield path
        elif skipped is not None:
            skipped.append(Skipped(printable(rel), reason))


def _unreadable(path: Path, root: Path, rel: str, max_bytes: int | None) -> str | None:
    """Why `path` must not be read, or None."""
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        return "the file name is not valid UTF-8; rename it"
    try:
        if path.is_symlink() and not path.resolve(strict=True).is_relative_to(root):
            return "a link to a file outside the articles folder (not read)"
    except RuntimeError:
        return "a link loop (not read)"
    except OSError as exc:
        return "a link loop (not read)" if exc.errno == errno.ELOOP else "a broken link (not read)"
    if not path.is_file():
        return "not a regular file (a FIFO or a device; not read)"
    if max_bytes is not None and (size := path.stat().st_size) > max_bytes:
        return f"{size / 1e6:.3g} MB is over the limit of {max_bytes / 1e6:.3g} MB (setting max_file_mb)"
    return None


def check_folder(docs: Path) -> None:
    """DocsNotFound unless `docs` is an existing folder."""
    if not docs.exists():
        raise DocsNotFound(f"docs folder {docs} does not exist (pass --docs DIR)")
    if not docs.is_dir():
        raise DocsNotFound(f"--docs must be a folder, got the file {docs}")


def load_one(path: Path, rel: str, settings: Settings) -> tuple[list[Article], list[Skipped]]:
    """The articles in one file found by `iter_files`, or why it was not loaded."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        return [], [Skipped(rel, f"unsupported file type '{suffix or path.name}'")]
    try:
        return load_file(path, rel, settings.max_title_chars, settings.max_line_chars)
    except Undecodable as exc:
        return [], [Skipped(rel, str(exc))]
    except json.JSONDecodeError as exc:
        return [], [Skipped(rel, f"invalid JSON: {exc.msg} at line {exc.lineno}")]
    except RecursionError:
        return [], [Skipped(rel, "JSON nested too deeply")]
    except (ValueError, OSError) as exc:
        return [], [Skipped(rel, str(exc))]


def load_folder(docs: Path, settings: Settings | None = None, *, exclude: Iterable[Path] = ()) -> LoadResult:
    """Load every supported file under `docs`, within `settings`' size limits."""
    settings = settings or Settings()
    check_folder(docs)
    articles: list[Article] = []
    skipped: list[Skipped] = []
    max_bytes = int(settings.max_file_mb * 1_000_000)
    for path in iter_files(docs, skipped, exclude=exclude, max_bytes=max_bytes):
        got, bad = load_one(path, path.relative_to(docs).as_posix(), settings)
        articles.extend(got)
        skipped.extend(bad)
    for s in skipped:
        log.debug("skipped %s: %s", s.path, s.reason)
    return LoadResult(tuple(articles), tuple(skipped))
