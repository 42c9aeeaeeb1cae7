"""Experiment 3: noise and signal on the same input line — Bengio et al.'s (1994) "2-sequence
problem" (paper Sec. 5.3).

One real-valued input. Two classes with probability 1/2. Only the first N elements carry the
class (+1.0 for class 1, -1.0 for class 2); every later element is Gaussian noise with mean 0
and *variance* 0.2 (spec decision 10). Lengths are uniform in [T, T + T/10]. The target comes
at the sequence end.

* 3a: targets 1.0 / 0.0; correct when the absolute error is below 0.2.
* 3b: as 3a, plus the same Gaussian noise on the first N elements.
* 3c: targets 0.2 / 0.8 with Gaussian target noise (variance 0.1); the net must learn the
  conditional expectation, so a sequence counts as correct when the output is within 0.1 of
  the noise-free target. The paper does not say whether 3b's input noise is kept: off by
  default (`input_noise=True` keeps it).
"""
from __future__ import annotations

import numpy as np

from .base import Batch, Task, check_int, check_n, check_rng, end_mask

NOISE_VAR = 0.2
TARGET_NOISE_VAR = 0.1


class NoiseAndSignal(Task):
    n_in = n_out = 1

    def __init__(self, T: int = 100, N: int = 3, variant: str = "a", input_noise: bool | None = None):
        if variant not in ("a", "b", "c"):
            raise ValueError(f"variant must be 'a', 'b' or 'c', got {variant!r}")
        self.T = check_int("T (minimal sequence length)", T, 2)
        self.N = check_int("N (number of informative elements)", N, 1)
        if self.N >= self.T:
            raise ValueError(f"N (informative elements, {N}) must be shorter than the sequence (T = {T})")
        self.variant = variant
        self.input_noise = (variant == "b") if input_noise is None else bool(input_noise)
        self.name = "3" + variant
        self.title = {"a": "noise and signal", "b": "noisy signal", "c": "noisy targets"}[variant]
        self.targets = (0.2, 0.8) if variant == "c" else (1.0, 0.0)  # class 1, class 2
        self.threshold = 0.1 if variant == "c" else 0.2

    @property
    def min_lag(self) -> int:
        return self.T - self.N

    def lags(self, batch: Batch) -> np.ndarray:
        return batch.lengths - self.N

    def sample(self, rng: np.random.Generator, n: int) -> Batch:
        rng, n = check_rng(rng), check_n(n)
        cls = (rng.random(n) < 0.5).astype(int)  # 0: class 1, 1: class 2
        lengths = rng.integers(self.T, self.T + self.T // 10 + 1, size=n)
        steps = np.arange(lengths.max())[None, :]
        x = rng.normal(0.0, np.sqrt(NOISE_VAR), size=(n, lengths.max()))
        signal = np.where(cls == 0, 1.0, -1.0)[:, None]
        informative = steps < self.N
        x = np.where(informative, signal + (x if self.input_noise else 0.0), x)
        x = np.where(steps < lengths[:, None], x, 0.0)
        clean = np.array(self.targets)[cls]
        target = clean + (rng.normal(0.0, np.sqrt(TARGET_NOISE_VAR), size=n) if self.variant == "c" else 0.0)
        mask = end_mask(lengths)
        y, last = np.zeros((n, lengths.max(), 1)), (np.arange(n), lengths - 1)   # the True steps of `mask`
        y[last + (0,)] = target   # integer indices: several times faster than y[mask, 0]
        reference = None
        if self.variant == "c":
            reference = np.zeros_like(y)
            reference[last + (0,)] = clean
        return Batch(y=y, mask=mask, lengths=lengths, n_in=1, values=x[:, :, None], reference=reference,
                     info={"cls": cls})
