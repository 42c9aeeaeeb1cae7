"""The compiled kernel of the 1997 LSTM: the forward pass and the truncated gradient of
`lstm.LSTM` + `gradients.truncated`, a whole sequence per network inside one compiled function.
`fast.FastLSTM` drives it on the CPU, `gpu.GPULSTM` on a CUDA GPU.

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

What the kernel does, per network (networks are independent): the forward pass of `LSTM.step`
(eqs. 7–9 and the output units), the traces of eqs. (25) and (27), and at every step with a
target the errors and weight changes of eqs. (19)–(28), added up over the sequence
(update="sequence") or applied at once (update="step") by the one line `U[i] += f * a`, as
`gradients.truncated` orders them. Inputs that are 0 contribute nothing to a net input, a trace
or a weight change, so the input part of every step touches only the nonzero inputs: for locally
coded tasks (`batch.symbols`) one column, however many input units there are (experiment 2c has
1004). The full trace rows are read only at steps with a target (eqs. 26, 28).

The per-network function `run_one` is plain Python built by `make(jit)`: compiled here by `njit`
and driven by a `prange` loop over networks (`run_parallel`) or a plain one (`run_serial`), and
by `lstm97.gpu` as a CUDA device function, one thread per network; so both kernels run the same
lines. Its scratch (state, traces, summed changes) is passed in, one row of `work` and `iwork`
per network (`scratch_size`), since a device function cannot allocate. The topology comes as a
vector of integers, `dims` (indexed by N_IN … OFF_K), built by `fast.FastLSTM`.
`many_parallel`/`many_serial` run k sequences per network in one call (`FastLSTM.train_many`),
each from the weights the previous one left and over its own steps only: the training loop then
leaves compiled code once per chunk of sequences, not once per sequence.

`specialized` compiles the same `run_one` and drivers once more with a net's topology as constants
(`make(jit, topology)`): fixed loop lengths, no branches on the topology, scratch at known offsets.
Alone on one thread, K = 64 sequences per network, ns per network-step, generic -> specialized:
4-1 216 -> 133, 1-5 777 -> 369, 2c-1 151 -> 105, 6a 236 -> 145, with the same bits; compiling it
takes 6-18 s per topology, driver and process (closures are not cached), hence `fast.TIER_UP`.

Differences from the reference are rounding only: sums run in a different order than NumPy's
einsum, and `exp` is libm's rather than NumPy's own, which may differ in the last bit (the tests
ask for 1e-10 relative; typical differences are ≈ 1e-15).
"""
from __future__ import annotations

import math
import types

import numpy as np
from numba import njit, prange

# squashing functions by code (see squash.py): g: 0 = g2, 1 = g1; h: 0 = h1, 1 = id
G_CODE = {"g2": 0, "g1": 1}
H_CODE = {"h1": 0, "id": 1}

# what the kernel computes
FORWARD, GRADIENT, SEQUENCE_UPDATE, STEP_UPDATE = 0, 1, 2, 3

# dims vector: the topology as integers, read once per network by the kernel
(N_IN, N_OUT, BLOCKS, CELLS, N_HIDDEN, N_SRC, N_ZC, N_ZG, N_O, CONN_F, OUT_GATES, OUT_BIAS, G_KIND, H_KIND,
 OFF_C, OFF_IN, OFF_OUT, OFF_K) = range(18)


