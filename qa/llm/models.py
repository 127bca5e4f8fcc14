"""The chat model behind the optional answer writer, through LangChain.

`openai:MODEL` uses `langchain-openai`'s ChatOpenAI against any
OpenAI-compatible server (`base_url`: a llama.cpp or vLLM server, LM Studio,
Ollama's /v1, a hosted API; the key comes from OPENAI_API_KEY, and a local
server needs none). `ollama:MODEL` uses `langchain-ollama`'s ChatOllama.
Both are optional extras: `pip install ".[llm]"`. Replies are deterministic
(temperature 0), bounded (`llm_max_tokens`) and never retried: a failure or a
timeout falls back to the extractive answer at once.
"""

from __future__ import annotations

import os
from typing import Any

from qa.errors import LLMUnavailable
from qa.settings import Settings

EXTRA = 'pip install ".[llm]"'


def chat_model(settings: Settings) -> Any:
    """The LangChain chat model `settings.llm` names (LLMUnavailable if its package is missing)."""
    provider, _, name = (settings.llm or "").partition(":")
    if provider == "openai":
        try:
            from langchain_openai import ChatOpenAI
        except ImportError as exc:
            raise LLMUnavailable(f"--llm {settings.llm} needs langchain-openai: {EXTRA}") from exc
        return ChatOpenAI(model=name, base_url=settings.llm_base_url, timeout=settings.llm_timeout, max_retries=0,
                          temperature=0, max_tokens=settings.llm_max_tokens,
                          api_key=os.environ.get("OPENAI_API_KEY") or "not-needed")
    if provider == "ollama":
        try:
            from langchain_ollama import ChatOllama
        except ImportError as exc:
            raise LLMUnavailable(f"--llm {settings.llm} needs langchain-ollama: {EXTRA}") from exc
        kwargs: dict[str, Any] = {"base_url": settings.llm_base_url} if settings.llm_base_url else {}
        return ChatOllama(model=name, temperature=0, num_predict=settings.llm_max_tokens,
                          client_kwargs={"timeout": settings.llm_timeout}, **kwargs)
    raise LLMUnavailable(f"unknown LLM provider in {settings.llm!r}: use openai:MODEL or ollama:MODEL")
