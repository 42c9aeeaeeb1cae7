"""`FastLSTM`: the 1997 LSTM with the truncated gradient as a learner, compiled — the same numbers
as `lstm.LSTM` with `gradients.truncated`, run by the kernel of `lstm97.kernel` (one compiled
function per network and whole sequence; its docstring has the profile that shaped it).

This module is the host side: it checks and converts the arrays, lays out the scratch, picks the
parallel or the serial driver and hands the results back. `FastLSTM` runs on the CPU under
either array backend: CuPy arrays are brought to the host and the results sent back.
`gpu.GPULSTM` is the same learner with the launch swapped.

Differences from the reference are rounding only (see `lstm97.kernel`).
`forward` returns no recorded steps (its first element is None): only the outputs.
"""
from __future__ import annotations

import time

import numpy as np

from . import backend
from .kernel import (FORWARD, GRADIENT, SEQUENCE_UPDATE, STEP_UPDATE, finite, many_parallel, many_serial,
                     run_parallel, run_serial, scratch_size, specialized, topology)
from .learner import Learner
from .lstm import LSTM, LSTMConfig, check_finite, check_length

# Seconds a learner spends in the generic kernel's chunks (`train_many`, `forward_many`) before it
# compiles the kernel for its own topology (`kernel.specialized`), which costs about as much (6-18 s):
# a long run gains up to twice the speed, a short one does not pay the compilation.
TIER_UP = 15.0

_NO_X = np.zeros((1, 1, 1))
_NO_SYM = np.zeros((1, 1), dtype=np.int64)
_NO_D = np.zeros((1, 1, 1))
_NO_M = np.zeros((1, 1))


def _host(name: str, a, dtype) -> np.ndarray:
    """`a`, an array of either backend, as a writable C-ordered NumPy array of `dtype`."""
    if not backend.is_array(a):
        raise TypeError(f"FastLSTM takes arrays, got {type(a).__name__} for {name}; convert it with numpy.asarray")
    a = np.ascontiguousarray(backend.to_host(a), dtype=dtype)
    return a if a.flags.writeable else a.copy()  # a read-only array would compile another signature


