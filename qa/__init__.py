"""Arabic-first question answering over news articles, offline.

    from pathlib import Path
    from qa import Assistant, Settings, build_or_update

    build_or_update(Path("seeds"), Path("index"), Settings())
    answer = Assistant.open(Path("index")).ask("من هو وزير الداخلية اليمني؟")

One module per stage: loading, arabic, chunking, embedding (+ e5convert),
lexical, vector, store, indexer, query, retrieval, answer/ (compose, refusal,
bridge, cues), assistant (the only one that knows every stage), watch;
eval/ is the evaluation harness, cli/ the command line. Every error a user
can fix is a `QAError` (qa.errors).
"""

from qa.assistant import Assistant, build_or_update
from qa.errors import QAError
from qa.logs import quiet_libraries
from qa.query import Query
from qa.settings import Settings
from qa.types import Answer, Article, Chunk, Citation, Evidence, Hit

__all__ = ["Answer", "Article", "Assistant", "Chunk", "Citation", "Evidence", "Hit", "QAError", "Query",
           "Settings", "build_or_update", "quiet_libraries"]
