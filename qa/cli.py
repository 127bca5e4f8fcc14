"""The `qa` command line: index, ask, search, eval. A thin layer over
`qa.assistant`; user mistakes end as one line on stderr and exit code 2."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from qa import store
from qa.assistant import Assistant, BadQuestion, build_or_update
from qa.embedding import ModelNotFound
from qa.indexer import IndexReport
from qa.loading import MAX_UPLOAD_BYTES
from qa.settings import DEFAULT_MODEL, Settings
from qa.types import Answer, Hit

log = logging.getLogger("qa")


class UserError(Exception):
    """A mistake the user can fix; printed as one line."""


class TqdmProgress:
    """Progress bar on stderr with chunks per second."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._bar: Any = None

    def start(self, total: int, what: str) -> None:
        if self.enabled:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=what, unit="chunk", file=sys.stderr, dynamic_ncols=True)

    def advance(self, n: int) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def quiet_libraries() -> None:
    """Keep third-party logging and download-style progress bars off the terminal."""
    for name in ("transformers", "sentence_transformers", "bm25s", "faiss", "httpx", "trafilatura"):
        logging.getLogger(name).setLevel(logging.ERROR)
    logging.getLogger("qa.e5convert").setLevel(logging.INFO)  # the one-time model build takes ~20 s: say so
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
    except ImportError:  # pragma: no cover
        pass


# --- output ---------------------------------------------------------------

def report_dict(r: IndexReport) -> dict[str, Any]:
    return {
        "articles": r.articles, "chunks": r.chunks, "added": r.added, "updated": r.updated,
        "removed": r.removed, "unchanged": r.unchanged, "renamed": r.renamed,
        "duplicates": [{"doc_id": d, "same_as": s} for d, s in r.duplicates],
        "skipped": [{"path": s.path, "reason": s.reason} for s in r.skipped],
        "embedded_chunks": r.embedded_chunks, "seconds": round(r.seconds, 3), "model": r.model,
        "lexical_ready_seconds": round(r.lexical_ready_seconds, 3) if r.lexical_ready_seconds is not None else None,
        "index": r.index,
    }


def report_text(r: IndexReport) -> str:
    lines = [
        f"index {r.index}: {r.articles} articles, {r.chunks} chunks (model {r.model})",
        f"  added {r.added}, updated {r.updated}, removed {r.removed}, unchanged {r.unchanged}, "
        f"renamed {r.renamed}, duplicates {len(r.duplicates)}, skipped {len(r.skipped)}",
        f"  embedded {r.embedded_chunks} chunks in {r.seconds:.1f}s" if r.changed else "  nothing changed",
    ]
    if r.lexical_ready_seconds is not None:
        lines.append(f"  new articles were keyword-searchable after {r.lexical_ready_seconds:.1f}s, "
                     "before their embeddings were done")
    for d, s in r.duplicates[:5]:
        lines.append(f"  duplicate: {d} has the same content as {s} (indexed once)")
    for s in r.skipped[:5]:
        lines.append(f"  skipped: {s.path}: {s.reason}")
    if len(r.skipped) > 5:
        lines.append(f"  ... and {len(r.skipped) - 5} more skipped (see --json)")
    return "\n".join(lines)


def answer_dict(a: Answer, qid: Any = None) -> dict[str, Any]:
    return {
        "id": qid, "question": a.question, "answer": a.text, "refused": a.refused,
        "citations": [
            {"n": c.n, "doc_id": c.doc_id, "title": c.title, "quote": c.quote, "start": c.start, "end": c.end,
             "score": c.score, "source": c.source, "url": c.url, "date": c.date}
            for c in a.citations
        ],
    }


def answer_text(a: Answer) -> str:
    lines = [a.text]
    if a.citations:
        lines.append("")
        for c in a.citations:
            meta = ", ".join(x for x in (c.source, c.date, c.url) if x)
            lines.append(f"[{c.n}] {c.title} ({c.doc_id}, chars {c.start}-{c.end}){' — ' + meta if meta else ''}")
    return "\n".join(lines)


def hits_dict(hits: Sequence[Hit], qid: Any = None) -> dict[str, Any]:
    return {"id": qid, "hits": [
        {"doc_id": h.chunk.doc_id, "chunk_id": h.chunk.chunk_id, "score": round(h.score, 6),
         "start": h.chunk.start, "end": h.chunk.end, "text": h.chunk.text}
        for h in hits
    ]}


def hits_text(hits: Sequence[Hit]) -> str:
    out = []
    for i, h in enumerate(hits, 1):
        snippet = " ".join(h.chunk.text.split())[:160]
        out.append(f"{i}. {h.chunk.doc_id} #{h.chunk.chunk_id} score {h.score:.4f}\n   {snippet}")
    return "\n".join(out) or "no hits"


