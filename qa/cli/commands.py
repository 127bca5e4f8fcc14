"""The `qa` commands: each takes the parsed arguments and returns an exit code.
A thin layer over the public API; user mistakes raise `QAError` subclasses."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from qa.assistant import Assistant, build_or_update
from qa.backends import MilvusLocation, index_exists, parse_location, read_manifest
from qa.cli import output
from qa.conversation import turns
from qa.errors import BadInput, IndexMissing, QAError
from qa.settings import Settings


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings with the command line's --model and --top-k applied (validated)."""
    s = Settings()
    if getattr(args, "model", None):
        s = s.with_(model=args.model)
    if getattr(args, "top_k", None) is not None:
        if args.top_k < 1:
            raise BadInput(f"--top-k must be at least 1, got {args.top_k}")
        s = s.with_(top_k=args.top_k)
    if getattr(args, "no_reader", False):
        s = s.with_(reader=False)
    if os.environ.get("QA_RUNTIME"):
        s = s.with_(runtime=os.environ["QA_RUNTIME"])
    llm = getattr(args, "llm", None) or os.environ.get("QA_LLM")
    if llm and hasattr(args, "llm"):
        url = getattr(args, "llm_base_url", None) or os.environ.get("QA_LLM_BASE_URL")
        timeout = getattr(args, "llm_timeout", None)
        if timeout is None:
            timeout = os.environ.get("QA_LLM_TIMEOUT") or s.llm_timeout
        try:
            seconds = float(timeout)
        except ValueError as exc:
            raise BadInput(f"QA_LLM_TIMEOUT must be a number of seconds, got {timeout!r}") from exc
        s = s.with_(llm=llm, llm_base_url=url, llm_timeout=seconds)
    return s


def _open(args: argparse.Namespace) -> Assistant:
    index = parse_location(args.index)
    if not index_exists(index):  # never rebuild an index that exists, even a damaged one
        if isinstance(index, MilvusLocation):  # a typo must not write the seeds into a shared Milvus
            raise IndexMissing(f"no index in {index}: check the name, or build one with: qa index --docs "
                               f"YOUR_ARTICLES --store {index}")
        docs = Path(args.docs)
        print(f"no index at {index}; building it from {docs} first ...", file=sys.stderr)
        report = build_or_update(docs, index, settings_from(args), progress=output.TqdmProgress())
        print(output.report_text(report), file=sys.stderr)
    settings = settings_from(args)
    manifest = read_manifest(index)
    if not args.model and manifest is not None:
        settings = settings.with_(model=manifest.embedder)
    return Assistant.open(index, settings)


@dataclass(frozen=True)
class BadLine:
    """A batch line that cannot be asked: its id (its number when it has none) and why."""

    id: Any
    error: BadInput


def _read_batch(path: str) -> Iterator[tuple[Any, str, list] | BadLine]:
    """Each line's (id, question, history), or the BadLine that says what is
    wrong with it: one bad line does not stop the others."""
    try:
        f = sys.stdin if path == "-" else open(path, encoding="utf-8", errors="replace")
    except OSError as exc:
        raise BadInput(f"cannot read --batch file {path}: {exc.strerror}") from exc
    with f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except (json.JSONDecodeError, RecursionError) as exc:
                msg = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
                yield BadLine(lineno, BadInput(f"{path} line {lineno}: invalid JSON ({msg})"))
                continue
            line_id = obj.get("id", lineno) if isinstance(obj, dict) else lineno
            if not isinstance(obj, dict) or not isinstance(obj.get("question"), str):
                yield BadLine(line_id, BadInput(f'{path} line {lineno}: expected {{"id": ..., "question": "...", '
                                                '"history": [...]}'))
                continue
            try:
                history = list(turns(obj.get("history")))
            except BadInput as exc:
                yield BadLine(line_id, BadInput(f"{path} line {lineno}: {exc}"))
                continue
            yield obj.get("id", lineno), obj["question"], history


