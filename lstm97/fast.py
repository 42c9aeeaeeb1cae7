"""A compiled fast path for the 1997 LSTM: the same numbers as `lstm.LSTM` with
`gradients.truncated`, with the whole sequence run inside one Numba function.

Profile of the reference first (cProfile and timers over `gradients.truncated`, adding net 4-1,
93 weights, T ≈ 100, 2-core Xeon, NumPy 2.4):
- B = 1: 56–66 µs per step, of which the forward step (`LSTM.step`) ≈ 30 µs, the traces ≈ 7 µs,
  the error ≈ 4 µs, the gradient sums ≈ 14 µs, rebuilding the parameter views ≈ 2.5 µs;
  cProfile counts ≈ 117 Python-level calls per step (`step`, `per_cell`/`repeat`, einsum,
  the squashings, `views`). The ≈ 500 flops of a step are < 1 % of it: dispatch-bound.
- B = 100: ≈ 130 µs per step (1.3 µs per network-step): the same dispatch floor plus ≈ 60 µs of
  real work in the trace and gradient broadcasts, which allocate a temporary per operation.
- So the compiled code must own the time loop (a compiled step called from Python would still
  pay ≈ 1 µs a call) and keep every per-step quantity in registers or small reused buffers.

What the kernel does, per network (one `prange` iteration each, networks are independent):
the forward pass of `LSTM.step` (eqs. 7–9 and the output units), the traces of eqs. (25) and
(27), and at every step with a target the errors and weight changes of eqs. (19)–(28), added up
over the sequence (update="sequence") or applied at once (update="step"), exactly as
`gradients.truncated` orders them. Inputs that are 0 contribute nothing to a net input, a trace
or a weight change, so the input part of every step touches only the nonzero inputs: for locally
coded tasks (`batch.symbols`) one column, however many input units there are (experiment 2c has
1004). The full trace rows are read only at steps with a target (eqs. 26, 28).

Differences from the reference are rounding only: sums run in a different order than NumPy's
einsum, and `exp` is libm's rather than NumPy's own, which may differ in the last bit (the tests
ask for 1e-10 relative; typical differences are ≈ 1e-15).
`forward` returns no recorded `Steps` (its first element is None): only the outputs.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from . import backend
from .lstm import LSTM, LSTMConfig

# squashing functions by code (see squash.py): g: 0 = g2, 1 = g1; h: 0 = h1, 1 = id
_G = {"g2": 0, "g1": 1}
_H = {"h1": 0, "id": 1}

# what the kernel computes
FORWARD, GRADIENT, SEQUENCE_UPDATE, STEP_UPDATE = 0, 1, 2, 3

# dims vector: the topology as integers, read once per network by the kernel
(N_IN, N_OUT, BLOCKS, CELLS, N_HIDDEN, N_SRC, N_ZC, N_ZG, N_O, CONN_F, OUT_GATES, OUT_BIAS, G_KIND, H_KIND,
 OFF_C, OFF_IN, OFF_OUT, OFF_K) = range(18)


@njit(cache=True, fastmath=False)
def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@njit(cache=True, fastmath=False, inline="always")
def _net(W, r, act_i, act_v, na, n_in, zt, n_tail):
    """Net input of the unit whose weights start at W[r]: the active inputs (index act_i, value
    act_v), then the tail of the source vector z (recurrent units and bias)."""
    a = 0.0
    for q in range(na):
        a += W[r + act_i[q]] * act_v[q]
    for i in range(n_tail):
        a += W[r + n_in + i] * zt[i]
    return a


@njit(cache=True, fastmath=False)
def _run_one(b, theta, xs, sym, onehot, d, m, dims, mode, lrs, ys, loss, out):
    """Network b over its whole sequence; see the module docstring. Writes ys[b], loss[b], out[b]."""
    lr = lrs[b]  # each network its own learning rate: sweeps run as one batch
    n_in, n_out, C, S = dims[N_IN], dims[N_OUT], dims[BLOCKS], dims[CELLS]
    nh, n_src, n_zc, n_zg, n_o = dims[N_HIDDEN], dims[N_SRC], dims[N_ZC], dims[N_ZG], dims[N_O]
    conn_f, out_gates, out_bias = dims[CONN_F] == 1, dims[OUT_GATES] == 1, dims[OUT_BIAS] == 1
    g_kind, h_kind = dims[G_KIND], dims[H_KIND]
    oc, oi, oo, ok = dims[OFF_C], dims[OFF_IN], dims[OFF_OUT], dims[OFF_K]
    nc = C * S
    T = ys.shape[1]
    P = theta.shape[1]
    train = mode != FORWARD
    online = mode == STEP_UPDATE

    # the weights the forward pass reads; online they are updated in place in out[b]
    if online:
        for i in range(P):
            out[b, i] = theta[b, i]
        W = out[b]
    else:
        W = theta[b]
    G = np.zeros(P) if (mode == GRADIENT or mode == SEQUENCE_UPDATE) else np.zeros(0)

    n_tail = n_src + 1 - n_in      # z = [inputs | y_h(t-1) (connectivity F) | bias unit]
    nct, ngt = n_zc - n_in, n_zg - n_in  # columns of z past the inputs seen by cells, gates
    zt = np.zeros(n_tail)
    act_i = np.zeros(max(n_in, 1), dtype=np.int64)  # the nonzero inputs of this step
    act_v = np.zeros(max(n_in, 1))
    s = np.zeros(nc)
    yh = np.zeros(nh)
    g, dg, h, dh, y_c = np.zeros(nc), np.zeros(nc), np.zeros(nc), np.zeros(nc), np.zeros(nc)
    y_in, df_in = np.zeros(C), np.zeros(C)
    y_out, df_out = np.ones(C), np.zeros(C)
    y_k, df_k, e_k = np.zeros(n_out), np.zeros(n_out), np.zeros(n_out)
    back, e_s, e_out = np.zeros(nc), np.zeros(nc), np.zeros(C)
    trace_c = np.zeros(nc * n_zc if train else 0)   # d s_c / d W_c[c, :]          (eq. 27)
    trace_in = np.zeros(nc * n_zg if train else 0)  # d s_c / d W_in[block of c, :] (eq. 25)
    total = 0.0

    for t in range(T):
        # ---- sources of this step: the nonzero inputs, then y_h(t-1) and the bias unit
        na = 0
        if onehot:
            k = sym[b, t]
            if k >= 0:
                act_i[0] = k
                act_v[0] = 1.0
                na = 1
        else:
            for i in range(n_in):
                v = xs[b, t, i]
                if v != 0.0:
                    act_i[na] = i
                    act_v[na] = v
                    na += 1
        if conn_f:
            for j in range(nh):
                zt[j] = yh[j]
        zt[n_tail - 1] = 1.0

        # ---- forward pass, eqs. (7)-(9)
        for c in range(nc):
            e = _sigmoid(_net(W, oc + c * n_zc, act_i, act_v, na, n_in, zt, nct))
            if g_kind == 0:
                g[c], dg[c] = 4.0 * e - 2.0, 4.0 * e * (1.0 - e)
            else:
                g[c], dg[c] = e, e * (1.0 - e)
        for j in range(C):
            e = _sigmoid(_net(W, oi + j * n_zg, act_i, act_v, na, n_in, zt, ngt))
            y_in[j], df_in[j] = e, e * (1.0 - e)
            if out_gates:
                e = _sigmoid(_net(W, oo + j * n_zg, act_i, act_v, na, n_in, zt, ngt))
                y_out[j], df_out[j] = e, e * (1.0 - e)
        for c in range(nc):
            j = c // S
            s[c] = s[c] + y_in[j] * g[c]                       # eq. (9): the CEC
            if h_kind == 0:
                e = _sigmoid(s[c])
                h[c], dh[c] = 2.0 * e - 1.0, 2.0 * e * (1.0 - e)
            else:
                h[c], dh[c] = s[c], 1.0
            y_c[c] = y_out[j] * h[c]                           # eq. (9)
        for k in range(n_out):                                 # o = [y_c | inputs (B) | bias]
            r = ok + k * n_o
            a = 0.0
            for c in range(nc):
                a += W[r + c] * y_c[c]
            if not conn_f:
                for q in range(na):
                    a += W[r + nc + act_i[q]] * act_v[q]
            if out_bias:
                a += W[r + n_o - 1]
            e = _sigmoid(a)
            y_k[k], df_k[k] = e, e * (1.0 - e)
            ys[b, t, k] = e

        if train:
            # ---- traces, eqs. (27) and (25): a zero source leaves its column unchanged
            for c in range(nc):
                j = c // S
                ac = y_in[j] * dg[c]
                ai = g[c] * df_in[j]
                rc, ri = c * n_zc, c * n_zg
                for q in range(na):
                    trace_c[rc + act_i[q]] += ac * act_v[q]
                    trace_in[ri + act_i[q]] += ai * act_v[q]
                for i in range(nct):
                    trace_c[rc + n_in + i] += ac * zt[i]
                for i in range(ngt):
                    trace_in[ri + n_in + i] += ai * zt[i]

            mt = m[b, t]
            if mt != 0.0:
                # ---- errors, eqs. (19), (21), (23), with the weights of this step
                sq = 0.0
                for k in range(n_out):
                    err = mt * (y_k[k] - d[b, t, k])
                    sq += err * err
                    e_k[k] = err * df_k[k]                     # -e_k of eq. (19)
                total += 0.5 * sq
                for c in range(nc):
                    a = 0.0
                    for k in range(n_out):
                        a += e_k[k] * W[ok + k * n_o + c]      # sum_k w_kc e_k
                    back[c] = a
                for j in range(C):
                    if out_gates:
                        a = 0.0
                        for v in range(S):
                            a += h[j * S + v] * back[j * S + v]
                        e_out[j] = df_out[j] * a               # eq. (21)
                    for v in range(S):
                        c = j * S + v
                        e_s[c] = y_out[j] * dh[c] * back[c]    # eq. (23)

                # ---- weight changes, eqs. (22), (26), (28): into G, or at once (online)
                for k in range(n_out):
                    r = ok + k * n_o
                    for c in range(nc):
                        if online:
                            W[r + c] -= lr * (e_k[k] * y_c[c])
                        else:
                            G[r + c] += e_k[k] * y_c[c]
                    if not conn_f:
                        for q in range(na):
                            i = r + nc + act_i[q]
                            if online:
                                W[i] -= lr * (e_k[k] * act_v[q])
                            else:
                                G[i] += e_k[k] * act_v[q]
                    if out_bias:
                        if online:
                            W[r + n_o - 1] -= lr * e_k[k]
                        else:
                            G[r + n_o - 1] += e_k[k]
                for j in range(C):
                    if out_gates:
                        r = oo + j * n_zg
                        for q in range(na):
                            i = r + act_i[q]
                            if online:
                                W[i] -= lr * (e_out[j] * act_v[q])
                            else:
                                G[i] += e_out[j] * act_v[q]
                        for i in range(ngt):
                            if online:
                                W[r + n_in + i] -= lr * (e_out[j] * zt[i])
                            else:
                                G[r + n_in + i] += e_out[j] * zt[i]
                    r = oi + j * n_zg
                    for i in range(n_zg):                      # eq. (26): summed over the block
                        a = e_s[j * S] * trace_in[(j * S) * n_zg + i]
                        for v in range(1, S):
                            a += e_s[j * S + v] * trace_in[(j * S + v) * n_zg + i]
                        if online:
                            W[r + i] -= lr * a
                        else:
                            G[r + i] += a
                for c in range(nc):                            # eq. (28)
                    r, rc = oc + c * n_zc, c * n_zc
                    for i in range(n_zc):
                        if online:
                            W[r + i] -= lr * (e_s[c] * trace_c[rc + i])
                        else:
                            G[r + i] += e_s[c] * trace_c[rc + i]

        # ---- y_h(t) = [y_c | y_in | y_out], the recurrent sources of the next step
        for c in range(nc):
            yh[c] = y_c[c]
        if conn_f:
            for j in range(C):
                yh[nc + j] = y_in[j]
                if out_gates:
                    yh[nc + C + j] = y_out[j]

    loss[b] = total
    if mode == GRADIENT:
        for i in range(P):
            out[b, i] = G[i]
    elif mode == SEQUENCE_UPDATE:
        for i in range(P):
            out[b, i] = theta[b, i] - lr * G[i]


@njit(cache=True, fastmath=False, parallel=True)
def _run_parallel(theta, xs, sym, onehot, d, m, dims, mode, lrs, ys, loss, out):
    for b in prange(theta.shape[0]):
        # prange counts in uint64: cast, so that both drivers share one compiled _run_one
        _run_one(np.int64(b), theta, xs, sym, onehot, d, m, dims, mode, lrs, ys, loss, out)


@njit(cache=True, fastmath=False)
def _run_serial(theta, xs, sym, onehot, d, m, dims, mode, lrs, ys, loss, out):
    for b in range(theta.shape[0]):
        _run_one(b, theta, xs, sym, onehot, d, m, dims, mode, lrs, ys, loss, out)


_NO_X = np.zeros((1, 1, 1))
_NO_SYM = np.zeros((1, 1), dtype=np.int64)
_NO_D = np.zeros((1, 1, 1))
_NO_M = np.zeros((1, 1))


class CPUOnly(RuntimeError):
    """FastLSTM was asked to run on the CuPy backend: it runs on the CPU only."""


def _host(name: str, a, dtype) -> np.ndarray:
    if not isinstance(a, np.ndarray):
        raise TypeError(
            f"FastLSTM runs on the CPU and needs NumPy arrays, got {type(a).__module__}.{type(a).__name__} "
            f"for {name}. Use lstm97.lstm.LSTM on the CuPy backend, or switch to NumPy with "
            f"lstm97.backend.use('numpy') (LSTM97_BACKEND=numpy).")
    a = np.ascontiguousarray(a, dtype=dtype)
    return a if a.flags.writeable else a.copy()  # a read-only array would compile another signature


class FastLSTM:
    """The 1997 LSTM with the truncated gradient, compiled: a drop-in for `LSTM` as a learner.

    Same config, `update` switch, parameter layout, initial weights (`init` is `LSTM.init`),
    `forward` outputs, and `train_step` results as `LSTM` + `gradients.truncated`, to float
    rounding. CPU only, NumPy arrays only. Its `name` adds ", compiled", so a `Run` records
    which implementation produced it.

    `parallel`: with B > 1 networks, spread them over Numba's threads (`NUMBA_NUM_THREADS`,
    all cores by default). On a machine whose cores are busy with other processes, OpenMP's
    spinning workers can make that slower than one thread (measured: 4 ms instead of 0.2 ms
    per call at B = 10): pass `parallel=False`, or set OMP_WAIT_POLICY=passive.
    """

    takes_symbols = True  # forward() accepts the symbols of a locally coded task (see below)

    def __init__(self, config: LSTMConfig, update: str = "sequence", parallel: bool = True):
        if config.beyond_1997:
            raise ValueError(f"FastLSTM implements only the 1997 cell, not {', '.join(config.beyond_1997)}; "
                             f"use lstm97.lstm.LSTM for this config")
        self.reference = LSTM(config, update)   # topology, layout and init come from here
        self.config, self.update, self.layout = config, update, self.reference.layout
        self.parallel = parallel
        self.name = self.reference.name[:-1] + ", compiled)"
        ref, c, sl = self.reference, config, self.reference.layout.slices
        self._dims = np.array([
            c.n_in, c.n_out, c.blocks, c.cells, c.n_hidden, ref.n_src, ref.n_zc, ref.n_zg, ref.n_o,
            c.connectivity == "F", c.output_gates, ref.output_bias, _G[c.g], _H[c.h],
            sl["W_c"].start, sl["W_in"].start, sl["W_out"].start if c.output_gates else -1, sl["W_k"].start,
        ], dtype=np.int64)

    @property
    def n_params(self) -> int:
        return self.layout.size

    def init(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Initial weights of `n` networks: exactly `LSTM.init`."""
        return self.reference.init(rng, n)

    # ------------------------------------------------------------------ calling the kernel

    def _run(self, theta, inputs, batch, mode: int, lr):
        if backend.name() != "numpy":
            raise CPUOnly(
                "FastLSTM runs on the CPU with NumPy arrays, but the active backend is cupy. Use "
                "lstm97.lstm.LSTM on the GPU, or switch to NumPy with lstm97.backend.use('numpy') "
                "(LSTM97_BACKEND=numpy).")
        theta = _host("theta", theta, np.float64)
        c = self.config
        if theta.ndim != 2 or theta.shape[1] != self.n_params:
            raise ValueError(f"theta must have shape (B, {self.n_params}), got {tuple(theta.shape)}")
        B = theta.shape[0]
        inputs = _host("the inputs", inputs, None)
        onehot = inputs.ndim == 2 and np.issubdtype(inputs.dtype, np.integer)
        if onehot:
            sym, xs = inputs.astype(np.int64, copy=False), _NO_X
            if sym.shape[0] != B:
                raise ValueError(f"symbols must have shape (B={B}, T), got {tuple(sym.shape)}")
            if sym.size and (sym.min() < -1 or sym.max() >= c.n_in):
                raise ValueError(f"symbols must lie in -1 (padding) .. {c.n_in - 1}, got "
                                 f"{sym.min()} .. {sym.max()}")
        else:
            xs, sym = inputs.astype(np.float64, copy=False), _NO_SYM
            if xs.ndim != 3 or xs.shape[0] != B or xs.shape[2] != c.n_in:
                raise ValueError(f"inputs must have shape (B={B}, T, {c.n_in}), got {tuple(xs.shape)}")
        T = inputs.shape[1]
        if batch is not None:
            d, m = _host("targets", batch.y, np.float64), _host("mask", batch.mask, np.float64)
            if d.shape != (B, T, c.n_out) or m.shape != (B, T):
                raise ValueError(f"targets and mask must have shapes (B, T, {c.n_out}) and (B, T) with "
                                 f"B={B}, T={T}; got {tuple(d.shape)} and {tuple(m.shape)}")
        else:
            d, m = _NO_D, _NO_M
        ys, loss = np.empty((B, T, c.n_out)), np.zeros(B)
        out = np.empty_like(theta) if mode != FORWARD else theta  # untouched in forward mode
        kernel = _run_parallel if (self.parallel and B > 1) else _run_serial
        lrs = np.broadcast_to(np.asarray(lr, dtype=np.float64).reshape(-1), (B,)).copy()  # a rate per network
        kernel(theta, xs, sym, onehot, d, m, self._dims, mode, lrs, ys, loss, out)
        return loss, out, ys

    @staticmethod
    def _inputs(batch):
        return batch.symbols if batch.symbols is not None else batch.values

    # ------------------------------------------------------------------ the learner interface

    def forward(self, theta, x):
        """Outputs (B, T, n_out) of every network over its sequence: (None, outputs).

        `x` is dense, (B, T, n_in), or, for locally coded inputs, the symbols (B, T) as integers
        (-1 = padding), which skips building the one-hot array.
        """
        _, _, y = self._run(theta, x, None, FORWARD, 0.0)
        return None, y

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
