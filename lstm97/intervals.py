"""How sure a row of ours is, and what it says beside the paper's number.

A row is 10 to 30 trials per seed, and the paper gives one number per row; ours gets an
interval, and the comparison a verdict computed by a stated rule (`RULE`), not typed:

* the success rate k/n: the exact binomial (Clopper–Pearson) 95 % interval;
* the sequences to success: the mean over the solved trials (the paper's statistic) and the
  median over all trials, each with a 95 % percentile-bootstrap interval over the trials
  (`RESAMPLES` resamples of the n trials with replacement, a fixed seed). An unsolved trial is
  *censored at the budget*, not dropped: it is known only to need more than the budget, so it
  enters the median as a value above every solved one (a median, or a bound, that falls on it
  is "> budget"), and it is left out of the mean, which is over the solved trials of each
  resample, as the paper's is.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

LEVEL = 0.95
RESAMPLES = 10_000
SEED = 0  # the bootstrap's resamples: the same intervals at every build

RULE = ("Verdict, computed from the intervals: *not reproduced* where none of our trials was solved and the paper "
        "reports successes; *fewer successes* (or *more*) where the paper's success rate lies above (below) our 95 % "
        "Clopper–Pearson interval, compared only where the paper states a rate; *slower* (or *faster*) where the "
        "paper's mean sequences to success lies above (below) our 95 % bootstrap interval of the mean over the solved "
        "trials; *as the paper* where neither holds; none (—) where the paper gives neither number. Unsolved trials "
        "are censored at the budget (\"> budget\" where a median or a bound falls on them). Intervals in brackets are "
        "95 %; with 10 to 30 trials per seed they are wide, and a verdict of *as the paper* says only that our trials "
        "cannot tell the two apart.")

KEY = ("In brackets: 95 % intervals (Clopper–Pearson for the trials solved; bootstrap over the trials for the mean "
       "over the solved trials and the median over all, the unsolved censored at the budget); the verdict is "
       "computed by the rule stated in chapter 13 (`lstm97.intervals.RULE`).")


def _binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p), 0 < p < 1, summed in logs (n up to thousands)."""
    return sum(math.exp(math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1)
                        + i * math.log(p) + (n - i) * math.log1p(-p)) for i in range(k + 1))


def _bisect(f, lo: float = 0.0, hi: float = 1.0) -> float:
    """The root in [lo, hi] of `f`, increasing there, to within 1e-12."""
    while hi - lo > 1e-12:
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if f(mid) < 0 else (lo, mid)
    return (lo + hi) / 2


