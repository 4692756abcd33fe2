"""Reading the arrays of an untrusted ``.npz`` file one header at a time, without pickle.

An ``.npz`` is a zip of ``name.npy`` members; each member opens with the NumPy format's magic and
a header giving dtype, shape and order, then the raw data. ``headers(zip)`` reads every member's
header only (a few hundred bytes of decompression each), so a caller can check dtypes and shapes
against what it expects — and against its limits — before ``read(zip, header)`` decompresses any
data: a 2 MB file claiming a 2 GB array costs nothing until it is read, and it never is.

Anything malformed raises ``ValueError`` (the caller adds the file's name).
"""
from __future__ import annotations

import math
import zipfile
from dataclasses import dataclass

import numpy as np

MAX_HEADER_BYTES = 10000  # NumPy's own limit for a trusted header


@dataclass(frozen=True)
class Header:
    name: str                  # the member's name without ".npy"
    info: zipfile.ZipInfo
    dtype: np.dtype
    shape: tuple[int, ...]
    fortran_order: bool

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


def _read_header(stream, name: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(stream, max_header_size=MAX_HEADER_BYTES)
    elif version == (2, 0):
        shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(stream, max_header_size=MAX_HEADER_BYTES)
    else:
        raise ValueError(f"entry {name!r} has .npy format version {version}: only 1.0 and 2.0 are read")
    if dtype.hasobject:
        raise ValueError(f"entry {name!r} holds Python objects: refused (no pickle)")
    return tuple(shape), bool(fortran_order), dtype


def headers(archive: zipfile.ZipFile) -> dict[str, Header]:
    """Every member's header, by name; a member that is not ``*.npy``, or a name seen twice, is an error."""
    found: dict[str, Header] = {}
    for info in archive.infolist():
        if not info.filename.endswith(".npy") or info.filename[:-4] in found:
            raise ValueError(f"unexpected entry {info.filename!r:.60}")
        name = info.filename[:-4]
        with archive.open(info) as stream:
            shape, fortran_order, dtype = _read_header(stream, name)
        found[name] = Header(name, info, dtype, shape, fortran_order)
    return found


def read(archive: zipfile.ZipFile, header: Header) -> np.ndarray:
    """The member's array (read-only), exactly header.nbytes of data after the header, nothing more."""
    with archive.open(header.info) as stream:
        _read_header(stream, header.name)
        data = stream.read(header.nbytes)
        if len(data) != header.nbytes or stream.read(1):  # reading to the end also checks the CRC
            raise ValueError(f"entry {header.name!r} holds {len(data)} bytes of data or more, not the "
                             f"{header.nbytes} its header announces")
    if header.fortran_order:
        return np.frombuffer(data, header.dtype).reshape(header.shape[::-1]).T
    return np.frombuffer(data, header.dtype).reshape(header.shape)
