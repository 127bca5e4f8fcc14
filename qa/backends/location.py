"""Where an index lives: a folder (the embedded store) or a Milvus collection.

    index/                                  an index folder (the default)
    milvus://HOST:PORT/COLLECTION           a Milvus server or cluster (MILVUS_TOKEN: its token, if any)
    milvus+https://HOST:PORT/COLLECTION     the same over TLS
    milvus-lite://PATH/FILE.db/COLLECTION   milvus-lite: a local file speaking the same client API
                                            (milvus-lite:///abs/path/FILE.db/COLLECTION for an absolute path)
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from qa.errors import BadSettings

_COLLECTION = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,254}")
SCHEMES = ("milvus://", "milvus+https://", "milvus-lite://")


@dataclass(frozen=True)
class MilvusLocation:
    """A Milvus collection: `uri` as pymilvus takes it, and the collection's name prefix."""

    uri: str
    collection: str
    token: str = ""

    @property
    def lite(self) -> bool:
        """A milvus-lite file (`uri` its path), not a server."""
        return not self.uri.startswith("http")

    def __str__(self) -> str:
        if not self.lite:
            scheme = "milvus+https" if self.uri.startswith("https") else "milvus"
            return f"{scheme}://{self.uri.split('://', 1)[1]}/{self.collection}"
        return f"milvus-lite://{self.uri}/{self.collection}"


Location = Path | MilvusLocation


def parse_location(value: object) -> Location:
    """A folder path, or a `milvus...://` address (see the module's doc); BadSettings otherwise."""
    if isinstance(value, MilvusLocation):
        return value
    if not isinstance(value, str | os.PathLike) or not str(value).strip():
        raise BadSettings(f"an index must be a folder path or a milvus:// address, got {value!r:.80}")
    text = str(value)
    scheme = next((s for s in SCHEMES if text.startswith(s)), None)
    if scheme is None:
        if text.startswith("milvus"):
            raise BadSettings(f"{text!r} is not a Milvus address: use milvus://HOST:PORT/COLLECTION or "
                              "milvus-lite://PATH/FILE.db/COLLECTION")
        return Path(value)
    rest = text[len(scheme):]
    where, _, collection = rest.rpartition("/")
    example = "milvus-lite://news.db/news" if scheme == "milvus-lite://" else "milvus://localhost:19530/news"
    if not where or not _COLLECTION.fullmatch(collection):
        raise BadSettings(f"{text!r} names no valid collection: end it with /NAME (letters, digits and _, "
                          f"not starting with a digit), e.g. {example}")
    if scheme == "milvus-lite://":
        if not where.endswith(".db"):
            raise BadSettings(f"{text!r}: a milvus-lite file must end in .db, e.g. {example}")
        return MilvusLocation(where, collection)
    http = "https" if scheme == "milvus+https://" else "http"
    return MilvusLocation(f"{http}://{where}", collection, os.environ.get("MILVUS_TOKEN", ""))
