"""One tokenizer object per tokenizer file in a process: the embedder and the
reader both cut text with the base model's tokenizer, and reading its 250,000
pieces takes about 0.4 s each time. Each caller names the truncation it
needs; calls are serialised, since truncation is the tokenizer's state."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Truncation:
    """`max_length` tokens; pairs cut in the second text, in windows overlapping by `stride`."""

    max_length: int
    stride: int = 0
    strategy: str = "longest_first"


class SharedTokenizer:
    """A `tokenizers.Tokenizer` (no padding) whose truncation is set per call."""

    def __init__(self, tokenizer: Any) -> None:
        self._tok = tokenizer
        self._tok.no_padding()
        self._lock = threading.Lock()
        self._truncation: Truncation | None = None

    def _set(self, truncation: Truncation) -> None:
        if truncation != self._truncation:
            self._tok.enable_truncation(truncation.max_length, stride=truncation.stride,
                                        strategy=truncation.strategy)
            self._truncation = truncation

    def encode(self, text: str, truncation: Truncation, *, add_special_tokens: bool = True) -> Any:
        with self._lock:
            self._set(truncation)
            return self._tok.encode(text, add_special_tokens=add_special_tokens)

    def encode_batch(self, inputs: Sequence[str | tuple[str, str]], truncation: Truncation) -> list[Any]:
        with self._lock:
            self._set(truncation)
            return self._tok.encode_batch(list(inputs))


def shared_tokenizer(path: Path) -> SharedTokenizer:
    """The process's tokenizer for the `tokenizer.json` at `path` (read again if the file changed)."""
    stat = path.stat()
    return _load(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=2)  # a replaced file's tokenizer (about 0.14 GB) is let go
def _load(path: str, size: int, mtime_ns: int) -> SharedTokenizer:
    from tokenizers import Tokenizer

    return SharedTokenizer(Tokenizer.from_file(path))