def make(jit, topology=None):
    """The per-network function `run_one`, plain Python compiled by `jit` together with its helpers:
    `make(njit)` for the CPU drivers below, `make(cuda.jit(device=True))` for the GPU kernel
    (`lstm97.gpu`). Both targets run these same lines; hence `math.exp`, and scratch passed in.

    With `topology` (a `dims` vector), the topology is compiled in as constants and the `dims`
    argument is not read: the loops over cells, blocks and inputs get fixed lengths, the branches
    on the connectivity and the squashings go, and the scratch vectors sit at known offsets, which
    lets the compiler keep them apart (`specialized`)."""

    if topology is None:
        @jit
        def top(dims, i):
            return dims[i]
    else:
        known = tuple(int(v) for v in topology)

        @jit
        def top(dims, i):
            return known[i]

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
        n_in, n_out, C, S = top(dims, N_IN), top(dims, N_OUT), top(dims, BLOCKS), top(dims, CELLS)
        nh, n_src, n_zc, n_zg, n_o = top(dims, N_HIDDEN), top(dims, N_SRC), top(dims, N_ZC), top(dims, N_ZG), \
            top(dims, N_O)
        conn_f, out_gates, out_bias = top(dims, CONN_F) == 1, top(dims, OUT_GATES) == 1, top(dims, OUT_BIAS) == 1
        g_kind, h_kind = top(dims, G_KIND), top(dims, H_KIND)
        oc, oi, oo, ok = top(dims, OFF_C), top(dims, OFF_IN), top(dims, OFF_OUT), top(dims, OFF_K)
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
        # every weight change, -lr * a for a gradient share a (eq. 17), is one line: U[i] += f * a,
        # into the weights at once (online) or summed into G (applied at the sequence's end)
        if online:
            U, f = W, -lr
        else:
            U, f = G, 1.0
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

                    # ---- weight changes, eqs. (22), (26), (28): U[i] += f * a (see above)
                    for k in range(n_out):
                        r = ok + k * n_o
                        for c in range(nc):
                            U[r + c] += f * (e_k[k] * y_c[c])
                        if not conn_f:
                            for q in range(na):
                                U[r + nc + act_i[q]] += f * (e_k[k] * act_v[q])
                        if out_bias:
                            U[r + n_o - 1] += f * e_k[k]
                    for j in range(C):
                        if out_gates:
                            r = oo + j * n_zg
                            for q in range(na):
                                U[r + act_i[q]] += f * (e_out[j] * act_v[q])
                            for i in range(ngt):
                                U[r + n_in + i] += f * (e_out[j] * zt[i])
                        r = oi + j * n_zg
                        for i in range(n_zg):                      # eq. (26): summed over the block
                            a = e_s[j * S] * trace_in[(j * S) * n_zg + i]
                            for v in range(1, S):
                                a += e_s[j * S + v] * trace_in[(j * S + v) * n_zg + i]
                            U[r + i] += f * a
                    for c in range(nc):                            # eq. (28)
                        r, rc = oc + c * n_zc, c * n_zc
                        for i in range(n_zc):
                            U[r + i] += f * (e_s[c] * trace_c[rc + i])

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


def topology(net) -> np.ndarray:
    """The `dims` vector of an `lstm.LSTM` with a 1997 config: its topology as integers."""
    c, sl = net.config, net.layout.slices
    return np.array([
        c.n_in, c.n_out, c.blocks, c.cells, c.n_hidden, net.n_src, net.n_zc, net.n_zg, net.n_o,
        c.connectivity == "F", c.output_gates, net.output_bias, G_CODE[c.g], H_CODE[c.h],
        sl["W_c"].start, sl["W_in"].start, sl["W_out"].start if c.output_gates else -1, sl["W_k"].start,
    ], dtype=np.int64)


def scratch_size(dims, P: int) -> tuple[int, int]:
    """Float and integer scratch per network, as `run_one` lays it out: 8 vectors over the cells,
    5 over the blocks, 3 over the outputs, y_h, the tail of z, the active input values, the two
    traces and the summed changes; the active input indices."""
    nc = dims[BLOCKS] * dims[CELLS]
    n_tail = dims[N_SRC] + 1 - dims[N_IN]
    return (8 * nc + 5 * dims[BLOCKS] + 3 * dims[N_OUT] + dims[N_HIDDEN] + n_tail + dims[N_IN]
            + nc * (dims[N_ZC] + dims[N_ZG]) + P), max(int(dims[N_IN]), 1)


@njit(cache=True, fastmath={"reassoc"})  # reassociation lets the sum vectorise; a NaN survives any order
def finite(a) -> bool:
    """Whether every entry of `a` is finite, in one pass without a temporary: v * 0 is 0 for a
    finite v and NaN for NaN or ±inf, and a NaN stays in the sum."""
    total = 0.0
    for v in a.flat:
        total += v * 0.0
    return total == 0.0


run_one = make(lambda f: njit(f, cache=True, fastmath=False, inline="always"))


