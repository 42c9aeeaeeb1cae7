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
from .tasks.base import Batch, Task, stack


def sequence_errors(y, batch: Batch, target=None):
    """Per sequence: mean squared and mean absolute output error over the target steps, (B,) each,
    against `target` (the training targets by default)."""
    xp = backend.xp()
    d = backend.to_device(batch.y if target is None else target)
    m = backend.to_device(batch.mask.astype(float))
    diff = (y - d) * m[:, :, None]
    n = m.sum(axis=1) * y.shape[2]
    return (backend.to_host((diff ** 2).sum(axis=(1, 2)) / n),
            backend.to_host(xp.abs(diff).sum(axis=(1, 2)) / n))


def evaluate(learner: Learner, theta, task: Task, tests: list[Batch], squared: bool = False):
    """Mean test loss, number of sequences wrong and mean absolute error (against the task's
    reference: the noise-free targets of 3c) of each network on its own test set: (B,) arrays;
    with `squared`, also the mean squared error against the reference (Table 8's "MSE").

    The networks' test sets run stacked, as many sequences per call of the learner as keep its
    outputs and weights under 32 MB each (`rows_per_call`): one call for Exp. 1's 30 trials, 33
    for Exp. 2a's 18 trials of 10,000 sequences. A task with a test of its own (`judge`: the
    continual Reber grammar's, which stops a stream at its first error) runs it instead for a
    learner that can carry its state across calls (`carries_state`); its loss and error then
    cover only the steps run."""
    if task.own_test and learner.carries_state and not squared:
        return task.judge(learner, theta, tests)
    B, S = theta.shape[0], len(tests[0])
    if len(tests) != B or any(len(t) != S for t in tests):
        raise ValueError(f"evaluate needs one test set of one size per network: {B} networks, "
                         f"test sets of {[len(t) for t in tests]} sequences")
    batch, owner = stack(tests), np.repeat(np.arange(B), S)
    sums = np.zeros((4, B))  # loss, wrong, absolute and squared error, summed per network
    step = rows_per_call(batch, theta.shape[1])
    symbols = learner.takes_symbols and batch.symbols is not None
    for start in range(0, len(batch), step):
        part, own = batch.take(slice(start, start + step)), owner[start:start + step]
        _, y = learner.forward(theta[backend.to_device(own)], part.symbols if symbols else backend.to_device(part.x),
                                part.steps)
        sq, ab = sequence_errors(y, part, task.reference(part))
        for i, v in enumerate((backend.to_host(part.loss(y)), ~task.correct(y, part), ab, sq)):
            sums[i] += np.bincount(own, weights=v, minlength=B)
    loss, wrong, abs_err, sq_err = sums
    return (loss / S, wrong.astype(int), abs_err / S) + ((sq_err / S,) if squared else ())


def rows_per_call(batch: Batch, n_weights: int, limit: int = 1 << 22) -> int:
    """Test sequences per call of the learner that keep its outputs, (rows, T, n_out), and the
    weights it reads, (rows, P), under `limit` numbers (32 MB of float64) each."""
    return max(1, min(limit // (batch.y.shape[1] * batch.y.shape[2]), limit // n_weights))


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
