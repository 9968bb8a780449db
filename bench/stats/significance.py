"""Pure statistics over per-seed samples: tests, intervals and effect sizes.

Every array argument is one-dimensional. ``diffs`` has shape ``(n_seeds,)`` and
holds one paired contrast value per seed; ``a`` and ``b`` have shapes
``(n_a,)`` and ``(n_b,)`` and hold one arm's values each, unpaired. All
p-values are two-sided.

Inputs must be finite: a NaN or inf raises ``ValueError``, because deciding
which seeds to drop belongs to the caller (``bench.analysis.verdict``). Degenerate but
finite inputs never raise and never return an unexplained NaN; the result's
``note`` says what happened:

* fewer than 2 samples (per arm, for unpaired functions) -> NaN, note
  ``"fewer than 2 samples"``;
* every value equal (all diffs zero, or both arms one identical constant) ->
  p = 1.0, statistic 0.0, note ``"all equal"``;
* zero variance but a nonzero mean difference -> t statistics and effect sizes
  are NaN with note ``"zero variance"`` (we chose NaN over a signed inf so that
  no infinite effect size reaches a table); rank tests stay defined.

Constant contrasts. A contrast that is the same on every seed has no spread
to estimate a t from; it is decided by its exact sign-flip p (2 / 2**n), which
needs "the same" to survive float rounding: accuracies of k / 10,000 with one
arm exactly 14 images ahead on every seed give per-seed differences that
differ in the 16th digit, and an exact ``==`` would hand them to a t-test
with an SD of 1e-16 (p ~ 1e-54). ``is_constant`` therefore calls values
constant when their spread (max - min) is at most

    max(CONSTANT_RTOL * scale, resolution / 2)

``scale`` is the magnitude of the values the contrast was computed from (the
largest sum over a seed of |weight| x |arm value|; by default the largest
|value| itself): float64 rounding of a sum of a few such terms is a few ulps,
about 1e-16 x scale, and ``CONSTANT_RTOL`` = 1e-12 sits 10^4 ulps above it
and 10^4 below float32's resolution (6e-8), the finest a trained metric is
measured at, so no measured seed-to-seed spread is ever called constant.
``resolution`` is the metric's smallest step when it has one (1 / n_test for
an accuracy over n_test examples): two values closer than half a step are the
same value. ``snap_constant`` replaces such values by their mean (by exact 0
when that mean is itself within the tolerance of 0), so every test downstream
sees an exactly constant contrast.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as _st

FEW = "fewer than 2 samples"
CONSTANT_RTOL = 1e-12
EQUAL = "all equal"
ZERO_VAR = "zero variance"


@dataclass(frozen=True)
class TestResult:
    """A hypothesis test. ``n`` is the number of samples used (n_a + n_b if unpaired)."""
    __test__ = False  # not a pytest test class, despite the name
    name: str
    statistic: float
    p_value: float
    n: int
    note: str = ""


@dataclass(frozen=True)
class Interval:
    """A confidence interval for ``estimate`` at level ``confidence``."""
    estimate: float
    low: float
    high: float
    confidence: float
    n: int
    note: str = ""


@dataclass(frozen=True)
class EffectSize:
    name: str
    value: float
    n: int
    note: str = ""


def _finite(x, name: str = "values") -> np.ndarray:
    """``x`` as a float array of shape (n,); ValueError if not 1-D or not finite."""
    arr = np.asarray(x, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf; drop those seeds before calling bench.stats.significance.")
    return arr


def constant_tolerance(scale: float, resolution: float | None = None) -> float:
    """The largest spread still called constant (module docstring, "Constant contrasts")."""
    return max(CONSTANT_RTOL * abs(float(scale)), resolution / 2.0 if resolution else 0.0)


def is_constant(x, resolution: float | None = None, scale: float | None = None) -> bool:
    """True when the finite values ``x`` (n,) are one value up to rounding or resolution.

    ``scale`` is the magnitude the values were computed from (default: their
    largest |value|) and ``resolution`` the metric's smallest step, if any;
    see the module docstring for the rule. An empty ``x`` is constant.
    """
    v = _finite(x)
    if v.size == 0:
        return True
    ref = float(np.max(np.abs(v))) if scale is None else float(scale)
    return float(v.max() - v.min()) <= constant_tolerance(ref, resolution)


def snap_constant(x, resolution: float | None = None, scale: float | None = None) -> np.ndarray:
    """``x`` (n,) as a float array; if ``is_constant``, every entry replaced by their mean,
    or by exactly 0 when the mean lies within the same tolerance of 0."""
    v = _finite(x)
    if v.size == 0 or not is_constant(v, resolution, scale):
        return v
    ref = float(np.max(np.abs(v))) if scale is None else float(scale)
    mean = float(v.mean())
    return np.full(v.shape, 0.0 if abs(mean) <= constant_tolerance(ref, resolution) else mean)


def _nan_test(name: str, n: int, note: str) -> TestResult:
    return TestResult(name, math.nan, math.nan, n, note)


# --- paired tests: diffs of shape (n_seeds,) ---------------------------------

def _few_or_equal(name: str, d: np.ndarray):
    """The defined result for fewer than 2 diffs (p NaN) or all-zero diffs (p = 1), else None."""
    if d.size < 2:
        return _nan_test(name, d.size, FEW)
    if np.all(d == 0):
        return TestResult(name, 0.0, 1.0, d.size, EQUAL)
    return None


def paired_t(diffs) -> TestResult:
    """One-sample t-test of ``diffs`` (n,) against 0; equals the paired t-test.

    t = mean / (sd / sqrt(n)) with sd of ddof 1, df = n - 1.
    """
    d = _finite(diffs, "diffs")
    n = d.size
    early = _few_or_equal("paired_t", d)
    if early is not None:
        return early
    if is_constant(d):
        return _nan_test("paired_t", n, ZERO_VAR)
    res = _st.ttest_1samp(d, 0.0)
    return TestResult("paired_t", float(res.statistic), float(res.pvalue), n)


def wilcoxon_signed_rank(diffs) -> TestResult:
    """Wilcoxon signed-rank test of ``diffs`` (n,) against symmetry about 0.

    Zero differences are discarded before ranking (``zero_method="wilcox"``)
    and the note counts them; ``n`` stays the number of seeds given. SciPy's
    ``method="auto"`` is exact for n <= 50 without ties, an exhaustive
    permutation for n <= 13 with ties, and the normal approximation otherwise.
    The statistic is the smaller of the positive and negative rank sums.
    """
    d = _finite(diffs, "diffs")
    n = d.size
    if n < 2:
        return _nan_test("wilcoxon", n, FEW)
    n_zero = int(np.sum(d == 0))
    if n_zero == n:
        return TestResult("wilcoxon", 0.0, 1.0, n, EQUAL)
    res = _st.wilcoxon(d, zero_method="wilcox", alternative="two-sided", method="auto")
    note = f"{n_zero} zero differences dropped" if n_zero else ""
    return TestResult("wilcoxon", float(res.statistic), float(res.pvalue), n, note)


def paired_permutation(diffs, n_resamples: int = 10_000, random_state=None) -> TestResult:
    """Paired (sign-flip) permutation test of mean(``diffs``) (n,) against 0.

    Under the null each seed's two arms are exchangeable, so each diff's sign
    is a fair coin. Uses ``scipy.stats.permutation_test`` with
    ``permutation_type="samples"`` on the pairs (diff, 0): exact enumeration of
    all 2**n sign patterns when 2**n <= ``n_resamples``, Monte Carlo otherwise
    (each one-sided p counts the observed pattern, (hits + 1) / (n_resamples + 1),
    and the two-sided p doubles the smaller one, so it is never 0). The smallest exact p is
    2 / 2**n, so n <= 5 seeds can never reach p < 0.05. Degenerate input as for
    ``paired_t``; a nonzero constant stays defined (p = 2 / 2**n when exact).
    """
    d = _finite(diffs, "diffs")
    n = d.size
    early = _few_or_equal("permutation", d)
    if early is not None:
        return early
    res = _st.permutation_test((d, np.zeros(n)), _mean_diff, permutation_type="samples",
                               vectorized=True, n_resamples=n_resamples, alternative="two-sided",
                               random_state=np.random.default_rng(random_state))
    exact = 2 ** n <= n_resamples
    return TestResult("permutation", float(res.statistic), float(min(res.pvalue, 1.0)), n,
                      "" if exact else f"Monte Carlo, {n_resamples} sign flips")


def _mean_diff(x, y, axis=-1):
    return np.mean(x - y, axis=axis)


# --- unpaired tests: a (n_a,), b (n_b,) --------------------------------------

def _unpaired_degenerate(name: str, a: np.ndarray, b: np.ndarray) -> TestResult | None:
    n = a.size + b.size
    if min(a.size, b.size) < 2:
        return _nan_test(name, n, FEW)
    if np.all(a == a[0]) and np.all(b == a[0]):
        return TestResult(name, 0.0, 1.0, n, EQUAL)
    return None


def welch_t(a, b) -> TestResult:
    """Welch's unequal-variance t-test of mean(a) - mean(b); positive t when a is larger.

    If both arms are constant but differ, the t statistic is undefined: NaN,
    note "zero variance".
    """
    a, b = _finite(a, "a"), _finite(b, "b")
    early = _unpaired_degenerate("welch_t", a, b)
    if early is not None:
        return early
    if np.all(a == a[0]) and np.all(b == b[0]):
        return _nan_test("welch_t", a.size + b.size, ZERO_VAR)
    res = _st.ttest_ind(a, b, equal_var=False)
    return TestResult("welch_t", float(res.statistic), float(res.pvalue), a.size + b.size)


def mann_whitney(a, b) -> TestResult:
    """Mann-Whitney U test; the statistic is U for ``a`` (pairs with a > b, ties 0.5).

    SciPy's ``method="auto"`` is exact for small samples without ties.
    """
    a, b = _finite(a, "a"), _finite(b, "b")
    early = _unpaired_degenerate("mann_whitney", a, b)
    if early is not None:
        return early
    res = _st.mannwhitneyu(a, b, alternative="two-sided", method="auto")
    return TestResult("mann_whitney", float(res.statistic), float(res.pvalue), a.size + b.size)


# --- bootstrap intervals ------------------------------------------------------

def _percentile(boot: np.ndarray, confidence: float) -> tuple[float, float]:
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(boot, [tail, 1.0 - tail])
    return float(low), float(high)


def _check_level(confidence: float, n_resamples: int) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}.")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1, got {n_resamples}.")


def bootstrap_ci(values, confidence: float = 0.95, n_resamples: int = 10_000,
                 random_state=None) -> Interval:
    """Percentile bootstrap CI of the mean of ``values`` (n,).

    Resampling whole seeds keeps each seed's pairing intact. Percentile rather
    than BCa, because BCa's jackknife acceleration is unstable at the 3-10
    seeds typical here; with so few seeds the interval is somewhat too narrow.
    ``random_state``: None, an int seed or a ``numpy.random.Generator``.
    """
    _check_level(confidence, n_resamples)
    v = _finite(values)
    n = v.size
    if n < 2:
        mean = float(v[0]) if n else math.nan
        return Interval(mean, math.nan, math.nan, confidence, n, FEW)
    mean = float(v.mean())
    if np.all(v == v[0]):
        return Interval(mean, mean, mean, confidence, n, EQUAL)
    rng = np.random.default_rng(random_state)
    boot = v[rng.integers(0, n, size=(n_resamples, n))].mean(axis=1)
    return Interval(mean, *_percentile(boot, confidence), confidence, n)


def bootstrap_ci_diff(a, b, confidence: float = 0.95, n_resamples: int = 10_000,
                      random_state=None) -> Interval:
    """Percentile bootstrap CI of mean(a) - mean(b), resampling each arm on its own.

    ``a`` (n_a,), ``b`` (n_b,), unpaired; ``n`` of the result is n_a + n_b.
    """
    _check_level(confidence, n_resamples)
    a, b = _finite(a, "a"), _finite(b, "b")
    n = a.size + b.size
    if min(a.size, b.size) < 2:
        est = float(a.mean() - b.mean()) if a.size and b.size else math.nan
        return Interval(est, math.nan, math.nan, confidence, n, FEW)
    est = float(a.mean() - b.mean())
    if np.all(a == a[0]) and np.all(b == b[0]):
        return Interval(est, est, est, confidence, n, EQUAL if est == 0 else ZERO_VAR)
    rng = np.random.default_rng(random_state)
    boot_a = a[rng.integers(0, a.size, size=(n_resamples, a.size))].mean(axis=1)
    boot_b = b[rng.integers(0, b.size, size=(n_resamples, b.size))].mean(axis=1)
    return Interval(est, *_percentile(boot_a - boot_b, confidence), confidence, n)


# --- effect sizes ---------------------------------------------------------------

def hedges_g(a, b) -> EffectSize:
    """Hedges' g for ``a`` (n_a,) vs ``b`` (n_b,); positive when mean(a) > mean(b).

    g = J * (mean_a - mean_b) / s_p, with pooled SD
    s_p = sqrt(((n_a-1) var_a + (n_b-1) var_b) / (n_a + n_b - 2)) (ddof 1) and
    small-sample correction J = 1 - 3 / (4 (n_a + n_b) - 9). Needs 2 values per
    arm; s_p = 0 gives NaN with note "zero variance" (or "all equal").
    """
    a, b = _finite(a, "a"), _finite(b, "b")
    n = a.size + b.size
    if min(a.size, b.size) < 2:
        return EffectSize("hedges_g", math.nan, n, FEW)
    pooled = ((a.size - 1) * a.var(ddof=1) + (b.size - 1) * b.var(ddof=1)) / (n - 2)
    diff = float(a.mean() - b.mean())
    if pooled == 0:
        return EffectSize("hedges_g", math.nan, n, EQUAL if diff == 0 else ZERO_VAR)
    j = 1.0 - 3.0 / (4.0 * n - 9.0)
    return EffectSize("hedges_g", j * diff / math.sqrt(pooled), n)


def hedges_gz(diffs) -> EffectSize:
    """Standardized paired contrast: g_z = J * mean(diffs) / sd(diffs) for ``diffs`` (n,).

    sd has ddof 1 and J = 1 - 3 / (4 (n - 1) - 1) uses the paired df = n - 1.
    At n = 2, J is 0 (the exact correction is 0 too), so g_z needs n >= 3:
    fewer gives NaN with note "fewer than 3 samples". Zero sd gives NaN with
    note "zero variance" (or "all equal" when every diff is 0).
    """
    d = _finite(diffs, "diffs")
    n = d.size
    if n < 3:
        return EffectSize("hedges_gz", math.nan, n, "fewer than 3 samples")
    sd = float(d.std(ddof=1))
    if sd == 0:
        return EffectSize("hedges_gz", math.nan, n, EQUAL if np.all(d == 0) else ZERO_VAR)
    j = 1.0 - 3.0 / (4.0 * (n - 1) - 1.0)
    return EffectSize("hedges_gz", j * float(d.mean()) / sd, n)


def prob_superiority(a, b) -> EffectSize:
    """P(A > B) + 0.5 P(A = B) over all n_a * n_b pairs of ``a`` (n_a,) and ``b`` (n_b,).

    The common-language effect size; equals U_a / (n_a n_b). An empty arm gives
    NaN with note "empty sample".
    """
    a, b = _finite(a, "a"), _finite(b, "b")
    if a.size == 0 or b.size == 0:
        return EffectSize("prob_superiority", math.nan, a.size + b.size, "empty sample")
    sign = np.sign(a[:, None] - b[None, :])
    return EffectSize("prob_superiority", float(np.mean((sign + 1.0) / 2.0)), a.size + b.size)


def paired_superiority(diffs) -> EffectSize:
    """Fraction of seeds whose contrast in ``diffs`` (n,) is > 0, ties (== 0) counting 0.5.

    With a contrast A - B this is the paired P(A > B). No seeds gives NaN with
    note "empty sample".
    """
    d = _finite(diffs, "diffs")
    if d.size == 0:
        return EffectSize("paired_superiority", math.nan, 0, "empty sample")
    return EffectSize("paired_superiority", float(np.mean((np.sign(d) + 1.0) / 2.0)), d.size)


# --- multiplicity ---------------------------------------------------------------

def _p_family(p_values) -> tuple[np.ndarray, np.ndarray]:
    """The p-values as a float array of shape (m,) and the mask of non-NaN entries."""
    p = np.asarray(p_values, dtype=float)
    if p.ndim != 1:
        raise ValueError(f"p_values must be one-dimensional, got shape {p.shape}.")
    ok = ~np.isnan(p)
    if np.any((p[ok] < 0) | (p[ok] > 1)):
        raise ValueError("p_values must lie in [0, 1] (NaN allowed).")
    return p, ok


def holm(p_values) -> np.ndarray:
    """Holm step-down adjusted p-values, shape (m,) in, shape (m,) out, same order.

    The k-th smallest of the m' non-NaN p-values is multiplied by m' - k + 1;
    a running maximum keeps the result monotone and it is capped at 1. NaN
    entries stay NaN and do not count towards the family size m'. Values
    outside [0, 1] raise ValueError.
    """
    p, ok = _p_family(p_values)
    out = np.full(p.shape, math.nan)
    idx = np.flatnonzero(ok)
    order = idx[np.argsort(p[idx], kind="stable")]
    m = order.size
    scaled = p[order] * (m - np.arange(m))
    out[order] = np.minimum(np.maximum.accumulate(scaled), 1.0)
    return out


def holm_levels(p_values, alpha: float = 0.05) -> np.ndarray:
    """The level each raw p-value is in effect compared with under Holm, shape (m,) -> (m,).

    ``level_i = alpha / max(k_i, p_holm_i / p_i)`` with k_i = m' - rank + 1 the step's
    multiplier: then ``p_i < level_i`` exactly when ``holm(p)_i < alpha`` (the running
    maximum and the cap at 1 only ever raise the divisor). A confidence interval at
    1 - level_i is therefore the one Holm's decision for that hypothesis inverts. NaN
    p-values get alpha / m' (they decide nothing).
    """
    p, ok = _p_family(p_values)
    adjusted = holm(p)
    m = int(ok.sum())
    out = np.full(p.shape, alpha / max(1, m))
    idx = np.flatnonzero(ok)
    order = idx[np.argsort(p[idx], kind="stable")]
    step = np.empty(p.shape)
    step[order] = m - np.arange(m)
    for i in idx:
        ratio = adjusted[i] / p[i] if p[i] > 0 else 0.0
        out[i] = alpha / max(step[i], ratio)
    return out


def benjamini_hochberg(p_values) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values), shape (m,) -> (m,), same order.

    The k-th smallest of the m' non-NaN p-values becomes min over j >= k of
    p_(j) m' / j, capped at 1 (``scipy.stats.false_discovery_control``). NaN
    entries stay NaN and do not count towards m'. Controls the false discovery
    rate, not the family-wise error: reported beside Holm, never used for verdicts.
    """
    p, ok = _p_family(p_values)
    out = np.full(p.shape, math.nan)
    if ok.any():
        out[ok] = _st.false_discovery_control(p[ok], method="bh")
    return out


