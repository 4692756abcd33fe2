"""Tests for engine.mnist's files: IDX parsing (every element type, hand-made and malformed headers),
loading and verifying the real files (counts, uncompressed copies, missing and corrupt files,
deleted only from our own cache), and where the data folder is."""
from __future__ import annotations

import gzip
import shutil
import struct

import numpy as np
import pytest

from engine import mnist
from tests.mnist_fakes import TEST_LABELS, TRAIN_LABELS, corrupt_copy

# From ../shared/mnist/README.md, digits 0 to 9.
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture(scope="module")
def test_split(mnist_dir):
    return mnist.load("test", mnist_dir)


def idx_bytes(array: np.ndarray, type_code: int, big_endian_dtype: str) -> bytes:
    header = bytes([0, 0, type_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(big_endian_dtype).tobytes()


# ---------------------------------------------------------------- parse_idx

@pytest.mark.parametrize("type_code, dtype", [
    (0x08, ">u1"), (0x09, ">i1"), (0x0B, ">i2"), (0x0C, ">i4"), (0x0D, ">f4"), (0x0E, ">f8"),
])
def test_parse_idx_reads_every_element_type_big_endian(type_code, dtype):
    array = (np.arange(24).reshape(2, 3, 4) * (1 if dtype.endswith("1") else 1000 - 3)).astype(dtype)
    parsed = mnist.parse_idx(idx_bytes(array, type_code, dtype))
    assert parsed.shape == (2, 3, 4) and parsed.dtype == np.dtype(dtype).newbyteorder("=")
    np.testing.assert_array_equal(parsed, array)
    parsed[0, 0, 0] = 1  # writable


def test_parse_idx_reads_a_hand_made_header():
    raw = bytes([0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 255])
    np.testing.assert_array_equal(mnist.parse_idx(raw), [[1, 2, 3], [4, 5, 255]])
    assert mnist.parse_idx(bytearray(raw)).shape == (2, 3)


@pytest.mark.parametrize("raw, message", [
    (b"", r"not an IDX file: it starts with nothing"),
    (bytes([1, 0, 8, 1, 0, 0, 0, 1, 7]), r"not an IDX file: it starts with 01000801"),
    (bytes([0, 0, 0x07, 1, 0, 0, 0, 1, 7]), r"unknown element type 0x07"),
    (bytes([0, 0, 8, 0]), r"header is malformed or truncated: 0 dimensions"),
    (bytes([0, 0, 8, 3, 0, 0, 0, 1]), r"header is malformed or truncated: 3 dimensions in 8 bytes"),
    (bytes([0, 0, 8, 1, 0, 0, 0, 4, 1, 2, 3]), r"IDX data is truncated: shape \(4,\) needs 12 bytes, got 11"),
    (bytes([0, 0, 8, 1, 0, 0, 0, 2, 1, 2, 3]), r"IDX data is followed by extra bytes: shape \(2,\) needs 10"),
])
def test_parse_idx_rejects_malformed_data(raw, message):
    with pytest.raises(mnist.MnistError, match=message):
        mnist.parse_idx(raw)


def test_parse_idx_wants_bytes():
    with pytest.raises(ValueError, match=r"raw is a str: must be bytes"):
        mnist.parse_idx("0008")


# ---------------------------------------------------------------- load, status, data dir

def test_load_test_split(test_split):
    images, labels = test_split
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and labels.dtype == np.uint8
    assert np.bincount(labels, minlength=10).tolist() == TEST_COUNTS
    assert images.min() == 0 and images.max() == 255
    assert labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


def test_load_train_split(mnist_dir):
    images, labels = mnist.load("train", str(mnist_dir))
    assert images.shape == (60000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels, minlength=10).tolist() == TRAIN_COUNTS


def test_load_leaves_a_shared_directory_untouched(mnist_dir, test_split):
    before = sorted((p.name, p.stat().st_mtime_ns) for p in mnist_dir.iterdir())
    mnist.load("test", mnist_dir)
    assert sorted((p.name, p.stat().st_mtime_ns) for p in mnist_dir.iterdir()) == before
    assert mnist.status(mnist_dir) == {"ready": True, "missing": [], "corrupt": [], "dir": str(mnist_dir)}


def test_load_accepts_uncompressed_files(mnist_dir, test_split, tmp_path):
    for stem in ("t10k-images-idx3-ubyte", TEST_LABELS):
        (tmp_path / stem).write_bytes(gzip.decompress((mnist_dir / f"{stem}.gz").read_bytes()))
    images, labels = mnist.load("test", tmp_path)
    np.testing.assert_array_equal(images, test_split[0])
    np.testing.assert_array_equal(labels, test_split[1])


def test_load_reports_missing_files(tmp_path):
    assert mnist.status(tmp_path) == {"ready": False, "missing": list(mnist.FILES), "corrupt": [],
                                     "dir": str(tmp_path)}
    with pytest.raises(mnist.MnistError, match=r"MNIST file t10k-images-idx3-ubyte is missing from .*download"):
        mnist.load("test", tmp_path)


def test_status_lists_only_the_missing_files(mnist_dir, tmp_path):
    shutil.copy(mnist_dir / f"{TEST_LABELS}.gz", tmp_path)
    (tmp_path / TRAIN_LABELS).write_bytes(b"")  # uncompressed counts too (existence only)
    assert mnist.status(tmp_path)["missing"] == ["train-images-idx3-ubyte", "t10k-images-idx3-ubyte"]


@pytest.mark.parametrize("damage, reason", [
    ("one changed byte", "its contents have sha256"),
    ("truncated gzip", "it cannot be read or decompressed"),
    ("uncompressed, one byte too many", "its contents have sha256"),
])
def test_corrupt_file_in_our_cache_is_deleted(mnist_dir, tmp_path, damage, reason):
    shutil.copy(mnist_dir / "t10k-images-idx3-ubyte.gz", tmp_path)
    genuine = mnist_dir / f"{TEST_LABELS}.gz"
    target = tmp_path / (TEST_LABELS if damage.startswith("uncompressed") else f"{TEST_LABELS}.gz")
    if damage == "one changed byte":
        corrupt_copy(genuine, target)
    elif damage == "truncated gzip":
        target.write_bytes(genuine.read_bytes()[:1000])
    else:
        target.write_bytes(gzip.decompress(genuine.read_bytes()) + b"\x00")
    (tmp_path / mnist.CACHE_MARKER).write_text("")
    with pytest.raises(mnist.MnistError, match=rf"{target.name} is corrupt \({reason}.*deleted: download it"):
        mnist.load("test", tmp_path)
    assert not target.exists()
    assert mnist.status(tmp_path)["missing"] == ["train-images-idx3-ubyte", TRAIN_LABELS, TEST_LABELS]


def test_corrupt_file_outside_our_cache_is_kept(mnist_dir, tmp_path):
    shutil.copy(mnist_dir / "t10k-images-idx3-ubyte.gz", tmp_path)
    corrupt_copy(mnist_dir / f"{TEST_LABELS}.gz", tmp_path / f"{TEST_LABELS}.gz")
    with pytest.raises(mnist.MnistError, match=r"is corrupt \(its contents have sha256 .*\): replace it"):
        mnist.load("test", tmp_path)
    assert (tmp_path / f"{TEST_LABELS}.gz").exists()


def test_load_rejects_an_unknown_split():
    with pytest.raises(ValueError, match=r"split='validation' is unknown: choose one of train, test"):
        mnist.load("validation")


def test_default_data_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("NNPLAY_DATA_DIR", str(tmp_path / "mine"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert mnist.default_data_dir() == tmp_path / "mine"
    monkeypatch.delenv("NNPLAY_DATA_DIR")
    assert mnist.default_data_dir() == tmp_path / "xdg" / "nnplay" / "mnist"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    assert mnist.default_data_dir() == tmp_path / "home" / ".cache" / "nnplay" / "mnist"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert mnist.default_data_dir() == tmp_path / "home" / ".cache" / "nnplay" / "mnist"
