"""A new layer type touches the spec and the torch backend's layers package only: the
trainers (``single.py``, ``group.py``) name no spec layer class and test no torch
layer class, and every spec layer class has a kit in ``KITS``."""
import ast
import typing
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.errors import SpecError
from bench.spec import layers as spec_layers

torch = pytest.importorskip("torch")
from bench.backends.torch import layers as torch_layers  # noqa: E402

BACKEND = Path(__file__).resolve().parents[1] / "bench" / "backends" / "torch"
TRAINERS = [BACKEND / "single.py", BACKEND / "group.py"]
SPEC_CLASSES = typing.get_args(spec_layers.Layer)


def _names(path: Path) -> set[str]:
    """Every identifier the module's code uses (names, attributes, imported names); not its prose."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Name):
            out.add(node.id)
        elif isinstance(node, ast.Attribute):
            out.add(node.attr)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            out |= {alias.asname or alias.name.rpartition(".")[2] for alias in node.names}
    return out


def _isinstance_classes(path: Path) -> set[str]:
    """The class names in the second argument of every ``isinstance`` call of the module."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "isinstance" and len(node.args) == 2:
            for sub in ast.walk(node.args[1]):
                if isinstance(sub, (ast.Name, ast.Attribute)):
                    out.add(sub.id if isinstance(sub, ast.Name) else sub.attr)
    return out


def test_the_spec_knows_its_layer_classes():
    assert {cls.__name__ for cls in SPEC_CLASSES} >= {"Dense", "Conv2D", "BatchNorm", "Dropout", "DropBlock"}


@pytest.mark.parametrize("path", TRAINERS, ids=lambda p: p.name)
def test_the_trainers_name_no_spec_layer_class(path):
    named = _names(path) & {cls.__name__ for cls in SPEC_CLASSES}
    assert not named, f"{path.name} names spec layer classes {sorted(named)}; their knowledge belongs in a kit"


@pytest.mark.parametrize("path", TRAINERS, ids=lambda p: p.name)
def test_the_trainers_test_no_torch_layer_class(path):
    modules = {name for name in dir(torch.nn) if isinstance(getattr(torch.nn, name), type)}
    tested = _isinstance_classes(path) & modules
    assert not tested, f"{path.name} dispatches on torch layer classes {sorted(tested)}"


def test_the_rules_see_a_spec_class_and_an_isinstance(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text('"""Dense in prose is fine."""\nfrom bench.spec import Dense\n\n'
                   'def f(m, nn):\n    return isinstance(m, (Dense, nn.Linear))\n')
    assert "Dense" in _names(bad) and "Linear" in _isinstance_classes(bad)
    prose = tmp_path / "prose.py"
    prose.write_text('"""Dense, BatchNorm."""\n')
    assert not _names(prose) & {"Dense", "BatchNorm"}


@pytest.mark.parametrize("cls", SPEC_CLASSES, ids=lambda c: c.__name__)
def test_every_spec_layer_class_has_a_kit(cls):
    kits = [kit for kind, kit in torch_layers.KITS.items() if issubclass(cls, kind)]
    assert len(kits) == 1 and isinstance(kits[0], torch_layers.Kit)


def test_an_unknown_layer_is_one_spec_error():
    @dataclass(frozen=True)
    class Lstm:
        units: int = 4

        def validate(self) -> None:
            pass

    with pytest.raises(SpecError, match=r"^layer .*Lstm.* is not supported by the torch backend\.$"):
        torch_layers.kit_for(Lstm())
    with pytest.raises(SpecError, match="is not supported by the torch backend"):
        torch_layers.build([spec_layers.Dense(3), Lstm()], (5,), {})
