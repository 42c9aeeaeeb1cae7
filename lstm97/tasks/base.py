"""What every task of the paper shares: a batch of padded sequences and a success criterion.

A *task* draws sequences on the host from a seeded `numpy.random.Generator` and says, for each
sequence, whether a network's outputs count as correct by the paper's criterion. Stopping rules
built on top of that (ST1, ST2, ST3 …) belong to training, not here.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field

import numpy as np

from .. import backend


@dataclass(frozen=True)
class Batch:
    """B sequences padded to a common length T (the longest in the batch).

    Exactly one of `values` (real-valued inputs) and `symbols` (locally coded inputs) is set;
    `x` gives the dense input either way.
    """

    y: np.ndarray          # (B, T, n_out) targets, zero where `mask` is False
    mask: np.ndarray       # (B, T) bool: the steps whose error trains the net
    lengths: np.ndarray    # (B,) number of input steps of each sequence
    n_in: int
    values: np.ndarray | None = None   # (B, T, n_in) real inputs, zero past each end
    symbols: np.ndarray | None = None  # (B, T) index of the active input unit, -1 past each end
    # (B, T, n_out) what the success criterion compares with where that is not `y`: the
    # noise-free targets (3c) or the set of legal next symbols (1)
    reference: np.ndarray | None = None
    info: dict = field(default_factory=dict)  # per-sequence facts (leading axis B): class, marks …

    def __post_init__(self):
        if (self.values is None) == (self.symbols is None):
            raise ValueError("a Batch holds exactly one of `values` and `symbols`")

    def __len__(self) -> int:
        return len(self.lengths)

    @property
    def x(self) -> np.ndarray:
        """Dense inputs, shape (B, T, n_in); one-hot rows for locally coded tasks."""
        if self.values is not None:
            return self.values
        return one_hot(self.symbols, self.n_in)

    def on_device(self):
        """(inputs, targets, mask as 0/1 floats) on the active backend."""
        return (backend.to_device(self.x), backend.to_device(self.y),
                backend.to_device(self.mask.astype(float)))

    def loss(self, outputs):
        """Per sequence, 1/2 the squared output error summed over the steps with a target: (B,),
        on the active backend (the loss every gradient of the book differentiates)."""
        d, m = backend.to_device(self.y), backend.to_device(self.mask.astype(float))
        return 0.5 * (m[:, :, None] * (outputs - d) ** 2).sum(axis=(1, 2))

    @property
    def steps(self) -> np.ndarray:
        """The steps each sequence runs, (B,): to its last input or its last target, whichever
        comes later, not to the end of the longest beside it."""
        T = self.mask.shape[1]
        last_target = np.where(self.mask.any(axis=1), T - np.argmax(self.mask[:, ::-1], axis=1), 0)
        return np.maximum(self.lengths, last_target)

    @property
    def end(self) -> np.ndarray:
        """Index of each sequence's last input step, shape (B,)."""
        return self.lengths - 1

    def take(self, index) -> "Batch":
        """The sequences at `index` (an int, slice or index array), trimmed to their longest."""
        index = np.atleast_1d(np.arange(len(self))[index])
        T = int(self.lengths[index].max())

        def cut(a):
            return None if a is None else a[index, :T]

        return Batch(y=cut(self.y), mask=cut(self.mask), lengths=self.lengths[index], n_in=self.n_in,
                     values=cut(self.values), symbols=cut(self.symbols), reference=cut(self.reference),
                     info={k: _take(v, index) for k, v in self.info.items()})


def _take(v, index):
    return v[index] if isinstance(v, np.ndarray) else [v[i] for i in index]


def stack(batches: list[Batch]) -> Batch:
    """One batch holding the sequences of several, padded to the longest."""
    first = batches[0]
    T = max(b.y.shape[1] for b in batches)

    def cat(name, fill):
        parts = [getattr(b, name) for b in batches]
        if parts[0] is None:
            return None
        out = np.full((sum(len(p) for p in parts), T) + parts[0].shape[2:], fill, dtype=parts[0].dtype)
        row = 0
        for p in parts:
            out[row: row + len(p), : p.shape[1]] = p
            row += len(p)
        return out

    info = {}
    for k, v in first.info.items():
        vs = [b.info[k] for b in batches]
        info[k] = np.concatenate(vs) if isinstance(v, np.ndarray) else [x for part in vs for x in part]
    return Batch(y=cat("y", 0.0), mask=cat("mask", False), lengths=np.concatenate([b.lengths for b in batches]),
                 n_in=first.n_in, values=cat("values", 0.0), symbols=cat("symbols", -1),
                 reference=cat("reference", 0.0), info=info)