def _emit(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


# --- commands -----------------------------------------------------------------

def _settings(args: argparse.Namespace) -> Settings:
    s = Settings()
    if getattr(args, "model", None):
        s = s.with_(model=args.model)
    if getattr(args, "top_k", None) is not None:
        if args.top_k < 1:
            raise UserError(f"--top-k must be at least 1, got {args.top_k}")
        s = s.with_(top_k=args.top_k)
    return s


def cmd_index(args: argparse.Namespace) -> int:
    settings = _settings(args)
    docs, index = Path(args.docs), Path(args.index)
    rebuild = args.rebuild

    def run_once() -> None:
        nonlocal rebuild
        report = build_or_update(docs, index, settings, rebuild=rebuild, progress=TqdmProgress(not args.quiet),
                                 wait=args.wait or args.watch)
        rebuild = False
        if args.json:
            _emit(report_dict(report))
        else:
            print(report_text(report), flush=True)

    if not args.watch:
        run_once()
        return 0
    from qa.watch import watch

    if not docs.is_dir():
        raise UserError(f"docs folder {docs} does not exist (pass --docs DIR)")
    print(f"watching {docs} (Ctrl+C stops)", file=sys.stderr)
    watch(docs, run_once, debounce=args.debounce)
    return 0


def _open(args: argparse.Namespace) -> Assistant:
    index = Path(args.index)
    if store.current_version(index) is None:
        docs = Path(args.docs)
        print(f"no index at {index}; building it from {docs} first ...", file=sys.stderr)
        report = build_or_update(docs, index, _settings(args), progress=TqdmProgress())
        print(report_text(report), file=sys.stderr)
    settings = None
    if getattr(args, "model", None) or getattr(args, "top_k", None) is not None:
        manifest = store.read_manifest(index)
        settings = _settings(args)
        if not args.model and manifest is not None:
            settings = settings.with_(model=manifest.embedder)
    return Assistant.open(index, settings)


def _read_batch(path: str) -> Iterator[tuple[Any, str]]:
    try:
        f = sys.stdin if path == "-" else open(path, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot read --batch file {path}: {exc.strerror}") from exc
    with f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise UserError(f"{path} line {lineno}: invalid JSON ({exc.msg})") from exc
            if not isinstance(obj, dict) or not isinstance(obj.get("question"), str):
                raise UserError(f'{path} line {lineno}: expected {{"id": ..., "question": "..."}}')
            yield obj.get("id", lineno), obj["question"]


def _questions(args: argparse.Namespace) -> list[tuple[Any, str]]:
    if args.batch and args.question:
        raise UserError("give either a QUESTION or --batch FILE, not both")
    if args.batch:
        return list(_read_batch(args.batch))
    if not args.question:
        raise UserError("missing the question: qa ask \"من هو وزير الداخلية اليمني؟\" (or --batch FILE.jsonl)")
    return [(None, args.question)]


def _each_question(args: argparse.Namespace, run, to_dict, to_text) -> int:
    """Run `run(bot, question)` for the question or every --batch line, printing
    one JSON object a line with --json. A re-index during a long batch is
    picked up on the next question."""
    questions = _questions(args)
    bot = _open(args)
    for qid, q in questions:
        bot = bot.refreshed()
        result = run(bot, q)
        if args.json:
            _emit(to_dict(result, qid))
        else:
            print(to_text(result))
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    return _each_question(args, lambda bot, q: bot.ask(q), answer_dict, answer_text)


def cmd_search(args: argparse.Namespace) -> int:
    return _each_question(args, lambda bot, q: bot.search(q, args.top_k), hits_dict, hits_text)


def cmd_eval(args: argparse.Namespace) -> int:
    from qa.evaluation import evaluate_jsonl, evaluate_squad, format_table

    path = Path(args.file)
    if not path.exists():
        raise UserError(f"question set {path} does not exist")
    settings = _settings(args)
    modes = ["hybrid", "dense", "bm25-plain"] if args.compare else ["hybrid"]
    t0 = time.perf_counter()
    records: list = []
    index_dir = Path(args.index) if args.index else None
    overlay = Path(args.questions) if args.questions else None
    if overlay and (path.suffix == ".jsonl" or not overlay.exists()):
        raise UserError(f"--questions {overlay}: " + ("does not exist" if not overlay.exists() else
                                                     "only applies to a SQuAD-format file"))
    if path.suffix == ".jsonl":
        try:
            results = evaluate_jsonl(path, Path(args.docs), settings, modes=modes, index_dir=index_dir,
                                     records=records)
        except ValueError as exc:
            raise UserError(str(exc)) from exc
    else:
        try:
            results = evaluate_squad(path, settings, modes=modes, limit=args.limit, index_dir=index_dir,
                                     holdout_every=args.holdout_every, records=records, overlay=overlay)
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise UserError(f"{path} is not a SQuAD-format JSON file ({exc.__class__.__name__}: {exc})") from exc
        except ValueError as exc:  # a bad --questions file
            raise UserError(str(exc)) from exc
    if args.dump:
        with open(args.dump, "w", encoding="utf-8") as f:
            for rec in records:
                f.write(json.dumps(asdict(rec), ensure_ascii=False) + "\n")
    if args.json:
        _emit({"file": str(path), "seconds": round(time.perf_counter() - t0, 1),
               "results": [asdict(r) for r in results]})
    else:
        print(format_table(results))
    return 0


def ui_script() -> Path:
    """ui/app.py beside the qa package (the project is installed editable)."""
    return Path(__file__).resolve().parent.parent / "ui" / "app.py"


def cmd_ui(args: argparse.Namespace) -> int:
    import os
    import subprocess

    app = ui_script()
    if not app.exists():
        raise UserError(f"the chat app is not at {app}; install the project with pip install -e .")
    env = dict(os.environ, QA_DOCS=str(Path(args.docs).resolve()), QA_INDEX=str(Path(args.index).resolve()))
    if args.model:
        env["QA_MODEL"] = args.model
    cmd = [sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(args.port),
           "--server.maxUploadSize", str(MAX_UPLOAD_BYTES // 1_000_000), "--client.toolbarMode", "minimal",
           "--server.headless", "true" if args.headless else "false", "--browser.gatherUsageStats", "false"]
    print(f"opening the chat on http://localhost:{args.port} (Ctrl+C stops it)", file=sys.stderr)
    return subprocess.call(cmd, env=env)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="qa", description="Arabic-first question answering over news articles.")
    p.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp: argparse.ArgumentParser, docs: bool = True) -> None:
        sp.add_argument("--index", default="index", help="index folder (default: index/)")
        if docs:
            sp.add_argument("--docs", default="seeds", help="articles folder (default: seeds/)")
        sp.add_argument("--model", default=None,
                        help=f"embedding model: '{DEFAULT_MODEL}' (offline default), 'fake', or a "
                             "sentence-transformers id or folder")
        sp.add_argument("--json", action="store_true", help="machine-readable output (one JSON object a line)")

    sp = sub.add_parser("index", help="build or update the index from a folder of articles")
    common(sp)
    sp.add_argument("--rebuild", action="store_true", help="start from scratch (e.g. to change the model)")
    sp.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    sp.add_argument("--wait", action="store_true", help="if another qa index is writing, wait for it")
    sp.add_argument("--watch", action="store_true", help="keep running; re-index when files in --docs change")
    sp.add_argument("--debounce", type=float, default=2.0, help="seconds of quiet before a --watch re-index")
    sp.set_defaults(func=cmd_index)

    for name, func, helptext in (("ask", cmd_ask, "answer a question with cited quotes"),
                                 ("search", cmd_search, "show the retrieved passages")):
        sp = sub.add_parser(name, help=helptext)
        sp.add_argument("question", nargs="?", help="the question")
        common(sp)
        sp.add_argument("--batch", metavar="FILE.jsonl",
                        help='questions, one {"id", "question"} per line ("-" = stdin)')
        sp.add_argument("--top-k", type=int, default=None, help="hits to retrieve (default 5)")
        sp.set_defaults(func=func)

    sp = sub.add_parser("ui", help="open the chat in the browser (Streamlit)")
    sp.add_argument("--docs", default="seeds", help="articles folder (default: seeds/)")
    sp.add_argument("--index", default="index", help="index folder (default: index/)")
    sp.add_argument("--model", default=None)
    sp.add_argument("--port", type=int, default=8501)
    sp.add_argument("--headless", action="store_true", help="do not open a browser window")
    sp.set_defaults(func=cmd_ui)

    sp = sub.add_parser("eval", help="evaluate retrieval and answers on a question set")
    sp.add_argument("file", help="SQuAD-format JSON (e.g. ../shared/data/arcd/arcd-train.json), or JSONL "
                                 '{"id", "question", "answers", "doc_id" or null} over --docs')
    sp.add_argument("--docs", default="seeds", help="articles for a JSONL question set (default: seeds/)")
    sp.add_argument("--model", default=None)
    sp.add_argument("--compare", action="store_true", help="also run the dense-only and plain BM25 baselines")
    sp.add_argument("--limit", type=int, default=None, help="evaluate the first N questions only")
    sp.add_argument("--index", default=None, help="keep the evaluation index in this folder (reused if current)")
    sp.add_argument("--holdout-every", type=int, default=None, metavar="K",
                    help="leave every K-th article out of the index; its questions must be refused")
    sp.add_argument("--questions", metavar="FILE.jsonl",
                    help='ask only these {"id", "question"} questions of a SQuAD file, in this wording '
                         "(e.g. bench/data/arcd_en.jsonl: ARCD questions in English)")
    sp.add_argument("--dump", metavar="FILE.jsonl", help="write per-question results here")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_eval)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    quiet_libraries()
    try:
        return args.func(args)
    except (UserError, BadQuestion, store.IndexUnusable, ModelNotFound, FileNotFoundError,
            NotADirectoryError) as exc:
        print(f"qa: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("qa: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
