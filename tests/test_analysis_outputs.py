"""What an analyst reads: strict-JSON records, bench.load_records, claims.csv,
the scoreboard at the top of REPORT.md, and one PNG per case and plot kind."""
import json
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest

import bench
from bench.records import profiles
from bench.publish import report
from bench.publish.tables import fmt
from bench.records import store
from bench.errors import StoreError
from conftest import copy_published

ROOT = Path(__file__).resolve().parents[1]


def _rec(seed, arm="none", mae=0.5, curve=None, diverged=False):
    return {"case": "c3", "arm": arm, "framework": "tf", "mode": "as_written", "seed": seed, "profile": "smoke",
            "status": "ok", "diverged": diverged, "steps": 10, "timing": {"wall_s": 1.5, "train_s": 1.0},
            "metrics": {"min_val_mae": mae, "diverged": float(diverged)},
            "curve": curve or {"step": [5, 10], "train_loss": [1.0, float("inf")]}}


def test_records_are_strict_json_and_keep_which_value_was_not_finite(tmp_path):
    path = store.records_path(tmp_path, "smoke")
    with store.RecordWriter(path) as w:
        w.append(_rec(0, mae=float("nan"), diverged=True))
        w.append(_rec(1, mae=-float("inf")))
        w.append(_rec(2, mae=0.5))
    lines = path.read_text().splitlines()
    raw = [json.loads(line, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
           for line in lines]
    assert raw[0]["metrics"]["min_val_mae"] is None and raw[0]["curve"]["train_loss"] == [1.0, None]
    assert raw[0]["nonfinite"] == {"metrics.min_val_mae": "nan", "curve.train_loss.1": "inf"}
    back = {r["seed"]: r for r in store.load(tmp_path, "smoke")}
    assert math.isnan(back[0]["metrics"]["min_val_mae"]) and back[1]["metrics"]["min_val_mae"] == -math.inf
    assert back[0]["curve"]["train_loss"] == [1.0, math.inf] and "nonfinite" not in back[0]
    # json_normalize, as the analyst did, now gives a float column
    flat = pd.json_normalize(raw)
    assert flat["metrics.min_val_mae"].dtype == float and flat["metrics.min_val_mae"].isna().sum() == 2
    assert flat["metrics.min_val_mae"].mean() == 0.5


def test_records_of_earlier_versions_with_nan_strings_still_read(tmp_path):
    path = store.records_path(tmp_path, "smoke")
    path.parent.mkdir(parents=True)
    old = {**_rec(0), "schema": store.SCHEMA, "metrics": {"min_val_mae": "nan"},
           "curve": {"step": [5], "train_loss": ["inf"]}}
    path.write_text(json.dumps(old) + "\n")
    (r,) = store.load(tmp_path, "smoke")
    assert math.isnan(r["metrics"]["min_val_mae"]) and r["curve"]["train_loss"] == [math.inf]


def test_load_records_is_one_row_per_seed_run_with_float_metrics(tmp_path):
    with store.RecordWriter(store.records_path(tmp_path, "smoke")) as w:
        for seed in range(3):
            w.append(_rec(seed, mae=float("nan") if seed == 2 else 0.5 + seed, diverged=seed == 2))
        w.append(_rec(0, mae=0.25))   # a rerun of seed 0: the last record wins
    frame = bench.load_records(tmp_path)
    assert len(frame) == 3 and list(frame.seed) == [0, 1, 2]
    assert frame["min_val_mae"].dtype == float and frame["min_val_mae"].mean() == pytest.approx(0.875)
    assert frame["diverged"].tolist() == [False, False, True] and frame["wall_s"].dtype == float
    assert bench.load_records(tmp_path, "smoke").equals(frame)
    assert bench.load_records(tmp_path / "smoke").equals(frame)


def test_profile_is_inferred_only_when_the_directory_holds_one(tmp_path):
    with pytest.raises(StoreError, match="no records"):
        profiles.infer(tmp_path, None)
    with store.RecordWriter(store.records_path(tmp_path, "smoke")) as w:
        w.append(_rec(0))
    assert profiles.infer(tmp_path, None) == "smoke" and profiles.infer(tmp_path, "full") == "full"
    with store.RecordWriter(store.records_path(tmp_path, "quick")) as w:
        w.append(_rec(0))
    with pytest.raises(StoreError, match="several profiles"):
        profiles.infer(tmp_path, None)


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    results = tmp_path_factory.mktemp("results")
    copy_published("quick", results)
    path, terminal = report.publish(results, "quick")
    return path, terminal


def test_report_opens_with_the_scoreboard_and_links_down(published):
    path, terminal = published
    text = path.read_text()
    claims = pd.read_csv(path.parent / "claims.csv")
    head = text.split("## Scoreboard", 1)
    assert len(head) == 2 and "How to read this" not in head[0] + head[1].split('<a id="case-c4">')[0]
    section = head[1].split("<a id=")[0]
    # it opens with the verdict counts, then one row per claim with a column per framework (x mode)
    first = section.strip().splitlines()[0]
    n_claims = len(claims[["case", "claim"]].drop_duplicates())
    assert first.startswith(f"**{n_claims} claims, {len(claims)} verdicts (tf ")
    for verdict, n in claims.verdict.value_counts().items():
        assert f"{n} {verdict}" in first, (verdict, first)
    board = [line for line in section.splitlines() if line.startswith("| [")]
    header = [c.strip() for c in section.split("| claim", 1)[1].splitlines()[0].split("|")]
    assert len(board) == n_claims and {"tf", "torch"} <= set(header)
    # every row links down to its own case's section, which exists, and shows each framework's
    # verdict beside the estimate that verdict is decided by
    per_claim = claims.drop_duplicates(["case", "claim"])
    for line, (case, claim) in zip(board, zip(per_claim.case, per_claim.claim)):
        assert line.startswith(f"| [{claim}](#case-{case})") and f'<a id="case-{case}"></a>' in text, (line, case)
        for row in claims[(claims.case == case) & (claims.claim == claim) & (claims["mode"] == "as_written")].itertuples():
            assert f"{row.verdict}: {fmt(row.estimate)} [" in line, (line, row.framework)
    method = (path.parent / "METHOD.md").read_text()
    assert "How to read this" in method and "(METHOD.md)" in text
    assert "`docs/method.md`" in method and (ROOT / "docs" / "method.md").is_file()   # it points to the whole method
    ids = tuple(claims.claim.unique())
    assert len([line for line in terminal.splitlines() if line.startswith(ids)]) == len(claims)


def test_claims_csv_has_numeric_columns_beside_the_verdict(published):
    claims = pd.read_csv(published[0].parent / "claims.csv")
    for col in ("estimate", "ci_low", "ci_high", "p", "p_holm", "q_bh", "effect", "mde", "n"):
        assert pd.api.types.is_numeric_dtype(claims[col]), col
    assert (claims.ci_low <= claims.estimate).all() and (claims.estimate <= claims.ci_high).all()
    assert set(claims.verdict) <= {"reproduced", "contradicted", "inconclusive", "smaller than claimed"}


def test_one_png_per_case_and_kind(published):
    out = published[0].parent
    for kind in ("forest", "seeds", "curves"):
        png = out / f"c4_{kind}.png"
        assert png.read_bytes()[:4] == b"\x89PNG", kind
        assert f"({png.name})" in published[0].read_text()


def test_plots_keep_diverged_arms_visible(monkeypatch, tmp_path):
    from bench.publish import plots
    from bench.spec import registry

    figures = {}
    monkeypatch.setattr(plots, "_save", lambda fig, out, name: figures.setdefault(name, fig) and Path(out) / name)
    c2 = registry.get("c2")
    records = [r for r in store.load(ROOT / "results", "full") if r["case"] == "c2"]
    assert any(r["diverged"] for r in records if r["arm"] == "plain")
    plots.strips(records, c2, tmp_path)
    plots.curves(records, c2, tmp_path)
    titles = [ax.get_title() for ax in figures["c2_seeds.png"].axes]
    assert any("diverged" in t for t in titles)   # the crosses' count in each panel title
    notes = [t.get_text() for ax in figures["c2_curves.png"].axes for t in ax.texts]
    assert any("no finite values: plain" in n for n in notes)
    labels = [ax.get_ylabel() for ax in figures["c2_curves.png"].axes]
    assert "training loss" in labels and any("min_val_mae" in label for label in labels)


def test_forest_marks_the_smallest_effect_that_matters(monkeypatch, tmp_path):
    from bench.analysis.evaluate import evaluate
    from bench.publish import plots
    from bench.spec import registry

    figures = {}
    monkeypatch.setattr(plots, "_save", lambda fig, out, name: figures.setdefault(name, fig) and Path(out) / name)
    c5c = registry.get("c5c")
    records = [r for r in store.load(ROOT / "results", "quick") if r["case"] == "c5c"]
    plots.forest(evaluate(records, [c5c]), c5c, tmp_path)
    axes = figures["c5c_forest.png"].axes
    ratio = [ax for ax in axes if ax.get_title(loc="left").startswith("c5c2")][0]   # declares min_effect 0.339
    xs = [line.get_xdata()[0] for line in ratio.get_lines() if line.get_linestyle() == ":"]
    assert xs == [pytest.approx(c5c.claims[1].min_effect)]
    assert ratio.get_xlim()[1] > c5c.claims[1].min_effect   # drawn inside the panel, beside CIs far below it
    assert any("smallest effect that matters" in t.get_text() for t in ratio.texts)


def test_a_profile_published_with_fewer_seeds_than_it_defines_says_so(published):
    from bench.spec import registry

    assert "**Partial:**" not in published[0].read_text()   # quick: every arm has all its seeds
    c4 = registry.get("c4")
    records = [{"case": "c4", "arm": arm.name, "framework": fw, "mode": "as_written", "seed": seed, "status": "ok"}
               for arm in c4.arms for fw in ("tf", "torch") for seed in range(5)]
    text = " ".join(report.partial_lines(records, c4, "mid"))
    assert "defines 10 seeds per arm; 5 have run" in text and "Not yet run: seeds 5-9." in text
    assert text.startswith("**Partial, case `c4`:**")           # a warning names the case it means
    assert "--seeds 5:10` from the same commit" in text            # records without provenance
    stamped = [{**r, "env": {"commit": "0123456789abcdef", "dirty": False}} for r in records]
    assert "--seeds 5:10` from commit 0123456789," in " ".join(report.partial_lines(stamped, c4, "mid"))
    assert report.partial_lines(records, c4, "smoke") == []       # smoke defines 2: nothing is missing
    records.append({**records[0], "seed": 7})
    text = " ".join(report.partial_lines(records, c4, "mid"))
    assert "5 to 6 have run" in text and "seeds 5-9" in text
    records = [r for r in records if (r["arm"], r["seed"]) != ("none", 2)]
    text = " ".join(report.partial_lines(records, c4, "mid"))
    assert "seeds 2, 5-9." in text and "--seeds" not in text       # not one range: no single command


def test_a_partial_case_is_flagged_in_both_reports(tmp_path):
    import json

    copy_published("quick", tmp_path)
    path = store.records_path(tmp_path, "quick")
    kept = [line for line in path.read_text(encoding="utf-8").splitlines()
            if json.loads(line)["case"] == "c4" and json.loads(line)["seed"] < 6]
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    md, _ = report.publish(tmp_path, "quick", html=True)
    sentence = "Partial, case c4: the quick profile defines 8 seeds per arm; 6 have run"
    assert "**Partial, case `c4`:** the `quick` profile defines 8 seeds per arm; 6 have run" in md.read_text()
    page = (md.parent / "REPORT.html").read_text()
    assert sentence in page and page.index('id="headline"') < page.index(sentence) < page.index('id="scoreboard"')
