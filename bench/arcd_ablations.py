"""Retrieval ideas tried on ARCD and what they measured: pseudo-relevance
feedback (Rocchio on the query vector, RM3-style expansion of the BM25 query),
the article title as a separate field, re-ranking passages by their best
sentence's similarity to the question, and BM25 parameters. None beat the default fusion by more than about one standard
error (recall@1 on 693 questions: +-0.016), so none is in the product; this
script keeps the numbers reproducible.

Every variant re-scores every chunk (ARCD has ~280), so fusion standardises
over all chunks rather than over the product's candidate union: the "default"
row sits ~1.5 points of recall@1 below `qa eval`; compare rows with each other.
Recall@1/@5 and MRR are of the gold paragraph, as in `qa eval`.

    .venv/bin/python bench/arcd_ablations.py ../shared/data/arcd/arcd-train.json
"""

from __future__ import annotations

import argparse
import collections
import logging
import tempfile
from pathlib import Path

import bm25s
import numpy as np

from qa import arabic
from qa.assistant import Assistant
from qa.chunking import passage_text
from qa.cli import quiet_libraries
from qa.embedding import load_embedder
from qa.evaluation import load_squad
from qa.indexer import update_index
from qa.settings import Settings


def z(x: np.ndarray) -> np.ndarray:
    return (x - x.mean(1, keepdims=True)) / np.maximum(x.std(1, keepdims=True), 1e-9)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", type=Path)
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    quiet_libraries()
    s = Settings()
    articles, questions = load_squad(args.file)
    embedder = load_embedder(s.model, batch_size=s.batch_size)
    with tempfile.TemporaryDirectory(prefix="arcd-ablations-") as tmp:
        update_index(Path(tmp), articles, (), embedder, s, rebuild=True)
        bot = Assistant.open(Path(tmp), s, embedder=embedder)
    chunks, arts = bot.index.chunks, bot.index.articles
    doc = np.array([c.doc_id for c in chunks])
    gold = [q.doc_id for q in questions]
    qv = np.stack([embedder.embed_query(q.question) for q in questions])
    vecs = bot.index.vectors.vectors(np.arange(len(chunks)))
    dense = qv @ vecs.T
    tokens = [arabic.terms(passage_text(arts[c.doc_id], c.start, c.text)) or ["\u2205"] for c in chunks]

    def bm25_matrix(bm: bm25s.BM25, queries: list[list[str]]) -> np.ndarray:
        out = np.zeros(dense.shape)
        for i, q in enumerate(queries):
            q = [t for t in q if t in bm.vocab_dict]
            if q:
                out[i] = bm.get_scores(q)
        return out

    def bm25(**kw: float) -> bm25s.BM25:
        bm = bm25s.BM25(**kw)
        bm.index(tokens, show_progress=False)
        return bm

    q_terms = [arabic.terms(q.question) for q in questions]
    default_bm = bm25()
    lexical = bm25_matrix(default_bm, q_terms)
    fused = s.dense_weight * z(dense) + (1 - s.dense_weight) * z(lexical)

    def report(name: str, scores: np.ndarray) -> None:
        r1 = r5 = mrr = 0.0
        for i in range(len(questions)):
            seen: list[str] = []
            for c in np.argsort(-scores[i])[:30]:
                if doc[c] not in seen:
                    seen.append(doc[c])
                if doc[c] == gold[i]:
                    rank = len(seen)
                    r1, r5, mrr = r1 + (rank == 1), r5 + (rank <= 5), mrr + 1 / rank
                    break
        n = len(questions)
        print(f"| {name} | {r1 / n:.3f} | {r5 / n:.3f} | {mrr / n:.3f} |", flush=True)

    print("| variant | recall@1 | recall@5 | MRR |\n|---|---|---|---|")
    report("dense only", dense)
    report("BM25 only", lexical)
    report(f"default: z-score fusion, dense weight {s.dense_weight}", fused)

    # the article title as a field of its own (it is already prepended to every chunk)
    titles = sorted({arts[c.doc_id].title for c in chunks})
    title_row = {t: i for i, t in enumerate(titles)}
    title_dense = (qv @ embedder.embed_documents(titles).T)[:, [title_row[arts[c.doc_id].title] for c in chunks]]
    title_bm = bm25s.BM25()
    title_bm.index([arabic.terms(arts[c.doc_id].title) or ["\u2205"] for c in chunks], show_progress=False)
    title_lexical = bm25_matrix(title_bm, q_terms)
    for w in (0.1, 0.2):
        report(f"+ title similarity (dense), weight {w}", fused + w * z(title_dense))
        report(f"+ title BM25, weight {w}", fused + w * z(title_lexical))

    # best-sentence similarity as a re-ranking feature
    owner, sentences = [], []
    for ci, c in enumerate(chunks):
        text = arts[c.doc_id].text
        for sp in arabic.sentence_spans(text, c.start, c.end):
            owner.append(ci)
            sentences.append(text[sp.start : sp.end])
    sent_sim = qv @ embedder.embed_documents(sentences).T
    best_sentence = np.full(dense.shape, -1.0)
    for j, ci in enumerate(owner):
        best_sentence[:, ci] = np.maximum(best_sentence[:, ci], sent_sim[:, j])
    for w in (0.3, 0.6):
        report(f"+ best-sentence similarity, weight {w}", fused + w * z(best_sentence))

    # Rocchio: move the query vector towards the top-k fused chunks
    top = np.argsort(-fused, axis=1)
    for k in (1, 3):
        for beta in (0.2, 0.5):
            q2 = qv + beta * vecs[top[:, :k]].mean(1)
            q2 /= np.linalg.norm(q2, axis=1, keepdims=True)
            report(f"Rocchio PRF, top {k}, beta {beta}",
                   s.dense_weight * z(q2 @ vecs.T) + (1 - s.dense_weight) * z(lexical))

    # RM3-style: add the top-k chunks' highest tf-idf terms to the BM25 query
    idf = bot.idf
    for k in (1, 2):
        for n_terms, w in ((5, 0.1), (10, 0.3)):
            expanded = lexical.copy()
            for i in range(len(questions)):
                weights: collections.Counter[str] = collections.Counter()
                for c in top[i, :k]:
                    for t, f in collections.Counter(tokens[c]).items():
                        if t not in q_terms[i] and t in idf:
                            weights[t] += f / len(tokens[c]) * idf[t]
                extra = [t for t, _ in weights.most_common(n_terms)]
                if extra:
                    expanded[i] += w * bm25_matrix(default_bm, [extra])[0]
            report(f"RM3 PRF, top {k}, {n_terms} terms, weight {w}",
                   s.dense_weight * z(dense) + (1 - s.dense_weight) * z(expanded))

    for k1, b in ((0.9, 0.4), (0.9, 0.75), (1.2, 0.9), (2.0, 0.75)):
        report(f"BM25 k1={k1} b={b} (default 1.5, 0.75)",
               s.dense_weight * z(dense) + (1 - s.dense_weight) * z(bm25_matrix(bm25(k1=k1, b=b), q_terms)))


if __name__ == "__main__":
    main()
