"""One file -> Articles: .txt/.md, .html/.htm, .json/.jsonl news records.

Every article keeps its original text exactly as decoded (qa/loading/decode.py:
line endings kept, a leading BOM dropped). `doc_id` is the file's path relative
to the docs folder, or `<path>#<id or position>` for a record inside a JSON file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from qa.loading.decode import decode, junk_reason
from qa.types import Article

TEXT_SUFFIXES = {".txt", ".md"}
HTML_SUFFIXES = {".html", ".htm"}
JSON_SUFFIXES = {".json", ".jsonl"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSON_SUFFIXES
MIN_BODY_WORDS = 6  # an HTML page whose every line is shorter has no article body (menus, links)


@dataclass(frozen=True)
class Skipped:
    """A file or record that was not loaded, and why."""

    path: str
    reason: str


def printable(name: str) -> str:
    """`name` with what UTF-8 cannot hold (a lone surrogate, an undecodable file-name byte) replaced."""
    return name.encode("utf-8", "replace").decode("utf-8")


def content_hash(article: Article) -> str:
    """Hash of what gets indexed (title and text); renames do not change it."""
    h = hashlib.sha256()
    h.update(article.title.encode("utf-8"))
    h.update(b"\x00")
    h.update(article.text.encode("utf-8"))
    return h.hexdigest()


def short_title(title: str, limit: int) -> str:
    """`title`, cut to `limit` characters at a word boundary (a huge first line is not a title)."""
    if len(title) <= limit:
        return title
    cut = title.rfind(" ", 0, limit)
    return title[: cut if cut > limit // 2 else limit].rstrip() + " …"


def _title_from_text(text: str, fallback: str, limit: int) -> str:
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return short_title(line, limit)
    return short_title(fallback, limit)


def _checked(text: str, max_line: int) -> str:
    reason = junk_reason(text)
    if reason:
        raise ValueError(reason)
    longest = max(map(len, text.splitlines()), default=0)
    if longest > max_line:
        raise ValueError(f"a line of {longest:,} characters (the limit is {max_line:,}, setting max_line_chars): "
                         "not an article's text")
    return text


def load_text(data: bytes, doc_id: str, stem: str, max_title: int, max_line: int) -> Article:
    text = _checked(decode(data)[0], max_line)
    return Article(doc_id=doc_id, title=_title_from_text(text, stem, max_title), text=text, path=doc_id)


def load_html(data: bytes, doc_id: str, stem: str, max_title: int) -> Article:
    """Main article text and metadata via trafilatura (boilerplate removed)."""
    import trafilatura

    html = decode(data, html=True)[0]
    text = trafilatura.extract(html, include_comments=False, include_tables=True, favor_recall=True)
    if not text or not text.strip():
        raise ValueError("no article text found in the HTML")
    if all(len(line.split()) < MIN_BODY_WORDS for line in text.splitlines()):
        raise ValueError(f"no article body in the HTML: every line is under {MIN_BODY_WORDS} words "
                         "(menus, links)")
    meta = trafilatura.extract_metadata(html)
    title = short_title(meta.title, max_title) if meta and meta.title else _title_from_text(text, stem, max_title)
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


def record_to_article(record: object, doc_id: str, max_title: int = 300) -> Article:
    """One JSON news record -> Article. Raises ValueError naming what is missing."""
    if not isinstance(record, dict):
        raise ValueError(f"expected a JSON object, got {type(record).__name__}")
    text = record.get("content")
    if text is None:
        text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("record has no non-empty 'content' or 'text' field")
    reason = junk_reason(text)
    if reason:
        raise ValueError(reason)
    given = _str_or_none(record.get("title"))
    title = short_title(given, max_title) if given else _title_from_text(text, doc_id, max_title)
    return Article(
        doc_id=doc_id, title=title, text=text, path=doc_id.split("#", 1)[0],
        source=_str_or_none(record.get("source")), url=_str_or_none(record.get("url")),
        date=_str_or_none(record.get("date") or record.get("date_extracted")),
        author=_str_or_none(record.get("author")),
    )


def _parse_lines(raw: str) -> list[object]:
    records: list[object] = []
    for lineno, line in enumerate(raw.splitlines(), 1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                records.append(ValueError(f"line {lineno}: invalid JSON ({exc.msg})"))
            except RecursionError:
                records.append(ValueError(f"line {lineno}: JSON nested too deeply"))
    return records


def load_json(data: bytes, rel: str, max_title: int) -> tuple[list[Article], list[Skipped]]:
    """A .json file (one object or a list of them) or .jsonl (one per line).
    Nesting deeper than the interpreter's recursion limit is reported, not raised."""
    raw = decode(data)[0]
    if rel.lower().endswith(".jsonl"):
        records = _parse_lines(raw)
    else:
        parsed = json.loads(raw)
        records = parsed if isinstance(parsed, list) else [parsed]
    articles, skipped, given = [], [], set()
    for pos, rec in enumerate(records):
        rid = _str_or_none(rec.get("id")) if isinstance(rec, dict) else None
        doc_id = f"{rel}#{rid if rid else pos}"
        n = 1
        while doc_id in given:  # a repeated id, or a position another record uses as its id
            n += 1
            doc_id = f"{rel}#{rid if rid else pos}~{n}"
        given.add(doc_id)
        try:
            if isinstance(rec, Exception):
                raise rec
            art = record_to_article(rec, doc_id, max_title)
            for value in (art.doc_id, art.title, art.text, art.source, art.url, art.date, art.author):
                if value is not None:
                    value.encode("utf-8")  # a lone surrogate ("\ud800") cannot be stored
            articles.append(art)
        except UnicodeEncodeError:
            skipped.append(Skipped(printable(doc_id), "holds an invalid character (a lone surrogate)"))
        except ValueError as exc:
            skipped.append(Skipped(doc_id, str(exc)))
    return articles, skipped


def load_file(path: Path, rel: str, max_title: int, max_line: int) -> tuple[list[Article], list[Skipped]]:
    """The articles in one supported file (ValueError, OSError, RecursionError propagate)."""
    data = path.read_bytes()
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return [load_text(data, rel, path.stem, max_title, max_line)], []
    if suffix in HTML_SUFFIXES:
        return [load_html(data, rel, path.stem, max_title)], []
    return load_json(data, rel, max_title)
