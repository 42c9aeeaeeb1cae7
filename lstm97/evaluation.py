"""How well a network does on test sequences: the test sets of the stopping rules (ST1, ST2), the
paper's extra test set after training (Exp. 3's 2560 sequences), and the error of a sequence.

Each trial meets its own test sequences with its own weights; the error measures are the paper's
(the fraction of sequences wrong, the mean absolute error against the noise-free reference of 3c,
Table 8's mean squared error).
"""
from __future__ import annotations

import numpy as np

from . import backend
from .learner import Learner
from .tasks.base import Batch, Task


def sequence_errors(y, batch: Batch, target=None):
    """Per sequence: mean squared and mean absolute output error over the target steps, (B,) each,
    against `target` (the training targets by default)."""
    return output_errors(y, batch.y if target is None else target, batch.mask)


def output_errors(y, d, mask):
    """`sequence_errors` of outputs `y` against targets `d` at the steps of `mask`, (B, T) each."""
    xp = backend.xp()
    d = backend.to_device(d)
    m = backend.to_device(mask.astype(float))
    diff = (y - d) * m[:, :, None]
    n = m.sum(axis=1) * y.shape[2]
    return (backend.to_host((diff ** 2).sum(axis=(1, 2)) / n),
            backend.to_host(xp.abs(diff).sum(axis=(1, 2)) / n))


def evaluate(learner: Learner, theta, task: Task, tests: list[Batch], chunk: int = 256, squared: bool = False):
    """Mean test loss, number of sequences wrong and mean absolute error (against the task's
    reference: the noise-free targets of 3c) of each network on its own test set: (B,) arrays;
    with `squared`, also the mean squared error against the reference (Table 8's "MSE").

    Each network runs over its test set in chunks of `chunk` sequences, so memory stays small
    for large test sets (10,000 sequences in Exp. 2) and large nets. A task with a test of its own
    (`judge`: the continual Reber grammar's, which stops a stream at its first error) runs it
    instead for a learner that can carry its state across calls (`carries_state`); its loss and error
    then cover only the steps run."""
    if task.own_test and learner.carries_state and not squared:
        return task.judge(learner, theta, tests)
    xp = backend.xp()
    B = theta.shape[0]
    loss, wrong, abs_err, sq_err = np.zeros(B), np.zeros(B, dtype=int), np.zeros(B), np.zeros(B)
    for b, test in enumerate(tests):
        for start in range(0, len(test), chunk):
            part = test.take(slice(start, start + chunk))
            rep = xp.repeat(theta[b:b + 1], len(part), axis=0)
            symbols = learner.takes_symbols and part.symbols is not None
            _, y = learner.forward(rep, part.symbols if symbols else backend.to_device(part.x))
            loss[b] += float(backend.to_host(part.loss(y).sum()))
            wrong[b] += int((~task.correct(y, part)).sum())
            sq, ab = sequence_errors(y, part, task.reference(part))
            abs_err[b] += ab.sum()
            sq_err[b] += sq.sum()
    S = len(tests[0])
    return (loss / S, wrong, abs_err / S) + ((sq_err / S,) if squared else ())


def extra_test(learner: Learner, task: Task, weights: np.ndarray, size: int, seed: int, squared: bool = False):
    """Fraction of `size` fresh sequences that each trial's `weights` gets wrong, and the mean
    absolute error against the task's reference: the paper's extra test set after ST2 (2560
    sequences in Exp. 3); with `squared`, also the mean squared error (Table 8's "MSE": per
    sequence the squared error averaged over its target steps and outputs, then averaged over the
    sequences). Trial k's set comes from (seed, k) alone, apart from its training and test
    streams; rows of `weights` with NaN (trials never solved) give NaN."""
    out = tuple(np.full(len(weights), np.nan) for _ in range(3 if squared else 2))
    for k, w in enumerate(weights):
        if np.isfinite(w).all():
            rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(k, 3)))
            _, wrong, *errors = evaluate(learner, backend.to_device(w[None]), task, [task.sample(rng, size)],
                                         squared=squared)
            out[0][k] = wrong[0] / size
            for a, e in zip(out[1:], errors):
                a[k] = e[0]
    return out
