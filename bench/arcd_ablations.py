"""Retrieval ideas tried on ARCD and what they measured, so that the numbers
behind docs/decisions.md (retrieval variants) stay reproducible. None beat the default fusion by more
than about one standard error (recall@1 on 693 questions: +-0.016), so none is
in the product.

Fusion is as in the product (qa.retrieval): z-scores of every signal over the
union of the retrievers' candidates; a re-ranking signal is one more term. The
"default" row sits within a few questions of `qa eval`. "gained / lost" counts
the questions whose gold paragraph moved into or out of first place.

Variants (each described, with its numbers, in docs/decisions.md): title as a
field, best-sentence signals, pseudo-relevance feedback, BM25 variants and
parameters, character 3-grams, token MaxSim, stripped diacritics, USE as a
second dense signal, other prompts and question forms.

    .venv/bin/python bench/arcd_ablations.py PATH/TO/arcd-train.json
"""

from __future__ import annotations

import argparse
import collections
import itertools
import logging
import tempfile
import unicodedata
from collections.abc import Callable
from pathlib import Path

import bm25s
import numpy as np

from qa import arabic, quiet_libraries
from qa.assistant import Assistant
from qa.chunking import passage_text
from qa.embedding import load_embedder
from qa.eval.datasets import load_squad
from qa.indexer import update_index
from qa.query import analyse
from qa.settings import Settings


def z(x: np.ndarray) -> np.ndarray:
    sd = float(x.std())
    return (x - x.mean()) / sd if sd > 1e-9 else np.zeros_like(x)


