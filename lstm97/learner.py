"""What a network must and may do to be trained by `train.train`: the one interface that the
1997 cell (`lstm.LSTM`, `fast.FastLSTM`, `gpu.GPULSTM`), chapter 2's conventional nets
(`rnn.RNN`) and the wrappers (`grow.Sequential`, `minibatch.Minibatch`) share.

A learner trains B networks side by side; their weights are one (B, n_params) array."""
from __future__ import annotations

import numpy as np


class Learner:
    """Base class of every learner. A subclass must set `name` and `n_params` and define `init`,
    `forward` and `train_step`; the optional abilities below default to "absent" and a subclass
    that has one says so by overriding it, so that nothing is discovered by probing."""

    name: str
    n_params: int
    takes_symbols: bool = False    # forward(theta, x) also accepts (B, T) symbol indices (locally coded input)
    carries_state: bool = False    # outputs(theta, x, state) runs a stream in pieces (the CERG's own test)
    sums_gradients: bool = False   # gradient(theta, batch) gives a sequence's summed gradient (a Minibatch)
    trains_many: bool = False      # train_many(theta, batch, k, lr): k sequences per network in one call

    def init(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Initial weights of `n` networks, (n, n_params), drawn from `rng` on the host."""
        raise NotImplementedError

    def forward(self, theta, x, lengths=None):
        """Run the networks over inputs x (B, T, inputs): (whatever the learner keeps, outputs (B, T, K)).
        `lengths` (B,), where given, are the steps each sequence has: a learner may stop there
        (the compiled kernel does), so its outputs past them are not to be read."""
        raise NotImplementedError

    def forward_many(self, theta, x, k: int, lengths=None):
        """`forward` over k sequences per network, all with its weights: network b's are rows
        b*k … b*k+k-1 of x. By default each network's weights are copied to its k rows; a
        learner may run them without copying (the compiled kernel does)."""
        return self.forward(theta.repeat(k, axis=0), x, lengths)

    def train_step(self, theta, batch, lr):
        """Train on one sequence per network: (new theta, loss (B,), outputs (B, T, K))."""
        raise NotImplementedError

    def outputs(self, theta, x, state=None):
        """With `carries_state`: outputs over x starting from `state`, and the state at its end."""
        raise NotImplementedError(f"{self.name} does not carry its state across calls")

    def gradient(self, theta, batch):
        """With `sums_gradients`: (loss, gradient (B, n_params), outputs) of one sequence per network."""
        raise NotImplementedError(f"{self.name} has no per-sequence gradient")

    def select(self, keep) -> None:
        """Keep only the networks `keep` (indices into the batch): `train` drops solved ones. A
        learner with memory per network (grow.Sequential, Minibatch) narrows it here."""

    def state(self) -> dict:
        """The learner's own memory, as named NumPy arrays, for a checkpoint."""
        return {}

    def restore(self, state: dict) -> None:
        """Take back what `state` gave (from a checkpoint)."""
