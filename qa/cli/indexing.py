"""`qa index`: build or update an index (a folder or Milvus), copy a folder's
index into Milvus, or watch the docs folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qa.assistant import build_or_update
from qa.backends import Location, MilvusLocation, parse_location
from qa.cli import output
from qa.cli.commands import settings_from
from qa.cli.verify import cmd_verify
from qa.errors import BadInput
from qa.indexer import IndexReport
from qa.loading.folder import check_folder
from qa.settings import Settings


def cmd_index(args: argparse.Namespace) -> int:
    index = parse_location(args.index)
    if args.verify:
        if isinstance(index, MilvusLocation):
            raise BadInput("--verify checks an index folder's files; Milvus keeps and checks its own")
        return cmd_verify(args)
    settings = settings_from(args)
    docs = Path(args.docs)
    rebuild = args.rebuild
    if args.ray_address and args.engine != "ray":
        raise BadInput("--ray-address is for --engine ray: add --engine ray, or leave the address out")
    if args.from_index:
        return _migrate(args, index, settings)

    def run_once() -> None:
        nonlocal rebuild
        report = build_or_update(docs, index, settings, rebuild=rebuild, progress=output.TqdmProgress(not args.quiet),
                                 wait=args.wait or args.watch, engine=args.engine, ray_address=args.ray_address)
        rebuild = False
        _print_report(args, report)

    if not args.watch:
        run_once()
        return 0
    from qa.watch import watch

    check_folder(docs)
    print(f"watching {docs} (Ctrl+C stops)", file=sys.stderr)
    watch(docs, run_once, debounce=args.debounce, ignore=(index,) if isinstance(index, Path) else ())
    return 0


def _print_report(args: argparse.Namespace, report: IndexReport) -> None:
    if args.json:
        output.emit(output.report_dict(report))
    else:
        print(output.report_text(report), flush=True)


def _migrate(args: argparse.Namespace, index: Location, settings: Settings) -> int:
    """`qa index --store milvus://... --from-index DIR`: the folder's index copied into Milvus as it is."""
    if not isinstance(index, MilvusLocation):
        raise BadInput(f"--from-index copies an index folder into Milvus: give a Milvus address with --store, "
                       f"not {index}")
    from qa.backends.milvus import MilvusStore, migrate

    report = migrate(MilvusStore.connect(index), Path(args.from_index), settings, rebuild=args.rebuild,
                     progress=output.TqdmProgress(not args.quiet))
    _print_report(args, report)
    return 0
