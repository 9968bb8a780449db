"""The claim-kind registry: every kind module found by convention provides the whole interface,
a new module dropped into ``bench/stats/kinds`` is a new kind end to end (spec, analysis, report
label), and the spec asks the registry only when it validates."""
import ast
import dataclasses
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

from bench.analysis import verdict
from bench.errors import SpecError
from bench.publish import tables
from bench.spec import Claim, registry
from bench.stats import kinds

FUNCTIONS = ("validate", "analyse", "decide", "robust_note", "power", "label")
BUILT_IN = ("two_arm", "interaction", "binary", "equivalence", "noninferiority", "trend")

FAKE = '''"""A kind made up by the registry test: two arms, analysed as two_arm, never decided."""
from bench.stats.kinds import common, two_arm

NAME = "fake_kind"
ORDER = 99
TEST = "fake test"
MDE_UNIT = ""
NEEDED_UNIT = ""
SIZED = True
MARGIN_SIDES = ()

validate = two_arm.validate
analyse = two_arm.analyse
robust_note = common.robust_note
power = common.paired_power
interval = common.paired_interval


def decide(result, p, alpha, label):
    return "inconclusive", "the fake kind decides nothing"


def label(result, fmt):
    return "fake test"
'''


@pytest.fixture
def fresh_registry():
    kinds._discover.cache_clear()
    yield
    kinds._discover.cache_clear()
    for name in [m for m in sys.modules if m.startswith("bench.stats.kinds.fake_")]:
        del sys.modules[name]


@pytest.fixture
def fake_kind(tmp_path, monkeypatch, fresh_registry):
    (tmp_path / "fake_kind.py").write_text(FAKE, encoding="utf-8")
    monkeypatch.setattr(kinds, "__path__", [*kinds.__path__, str(tmp_path)])
    return tmp_path


def test_the_built_in_kinds_in_their_listing_order():
    from bench.spec import CLAIM_KINDS

    assert kinds.names() == BUILT_IN
    assert CLAIM_KINDS == kinds.names() and list(kinds.tests()) == list(BUILT_IN)


@pytest.mark.parametrize("name", BUILT_IN)
def test_every_kind_module_provides_the_interface(name):
    module = kinds.get(name)
    assert module.NAME == name == module.__name__.rsplit(".", 1)[1]
    assert isinstance(module.TEST, str) and module.TEST
    assert isinstance(module.MDE_UNIT, str) and isinstance(module.NEEDED_UNIT, str)
    assert isinstance(module.SIZED, bool) and set(module.MARGIN_SIDES) <= {-1.0, 1.0}
    for fn in FUNCTIONS:
        assert callable(getattr(module, fn)), f"{name} lacks {fn}"
    assert len(inspect.signature(module.analyse).parameters) == 5
    assert inspect.getdoc(module), f"{name} has no opening docstring"


def test_an_unknown_kind_is_one_sentence():
    with pytest.raises(SpecError, match="unknown claim kind 'nope'"):
        kinds.get("nope")


def test_a_new_module_is_a_new_kind_end_to_end(fake_kind):
    assert kinds.names() == (*BUILT_IN, "fake_kind")
    assert kinds.tests()["fake_kind"] == "fake test"
    # The spec accepts it, and runs its validate.
    c1 = registry.get("c1")
    claim = Claim(id="f", statement="", metric="test_accuracy", contrast=(("both", 1.0), ("none", -1.0)),
                  direction="greater", kind="fake_kind")
    dataclasses.replace(c1, claims=(claim,)).validate()
    bad = dataclasses.replace(claim, contrast=(("both", 1.0), ("none", 1.0)))
    with pytest.raises(SpecError, match="fake_kind claim 'f' needs two arms with weights of opposite sign"):
        dataclasses.replace(c1, claims=(bad,)).validate()
    # The analysis uses its analyse, power and decide; the report its label.
    samples = {"both": {s: 0.9 + 0.01 * s for s in range(5)}, "none": {s: 0.8 + 0.012 * s for s in range(5)}}
    result = verdict.evaluate_claim(claim, samples, n_resamples=200)
    assert (result.kind, result.verdict, result.reason) == ("fake_kind", "inconclusive",
                                                            "the fake kind decides nothing")
    assert result.power is not None and result.n_pairs == 5
    assert tables.test_label(result) == "fake test"


def test_a_kind_module_lacking_a_function_is_refused(tmp_path, monkeypatch, fresh_registry):
    (tmp_path / "fake_partial.py").write_text('"""Half a kind."""\nNAME = "fake_partial"\nORDER = 98\n',
                                              encoding="utf-8")
    monkeypatch.setattr(kinds, "__path__", [*kinds.__path__, str(tmp_path)])
    with pytest.raises(SpecError, match="fake_partial lacks TEST, .*validate, analyse"):
        kinds.names()


def test_the_spec_margin_and_weight_checks_are_the_kinds():
    c1 = registry.get("c1")
    base = dict(statement="", metric="test_accuracy", contrast=(("both", 1.0), ("none", -1.0)), direction="greater")
    with pytest.raises(SpecError, match="equivalence claim 'e' needs a margin > 0"):
        dataclasses.replace(c1, claims=(Claim(id="e", kind="equivalence", **base),)).validate()
    with pytest.raises(SpecError, match="unknown kind 'nope'; choose from \\('two_arm', 'interaction'"):
        dataclasses.replace(c1, claims=(Claim(id="u", kind="nope", **base),)).validate()
    with pytest.raises(SpecError, match="trend claim 't' needs >= 3 arms"):
        dataclasses.replace(c1, claims=(Claim(id="t", kind="trend", **base),)).validate()


def test_importing_the_spec_does_not_import_the_statistics():
    code = ("import sys, bench.spec; from bench.spec import registry; "
            "assert 'bench.stats.kinds' not in sys.modules and 'scipy' not in sys.modules, 'imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[1])


def _imports(path: Path) -> set:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return found


@pytest.mark.parametrize("module", ["bench/publish/baseline.py", "bench/publish/check.py",
                                    "bench/publish/compare.py", "bench/run/adaptive.py",
                                    "bench/analysis/evaluate.py", "bench/analysis/verdict.py"])
def test_the_gate_compare_and_adaptive_run_do_not_import_the_markdown_report(module):
    root = Path(__file__).resolve().parents[1]
    assert "bench.publish.report" not in _imports(root / module)


def test_the_statistics_never_import_the_spec_or_a_renderer():
    root = Path(__file__).resolve().parents[1] / "bench" / "stats"
    for path in root.rglob("*.py"):
        bad = {m for m in _imports(path) if m.startswith(("bench.spec", "bench.publish", "bench.analysis"))}
        assert not bad, f"{path} imports {bad}"