# --- t intervals and constant contrasts ------------------------------------------

def t_ci(values, confidence: float = 0.95) -> Interval:
    """Student-t CI of the mean of ``values`` (n,): mean +- t_{(1+confidence)/2, n-1} sd / sqrt(n).

    The interval the report prints for paired contrasts. Chosen over the
    percentile bootstrap because it covers at the seed counts used here: by
    simulation (tests/test_simulation.py) the bootstrap covers about 0.84 at
    n = 5, 0.90 at n = 10 and 0.93 at n = 20, the t-interval 0.95 at each.
    It is also the interval the paired t-test inverts, so a verdict and its CI
    never contradict each other. Zero spread gives the point as a zero-width
    interval (note "all equal" or "zero variance").
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}.")
    v = _finite(values)
    n = v.size
    if n < 2:
        mean = float(v[0]) if n else math.nan
        return Interval(mean, math.nan, math.nan, confidence, n, FEW)
    mean = float(v.mean())
    sd = float(v.std(ddof=1))
    if is_constant(v):   # not sd == 0: the float sd of equal values need not be 0
        return Interval(mean, mean, mean, confidence, n, EQUAL if np.all(v == 0) else ZERO_VAR)
    half = float(_st.t.ppf(0.5 + confidence / 2, n - 1)) * sd / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, confidence, n)


def t_bound(values, confidence: float = 0.95, side: str = "lower") -> Interval:
    """One-sided Student-t confidence bound of the mean of ``values`` (n,).

    ``side="lower"`` gives (mean - t_{confidence, n-1} se, +inf); "upper" the mirror.
    """
    v = _finite(values)
    ci = t_ci(v, 2 * confidence - 1)
    if side == "lower":
        return Interval(ci.estimate, ci.low, math.inf, confidence, ci.n, ci.note)
    return Interval(ci.estimate, -math.inf, ci.high, confidence, ci.n, ci.note)


def constant_sign_flip(diffs, shift: float = 0.0, alternative: str = "two-sided") -> TestResult:
    """Exact sign-flip p of a contrast that is the same nonzero value on every seed.

    ``diffs`` (n,) must be constant; the test is of mean(diffs + shift) against
    0. With every value equal to c != 0, only the all-plus and all-minus sign
    patterns reach |mean| = |c|, so the exact two-sided p is 2 / 2**n and the
    one-sided p in the direction of c is 1 / 2**n (1 in the other direction).
    This is what ``paired_permutation`` gives by enumeration, without the
    enumeration, and it decides a constant contrast where the t statistic is
    undefined. c + shift == 0 gives p = 1 (note "all equal").
    """
    d = _finite(diffs, "diffs") + shift
    n = d.size
    if n < 2:
        return _nan_test("sign_flip_exact", n, FEW)
    if not is_constant(d):
        raise ValueError("constant_sign_flip needs a constant contrast.")
    c = float(d.mean()) if not np.all(d == 0) else 0.0
    if c == 0:
        return TestResult("sign_flip_exact", 0.0, 1.0, n, EQUAL)
    note = "constant contrast: exact sign-flip p"
    if alternative == "two-sided":
        return TestResult("sign_flip_exact", c, min(1.0, 2.0 / 2 ** n), n, note)
    toward = (c > 0) == (alternative == "greater")
    return TestResult("sign_flip_exact", c, 1.0 / 2 ** n if toward else 1.0, n, note)


def welch_ci(a, b, confidence: float = 0.95) -> Interval:
    """Welch t CI of mean(a) - mean(b) for unpaired ``a`` (n_a,) and ``b`` (n_b,), the
    interval ``welch_t`` inverts (Welch-Satterthwaite df); ``n`` is n_a + n_b."""
    a, b = _finite(a, "a"), _finite(b, "b")
    n = a.size + b.size
    if min(a.size, b.size) < 2:
        est = float(a.mean() - b.mean()) if a.size and b.size else math.nan
        return Interval(est, math.nan, math.nan, confidence, n, FEW)
    est = float(a.mean() - b.mean())
    ua, ub = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    if ua + ub == 0:
        return Interval(est, est, est, confidence, n, EQUAL if est == 0 else ZERO_VAR)
    df = (ua + ub) ** 2 / (ua ** 2 / (a.size - 1) + ub ** 2 / (b.size - 1))
    half = float(_st.t.ppf(0.5 + confidence / 2, df)) * math.sqrt(ua + ub)
    return Interval(est, est - half, est + half, confidence, n)