class FastLSTM(Learner):
    """The 1997 LSTM with the truncated gradient, compiled: a drop-in for `LSTM` as a learner.

    Same config, `update` switch, parameter layout, initial weights (`init` is `LSTM.init`),
    `forward` outputs, and `train_step` results as `LSTM` + `gradients.truncated`, to float
    rounding. It runs on the CPU under either array backend: CuPy arrays are copied to the host
    and the results back to the device. Its `name` adds ", compiled", so a `Run` records
    which implementation produced it.

    `parallel`: with B > 1 networks, spread them over Numba's threads (`NUMBA_NUM_THREADS`,
    all cores by default). On a machine whose cores are busy with other processes, OpenMP's
    spinning workers can make that slower than one thread (measured: 4 ms instead of 0.2 ms
    per call at B = 10): pass `parallel=False`, or set OMP_WAIT_POLICY=passive.

    `specialize`: the chunks of sequences (`train_many`, `forward_many`) run in a kernel compiled
    for this topology (`kernel.specialized`: the same numbers to the last bit, 1.4-2.2x faster),
    "auto" once the generic kernel has taken `TIER_UP` seconds of them, True from the start
    (paying its compilation at once), False never.
    """

    takes_symbols = True    # forward() accepts the symbols of a locally coded task (see below)
    trains_many = True      # train_many: several sequences per network in one call
    sums_gradients = True   # `gradient` gives one sequence's gradient
    implementation = "compiled"  # the word `name` adds to the reference's

    def __init__(self, config: LSTMConfig, update: str = "sequence", parallel: bool = True,
                 specialize: bool | str = "auto"):
        if config.beyond_1997:
            raise ValueError(f"{type(self).__name__} implements only the 1997 cell, not "
                             f"{', '.join(config.beyond_1997)}; use lstm97.lstm.LSTM for this config")
        self.reference = LSTM(config, update)   # topology, layout and init come from here
        self.config, self.update, self.layout = config, update, self.reference.layout
        self.parallel = parallel
        if specialize not in (True, False, "auto"):
            raise ValueError(f"specialize must be True, False or 'auto', got {specialize!r}")
        self.specialize, self.generic_seconds = specialize, 0.0
        self.name = f"{self.reference.name[:-1]}, {self.implementation})"
        self._dims = topology(self.reference)
        self._scratch = scratch_size(self._dims, self.n_params)

    @property
    def n_params(self) -> int:
        return self.layout.size

    def init(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Initial weights of `n` networks: exactly `LSTM.init`."""
        return self.reference.init(rng, n)

    # ------------------------------------------------------------------ calling the kernel

    def _arrays(self, theta, inputs, batch, convert, per_network: int = 1):
        """The kernel's arrays (theta, xs, sym, onehot, d, m), each made by `convert(name, a, dtype)`,
        with their shapes checked (`per_network` sequences per network); a sequence without steps
        is refused as `LSTM` refuses it."""
        c = self.config
        theta = convert("theta", theta, np.float64)
        if theta.ndim != 2 or theta.shape[1] != self.n_params:
            raise ValueError(f"theta must have shape (B, {self.n_params}), got {tuple(theta.shape)}")
        B = theta.shape[0] * per_network
        onehot = getattr(inputs, "ndim", None) == 2 and np.issubdtype(inputs.dtype, np.integer)
        if onehot:
            sym, xs = convert("the symbols", inputs, np.int64), _NO_X
            if sym.shape[0] != B:
                raise ValueError(f"symbols must have shape (B={B}, T), got {tuple(sym.shape)}")
            lo, hi = self._extent(sym)
            if lo < -1 or hi >= c.n_in:
                raise ValueError(f"symbols must lie in -1 (padding) .. {c.n_in - 1}, got {lo} .. {hi}")
        else:
            xs, sym = convert("the inputs", inputs, np.float64), _NO_SYM
            if xs.ndim != 3 or xs.shape[0] != B or xs.shape[2] != c.n_in:
                raise ValueError(f"inputs must have shape (B={B}, T, {c.n_in}), got {tuple(xs.shape)}")
        T = (sym if onehot else xs).shape[1]
        check_length(T)
        if batch is None:
            return theta, xs, sym, onehot, _NO_D, _NO_M
        d, m = convert("targets", batch.y, np.float64), convert("mask", batch.mask, np.float64)
        if d.shape != (B, T, c.n_out) or m.shape != (B, T):
            raise ValueError(f"targets and mask must have shapes (B, T, {c.n_out}) and (B, T) with "
                             f"B={B}, T={T}; got {tuple(d.shape)} and {tuple(m.shape)}")
        return theta, xs, sym, onehot, d, m

    @staticmethod
    def _extent(sym) -> tuple[int, int]:
        return (int(sym.min()), int(sym.max())) if sym.size else (0, 0)

    @staticmethod
    def _rates(lr, B: int) -> np.ndarray:
        return np.full(B, backend.to_host(lr), dtype=np.float64)  # a rate per network (np.full: fast)

    def _run(self, theta, inputs, batch, mode: int, lr, k: int = 1, lengths=None):
        """The kernel over one sequence per network, or with k > 1 over k sequences per network
        in turn (`train_many`, `forward_many`; network b's in rows b*k … b*k+k-1), each over its
        own steps (`Batch.steps`), or with `lengths` (forward) over that many: (loss, out, outputs)."""
        theta, xs, sym, onehot, d, m = self._arrays(theta, inputs, batch, _host, per_network=k)
        B, T = theta.shape[0], (sym if onehot else xs).shape[1]
        if lengths is not None:
            lengths = np.clip(backend.to_host(lengths), 0, T).astype(np.int64)
            if lengths.shape != (B * k,):
                raise ValueError(f"lengths must have shape (B={B * k},), got {lengths.shape}")
        elif k > 1:
            lengths = np.asarray(batch.steps, dtype=np.int64) if batch is not None else np.full(B * k, T, dtype=np.int64)
        ys = (np.empty if lengths is None else np.zeros)((B * k, T, self.config.n_out))  # zero past each end
        loss = np.zeros(B * k)
        out = np.empty_like(theta) if mode != FORWARD else theta  # untouched in forward mode
        work, iwork = np.empty((B, self._scratch[0])), np.empty((B, self._scratch[1]), dtype=np.int64)
        parallel, rates = self.parallel and B > 1, self._rates(lr, B)
        if lengths is None:
            done = (run_parallel if parallel else run_serial)(theta, xs, sym, onehot, d, m, self._dims, mode, rates,
                                                              ys, loss, out, work, iwork)
        else:
            own = self.specialize is True or (self.specialize == "auto" and self.generic_seconds >= TIER_UP)
            drivers = specialized(self._dims) if own else (many_parallel, many_serial)
            t0 = time.perf_counter()
            done = drivers[0 if parallel else 1](k, theta, xs, sym, onehot, d, m, lengths, self._dims, mode, rates,
                                                 ys, loss, out, np.empty_like(theta), work, iwork)
            if not own:
                self.generic_seconds += time.perf_counter() - t0
        if not done:
            check_finite({"theta": theta, "the inputs": xs}, finite)  # the kernel found one: say which
        return backend.to_device(loss), backend.to_device(out), backend.to_device(ys)

    @staticmethod
    def _inputs(batch):
        return batch.symbols if batch.symbols is not None else batch.values

    # ------------------------------------------------------------------ the learner interface

    def forward(self, theta, x, lengths=None):
        """Outputs (B, T, n_out) of every network over its sequence: (None, outputs).

        `x` is dense, (B, T, n_in), or, for locally coded inputs, the symbols (B, T) as integers
        (-1 = padding), which skips building the one-hot array. With `lengths` (B,), each
        sequence runs only that many steps, its outputs past them 0 (the GPU kernel runs every
        step: past the ends, outputs of zero inputs, which the test reads nowhere).
        """
        _, _, y = self._run(theta, x, None, FORWARD, 0.0, lengths=lengths)
        return None, y

    def forward_many(self, theta, x, k: int, lengths=None):
        """`forward` over k sequences per network (rows b*k … b*k+k-1 of x for network b), each
        network's weights read in place, not copied to its k rows."""
        _, _, y = self._run(theta, x, None, FORWARD, 0.0, k=k, lengths=lengths)
        return None, y

    def gradient(self, theta, batch):
        """The truncated gradient of one sequence's loss per network: (loss, grad, outputs)."""
        return self.truncated(theta, batch)

    def truncated(self, theta, batch, lr: float | None = None):
        """`gradients.truncated(LSTM(config), theta, batch, lr)`, compiled: (loss (B,), grad (B, P),
        outputs), or with `lr` (online, after every step) (loss, new theta, outputs)."""
        if lr is None:
            return self._run(theta, self._inputs(batch), batch, GRADIENT, 0.0)
        return self._run(theta, self._inputs(batch), batch, STEP_UPDATE, lr)

    def train_step(self, theta, batch, lr: float):
        """One training sequence per network with the truncated gradient: (theta, loss, outputs)."""
        mode = STEP_UPDATE if self.update == "step" else SEQUENCE_UPDATE
        loss, theta, y = self._run(theta, self._inputs(batch), batch, mode, lr)
        return theta, loss, y

    def train_many(self, theta, batch, k: int, lr):
        """`k` training sequences per network in one call, each from the weights the previous one
        left (exactly `k` calls of `train_step`): `batch` holds network b's sequences in rows
        b*k … b*k+k-1. Returns (theta, loss (B, k), outputs (B*k, T, n_out), zero past each end)."""
        mode = STEP_UPDATE if self.update == "step" else SEQUENCE_UPDATE
        loss, theta, y = self._run(theta, self._inputs(batch), batch, mode, lr, k)
        return theta, loss.reshape(theta.shape[0], k), y
