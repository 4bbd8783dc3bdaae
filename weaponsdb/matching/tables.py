"""Flat tables the match index is made of, and the one file they are saved to.

The index is held in numpy arrays and byte buffers rather than Python objects: millions of
small objects cost memory, slow every garbage collection, and cannot be shared. Saved to one
file, the arrays are mapped back into memory (not read), so a process starts in moments and
several worker processes share one copy of the pages.

A text table is one UTF-8 buffer and the offsets of each text in it. Texts are found by a
stable hash (CRC-32 and the byte length: Python's own hash differs from process to process),
sorted, with the texts of equal hashes compared.
"""

from __future__ import annotations

import json
import mmap
import os
import zlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[Any]
MAGIC = b"WEAPONSDB-INDEX\n"
ALIGNMENT = 64  # every array starts on a cache line, as numpy prefers


def distinct(values: Array) -> Array:
    """The distinct values, ascending, by a sort: numpy's own unique() hashes since numpy
    2.3, which costs 0.4 ms however few the values and is five times slower than a sort on
    the tens of thousands of candidates a query gathers."""
    ordered = np.sort(values)
    if len(ordered) < 2:
        return ordered
    found: Array = ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]
    return found


def distinct_counts(values: Array) -> tuple[Array, Array]:
    """distinct(values), and how many times each is there (np.unique(values,
    return_counts=True), without its hashing and dispatch: a query counts shared grams
    several times, in lists of a few hundred)."""
    ordered = np.sort(values)
    if not len(ordered):
        return ordered, np.empty(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    counts = np.diff(starts, append=len(ordered))
    return ordered[starts], counts


def numbers_of(array: Array) -> memoryview:
    """A 1-D array of integers as a sequence of Python ints without a copy (mapped pages
    stay shared): one is read three times quicker than through numpy's indexing, which a
    match does thousands of times."""
    return np.ascontiguousarray(array).data


def text_hash(data: bytes) -> int:
    """The same in every process: CRC-32 and, above it, the length in bytes."""
    return (len(data) << 32) | zlib.crc32(data)


def _crc_table() -> Array:
    """zlib's CRC-32 (reflected polynomial 0xEDB88320) of each byte value."""
    table = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        table = np.where(table & 1, (table >> 1) ^ np.uint32(0xEDB88320), table >> 1)
    return table.astype(np.uint32)


CRC_TABLE = _crc_table()


def _crc_step(crc: Array, byte: Array) -> Array:
    stepped: Array = CRC_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return stepped


def crc32_utf8_rows(codes: Array) -> Array:
    """zlib.crc32 of the UTF-8 encoding of each row of a 2-D array of code points, all rows
    at once, a character at a time: its first byte, then those of its continuation bytes
    that the rows' characters have."""
    crc = np.full(len(codes), 0xFFFFFFFF, dtype=np.uint32)
    for column in range(codes.shape[1]):
        code = codes[:, column]
        size = 1 + (code >= 0x80) + (code >= 0x800) + (code >= 0x10000)
        lead = np.select(
            [size == 1, size == 2, size == 3],
            [code, 0xC0 | code >> 6, 0xE0 | code >> 12],
            0xF0 | code >> 18,
        )
        crc = _crc_step(crc, lead)
        for following in range(1, 4):
            longer = size > following
            if not longer.any():
                break
            shift = 6 * np.maximum(size - 1 - following, 0)
            crc = np.where(longer, _crc_step(crc, 0x80 | (code >> shift) & 0x3F), crc)
    finished: Array = crc ^ np.uint32(0xFFFFFFFF)
    return finished


def _text_hashes(data: Array, offsets: Array) -> Array:
    """text_hash of each text of a table (its bytes data[offsets[n]:offsets[n + 1]]), the
    texts of one length in bytes at once, a byte at a time."""
    sizes = np.diff(offsets)
    hashes = np.zeros(len(sizes), dtype=np.int64)
    for size in np.unique(sizes).tolist():
        numbers = np.flatnonzero(sizes == size)
        crc = np.full(len(numbers), 0xFFFFFFFF, dtype=np.uint32)
        starts = offsets[numbers]
        for at in range(size):
            crc = _crc_step(crc, data[starts + at])
        hashes[numbers] = (size << 32) | (crc ^ np.uint32(0xFFFFFFFF)).astype(np.int64)
    return hashes


def code_rows(texts: Sequence[str], numbers: Array, length: int) -> Array:
    """The code points of texts[n] for each of *numbers* (texts of *length* characters), one
    row each."""
    joined = "".join([texts[n] for n in numbers.tolist()]).encode("utf-32-le")
    return np.frombuffer(joined, dtype=np.uint32).reshape(len(numbers), length)


class TextTable:
    """Texts by number; with *findable*, numbers by text."""

    def __init__(self, arrays: Mapping[str, Array], data: bytes | mmap.mmap | Array) -> None:
        self._offsets = arrays["offsets"]
        self._starts = numbers_of(self._offsets)
        self._data = data
        # Sliced without copying, decoded from the slice.
        self._view = memoryview(data)  # type: ignore[arg-type]
        self._hashes = arrays.get("hashes")
        self._order = arrays.get("order")

    @classmethod
    def of(cls, texts: Sequence[str], findable: bool = False) -> TextTable:
        """The table of *texts*, encoded at once, each text's place and hash (text_hash)
        worked out by numpy (a million keys a build)."""
        joined = "".join(texts)
        data = joined.encode()
        offsets = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)), out=offsets[1:])
        if len(data) != len(joined):  # not all ASCII: characters' places to bytes'
            codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
            widths = 1 + (codes >= 0x80) + (codes >= 0x800) + (codes >= 0x10000)
            places = np.zeros(len(codes) + 1, dtype=np.int64)
            np.cumsum(widths, out=places[1:])
            offsets = places[offsets]
        arrays: dict[str, Array] = {"offsets": offsets}
        if findable:
            hashes = _text_hashes(np.frombuffer(data, dtype=np.uint8), offsets)
            order = np.argsort(hashes, kind="stable").astype(np.int32)
            arrays["hashes"], arrays["order"] = hashes[order], order
        return cls(arrays, data)

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, number: int) -> str:
        starts = self._starts
        return str(self._view[starts[number] : starts[number + 1]], "utf-8")

    def __iter__(self) -> Iterator[str]:
        return (self[number] for number in range(len(self)))

    def many(self, numbers: Array) -> list[str]:
        """The texts of *numbers* (an array), in order: their bytes gathered by numpy, each
        followed by a NUL, decoded at once and split (thousands of candidates a query)."""
        if not len(self._view) or not len(numbers):
            return [""] * len(numbers)
        starts = self._offsets[numbers]
        stops = self._offsets[numbers + 1]
        ends = (stops - starts + 1).cumsum()  # each text and a separator
        # The place of every byte gathered: one after another, jumping from the end of a
        # text (where its separator goes) to the start of the next.
        steps = np.ones(int(ends[-1]), dtype=np.int64)
        steps[0] = starts[0]
        steps[ends[:-1]] = starts[1:] - stops[:-1]
        places = steps.cumsum(out=steps)
        gathered = np.frombuffer(self._view, dtype=np.uint8).take(places, mode="clip")
        gathered[ends - 1] = 0
        texts: list[str] = gathered.tobytes().decode().split("\0")[:-1]
        return texts

    def find(self, text: str) -> int | None:
        """The number of *text*, or None if it is not in the table."""
        assert self._hashes is not None, "not a findable table"
        assert self._order is not None
        data = text.encode()
        wanted = text_hash(data)
        place = int(self._hashes.searchsorted(wanted))
        while place < len(self._hashes) and int(self._hashes[place]) == wanted:
            number = int(self._order[place])
            if self[number] == text:
                return number
            place += 1
        return None

    def arrays(self, prefix: str) -> dict[str, Array]:
        found = {f"{prefix}.offsets": self._offsets, f"{prefix}.data": _bytes_array(self._data)}
        if self._hashes is not None and self._order is not None:
            found[f"{prefix}.hashes"] = self._hashes
            found[f"{prefix}.order"] = self._order
        return found

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, Array], prefix: str) -> TextTable:
        mine = {
            name.removeprefix(f"{prefix}."): array
            for name, array in arrays.items()
            if name.startswith(f"{prefix}.")
        }
        return cls(mine, mine["data"])