def char_grams(text: str, n: int = 3) -> list[str]:
    padded = [f"#{w}#" for w in arabic.terms(text, stem=False)]
    return [w[i : i + n] for w in padded for i in range(max(1, len(w) - n + 1))]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", type=Path)
    args, s = p.parse_args(), Settings()
    logging.basicConfig(level=logging.WARNING)
    quiet_libraries()
    articles, questions = load_squad(args.file)
    embedder = load_embedder(s.model, batch_size=s.batch_size)
    with tempfile.TemporaryDirectory(prefix="arcd-ablations-") as tmp:
        update_index(Path(tmp), articles, (), embedder, s, rebuild=True)
        bot = Assistant.open(Path(tmp), s, embedder=embedder)
    chunks, arts = bot.index.chunks, bot.index.articles
    doc = np.array([c.doc_id for c in chunks])
    gold = [q.doc_id for q in questions]
    texts = [passage_text(arts[c.doc_id], c.start, c.text) for c in chunks]
    qv = np.stack([embedder.embed_query(q.question) for q in questions])
    vecs = bot.index.vectors.vectors(np.arange(len(chunks)))
    dense = qv @ vecs.T
    tokens = [arabic.terms(t) or ["\u2205"] for t in texts]

    def bm25_matrix(docs: list[list[str]], queries: list[list[str]], **kw: float) -> np.ndarray:
        bm = bm25s.BM25(**kw)
        bm.index([d or ["\u2205"] for d in docs], show_progress=False)
        out = np.zeros(dense.shape)
        for i, q in enumerate(queries):
            q = [t for t in q if t in bm.vocab_dict]
            if q:
                out[i] = bm.get_scores(q)
        return out

    q_terms = [arabic.terms(q.question) for q in questions]
    lexical = bm25_matrix(tokens, q_terms)

    def top_candidates(row: np.ndarray, lexical_pool: bool) -> np.ndarray:
        """A retriever's candidates; BM25 leaves out rows that match no term (as qa.lexical does)."""
        best = np.argsort(-row, kind="stable")[: s.candidates]
        return best[row[best] > 0] if lexical_pool else best

    def fuse(signals: list[tuple[float, np.ndarray]],
             pools: tuple[tuple[np.ndarray, bool], ...] = ((dense, False), (lexical, True))) -> np.ndarray:
        """The product's fusion: z-scores over the union of the retrievers' candidates
        (pools: each retriever's scores, and whether it is a lexical one)."""
        out = np.full(dense.shape, -np.inf)
        for i in range(len(questions)):
            union = np.array(sorted(set().union(*(top_candidates(pool[i], lex) for pool, lex in pools))))
            out[i, union] = sum(w * z(m[i, union]) for w, m in signals)
        return out

    def ranks(scores: np.ndarray) -> np.ndarray:
        out = np.full(len(questions), 10**6)
        for i in range(len(questions)):
            seen: list[str] = []
            for c in np.argsort(-scores[i], kind="stable")[:50]:
                if doc[c] not in seen:
                    seen.append(doc[c])
                if doc[c] == gold[i]:
                    out[i] = len(seen)
                    break
        return out

    def fused(dense_scores: np.ndarray, lexical_scores: np.ndarray) -> np.ndarray:
        """The default fusion with one of its two retrievers replaced by a variant."""
        return fuse([(s.dense_weight, dense_scores), (1 - s.dense_weight, lexical_scores)],
                    ((dense_scores, False), (lexical_scores, True)))

    base = fused(dense, lexical)
    base_ranks = ranks(base)

    def report(name: str, scores: np.ndarray) -> None:
        r = ranks(scores)
        gained = int(((r == 1) & (base_ranks != 1)).sum())
        lost = int(((r != 1) & (base_ranks == 1)).sum())
        print(f"| {name} | {(r == 1).mean():.3f} | {(r <= 5).mean():.3f} | {(1 / r).mean():.3f} | "
              f"{gained} / {lost} |", flush=True)

    def rerank(feature: np.ndarray, w: float) -> np.ndarray:
        return fuse([(s.dense_weight, dense), (1 - s.dense_weight, lexical), (w, feature)])

    print("| variant | recall@1 | recall@5 | MRR | gained / lost |\n|---|---|---|---|---|")
    report("dense only", dense)
    report("BM25 only", lexical)
    report(f"**default: z-score fusion, dense weight {s.dense_weight}**", base)

    # the article title as a field of its own (it is already prepended to every chunk)
    titles = sorted({arts[c.doc_id].title for c in chunks})
    title_row = {t: i for i, t in enumerate(titles)}
    title_dense = (qv @ embedder.embed_documents(titles).T)[:, [title_row[arts[c.doc_id].title] for c in chunks]]
    title_lexical = bm25_matrix([arabic.terms(arts[c.doc_id].title) for c in chunks], q_terms)
    report("+ title similarity (dense; the title is also in every chunk), weight 0.1", rerank(title_dense, 0.1))
    report("+ title BM25, weight 0.1", rerank(title_lexical, 0.1))

    # sentence-level signals: best sentence's dense similarity, term coverage and bigrams
    owner, sentences = [], []
    for ci, c in enumerate(chunks):
        text = arts[c.doc_id].text
        for sp in arabic.sentence_spans(text, c.start, c.end):
            owner.append(ci)
            sentences.append(text[sp.start : sp.end])
    sent_sim = qv @ embedder.embed_documents(sentences).T
    sent_terms = [set(arabic.terms(t)) for t in sentences]
    sent_pairs = [set(itertools.pairwise(ts)) for ts in (arabic.terms(t) for t in sentences)]
    best_dense, best_cover, best_bigram = (np.zeros(dense.shape) for _ in range(3))
    for i, q in enumerate(questions):
        qw = analyse(q.question, bot.idf).weights
        total = sum(qw.values()) or 1.0
        q_pairs = set(itertools.pairwise(q_terms[i]))
        for j, ci in enumerate(owner):
            best_dense[i, ci] = max(best_dense[i, ci], sent_sim[i, j])
            best_cover[i, ci] = max(best_cover[i, ci], sum(w for t, w in qw.items() if t in sent_terms[j]) / total)
            if q_pairs:
                best_bigram[i, ci] = max(best_bigram[i, ci], len(q_pairs & sent_pairs[j]) / len(q_pairs))
    for w in (0.3, 0.6):
        report(f"+ best-sentence similarity (re-ranking), weight {w}", rerank(best_dense, w))
    for w in (0.1, 0.3):
        report(f"+ best-sentence term coverage, weight {w}", rerank(best_cover, w))
        report(f"+ best-sentence question bigrams, weight {w}", rerank(best_bigram, w))

    # pseudo-relevance feedback, from the default ranking
    top = np.argsort(-base, axis=1)
    for k, beta in ((1, 0.2), (3, 0.5)):
        q2 = qv + beta * vecs[top[:, :k]].mean(1)
        q2 /= np.linalg.norm(q2, axis=1, keepdims=True)
        dense2 = q2 @ vecs.T
        report(f"Rocchio PRF, top {k}, beta {beta}",
               fused(dense2, lexical))
    idf = bot.idf
    for k in (1, 2):
        expanded_terms = []
        for i in range(len(questions)):
            weights: collections.Counter[str] = collections.Counter()
            for c in top[i, :k]:
                for t, f in collections.Counter(tokens[c]).items():
                    if t not in q_terms[i] and t in idf:
                        weights[t] += f / len(tokens[c]) * idf[t]
            expanded_terms.append([t for t, _ in weights.most_common(10)])
        expanded = lexical + 0.3 * bm25_matrix(tokens, expanded_terms)
        report(f"RM3 PRF, top {k}, 10 terms, weight 0.3",
               fused(dense, expanded))

    for k1, b in ((0.9, 0.75), (1.2, 0.9)):
        lex2 = bm25_matrix(tokens, q_terms, k1=k1, b=b)
        report(f"BM25 k1={k1} b={b} (default 1.5, 0.75)",
               fused(dense, lex2))

    # character 3-grams as a third retriever
    grams = bm25_matrix([char_grams(t) for t in texts], [char_grams(q.question) for q in questions])
    report("character 3-gram BM25 only", grams)
    for d, lx, c in ((0.5, 0.3, 0.2), (0.5, 0.2, 0.3), (0.55, 0.15, 0.3), (0.6, 0.0, 0.4)):
        report(f"dense {d} + BM25 {lx} + character 3-gram BM25 {c} (third retriever)",
               fuse([(d, dense), (lx, lexical), (c, grams)], ((dense, False), (lexical, True), (grams, True))))

    # token-level MaxSim with e5's own token vectors (the library keeps the
    # sentence-transformers model on the embedder; there is no public handle)
    st = getattr(embedder, "_model", None)
    if st is not None:
        maxsim = token_maxsim(st, texts, [q.question for q in questions])
        report("token MaxSim (e5 token vectors) only", maxsim)
        for w in (0.1, 0.3):
            report(f"+ token MaxSim, weight {w}", rerank(maxsim, w))

    def strip(t: str) -> str:  # diacritics (combining marks) and tatweel; letters untouched
        return "".join(ch for ch in unicodedata.normalize("NFKC", t)
                       if unicodedata.category(ch) != "Mn" and ch != "\u0640")

    dense_stripped = np.stack([embedder.embed_query(strip(q.question)) for q in questions]) @ \
        embedder.embed_documents([strip(t) for t in texts]).T
    report("dense only, diacritics stripped before embedding", dense_stripped)
    report("default fusion, diacritics stripped before embedding",
           fused(dense_stripped, lexical))

    use = load_embedder("use-multilingual")
    use_dense = np.stack([use.embed_query(q.question) for q in questions]) @ use.embed_documents(texts).T
    for w in (0.1, 0.2):
        report(f"+ USE multilingual similarity, weight {w} (taken from e5's)",
               fuse([(s.dense_weight - w, dense), (w, use_dense), (1 - s.dense_weight, lexical)]))

    # passages and questions embedded otherwise; BM25 variants (docs/decisions.md, retrieval variants)
    variants = []
    if st is not None:
        as_query = st.encode(texts, prompt_name="query", normalize_embeddings=True, batch_size=16)
        variants.append(("passages with the \"query: \" prompt", qv @ as_query.T))
    untitled = embedder.embed_documents([c.text for c in chunks])
    variants.append(("passages without the title", qv @ untitled.T))
    for name, other in variants:
        report(f"dense only, {name}", other)
        report(f"+ dense, {name}, as a second dense signal (0.25 + 0.25)",
               fuse([(0.25, dense), (0.25, other), (0.5, lexical)]))

    def content_only(question: str) -> str:
        kept = [w for w in question.replace("؟", " ").split() if arabic.normalize(w) not in arabic.STOPWORDS]
        return " ".join(kept) or question

    bare = np.stack([embedder.embed_query(content_only(q.question)) for q in questions])
    both = qv + bare
    both /= np.linalg.norm(both, axis=1, keepdims=True)
    report("question embedded without question and function words, averaged with the question",
           fuse([(0.5, both @ vecs.T), (0.5, lexical)], ((both @ vecs.T, False), (lexical, True))))
    report("+ question without question and function words, weight 0.15",
           fuse([(0.5, dense), (0.5, lexical), (0.15, bare @ vecs.T)]))

    for method in ("robertson", "atire", "bm25l", "bm25+"):
        other = bm25_matrix(tokens, q_terms, method=method)
        report(f"BM25 variant {method}", fuse([(0.5, dense), (0.5, other)], ((dense, False), (other, True))))
    untitled_terms = [arabic.terms(c.text) or ["\u2205"] for c in chunks]
    other = bm25_matrix(untitled_terms, q_terms)
    report("BM25 without the title in the chunk", fuse([(0.5, dense), (0.5, other)], ((dense, False), (other, True))))
    report("BM25 with and without the title (0.25 + 0.25)", fuse([(0.5, dense), (0.25, lexical), (0.25, other)]))
    local = np.zeros(dense.shape)
    by_title: dict[str, list[int]] = collections.defaultdict(list)
    for ci, t in enumerate(arts[c.doc_id].title for c in chunks):
        by_title[t].append(ci)
    for members in by_title.values():
        if len(members) < 2:
            continue
        bm = bm25s.BM25()
        bm.index([untitled_terms[c] for c in members], show_progress=False)
        for i, q in enumerate(q_terms):
            known = [t for t in q if t in bm.vocab_dict]
            if known:
                local[i, members] = bm.get_scores(known)
    for w in (0.1, 0.3):
        report(f"+ BM25 with IDF within the article, weight {w}", fuse([(0.5, dense), (0.5, lexical), (w, local)]))


def token_maxsim(model: object, texts: list[str], questions: list[str]) -> np.ndarray:
    """Mean over the question's tokens of the best cosine with any passage token."""
    encode: Callable[..., list] = model.encode  # type: ignore[attr-defined]
    # <s> and the prompt's tokens ("query:"; its trailing space joins the first word)
    prefix = len(model.tokenizer(model.prompts["query"].strip())["input_ids"]) - 1  # type: ignore[attr-defined]

    def unit(rows: list) -> list[np.ndarray]:
        return [(a := r.float().numpy()) / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-9) for r in rows]

    passages = unit(encode(texts, output_value="token_embeddings", prompt_name="document", batch_size=16))
    asked = unit(encode(questions, output_value="token_embeddings", prompt_name="query", batch_size=32))
    every = np.concatenate(passages)
    starts = np.cumsum([0] + [len(p) for p in passages[:-1]])
    out = np.zeros((len(questions), len(texts)))
    for i, q in enumerate(asked):
        sims = q[prefix:-1] @ every.T  # the question's own tokens: no <s>, prompt or </s>
        out[i] = np.maximum.reduceat(sims, starts, axis=1).mean(0)
    return out


if __name__ == "__main__":
    main()
