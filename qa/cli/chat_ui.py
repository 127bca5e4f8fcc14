"""`qa ui`: the Streamlit chat, started as a subprocess with its settings in the environment."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from qa.backends import parse_location
from qa.cli.commands import settings_from
from qa.loading import MAX_UPLOAD_BYTES
from qa.settings import Settings


def ui_script() -> Path:
    """The chat app, installed with the project as the `ui` package."""
    import ui

    return Path(ui.__file__).resolve().parent / "app.py"


def cmd_ui(args: argparse.Namespace) -> int:
    app = ui_script()
    index = parse_location(args.index)
    if isinstance(index, Path):
        index = index.resolve()
    elif index.lite:  # a milvus-lite file: absolute for the app's process
        index = replace(index, uri=str(Path(index.uri).resolve()))
    env = dict(os.environ, QA_DOCS=str(Path(args.docs).resolve()), QA_INDEX=str(index))
    if args.model:
        env["QA_MODEL"] = Settings(model=args.model).model  # validated
    if args.llm:
        s = settings_from(args)  # validated
        env.update(QA_LLM=s.llm or "", QA_LLM_BASE_URL=s.llm_base_url or "", QA_LLM_TIMEOUT=str(s.llm_timeout))
    cmd = [sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(args.port),
           "--server.address", args.host,
           "--server.maxUploadSize", str(MAX_UPLOAD_BYTES // 1_000_000), "--client.toolbarMode", "minimal",
           "--server.headless", "true" if args.headless else "false", "--browser.gatherUsageStats", "false"]
    print(f"opening the chat on http://{args.host}:{args.port} (Ctrl+C stops it)", file=sys.stderr)
    return subprocess.call(cmd, env=env)