def _bytes_array(data: bytes | mmap.mmap | Array) -> Array:
    if isinstance(data, np.ndarray):
        return data
    return np.frombuffer(data, dtype=np.uint8)


class Postings:
    """Lists of numbers, one per row, in one array (compressed sparse rows)."""

    def __init__(self, bounds: Array, values: Array) -> None:
        self.bounds = bounds
        self.values = values
        self._starts = numbers_of(bounds)

    def span(self, number: int) -> tuple[int, int]:
        """Where row *number* lies in values."""
        return self._starts[number], self._starts[number + 1]

    @classmethod
    def of(cls, rows: Sequence[Sequence[int]], dtype: Any = np.int32) -> Postings:
        bounds = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, rows), dtype=np.int64, count=len(rows)), out=bounds[1:])
        values = np.fromiter(
            (value for row in rows for value in row), dtype=dtype, count=int(bounds[-1])
        )
        return cls(bounds, values)

    def __len__(self) -> int:
        return len(self.bounds) - 1

    def row(self, number: int) -> Array:
        start, end = self.span(number)
        return self.values[start:end]

    def arrays(self, prefix: str) -> dict[str, Array]:
        return {f"{prefix}.bounds": self.bounds, f"{prefix}.values": self.values}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, Array], prefix: str) -> Postings:
        return cls(arrays[f"{prefix}.bounds"], arrays[f"{prefix}.values"])


