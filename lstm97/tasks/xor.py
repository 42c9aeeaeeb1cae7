"""The strongly delayed XOR problem: the first limitation the paper names (Sec. 6, spec Sec. 6).

"The efficient truncated version will not easily solve problems such as strongly delayed XOR
problems, where the goal is to compute the XOR of two widely separated inputs that previously
occurred somewhere in a noisy sequence. The reason is that storing only one of the inputs will
not help to reduce the expected error." The paper gives no protocol; ours borrows the adding
problem's (Exp. 4) layout, so that the two tasks differ only in what is asked at the end:

* each step is a pair (value, marker); two pairs are marked with 1.0, all others 0.0;
* a marked pair's value is a bit, -1.0 or +1.0 (each with probability 1/2, independently);
  an unmarked pair's value is noise, uniform in [-1, 1];
* lengths are uniform in [T, T + T/10];
* ``delayed=True``: the first mark is one of the first T/10 pairs, the second one of the T/10
  pairs before pair T/2 — at least 3T/10 + 1 steps apart, and at least T/2 steps before the end;
  ``delayed=False``, the control: the two marks are the last two pairs (1 step apart, no lag to
  bridge), with the same noise before them;
* the target, at the end only, is their XOR: 1.0 if the bits differ, 0.0 if they are equal;
  correct: absolute error below 0.2 (as in Exp. 3's classification).

Given either bit alone the target is 1 or 0 with probability 1/2 each, so a net that has stored
one bit can do no better than one that has stored none (answer 0.5, mean squared error 0.25):
no partial solution lowers the error, which is the paper's reason why the truncated gradient
finds none.
"""
from __future__ import annotations

import numpy as np

from .base import Batch, Task, check_int, check_n, check_rng, end_mask


class DelayedXOR(Task):
    name, title = "xor", "strongly delayed XOR"
    n_in, n_out = 2, 1
    threshold = 0.2

    def __init__(self, T: int = 100, delayed: bool = True):
        self.T = check_int("T (minimal sequence length)", T, 20)
        if not isinstance(delayed, bool):
            raise ValueError(f"delayed must be True or False, got {delayed!r}")
        self.delayed = delayed

    @property
    def min_lag(self) -> int:
        return self.T // 2 if self.delayed else 0

    def lags(self, batch: Batch) -> np.ndarray:
        return batch.end - batch.info["marks"].max(axis=1)

    def sample(self, rng: np.random.Generator, n: int) -> Batch:
        rng, n = check_rng(rng), check_n(n)
        lengths = rng.integers(self.T, self.T + self.T // 10 + 1, size=n)
        Tmax, rows = int(lengths.max()), np.arange(n)
        value = rng.uniform(-1.0, 1.0, size=(n, Tmax))
        bits = rng.choice([-1.0, 1.0], size=(n, 2))
        w = self.T // 10
        if self.delayed:
            first = rng.integers(0, w, size=n)
            second = rng.integers(self.T // 2 - w, self.T // 2, size=n)
        else:
            first, second = lengths - 2, lengths - 1
        marker = np.zeros((n, Tmax))
        marker[rows, first] = marker[rows, second] = 1.0
        value[rows, first], value[rows, second] = bits[:, 0], bits[:, 1]
        inside = np.arange(Tmax)[None, :] < lengths[:, None]
        value, marker = np.where(inside, value, 0.0), np.where(inside, marker, 0.0)
        mask = end_mask(lengths)
        y = np.zeros((n, Tmax, 1))
        xor = (bits[:, 0] != bits[:, 1]).astype(float)
        y[mask, 0] = xor
        return Batch(y=y, mask=mask, lengths=lengths, n_in=2, values=np.stack([value, marker], axis=2),
                     info={"marks": np.stack([first, second], axis=1), "bits": bits, "cls": xor.astype(int)})
