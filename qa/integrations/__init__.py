"""Adapters to other frameworks; the only place that imports LangChain's
retriever classes (`qa.integrations.langchain`)."""
