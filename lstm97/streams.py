"""Where a run's data and initial weights come from: trial k of a run with seed s draws its initial
weights, its training sequences and its test set from three generators derived from (s, k) alone
(`trial_rngs`), so a trial's result does not depend on how many trials run beside it, and every
backend sees the same data (drawn by NumPy on the host). Training sequences come in chunks
(`Stream`); the trials still training draw in step (`Lockstep`). A stream's state is two numbers
and a generator state, which a checkpoint keeps.
"""
from __future__ import annotations

import numpy as np

from .tasks.base import Batch, Task, gather

CHUNK = 64  # sequences drawn per call to the task generator, per trial


def trial_rngs(seed: int, trial: int) -> tuple[np.random.Generator, ...]:
    """(weights, training data, test data) generators of one trial, from (seed, trial) alone."""
    children = np.random.SeedSequence(seed, spawn_key=(trial,)).spawn(3)
    return tuple(np.random.default_rng(c) for c in children)


def initial_weights(learner, seed: int, trials: int) -> np.ndarray:
    """The weights each trial of a run starts from, (trials, P) on the host: from (seed, k) alone."""
    return np.concatenate([learner.init(trial_rngs(seed, k)[0], 1) for k in range(trials)])


class Stream:
    """An endless stream of training sequences from one generator, drawn `CHUNK` at a time into
    `buffer`; `take(k)` says where the next k of them start."""

    def __init__(self, task: Task, rng: np.random.Generator):
        self.task, self.rng, self.buffer, self.i = task, rng, None, CHUNK
        self.chunk_state = None  # the generator's state before drawing the current chunk

    def take(self, k: int) -> int:
        """Index in `buffer` of the next of `k` sequences in a row (all in one chunk), drawing a
        new chunk when the last is used up."""
        if self.i == CHUNK:
            self.chunk_state = self.rng.bit_generator.state
            self.buffer, self.i = self.task.sample(self.rng, CHUNK), 0
        self.i += k
        return self.i - k

    def state(self) -> dict:
        return {"chunk_state": self.chunk_state, "i": self.i}

    def restore(self, state: dict):
        """Continue exactly where a stream with this `state()` was."""
        if state["chunk_state"] is not None:
            self.rng.bit_generator.state = state["chunk_state"]
            self.chunk_state = state["chunk_state"]
            self.buffer = self.task.sample(self.rng, CHUNK)
        self.i = state["i"]


class Lockstep:
    """The next sequences of several streams, stacked into one batch.

    The trials still training draw in step, so every call takes the same rows of each trial's
    chunk and copies them once into the batch (`gather`). Stacking the chunks and then taking
    rows, or a Batch per sequence stacked, cost more than training on them when sequences are
    short (2c-1, 20 trials: 1.9 of the 5.0 ms an iteration took, per sequence).
    """

    def __init__(self, streams: list[Stream]):
        self.streams = streams

    def next(self, active) -> Batch:
        return self.next_many(active, 1)

    def ready(self, active) -> int:
        """How many sequences every active stream gives before one of them must draw again."""
        return min(CHUNK - i if i < CHUNK else CHUNK for i in (self.streams[k].i for k in active))

    def next_many(self, active, k: int) -> Batch:
        """The next `k` (at most `ready`) sequences of each active stream, stacked network by
        network: rows j*k … j*k+k-1 are those of the j-th active trial."""
        if k > self.ready(active):
            raise ValueError(f"{k} sequences asked, {self.ready(active)} ready before a stream draws again")
        starts = [self.streams[j].take(k) for j in active]
        return gather([self.streams[j].buffer for j in active], starts, k)

    def row_size(self, active) -> int:
        """Numbers in one row of the outputs over the active streams' current chunks: the
        longest sequence's steps × the outputs (1 before the first draw)."""
        return max((s.buffer.y.shape[1] * s.buffer.y.shape[2] for s in (self.streams[j] for j in active)
                    if s.buffer is not None), default=1)
