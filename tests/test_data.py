"""bench.data on tiny generated npz files; one test reads the real MNIST copy if present."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from bench import data
from bench.data import mnist
from bench.errors import DataError, SpecError
from bench.spec import Data
from conftest import data_path



def _tiny_arrays() -> dict:
    rng = np.random.default_rng(0)
    return {
        "x_train": rng.integers(0, 256, (6, 3, 3), dtype=np.uint8),
        "y_train": np.array([5, 0, 4, 1, 9, 2], dtype=np.uint8),
        "x_test": rng.integers(0, 256, (4, 3, 3), dtype=np.uint8),
        "y_test": np.array([7, 2, 1, 0], dtype=np.uint8),
    }


TINY = _tiny_arrays()


def _write(path: Path, arrays: dict = TINY, compressed: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:  # a file object keeps np.savez from appending ".npz"
        (np.savez_compressed if compressed else np.savez)(f, **arrays)
    return path


@pytest.fixture
def env(tmp_path, monkeypatch):
    """HOME and caches under tmp_path, the tiny arrays as the expected contents,
    and a download URL that points at nothing, so no test touches the network."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("BENCH_DATA_DIR", raising=False)
    monkeypatch.delenv("BENCH_CACHE_DIR", raising=False)
    expected = {k: (a.shape, str(a.dtype), hashlib.sha256(a.tobytes()).hexdigest()) for k, a in TINY.items()}
    monkeypatch.setattr(mnist, "MNIST_ARRAYS", expected)
    monkeypatch.setattr(mnist, "MNIST_URL", (tmp_path / "nowhere" / "mnist.npz").as_uri())

    class Env:
        root = tmp_path
        keras = home / ".keras" / "datasets" / "mnist.npz"
        cache = home / ".cache" / "bench" / "mnist.npz"
        given = tmp_path / "given" / "mnist.npz"
    return Env


def _assert_tiny(ds: data.Dataset) -> None:
    for key, a in TINY.items():
        np.testing.assert_array_equal(getattr(ds, key), a)


# --- not found ----------------------------------------------------------------

@pytest.mark.parametrize("download", [False, True])
def test_missing_everywhere_names_every_place_searched(env, download):
    env.given.parent.mkdir()
    with pytest.raises(DataError) as info:
        data.load("mnist", data_dir=env.given.parent, download=download)
    msg = str(info.value)
    for place in (env.given, env.keras, env.cache):
        assert str(place) in msg
    assert "BENCH_DATA_DIR" in msg and "--data-dir" in msg
    assert ("download" in msg and "disabled" in msg) if not download else mnist.MNIST_URL in msg
    assert not env.cache.exists()


def test_unknown_dataset_is_a_spec_error_naming_the_known_ones(env):
    with pytest.raises(SpecError, match="mnist"):
        data.load("cifar10")


# --- bad files are errors, never skipped ----------------------------------------