def gather(batches: list[Batch], starts, k: int) -> Batch:
    """Rows `starts[j]` … `starts[j] + k - 1` of each batch j, stacked in that order and trimmed
    to their longest: `stack(batches).take(those rows)` in one copy instead of two."""
    lengths = np.concatenate([b.lengths[s:s + k] for b, s in zip(batches, starts)])
    T, first = int(lengths.max()), batches[0]

    def cat(name, fill):
        parts = [getattr(b, name) for b in batches]
        if parts[0] is None:
            return None
        out = np.full((len(lengths), T) + parts[0].shape[2:], fill, dtype=parts[0].dtype)
        for j, (p, s) in enumerate(zip(parts, starts)):
            piece = p[s:s + k, :T]
            out[j * k:(j + 1) * k, :piece.shape[1]] = piece
        return out

    info = {}
    for key, v in first.info.items():
        vs = [b.info[key][s:s + k] for b, s in zip(batches, starts)]
        info[key] = np.concatenate(vs) if isinstance(v, np.ndarray) else [x for part in vs for x in part]
    return Batch(y=cat("y", 0.0), mask=cat("mask", False), lengths=lengths, n_in=first.n_in,
                 values=cat("values", 0.0), symbols=cat("symbols", -1), reference=cat("reference", 0.0), info=info)


def one_hot(symbols: np.ndarray, n: int) -> np.ndarray:
    """Local code: row k of the identity for symbol k, a zero row for -1 (padding)."""
    out = np.zeros(symbols.shape + (n,))
    valid = symbols >= 0
    out[valid, symbols[valid]] = 1.0
    return out


def pad(rows: list[np.ndarray], fill) -> np.ndarray:
    """Stack 1-d (or n-d) arrays of different lengths along a new leading axis, padded with `fill`."""
    T = max(len(r) for r in rows)
    out = np.full((len(rows), T) + rows[0].shape[1:], fill, dtype=np.result_type(rows[0], fill))
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out


def end_mask(lengths: np.ndarray) -> np.ndarray:
    """(B, T) mask that is True only at each sequence's last step."""
    mask = np.zeros((len(lengths), int(lengths.max())), dtype=bool)
    mask[np.arange(len(lengths)), lengths - 1] = True
    return mask


def step_mask(lengths: np.ndarray) -> np.ndarray:
    """(B, T) mask that is True at every real (non-padding) step."""
    return np.arange(int(lengths.max()))[None, :] < lengths[:, None]


def check_int(name: str, value, minimum: int) -> int:
    """`value` as an int, or a ValueError naming the parameter and its bound."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def check_rng(rng) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"pass a numpy.random.Generator (e.g. numpy.random.default_rng(seed)), got {type(rng).__name__}"
        )
    return rng


def check_n(n) -> int:
    return check_int("n (number of sequences)", n, 1)


class Task:
    """A sequence task of the paper: `sample` draws a `Batch`, `correct` applies the criterion.

    The default criterion is the paper's ABS(threshold): every output's absolute error is below
    `threshold` at the scored steps — the last step (`scored = "end"`) or every step (`"all"`).
    """

    name: str = ""
    title: str = ""
    n_in: int
    n_out: int
    threshold: float
    scored: str = "end"
    own_test: bool = False  # `judge` replaces `evaluation.evaluate`'s test, sequence by sequence

    def sample(self, rng: np.random.Generator, n: int) -> Batch:
        raise NotImplementedError

    def for_trial(self, seed: int, trial: int) -> "Task":
        """The task one trial of a run trains on: this one, unless the protocol fixes a data set
        per trial (Exp. 1's training/test set pairs)."""
        return self

    def test_set(self, rng: np.random.Generator, n: int) -> Batch:
        """One trial's test set: `n` sequences drawn afresh (a fixed set where the protocol has one)."""
        return self.sample(rng, n)

    @property
    def min_lag(self) -> int:
        """The smallest value `lags` can take under the task's parameters."""
        raise NotImplementedError

    def lags(self, batch: Batch) -> np.ndarray:
        """Per sequence, steps from the last input the decisive target depends on to that target."""
        raise NotImplementedError

    def judge(self, learner, theta, tests: list[Batch]):
        """With `own_test`: the test of this task (as `evaluation.evaluate` returns it) for a learner
        that `carries_state`."""
        raise NotImplementedError(f"{self.name} has no test of its own")

    def reference(self, batch: Batch) -> np.ndarray:
        """What outputs are compared with: `batch.reference` where set, else the targets."""
        return batch.y if batch.reference is None else batch.reference

    def correct(self, outputs, batch: Batch) -> np.ndarray:
        """Per-sequence success, shape (B,), for outputs of shape (B, T, n_out) on either backend."""
        out = backend.to_host(outputs)
        if out.shape != batch.y.shape:
            raise ValueError(f"outputs have shape {out.shape}, expected {batch.y.shape} (B, T, n_out)")
        if self.scored == "end":  # the last steps alone: (B, n_out)
            rows = np.arange(len(batch))
            return np.abs(out[rows, batch.end] - self.reference(batch)[rows, batch.end]).max(axis=1) < self.threshold
        err = np.abs(out - self.reference(batch)).max(axis=2)  # (B, T): worst output unit
        err = np.where(step_mask(batch.lengths), err, 0.0)
        return err.max(axis=1) < self.threshold

    def __repr__(self) -> str:
        names = inspect.signature(type(self).__init__).parameters
        params = ", ".join(f"{k}={getattr(self, k)!r}" for k in names if k != "self" and hasattr(self, k))
        return f"{type(self).__name__}({params})"
