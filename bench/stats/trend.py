"""Inverted-U (or U) claims over ordered arms, e.g. accuracy against dropout rate.

``table`` has shape ``(n_seeds, k)``: one row per seed with every arm finite,
columns in the claim's declared order (k >= 3). How the peak is located and tested:

1. **Locate.** The candidate peak is the *interior* column (not the first or
   the last) with the highest mean; for a U-shape, the lowest.
2. **Test the shape at that peak.** "Inverted U at column j" means column j
   beats both ends. That is an intersection of two one-sided paired tests
   (j vs first, j vs last), so by the intersection-union principle its p-value
   is the larger of the two one-sided p-values, with no correction.
3. **Pay for the search.** The peak was picked from the data among k - 2
   interior candidates, so that p is multiplied by k - 2 (Bonferroni over the
   candidates; testing only the best one rejects less often than testing all).
4. **Two-sided, like every other verdict.** The same is done for the opposite
   shape and the smaller of the two p-values is doubled. A significant claimed
   shape reproduces the claim; a significant opposite shape contradicts it.
   A monotone curve is neither and stays inconclusive.

The reported per-seed contrast is the chosen interior column minus the mean of
the two ends (positive for a peak). Fewer than 2 seeds give NaN with a note. A
leg whose differences are constant (zero spread) is decided by its exact
sign-flip p, and no leg's p is ever dropped or read as significant because it
is undefined.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as _st

from bench.stats.significance import FEW, TestResult, constant_sign_flip, snap_constant

METHODS = ("t", "wilcoxon")


@dataclass(frozen=True)
class Shape:
    """``test`` is the two-sided shape test; ``column`` the interior column
    chosen (for the shape with the smaller p); ``contrast`` (n_seeds,) the
    per-seed column-minus-mean-of-ends at that column; ``shape`` "peak" or "trough"."""
    test: TestResult
    column: int
    shape: str
    contrast: np.ndarray


def _one_sided(diffs: np.ndarray, method: str) -> float:
    """p for H1: mean(diffs) > 0, always defined.

    A constant leg (zero spread, where t is undefined) is decided by its exact
    sign-flip p: 1 / 2**n when every seed is positive, 1 otherwise. An
    undefined p never silently drops out: it counts as 1 (no evidence), which
    is what an intersection-union test must do with a leg it cannot show.
    """
    if np.all(diffs == 0):
        return 1.0
    if np.all(diffs == diffs[0]):
        return float(constant_sign_flip(diffs, alternative="greater").p_value)
    if method == "t":
        p = float(_st.ttest_1samp(diffs, 0.0, alternative="greater").pvalue)
    else:
        p = float(_st.wilcoxon(diffs, zero_method="wilcox", alternative="greater").pvalue)
    return 1.0 if math.isnan(p) else p


def _shape_p(table: np.ndarray, sign: float, method: str) -> tuple[float, int]:
    interior = np.arange(1, table.shape[1] - 1)
    means = sign * table[:, interior].mean(axis=0)
    j = int(interior[np.argmax(means)])
    x = sign * table
    # Intersection-union: the larger leg p. np.fmax would drop a NaN leg, so
    # _one_sided never returns one; the explicit check guards that contract.
    scale = 2.0 * float(np.max(np.abs(table)))   # a leg's rounding is that of the two arm values
    legs = [_one_sided(snap_constant(x[:, j] - x[:, end], scale=scale), method) for end in (0, -1)]
    if any(math.isnan(q) for q in legs):
        raise AssertionError("an intersection-union leg has an undefined p")
    return min(1.0, max(legs) * interior.size), j


def inverted_u(table, method: str = "t") -> Shape:
    """Two-sided test of an interior peak (vs an interior trough) in ``table`` (n_seeds, k).

    ``method``: "t" (one-sided paired t-tests) or "wilcoxon" (one-sided signed-rank).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}.")
    arr = np.asarray(table, dtype=float)
    if arr.ndim != 2 or arr.shape[1] < 3:
        raise ValueError(f"table must have shape (n_seeds, k >= 3), got {arr.shape}.")
    if not np.all(np.isfinite(arr)):
        raise ValueError("table contains NaN or inf; drop those seeds before calling bench.stats.trend.")
    name = f"peak_iut_{method}"
    n = arr.shape[0]
    if n < 2:
        j = 1
        contrast = arr[:, j] - arr[:, [0, -1]].mean(axis=1)
        return Shape(TestResult(name, math.nan, math.nan, n, FEW), j, "peak", contrast)
    p_peak, j_peak = _shape_p(arr, 1.0, method)
    p_trough, j_trough = _shape_p(arr, -1.0, method)
    p, j, shape = (p_peak, j_peak, "peak") if p_peak <= p_trough else (p_trough, j_trough, "trough")
    contrast = arr[:, j] - arr[:, [0, -1]].mean(axis=1)
    note = f"{shape} at column {j}; IUT x {arr.shape[1] - 2} candidates x 2 shapes"
    return Shape(TestResult(name, float(np.mean(contrast)), min(1.0, 2 * p), n, note), j, shape, contrast)
