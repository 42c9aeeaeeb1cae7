"""When a trial counts as solved: the paper's stopping rules (chapter 6).

* `TestSet()` — ST1: none of the trial's test sequences is wrong by the task's criterion
  (checked at every evaluation); `TestSet(max_error=β)` — ST2: ST1, and the mean absolute error
  on the test set below β (Exp. 3).
* `Recent(β)` — ST3(β): the 2000 most recent training sequences were all correct and their
  average error was below β (Exps. 4–6). "Average training error" is not defined further in the
  paper; we take the mean, over those sequences, of the squared output error at the target steps.

A rule is told about every training sequence (`on_sequence`, or `on_many` for several in a row,
only where `watches_training`) and every evaluation on the test sets (`on_test`); either returns, per trial, whether it is solved
now (None: nothing to say). `train.train` resets a rule at the start of every run (`start`) and
keeps its memory in checkpoints (`state`, `restore`).
"""
from __future__ import annotations

import numpy as np


class TestSet:
    """ST1 (and with `max_error`, ST2), judged on the test set at every evaluation: at most
    `max_wrong` test sequences wrong (0 in the paper, but 5 of 256 in task 3b), and, with
    `max_error`, a mean absolute test error below it."""

    __test__ = False  # not a pytest test class, despite its name
    watches_training = False  # `on_sequence` decides nothing: `train` skips it

    def __init__(self, max_error: float | None = None, max_wrong: int = 0):
        if max_error is not None and not max_error > 0:
            raise ValueError(f"max_error must be positive, got {max_error!r}")
        if isinstance(max_wrong, bool) or not isinstance(max_wrong, int) or max_wrong < 0:
            raise ValueError(f"max_wrong must be a non-negative integer, got {max_wrong!r}")
        self.max_error, self.max_wrong = max_error, max_wrong

    def start(self, trials: int):
        pass

    def on_sequence(self, correct, error):
        return None

    def on_many(self, correct, error, pending=None):
        return None

    def on_test(self, wrong, abs_error):
        solved = wrong <= self.max_wrong
        return solved if self.max_error is None else solved & (abs_error < self.max_error)

    def state(self) -> dict:
        return {}

    def restore(self, state: dict):
        pass

    def __repr__(self) -> str:
        name = "ST1" if self.max_error is None else f"ST2({self.max_error:g})"
        return name + (f", at most {self.max_wrong} wrong" if self.max_wrong else "")


class Recent:
    """ST3(beta): the `window` most recent training sequences correct (at most `max_wrong` of
    them wrong: Exp. 5), and their mean error below `beta` (no error bound if None)."""

    watches_training = True

    def __init__(self, beta: float | None, window: int = 2000, max_wrong: int = 0):
        if beta is not None and not beta > 0:
            raise ValueError(f"Recent needs beta > 0 (or None), got {beta!r}")
        if isinstance(window, bool) or not isinstance(window, int) or window < 1:
            raise ValueError(f"Recent needs a positive integer window, got {window!r}")
        if isinstance(max_wrong, bool) or not isinstance(max_wrong, int) or not 0 <= max_wrong < window:
            raise ValueError(f"max_wrong must be an integer in 0..window-1, got {max_wrong!r}")
        self.beta, self.window, self.max_wrong = beta, window, max_wrong

    def start(self, trials: int):
        self.correct = np.zeros((trials, self.window), dtype=bool)
        self.error = None if self.beta is None else np.zeros((trials, self.window))  # only ST3(beta) reads it
        self.n = 0
        self.wrong = np.zeros(trials, dtype=int)  # wrong sequences in the window, kept up to date

    def on_sequence(self, correct, error):
        i = self.n % self.window
        self.wrong += ~np.asarray(correct, dtype=bool)
        if self.n >= self.window:
            self.wrong -= ~self.correct[:, i]  # the oldest sequence leaves the window
        self.correct[:, i] = correct
        if self.error is not None:
            self.error[:, i] = error
        self.n += 1
        if self.n < self.window:
            return np.zeros(len(correct), dtype=bool)
        solved = self.wrong <= self.max_wrong
        if self.beta is None or not solved.any():
            return solved
        return solved & (self.error.mean(axis=1) < self.beta)

    def on_many(self, correct, error, pending=None):
        """`on_sequence` for k sequences in a row, given as (trials, k) arrays: whether each trial
        is solved after each of them, (trials, k). Where none of the `pending` trials (all by
        default; a trial solved before need not be judged again) can be, in one pass over the
        window, its answer all False."""
        correct = np.asarray(correct, dtype=bool)
        k = correct.shape[1]
        if k <= self.window:
            n = self.n + np.arange(k)       # sequences seen before each of the k
            at = n % self.window            # their places in the window, all different
            leaving = ~self.correct[:, at] & (n >= self.window)
            wrong = self.wrong[:, None] + np.cumsum(~correct, axis=1) - np.cumsum(leaving, axis=1)
            can = (wrong <= self.max_wrong) & (n + 1 >= self.window)
            if not (can if pending is None else can[pending]).any():
                self.correct[:, at] = correct
                if self.error is not None:
                    self.error[:, at] = error
                self.wrong, self.n = wrong[:, -1].copy(), self.n + k
                return np.zeros(correct.shape, dtype=bool)
        return np.stack([self.on_sequence(correct[:, s], error[:, s]) for s in range(k)], axis=1)

    def on_test(self, wrong, abs_error):
        return None

    def state(self) -> dict:
        return {"correct": self.correct, "n": np.array(self.n)} | ({} if self.error is None else {"error": self.error})

    def restore(self, state: dict):
        self.correct, self.n = state["correct"].astype(bool), int(state["n"])
        self.error = None if self.beta is None else state["error"]
        self.wrong = np.minimum(self.n, self.window) - self.correct[:, :self.n].sum(axis=1)

    def __repr__(self) -> str:
        name = "ST3" + (f"({self.beta:g})" if self.beta is not None else "")
        extra = [f"window {self.window}"] if self.window != 2000 else []
        extra += [f"fewer than {self.max_wrong + 1} wrong"] if self.max_wrong else []
        return ", ".join([name] + extra)
