"""MNIST: find, download, verify and parse the four IDX files.

Files, in a data directory, each either gzip-compressed ``<stem>.gz`` or uncompressed ``<stem>``:

    train-images-idx3-ubyte   60000 × 28 × 28 uint8      train-labels-idx1-ubyte   60000 uint8
    t10k-images-idx3-ubyte    10000 × 28 × 28 uint8      t10k-labels-idx1-ubyte    10000 uint8

Pixels are 0 (background) … 255 (ink); labels are the digits 0…9. A file is genuine iff
sha256(decompressed bytes) = FILES[stem]; the gzip bytes differ between mirrors and recompressions.

IDX layout (all integers big-endian):

    bytes 0–1   0x00 0x00
    byte  2     element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
    byte  3     number of dimensions k
    next 4k     the sizes d_1 … d_k as uint32
    the rest    d_1 · … · d_k elements, row-major, nothing after them

A data directory that ``download`` has written to holds the marker file ``CACHE_MARKER``; only in
such a directory does ``load`` delete a file that fails verification (so ``download`` can fetch it
again). Any other directory, e.g. a shared read-only copy, is never modified.
"""
from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
import zlib
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

FILES: dict[str, str] = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
SPLITS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
CACHE_MARKER = ".nnplay-cache"

_SIZES = {  # decompressed sizes in bytes: a download that inflates past this is rejected early
    "train-images-idx3-ubyte": 16 + 60000 * 28 * 28,
    "train-labels-idx1-ubyte": 8 + 60000,
    "t10k-images-idx3-ubyte": 16 + 10000 * 28 * 28,
    "t10k-labels-idx1-ubyte": 8 + 10000,
}
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_CHUNK = 1 << 16


class MnistError(RuntimeError):
    """MNIST files are missing, corrupt or could not be downloaded; the message says what to do."""


class MirrorsUnreachable(MnistError):
    """No mirror could be reached at all (no network, no DNS, refused, timed out): nothing was served."""


