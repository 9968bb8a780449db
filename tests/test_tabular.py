"""Tabular loaders (concrete, red wine), the post's split, standardization and the
regression outcomes of C2/C3, with a fake backend where no framework is needed."""
from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.run.options import RunOptions
from bench import data
from bench.spec import registry
from bench.data import tabular
from bench.run import training
from bench.spec import Job
from bench.errors import DataError, SpecError
from bench.spec import BatchNorm, Data, Dense

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
needs_shared = pytest.mark.needs_data(str(SHARED / "concrete.csv"), str(SHARED / "red-wine.csv"))


@pytest.fixture
def env(tmp_path, monkeypatch):
    """HOME and caches under tmp_path and download URLs that point at nothing."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("BENCH_DATA_DIR", raising=False)
    monkeypatch.delenv("BENCH_CACHE_DIR", raising=False)
    for name, table in tabular.TABLES.items():
        monkeypatch.setitem(tabular.TABLES, name, replace(table, url=(tmp_path / "nowhere").as_uri()))
    given = tmp_path / "given"
    given.mkdir()
    return given


def _shared(name: str) -> pd.DataFrame:
    return pd.read_csv(SHARED / tabular.TABLES[name].file)


# --- the real files and the post's split --------------------------------------------

@needs_shared
@pytest.mark.parametrize("name, n, d", [("concrete", 1030, 8), ("red_wine", 1599, 11)])
def test_real_file_loads_with_the_posts_split(name, n, d, env):
    ds = data.load(name, data_dir=SHARED, download=False)
    n_train = round(0.7 * n)
    assert ds.x_train.shape == (n_train, d) and ds.x_test.shape == (n - n_train, d)
    # pandas' sample(frac, random_state=0) is RandomState(0).permutation(n)[:n_train].
    order = np.random.RandomState(0).permutation(n)
    frame = _shared(name)
    target = tabular.TABLES[name].target
    np.testing.assert_array_equal(ds.y_train, frame[target].to_numpy(float)[order[:n_train]])
    np.testing.assert_array_equal(ds.y_test, frame[target].to_numpy(float)[np.sort(order[n_train:])])
    np.testing.assert_array_equal(ds.x_train[0], frame.drop(columns=target).to_numpy(float)[order[0]])


@needs_shared
def test_reordered_columns_and_semicolons_give_the_same_data(env):
    frame = _shared("red_wine")
    frame[frame.columns[::-1]].to_csv(env / "red-wine.csv", index=False, sep=";")
    ds, ref = data.load("red_wine", data_dir=env), data.load("red_wine", data_dir=SHARED)
    assert ds.source == str(env / "red-wine.csv")
    np.testing.assert_array_equal(ds.x_train, ref.x_train)
    np.testing.assert_array_equal(ds.y_test, ref.y_test)


# --- bad files: one sentence naming the file and the problem -------------------------

def _spoil(kind: str, frame: pd.DataFrame, path: Path) -> None:
    if kind == "empty":
        path.write_text("")
        return
    if kind == "header_only":
        frame = frame.iloc[:0]
    elif kind == "missing_column":
        frame = frame.drop(columns="age")
    elif kind == "extra_columns":
        frame = frame.assign(id=range(len(frame)))[["id", *frame.columns[::-1]]]
    elif kind == "non_numeric":
        frame = frame.astype(object)
        frame.iloc[4, 2] = "n/a"
    elif kind == "wrong_value":
        frame = frame.copy()
        frame.iloc[10, 0] += 1.0
    elif kind == "shuffled_rows":
        frame = frame.iloc[::-1]
    frame.to_csv(path, index=False)


@needs_shared
@pytest.mark.parametrize("kind, phrase", [
    ("empty", "is empty"), ("header_only", "no data rows"), ("missing_column", "lacks the column(s) ['age']"),
    ("extra_columns", "unexpected or repeated column(s) ['id']"), ("non_numeric", "'n/a' at data row 5"),
    ("wrong_value", "sha256"), ("shuffled_rows", "row order matters"),
])
def test_bad_csv_is_one_clear_error_naming_the_file(env, kind, phrase):
    _spoil(kind, _shared("concrete"), env / "concrete.csv")
    cache = Path.home() / ".cache" / "bench" / "concrete.csv"
    cache.parent.mkdir(parents=True)
    _shared("concrete").to_csv(cache, index=False)  # a good copy later in the order is not used
    with pytest.raises(DataError) as info:
        data.load("concrete", data_dir=env)
    msg = str(info.value)
    assert str(env / "concrete.csv") in msg and phrase in msg and "\n" not in msg


def test_missing_everywhere_and_no_download(env):
    with pytest.raises(DataError, match="red-wine.csv was not found.*downloading is disabled"):
        data.load("red_wine", data_dir=env, download=False)
    with pytest.raises(DataError, match="download from file:"):
        data.load("red_wine", data_dir=env)


@needs_shared
def test_download_is_verified_and_cached_in_canonical_form(env, monkeypatch, tmp_path):
    remote = tmp_path / "winequality-red.csv"  # UCI's layout: ';'-separated
    _shared("red_wine").to_csv(remote, index=False, sep=";")
    monkeypatch.setitem(tabular.TABLES, "red_wine", replace(tabular.TABLES["red_wine"], url=remote.as_uri()))
    ds = data.load("red_wine")
    cache = Path.home() / ".cache" / "bench" / "red-wine.csv"
    assert ds.source == str(cache) and sorted(p.name for p in cache.parent.iterdir()) == ["red-wine.csv"]
    remote.unlink()
    assert data.load("red_wine").source == str(cache)


@needs_shared
def test_bad_download_is_deleted(env, monkeypatch, tmp_path):
    remote = tmp_path / "remote.csv"
    _spoil("wrong_value", _shared("concrete"), remote)
    monkeypatch.setitem(tabular.TABLES, "concrete", replace(tabular.TABLES["concrete"], url=remote.as_uri(),
                                                            convert=None))
    with pytest.raises(DataError, match="failed verification.*deleted"):
        data.load("concrete")
    assert list((Path.home() / ".cache" / "bench").iterdir()) == []


# --- split, resplit, standardization --------------------------------------------------

def test_split_indices_partition_the_rows():
    train, valid = tabular.split_indices(10)
    assert len(train) == 7 and sorted([*train, *valid]) == list(range(10))
    np.testing.assert_array_equal(train, np.random.RandomState(0).permutation(10)[:7])
    assert list(valid) == sorted(valid)


def _toy() -> data.Dataset:
    x = np.arange(40, dtype=float).reshape(20, 2)
    y = np.arange(20, dtype=float)
    train, valid = tabular.split_indices(20)
    return data.Dataset("toy", x[train], y[train], x[valid], y[valid], "memory", full=(x, y))


def test_resplit_is_per_seed_and_off_by_default():
    spec = Data("toy", batch_size=4, epochs=1)
    post = data.prepare(_toy(), spec)
    np.testing.assert_array_equal(post[1], _toy().y_train)
    on = replace(spec, resplit=True)
    a, a2, b = (data.prepare(_toy(), on, s)[1] for s in (0, 0, 1))
    np.testing.assert_array_equal(a, a2)
    assert not np.array_equal(a, b) and len(a) == 14
    with pytest.raises(SpecError, match="resplit needs"):
        data.prepare(_toy(), on)


def test_standardize_uses_training_statistics_only():
    x_train = np.array([[1.0, 5.0], [3.0, 5.0]], np.float32)
    x_test = np.array([[5.0, 7.0]], np.float32)
    xs, _, xt, _ = data.standardize((x_train, None, x_test, None))
    np.testing.assert_allclose(xs, [[-1, 0], [1, 0]])  # mean 2, sd 1; constant column only centred
    np.testing.assert_allclose(xt, [[3, 2]])


# --- outcomes and divergence ----------------------------------------------------------

def test_regression_outcomes_by_hand():
    out = training.regression_outcomes([5.0, 3.0, 4.0], False, 1.0, np.array([0.0, 10.0, 2.0]),
                                       np.array([2.0, 12.0]))
    assert (out["min_val_mae"], out["final_val_mae"], out["gap_mae"]) == (3.0, 4.0, 3.0)
    assert out["baseline_val_mae"] == 5.0 and out["fit_failed"] == 0.0 and out["diverged"] == 0.0
    stuck = training.regression_outcomes([2.5, 2.0], False, None, np.array([2.0]), np.array([0.0, 4.0]))
    assert stuck["fit_failed"] == 1.0 and "gap_mae" not in stuck  # no better than the median
    gone = training.regression_outcomes([3.0], True, None, np.array([2.0]), np.array([0.0, 4.0]))
    assert gone["fit_failed"] == gone["diverged"] == 1.0 and math.isnan(gone["min_val_mae"])


class _Fake:
    """A backend whose validation MAE turns NaN at epoch ``nan_at`` while the loss stays finite."""
    nan_at, seen = 10 ** 9, []

    class Trainer:
        def __init__(self, job, params, seed):
            self.epoch = 0

        def set_data(self, x, y):
            _Fake.seen.append(x)

        def fit_epoch(self, batches):
            self.epoch += 1
            return np.ones(len(batches))

        def evaluate(self, x, y):
            mae = math.nan if self.epoch >= _Fake.nan_at else 10.0 / self.epoch
            if len(x) == 30:  # the training set (eval_train)
                mae = 1.0
            return {"loss": 1.0, "mae": mae}


def _job(case_id: str, arm: str, epochs: int = 4) -> Job:
    case = registry.get(case_id)
    # The trainer is the fake above; the framework name only picks the initializer defaults (Keras's).
    return Job(case, case.arm(arm), "tf", "as_written", "smoke", replace(case.budget("smoke"), epochs=epochs))


def _arrays(n=30):
    rng = np.random.default_rng(0)
    return (rng.normal(50, 9, (n, 11)).astype(np.float32), rng.normal(size=n).astype(np.float32),
            rng.normal(50, 9, (9, 11)).astype(np.float32), rng.normal(size=9).astype(np.float32))


def test_nan_validation_mae_counts_as_divergence(monkeypatch):
    monkeypatch.setattr(_Fake, "nan_at", 3)
    out = training.train_seed(_job("c3", "post"), _Fake, _arrays(), 0)
    per_epoch = math.ceil(30 / 256)
    assert out["diverged"] and out["diverged_step"] == 3 * per_epoch and out["steps"] == 3 * per_epoch
    assert out["metrics"]["diverged"] == 1.0 and math.isnan(out["metrics"]["min_val_mae"])


def test_finite_run_reports_min_final_gap_and_standardizes_only_its_arm(monkeypatch):
    monkeypatch.setattr(_Fake, "seen", [])
    out = training.train_seed(_job("c3", "standardized"), _Fake, _arrays(), 0)
    m = out["metrics"]
    assert not out["diverged"] and m["min_val_mae"] == m["final_val_mae"] == 2.5
    assert m["gap_mae"] == 2.5 - 1.0
    training.train_seed(_job("c3", "post"), _Fake, _arrays(), 0)
    std, raw = _Fake.seen
    assert abs(std.mean()) < 1e-5 and abs(raw.mean() - 50) < 5


# --- the cases match the post -------------------------------------------------------

def test_c2_and_c3_match_the_post():
    c2, c3 = registry.get("c2"), registry.get("c3")
    assert (c2.optimizer.name, c2.optimizer.lr, c2.optimizer.momentum) == ("sgd", 0.01, 0.0)
    assert (c2.data.batch_size, c2.budget("full").epochs, c2.profile("full").seeds) == (64, 100, 20)
    bn = c2.arm("bn").layers
    assert [type(layer) for layer in bn] == [BatchNorm, Dense] * 4  # BN before each of the 4 Dense
    assert c2.arm("standardized").standardizes(c2.data) and not c2.arm("plain").standardizes(c2.data)
    assert (c3.optimizer.name, c3.optimizer.lr, c3.data.batch_size, c3.budget("full").epochs) == ("adam", None, 256, 100)
    assert c3.profile("full").seeds >= 10 and c3.data.eval_train and not c3.data.resplit
    assert sum(isinstance(layer, Dense) and layer.units == 1024 for layer in c3.arm("post").layers) == 3


def test_arrays_for_prepares_once_unless_resplit():
    spec = Data("toy", batch_size=4, epochs=1)
    once = data.arrays_for(_toy(), spec)
    assert once(0) is once(1)
    per_seed = data.arrays_for(_toy(), replace(spec, resplit=True))
    assert not np.array_equal(per_seed(0)[1], per_seed(1)[1])


@needs_shared
def test_diverged_seeds_are_recorded_and_do_not_touch_the_others(tmp_path):
    pytest.importorskip("torch")
    from bench.analysis import evaluate as analysis
    from bench.run import runner
    from bench.records import store

    case = registry.get("c2")
    summary = runner.run(RunOptions([case], "smoke", frameworks=("torch",), arm_names=["plain", "bn"],
                         results_dir=tmp_path, data_dir=SHARED, progress=False))
    records = store.load(tmp_path, "smoke")
    assert summary.failed == 0 and all(r["status"] == "ok" for r in records)
    plain = [r for r in records if r["arm"] == "plain"]
    bn = [r for r in records if r["arm"] == "bn"]
    assert all(r["diverged"] and r["diverged_step"] >= 1 and r["metrics"]["fit_failed"] == 1.0 for r in plain)
    assert all(not r["diverged"] and math.isfinite(r["metrics"]["min_val_mae"]) for r in bn)
    samples = analysis.samples_for(records, case, "torch", "as_written", "min_val_mae")
    assert all(math.isnan(v) for v in samples["plain"].values())
    assert all(math.isfinite(v) for v in samples["bn"].values())


def test_the_no_learning_mae_predicts_the_training_median_not_its_mean():
    # a skewed target: median 1.5, mean 25.75; the best constant under MAE is the median
    out = training.regression_outcomes([1.0], False, None, np.array([0.0, 1.0, 2.0, 100.0]), np.array([1.0, 2.0]))
    assert out["baseline_val_mae"] == 0.5
