"""A regular (non-editable) install must carry every package of the engine: pyproject's
package list is checked against the package directories on disk."""
import tomllib
from pathlib import Path

from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[1]


def test_the_install_carries_every_package_under_bench_and_the_suites():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    include = config["packages"]["find"]["include"]
    installed = set(find_packages(str(ROOT), include=include))
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for top in ("bench", "suites")
               for p in (ROOT / top).rglob("__init__.py")}
    assert on_disk <= installed, sorted(on_disk - installed)
    assert {"bench.spec", "bench.backends.tf.layers", "bench.backends.torch.layers"} <= installed