def _read_history(path: str | None) -> list:
    """The turns of a --history FILE.json: [{"question", "answer"}, ...], oldest first."""
    if not path:
        return []
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read --history file {path}: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise BadInput(f"--history file {path}: invalid JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(data, list):
        raise BadInput(f'--history file {path}: expected a list of {{"question": "...", "answer": "..."}}')
    return list(turns(data))


def _questions(args: argparse.Namespace) -> list[tuple[Any, str, list] | BadLine]:
    if args.batch and args.question:
        raise BadInput("give either a QUESTION or --batch FILE, not both")
    if args.batch:
        if args.history:
            raise BadInput('--history applies to one QUESTION; in a --batch file give each line its "history"')
        return list(_read_batch(args.batch))
    if not args.question:
        raise BadInput("missing the question: qa ask \"من هو وزير الداخلية اليمني؟\" (or --batch FILE.jsonl)")
    return [(None, args.question, _read_history(args.history))]


def _each_question(args: argparse.Namespace, run: Callable[[Assistant, str, list], Any],
                   to_dict: Callable[[Any, Any], dict], to_text: Callable[[Any], str]) -> int:
    """Run `run(bot, question, history)` for the question or every --batch
    line, printing one JSON object a line with --json (a blank line between
    answers without). A re-index during a long batch is picked up on the next question."""
    questions = _questions(args)
    bot = _open(args)
    failed = 0
    for i, item in enumerate(questions):
        try:
            if isinstance(item, BadLine):
                raise item.error
            qid, q, history = item
            bot = bot.refreshed()
            result = run(bot, q, history)
        except QAError as exc:  # with --batch, one bad question does not stop the others
            if not args.batch:
                raise
            failed += 1
            print(f"qa: error: {exc}", file=sys.stderr)
            if args.json:
                output.emit({"id": item.id if isinstance(item, BadLine) else item[0], "error": str(exc)})
            continue
        if args.json:
            output.emit(to_dict(result, qid))
        else:
            print(("\n" if i else "") + to_text(result), flush=True)
    return 2 if failed else 0


def cmd_ask(args: argparse.Namespace) -> int:
    return _each_question(args, lambda bot, q, h: bot.ask(q, history=h), output.answer_dict, output.answer_text)


def cmd_search(args: argparse.Namespace) -> int:
    return _each_question(args, lambda bot, q, h: bot.search(q, args.top_k, history=h), output.hits_dict,
                          output.hits_text)


def cmd_chat(args: argparse.Namespace) -> int:
    from qa.cli.chat import chat

    return chat(_open(args), as_json=args.json)


def cmd_eval(args: argparse.Namespace) -> int:
    from qa.eval import evaluate_conversations, evaluate_jsonl, evaluate_squad, format_table, is_conversation_file

    path = Path(args.file)
    if not path.exists():
        raise BadInput(f"question set {path} does not exist")
    settings = settings_from(args)
    modes = ["hybrid", "dense", "bm25-plain"] if args.compare else ["hybrid"]
    t0 = time.perf_counter()
    records: list = []
    index_dir = Path(args.index) if args.index else None
    overlay = Path(args.questions) if args.questions else None
    if overlay and (path.suffix == ".jsonl" or not overlay.exists()):
        raise BadInput(f"--questions {overlay}: " + ("does not exist" if not overlay.exists() else
                                                    "only applies to a SQuAD-format file"))
    if path.suffix == ".jsonl" and is_conversation_file(path):
        if args.compare:
            raise BadInput("--compare does not apply to a conversation set")
        results = evaluate_conversations(path, Path(args.docs), settings, index_dir=index_dir, records=records)
    elif path.suffix == ".jsonl":
        results = evaluate_jsonl(path, Path(args.docs), settings, modes=modes, index_dir=index_dir, records=records)
    else:
        results = evaluate_squad(path, settings, modes=modes, limit=args.limit, index_dir=index_dir,
                                 holdout_every=args.holdout_every, records=records, overlay=overlay,
                                 holdout_shift=args.holdout_shift, ask_every=args.ask_every)
    if args.dump:
        with open(args.dump, "w", encoding="utf-8") as f:
            for rec in records:
                f.write(json.dumps(asdict(rec), ensure_ascii=False) + "\n")
    if args.json:
        output.emit({"file": str(path), "seconds": round(time.perf_counter() - t0, 1),
                     "results": [asdict(r) for r in results]})
    else:
        print(format_table(results))
        written = [r.llm for r in results if r.llm is not None]
        if written:
            from qa.eval.llm import llm_table

            print("\n" + llm_table(written))
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    from qa.eval import calibrate, styles

    if not 0 <= args.max_false_refusals < 1:
        raise BadInput(f"--max-false-refusals must be a share from 0 to 1, got {args.max_false_refusals}")
    folds = [calibrate.read_records([Path(p)]) for p in args.records]
    recs = [r for fold in folds for r in fold]
    models = args.model_id or sorted({r.get("model") or "" for r in recs})
    if not all(models) or len(models) != len(set(models)):
        raise BadInput("the records do not name one model (written by an older qa eval?): pass --model-id ID")
    rule, report = calibrate.calibrate(recs, args.max_false_refusals, args.bridge_weight)
    if args.folds:
        if len(folds) < 2:
            raise BadInput("--folds needs two or more records files, one a fold")
        report["across_folds"] = calibrate.across_folds(folds, args.max_false_refusals, args.bridge_weight)
    out = calibrate.write_calibration(rule, report, models, Path(args.out) if args.out else None)
    if args.json:
        output.emit({"file": str(out), "models": models, "rule": rule.to_json(), "fit": report})
        return 0
    print(f"wrote the {'reader_rule' if report['reader'] else 'rule'} of {out} for {', '.join(models)}")
    print("rule: " + ", ".join(f"{k} {v}" for k, v in rule.to_json().items()))
    for name in ("monolingual", "cross_lingual"):
        fit = report[name]
        if fit:
            print(f"{name}: refuses {fit['refused_out_of_scope']:.3f} of {fit['out_of_scope']} out-of-scope "
                  f"questions, {fit['false_refusals']:.3f} of {fit['answerable']} answerable ones")
        held = report.get("across_folds", {}).get(name)
        if held:
            print(f"  across folds (fitted on the others, tested on each): refuses {held[0]:.3f} of the "
                  f"out-of-scope questions, {held[1]:.3f} of the answerable ones")
    if args.halves:
        mono = [r for r in recs if not r["cross_lingual"]]
        for oos, fr in calibrate.halves(mono, args.max_false_refusals):
            print(f"fitted on one half, tested on the other: refuses {oos:.3f} of its out-of-scope, "
                  f"{fr:.3f} of its answerable")
    print("this run's refusals by question style: answerable (false refusals), out of scope (refused)")
    for name, n_ans, fr, n_oos, ref in styles.by_style(recs):
        print(f"  {name:16s} {n_ans:4d} ({fr if fr is not None else 0:.3f})   "
              f"{n_oos:4d} ({ref if ref is not None else 0:.3f})")
    return 0
