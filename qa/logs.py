"""Logging set-up for programs built on the library (the CLI, bench scripts)."""

from __future__ import annotations

import logging


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
