"""The gradients of the 1997 LSTM (chapter 5): the paper's truncated gradient, computed forward
in time (Appendix A.1, eqs. 10–28), and the exact gradient of the same loss by BPTT.

Loss of one sequence: L = 1/2 sum_t sum_k m(t) (y_k(t) - d_k(t))^2 over the steps m(t) with a
target. (The paper's E, eq. 16, has no 1/2 and its e_k, eq. 19, no factor 2: the same gradient.)
Both functions return the gradient dL/dtheta; the paper's weight change is -alpha times it.

**Truncation** (Sec. 4, "Learning"): errors arriving at the net inputs of cells and gates are not
propagated further back in time; error flows back only inside cells, through s_c. Equivalently
(spec 3.1), the truncated gradient is the exact gradient of the unrolled net in which every
recurrent source y_h(t-1) feeding a cell or gate is held constant — `exact(..., truncate=True)`
computes exactly that by BPTT, and the tests check that both agree.

Both also cover the later variants (`later.LaterLSTM`: forget gate, peepholes, recurrent="cells",
tanh): `exact` through every connection, `truncated` with the peephole sources held constant too
(the net supplies its traces' terms).
"""
from __future__ import annotations

from . import backend
from .params import per_network


def _block_sum(net, a):
    """Sum a per-cell quantity (B, blocks * cells) over each block's cells: (B, blocks)."""
    return net.by_block(a).sum(axis=2)


def truncated(net, theta, batch, lr: float | None = None):
    """The paper's truncated gradient, forward in time: (loss (B,), grad (B, P), outputs).

    Only the partial derivatives of the internal states with respect to the weights into cells
    and input gates are carried from step to step (the traces, 2·C·S·I numbers: O(W) memory,
    O(1) work per weight and step). With a learning rate `lr` the weights change after every
    step instead (online), and the function returns (loss, new theta, outputs).

    What the traces and the output gates' changes are made of comes from the net
    (`trace_terms`, `carry`, `output_gate_sources`): the 1997 cell's in `lstm.LSTM`, the forget
    gate's and the peepholes' added in `later.LaterLSTM`.
    """
    xp, c = backend.xp(), net.config
    x, d, m = batch.on_device()
    net._check(theta, x)
    theta = theta.copy()
    p = net.layout.views(theta)
    B, T, _ = x.shape
    grad = xp.zeros_like(theta)
    traces = {}  # d s_c / d w for the weights w of `net.trace_terms`, each (B, cells, sources); 0 at the start
    state = net.start(B)
    loss, ys = xp.zeros(B), xp.zeros((B, T, c.n_out))
    for t in range(T):
        s_prev = state[0]
        st, state = net.step(p, x[:, t], state)
        for name, (a, u) in net.trace_terms(st, s_prev).items():
            traces[name] = net.carry(st, traces.get(name, 0.0)) + a[:, :, None] * u
        ys[:, t] = st.y
        err = m[:, t, None] * (st.y - d[:, t])
        loss += 0.5 * (err ** 2).sum(axis=1)
        e_k = err * st.df_k                                        # -e_k of eq. (19)
        g = net.layout.views(xp.zeros_like(theta)) if lr is not None else net.layout.views(grad)
        g["W_k"][...] += e_k[:, :, None] * st.o[:, None, :]                              # eq. (22)
        back = xp.einsum("bk,bkc->bc", e_k, p["W_k"][:, :, : c.n_cells])  # sum_k w_kc e_k
        if c.output_gates:
            e_out = st.df_out * _block_sum(net, st.h * back)                             # eq. (21)
            for name, u in net.output_gate_sources(st).items():
                g[name][...] += e_out[:, :, None] * u                                    # eq. (22)
        e_s = net.per_cell(st.y_out) * st.dh * back                                      # eq. (23)
        for name, trace in traces.items():
            if name == "W_c":
                g["W_c"][...] += e_s[:, :, None] * trace                                 # eq. (28)
            else:  # a gate's weight: summed over its block's cells
                g[name][...] += (e_s[:, :, None] * trace).reshape(B, c.blocks, c.cells, -1).sum(axis=2)  # eq. (26)
        if lr is not None:
            for name, block in g.items():
                p[name][...] -= per_network(lr, block)
    return loss, (theta if lr is not None else grad), ys


