"""Minibatch gradient descent (Part IV, chapter 15) as a learner wrapping another: the 1997 paper
changes the weights after every sequence (or every step); a minibatch averages the gradients of
several consecutive sequences first."""
from __future__ import annotations

import numpy as np

from . import backend
from .learner import Learner
from .params import per_network


class Minibatch(Learner):
    """Minibatch gradient descent as gradient accumulation: the gradients of `size` consecutive
    training sequences, all taken at the same weights, are averaged, and the weights change once,
    by `lr` times that mean. `train` still hands each network one sequence per iteration, so
    budgets and stopping rules count sequences as before; between updates the weights stand
    still. With size 1 this is the wrapped learner's per-sequence training.

    The wrapped learner sums a sequence's gradient (`sums_gradients`: `gradient(theta, batch) ->
    (loss, grad, outputs)`) and changes its weights at sequence ends (`LSTM(config,
    update="sequence")`, either gradient)."""

    def __init__(self, learner: Learner, size: int):
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
            raise ValueError(f"the minibatch size must be a positive integer, got {size!r}")
        if not learner.sums_gradients or learner.update != "sequence":
            raise ValueError(f"{learner.name} cannot average gradients over sequences: a minibatch needs a learner "
                             f"with a gradient method that updates at sequence ends, e.g. "
                             f"lstm.LSTM(config, update='sequence')")
        self.learner, self.size = learner, int(size)
        self.name = f"{learner.name}, minibatches of {self.size}"
        self.takes_symbols = learner.takes_symbols
        self.sum, self.n = None, 0  # the gradients accumulated since the last update, and how many

    @property
    def n_params(self) -> int:
        return self.learner.n_params

    def init(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """The wrapped learner's initial weights; a new run starts with nothing accumulated."""
        self.sum, self.n = None, 0
        return self.learner.init(rng, n)

    def forward(self, theta, x, lengths=None):
        return self.learner.forward(theta, x, lengths)

    def train_step(self, theta, batch, lr):
        loss, grad, y = self.learner.gradient(theta, batch)
        self.sum = grad if self.n == 0 else self.sum + grad
        self.n += 1
        if self.n == self.size:
            theta, self.sum, self.n = theta - per_network(lr, self.sum / self.size), None, 0
        return theta, loss, y

    def select(self, keep):
        """Keep only the networks `keep` (indices into the current batch): `train` drops solved ones."""
        if self.sum is not None:
            self.sum = self.sum[keep]
        self.learner.select(keep)

    def state(self) -> dict:
        return {"sum": np.zeros(0) if self.sum is None else backend.to_host(self.sum), "n": np.array(self.n)}

    def restore(self, state: dict):
        self.n = int(state["n"])
        self.sum = backend.to_device(state["sum"]) if self.n else None
