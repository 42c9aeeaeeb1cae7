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

The per-network function is plain Python built by `make(jit)`: compiled here by `njit` and driven
by a `prange` loop over networks, and by `lstm97.gpu` as a CUDA device function, one thread per
network; so both kernels run the same lines. Its scratch (state, traces, summed changes) is passed
in, one row of `work` and `iwork` per network (`scratch_size`), since a device function cannot
allocate. `FastLSTM` runs on the CPU under either array backend: CuPy arrays are brought to the
host and the results sent back.

Differences from the reference are rounding only: sums run in a different order than NumPy's
einsum, and `exp` is libm's rather than NumPy's own, which may differ in the last bit (the tests
ask for 1e-10 relative; typical differences are ≈ 1e-15).
`forward` returns no recorded `Steps` (its first element is None): only the outputs.
"""
from __future__ import annotations

import math

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


def make(jit):
    """The per-network function `run_one`, plain Python compiled by `jit` together with its helpers:
    `make(njit)` for the CPU kernel below, `make(cuda.jit(device=True))` for the GPU kernel
    (`lstm97.gpu`). Both targets run these same lines; hence `math.exp`, and scratch passed in."""

    @jit
    def sigmoid(x):
        return 1.0 / (1.0 + math.exp(-x))

    @jit
    def net(W, r, act_i, act_v, na, n_in, zt, n_tail):
        """Net input of the unit whose weights start at W[r]: the active inputs (index act_i, value
        act_v), then the tail of the source vector z (recurrent units and bias)."""
        a = 0.0
        for q in range(na):
            a += W[r + act_i[q]] * act_v[q]
        for i in range(n_tail):
            a += W[r + n_in + i] * zt[i]
        return a

    @jit
    def run_one(b, theta, xs, sym, onehot, d, m, dims, mode, lrs, ys, loss, out, work, iwork):
        """Network b over its whole sequence; see the module docstring. Writes ys[b], loss[b], out[b].
        work[b] and iwork[b] are its scratch (`scratch_size`), zeroed here as far as `mode` needs."""
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
        summed = mode == GRADIENT or mode == SEQUENCE_UPDATE

        # the weights the forward pass reads; online they are updated in place in out[b]
        if online:
            for i in range(P):
                out[b, i] = theta[b, i]
            W = out[b]
        else:
            W = theta[b]

        n_tail = n_src + 1 - n_in      # z = [inputs | y_h(t-1) (connectivity F) | bias unit]
        nct, ngt = n_zc - n_in, n_zg - n_in  # columns of z past the inputs seen by cells, gates
        # the scratch, in the order of `scratch_size`
        w = work[b]
        act_i = iwork[b]                               # the nonzero inputs of this step
        s, g, dg, h = w[0:nc], w[nc:2 * nc], w[2 * nc:3 * nc], w[3 * nc:4 * nc]
        dh, y_c, back, e_s = w[4 * nc:5 * nc], w[5 * nc:6 * nc], w[6 * nc:7 * nc], w[7 * nc:8 * nc]
        o = 8 * nc
        y_in, df_in, y_out, df_out, e_out = w[o:o + C], w[o + C:o + 2 * C], w[o + 2 * C:o + 3 * C], \
            w[o + 3 * C:o + 4 * C], w[o + 4 * C:o + 5 * C]
        o += 5 * C
        y_k, df_k, e_k = w[o:o + n_out], w[o + n_out:o + 2 * n_out], w[o + 2 * n_out:o + 3 * n_out]
        o += 3 * n_out
        yh, zt, act_v = w[o:o + nh], w[o + nh:o + nh + n_tail], w[o + nh + n_tail:o + nh + n_tail + n_in]
        o += nh + n_tail + n_in
        trace_c = w[o:o + nc * n_zc]                   # d s_c / d W_c[c, :]          (eq. 27)
        o += nc * n_zc
        trace_in = w[o:o + nc * n_zg]                  # d s_c / d W_in[block of c, :] (eq. 25)
        G = w[o + nc * n_zg:o + nc * n_zg + P]         # the summed weight changes
        for c in range(nc):
            s[c] = 0.0
        for j in range(nh):
            yh[j] = 0.0
        for j in range(C):
            y_out[j] = 1.0                             # without output gates
        if train:
            for i in range(nc * n_zc):
                trace_c[i] = 0.0
            for i in range(nc * n_zg):
                trace_in[i] = 0.0
        if summed:
            for i in range(P):
                G[i] = 0.0
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
                e = sigmoid(net(W, oc + c * n_zc, act_i, act_v, na, n_in, zt, nct))
                if g_kind == 0:
                    g[c], dg[c] = 4.0 * e - 2.0, 4.0 * e * (1.0 - e)
                else:
                    g[c], dg[c] = e, e * (1.0 - e)
            for j in range(C):
                e = sigmoid(net(W, oi + j * n_zg, act_i, act_v, na, n_in, zt, ngt))
                y_in[j], df_in[j] = e, e * (1.0 - e)
                if out_gates:
                    e = sigmoid(net(W, oo + j * n_zg, act_i, act_v, na, n_in, zt, ngt))
                    y_out[j], df_out[j] = e, e * (1.0 - e)
            for c in range(nc):
                j = c // S
                s[c] = s[c] + y_in[j] * g[c]                       # eq. (9): the CEC
                if h_kind == 0:
                    e = sigmoid(s[c])
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
                e = sigmoid(a)
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

    return run_one


def scratch_size(dims, P: int) -> tuple[int, int]:
    """Float and integer scratch per network, as `run_one` lays it out: 8 vectors over the cells,
    5 over the blocks, 3 over the outputs, y_h, the tail of z, the active input values, the two
    traces and the summed changes; the active input indices."""
    nc = dims[BLOCKS] * dims[CELLS]
    n_tail = dims[N_SRC] + 1 - dims[N_IN]
    return (8 * nc + 5 * dims[BLOCKS] + 3 * dims[N_OUT] + dims[N_HIDDEN] + n_tail + dims[N_IN]
            + nc * (dims[N_ZC] + dims[N_ZG]) + P), max(int(dims[N_IN]), 1)


_run_one = make(lambda f: njit(f, cache=True, fastmath=False, inline="always"))


@njit(cache=True, fastmath=False, parallel=True)
def _run_parallel(theta, xs, sym, onehot, d, m, dims, mode, lrs, ys, loss, out, work, iwork):
    for b in prange(theta.shape[0]):
        # prange counts in uint64: cast, so that both drivers share one compiled _run_one
        _run_one(np.int64(b), theta, xs, sym, onehot, d, m, dims, mode, lrs, ys, loss, out, work, iwork)


@njit(cache=True, fastmath=False)
def _run_serial(theta, xs, sym, onehot, d, m, dims, mode, lrs, ys, loss, out, work, iwork):
    for b in range(theta.shape[0]):
        _run_one(b, theta, xs, sym, onehot, d, m, dims, mode, lrs, ys, loss, out, work, iwork)


_NO_X = np.zeros((1, 1, 1))
_NO_SYM = np.zeros((1, 1), dtype=np.int64)
_NO_D = np.zeros((1, 1, 1))
_NO_M = np.zeros((1, 1))


def _host(name: str, a, dtype) -> np.ndarray:
    """`a`, an array of either backend, as a writable C-ordered NumPy array of `dtype`."""
    if not backend.is_array(a):
        raise TypeError(f"FastLSTM needs NumPy or CuPy arrays, got {type(a).__module__}.{type(a).__name__} "
                        f"for {name}")
    a = np.ascontiguousarray(backend.to_host(a), dtype=dtype)
    return a if a.flags.writeable else a.copy()  # a read-only array would compile another signature


class FastLSTM:
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
    """

    takes_symbols = True  # forward() accepts the symbols of a locally coded task (see below)
    implementation = "compiled"  # the word `name` adds to the reference's

    def __init__(self, config: LSTMConfig, update: str = "sequence", parallel: bool = True):
        if config.beyond_1997:
            raise ValueError(f"{type(self).__name__} implements only the 1997 cell, not "
                             f"{', '.join(config.beyond_1997)}; use lstm97.lstm.LSTM for this config")
        self.reference = LSTM(config, update)   # topology, layout and init come from here
        self.config, self.update, self.layout = config, update, self.reference.layout
        self.parallel = parallel
        self.name = f"{self.reference.name[:-1]}, {self.implementation})"
        ref, c, sl = self.reference, config, self.reference.layout.slices
        self._dims = np.array([
            c.n_in, c.n_out, c.blocks, c.cells, c.n_hidden, ref.n_src, ref.n_zc, ref.n_zg, ref.n_o,
            c.connectivity == "F", c.output_gates, ref.output_bias, _G[c.g], _H[c.h],
            sl["W_c"].start, sl["W_in"].start, sl["W_out"].start if c.output_gates else -1, sl["W_k"].start,
        ], dtype=np.int64)
        self._scratch = scratch_size(self._dims, self.n_params)

    @property
    def n_params(self) -> int:
        return self.layout.size

    def init(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Initial weights of `n` networks: exactly `LSTM.init`."""
        return self.reference.init(rng, n)

    # ------------------------------------------------------------------ calling the kernel

    def _arrays(self, theta, inputs, batch, convert):
        """The kernel's arrays (theta, xs, sym, onehot, d, m), each made by `convert(name, a, dtype)`,
        with their shapes checked."""
        c = self.config
        theta = convert("theta", theta, np.float64)
        if theta.ndim != 2 or theta.shape[1] != self.n_params:
            raise ValueError(f"theta must have shape (B, {self.n_params}), got {tuple(theta.shape)}")
        B = theta.shape[0]
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
        T = inputs.shape[1]
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

    def _run(self, theta, inputs, batch, mode: int, lr):
        theta, xs, sym, onehot, d, m = self._arrays(theta, inputs, batch, _host)
        B, T = theta.shape[0], (sym if onehot else xs).shape[1]
        ys, loss = np.empty((B, T, self.config.n_out)), np.zeros(B)
        out = np.empty_like(theta) if mode != FORWARD else theta  # untouched in forward mode
        work, iwork = np.empty((B, self._scratch[0])), np.empty((B, self._scratch[1]), dtype=np.int64)
        kernel = _run_parallel if (self.parallel and B > 1) else _run_serial
        kernel(theta, xs, sym, onehot, d, m, self._dims, mode, self._rates(lr, B), ys, loss, out, work, iwork)
        return backend.to_device(loss), backend.to_device(out), backend.to_device(ys)

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
