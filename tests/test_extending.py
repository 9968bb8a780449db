"""A case planted the way ``docs/extending.md`` says, in a copy of the repository: its suite file,
then its ``READINGS`` entry. The registry-driven checks then take it with no other change:
``bench list``, ``bench plan`` and the claim-statement test. Nothing trains."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "extending.md"

SUITE = '''\
"""C9: a case planted by tests/test_extending.py, as docs/extending.md says to add one."""
from bench.spec import Arm, Case, Claim, Data, Dense, Dropout, Loss, Metric, Optimizer, Profile

CASES = [Case(
    id="c9", title="Planted: dropout on a small MLP", source="tests/test_extending.py",
    input_shape=(784,), data=Data("mnist", batch_size=128, epochs=1, scale=1 / 255),
    loss=Loss("softmax_cross_entropy"), optimizer=Optimizer("adam", lr=0.001),
    arms=(Arm("none", (Dense(16, "relu"), Dense(10))),
          Arm("dropout", (Dense(16, "relu"), Dropout(0.5), Dense(10)))),
    metrics=(Metric("test_accuracy", higher_is_better=True),),
    claims=(Claim("c9a", "Dropout beats no dropout on a small MLP.", "test_accuracy",
                  (("dropout", 1.0), ("none", -1.0)), "greater"),),
    profiles={"smoke": Profile(seeds=2, epochs=1, train_subsample=2000, test_subsample=1000)},
)]
'''
READING = '''    "c9a": ("Dropout beats no dropout on a small MLP.", {"dropout": HIGHER, "none": SAME}),\n'''


def steps(section: str) -> list[str]:
    """The files a section of docs/extending.md names as its numbered steps, in order."""
    text = DOC.read_text(encoding="utf-8")
    body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\d+\. \*\*`([^`]+)`\*\*", body, re.M)


def _copy(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    ignore = shutil.ignore_patterns("__pycache__")
    for folder in ("bench", "suites"):
        shutil.copytree(ROOT / folder, repo / folder, ignore=ignore)
    (repo / "tests").mkdir()
    for name in ("conftest.py", "test_claim_statements.py"):
        shutil.copy(ROOT / "tests" / name, repo / "tests" / name)
    shutil.copy(ROOT / "pyproject.toml", repo / "pyproject.toml")
    return repo


def _run(repo: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(repo)}
    return subprocess.run([sys.executable, *args], cwd=repo, env=env, capture_output=True, text=True, timeout=600)


def _claims_test(repo: Path) -> subprocess.CompletedProcess:
    return _run(repo, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_claim_statements.py",
                "-k", "c9 or every_reading")


def test_the_doc_names_the_steps_this_test_takes():
    assert steps("A case") == ["suites/<id>_<topic>.py", "tests/test_claim_statements.py",
                               "results/baselines/smoke.json"]


def test_a_case_planted_as_the_doc_says_lists_plans_and_passes_its_claim_test(tmp_path):
    repo = _copy(tmp_path)
    # Step 1: the suite file, and the registry finds it.
    (repo / "suites" / "c9_planted.py").write_text(SUITE, encoding="utf-8")
    listed = _run(repo, "-m", "bench", "list")
    assert listed.returncode == 0, listed.stderr
    assert re.search(r"^c9: ", listed.stdout, re.M) and "BROKEN" not in listed.stdout, listed.stdout
    plan = _run(repo, "-m", "bench", "plan", "--profile", "smoke", "--case", "c9")
    assert plan.returncode == 0, plan.stderr
    assert "c9: 2 arms x 2 seeds" in plan.stdout, plan.stdout

    # Without step 2 the claim-statement test asks for the reading.
    missing = _claims_test(repo)
    assert missing.returncode == 1 and "claim c9a has no reading" in missing.stdout, missing.stdout[-2000:]

    # Step 2: the READINGS entry.
    path = repo / "tests" / "test_claim_statements.py"
    text = path.read_text(encoding="utf-8")
    assert text.count("\n}\n\nSEEDS") == 1
    path.write_text(text.replace("\n}\n\nSEEDS", "\n" + READING.rstrip("\n") + "\n}\n\nSEEDS"), encoding="utf-8")
    passed = _claims_test(repo)
    assert passed.returncode == 0, passed.stdout[-2000:]
    assert re.search(r"\b3 passed\b", passed.stdout), passed.stdout[-500:]

