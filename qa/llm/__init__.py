"""The optional LLM answer writer (`Settings(llm="openai:MODEL")`, `qa ask --llm`).

- `models`: the LangChain chat model for a provider (an optional extra);
- `prompt`: the prompts: passages fenced as data, then the question;
- `verify`: the check of every sentence and `[n]` of a reply against its passage;
- `writer`: calls the model, checks the reply, falls back to the extractive answer.

Only this package and `qa.integrations` import LangChain chat or retriever classes.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from qa.answer.compose import Composer
from qa.embedding import Embedder
from qa.llm.models import chat_model
from qa.llm.verify import Verifier
from qa.llm.writer import Writer
from qa.settings import Settings
from qa.types import Article

__all__ = ["Writer", "make_writer"]


def make_writer(settings: Settings, embedder: Embedder, composer: Composer, idf: Mapping[str, float],
                articles: Mapping[str, Article], model: object | None = None) -> Writer:
    """The writer `settings.llm` configures (`model`: a LangChain chat model to use instead, e.g. a fake)."""
    values = sorted(idf.values())
    name_idf = float(np.percentile(values, settings.verify_names_percentile)) if values else 0.0
    verifier = Verifier(idf, embedder.embed_query, composer.sentence_vectors, overlap=settings.verify_overlap,
                        dense=settings.verify_dense, name_idf=name_idf)
    return Writer(model if model is not None else chat_model(settings), settings, verifier, articles)
