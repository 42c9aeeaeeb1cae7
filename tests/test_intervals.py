"""The intervals beside the paper's numbers: exact binomial bounds, the bootstrap with censored
trials, and the verdict's rule."""
import math

import numpy as np
import pytest

from lstm97 import intervals


def binomial_pmf(k, n, p):
    return math.comb(n, k) * p ** k * (1 - p) ** (n - k)


def test_clopper_pearson_has_its_closed_forms_and_known_values():
    assert intervals.clopper_pearson(0, 10) == (0.0, pytest.approx(1 - 0.025 ** 0.1, abs=1e-10))
    assert intervals.clopper_pearson(10, 10) == (pytest.approx(0.025 ** 0.1, abs=1e-10), 1.0)
    lo, hi = intervals.clopper_pearson(5, 10)  # the textbook value
    assert lo == pytest.approx(0.187086, abs=1e-6) and hi == pytest.approx(0.812914, abs=1e-6)
    for k in range(8):  # the same interval read from the other side
        lo, hi = intervals.clopper_pearson(k, 7)
        assert (1 - hi, 1 - lo) == pytest.approx(intervals.clopper_pearson(7 - k, 7), abs=1e-10)


@pytest.mark.parametrize("n, p", [(10, 0.3), (20, 0.9), (30, 0.5)])
def test_clopper_pearson_covers_the_true_rate_at_least_95_percent_of_the_time(n, p):
    covered = sum(binomial_pmf(k, n, p) for k in range(n + 1)
                  if intervals.clopper_pearson(k, n)[0] <= p <= intervals.clopper_pearson(k, n)[1])
    assert 0.95 <= covered < 1.0


def test_bad_counts_are_refused():
    for k, n in [(11, 10), (-1, 10), (0, 0)]:
        with pytest.raises(ValueError, match="0 <= k <= n"):
            intervals.clopper_pearson(k, n)
    with pytest.raises(ValueError, match="integer"):
        intervals.clopper_pearson(2.5, 10)
    with pytest.raises(ValueError, match="solved trials of"):
        intervals.spread([1, 2, 3], 2)


def test_bootstrap_intervals_hold_the_estimate_and_repeat_exactly():
    rng = np.random.default_rng(1)
    solved = [int(v) for v in rng.integers(1_000, 100_000, size=20)]
    s = intervals.spread(solved, 20)
    assert s.mean == np.mean(solved) and s.median == np.median(solved)
    assert s.mean_interval[0] < s.mean < s.mean_interval[1] and s.median_interval[0] <= s.median <= s.median_interval[1]
    assert min(solved) <= s.mean_interval[0] and s.mean_interval[1] <= max(solved)
    assert intervals.spread(solved, 20) == s, "a fixed seed: the same intervals at every build"
    same = intervals.spread([500] * 10, 10)  # no spread, no interval
    assert same.mean_interval == (500, 500) and same.median_interval == (500, 500)


def test_unsolved_trials_are_censored_not_dropped():
    s = intervals.spread([10, 20, 30], 10)  # 7 of 10 unsolved: the median is past the budget
    assert math.isinf(s.median) and math.isinf(s.median_interval[1])
    assert s.mean == 20 and 10 <= s.mean_interval[0] <= s.mean_interval[1] <= 30, "the mean: over the solved"
    dropped = intervals.spread([10, 20, 30], 3)
    assert dropped.median == 20, "the same three, had they been all the trials"
    assert s.rate[1] < 0.7 and dropped.rate[1] == 1.0, "the unsolved count: 3/10, not 3/3"
    cell = intervals.sequences_cell(s, 1000)
    assert cell.startswith("20 [") and "median > 1,000" in cell
    assert intervals.sequences_cell(intervals.spread([], 5), 1000) == "— (median > 1,000)"
    assert intervals.solved_cell(s) == "3/10 [7–65 %]"
    assert intervals.solved_cell(intervals.spread([7] * 1000, 1000)) == "1000/1000 [99.6–100.0 %]"


def test_verdict_follows_the_stated_rule():
    paper = {"success_rate": 1.0, "success_after": 8_440}
    assert intervals.verdict(intervals.spread([], 30), paper) == "not reproduced"
    assert intervals.verdict(intervals.spread([], 100), {"success_rate": 0.0}) == "as the paper"
    few = intervals.spread([8_000, 9_000] * 3, 30)  # 6/30: the paper's 100 % is far above
    assert intervals.verdict(few, paper) == "fewer successes"
    around = intervals.spread(list(range(6_000, 11_000, 500)), 10)
    assert intervals.verdict(around, paper) == "as the paper"
    assert intervals.verdict(intervals.spread([50_000, 60_000] * 5, 10), paper) == "slower"
    assert intervals.verdict(intervals.spread([1_000, 2_000] * 5, 10), {"success_after": 8_440}) == "faster"
    assert intervals.verdict(intervals.spread([50_000] * 6, 30), paper) == "fewer successes, slower"
    assert intervals.verdict(intervals.spread([100], 10), {}) == "—", "nothing in the paper to compare with"
    assert "Clopper–Pearson" in intervals.RULE and "censored" in intervals.RULE