def exact(net, theta, batch, truncate: bool = False):
    """The exact gradient of the same loss by back-propagation through time, through every
    connection of the unrolled net: (loss (B,), grad (B, P), outputs). With `truncate=True` the
    recurrent sources of cells and gates, and the peephole sources, are held constant, which
    gives the truncated gradient."""
    xp, c = backend.xp(), net.config
    x, d, m = batch.on_device()
    st, y = net.forward(theta, x)
    p = net.layout.views(theta)
    grad = xp.zeros_like(theta)
    g = net.layout.views(grad)
    B, T, _ = x.shape
    C, n_cells = c.blocks, c.n_cells
    err = m[:, :, None] * (y - d)
    loss = 0.5 * (err ** 2).sum(axis=(1, 2))
    dnet_k = err * st.df_k
    g["W_k"][...] = xp.einsum("btk,btj->bkj", dnet_k, st.o)
    d_yc_out = xp.einsum("btk,bkc->btc", dnet_k, p["W_k"][:, :, :n_cells])
    d_yh = xp.zeros((B, c.n_hidden))  # error arriving at y_h(t) from the cells and gates at t+1
    d_s = xp.zeros((B, n_cells))      # error arriving at s(t) from s(t+1) and the gates at t+1
    recurrent = c.connectivity == "F" and not truncate
    peep = c.peepholes and not truncate
    at = {n: n_cells + i * C for i, n in enumerate(net.gates)}  # each gate's place in y_h
    peeps = {n: p[f"p_{n}"].reshape(B, n_cells) for n in net.gates} if c.peepholes else {}
    for t in range(T - 1, -1, -1):
        zc, zg = st.z[:, t, : net.n_zc], st.z[:, t, : net.n_zg]
        s_prev = st.s[:, t - 1] if t else xp.zeros((B, n_cells))
        d_yc = d_yc_out[:, t] + d_yh[:, :n_cells]
        dnet = {}  # per gate: the error at its net input
        if c.output_gates:
            d_out = _block_sum(net, d_yc * st.h[:, t]) + d_yh[:, at["out"]:at["out"] + C]
            dnet["out"] = d_out * st.df_out[:, t]
        d_s = d_s + d_yc * net.per_cell(st.y_out[:, t]) * st.dh[:, t]
        if peep and c.output_gates:   # the output gate peeks at s(t)
            d_s = d_s + net.per_cell(dnet["out"]) * peeps["out"]
        d_in = _block_sum(net, d_s * st.g[:, t]) + d_yh[:, at["in"]:at["in"] + C]
        dnet["in"] = d_in * st.df_in[:, t]
        if c.forget_gate:
            d_phi = _block_sum(net, d_s * s_prev) + d_yh[:, at["phi"]:at["phi"] + C]
            dnet["phi"] = d_phi * st.df_phi[:, t]
        dnet_c = d_s * net.per_cell(st.y_in[:, t]) * st.dg[:, t]
        g["W_c"][...] += dnet_c[:, :, None] * zc[:, None, :]
        dz = xp.einsum("bc,bcj->bj", dnet_c, p["W_c"])[:, : net.n_src]
        for n in net.gates:
            g[f"W_{n}"][...] += dnet[n][:, :, None] * zg[:, None, :]
            dz = dz + xp.einsum("bi,bij->bj", dnet[n], p[f"W_{n}"])[:, : net.n_src]
            if c.peepholes:
                g[f"p_{n}"][...] += dnet[n][:, :, None] * net.by_block(st.s[:, t] if n == "out" else s_prev)
        d_yh = xp.zeros((B, c.n_hidden))
        if recurrent:
            d_yh[:, : c.n_recurrent] = dz[:, c.n_in:]
        if c.forget_gate:             # s(t) = y_phi(t) s(t-1) + ...
            d_s = d_s * net.per_cell(st.y_phi[:, t])
        if peep:                      # the input and forget gates peek at s(t-1)
            d_s = d_s + net.per_cell(dnet["in"]) * peeps["in"]
            if c.forget_gate:
                d_s = d_s + net.per_cell(dnet["phi"]) * peeps["phi"]
    return loss, grad, y
