"""Inputs checked before anything is planned or read: `--set data.dataset`, `--data-dir`, `adaptive.json`."""
import json

import pytest

from bench import data
from bench.cli import main
from bench.data import sources
from bench.errors import DataError, StoreError
from bench.records import adaptive_log
from bench.analysis import decisions

C2 = ["--case", "c2", "--arm", "plain", "--framework", "torch", "--profile", "smoke", "--seeds", "1"]


def _one_sentence(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err and len(lines) == 1 and lines[0].startswith("bench: error: "), err
    return lines[0]


@pytest.mark.parametrize("command", ["plan", "run"])
@pytest.mark.parametrize("value, says", [
    ("mnist", "case 'c2', --set data.dataset: 'mnist' has 784 features per example, but the case's input "
              "shape (8,) takes 8."),
    ("nope", "case 'c2', --set data.dataset: unknown dataset 'nope'"),
])
def test_a_dataset_override_is_checked_before_any_plan(tmp_path, capsys, command, value, says):
    assert main([command, *C2, "--set", f"data.dataset={value}", "--results-dir", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert says in _one_sentence(err) and out == ""   # no plan printed before the refusal


@pytest.mark.parametrize("kind, says", [("file", "is a file, not a directory"), ("missing", "does not exist")])
def test_a_data_dir_that_is_not_a_directory_is_one_sentence(tmp_path, capsys, kind, says):
    given = tmp_path / "data"
    if kind == "file":
        given.write_text("not a directory")
    assert main(["run", *C2, "--data-dir", str(given), "--results-dir", str(tmp_path / "r")]) == 2
    assert f"--data-dir {given} {says}" in _one_sentence(capsys.readouterr().err)
    assert main(["data", "--data-dir", str(given)]) == 2
    assert f"--data-dir {given} {says}" in _one_sentence(capsys.readouterr().err)


def test_a_named_data_dir_is_never_bypassed_by_the_caches_or_a_download(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("BENCH_CACHE_DIR", str(tmp_path / "cache"))
    downloads = []
    monkeypatch.setattr(sources, "download_to", lambda url, dest: downloads.append(url) or dest)
    for name in ("concrete", "mnist", "fashion_mnist"):
        with pytest.raises(DataError, match="does not exist"):
            data.load(name, tmp_path / "typo", download=True)
    monkeypatch.setenv("BENCH_DATA_DIR", str(tmp_path / "typo"))
    with pytest.raises(DataError, match="BENCH_DATA_DIR .* does not exist"):
        data.load("concrete", download=True)
    assert downloads == []


LOG = {"procedure": "p", "outcome": "o", "max_seeds": 20, "batch": 5, "spending": "obrien_fleming", "alpha": 0.05,
       "looks": [{"seeds": 5, "fraction": 0.25, "spent": 0.0001, "alpha": 0.0001, "decided": []}],
       "decisions": {"c2/c2a/torch/as_written": {"verdict": "reproduced", "seeds": 5}}, "undecided": []}


@pytest.mark.parametrize("text, says", [
    ("{not json", "is not readable JSON"),
    ("[1, 2]", "holds a JSON list, not an object"),
    (json.dumps({k: v for k, v in LOG.items() if k != "decisions"}), "has no 'decisions' field"),
    (json.dumps({**LOG, "looks": [{"seeds": "five"}]}), "has look 1 without a valid 'seeds'"),
    (json.dumps({**LOG, "decisions": {"c2/c2a/torch/as_written": {"verdict": "reproduced"}}}),
     "has decision 'c2/c2a/torch/as_written' without a 'verdict' text and a 'seeds' count"),
    (json.dumps({**LOG, "max_seeds": None}), "has 'max_seeds' = null, not a whole number"),
])
def test_a_malformed_adaptive_log_is_one_sentence_naming_the_field(tmp_path, capsys, text, says):
    (tmp_path / "smoke").mkdir()
    path = tmp_path / "smoke" / "adaptive.json"
    path.write_text(text)
    with pytest.raises(StoreError, match="adaptive.json ") as exc:
        decisions.apply([], tmp_path / "smoke")
    assert says in str(exc.value) and str(path) in str(exc.value)
    assert adaptive_log.read(tmp_path / "nothing") is None


def test_a_well_formed_adaptive_log_reads(tmp_path):
    (tmp_path / "adaptive.json").write_text(json.dumps(LOG))
    assert adaptive_log.read(tmp_path) == LOG
