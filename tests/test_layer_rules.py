"""A new layer type is one class in ``bench.spec.layers`` plus one entry in each backend's
layers module: what the engine needs to know about a layer outside the backends (its
input, output shape, parameters and initial values) comes from the layer class itself.

These tests plant a layer type the engine has never seen and walk it through the
framework-free parts (shapes, initial weights, the group planner's parameter count),
and check that no module outside the spec and the backends names a layer class.
"""
import ast
import math
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Optional

import numpy as np
import pytest

from bench.errors import SpecError
from bench.run import grouping
from bench.run.seeds import initial_params
from bench.spec import Arm, Conv2D, Dense, Dropout, Flatten, layer_shapes, param_layers
from bench.spec.layers import LAYER_TYPES, LayerRules

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Gain(LayerRules):
    """A planted layer: a learned per-feature gain that also doubles its width."""
    needs: ClassVar[Optional[str]] = "flat"
    owns_params: ClassVar[bool] = True

    def validate(self) -> None:
        pass

    def output_shape(self, shape, where):
        return (2 * shape[-1],)

    def param_shapes(self, shape):
        return {"gain": (shape[-1],)}

    def initial(self, shape, scheme, rng):
        return {"gain": np.ones(shape[-1], np.float32)}


def test_a_planted_layer_type_flows_through_shapes_weights_and_the_planner():
    layers = (Dense(4), Gain(), Dense(1))
    assert layer_shapes(layers, (3,)) == [(4,), (8,), (1,)]
    assert param_layers(layers) == [0, 1, 2]
    params = initial_params(layers, (3,), seed=5, scheme="glorot_uniform")
    assert [sorted(p) for p in params] == [["bias", "kernel"], ["gain"], ["bias", "kernel"]]
    assert params[2]["kernel"].shape == (8, 1)
    # the layer after it is still the second Dense of its stream: the same draw as without Gain
    plain = initial_params((Dense(4), Dense(1)), (3,), seed=5, scheme="glorot_uniform")
    np.testing.assert_array_equal(params[0]["kernel"], plain[0]["kernel"])
    rng = np.random.default_rng([5, 1, 1])
    limit = math.sqrt(6.0 / (8 + 1))
    np.testing.assert_array_equal(params[2]["kernel"], rng.uniform(-limit, limit, (8, 1)).astype(np.float32))
    assert grouping.parameter_count(layers, (3,)) == 3 * 4 + 4 + 4 + 8 * 1 + 1


def test_a_layer_states_what_input_it_needs():
    with pytest.raises(SpecError, match="needs a flat input"):
        layer_shapes((Conv2D(2, 3), Gain(), Dense(1)), (8, 8))
    with pytest.raises(SpecError, match="feature map"):
        layer_shapes((Dense(4), Flatten(), Dense(1)), (8, 8))


def test_an_object_that_is_no_layer_type_is_one_sentence():
    with pytest.raises(SpecError, match=r"layer 1: 'dropout' is not a layer type; choose from Dense, Dropout"):
        Arm("a", (Dense(4), "dropout", Dense(1))).validate()
    Arm("a", (Dense(4), Dropout(0.5), Dense(1))).validate()


def test_every_layer_type_states_its_rules():
    for kind in LAYER_TYPES:
        assert issubclass(kind, LayerRules), kind
        assert kind.needs in (None, "map", "flat", "sequence"), kind
        assert (kind.init_stream is None) or kind.owns_params, kind


def _outside_spec_and_backends():
    for path in sorted((ROOT / "bench").rglob("*.py")):
        rel = path.relative_to(ROOT / "bench").parts
        if rel[0] not in ("spec", "backends"):
            yield path


def test_no_module_outside_the_spec_and_the_backends_names_a_layer_class():
    names = {kind.__name__ for kind in LAYER_TYPES}
    found = []
    for path in _outside_spec_and_backends():
        for node in ast.walk(ast.parse(path.read_text())):
            used = (node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute)
                    else None)
            if used in names:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {used}")
            if isinstance(node, ast.ImportFrom):
                found += [f"{path.relative_to(ROOT)}:{node.lineno} imports {a.name}" for a in node.names
                          if a.name in names]
    assert not found, found
