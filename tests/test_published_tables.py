"""What the repository publishes follows from the records committed beside it: every
``results/<profile>/claims.csv`` is what the analysis gives from that directory's records
today, with no stale record among them, and README's verdict matrix is what those claims
tables say. A claims table, a report or a README table typed by hand, or left behind by a
change to the statistics, fails here; regenerate with ``bench report --profile P --results-dir
results --html`` and ``bench verdicts --write README.md``."""
import math
from pathlib import Path

import pandas as pd
import pytest

from bench.analysis.evaluate import evaluate
from bench.publish import matrix, report
from bench.publish.tables import claim_csv_rows
from bench.records import identity
from bench.spec import registry

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results"
PROFILES = sorted(p.parent.name for p in RESULTS.glob("*/claims.csv") if (p.parent / "records.jsonl").is_file())
KEY = ["case", "claim", "framework", "mode"]


def test_there_are_published_claims_tables():
    assert {"full", "quick"} <= set(PROFILES)


@pytest.mark.parametrize("profile", PROFILES)
def test_a_claims_table_follows_from_the_records_beside_it(profile):
    loaded = identity.load(RESULTS, profile)
    assert not loaded.stale, loaded.note()
    cases = [c for c in registry.select(None) if any(r["case"] == c.id for r in loaded.records)]
    evaluated = report.adaptive_verdicts(evaluate(loaded.records, cases), RESULTS / profile)
    fresh = pd.DataFrame(claim_csv_rows(evaluated)).set_index(KEY).sort_index()
    committed = pd.read_csv(RESULTS / profile / "claims.csv").set_index(KEY).sort_index()
    assert list(fresh.index) == list(committed.index)
    assert (fresh["verdict"] == committed["verdict"]).all(), \
        fresh.loc[fresh["verdict"] != committed["verdict"], "verdict"]
    for column in ("estimate", "ci_low", "ci_high", "p_holm"):
        for key, a, b in zip(fresh.index, fresh[column], committed[column]):
            assert (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), \
                (profile, key, column, a, b)


def test_readme_verdict_matrix_is_what_the_claims_tables_say():
    assert matrix.current(ROOT / "README.md", RESULTS), \
        "README's verdicts block is not the current matrix; run `bench verdicts --write README.md`."


def test_the_matrix_is_one_row_per_claim_with_a_column_per_profile_and_framework(tmp_path):
    for profile, verdicts in (("quick", ("contradicted", "reproduced")), ("full", ("smaller than claimed", "odd"))):
        (tmp_path / profile).mkdir()
        pd.DataFrame([{"case": "c5h", "claim": "c5h", "framework": fw, "mode": "as_written", "verdict": v}
                      for fw, v in zip(("tf", "torch"), verdicts)]).to_csv(tmp_path / profile / "claims.csv", index=False)
    text = matrix.markdown(tmp_path)
    lines = text.splitlines()
    assert [c.strip() for c in lines[0].strip("|").split("|")] == [
        "claim", "statement", "full tf", "full torch", "quick tf", "quick torch"]   # fullest profile first
    rows = [line for line in lines if line.startswith("| c5h")]
    assert len(rows) == 1 and "makes training run" in rows[0]
    assert [c.strip() for c in rows[0].strip("|").split("|")][2:] == ["🔽", "odd", "❌", "✅"]   # a new word as itself
    assert "- `quick`: 1 claim, 2 verdicts (tf 1, torch 1): 1 reproduced, 1 contradicted." in lines
    assert "- `full`: 1 claim, 2 verdicts (tf 1, torch 1): 1 smaller than claimed, 1 odd." in lines


def test_every_matrix_row_names_one_claim_of_one_case():
    """Two cases may share claim ids (C4 on Fashion-MNIST and on MNIST): each row's label
    must still say which case it is."""
    from bench.publish import matrix

    labels = [line.split("|")[1].strip() for line in matrix.markdown(RESULTS).splitlines()
              if line.startswith("|") and not line.startswith("|--")][1:]
    assert labels and len(labels) == len(set(labels)), [x for x in labels if labels.count(x) > 1]


def test_the_pairs_table_in_the_results_page_follows_from_the_claims_tables():
    """docs/results.md shows each paper claim beside the post's: the table must be what
    ``bench verdicts --pairs`` gives from the committed claims tables, not typed."""
    from bench.publish import pairs

    page = (ROOT / "docs" / "results.md").read_text(encoding="utf-8")
    block = page.split("<!-- pairs:", 1)[1].split("-->", 1)[1].split("<!-- /pairs -->", 1)[0]
    assert block.strip() == pairs.markdown(RESULTS).strip()
