"""Experiment 2: long time lags without noise (2a), without local regularities (2b), and very
long lags among many distractors (2c) (paper Sec. 5.2). All inputs are locally coded.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .base import Batch, Task, check_int, check_n, check_rng, one_hot, step_mask


class NoiseFreeLag(Task):
    """Task 2a. Symbols a_1..a_{p-1}, x = a_p, y = a_{p+1} (p+1 input and output units). The
    training set holds two sequences, (y, a_1, …, a_{p-1}, y) and (x, a_1, …, a_{p-1}, x), each
    drawn with probability 1/2. The net predicts the next symbol at every step; only the last
    one needs memory, of the first symbol, p steps back. Success: for 10,000 successive random
    sequences, the maximal absolute error of all outputs at every step stays below 0.25.

    With ``random_middle=True`` this is task 2b: the middle is p-1 symbols drawn uniformly and
    independently from {a_1..a_{p-1}}, and only the final prediction is scored.
    """

    threshold = 0.25

    def __init__(self, p: int = 100, random_middle: bool = False):
        self.p = check_int("p (the delay)", p, 2)
        self.random_middle = bool(random_middle)
        self.name, self.title = ("2b", "no local regularities") if random_middle else ("2a", "noise-free sequences")
        self.scored = "end" if random_middle else "all"
        self.n_in = self.n_out = self.p + 1

    # symbol indices: a_1..a_{p-1} -> 0..p-2, x -> p-1, y -> p
    @property
    def x(self) -> int:
        return self.p - 1

    @property
    def y(self) -> int:
        return self.p

    @property
    def min_lag(self) -> int:
        return self.p - 1  # first symbol is input at step 1, asked for at step p

    def lags(self, batch: Batch) -> np.ndarray:
        return batch.lengths - 1

    def sample(self, rng: np.random.Generator, n: int) -> Batch:
        rng, n, p = check_rng(rng), check_n(n), self.p
        first = np.where(rng.random(n) < 0.5, self.x, self.y)
        if self.random_middle:
            middle = rng.integers(0, p - 1, size=(n, p - 1))
        else:
            middle = np.broadcast_to(np.arange(p - 1), (n, p - 1))
        seq = np.concatenate([first[:, None], middle, first[:, None]], axis=1)  # (n, p+1)
        lengths = np.full(n, p)
        return Batch(y=one_hot(seq[:, 1:], self.n_out), mask=step_mask(lengths), lengths=lengths,
                     n_in=self.n_in, symbols=seq[:, :-1].copy(), info={"first": first})


class VeryLongLag(Task):
    """Task 2c. p distractors a_1..a_p, trigger e, begin b, and the two classes x, y (p+4 input
    units, 2 output units). A sequence is b, x|y, q random distractors, then more distractors
    until e arrives (probability 1/10 at each further step), and its final element repeats the
    class. The target, given only at the step that reads e, is the class (local code on the two
    outputs). Success: both outputs' errors below 0.2 for 10,000 successive random sequences.

    We generate by the stated procedure (spec decision 7): its expected length is q + 13, while
    the paper's formula says q + 14; and the distractor indices run to p, not q (a typo).
    """

    name, title = "2c", "very long time lags"
    n_out = 2
    threshold = 0.2

    def __init__(self, p: int = 100, q: int = 100, p_trigger: float = 0.1):
        self.p = check_int("p (number of distractor symbols)", p, 1)
        self.q = check_int("q (minimal number of distractors)", q, 1)
        if not 0.0 < p_trigger <= 1.0:
            raise ValueError(f"p_trigger must be in (0, 1], got {p_trigger}")
        self.p_trigger = float(p_trigger)
        self.n_in = self.p + 4

    # symbol indices: a_1..a_p -> 0..p-1, e -> p, b -> p+1, x -> p+2, y -> p+3
    @property
    def e(self) -> int:
        return self.p

    @property
    def b(self) -> int:
        return self.p + 1

    @property
    def min_lag(self) -> int:
        return self.q + 1  # class read at step 2, e at step q+3 at the earliest

    def lags(self, batch: Batch) -> np.ndarray:
        return batch.lengths - 2  # class at step 1, target at the last step

    def sample(self, rng: np.random.Generator, n: int) -> Batch:
        rng, n = check_rng(rng), check_n(n)
        cls = (rng.random(n) < 0.5).astype(np.int64)       # 0: x, 1: y
        extra = rng.geometric(self.p_trigger, size=n) - 1  # distractors after the first q
        symbols, y, mask, lengths = _very_long_lags(rng, self.p, self.q, cls, extra)
        return Batch(y=y, mask=mask, lengths=lengths, n_in=self.n_in, symbols=symbols, info={"cls": cls})


@njit(cache=True)
def _very_long_lags(rng, p, q, cls, extra):
    """2c's sequences laid out, with one draw of their q + k distractors each, in turn: b, x|y,
    the distractors, e; the target, the class, at e."""
    n, lengths = len(cls), q + extra + 3
    symbols = np.full((n, lengths.max()), -1, dtype=np.int64)
    y, mask = np.zeros(symbols.shape + (2,)), np.zeros(symbols.shape, dtype=np.bool_)
    for i in range(n):
        end = lengths[i] - 1
        symbols[i, 0], symbols[i, 1] = p + 1, p + 2 + cls[i]
        symbols[i, 2:end] = rng.integers(0, p, end - 2)
        symbols[i, end], mask[i, end], y[i, end, cls[i]] = p, True, 1.0
    return symbols, y, mask, lengths
