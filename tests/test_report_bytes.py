"""A report is a function of its records: the same records give the same REPORT.md, METHOD.md and
claims.csv byte for byte, wherever and whenever they are generated."""
import numpy as np

from bench.publish import report
from bench.records import identity, store
from bench.spec import registry

C1 = registry.get("c1")


def _records():
    out = []
    for fw in ("tf", "torch"):
        for i, arm in enumerate(C1.arms):
            for seed in range(6):
                acc = 0.95 + 0.003 * np.random.default_rng([seed, i, len(fw)]).normal() - 0.02 * (arm.name == "both")
                out.append({"case": "c1", "arm": arm.name, "framework": fw, "mode": "as_written", "seed": seed,
                            "profile": "smoke", "status": "ok", "diverged": False, "steps": 16,
                            "spec_hash": identity.spec_hash(C1, "smoke"), "timing": {"wall_s": 1.0},
                            "metrics": {"test_accuracy": float(acc), "test_loss": 0.1, "train_loss": 0.05},
                            "curve": {"step": [8, 16], "test_accuracy": [0.9, float(acc)]},
                            "group": {"size": 6, "path": "vectorized"},
                            "env": {"device": "cpu", "cpu": "Xeon [0123abcd]", "threads": 2,
                                    "commit": "a" * 40, "dirty": False}})
    return out


def _generate(directory):
    with store.RecordWriter(store.records_path(directory, "smoke")) as w:
        for r in _records():
            w.append(r)
    return report.write(directory, "smoke").parent


def test_the_same_records_give_the_same_report_in_another_directory(tmp_path):
    first, second = _generate(tmp_path / "one" / "runs"), _generate(tmp_path / "elsewhere" / "results")
    for name in ("REPORT.md", "METHOD.md", "claims.csv"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    text = (first / "REPORT.md").read_text()
    assert str(tmp_path) not in text and "records.jsonl" in text