def _random_bytes(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(np.random.default_rng(1).bytes(500))


def _truncated(path):
    raw = _write(path, compressed=False).read_bytes()
    path.write_bytes(raw[: len(raw) // 2])


def _damaged_member(path):
    raw = bytearray(_write(path).read_bytes())  # the zip directory survives; a member's data does not
    mid = len(raw) // 3
    raw[mid:mid + 8] = bytes(255 - b for b in raw[mid:mid + 8])
    path.write_bytes(bytes(raw))


def _missing_key(path):
    _write(path, {k: a for k, a in TINY.items() if k != "y_test"})


def _wrong_shape(path):
    _write(path, {**TINY, "x_train": TINY["x_train"].reshape(6, 9)})


def _wrong_dtype(path):
    _write(path, {**TINY, "y_train": TINY["y_train"].astype(np.int64)})


def _wrong_contents(path):
    _write(path, {**TINY, "y_test": TINY["y_test"][::-1].copy()})


@pytest.mark.parametrize("spoil", [_random_bytes, _truncated, _damaged_member, _missing_key, _wrong_shape,
                                   _wrong_dtype, _wrong_contents])
def test_bad_file_raises_naming_it_and_does_not_fall_back(env, spoil):
    spoil(env.given)
    _write(env.keras)  # a good copy further down the search order must not be used
    with pytest.raises(DataError) as info:
        data.load("mnist", data_dir=env.given.parent)
    assert str(env.given) in str(info.value)


def test_bad_file_in_keras_cache_is_an_error_too(env):
    _wrong_contents(env.keras)
    _write(env.cache)
    with pytest.raises(DataError, match="sha256"):
        data.load("mnist")


@pytest.mark.parametrize("compressed", [False, True])
def test_same_arrays_in_different_npz_bytes_pass(env, compressed):
    _assert_tiny(data.load("mnist", data_dir=_write(env.given, compressed=compressed).parent))


# --- search order -------------------------------------------------------------

def test_data_dir_beats_keras_cache_beats_project_cache(env):
    for path in (env.given, env.keras, env.cache):
        _write(path)
    assert data.load("mnist", data_dir=env.given.parent).source == str(env.given)
    assert data.load("mnist").source == str(env.keras)
    env.keras.unlink()
    assert data.load("mnist").source == str(env.cache)


def test_bench_data_dir_env_is_honoured_and_the_argument_beats_it(env, monkeypatch):
    from_env = _write(env.root / "from_env" / "mnist.npz")
    monkeypatch.setenv("BENCH_DATA_DIR", str(from_env.parent))
    _write(env.keras)
    assert data.load("mnist").source == str(from_env)
    assert data.load("mnist", data_dir=_write(env.given).parent).source == str(env.given)


def test_data_dir_without_the_file_continues_the_search(env):
    _write(env.cache)
    (env.root / "empty").mkdir()
    assert data.load("mnist", data_dir=env.root / "empty").source == str(env.cache)


def test_bench_cache_dir_env_is_honoured(env, monkeypatch):
    cache = env.root / "cache"
    monkeypatch.setenv("BENCH_CACHE_DIR", str(cache))
    _write(cache / "mnist.npz")
    assert data.load("mnist").source == str(cache / "mnist.npz")


# --- download -----------------------------------------------------------------

def test_download_lands_verified_in_the_project_cache(env, monkeypatch):
    remote = _write(env.root / "remote" / "mnist.npz")
    monkeypatch.setattr(mnist, "MNIST_URL", remote.as_uri())
    ds = data.load("mnist")
    assert ds.source == str(env.cache)
    _assert_tiny(ds)
    assert sorted(p.name for p in env.cache.parent.iterdir()) == ["mnist.npz"]
    remote.unlink()  # the second load must come from the cache
    assert data.load("mnist").source == str(env.cache)


def test_bad_download_is_deleted(env, monkeypatch):
    remote = env.root / "remote" / "mnist.npz"
    _wrong_contents(remote)
    monkeypatch.setattr(mnist, "MNIST_URL", remote.as_uri())
    with pytest.raises(DataError, match="deleted"):
        data.load("mnist")
    assert list(env.cache.parent.iterdir()) == []


def test_download_disabled_does_not_download(env, monkeypatch):
    monkeypatch.setattr(mnist, "MNIST_URL", _write(env.root / "remote" / "mnist.npz").as_uri())
    with pytest.raises(DataError):
        data.load("mnist", download=False)
    assert not env.cache.exists()


# --- prepare ------------------------------------------------------------------

def _tiny_dataset() -> data.Dataset:
    return data.Dataset("mnist", *TINY.values(), source="memory")


def test_prepare_subsamples_flattens_scales_and_casts():
    spec = Data("mnist", batch_size=2, epochs=1, scale=1 / 255, train_subsample=4, test_subsample=3)
    x_train, y_train, x_test, y_test = data.prepare(_tiny_dataset(), spec)
    assert x_train.shape == (4, 9) and x_test.shape == (3, 9)
    assert x_train.dtype == x_test.dtype == np.float32
    assert y_train.dtype == y_test.dtype == np.int64
    np.testing.assert_array_equal(y_train, [5, 0, 4, 1])
    np.testing.assert_allclose(x_test, TINY["x_test"][:3].reshape(3, 9) / 255, rtol=1e-6)


def test_prepare_without_subsample_keeps_everything():
    x_train, _, x_test, _ = data.prepare(_tiny_dataset(), Data("mnist", batch_size=2, epochs=1))
    assert len(x_train) == 6 and len(x_test) == 4
    np.testing.assert_array_equal(x_train, TINY["x_train"].reshape(6, 9))


@pytest.mark.parametrize("spec", [Data("mnist", 2, 1, train_subsample=7), Data("fashion_mnist", 2, 1)])
def test_prepare_rejects_impossible_specs(spec):
    with pytest.raises(SpecError):
        data.prepare(_tiny_dataset(), spec)


# --- the real file ------------------------------------------------------------

@pytest.mark.needs_data("mnist.npz")
def test_real_mnist_from_the_configured_data_dir(monkeypatch, tmp_path):
    data_dir = data_path("mnist.npz").parent   # BENCH_DATA_DIR, else ../shared/data (tests/conftest.py)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(mnist, "MNIST_URL", (tmp_path / "nowhere").as_uri())
    ds = data.load("mnist", data_dir=data_dir, download=False)
    assert ds.source == str(data_dir / "mnist.npz")
    assert ds.x_train.shape == (60000, 28, 28) and ds.x_test.shape == (10000, 28, 28)
    assert list(ds.y_train[:5]) == [5, 0, 4, 1, 9]
    assert list(ds.y_test[:5]) == [7, 2, 1, 0, 4]
