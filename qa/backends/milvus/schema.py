"""The Milvus collections of one index, and what a row of each holds.

    <name>_chunks    id (primary), doc_key, doc_id, start, end, text (the original passage),
                     terms (our normalised, stemmed Arabic terms, space-joined, for Milvus' own
                     BM25 function -> sparse), vector (the passage embedding), length (terms),
                     gen, until
    <name>_articles  id (primary), doc_key, doc_id, part, text (the original article, in parts
                     of at most PART_CHARS characters), meta (title, source, url, date, author,
                     path, content hash), gen, until, slot (Milvus needs a vector field)
    <name>_terms     term (primary), df (chunks holding it), since (the generation df is from),
                     before (df until then), slot: document frequencies for IDF and BM25
    <name>_meta      key (primary), value (JSON: the published state and the writer's lease), slot

A row is visible in the state published as generation C when gen <= C < until:
a writer adds rows under the next generation and retires rows by setting their
`until` to it, then publishes by writing one meta row. Readers see either the
old state or the new one, never a mix.
"""

from __future__ import annotations

import hashlib
from typing import Any

from pymilvus import DataType, Function, FunctionType, MilvusClient

FOREVER = 2**62  # `until` of a row no generation has retired
PART_CHARS = 15_000  # 4 bytes a character at most: under Milvus' 65,535-byte VARCHAR
MAX_CHUNK_CHARS = 15_000
MAX_TERM_CHARS = 128  # longer "words" (a pasted link, a run of letters) get no document frequency
K1, B = 1.5, 0.75  # BM25 as bm25s scores it in the embedded store ("lucene")
SLOT = [1.0, 0.0]


def visible(gen: int) -> str:
    """The filter of rows visible in generation `gen`."""
    return f"gen <= {int(gen)} and until > {int(gen)}"


def doc_key(doc_id: str) -> int:
    """A signed 63-bit key for a doc_id: filters compare numbers, never quoted strings."""
    return int.from_bytes(hashlib.sha256(doc_id.encode("utf-8", "surrogatepass")).digest()[:8], "big") >> 1


def create(client: MilvusClient, name: str, dimension: int, index_type: str) -> None:
    """Create the four collections of index `name` (they must not exist)."""
    chunks = client.create_schema(auto_id=False)
    chunks.add_field("id", DataType.INT64, is_primary=True)
    chunks.add_field("doc_key", DataType.INT64)
    chunks.add_field("doc_id", DataType.VARCHAR, max_length=4096)
    chunks.add_field("start", DataType.INT64)
    chunks.add_field("end", DataType.INT64)
    chunks.add_field("text", DataType.VARCHAR, max_length=65535)
    chunks.add_field("terms", DataType.VARCHAR, max_length=65535, enable_analyzer=True,
                     analyzer_params={"tokenizer": "standard"})
    chunks.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    chunks.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
    chunks.add_field("length", DataType.INT64)
    chunks.add_field("gen", DataType.INT64)
    chunks.add_field("until", DataType.INT64)
    chunks.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["terms"],
                                 output_field_names=["sparse"]))
    params = client.prepare_index_params()
    params.add_index("vector", **vector_index(index_type))
    params.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                     params={"bm25_k1": K1, "bm25_b": B})
    _create(client, f"{name}_chunks", chunks, params)

    articles = client.create_schema(auto_id=False)
    articles.add_field("id", DataType.INT64, is_primary=True)
    articles.add_field("doc_key", DataType.INT64)
    articles.add_field("doc_id", DataType.VARCHAR, max_length=4096)
    articles.add_field("part", DataType.INT64)
    articles.add_field("text", DataType.VARCHAR, max_length=65535)
    articles.add_field("meta", DataType.JSON)
    articles.add_field("gen", DataType.INT64)
    articles.add_field("until", DataType.INT64)
    articles.add_field("slot", DataType.FLOAT_VECTOR, dim=2)
    _with_slot(client, f"{name}_articles", articles)

    terms = client.create_schema(auto_id=False)
    terms.add_field("term", DataType.VARCHAR, is_primary=True, max_length=4 * MAX_TERM_CHARS)
    terms.add_field("df", DataType.INT64)
    terms.add_field("since", DataType.INT64)
    terms.add_field("before", DataType.INT64)
    terms.add_field("slot", DataType.FLOAT_VECTOR, dim=2)
    _with_slot(client, f"{name}_terms", terms)

    meta = client.create_schema(auto_id=False)
    meta.add_field("key", DataType.VARCHAR, is_primary=True, max_length=64)
    meta.add_field("value", DataType.JSON)
    meta.add_field("slot", DataType.FLOAT_VECTOR, dim=2)
    _with_slot(client, f"{name}_meta", meta)


def _with_slot(client: MilvusClient, collection: str, schema: Any) -> None:
    params = client.prepare_index_params()
    params.add_index("slot", index_type="FLAT", metric_type="IP")
    _create(client, collection, schema, params)


def _create(client: MilvusClient, collection: str, schema: Any, params: Any) -> None:
    """Create, index and load a collection. Indexes of an empty collection are
    made at once, so pymilvus' wait for them (half a second each) is skipped."""
    client.create_collection(collection, schema=schema, consistency_level="Strong")
    client.create_index(collection, params, sync=False)
    client.load_collection(collection)


def vector_index(index_type: str) -> dict[str, Any]:
    """Index parameters of the vector field: exact FLAT, HNSW or IVF_FLAT."""
    if index_type == "HNSW":
        return {"index_type": "HNSW", "metric_type": "IP", "params": {"M": 16, "efConstruction": 200}}
    if index_type == "IVF_FLAT":
        return {"index_type": "IVF_FLAT", "metric_type": "IP", "params": {"nlist": 1024}}
    return {"index_type": "FLAT", "metric_type": "IP"}


def search_params(index_type: str, nprobe: int) -> dict[str, Any]:
    if index_type == "HNSW":
        return {"metric_type": "IP", "params": {"ef": max(64, nprobe)}}
    if index_type == "IVF_FLAT":
        return {"metric_type": "IP", "params": {"nprobe": nprobe}}
    return {"metric_type": "IP"}


def collections(name: str) -> tuple[str, str, str, str]:
    return f"{name}_chunks", f"{name}_articles", f"{name}_terms", f"{name}_meta"


def df_at(row: dict[str, Any], gen: int) -> int:
    """A term row's document frequency in generation `gen`."""
    return int(row["df"] if row["since"] <= gen else row["before"])
