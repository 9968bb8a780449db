"""The frameworks-agreement table pairs whichever frameworks the records hold: each pair once, in
sorted order, with the columns the report has always shown for two frameworks."""
import numpy as np

from bench.analysis import evaluate as analysis
from bench.publish import tables
from bench.spec import registry

C1 = registry.get("c1")
COLUMNS = ["claim", "mode", "tf", "torch", "tf - torch", "paired", "margin", "p TOST", "p beyond margin",
           "p diff", "frameworks"]


def _records(frameworks, n_seeds=5):
    rng = np.random.default_rng(3)
    out = []
    for fw in frameworks:
        for seed in range(n_seeds):
            level = rng.normal(0.9, 0.01)
            for arm, shift in {"none": 0.0, "dropout": 0.003, "l2": 0.002, "both": -0.004}.items():
                out.append({"case": "c1", "arm": arm, "framework": fw, "mode": "as_written", "seed": seed,
                            "profile": "smoke", "status": "ok", "diverged": False,
                            "metrics": {"test_accuracy": level + shift + rng.normal(0, 0.002)}})
    return out


def test_two_frameworks_give_the_columns_of_old():
    rows = tables.agreement_rows(analysis.evaluate(_records(["torch", "tf"]), [C1]))
    assert rows and all(list(row) == COLUMNS for row in rows)
    assert [row["claim"] for row in rows] == sorted(c.id for c in C1.claims)


def test_every_pair_of_frameworks_once_in_sorted_order():
    rows = tables.agreement_rows(analysis.evaluate(_records(["c", "a", "b"]), [C1]))
    first = [row for row in rows if row["claim"] == rows[0]["claim"]]
    assert [[k for k in row if " - " in k] for row in first] == [["a - b"], ["a - c"], ["b - c"]]
    assert len(rows) == 3 * len(C1.claims)


def test_one_framework_gives_no_agreement_rows():
    assert tables.agreement_rows(analysis.evaluate(_records(["tf"]), [C1])) == []
