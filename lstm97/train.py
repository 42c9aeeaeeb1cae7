"""Online training of many independent networks side by side, and the record of a run.

Each trial is one network with its own initial weights, its own stream of training sequences
and its own test set; all trials advance together as one batched computation, one sequence
per network per iteration. Trial k's streams are derived from (seed, k) alone, so its result
does not depend on how many other trials run beside it.

A trial counts as solved the first time all of its `test_size` test sequences pass the task's
criterion (checked every `eval_every` sequences); this is the paper's ST1-style test. Chapter 6
adds the paper's other stopping rules.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import numpy as np
from tqdm.auto import tqdm

from . import backend, scale
from .tasks.base import Batch, Task, stack

CHUNK = 64  # sequences drawn per call to the task generator, per trial


def trial_rngs(seed: int, trial: int) -> tuple[np.random.Generator, ...]:
    """(weights, training data, test data) generators of one trial, from (seed, trial) alone."""
    children = np.random.SeedSequence(seed, spawn_key=(trial,)).spawn(3)
    return tuple(np.random.default_rng(c) for c in children)


class Stream:
    """An endless stream of single training sequences from one generator."""

    def __init__(self, task: Task, rng: np.random.Generator):
        self.task, self.rng, self.buffer, self.i = task, rng, None, CHUNK

    def next(self) -> Batch:
        if self.i == CHUNK:
            self.buffer, self.i = self.task.sample(self.rng, CHUNK), 0
        self.i += 1
        return self.buffer.take(self.i - 1)


@dataclass
class Run:
    """What a training run did, with its provenance; every field is plain data (JSON-able)."""

    learner: str
    task: str
    lr: float
    trials: int
    seed: int
    max_sequences: int
    eval_every: int
    test_size: int
    scale: str
    backend: str
    sequences: list = field(default_factory=list)      # sequences seen at each evaluation
    test_loss: list = field(default_factory=list)      # [evaluation][trial] mean loss on the test set
    test_correct: list = field(default_factory=list)   # [evaluation][trial] fraction of test sequences correct
    solved_after: list = field(default_factory=list)   # [trial] sequences until solved, None if never
    wall_time: float = 0.0

    @property
    def solved(self) -> np.ndarray:
        return np.array([s is not None for s in self.solved_after])

    @property
    def success_rate(self) -> float:
        return float(self.solved.mean())

    def as_dict(self) -> dict:
        return asdict(self)


def evaluate(learner, theta, task: Task, tests: list[Batch]):
    """Mean test loss and fraction correct of each network on its own test set: two (B,) arrays."""
    xp = backend.xp()
    S = len(tests[0])
    batch = stack(tests)
    rep = xp.repeat(theta, S, axis=0)  # network b sees test sequences b*S .. b*S + S - 1
    _, y = learner.forward(rep, backend.to_device(batch.x))
    d, m = backend.to_device(batch.y), backend.to_device(batch.mask.astype(float))
    loss = backend.to_host(0.5 * (m[:, :, None] * (y - d) ** 2).sum(axis=(1, 2)))
    ok = task.correct(y, batch)
    B = theta.shape[0]
    return loss.reshape(B, S).mean(axis=1), ok.reshape(B, S).mean(axis=1)


def train(learner, task: Task, *, lr: float, trials: int, max_sequences: int, seed: int = 0,
          eval_every: int = 100, test_size: int = 256, stop_when_solved: bool = True,
          progress: bool = True) -> Run:
    """Train `trials` independent networks online, one sequence per network per iteration.

    `learner` provides `name`, `init(rng, n)`, `forward(theta, x)` and `train_step(theta,
    batch, lr)`; `RNN` (chapter 2) is one. Returns a `Run`.
    """
    for name, v in (("trials", trials), ("max_sequences", max_sequences), ("eval_every", eval_every),
                    ("test_size", test_size)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    if not lr > 0:
        raise ValueError(f"the learning rate must be positive, got {lr!r}")
    started = time.perf_counter()
    rngs = [trial_rngs(seed, k) for k in range(trials)]
    theta = backend.to_device(np.concatenate([learner.init(r[0], 1) for r in rngs]))
    streams = [Stream(task, r[1]) for r in rngs]
    tests = [task.sample(r[2], test_size) for r in rngs]
    run = Run(learner=learner.name, task=repr(task), lr=float(lr), trials=trials, seed=seed,
              max_sequences=max_sequences, eval_every=eval_every, test_size=test_size,
              scale=scale.current(), backend=backend.name(), solved_after=[None] * trials)
    # refresh at most once a second: a notebook kernel queues every refresh as a message
    bar = tqdm(total=max_sequences, desc=f"{task.name}: {learner.name}", disable=not progress,
               unit="seq", leave=False, mininterval=1.0)
    seen = 0
    while seen < max_sequences:
        for _ in range(min(eval_every, max_sequences - seen)):
            theta, _, _ = learner.train_step(theta, stack([s.next() for s in streams]), lr)
            seen += 1
        loss, correct = evaluate(learner, theta, task, tests)
        run.sequences.append(seen)
        run.test_loss.append(loss.tolist())
        run.test_correct.append(correct.tolist())
        for k in np.flatnonzero(correct == 1.0):
            if run.solved_after[k] is None:
                run.solved_after[k] = seen
        bar.update(run.sequences[-1] - bar.n)
        bar.set_postfix(solved=f"{int(run.solved.sum())}/{trials}", loss=f"{loss.mean():.3g}", refresh=False)
        if stop_when_solved and run.solved.all():
            break
    bar.close()
    run.wall_time = time.perf_counter() - started
    return run
