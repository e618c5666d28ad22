"""numpy arrays to Arrow arrays and back, through their buffers.

pyarrow's own conversions (`pa.array`, `to_numpy`, `take` or `filter` with a numpy argument)
import pandas the first time they run, to ask whether the value is a DataFrame: half a second of
CPU that `dialer validate` would pay for nothing. The loader's columns never hold nulls.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa


def ints(values: npt.NDArray[np.int64]) -> pa.Array:
    """An int64 Arrow array of the values."""
    values = np.ascontiguousarray(values, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), len(values), [None, pa.py_buffer(values)])


def mask(values: npt.NDArray[np.bool_]) -> pa.Array:
    """A boolean Arrow array of the values."""
    bits = np.packbits(np.asarray(values, dtype=bool), bitorder="little")
    return pa.Array.from_buffers(pa.bool_(), len(values), [None, pa.py_buffer(bits)])


def strings(values: list[str]) -> pa.Array:
    """A string Arrow array of the values."""
    encoded = [value.encode() for value in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    np.cumsum(np.fromiter(map(len, encoded), np.int32, len(encoded)), out=offsets[1:])
    data = pa.py_buffer(b"".join(encoded))
    return pa.Array.from_buffers(pa.string(), len(encoded), [None, pa.py_buffer(offsets), data])


def to_bools(array: pa.Array) -> npt.NDArray[np.bool_]:
    """A boolean Arrow array without nulls as numpy."""
    if not len(array):
        return np.zeros(0, dtype=bool)
    bits = np.unpackbits(np.frombuffer(array.buffers()[1], dtype=np.uint8), bitorder="little")
    return bits[array.offset : array.offset + len(array)].astype(bool)


def to_ints(array: pa.Array) -> npt.NDArray[np.int64]:
    """An int64 Arrow array without nulls as numpy."""
    if not len(array):
        return np.zeros(0, dtype=np.int64)
    values = np.frombuffer(array.buffers()[1], dtype=np.int64)
    return values[array.offset : array.offset + len(array)]
