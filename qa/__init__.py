"""Arabic-first question answering over news articles, offline.

    from pathlib import Path
    from qa import Assistant, Settings, build_or_update

    build_or_update(Path("seeds"), Path("index"), Settings())
    answer = Assistant.open(Path("index")).ask("من هو وزير الداخلية اليمني؟")

Modules, one per stage: loading, arabic, chunking, embedding (+ e5convert),
lexical, vector, store, indexer, retrieval, compose, assistant, watch,
evaluation, cli.
"""

from qa.assistant import Assistant, build_or_update
from qa.settings import Settings
from qa.types import Answer, Article, Chunk, Citation, Hit

__all__ = ["Answer", "Article", "Assistant", "Chunk", "Citation", "Hit", "Settings", "build_or_update"]
