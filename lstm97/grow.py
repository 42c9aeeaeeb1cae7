"""Sequential network construction (paper Sec. 4, "abuse problem", remedy 1; Exp. 2): train the
net without its memory cells first, and add the cells once the error stops decreasing.

The cells are present from the start but switched off: every weight into the input gates is
offset by −`OFF`. With locally coded inputs (one input unit at 1 in every step) a gate's net input
is then about −1000, so in double precision y_in = 1/(1 + e^1000) = 0 and f'_in = y_in(1 − y_in) =
0 exactly: the cells' states stay 0, their outputs 0, and no gradient reaches them or their
outgoing weights (eqs. 22–28 all carry a factor y_in, y_c or f'_in). The net is exactly the net
without cells. Adding the cells removes the offset, which restores their initial random weights.

"The error stops decreasing" is not defined in the paper. Ours: the mean training loss over a
block of `window` sequences is not at least a fraction `tol` below that of the block before.
"""
from __future__ import annotations

import numpy as np

from . import backend
from .learner import Learner

OFF = 1000.0


class Sequential(Learner):
    """A learner (`LSTM` or `FastLSTM`) whose cells join once its error stops decreasing, each of
    a batch of networks on its own. Same interface as the wrapped learner."""

    def __init__(self, learner: Learner, window: int = 100, tol: float = 0.01):
        if isinstance(window, bool) or not isinstance(window, int) or window < 1:
            raise ValueError(f"window must be a positive integer, got {window!r}")
        if not 0.0 <= tol < 1.0:
            raise ValueError(f"tol must be in [0, 1), got {tol!r}")
        self.learner, self.window, self.tol = learner, window, tol
        self.config, self.layout, self.update = learner.config, learner.layout, learner.update
        self.takes_symbols = learner.takes_symbols
        self.gates = learner.layout.slices["W_in"]
        self.name = f"{learner.name}; cells added when the error stops decreasing ({window}, {tol:g})"
        self.restore({})

    @property
    def n_params(self) -> int:
        return self.learner.n_params

    def init(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """The wrapped learner's initial weights, with the cells switched off."""
        theta = self.learner.init(rng, n)
        theta[:, self.gates] -= OFF
        self.restore({})  # a new run: the criterion starts afresh
        return theta

    def added(self, theta) -> np.ndarray:
        """Per network: have its cells been added? (B,) bool."""
        return backend.to_host(theta[:, self.gates]).mean(axis=1) > -OFF / 2

    def forward(self, theta, x, lengths=None):
        return self.learner.forward(theta, x, lengths)

    def train_step(self, theta, batch, lr):
        real = np.arange(batch.y.shape[1])[None, :] < batch.lengths[:, None]
        if batch.symbols is None or (batch.symbols[real] < 0).any():
            raise ValueError("sequential construction needs locally coded inputs with a symbol at every step")
        theta, loss, y = self.learner.train_step(theta, batch, lr)
        B = len(batch)
        if self.sum.shape != (B,):
            self.sum, self.previous, self.n = np.zeros(B), np.full(B, np.inf), 0
        self.sum += backend.to_host(loss)
        self.n += 1
        if self.n == self.window:
            mean = self.sum / self.window
            grow = ~self.added(theta) & (mean > (1.0 - self.tol) * self.previous)
            if grow.any():
                theta = theta.copy()
                theta[np.flatnonzero(grow), self.gates] += OFF
            self.sum, self.previous, self.n = np.zeros(B), mean, 0
        return theta, loss, y

    def select(self, keep):
        """Keep only the networks `keep` (indices into the current batch): `train` drops solved ones."""
        if len(self.sum):
            self.sum, self.previous = self.sum[keep], self.previous[keep]
        self.learner.select(keep)

    # the memory of the criterion, which `train.train` keeps in its checkpoints
    def state(self) -> dict:
        return {"sum": self.sum, "previous": self.previous, "n": np.array(self.n)}

    def restore(self, state: dict):
        self.sum = state.get("sum", np.zeros(0))
        self.previous = state.get("previous", np.zeros(0))
        self.n = int(state.get("n", 0))
