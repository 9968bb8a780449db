"""The IDX parser and the Fashion-MNIST loader: bad files get clear errors naming them."""
import gzip

import numpy as np
import pytest

from bench import data
from bench.data import fashion_mnist
from bench.errors import DataError


def _idx(path, ndim_byte, dims, payload_len=None, type_byte=0x08):
    n = int(np.prod(dims)) if payload_len is None else payload_len
    header = bytes([0, 0, type_byte, ndim_byte]) + b"".join(int(d).to_bytes(4, "big") for d in dims)
    with gzip.open(path, "wb") as f:
        f.write(header + bytes(i % 256 for i in range(n)))
    return path


def test_a_good_file_parses(tmp_path):
    x = data.read_idx(_idx(tmp_path / "x.gz", 3, (5, 2, 3)), 3)
    assert x.shape == (5, 2, 3) and x.dtype == np.uint8 and x.ravel()[7] == 7


@pytest.mark.parametrize("ndim_byte, type_byte", [(1, 0x08), (3, 0x0D)])
def test_wrong_magic_number_names_the_file(tmp_path, ndim_byte, type_byte):
    path = _idx(tmp_path / "bad-images.gz", ndim_byte, (5, 2, 3)[:ndim_byte], type_byte=type_byte)
    with pytest.raises(DataError, match=r"bad-images\.gz.*magic number is 0x0000.*expected 0x00000803"):
        data.read_idx(path, 3)


@pytest.mark.parametrize("length, word", [(29, "truncated"), (31, "too long")])
def test_payload_of_the_wrong_length_names_the_file(tmp_path, length, word):
    path = _idx(tmp_path / "short.gz", 3, (5, 2, 3), payload_len=length)
    with pytest.raises(DataError, match=rf"short\.gz.*payload is {word}: {length} bytes .* need 30"):
        data.read_idx(path, 3)


def test_truncated_header_and_not_gzip(tmp_path):
    path = tmp_path / "head.gz"
    with gzip.open(path, "wb") as f:
        f.write(bytes([0, 0, 8, 3, 0, 0]))
    with pytest.raises(DataError, match=r"head\.gz.*header is truncated"):
        data.read_idx(path, 3)
    (tmp_path / "plain.gz").write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match=r"plain\.gz.*gzip"):
        data.read_idx(tmp_path / "plain.gz", 1)


def test_image_and_label_counts_must_match(tmp_path):
    images, labels = _idx(tmp_path / "i.gz", 3, (5, 2, 2)), _idx(tmp_path / "l.gz", 1, (4,))
    with pytest.raises(DataError, match=r"i\.gz holds 5 images but .*l\.gz holds 4 labels"):
        data.read_idx_pair(images, labels)


@pytest.fixture
def no_copies(tmp_path, monkeypatch):
    """No Debian folder, empty Keras and project caches."""
    monkeypatch.setattr(fashion_mnist, "FASHION_DEBIAN_DIR", tmp_path / "debian")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("BENCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("BENCH_DATA_DIR", raising=False)
    return tmp_path


def test_a_wrong_checksum_names_the_file(no_copies):
    d = no_copies / "data" / "fashion-mnist"
    d.mkdir(parents=True)
    for name, shape, _ in fashion_mnist.FASHION_FILES.values():
        _idx(d / name, len(shape), (3,) + shape[1:])
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte\.gz.*does not match its published sha256"):
        data.load("fashion_mnist", data_dir=no_copies / "data", download=False)


def test_a_partial_copy_is_an_error_not_a_fallback(no_copies):
    d = no_copies / "data"
    d.mkdir()
    _idx(d / "train-images-idx3-ubyte.gz", 3, (3, 28, 28))
    with pytest.raises(DataError, match=r"part of Fashion-MNIST but lacks .*t10k-images"):
        data.load("fashion_mnist", data_dir=d, download=False)


def test_no_copy_and_no_download_says_how_to_provide_one(no_copies):
    with pytest.raises(DataError, match="dataset-fashion-mnist.*--data-dir"):
        data.load("fashion_mnist", download=False)


@pytest.mark.needs_data(str(fashion_mnist.FASHION_DEBIAN_DIR / "t10k-labels-idx1-ubyte.gz"))
def test_the_real_files_load_and_verify(monkeypatch, tmp_path):
    monkeypatch.delenv("BENCH_DATA_DIR", raising=False)
    ds = data.load("fashion_mnist", data_dir=tmp_path, download=False)   # an empty data dir: Debian's copy
    assert ds.source == str(fashion_mnist.FASHION_DEBIAN_DIR)
    assert ds.x_train.shape == (60000, 28, 28) and ds.x_test.shape == (10000, 28, 28)
    assert np.bincount(ds.y_train).tolist() == [6000] * 10  # Fashion-MNIST is balanced
    assert np.bincount(ds.y_test).tolist() == [1000] * 10
