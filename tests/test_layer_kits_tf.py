"""A new layer type touches the spec and the tf backend's layers package only: the
trainers (``single.py``, ``group.py``) name no spec layer class and test no Keras
layer class, and every spec layer class has a kit in ``KITS``."""
from __future__ import annotations

import ast
import typing
from pathlib import Path

import pytest

from bench.spec import layers as spec_layers

BACKEND = Path(__file__).resolve().parents[1] / "bench" / "backends" / "tf"
TRAINERS = ("single.py", "group.py")
SPEC_LAYERS = typing.get_args(spec_layers.Layer)


def _docstrings(tree) -> set[int]:
    """ids of the docstring nodes: prose may mention a layer type."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def _layer_names_in(source: str, names: set[str]) -> list[str]:
    """Where the code names one of ``names``: an identifier, an attribute, an imported
    name, or a string equal to one (``type(layer).__name__ == "Dense"``); and every
    ``isinstance`` against a Keras class."""
    tree = ast.parse(source)
    docs = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in names:
            found.append(f"line {node.lineno}: {node.id}")
        elif isinstance(node, ast.Attribute) and node.attr in names:
            found.append(f"line {node.lineno}: .{node.attr}")
        elif isinstance(node, ast.alias) and (node.asname or node.name).split(".")[-1] in names:
            found.append(f"line {node.lineno}: import {node.name}")
        elif isinstance(node, ast.Constant) and id(node) not in docs and node.value in names:
            found.append(f"line {node.lineno}: {node.value!r}")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "isinstance"
              and len(node.args) == 2 and "keras" in ast.unparse(node.args[1])):
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


@pytest.mark.parametrize("module", TRAINERS)
def test_the_trainers_name_no_spec_layer_class(module):
    names = {kind.__name__ for kind in SPEC_LAYERS}
    assert _layer_names_in((BACKEND / module).read_text(), names) == []


def test_the_finder_sees_names_imports_strings_and_keras_isinstance():
    source = ('"""A Dense layer."""\nfrom bench.spec import Dense\nimport bench.spec.Conv2D\n'
              'a = spec.Dropout\nb = type(x).__name__ == "Flatten"\nc = isinstance(l, keras.layers.Layer)\n')
    found = _layer_names_in(source, {"Dense", "Conv2D", "Dropout", "Flatten"})
    assert sorted(f.split(":")[0] for f in found) == ["line 2", "line 3", "line 4", "line 5", "line 6"]


def test_every_spec_layer_class_has_a_kit():
    pytest.importorskip("tensorflow")
    from bench.backends.tf.layers import KITS
    assert SPEC_LAYERS and [kind.__name__ for kind in SPEC_LAYERS if kind not in KITS] == []


def test_an_unknown_layer_is_one_sentence_spec_error():
    pytest.importorskip("tensorflow")
    from bench.backends.tf.layers import keras_layer, kit_for
    from bench.errors import SpecError

    class Lstm:
        pass
    for call in (lambda: kit_for(Lstm()), lambda: keras_layer(Lstm(), 0, 0, {})):
        with pytest.raises(SpecError, match=r"^layer .*Lstm.* is not supported by the tf backend\.$"):
            call()
