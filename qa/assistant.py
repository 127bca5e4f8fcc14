"""The assistant: the one place that knows every stage and wires them.

    loading -> chunking -> embedding -> lexical + vector index -> store   (index)
    question -> query (analysed once) -> retrieval -> answer            (ask)

Use it from Python:

    from qa import Assistant, Settings, build_or_update
    build_or_update(Path("seeds"), Path("index"), Settings())
    bot = Assistant.open(Path("index"))
    bot.ask("من هو وزير الداخلية اليمني؟")

`ask` runs the three public stages `analyse`, `retrieve` and `answer`; they
are there for whoever needs one stage alone (evaluation ranks more hits than
an answer reads; a LangChain retriever needs only hits).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa import store
from qa.answer.bridge import WordVectors
from qa.answer.compose import Composer, refusal
from qa.answer.reader import Reader, load_reader
from qa.answer.refusal import calibration_for
from qa.arabic import terms
from qa.backends import (
    Location,
    MilvusLocation,
    Snapshot,
    current_name,
    open_snapshot,
    parse_location,
    read_manifest,
)
from qa.conversation import needs_context, quotes, resolve, turns
from qa.embedding import Embedder, load_embedder, resolve_runtime
from qa.errors import BadSettings
from qa.indexer import IndexReport, Progress, update_from_folder
from qa.loading.folder import check_folder, load_folder
from qa.query import Query, analyse, check_question, standalone_text
from qa.retrieval import MODES, Mode, Retriever
from qa.settings import Settings, as_path, as_settings
from qa.types import NO_EVIDENCE, Answer, Hit

if TYPE_CHECKING:
    from qa.llm import Writer

log = logging.getLogger(__name__)
ENGINES = ("local", "ray")


def build_or_update(docs: Path | str, index_dir: Path | str, settings: Settings | None = None, *, rebuild: bool = False,
                    embedder: Embedder | None = None, progress: Progress | None = None, wait: bool = False,
                    engine: str = "local", ray_address: str | None = None) -> IndexReport:
    """Load `docs` and bring the index at `index_dir` (a folder or a Milvus
    address) up to date. The folder is read after the writer lock is taken (a
    writer that waited for the model never publishes an older view of the
    folder than the writer before it). `engine="ray"` reads and embeds on Ray
    (this machine, or the cluster at `ray_address`; qa/ray_engine.py)."""
    docs, location, settings = as_path(docs, "docs"), parse_location(index_dir), as_settings(settings)
    check_folder(docs)
    if engine not in ENGINES:
        raise BadSettings(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    with contextlib.ExitStack() as stack:
        if engine == "ray":  # first: Ray forks its local head from this process, best before Milvus and the model
            from qa.ray_engine import RayEmbedder, load_folder_ray, ray_session

            stack.enter_context(ray_session(ray_address))
        embedder = embedder or _embedder_for(location, settings, rebuild)
        load = partial(load_folder, docs, settings)
        if engine == "ray":
            embedder = RayEmbedder(embedder, settings)
            load = partial(load_folder_ray, docs, settings)
        if isinstance(location, MilvusLocation):
            from qa.backends.milvus import MilvusStore, update_milvus

            return update_milvus(MilvusStore.connect(location), lambda: load(exclude=()), embedder, settings,
                                 rebuild=rebuild, progress=progress, wait=wait)
        return update_from_folder(location, lambda exclude: load(exclude=exclude), embedder, settings,
                                  rebuild=rebuild, progress=progress, wait=wait)


def _embedder_for(index_dir: Location, settings: Settings, rebuild: bool) -> Embedder:
    manifest = read_manifest(index_dir)
    if manifest is not None and not rebuild:
        store.check_compatible(manifest, settings.model, None, index_dir, settings.runtime)
    runtime = resolve_runtime(settings.runtime, manifest.runtime if manifest and not rebuild else None, settings.model)
    return load_embedder(settings.model, batch_size=settings.batch_size, runtime=runtime)


@dataclass
class Assistant:
    """A loaded snapshot of an index ready to answer questions."""

    index: Snapshot
    retriever: Retriever
    composer: Composer
    embedder: Embedder
    settings: Settings
    idf: Mapping[str, float]
    location: Location
    reader: Reader | None = None
    top_idf: float = 1.0  # the highest IDF, computed once: a question's unknown terms weigh this
    writer: Writer | None = None  # the LLM writer when settings.llm is set (qa.llm is imported only then)

    @classmethod
    def open(cls, index_dir: Path | str, settings: Settings | None = None, *,
             embedder: Embedder | None = None, reader: Reader | None = None, chat_model: Any = None) -> Assistant:
        """Load the current snapshot of the index at `index_dir` (a folder, or a
        Milvus address: qa.backends.location); its manifest decides the model unless
        one is given, and a mismatch is an IndexMismatch error. The reader is
        loaded too, when `settings.reader` and the model suit it (`reader`
        reuses a loaded one), and the LLM writer when `settings.llm` is set
        (`chat_model`: a LangChain chat model to use instead of the one it names)."""
        location = parse_location(index_dir)
        settings = None if settings is None else as_settings(settings)
        idx = open_snapshot(location)
        settings = settings or Settings(model=idx.manifest.embedder)
        if embedder is None:
            store.check_compatible(idx.manifest, settings.model, None, location, settings.runtime)
            embedder = load_embedder(settings.model, batch_size=settings.batch_size,
                                     runtime=resolve_runtime(settings.runtime, idx.manifest.runtime, settings.model))
        store.check_compatible(idx.manifest, embedder.model_id, embedder.dimension, location, embedder.runtime)
        retriever = Retriever(idx, settings)
        if reader is None:
            reader = load_reader(embedder.model_id, settings.reader, embedder)
        calibration = calibration_for(embedder.model_id, settings.calibrations,
                                      reader=reader is not None and settings.reader)
        composer = Composer(idx.articles, settings, calibration, embedder, WordVectors(embedder))
        idf = idx.idf()
        writer = None
        if settings.llm or chat_model is not None:
            from qa.llm import make_writer

            writer = make_writer(settings, embedder, composer, idf, idx.articles, chat_model)
        return cls(idx, retriever, composer, embedder, settings, idf, location, reader if settings.reader else None,
                   idx.top_idf(), writer)

    @property
    def version(self) -> str:
        return self.index.name

    def refreshed(self) -> Assistant:
        """This assistant, or a new one on the index's current version if a
        writer has switched it since (readers never block writers: an open
        assistant keeps answering from the version it loaded)."""
        current = current_name(self.location)
        if current is None or current == self.version:
            return self
        return Assistant.open(self.location, self.settings, embedder=self.embedder, reader=self.reader,
                              chat_model=self.writer.model if self.writer is not None else None)

    def analyse(self, question: str, mode: Mode = "hybrid", history: Iterable[object] | None = None) -> Query:
        """The question analysed once for every later stage (BadQuestion if it
        cannot be asked); keyword-only `mode` computes no vector. A follow-up
        is read against `history` (qa.conversation)."""
        if mode not in MODES:
            raise BadSettings(f"unknown retrieval mode {mode!r}; use one of {', '.join(MODES)}")
        check_question(question)
        past = turns(history)
        context = resolve(question, past, self.cited)
        rewritten = None
        if context is not None and self.writer is not None:  # the LLM condenses the conversation; else the rules
            rewritten = self.writer.condense(question, past)
        text = rewritten or standalone_text(question, context)
        vector = self.embedder.embed_query(text) if mode != "lexical" else None
        return analyse(question, self.idf, vector=vector, best_match=self.retriever.best_match, top_idf=self.top_idf,
                       context=context, unresolved=context is None and needs_context(question), standalone=text)

    def cited(self, reply: str) -> tuple[str, ...]:
        """The articles a reply quoted: those whose text holds one of its quotes."""
        found: list[str] = []
        for q in quotes(reply):
            rows = [row for row, _ in self.index.lexical_search(terms(q), 3)]
            for chunk in self.index.fetch(rows).values():
                doc = chunk.doc_id
                if doc not in found and q in self.composer.articles[doc].text:
                    found.append(doc)
        return tuple(found)

    def retrieve(self, query: Query, k: int | None = None, *, mode: Mode = "hybrid") -> list[Hit]:
        """The `k` best hits (default top_k) for an analysed question; with a
        reader, the first `reader_passages` are read and re-ranked."""
        if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 1):
            raise BadSettings(f"k must be a whole number of hits, at least 1, got {k!r}")
        k = k or self.settings.top_k
        wide = max(k, self.settings.reader_passages) * (2 if query.prefer else 1)
        hits = self.retriever.search(query, wide, mode=mode)
        if query.prefer:  # a follow-up: the articles the earlier answers cited come first among equals
            boost = self.settings.follow_up_boost
            hits = sorted((replace(h, score=h.score + boost) if h.chunk.doc_id in query.prefer else h for h in hits),
                          key=lambda h: -h.score)
        return self.read(query, hits)[:k]

    def read(self, query: Query, hits: list[Hit]) -> list[Hit]:
        """The first `reader_passages` hits read by the reader, each with its
        reading, re-ranked by fused score + reader_weight * margin; the rest
        follow unchanged. The first hit is read alone first: when none of the
        others could rise above it even with the reader's highest margin
        (`margin_cap`), they are not read and keep their fused order (unless
        the refusal rule weighs the reader's margins: then all are read)."""
        if self.reader is None or not hits:
            return hits
        n, w = self.settings.reader_passages, self.settings.reader_weight
        texts = [h.chunk.text for h in hits[:n]]
        cap = getattr(self.reader, "margin_cap", None)
        if cap is None or len(texts) < 2 or self.composer.calibration.reader_weight:
            readings = self.reader.read(query.standalone, texts)
        else:
            readings = self.reader.read(query.standalone, texts[:1])
            if hits[0].score + w * readings[0].margin - max(h.score for h in hits[1:n]) < w * cap:
                readings += self.reader.read(query.standalone, texts[1:])
        read = [replace(h, reading=r, score=h.score + w * r.margin) for h, r in zip(hits, readings, strict=False)]
        return sorted(read, key=lambda h: -h.score) + hits[len(read):]

    def answer(self, query: Query, hits: list[Hit], *, dense: bool = True) -> Answer:
        """The answer composed from `hits` (the first `answer_hits` are read);
        `dense=False` weighs keyword evidence only. A question that cannot be
        understood alone (`query.unresolved`) is refused as such."""
        if query.unresolved:
            return refusal(query, NO_EVIDENCE, "not_understood")
        return self.composer.compose(query, hits[: self.answer_hits], dense=dense)

    @property
    def answer_hits(self) -> int:
        """How many hits an answer is made from."""
        return max(self.settings.top_k, self.settings.answer_chunks)

    def search(self, question: str, k: int | None = None, *, mode: Mode = "hybrid",
               history: Iterable[object] | None = None) -> list[Hit]:
        """The passages retrieved for `question`, best first."""
        return self.retrieve(self.analyse(question, mode, history), k, mode=mode)

    def ask(self, question: str, *, mode: Mode = "hybrid", history: Iterable[object] | None = None,
            on_token: Callable[[str], None] | None = None) -> Answer:
        """A short answer quoting the articles, or a refusal. `history`: the
        earlier turns, oldest first, as {"question", "answer"} mappings (the
        reply text given) or Answers; a follow-up question is read against them.
        With an LLM writer, an answered question also gets `Answer.written`
        (its reply streamed to `on_token` as it comes, before it is checked)."""
        query = self.analyse(question, mode, history)
        if query.unresolved:
            return self.answer(query, [])
        hits = self.retrieve(query, self.answer_hits, mode=mode)
        answer = self.answer(query, hits, dense=mode != "lexical")
        if self.writer is not None and not answer.refused and mode != "lexical":
            answer = replace(answer, written=self.writer.write(query, hits, on_token, answer.citations))
        return answer
