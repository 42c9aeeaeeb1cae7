"""Experiment 6: temporal order (paper Sec. 5.6).

Eight locally coded symbols E, B, a, b, c, d, X, Y. A sequence starts with E, ends with the
trigger B, and is random from {a, b, c, d} except at two (6a) or three (6b) positions, each
drawn from its own window, that hold X or Y. The class is the order of the X/Y symbols:
6a: XX→Q, XY→R, YX→S, YY→U; 6b: XXX→Q, XXY→R, … YYY→C. The target, at the end, is the class
in a local code; correct when every output's error is below 0.3.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .base import Batch, Task, check_int, check_n, check_rng

SYMBOLS = "EBabcdXY"
E, B, X = 0, 1, 6  # a..d are 2..5, Y is 7
CLASS_NAMES = {2: "QRSU", 3: "QRSUVABC"}


class TemporalOrder(Task):
    """`windows`: 1-based (first, last) positions of each X/Y; `length`: (shortest, longest)."""

    n_in = len(SYMBOLS)
    threshold = 0.3

    def __init__(self, windows=((10, 20), (50, 60)), length=(100, 110)):
        self.length = tuple(check_int("sequence length", v, 3) for v in length)
        if len(self.length) != 2 or self.length[0] > self.length[1]:
            raise ValueError(f"length must be (shortest, longest), got {length!r}")
        self.windows = tuple(tuple(check_int("window position", v, 2) for v in w) for w in windows)
        if len(self.windows) not in CLASS_NAMES:
            raise ValueError(f"need 2 or 3 X/Y windows, got {len(self.windows)}")
        last = 1
        for lo, hi in self.windows:
            if not last < lo <= hi:
                raise ValueError(f"windows must be ordered, disjoint and after position 1, got {windows!r}")
            last = hi
        if last >= self.length[0]:
            raise ValueError(f"the last window ends at {last}, not before the trigger at {self.length[0]}")
        self.n_out = 2 ** len(self.windows)
        self.name = {2: "6a", 3: "6b"}[len(self.windows)]
        self.title = f"temporal order, {len(self.windows)} relevant symbols"

    @property
    def class_names(self) -> str:
        return CLASS_NAMES[len(self.windows)]

    @property
    def min_lag(self) -> int:
        return self.length[0] - self.windows[-1][1]

    def lags(self, batch: Batch) -> np.ndarray:
        return batch.lengths - batch.info["positions"][:, -1]

    def sample(self, rng: np.random.Generator, n: int) -> Batch:
        rng, n = check_rng(rng), check_n(n)
        k = len(self.windows)
        lengths = rng.integers(self.length[0], self.length[1] + 1, size=n)
        pos = np.stack([rng.integers(lo, hi + 1, size=n) - 1 for lo, hi in self.windows], axis=1)
        bits = rng.integers(0, 2, size=(n, k))  # 0: X, 1: Y
        cls = bits @ (2 ** np.arange(k)[::-1])  # first symbol is the most significant bit
        symbols, y, mask = _temporal_order(rng, lengths, pos, bits, cls, self.n_out)
        return Batch(y=y, mask=mask, lengths=lengths, n_in=self.n_in, symbols=symbols,
                     info={"cls": cls, "positions": pos + 1})


@njit(cache=True)
def _temporal_order(rng, lengths, pos, bits, cls, n_out):
    """The sequences laid out, with one draw of their a, b, c, d each, in turn: E first, B last,
    X or Y at `pos`; the target, the class, at B."""
    n = len(lengths)
    symbols = np.full((n, lengths.max()), -1, dtype=np.int64)
    y, mask = np.zeros(symbols.shape + (n_out,)), np.zeros(symbols.shape, dtype=np.bool_)
    for i in range(n):
        end = lengths[i] - 1
        symbols[i, :end + 1] = rng.integers(2, 6, end + 1)
        symbols[i, 0], symbols[i, end], mask[i, end], y[i, end, cls[i]] = E, B, True, 1.0
        for j in range(pos.shape[1]):
            symbols[i, pos[i, j]] = X + bits[i, j]
    return symbols, y, mask