def save(path: Path, arrays: Mapping[str, Array], meta: Mapping[str, Any]) -> int:
    """Writes *arrays* and *meta* to *path* whole or not at all; returns the size in bytes.

    The layout: MAGIC, the header's length (8 bytes, little-endian), the header (JSON: meta
    and where each array lies), then each array's bytes at a multiple of ALIGNMENT."""
    layout: dict[str, Any] = {}
    place = 0
    for name, array in arrays.items():
        place = -(-place // ALIGNMENT) * ALIGNMENT
        layout[name] = {"dtype": array.dtype.str, "shape": list(array.shape), "offset": place}
        place += array.nbytes
    header = json.dumps({"meta": dict(meta), "arrays": layout}).encode()
    start = -(-(len(MAGIC) + 8 + len(header)) // ALIGNMENT) * ALIGNMENT
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with partial.open("wb") as out:
            out.write(MAGIC + len(header).to_bytes(8, "little") + header)
            for name, array in arrays.items():
                out.seek(start + layout[name]["offset"])
                out.write(np.ascontiguousarray(array).tobytes() if array.nbytes else b"")
            out.truncate(start + place)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)  # a reader sees the old file or the new one, never half
    finally:
        partial.unlink(missing_ok=True)
    return start + place


def header(path: Path) -> dict[str, Any]:
    """The file's meta, read without mapping the arrays; ValueError if it is not one."""
    with path.open("rb") as source:
        if source.read(len(MAGIC)) != MAGIC:
            raise ValueError(f"{path} is not a match index file")
        length = int.from_bytes(source.read(8), "little")
        found: dict[str, Any] = json.loads(source.read(length))
    return found


def load(path: Path) -> tuple[dict[str, Array], dict[str, Any]]:
    """The arrays of a file written by save(), mapped read-only, and its meta."""
    described = header(path)
    with path.open("rb") as source:
        source.seek(len(MAGIC))
        header_length = int.from_bytes(source.read(8), "little")
        mapped = mmap.mmap(source.fileno(), 0, access=mmap.ACCESS_READ)
    start = -(-(len(MAGIC) + 8 + header_length) // ALIGNMENT) * ALIGNMENT
    arrays: dict[str, Array] = {}
    for name, where in described["arrays"].items():
        dtype = np.dtype(where["dtype"])
        count = int(np.prod(where["shape"], dtype=np.int64))
        array = np.frombuffer(mapped, dtype=dtype, count=count, offset=start + where["offset"])
        arrays[name] = array.reshape(where["shape"])
    meta: dict[str, Any] = described["meta"]
    return arrays, meta
