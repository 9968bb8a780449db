"""A regular (non-editable) install must carry every package of the engine: pyproject's
package list is checked against the package directories on disk."""
import sys
from pathlib import Path

from setuptools import find_packages

if sys.version_info >= (3, 11):
    import tomllib
else:   # the project supports 3.10, where the TOML reader is the tomli package
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_the_install_carries_every_package_under_bench_and_the_suites():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    include = config["packages"]["find"]["include"]
    installed = set(find_packages(str(ROOT), include=include))
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for top in ("bench", "suites")
               for p in (ROOT / top).rglob("__init__.py")}
    assert on_disk <= installed, sorted(on_disk - installed)
    assert {"bench.spec", "bench.backends.tf.layers", "bench.backends.torch.layers"} <= installed
