"""Loading articles from a folder: .txt/.md, .html/.htm, .json/.jsonl news records.

Every article keeps its original text exactly as read (UTF-8, a leading BOM
dropped, line endings as in the file). `doc_id` is the file's path relative to
the docs folder, or `<path>#<id or position>` for a record inside a JSON file.
Files that cannot be read become `Skipped` entries with a reason, never a crash.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from qa.errors import BadInput, DocsNotFound
from qa.types import Article

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".txt", ".md"}
HTML_SUFFIXES = {".html", ".htm"}
JSON_SUFFIXES = {".json", ".jsonl"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSON_SUFFIXES


@dataclass(frozen=True)
class Skipped:
    """A file or record that was not loaded, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class LoadResult:
    articles: tuple[Article, ...]
    skipped: tuple[Skipped, ...]


def content_hash(article: Article) -> str:
    """Hash of what gets indexed (title and text); renames do not change it."""
    h = hashlib.sha256()
    h.update(article.title.encode("utf-8"))
    h.update(b"\x00")
    h.update(article.text.encode("utf-8"))
    return h.hexdigest()


def _read_text(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    return text[1:] if text.startswith("\ufeff") else text


MAX_TITLE_CHARS = 300  # a title longer than this is cut (at a space): every passage carries its title


def short_title(title: str) -> str:
    """`title`, cut to MAX_TITLE_CHARS at a word boundary (a huge first line is not a title)."""
    if len(title) <= MAX_TITLE_CHARS:
        return title
    cut = title.rfind(" ", 0, MAX_TITLE_CHARS)
    return title[: cut if cut > MAX_TITLE_CHARS // 2 else MAX_TITLE_CHARS].rstrip() + " …"


def _title_from_text(text: str, fallback: str) -> str:
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return short_title(line)
    return short_title(fallback)


def load_text(path: Path, doc_id: str) -> Article:
    text = _read_text(path)
    return Article(doc_id=doc_id, title=_title_from_text(text, path.stem), text=text, path=doc_id)


def load_html(path: Path, doc_id: str) -> Article:
    """Main article text and metadata via trafilatura (boilerplate removed)."""
    import trafilatura

    html = _read_text(path)
    text = trafilatura.extract(html, include_comments=False, include_tables=True, favor_recall=True)
    meta = trafilatura.extract_metadata(html)
    if not text or not text.strip():
        raise ValueError("no article text found in the HTML")
    title = short_title(meta.title) if meta and meta.title else _title_from_text(text, path.stem)
    return Article(
        doc_id=doc_id, title=title, text=text, path=doc_id,
        url=meta.url if meta else None, date=meta.date if meta else None,
        author=meta.author if meta else None, source=meta.sitename if meta else None,
    )


def _str_or_none(value: object) -> str | None:
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def record_to_article(record: object, doc_id: str) -> Article:
    """One JSON news record -> Article. Raises ValueError naming what is missing."""
    if not isinstance(record, dict):
        raise ValueError(f"expected a JSON object, got {type(record).__name__}")
    text = record.get("content")
    if text is None:
        text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("record has no non-empty 'content' or 'text' field")
    given = _str_or_none(record.get("title"))
    title = short_title(given) if given else _title_from_text(text, doc_id)
    return Article(
        doc_id=doc_id, title=title, text=text, path=doc_id.split("#", 1)[0],
        source=_str_or_none(record.get("source")), url=_str_or_none(record.get("url")),
        date=_str_or_none(record.get("date") or record.get("date_extracted")),
        author=_str_or_none(record.get("author")),
    )


def load_json(path: Path, rel: str) -> tuple[list[Article], list[Skipped]]:
    """A .json file (one object or a list of them) or .jsonl (one per line)."""
    raw = _read_text(path)
    if path.suffix.lower() == ".jsonl":
        records = []
        for lineno, line in enumerate(raw.splitlines(), 1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    records.append(ValueError(f"line {lineno}: invalid JSON ({exc.msg})"))
                except RecursionError:
                    records.append(ValueError(f"line {lineno}: JSON nested too deeply"))
    else:
        data = json.loads(raw)
        records = data if isinstance(data, list) else [data]
    articles, skipped, seen = [], [], set()
    for pos, rec in enumerate(records):
        rid = _str_or_none(rec.get("id")) if isinstance(rec, dict) else None
        doc_id = f"{rel}#{rid if rid and rid not in seen else pos}"
        seen.add(rid)
        try:
            if isinstance(rec, Exception):
                raise rec
            art = record_to_article(rec, doc_id)
            for value in (art.doc_id, art.title, art.text, art.source, art.url, art.date, art.author):
                if value is not None:
                    value.encode("utf-8")  # a lone surrogate ("\ud800") cannot be stored
            articles.append(art)
        except UnicodeEncodeError:
            skipped.append(Skipped(doc_id.encode("utf-8", "replace").decode("utf-8"),
                                   "holds an invalid character (a lone surrogate)"))
        except ValueError as exc:
            skipped.append(Skipped(doc_id, str(exc)))
    return articles, skipped


def iter_files(docs: Path, skipped: list[Skipped] | None = None) -> Iterator[Path]:
    """Regular files under `docs`, sorted, hidden files and folders left out.
    Links are followed only to files inside `docs` (never to folders: no
    loops); a link that leaves it, a FIFO, a device or a name that is not
    valid UTF-8 is never read and goes to `skipped` with why."""
    root = docs.resolve()
    found: list[Path] = []
    for folder, dirs, files in os.walk(docs):  # does not follow links to folders
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found += [Path(folder) / f for f in files if not f.startswith(".")]
    for path in sorted(found):
        rel = path.relative_to(docs).as_posix()
        reason = _unreadable(path, root, rel)
        if reason is None:
            yield path
        elif skipped is not None:
            skipped.append(Skipped(rel.encode("utf-8", "replace").decode("utf-8"), reason))


def _unreadable(path: Path, root: Path, rel: str) -> str | None:
    """Why `path` must not be read, or None."""
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        return "the file name is not valid UTF-8; rename it"
    if path.is_symlink():
        target = path.resolve()
        if not target.is_relative_to(root):
            return "a link to a file outside the articles folder (not read)"
    if not path.is_file():
        return "not a regular file (a FIFO, a device or a broken link)"
    return None


def load_folder(docs: Path) -> LoadResult:
    """Load every supported file under `docs`."""
    if not docs.exists():
        raise DocsNotFound(f"docs folder {docs} does not exist (pass --docs DIR)")
    if not docs.is_dir():
        raise DocsNotFound(f"--docs must be a folder, got the file {docs}")
    articles: list[Article] = []
    skipped: list[Skipped] = []
    for path in iter_files(docs, skipped):
        rel = path.relative_to(docs).as_posix()
        suffix = path.suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES:
            skipped.append(Skipped(rel, f"unsupported file type '{suffix or path.name}'"))
            continue
        try:
            if suffix in TEXT_SUFFIXES:
                art = load_text(path, rel)
                if not art.text.strip():
                    raise ValueError("file is empty")
                articles.append(art)
            elif suffix in HTML_SUFFIXES:
                articles.append(load_html(path, rel))
            else:
                got, bad = load_json(path, rel)
                articles.extend(got)
                skipped.extend(bad)
        except UnicodeDecodeError:
            skipped.append(Skipped(rel, "not UTF-8 text"))
        except json.JSONDecodeError as exc:
            skipped.append(Skipped(rel, f"invalid JSON: {exc.msg} at line {exc.lineno}"))
        except RecursionError:
            skipped.append(Skipped(rel, "JSON nested too deeply"))
        except (ValueError, OSError) as exc:
            skipped.append(Skipped(rel, str(exc)))
    for s in skipped:
        log.debug("skipped %s: %s", s.path, s.reason)
    return LoadResult(tuple(articles), tuple(skipped))


# --- saving uploads -------------------------------------------------------------

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