@njit(cache=True, fastmath=False, parallel=True)
def run_parallel(theta, xs, sym, onehot, d, m, dims, mode, lrs, ys, loss, out, work, iwork):
    """Every network, spread over Numba's threads; False (and nothing run) where theta or xs holds
    a value that is not finite."""
    if not (finite(theta) and finite(xs)):
        return False
    for b in prange(theta.shape[0]):
        # prange counts in uint64: cast, so that both drivers share one compiled run_one
        run_one(np.int64(b), theta, xs, sym, onehot, d, m, dims, mode, lrs, ys, loss, out, work, iwork)
    return True


@njit(cache=True, fastmath=False)
def run_serial(theta, xs, sym, onehot, d, m, dims, mode, lrs, ys, loss, out, work, iwork):
    """`run_parallel` on one thread."""
    if not (finite(theta) and finite(xs)):
        return False
    for b in range(theta.shape[0]):
        run_one(b, theta, xs, sym, onehot, d, m, dims, mode, lrs, ys, loss, out, work, iwork)
    return True


@njit(cache=True, fastmath=False, inline="always")
def _run_many(b, K, theta, xs, sym, onehot, d, m, lengths, dims, mode, lrs, ys, loss, out, spare, work, iwork):
    """Network b over its K sequences in turn, rows b*K … b*K+K-1, each starting from the weights
    the previous one left and running only its own `lengths[r]` steps (the outputs past it stay
    as they were): K calls of `run_one` without leaving compiled code. In FORWARD mode (K = 1: the
    test sets, `FastLSTM.forward` with lengths) the weights are theta's and nothing is written
    to `out`."""
    train = mode != FORWARD
    if train:
        out[b, :] = theta[b, :]
    for s in range(K):
        r = b * K + s
        run_one(np.int64(0), out[b:b + 1] if train else theta[b:b + 1], xs if onehot else xs[r:r + 1],
                sym[r:r + 1] if onehot else sym, onehot, d[r:r + 1], m[r:r + 1], dims, mode, lrs[b:b + 1],
                ys[r:r + 1, :lengths[r]], loss[r:r + 1], spare[b:b + 1], work[b:b + 1], iwork[b:b + 1])
        if train:
            out[b, :] = spare[b, :]


@njit(cache=True, fastmath=False, parallel=True)
def many_parallel(K, theta, xs, sym, onehot, d, m, lengths, dims, mode, lrs, ys, loss, out, spare, work, iwork):
    """`run_parallel` over K sequences per network (`_run_many`), the networks spread over threads."""
    if not (finite(theta) and finite(xs)):
        return False
    for b in prange(theta.shape[0]):
        _run_many(np.int64(b), K, theta, xs, sym, onehot, d, m, lengths, dims, mode, lrs, ys, loss, out, spare, work,
                  iwork)
    return True


@njit(cache=True, fastmath=False)
def many_serial(K, theta, xs, sym, onehot, d, m, lengths, dims, mode, lrs, ys, loss, out, spare, work, iwork):
    """`many_parallel` on one thread."""
    if not (finite(theta) and finite(xs)):
        return False
    for b in range(theta.shape[0]):
        _run_many(b, K, theta, xs, sym, onehot, d, m, lengths, dims, mode, lrs, ys, loss, out, spare, work, iwork)
    return True


_SPECIALIZED = {}


def specialized(dims):
    """(`many_parallel`, `many_serial`) with the topology `dims` compiled in (`make`): the same
    lines and the same numbers to the last bit, 1.4-2.2x faster per network-step, but compiled
    for this topology alone, in this process (several seconds; Numba cannot cache a kernel built
    as a closure), so `fast.FastLSTM` switches to them only in a long run. Built once per topology."""
    key = tuple(int(v) for v in dims)
    if key not in _SPECIALIZED:
        names = dict(globals(), run_one=make(lambda f: njit(f, fastmath=False, inline="always"), key))
        for f in (_run_many, many_parallel, many_serial):   # the drivers' own code, against this run_one
            options = {k: v for k, v in f.targetoptions.items() if k not in ("cache", "nopython")}
            names[f.__name__] = njit(**options)(types.FunctionType(f.py_func.__code__, names, f.__name__))
        _SPECIALIZED[key] = names["many_parallel"], names["many_serial"]
    return _SPECIALIZED[key]
