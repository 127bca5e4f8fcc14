"""Logging set-up for programs built on the library (the CLI, bench scripts)."""

from __future__ import annotations

import logging
import os
import sys


def quiet_libraries() -> None:
    """Keep third-party logging and download-style progress bars off the terminal."""
    for name in ("transformers", "sentence_transformers", "bm25s", "faiss", "httpx", "trafilatura"):
        logging.getLogger(name).setLevel(logging.ERROR)
    for name in ("qa.e5convert", "qa.openvino_runtime"):  # one-time builds (20 s, 10 s, a minute for int8): say so
        logging.getLogger(name).setLevel(logging.INFO)
    # transformers reads these when (if ever) it is imported: importing it here would cost half a second
    # of every start, and on the OpenVINO runtime nothing else imports it
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    if "transformers" in sys.modules:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