def clopper_pearson(k: int, n: int, level: float = LEVEL) -> tuple[float, float]:
    """The exact (Clopper–Pearson) interval of a success rate, k successes in n trials: the
    rates p under which k or more (lower bound), or k or fewer (upper bound), successes have
    probability (1 − level)/2."""
    for name, v in (("k", k), ("n", n)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise ValueError(f"{name} must be an integer, got {v!r}")
    if not 0 <= k <= n or n < 1:
        raise ValueError(f"need 0 <= k <= n and n >= 1, got k={k}, n={n}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    a = (1.0 - level) / 2
    lo = 0.0 if k == 0 else _bisect(lambda p: (1.0 - _binomial_cdf(k - 1, n, p)) - a)
    hi = 1.0 if k == n else _bisect(lambda p: a - _binomial_cdf(k, n, p))
    return lo, hi


@dataclass(frozen=True)
class Spread:
    """A row's sequences to success with their 95 % intervals: `solved` of `trials`, the rate's
    interval, the mean over the solved trials and the median over all (math.inf: censored, more
    than the budget), each with its bootstrap interval (the mean's is None where none solved)."""

    solved: int
    trials: int
    rate: tuple[float, float]
    mean: float | None
    mean_interval: tuple[float, float] | None
    median: float
    median_interval: tuple[float, float]
    low: float | None
    high: float | None


def censored(solved: list, trials: int) -> np.ndarray:
    """The sequences each of `trials` trials took: `solved`'s, then math.inf for the unsolved."""
    if len(solved) > trials:
        raise ValueError(f"{len(solved)} solved trials of {trials}")
    return np.array([float(s) for s in solved] + [math.inf] * (trials - len(solved)))


def drawn_rows(solved: list, trials: int, n: int, draws: int, seed: int = SEED) -> np.ndarray:
    """`draws` rows of `n` trials drawn with replacement from `censored(solved, trials)`, (draws, n)."""
    return censored(solved, trials)[np.random.default_rng(seed).integers(trials, size=(draws, n))]


def solved_means(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row of `drawn_rows`: the share solved and the mean over its solved trials (NaN where none),
    as the paper reports a row."""
    finite = np.isfinite(rows)
    counts = finite.sum(axis=1)
    means = np.where(counts > 0, np.where(finite, rows, 0.0).sum(axis=1) / np.maximum(counts, 1), np.nan)
    return counts / rows.shape[1], means


def spread(solved: list, trials: int, level: float = LEVEL) -> Spread:
    """`Spread` of a row whose solved trials took `solved` sequences each (on the paper's count),
    the other trials of `trials` unsolved within the budget."""
    resampled = drawn_rows(solved, trials, trials, RESAMPLES)
    q = ((1.0 - level) / 2, (1.0 + level) / 2)
    medians = np.median(resampled, axis=1)  # the middle two's mean: > budget where one is censored
    # inverted_cdf: the bounds are resampled values, never an interpolation with a censored one
    mean = mean_interval = None
    if solved:
        means = solved_means(resampled)[1]
        mean = float(np.mean(solved))
        mean_interval = tuple(float(v) for v in np.quantile(means[np.isfinite(means)], q, method="inverted_cdf"))
    return Spread(len(solved), trials, clopper_pearson(len(solved), trials, level), mean, mean_interval,
                  float(np.median(censored(solved, trials))),
                  tuple(float(v) for v in np.quantile(medians, q, method="inverted_cdf")),
                  min(solved) if solved else None, max(solved) if solved else None)


def verdict(s: Spread, paper: dict) -> str:
    """The row beside the paper's numbers (`Protocol.paper`: "success_rate", "success_after"), by
    `RULE`."""
    rate, after = paper.get("success_rate"), paper.get("success_after")
    if rate is None and after is None:
        return "—"  # the paper gives nothing to compare with
    if s.solved == 0 and ((rate or 0) > 0 or after is not None):
        return "not reproduced"
    found = []
    if rate is not None:
        found += ["fewer successes"] if rate > s.rate[1] else ["more successes"] if rate < s.rate[0] else []
    if after is not None and s.mean_interval is not None:
        found += ["slower"] if after < s.mean_interval[0] else ["faster"] if after > s.mean_interval[1] else []
    return ", ".join(found) or "as the paper"


def count(v: float, budget: int | None = None) -> str:
    """A number of sequences as the tables show it; a censored one as "> budget"."""
    if math.isinf(v):
        return f"> {budget:,}" if budget is not None else "> budget"
    return f"{v:,.0f}"


def mean_cell(s: Spread) -> str:
    """The mean over the solved trials with its interval: "16,450 [11,600–21,650]" ("—" for none)."""
    if s.mean is None:
        return "—"
    a, b = s.mean_interval
    return f"{s.mean:,.0f} [{a:,.0f}–{b:,.0f}]"


def median_cell(s: Spread, budget: int | None = None) -> str:
    """The median over all trials with its interval; an interval whose upper bound is censored is
    "[lower, > budget]", none is shown where both are."""
    lo, hi = s.median_interval
    if math.isinf(lo):
        return count(s.median, budget)
    return count(s.median, budget) + (f" [{count(lo)}, {count(hi, budget)}]" if math.isinf(hi)
                                      else f" [{count(lo)}–{count(hi)}]")


def sequences_cell(s: Spread, budget: int | None = None) -> str:
    """The tables' "ours" cell: mean [interval]; median [interval]; range."""
    median = f"median {median_cell(s, budget)}"
    return f"— ({median})" if s.mean is None else f"{mean_cell(s)}; {median}; {s.low:,}–{s.high:,}"


def solved_cell(s: Spread) -> str:
    """The tables' "solved" cell: k/n [the rate's interval] (in tenths of a percent from 100 trials)."""
    lo, hi = s.rate
    d = 1 if s.trials >= 100 else 0
    return f"{s.solved}/{s.trials} [{100 * lo:.{d}f}–{100 * hi:.{d}f} %]"
