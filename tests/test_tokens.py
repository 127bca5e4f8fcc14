"""The tokenizer the embedder and the reader share: one object per file, each
caller's truncation applied to its own calls, read again when the file changes."""

from pathlib import Path

from tokenizers import Tokenizer, models, pre_tokenizers

from qa.tokens import Truncation, shared_tokenizer

WORDS = "وزير الداخلية اليمني إبراهيم حيدان بحث مع السفير سبل التعاون".split()


def write_tokenizer(path: Path, words: list[str]) -> Path:
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(["[UNK]", *words])}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.save(str(path))
    return path


def alone(path: Path, t: Truncation) -> Tokenizer:
    tok = Tokenizer.from_file(str(path))
    tok.enable_truncation(t.max_length, stride=t.stride, strategy=t.strategy)
    return tok


def test_callers_share_one_tokenizer_and_each_gets_its_own_truncation(tmp_path: Path):
    path = write_tokenizer(tmp_path / "tokenizer.json", WORDS)
    assert shared_tokenizer(path) is shared_tokenizer(path)
    embedder, reader = Truncation(6), Truncation(5, 1, "only_second")
    shared = shared_tokenizer(path)
    passage = " ".join(WORDS)
    pairs = [("وزير الداخلية", passage)]
    for _ in range(2):  # interleaved, as a chat's questions are
        got = shared.encode_batch([passage], embedder)[0]
        assert got.ids == alone(path, embedder).encode(passage).ids and len(got.ids) == 6
        windows = shared.encode_batch(pairs, reader)[0]
        want = alone(path, reader).encode_batch(pairs)[0]
        assert [w.ids for w in (windows, *windows.overflowing)] == [w.ids for w in (want, *want.overflowing)]
        assert len(windows.overflowing) > 1


def test_a_changed_file_is_read_again(tmp_path: Path):
    path = write_tokenizer(tmp_path / "tokenizer.json", WORDS)
    before = shared_tokenizer(path)
    write_tokenizer(path, [*reversed(WORDS), "جديد"])
    after = shared_tokenizer(path)
    assert after is not before
    assert after.encode("جديد", Truncation(8)).ids == [len(WORDS) + 1]
