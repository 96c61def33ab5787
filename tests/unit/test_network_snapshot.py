"""Network snapshots on disk: arrays come back memory-mapped, stale or damaged files are
ignored (the caller rebuilds), writes are atomic, old files are pruned."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np

from gis_registry.network import snapshot
from gis_registry.network.model import NetworkCache


@dataclass
class Thing:
    name: str
    values: np.ndarray
    table: dict


def _thing(n: int = 1000) -> Thing:
    rng = np.random.default_rng(1)
    return Thing("สะพาน", rng.random(n), {"ids": np.arange(n, dtype=np.int64), "odd": [1, "a"]})


def test_round_trip_maps_arrays_instead_of_copying(tmp_path):
    path = tmp_path / "x.snapshot"
    thing = _thing()
    snapshot.save(path, thing, "stamp-1")
    back = snapshot.load(path, "stamp-1")
    assert back.name == "สะพาน" and back.table["odd"] == [1, "a"]
    np.testing.assert_array_equal(back.values, thing.values)
    np.testing.assert_array_equal(back.table["ids"], thing.table["ids"])
    assert not back.values.flags.owndata  # a view of the mapping
    assert back.values.ctypes.data % snapshot.ALIGN == 0
    assert snapshot.read_stamp(path) == "stamp-1"


def test_writing_to_a_loaded_array_never_changes_the_file(tmp_path):
    path = tmp_path / "x.snapshot"
    snapshot.save(path, _thing(), "s")
    back = snapshot.load(path, "s")
    back.values[:] = -1.0  # copy-on-write
    again = snapshot.load(path, "s")
    assert (again.values >= 0).all()


def test_stale_truncated_foreign_or_missing_files_load_as_none(tmp_path):
    path = tmp_path / "x.snapshot"
    assert snapshot.load(path, "s") is None  # missing
    snapshot.save(path, _thing(100_000), "s")
    assert snapshot.load(path, "other") is None  # stale
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert snapshot.load(path, "s") is None  # truncated
    path.write_bytes(b"not a snapshot at all")
    assert snapshot.load(path, "s") is None and snapshot.read_stamp(path) is None
    path.write_bytes(b"")
    assert snapshot.load(path, "s") is None


def test_a_failed_save_leaves_no_file_behind(tmp_path):
    path = tmp_path / "x.snapshot"
    try:
        snapshot.save(path, lambda: None, "s")  # a lambda cannot be pickled
    except Exception:  # noqa: BLE001
        pass
    assert list(tmp_path.iterdir()) == []


def test_the_cache_keeps_only_the_most_recent_snapshots(tmp_path):
    (tmp_path / "network-0123.pickle").write_bytes(b"old format")
    (tmp_path / "network-0123.stamp").write_bytes(b"old format")
    cache = NetworkCache(directory=tmp_path, keep_on_disk=3)
    for i in range(5):
        path = cache._path(("db", i))
        snapshot.save(path, _thing(10), str(i))
        os.utime(path, (time.time() + i, time.time() + i))
    cache._prune()
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted(cache._path(("db", i)).name for i in (2, 3, 4))


def test_a_places_index_travels_packed_and_answers_the_same(tmp_path):
    from gis_registry.network.attach import _PackedIndex

    index = {("lgo", "520101"): 0, ("lgo", "520102"): 1, ("village", "17"): 2}
    index[("village_code", "52010101")] = 2
    packed = _PackedIndex.pack(index)
    path = tmp_path / "i.snapshot"
    snapshot.save(path, packed, "s")
    back = snapshot.load(path, "s")
    assert dict(back) == index and len(back) == 4
    assert back.get(("lgo", "520102")) == 1 and back.get(("lgo", "nope"), -1) == -1
    assert back.get(("district", "5201"), -1) == -1  # a kind with no places
    assert _PackedIndex.pack(back) is back
