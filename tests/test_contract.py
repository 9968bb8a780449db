"""Every registered backend against the contract of ``bench.backends.contract``: the package,
both trainer classes (names and signatures), every kit of its ``KITS`` table against the
``LayerKit`` protocol and its own ``layers.kit.Kit``, and the kits' calls on the trainer they
are handed: only what the backend's ``Host`` protocol names, never a private member."""
from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

from bench import backends
from bench.backends import contract
from bench.run.seeds import initial_params, initializer_for
from bench.spec import Job, registry


def _params(function) -> list[tuple[str, object]]:
    """A callable's parameters as (name, kind), ``self`` left out."""
    return [(p.name, p.kind) for p in inspect.signature(function).parameters.values() if p.name != "self"]


def _names(function) -> str:
    return ", ".join(name for name, _ in _params(function))


def _members(protocol) -> list[str]:
    """The protocol's methods and attributes, its own and its bases' (``typing`` internals aside)."""
    names = set()
    for base in protocol.__mro__:
        if base in (object, contract.Protocol) or base.__module__ == "typing":
            continue
        names |= {n for n in vars(base) if not n.startswith("_")}
        init = vars(base).get("__init__")
        if init is not None and init.__qualname__.startswith(base.__name__ + "."):   # its own, not typing's
            names.add("__init__")
        names |= set(getattr(base, "__annotations__", {}))
    return sorted(names)


def mismatches(protocol, target) -> list[str]:
    """Where ``target`` (a class, instance or module) lacks a method of ``protocol`` or takes
    other parameters than it does."""
    out = []
    for name in _members(protocol):
        want = getattr(protocol, name, None)
        if not callable(want) or name in getattr(protocol, "__annotations__", {}):
            continue
        have = getattr(target, name, None)
        if have is None:
            out.append(f"no {name}")
        elif _params(have) != _params(want):
            out.append(f"{name}({_names(have)}) is not {name}({_names(want)})")
    return out


def _loaded(framework: str):
    pytest.importorskip(backends.package(framework))
    return backends.load(framework)


def _layers(framework: str):
    return importlib.import_module(f"{backends.BACKENDS[framework]}.layers")


def _group(framework: str):
    backend = _loaded(framework)
    case = registry.get("c1")
    job = Job(case, case.arm("both"), framework, "as_written", "smoke", case.budget("smoke"))
    scheme = initializer_for(framework, job.mode)
    return backend.GroupTrainer(job, [initial_params(job.arm.layers, case.input_shape, s, scheme) for s in (0, 1)],
                                [0, 1])


# --- the rules -------------------------------------------------------------------


@pytest.mark.parametrize("framework", backends.names())
def test_the_backend_package_is_a_backend(framework):
    backend = _loaded(framework)
    assert isinstance(backend, contract.Backend)
    assert mismatches(contract.Backend, backend) == []


@pytest.mark.parametrize("framework", backends.names())
def test_both_trainers_take_the_contract_s_calls(framework):
    backend = _loaded(framework)
    assert mismatches(contract.Trainer, backend.Trainer) == []
    assert mismatches(contract.GroupTrainer, backend.GroupTrainer) == []
    host = importlib.import_module(f"{backends.BACKENDS[framework]}.layers.kit").Host
    assert contract.KitHost in host.__mro__
    assert mismatches(host, backend.GroupTrainer) == []


@pytest.mark.parametrize("framework", backends.names())
def test_a_group_trainer_is_what_its_kits_are_handed(framework):
    group = _group(framework)
    host = importlib.import_module(f"{backends.BACKENDS[framework]}.layers.kit").Host
    assert isinstance(group, contract.GroupTrainer) and isinstance(group, host)
    assert group.S == 2 and isinstance(group.defaults, dict)


@pytest.mark.parametrize("framework", backends.names())
def test_every_kit_is_a_layer_kit_with_its_backend_s_signatures(framework):
    _loaded(framework)
    layers = _layers(framework)
    assert isinstance(layers.KITS, dict) and layers.KITS
    base = layers.Kit()
    own = [n for n, v in inspect.getmembers(base, callable) if not n.startswith("_")]
    assert set(_members(contract.LayerKit)) <= set(own)
    for kind, kit in layers.KITS.items():
        assert isinstance(kit, layers.Kit) and isinstance(kit, contract.LayerKit), kind.__name__
        wrong = [f"{name}({_names(getattr(kit, name))})" for name in own
                 if _params(getattr(kit, name)) != _params(getattr(base, name))]
        assert wrong == [], f"{type(kit).__name__}: {wrong}"


def trainer_reaches(path: Path, allowed: set[str]) -> list[str]:
    """Each ``trainer.<name>`` in a kit module that the backend's ``Host`` does not name."""
    tree = ast.parse(path.read_text(), str(path))
    return [f"{path.name}:{node.lineno} trainer.{node.attr}" for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "trainer"
            and node.attr not in allowed]


@pytest.mark.parametrize("framework", backends.names())
def test_kits_call_only_what_the_host_protocol_names(framework):
    _loaded(framework)
    host = importlib.import_module(f"{backends.BACKENDS[framework]}.layers.kit").Host
    folder = Path(_layers(framework).__file__).parent
    reaches = [r for path in sorted(folder.glob("*.py")) for r in trainer_reaches(path, set(_members(host)))]
    assert reaches == []


# --- the checks can fail --------------------------------------------------------------


def test_a_missing_call_or_another_signature_is_named():
    class Partial:
        def __init__(self, job, params, seed):
            pass

        def set_data(self, x):
            pass

    found = mismatches(contract.Trainer, Partial)
    assert "set_data(x) is not set_data(x, y)" in found and "no fit_epoch" in found
    assert "no evaluate" in found and not any(f.startswith("__init__") for f in found)


def test_a_private_reach_into_the_trainer_is_named(tmp_path):
    path = tmp_path / "kit.py"
    path.write_text("def f(trainer, x):\n    return trainer.S * trainer._keep_mask(x) + trainer.keep_mask(x)\n")
    assert trainer_reaches(path, {"S", "keep_mask"}) == ["kit.py:2 trainer._keep_mask"]
