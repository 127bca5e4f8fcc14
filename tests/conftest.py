from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from qa.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SHARED = ROOT.parent / "shared"


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    """A private copy of the seed articles."""
    docs = tmp_path / "docs"
    shutil.copytree(SEEDS, docs)
    return docs


@pytest.fixture
def fake_settings() -> Settings:
    return Settings(model="fake")
