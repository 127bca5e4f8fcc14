"""The retriever passes LangChain's own standard tests, and keeps our offsets."""

from pathlib import Path

import pytest
from langchain_tests.integration_tests import RetrieversIntegrationTests

from conftest import SEEDS
from qa.assistant import build_or_update
from qa.errors import BadSettings
from qa.integrations.langchain import NewsRetriever
from qa.settings import Settings


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory) -> Path:
    index = tmp_path_factory.mktemp("lc") / "index"
    build_or_update(SEEDS, index, Settings(model="fake"))
    return index


class TestNewsRetrieverStandard(RetrieversIntegrationTests):
    @pytest.fixture(autouse=True)
    def _index(self, index_dir: Path) -> None:
        self._index_dir = index_dir

    @property
    def retriever_constructor(self) -> type[NewsRetriever]:
        return NewsRetriever

    @property
    def retriever_constructor_params(self) -> dict:
        return {"index_dir": str(self._index_dir)}

    @property
    def retriever_query_example(self) -> str:
        return "من هو وزير الداخلية اليمني؟"


def test_documents_carry_the_passage_and_its_exact_offsets(index_dir: Path):
    docs = NewsRetriever(index_dir=str(index_dir), k=3).invoke("وزير الداخلية إبراهيم حيدان")
    assert len(docs) == 3
    top = docs[0]
    assert top.metadata["doc_id"] == "001_32ac849551dd6a76.txt"
    text = (SEEDS / top.metadata["doc_id"]).read_text(encoding="utf-8")
    assert text[top.metadata["start"] : top.metadata["end"]] == top.page_content
    assert {"title", "source", "url", "date", "score", "chunk_id"} <= set(top.metadata)


def test_bad_arguments_are_clear_errors(index_dir: Path):
    with pytest.raises(ValueError, match="give index_dir"):  # pydantic wraps it in a ValidationError
        NewsRetriever()
    with pytest.raises(BadSettings, match="k must be at least 1"):
        NewsRetriever(index_dir=str(index_dir)).invoke("سؤال", k=0)


def test_the_documented_lcel_chain_runs(index_dir: Path):
    from langchain_core.language_models.fake_chat_models import FakeListChatModel
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.runnables import RunnablePassthrough

    seen = []

    def numbered(docs):
        seen.extend(docs)
        return "\n\n".join(f"[{i}] {d.metadata['title']}\n{d.page_content}" for i, d in enumerate(docs, 1))

    prompt = ChatPromptTemplate.from_template(
        "Answer from these passages only, citing them as [n]:\n\n{passages}\n\nQuestion: {question}")
    llm = FakeListChatModel(responses=["شائع الزنداني [1]"])
    chain = ({"passages": NewsRetriever(index_dir=str(index_dir), k=4) | numbered,
              "question": RunnablePassthrough()} | prompt | llm | StrOutputParser())
    assert chain.invoke("من التقى وزير الخارجية اليمني؟") == "شائع الزنداني [1]"
    assert len(seen) == 4 and seen[0].metadata["doc_id"] == "000_1e06ce93cb234a3e.txt"


async def test_ainvoke_takes_k_per_call(index_dir: Path):
    docs = await NewsRetriever(index_dir=str(index_dir)).ainvoke("وزير الداخلية", k=2)
    assert len(docs) == 2
