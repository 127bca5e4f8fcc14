"""The `qa` command line: index, ask, search, eval, eval calibrate, ui.

Every mistake a user can fix is a `QAError`; it ends as one line on stderr
(`qa: error: ...`) and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from qa.errors import QAError
from qa.logs import quiet_libraries
from qa.settings import DEFAULT_MODEL

log = logging.getLogger("qa")


def _common(sp: argparse.ArgumentParser, docs: bool = True) -> None:
    sp.add_argument("--index", "--store", dest="index", default="index", metavar="INDEX",
                    help="index folder (default: index/), or a Milvus address: milvus://HOST:PORT/COLLECTION, "
                         "milvus-lite://FILE.db/COLLECTION (docs/scaling-out.md)")
    if docs:
        sp.add_argument("--docs", default="seeds", help="articles folder (default: seeds/)")
    sp.add_argument("--model", default=None,
                    help=f"embedding model: '{DEFAULT_MODEL}' (offline default), 'fake', or a "
                         "sentence-transformers id or folder")
    sp.add_argument("--json", action="store_true", help="machine-readable output (one JSON object a line)")


def _llm(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--llm", metavar="PROVIDER:MODEL", default=None,
                    help="write answers with an LLM whose citations are checked: openai:MODEL (any "
                         "OpenAI-compatible server) or ollama:MODEL; needs pip install '.[llm]' (env QA_LLM)")
    sp.add_argument("--llm-base-url", metavar="URL", default=None,
                    help="the LLM server, e.g. http://127.0.0.1:8080/v1 (env QA_LLM_BASE_URL)")
    sp.add_argument("--llm-timeout", metavar="SECONDS", type=float, default=None,
                    help="seconds before the quotes are shown instead (default 30; env QA_LLM_TIMEOUT)")


def build_parser() -> argparse.ArgumentParser:
    from qa.cli import chat_ui, indexing
    from qa.cli import commands as c

    p = argparse.ArgumentParser(prog="qa", description="Arabic-first question answering over news articles.")
    p.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    sub = p.add_subparsers(dest="command", required=True)

    sp = sub.add_parser("index", help="build or update the index from a folder of articles")
    _common(sp)
    sp.add_argument("--rebuild", action="store_true", help="start from scratch (e.g. to change the model)")
    sp.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    sp.add_argument("--wait", action="store_true", help="if another qa index is writing, wait for it")
    sp.add_argument("--watch", action="store_true", help="keep running; re-index when files in --docs change")
    sp.add_argument("--debounce", type=float, default=2.0, help="seconds of quiet before a --watch re-index")
    sp.add_argument("--verify", action="store_true",
                    help="check every file of every kept version against its checksums; a damaged version is "
                         "renamed damaged-NAME and the newest intact one made current (exit code 1)")
    sp.add_argument("--from-index", metavar="DIR", default=None,
                    help="copy the index folder DIR into the Milvus store given by --store (nothing re-embedded)")
    sp.add_argument("--engine", choices=("local", "ray"), default="local",
                    help="ray: read and embed the articles on Ray (this machine, or --ray-address)")
    sp.add_argument("--ray-address", metavar="ADDR", default=None,
                    help="a Ray cluster to run on, e.g. ray://head:10001 (default: start Ray on this machine)")
    sp.set_defaults(func=indexing.cmd_index)

    for name, func, helptext in (("ask", c.cmd_ask, "answer a question with cited quotes"),
                                 ("search", c.cmd_search, "show the retrieved passages")):
        sp = sub.add_parser(name, help=helptext)
        sp.add_argument("question", nargs="?", help="the question")
        _common(sp)
        sp.add_argument("--batch", metavar="FILE.jsonl",
                        help='questions, one {"id", "question", "history"?} per line ("-" = stdin)')
        sp.add_argument("--history", metavar="FILE.json",
                        help='earlier turns [{"question", "answer"}, ...], oldest first: the question may follow up')
        sp.add_argument("--top-k", type=int, default=None, help="hits to retrieve (default 5)")
        sp.add_argument("--no-reader", action="store_true", help="answer without the extractive reader")
        if name == "ask":
            _llm(sp)
        sp.set_defaults(func=func)

    sp = sub.add_parser("chat", help="a conversation in the terminal: follow-up questions understood")
    _common(sp)
    sp.add_argument("--no-reader", action="store_true", help="answer without the extractive reader")
    _llm(sp)
    sp.set_defaults(func=c.cmd_chat, top_k=None)

    sp = sub.add_parser("ui", help="open the chat in the browser (Streamlit)")
    sp.add_argument("--docs", default="seeds", help="articles folder (default: seeds/)")
    sp.add_argument("--index", default="index", help="index folder (default: index/)")
    sp.add_argument("--model", default=None)
    sp.add_argument("--host", default="127.0.0.1",
                    help="address to listen on (default 127.0.0.1: this computer only; 0.0.0.0 exposes it)")
    sp.add_argument("--port", type=int, default=8501)
    sp.add_argument("--headless", action="store_true", help="do not open a browser window")
    _llm(sp)
    sp.set_defaults(func=chat_ui.cmd_ui)

    sp = sub.add_parser("eval", help="evaluate retrieval and answers on a question set "
                                     "(qa eval calibrate: fit the refusal rule)")
    sp.add_argument("file", help="SQuAD-format JSON (e.g. PATH/TO/arcd-train.json), or JSONL "
                                 '{"id", "question", "answers", "doc_id" or null} over --docs')
    sp.add_argument("--docs", default="seeds", help="articles for a JSONL question set (default: seeds/)")
    sp.add_argument("--model", default=None)
    sp.add_argument("--compare", action="store_true", help="also run the dense-only and plain BM25 baselines")
    sp.add_argument("--no-reader", action="store_true", help="answer without the extractive reader")
    sp.add_argument("--limit", type=int, default=None, help="evaluate the first N questions only")
    sp.add_argument("--index", default=None, help="keep the evaluation index in this folder (reused if current)")
    sp.add_argument("--holdout-every", type=int, default=None, metavar="K",
                    help="leave every K-th article out of the index; its questions must be refused")
    sp.add_argument("--holdout-shift", type=int, default=0, metavar="S",
                    help="hold out the articles at (position + S) %% K == K-1 instead (another fold)")
    sp.add_argument("--ask-every", type=int, default=None, metavar="M",
                    help="ask only the questions of every M-th article (those the shipped reader never saw: 5)")
    sp.add_argument("--questions", metavar="FILE.jsonl",
                    help='ask only these {"id", "question"} questions of a SQuAD file, in this wording '
                         "(e.g. bench/data/arcd_en.jsonl: ARCD questions in English)")
    sp.add_argument("--dump", metavar="FILE.jsonl", help="write per-question records here (for calibrate)")
    _llm(sp)
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=c.cmd_eval)

    sp = sub.add_parser("eval-calibrate", prog="qa eval calibrate",
                        help="(run as: qa eval calibrate RECORDS.jsonl ...) fit the refusal rule")
    sp.add_argument("records", nargs="+", metavar="RECORDS.jsonl",
                    help="qa eval --holdout-every K --dump files (an Arabic run, and optionally an English one)")
    sp.add_argument("--max-false-refusals", type=float, default=0.05,
                    help="share of answerable questions the rule may refuse (default 0.05)")
    sp.add_argument("--model-id", action="append", metavar="ID",
                    help="model id(s) the rule applies to (default: the records' model)")
    sp.add_argument("--out", metavar="FILE.json",
                    help="where to write it (default: the calibrations shipped with qa, read by the composer)")
    sp.add_argument("--bridge-weight", type=float, default=None, metavar="W",
                    help="fix the cross-lingual rule's bridge weight (its threshold is still fitted)")
    sp.add_argument("--halves", action="store_true", help="also fit on half the questions, test on the other")
    sp.add_argument("--folds", action="store_true",
                    help="each records file is a fold: also fit on the others and test on it, for each")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=c.cmd_calibrate)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    # Offline by default: a model id that is not cached fails at once instead of retrying a hub
    # for a minute (QA_ALLOW_DOWNLOADS=1 lets sentence-transformers fetch it).
    if os.environ.get("QA_ALLOW_DOWNLOADS") != "1":
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:2] == ["eval", "calibrate"]:  # a sub-command of eval whose first argument is not a file
        argv = ["eval-calibrate", *argv[2:]]
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    quiet_libraries()
    try:
        return args.func(args)
    except QAError as exc:
        print(f"qa: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("qa: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of our output went away (qa ... | head): not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
