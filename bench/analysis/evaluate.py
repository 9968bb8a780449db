"""Records -> claim results: every claim of every case, per (framework, mode), Holm within each case and mode.

This is the analysis the report, the baseline gate, ``bench compare`` and the
adaptive run share; it knows nothing of how results are rendered.
"""
from __future__ import annotations

from collections import defaultdict

from bench.analysis import verdict
from bench.spec import Case


def variants(records: list[dict]) -> list[tuple[str, str]]:
    """The (framework, mode) pairs found in ``records``, sorted."""
    return sorted({(r["framework"], r["mode"]) for r in records})


def samples_for(records: list[dict], case: Case, framework: str, mode: str, metric: str) -> dict:
    """``{arm: {seed: value}}`` of the finished records; diverged runs give NaN."""
    out: dict = defaultdict(dict)
    for r in records:
        if (r["case"], r["framework"], r["mode"], r.get("status")) == (case.id, framework, mode, "ok"):
            value = r["diverged"] if metric == "diverged" else r["metrics"].get(metric, float("nan"))
            out[r["arm"]][r["seed"]] = float(value)
    return dict(out)


def _higher_is_better(case: Case, metric: str):
    try:
        return case.metric(metric).higher_is_better
    except Exception:   # a claim on a metric the case does not declare: keep the exclusion analysis
        return None


def family(case_id: str, mode: str) -> str:
    """The Holm family of a case's results in one mode. Each mode is its own family: a
    matched run is a sensitivity analysis, and running it must not move an as-written verdict."""
    return f"{case_id}/{mode}"


def evaluate(records: list[dict], cases: list[Case]) -> list[tuple[Case, str, str, object]]:
    """Every claim x (framework, mode) with records for all its arms; Holm within each case and mode."""
    rows, results = [], []
    for case in cases:
        mine = [r for r in records if r["case"] == case.id]
        for fw, mode in variants(mine):
            for claim in case.claims:
                samples = samples_for(mine, case, fw, mode, claim.metric)
                if not all(arm in samples for arm in claim.arms):
                    continue
                rows.append((case, fw, mode))
                results.append(verdict.evaluate_claim(
                    claim, samples, higher_is_better=_higher_is_better(case, claim.metric)))
    adjusted = verdict.adjust(results, families=[family(case.id, mode) for case, _, mode in rows])
    return [(case, fw, mode, res) for (case, fw, mode), res in zip(rows, adjusted)]
