"""Damaged MNIST files for the engine.mnist tests: the label files' names, and a corrupt copy of a
genuine file (valid gzip, one byte changed inside)."""
from __future__ import annotations

import gzip
from pathlib import Path

TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"


def corrupt_copy(source: Path, target: Path) -> None:
    """A valid gzip file whose decompressed contents differ from the genuine file in one byte."""
    raw = bytearray(gzip.decompress(source.read_bytes()))
    raw[-1] ^= 1
    target.write_bytes(gzip.compress(bytes(raw)))
