"""Suite files that misbehave at import never take a command down, say where they broke, and a case
id defined by two files is refused by every command that needs it, naming both files."""
import json
import sys
import textwrap

import pytest

import suites
from bench.cli import main
from bench.records import store
from bench.spec import registry

GOOD = textwrap.dedent("""
    from bench.spec import Arm, Case, Data, Dense, Loss, Metric, Optimizer, Profile
    CASES = [Case(id="{id}", title="t", source="s", input_shape=(8,),
                  data=Data("concrete", batch_size=64, epochs=1), loss=Loss("mae"),
                  optimizer=Optimizer("sgd", lr=0.01),
                  arms=(Arm("plain", (Dense(4, "relu"), Dense(1))),),
                  metrics=(Metric("min_val_mae", higher_is_better=False),),
                  claims=(), profiles={{"smoke": Profile(seeds=2)}})]
""")
PARSE_ARGS = textwrap.dedent("""
    import argparse
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=0.1)
    ARGS = parser.parse_args()
""")
RAISES = "x = 1\nraise ValueError('no config here')\n"


@pytest.fixture
def extra_suites(tmp_path, monkeypatch):
    """Add suite files (name -> source) beside the real ones for this test."""
    added = []

    def add(files: dict):
        for name, text in files.items():
            (tmp_path / f"{name}.py").write_text(text)
            added.append(f"suites.{name}")

    monkeypatch.setattr(suites, "__path__", [*suites.__path__, str(tmp_path)])
    yield add
    for name in added:
        sys.modules.pop(name, None)


def test_a_suite_that_parses_arguments_or_raises_at_import_stops_nothing(extra_suites, capsys, tmp_path):
    extra_suites({"zz_argparse": PARSE_ARGS, "zz_raises": RAISES, "zz_good": GOOD.format(id="zgood")})
    cases, broken = registry.scan()
    assert {"c1", "c2", "zgood"} <= set(cases)
    errors = {b.file: b.error for b in broken}
    assert errors["suites/zz_argparse.py"].startswith("suites/zz_argparse.py:5 cannot be loaded: it exits at import "
                                                      "(sys.exit(2): ")
    assert "unrecognized arguments" in errors["suites/zz_argparse.py"]
    assert errors["suites/zz_raises.py"] == "suites/zz_raises.py:2 cannot be loaded: ValueError: no config here"
    assert main(["list"]) == 0
    out, err = capsys.readouterr()
    assert "c2: " in out and "suites/zz_argparse.py:5 cannot be loaded" in out and "usage:" not in out + err
    assert main(["plan", "--case", "c2", "--profile", "smoke", "--results-dir", str(tmp_path / "r")]) == 0
    assert "bench plan:" in capsys.readouterr().out


def _c2_records(directory):
    with store.RecordWriter(store.records_path(directory, "smoke")) as w:
        for seed in (0, 1):
            w.append({"case": "c2", "arm": "plain", "framework": "torch", "mode": "as_written", "seed": seed,
                      "profile": "smoke", "status": "ok", "diverged": False, "metrics": {"min_val_mae": 5.0}})
    return directory


@pytest.mark.parametrize("command", [["plan", "--case", "c2"], ["run", "--case", "c2"], ["report"]])
def test_a_copied_case_id_is_refused_by_every_command_naming_both_files(extra_suites, capsys, tmp_path, command):
    extra_suites({"zz_my_c2": GOOD.format(id="c2")})
    results = _c2_records(tmp_path / "r")
    assert main([*command, "--profile", "smoke", "--results-dir", str(results)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len([line for line in err.splitlines() if line.strip()]) == 1, err
    assert "case id 'c2' is defined in 2 files (suites/c2_bn_concrete.py, suites/zz_my_c2.py)" in err
    assert main(["list"]) == 0
    assert "c2: BROKEN: case id 'c2' is defined in 2 files" in capsys.readouterr().out
    assert json.loads(store.records_path(results, "smoke").read_text().splitlines()[0])["case"] == "c2"
