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
    sq, ab, n = _error_sums(y, batch, batch.y if target is None else target)
    return backend.to_host(sq / n), backend.to_host(ab / n)


def _error_sums(y, batch: Batch, target, where=None):
    """Per sequence: the summed squared and absolute output errors against `target` over the
    target steps, and the number of numbers summed. With `where` (`_Targets`), only the steps
    with a target are read (summed in another order: where a sequence has more than two target
    numbers, the sums may differ from the full ones in the last bit)."""
    xp = backend.xp()
    if where is not None:
        diff = xp.take(y.reshape(-1, y.shape[2]), where.flat, axis=0) - where.of(target)  # (targets, outputs)
        sq, ab = (xp.bincount(where.rows, weights=v, minlength=len(batch))
                  for v in (xp.einsum("ij,ij->i", diff, diff), xp.einsum("ij->i", xp.abs(diff))))
        return sq, ab, where.count * y.shape[2]
    d, m = backend.to_device(target), backend.to_device(batch.mask.astype(float))
    diff = (y - d) * m[:, :, None]
    return (diff ** 2).sum(axis=(1, 2)), xp.abs(diff).sum(axis=(1, 2)), m.sum(axis=1) * y.shape[2]


class _Targets:
    """The (sequence, step) places of a batch's targets, on the device, and the values there of
    the arrays compared with (targets, reference), each gathered once."""

    def __init__(self, mask: np.ndarray):
        rows, steps = np.nonzero(mask)
        self.rows, self.flat = backend.to_device(rows), backend.to_device(rows * mask.shape[1] + steps)
        self.count, self._where, self._of = backend.to_device(np.bincount(rows, minlength=len(mask))), (rows, steps), {}

    def of(self, target: np.ndarray):
        if id(target) not in self._of:
            self._of[id(target)] = (target, backend.to_device(target[self._where]))  # keeps target alive
        return self._of[id(target)][1]


LIMIT = 1 << 22  # numbers (32 MB of float64) in the outputs, or the weights, one call of the learner makes
BLOCKS = 8  # blocks of sequences (one network's weights each) per call, at least: work for 8 threads


class Stacked:
    """Several networks' test sets, one per network and of one size, stacked once and cut into
    the calls `evaluate` makes, each holding as many sequences as keep the learner's outputs
    under `LIMIT` numbers. A call runs blocks of k sequences of one network with its weights
    (`Learner.forward_many`: the compiled kernel reads them in place, one copy per block, not
    per sequence): k is the largest divisor of a test set's size that leaves at least `BLOCKS`
    blocks per call (a whole set per block for Exp. 1's 30 trials of 512 strings, one call in
    all; 32 sequences per block, 12 blocks per call, for Exp. 2a's 101 outputs over 100 steps).
    A run keeps one while its trials stay the same, so an evaluation neither stacks nor cuts the
    sets again.

    `parts`: (sequences, the network of each block, k, the network of each sequence, the steps
    each runs, where its targets are (or None))."""

    def __init__(self, tests: list[Batch], n_weights: int):
        S = len(tests[0])
        if any(len(t) != S for t in tests):
            raise ValueError(f"evaluate needs one test set of one size per network: test sets of "
                             f"{[len(t) for t in tests]} sequences")
        self.tests, self.size = tests, S
        batch, owner = stack(tests), np.repeat(np.arange(len(tests)), S)
        rows = max(1, LIMIT // (batch.y.shape[1] * batch.y.shape[2]))  # sequences whose outputs fit
        k = max([d for d in range(1, S + 1) if S % d == 0 and rows // d >= BLOCKS], default=1)
        step = k * max(1, min(rows // k, LIMIT // n_weights))  # the weights of its blocks fit too
        self.parts = []
        for i in range(0, len(batch), step):
            part = batch.take(slice(i, i + step))
            # where the targets fill at most half the padded steps (at the end alone, or sequences
            # of many lengths as in Exp. 1), where they are: only those steps are read
            where = _Targets(part.mask) if part.mask.mean() <= 0.5 else None
            self.parts.append((part, owner[i:i + step:k], k, owner[i:i + step], part.steps, where))

    def __len__(self) -> int:
        return len(self.tests)


def evaluate(learner: Learner, theta, task: Task, tests, squared: bool = False):
    """Mean test loss, number of sequences wrong and mean absolute error (against the task's
    reference: the noise-free targets of 3c) of each network on its own test set: (B,) arrays;
    with `squared`, also the mean squared error against the reference (Table 8's "MSE").

    `tests` is a list of test sets, one per network, or those `Stacked` already: they run
    stacked, in as few calls of the learner as keep its outputs under 32 MB. A task with a test of its own (`judge`: the continual Reber grammar's, which stops
    a stream at its first error) runs it instead for a learner that can carry its state across
    calls (`carries_state`); its loss and error then cover only the steps run."""
    own = tests.tests if isinstance(tests, Stacked) else tests
    B = theta.shape[0]
    if len(own) != B:
        raise ValueError(f"evaluate needs one test set of one size per network: {B} networks, "
                         f"test sets of {[len(t) for t in own]} sequences")
    if task.own_test and learner.carries_state and not squared:
        return task.judge(learner, theta, own)
    stacked = tests if isinstance(tests, Stacked) else Stacked(tests, theta.shape[1])
    sums = np.zeros((4, B))  # loss, wrong, absolute and squared error, summed per network
    for part, nets, k, owner, steps, where in stacked.parts:
        inputs = part.symbols if learner.takes_symbols and part.symbols is not None else backend.to_device(part.x)
        _, y = learner.forward_many(theta[backend.to_device(nets)], inputs, k, steps)
        reference = task.reference(part)
        sq, ab, n = _error_sums(y, part, reference, where)
        # the loss (`Batch.loss`) is 1/2 the summed squared error against the targets
        loss = 0.5 * (sq if reference is part.y else _error_sums(y, part, part.y, where)[0])
        for i, v in enumerate((loss, ~task.correct(y, part), ab / n, sq / n)):
            sums[i] += np.bincount(owner, weights=backend.to_host(v), minlength=B)
    S = stacked.size
    loss, wrong, abs_err, sq_err = sums
    return (loss / S, wrong.astype(int), abs_err / S) + ((sq_err / S,) if squared else ())


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
