"""Experiments 4 and 5: the adding and the multiplication problem (paper Secs. 5.4, 5.5).

Each step is a pair (value, marker). Two pairs are marked with 1.0: one of the first ten, and
one of the first T/2 - 1 pairs not yet marked. The first and the final pair carry the marker
-1.0 unless marked; all others 0.0. Lengths are uniform in [T, T + T/10]. The target, at the
end only, is 0.5 + (X1 + X2)/4 (adding, values uniform in [-1, 1]) or X1 * X2
(multiplication, values uniform in [0, 1]). Correct: absolute error below 0.04.

The paper: "if the first pair is marked, X1 is set to zero" (1.0 for multiplication). We read
it as a rule about position 1: whichever mark lands there gets that value — usually the first
mark (probability 1/10), the second only when the first is elsewhere. Positions are 1-based in
the text (spec decision 12); arrays here are 0-based.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .base import Batch, Task, check_int, check_n, check_rng


class MarkedPairs(Task):
    """Shared generator of the two problems; `Adding` and `Multiplication` fix the arithmetic."""

    n_in, n_out = 2, 1
    threshold = 0.04
    low: float
    high: float
    first_value: float  # the value of a marked first pair

    def __init__(self, T: int = 100):
        self.T = check_int("T (minimal sequence length)", T, 20)  # ten first pairs, then T/2 - 1 more

    @property
    def min_lag(self) -> int:
        return self.T // 2  # the second mark is at position T/2 at the latest

    def lags(self, batch: Batch) -> np.ndarray:
        return batch.end - batch.info["marks"].max(axis=1)

    def combine(self, x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, n: int) -> Batch:
        rng, n = check_rng(rng), check_n(n)
        lengths = rng.integers(self.T, self.T + self.T // 10 + 1, size=n)
        value = rng.uniform(self.low, self.high, size=(n, lengths.max()))
        first = rng.integers(0, 10, size=n)
        r = rng.integers(0, self.T // 2 - 1, size=n)  # among the first T/2 - 1 unmarked pairs
        second = r + (r >= first)
        x, mask, x1, x2 = _marked_pairs(lengths, value, first, second, self.first_value)
        y = np.zeros(mask.shape + (1,))
        y[np.arange(n), lengths - 1, 0] = self.combine(x1, x2)   # mask's True steps, indexed: faster than y[mask, 0]
        return Batch(y=y, mask=mask, lengths=lengths, n_in=2, values=x,
                     info={"marks": np.stack([first, second], axis=1), "x1": x1, "x2": x2})


@njit(cache=True)
def _marked_pairs(lengths, value, first, second, first_value):
    """The pairs (value, marker) laid out, zero past each end; a marked first pair's value set
    to `first_value`; the marked values X1, X2 and the mask of the last steps."""
    n, T = value.shape
    x, mask = np.zeros((n, T, 2)), np.zeros((n, T), dtype=np.bool_)
    x1, x2 = np.empty(n), np.empty(n)
    for i in range(n):
        end = lengths[i] - 1
        x[i, :end + 1, 0] = value[i, :end + 1]
        x[i, 0, 1] = x[i, end, 1] = -1.0
        x[i, first[i], 1] = x[i, second[i], 1] = 1.0
        if first[i] == 0 or second[i] == 0:
            x[i, 0, 0] = first_value
        x1[i], x2[i], mask[i, end] = x[i, first[i], 0], x[i, second[i], 0], True
    return x, mask, x1, x2


class Adding(MarkedPairs):
    """Experiment 4: target 0.5 + (X1 + X2) / 4, which lies in [0, 1]."""

    name, title = "4", "adding problem"
    low, high, first_value = -1.0, 1.0, 0.0

    def combine(self, x1, x2):
        return 0.5 + (x1 + x2) / 4.0


class Multiplication(MarkedPairs):
    """Experiment 5: target X1 * X2, values uniform in [0, 1]."""

    name, title = "5", "multiplication problem"
    low, high, first_value = 0.0, 1.0, 1.0

    def combine(self, x1, x2):
        return x1 * x2