def default_data_dir() -> Path:
    """$NNPLAY_DATA_DIR if set, else $XDG_CACHE_HOME/nnplay/mnist, else ~/.cache/nnplay/mnist."""
    if os.environ.get("NNPLAY_DATA_DIR"):
        return Path(os.environ["NNPLAY_DATA_DIR"]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(cache) if os.path.isabs(cache) else Path.home() / ".cache"  # XDG: relative values are ignored
    return base / "nnplay" / "mnist"


def _find(data_dir: Path, stem: str) -> Path | None:
    """The file holding ``stem``: uncompressed preferred, then .gz; None if neither exists."""
    for path in (data_dir / stem, data_dir / f"{stem}.gz"):
        if path.is_file():
            return path
    return None


def incomplete(path: Path, stem: str) -> str | None:
    """Why ``path`` cannot hold all of ``stem``, from its size alone (no decompression); None if it may.

    An uncompressed file must be exactly _SIZES[stem] bytes. A .gz file ends with ISIZE, the
    uncompressed size mod 2³² (RFC 1952): a cut-off download ends with other bytes instead."""
    try:
        if path.suffix != ".gz":
            size = path.stat().st_size
        else:
            with open(path, "rb") as f:
                f.seek(-4, os.SEEK_END)
                size = int.from_bytes(f.read(4), "little")
    except OSError as e:  # unreadable, or shorter than 4 bytes
        return f"it cannot be read ({e})"
    if size != _SIZES[stem]:
        return f"it holds {size} bytes of {stem}, expected {_SIZES[stem]}: it is truncated or not MNIST"
    return None


def status(data_dir: Path | None = None) -> dict:
    """{"ready", "missing": [stems], "corrupt": [{"file", "problem"}], "dir"}: ready when all four files
    are present and of the right size (their checksums are checked when they are loaded)."""
    data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
    missing, corrupt = [], []
    for stem in FILES:
        path = _find(data_dir, stem)
        problem = "missing" if path is None else incomplete(path, stem)
        if path is None:
            missing.append(stem)
        elif problem:
            corrupt.append({"file": path.name, "problem": problem})
    return {"ready": not missing and not corrupt, "missing": missing, "corrupt": corrupt, "dir": str(data_dir)}


def _gunzip_sha256(path: Path, stem: str) -> str:
    """sha256 of the decompressed contents of a .gz file, streamed; MnistError if it is not valid gzip."""
    digest, size = hashlib.sha256(), 0
    try:
        with gzip.open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                size += len(chunk)
                if size > _SIZES[stem]:
                    raise MnistError(f"it inflates to more than the {_SIZES[stem]} bytes of {stem}")
                digest.update(chunk)
    except (OSError, EOFError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
        raise MnistError(f"it is not a complete gzip file ({e})") from e
    return digest.hexdigest()


def _fetch(url: str, stem: str, data_dir: Path, progress, timeout: float) -> None:
    """Stream url into a temporary file in data_dir, verify it, rename it to <stem>.gz; MnistError if bad."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{stem}.", suffix=".part", dir=data_dir)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            if progress:
                progress(stem, 0, total)
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                done += len(chunk)
                if progress:
                    progress(stem, done, total)
            out.flush()
            os.fsync(out.fileno())
        if total and done != total:
            raise MnistError(f"the download stopped after {done} of {total} bytes")
        sha = _gunzip_sha256(tmp, stem)
        if sha != FILES[stem]:
            raise MnistError(f"its contents have sha256 {sha}, expected {FILES[stem]}")
        tmp.chmod(0o644)  # mkstemp makes it private; the data is public
        os.replace(tmp, data_dir / f"{stem}.gz")
    except (OSError, ValueError, http.client.HTTPException) as e:  # URLError, HTTPError, timeouts are OSErrors
        plain = isinstance(e, urllib.error.URLError) and not isinstance(e, urllib.error.HTTPError)
        unreachable = plain or isinstance(e, (ConnectionError, TimeoutError))
        raise (MirrorsUnreachable if unreachable else MnistError)(str(e.reason if plain else e) or type(e).__name__) from e
    finally:
        tmp.unlink(missing_ok=True)


def download(data_dir: Path | None = None, progress: Callable[[str, int, int], None] | None = None,
             mirrors: Iterable[str] = MIRRORS, timeout: float = 30.0) -> None:
    """Fetch every missing file as <stem>.gz from the first mirror that serves a genuine copy.

    ``progress(stem, bytes_done, bytes_total)`` is called before and after every 64 KiB received;
    bytes_total counts compressed bytes and is 0 when the server does not say. A failed, partial or
    corrupt download is deleted and the next mirror is tried; MnistError if every mirror fails a file,
    MirrorsUnreachable (a MnistError) if none of them could even be reached.
    """
    mirrors = tuple(mirrors)
    if not mirrors or not all(isinstance(m, str) and m.startswith(("http://", "https://")) for m in mirrors):
        raise ValueError(f"mirrors={mirrors!r} is invalid: must be one or more http:// or https:// base URLs")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 3600:
        raise ValueError(f"timeout={timeout!r} is out of range: must be more than 0 and at most 3600 seconds")
    data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
    found = status(data_dir)
    if found["corrupt"] and not (data_dir / CACHE_MARKER).is_file():  # not ours to replace
        bad = found["corrupt"][0]
        raise MnistError(f"MNIST file {data_dir / bad['file']} is corrupt ({bad['problem']}): "
                         "replace it with a genuine copy")
    for bad in found["corrupt"]:  # our own cache: make room for a fresh copy
        (data_dir / bad["file"]).unlink(missing_ok=True)
    missing = [stem for stem in FILES if _find(data_dir, stem) is None]
    if not missing:
        return
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        (data_dir / CACHE_MARKER).write_text("MNIST files downloaded by nnplay; corrupt ones may be deleted.\n")
    except OSError as e:
        raise MnistError(f"cannot write to the MNIST data directory {data_dir}: {e}") from e
    for stem in missing:
        failures, reached = [], False
        for mirror in mirrors:
            url = mirror.rstrip("/") + f"/{stem}.gz"
            try:
                _fetch(url, stem, data_dir, progress, timeout)
                break
            except MnistError as e:
                failures.append(f"{url}: {e}")
                reached = reached or not isinstance(e, MirrorsUnreachable)
        else:
            if not reached:
                raise MirrorsUnreachable(f"no mirror could be reached for {stem}.gz: " + "; ".join(failures))
            raise MnistError(f"could not download {stem}.gz from any mirror: " + "; ".join(failures))


def parse_idx(raw: bytes) -> np.ndarray:
    """The array stored in IDX bytes (layout in the module docstring), native byte order, writable."""
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raise ValueError(f"raw is a {type(raw).__name__}: must be bytes")
    raw = bytes(raw)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise MnistError(f"not an IDX file: it starts with {raw[:4].hex() or 'nothing'}, expected 0000tt0k")
    if raw[2] not in _IDX_TYPES:
        raise MnistError(f"not an IDX file: unknown element type 0x{raw[2]:02x}")
    ndim, dtype = raw[3], np.dtype(_IDX_TYPES[raw[2]])
    if ndim == 0 or len(raw) < 4 + 4 * ndim:
        raise MnistError(f"IDX header is malformed or truncated: {ndim} dimensions in {len(raw)} bytes")
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", ndim, offset=4))
    expected = 4 + 4 * ndim + int(np.prod(shape, dtype=object)) * dtype.itemsize
    if len(raw) != expected:
        state = "truncated" if len(raw) < expected else "followed by extra bytes"
        raise MnistError(f"IDX data is {state}: shape {shape} needs {expected} bytes, got {len(raw)}")
    data = np.frombuffer(raw, dtype, offset=4 + 4 * ndim).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def _read_verified(data_dir: Path, stem: str) -> bytes:
    """The decompressed bytes of ``stem``, after checking their sha256 (MnistError if missing or corrupt)."""
    path = _find(data_dir, stem)
    if path is None:
        raise MnistError(f"MNIST file {stem} is missing from {data_dir}: download it first "
                         "(engine.mnist.download(), or the app's download button), "
                         "or set NNPLAY_DATA_DIR to a folder that holds the files")
    try:
        with (gzip.open if path.suffix == ".gz" else open)(path, "rb") as f:
            raw = f.read(_SIZES[stem] + 1)  # enough to tell a genuine file; a gzip bomb stops here
    except (OSError, EOFError, zlib.error) as e:
        raw, reason = None, f"it cannot be read or decompressed ({e})"
    if raw is not None:
        sha = hashlib.sha256(raw).hexdigest()
        if sha == FILES[stem]:
            return raw
        reason = f"its contents have sha256 {sha}, expected {FILES[stem]}"
    if (data_dir / CACHE_MARKER).is_file():  # our own cache: make room for a fresh download
        try:
            path.unlink()
        except OSError:
            pass
        else:
            raise MnistError(f"MNIST file {path} is corrupt ({reason}); it was deleted: download it again")
    raise MnistError(f"MNIST file {path} is corrupt ({reason}): replace it with a genuine copy")


def load(split: str = "train", data_dir: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(images (n, 28, 28) uint8, labels (n,) uint8) of the "train" (n = 60000) or "test" (n = 10000) split."""
    if not isinstance(split, str) or split not in SPLITS:
        raise ValueError(f"split={split!r} is unknown: choose one of {', '.join(SPLITS)}")
    data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
    images_stem, labels_stem = SPLITS[split]
    images = parse_idx(_read_verified(data_dir, images_stem))
    labels = parse_idx(_read_verified(data_dir, labels_stem))
    if images.dtype != np.uint8 or images.shape[1:] != (28, 28) or labels.shape != images.shape[:1]:
        raise MnistError(f"MNIST {split} files do not match: images {images.shape}, labels {labels.shape}")
    return images, labels
