"""Shared pytest fixtures."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The folder with the four MNIST .gz files: $NNPLAY_DATA_DIR, else ../shared/mnist beside the repo."""
    path = Path(os.environ["NNPLAY_DATA_DIR"]) if os.environ.get("NNPLAY_DATA_DIR") else (
        REPO_ROOT.parent / "shared" / "mnist")
    if not path.is_dir():
        pytest.skip(f"MNIST files not found in {path}: set NNPLAY_DATA_DIR or put them in ../shared/mnist")
    return path
