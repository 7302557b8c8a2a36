"""ExactVectors: float32 vectors by position in a base file and a private tail, read back bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from filters.exact_vectors import ExactVectors


def rows(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, 6)).astype(np.float32)


def test_appended_vectors_read_back_by_position_and_range():
    store = ExactVectors(6)
    data = rows(10)
    store.append(data[:3])
    store.append(data[3:])
    assert len(store) == 10
    np.testing.assert_array_equal(store.read(np.array([7, 0, 7, 9])), data[[7, 0, 7, 9]])
    np.testing.assert_array_equal(store.read_range(2, 8), data[2:8])
    with pytest.raises(IndexError):
        store.read(np.array([10]))


def test_a_saved_file_becomes_the_base_and_new_vectors_go_to_a_tail(tmp_path):
    store = ExactVectors(6)
    data = rows(12, seed=1)
    store.append(data[:8])
    path = tmp_path / "v.f32"
    store.save(path)
    assert path.stat().st_size == 8 * 6 * 4 and not list(tmp_path.glob("*.partial"))
    store.append(data[8:])
    np.testing.assert_array_equal(store.read_range(0, 12), data)  # across base and tail
    np.testing.assert_array_equal(store.read(np.array([11, 3])), data[[11, 3]])
    assert path.stat().st_size == 8 * 6 * 4  # the base is never written to


def test_open_checks_the_count_and_the_checksum(tmp_path):
    store = ExactVectors(6)
    store.append(rows(5, seed=2))
    path = tmp_path / "v.f32"
    store.save(path)
    checksum = store.checksum()
    opened = ExactVectors.open(path, 6, 5, checksum)
    np.testing.assert_array_equal(opened.read_range(0, 5), rows(5, seed=2))
    prefix = ExactVectors.open(path, 6, 3, _prefix_checksum(path, 3))
    assert len(prefix) == 3  # a file holding more rows (a later save of the same rows) serves a prefix
    with pytest.raises(ValueError, match="fewer"):
        ExactVectors.open(path, 6, 6, checksum)
    with pytest.raises(ValueError, match="other vectors"):
        ExactVectors.open(path, 6, 5, checksum + 1)
    with pytest.raises(ValueError, match="missing"):
        ExactVectors.open(tmp_path / "absent.f32", 6, 1, checksum)


def _prefix_checksum(path, count: int) -> int:
    store = ExactVectors(6)
    store.append(np.fromfile(path, dtype=np.float32).reshape(-1, 6)[:count])
    return store.checksum()
