"""The neutral engine never loads a framework at import time."""
import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", ["bench", "bench.spec", "bench.stats.significance", "bench.analysis.verdict", "bench.run.runner",
                                    "bench.publish.report", "bench.spec.registry", "bench.data", "bench.cli"])
def test_import_loads_no_framework(module):
    code = (f"import sys, {module}; "
            "bad = [m for m in ('tensorflow', 'torch', 'keras') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, f"{module} imported {proc.stdout.strip()} {proc.stderr[-500:]}"
