"""Built networks saved on disk and loaded back memory-mapped, in milliseconds.

A network of the scale-100 province holds about a million roads' arrays and the contraction
hierarchy's; unpickling it as one stream (copying every array) took longer than a CLI route
should take in all. Here the object graph is pickled (protocol 5) with every contiguous numpy
array *out of band*: the small pickle goes first, the arrays' bytes after it, each aligned,
and loading maps the file (copy-on-write) and hands the mapped slices back to pickle, so every
array is a view of the page cache. Only the pages a query touches are ever read, and processes
loading the same snapshot share them.

File layout (little-endian)::

    MAGIC | len(stamp) u64 | stamp (UTF-8 repr) | len(head) u64 | n u64 | n x (offset, size) u64
    | head (the pickle) | buffers, each at a multiple of ALIGN

The stamp comes first so that a stale snapshot is recognised without unpickling anything. A
snapshot is written to a temporary file and renamed over the old one: readers see the old file
or the new one, never half of one (and a reader's mapping of the old file stays valid).

Loading a pickle runs code: only load snapshots from a directory you own (the registry home).
"""

from __future__ import annotations

import mmap
import os
import pickle
import struct
import tempfile
from pathlib import Path
from typing import Any

MAGIC = b"GISNET\x00\x02"  # bump the last byte when the layout changes
ALIGN = 64  # cache-line alignment of every array's first byte
_U64 = struct.Struct("<Q")


def save(path: Path, obj: Any, stamp: str) -> None:
    """Write ``obj`` (with its numpy arrays out of band) and ``stamp`` to ``path`` atomically.

    Parameters
    ----------
    path : the snapshot file; its directory is created if needed
    obj : any picklable object; C-contiguous numpy arrays in it are stored as raw bytes
    stamp : what the object was built from (compared by :func:`load`)

    Raises
    ------
    OSError, pickle.PicklingError, TypeError
        When the directory cannot be written or ``obj`` cannot be pickled; nothing is left
        behind then.
    """
    buffers: list[pickle.PickleBuffer] = []
    head = pickle.dumps(obj, protocol=5, buffer_callback=buffers.append)
    raws = [b.raw() for b in buffers]
    stamp_bytes = stamp.encode()
    table_at = len(MAGIC) + 8 + len(stamp_bytes) + 16
    offset = _aligned(table_at + 16 * len(raws) + len(head))
    table = []
    for raw in raws:
        table.append((offset, raw.nbytes))
        offset = _aligned(offset + raw.nbytes)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = None
    try:
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as f:
            tmp = f.name
            f.write(MAGIC + _U64.pack(len(stamp_bytes)) + stamp_bytes)
            f.write(_U64.pack(len(head)) + _U64.pack(len(raws)))
            f.write(b"".join(_U64.pack(o) + _U64.pack(n) for o, n in table))
            f.write(head)
            for (at, _), raw in zip(table, raws, strict=True):
                f.write(b"\x00" * (at - f.tell()))
                f.write(raw)
        os.replace(tmp, path)
    except BaseException:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        for b in buffers:
            b.release()


def read_stamp(path: Path) -> str | None:
    """The stamp of the snapshot at ``path``; None when absent or not a snapshot."""
    try:
        with path.open("rb") as f:
            if f.read(len(MAGIC)) != MAGIC:
                return None
            (n,) = _U64.unpack(f.read(8))
            return f.read(n).decode()
    except (OSError, struct.error, UnicodeDecodeError):
        return None


def load(path: Path, stamp: str) -> Any | None:
    """The object saved at ``path`` if its stamp is ``stamp``, else None.

    Arrays come back as writable copy-on-write views of the mapped file: nothing is read until
    used, and writing to one never changes the file.

    Returns None (the caller rebuilds) for a missing, truncated, foreign or stale file, and for
    one written by another version of the code that no longer unpickles.
    """
    try:
        with path.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size == 0:
                return None
            mapped = mmap.mmap(f.fileno(), size, access=mmap.ACCESS_COPY)
    except (OSError, ValueError):
        return None
    view = memoryview(mapped)
    try:
        if bytes(view[: len(MAGIC)]) != MAGIC:
            return None
        at = len(MAGIC)
        (n_stamp,) = _U64.unpack_from(view, at)
        at += 8
        if bytes(view[at : at + n_stamp]).decode() != stamp:
            return None
        at += n_stamp
        n_head, n_buffers = _U64.unpack_from(view, at)[0], _U64.unpack_from(view, at + 8)[0]
        at += 16
        spans = [
            (_U64.unpack_from(view, at + 16 * i)[0], _U64.unpack_from(view, at + 16 * i + 8)[0])
            for i in range(n_buffers)
        ]
        head_at = at + 16 * n_buffers
        if any(o + n > size for o, n in spans) or head_at + n_head > size:
            return None  # truncated
        head = view[head_at : head_at + n_head]
        return pickle.loads(head, buffers=[view[o : o + n] for o, n in spans])
    except (
        struct.error,
        UnicodeDecodeError,
        EOFError,
        pickle.UnpicklingError,
        AttributeError,
        ImportError,
        TypeError,
        ValueError,
    ):
        return None  # from another version of the code, or damaged: rebuild


def _aligned(n: int) -> int:
    return -(-n // ALIGN) * ALIGN
