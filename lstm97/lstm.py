"""The 1997 LSTM network: topology from a config, one flat parameter vector, the forward pass
(chapter 4; the paper's Sec. 4, Appendix A.1 eqs. 7–9 and the output units; eq. 6 is a
conventional hidden unit, which the paper's experiments do not use).

A memory cell block j has S cells c_j^v that share an input gate in_j and an output gate out_j.
At each step, in the paper's Sec. 5 order (input, then hidden units, then outputs):

    net_c(t)  = W_c  z(t)        net_in(t) = W_in z(t)      net_out(t) = W_out z(t)
    y_in(t)   = f(net_in(t))     y_out(t)  = f(net_out(t))                         (eqs. 7, 8)
    s_c(t)    = s_c(t-1) + y_in(t) g(net_c(t)),   s_c(0) = 0   — the CEC, self-weight 1.0 (eq. 9)
    y_c(t)    = y_out(t) h(s_c(t))                                                  (eq. 9)
    y_k(t)    = f(W_k o(t))

z(t) holds the sources of cells and gates: the inputs x(t), for connectivity "F" the previous
outputs of all cells *and gates* y_h(t-1) (only this reproduces the paper's weight counts), and
a bias unit. o(t) holds the sources of the output units: the current cell outputs y_c(t), for
connectivity "B" (or with `shortcut`) also the inputs, and a bias unit where outputs are biased. There is no forget
gate: the self-connection is fixed at 1.0.

Later variants are options of the same cell (Part IV, "Beyond 1997"; all off by default: the 1997
cell above, number for number):

    y_phi(t) = f(W_phi z(t))                       forget gate (Gers, Schmidhuber & Cummins 2000)
    s_c(t)   = y_phi(t) s_c(t-1) + y_in(t) g(net_c(t))
    net_in(t) += p_in . s(t-1),  net_phi(t) += p_phi . s(t-1),  net_out(t) += p_out . s(t)
                                                   peepholes (Gers & Schmidhuber 2000)

where a gate's peephole weights p (one per cell of its block) see its own block's states, and the
output gate, which peeks at s(t), is computed after the state update. With recurrent="cells" only
the cell outputs y_c(t-1) feed back, and with g = h = tanh, forget gate, peepholes and biases this
is the "vanilla LSTM" of Greff et al. (2017).

All arrays carry a leading axis of B independent networks (one row of `theta` each).
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from . import backend
from .params import Layout, per_network
from .squash import SQUASH
from .squash import f as logistic

BIAS = {"none": (), "gates": ("gates",), "hidden": ("gates", "cells"), "all": ("gates", "cells", "outputs"),
        "gates+outputs": ("gates", "outputs")}


@dataclass(frozen=True)
class LSTMConfig:
    """The topology and initialisation of a 1997 LSTM net (the columns of the paper's Table 10).

    connectivity: "F" — cells and gates see the inputs and (recurrently) all cells and gates,
      outputs see the cells; "B" — cells and gates see only the inputs, outputs see the inputs
      and the cells (tasks 2a, 2b).
    bias: which units have a bias weight: "none", "gates" (Table 10's "ga"), "hidden" (cells and
      gates, "b1"), "all" (every non-input unit), or "gates+outputs" (all but the cells: Gers et
      al. 2000's CERG net, chapter 14).
    g, h: the cell input and output squashing, "g2"/"g1" and "h1"/"id" (see `squash`).
    init_range: every weight starts uniform in [-init_range, init_range] ...
    input_gate_bias, output_gate_bias: ... except these gate biases, one per block; None keeps
      them random like the other weights (Table 10's "r").

    Beyond 1997 (see the module docstring; the defaults are the 1997 cell):
    forget_gate: one forget gate per block (Gers et al. 2000), which scales s_c(t-1);
      forget_gate_bias: its biases, one per block (Gers et al. start them positive: +0.5, +1.0, ...).
    peepholes: one weight per cell from the state to each gate of its block (Gers & Schmidhuber
      2000): input and forget gates see s(t-1), the output gate s(t).
    recurrent (connectivity "F"): "all" — cells and gates see all cells and gates of t-1 (the
      paper's reading, spec decision 3); "cells" — only the cell outputs y_c(t-1), as in
      Greff et al. (2017) and torch.nn.LSTM.
    shortcut (connectivity "F"): the output units also see the inputs x(t), as under "B" (the
      "shortcut" connections of Gers et al. 2000's CERG net).
    g, h may also be "tanh" (the vanilla LSTM of Greff et al. 2017).
    """

    n_in: int
    n_out: int
    blocks: int = 1
    cells: int = 1
    connectivity: str = "F"
    output_gates: bool = True
    bias: str = "all"
    g: str = "g2"
    h: str = "h1"
    init_range: float = 0.1
    input_gate_bias: tuple | None = None
    output_gate_bias: tuple | None = None
    forget_gate: bool = False
    forget_gate_bias: tuple | None = None
    peepholes: bool = False
    recurrent: str = "all"
    shortcut: bool = False

    def __post_init__(self):
        for name in ("n_in", "n_out", "blocks", "cells"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        choices = {"connectivity": ("F", "B"), "bias": tuple(BIAS), "g": ("g1", "g2", "tanh"),
                   "h": ("h1", "id", "tanh"), "recurrent": ("all", "cells")}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")
        for name in ("output_gates", "forget_gate", "peepholes", "shortcut"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if not self.init_range > 0:
            raise ValueError(f"init_range must be positive, got {self.init_range!r}")
        if self.recurrent != "all" and self.connectivity != "F":
            raise ValueError(f"recurrent={self.recurrent!r} needs connectivity 'F': under 'B' nothing feeds back")
        if self.shortcut and self.connectivity != "F":
            raise ValueError("shortcut=True needs connectivity 'F': under 'B' the outputs see the inputs anyway")
        if self.forget_gate_bias is not None and not self.forget_gate:
            raise ValueError("forget_gate_bias is set but forget_gate is False; add forget_gate=True")
        for name in ("input_gate_bias", "output_gate_bias", "forget_gate_bias"):
            v = getattr(self, name)
            if v is None:
                continue
            if "gates" not in BIAS[self.bias]:
                raise ValueError(f"{name} is set but bias={self.bias!r} gives the gates no bias weight")
            if len(v) != self.blocks:
                raise ValueError(f"{name} needs one value per block ({self.blocks}), got {len(v)}")
        if self.output_gate_bias is not None and not self.output_gates:
            raise ValueError("output_gate_bias is set but the net has no output gates")

    @property
    def n_cells(self) -> int:
        return self.blocks * self.cells

    @property
    def n_gates(self) -> int:
        """Gates per block."""
        return 1 + self.forget_gate + self.output_gates

    @property
    def n_hidden(self) -> int:
        """Cells and gates, whose activations y_h = (y_c, y_in, y_phi, y_out) make the state."""
        return self.n_cells + self.blocks * self.n_gates

    @property
    def n_recurrent(self) -> int:
        """The units of y_h(t-1) that cells and gates see: all of them, only the cells, or none."""
        if self.connectivity == "B":
            return 0
        return self.n_hidden if self.recurrent == "all" else self.n_cells

    @property
    def beyond_1997(self) -> tuple[str, ...]:
        """The options set here that the 1997 cell does not have (empty for a 1997 net)."""
        later = {"forget_gate": self.forget_gate, "peepholes": self.peepholes,
                 "recurrent='cells'": self.recurrent == "cells", "g='tanh'": self.g == "tanh",
                 "h='tanh'": self.h == "tanh", "shortcut": self.shortcut,
                 "bias='gates+outputs'": self.bias == "gates+outputs"}
        return tuple(name for name, on in later.items() if on)


class LSTM:
    """A batch of independent LSTM networks (the 1997 cell, or a later variant) built from an `LSTMConfig`.

    `update`: when the weights change during training — "sequence" (at the end of each
    sequence) or "step" (after every step, true online learning); the paper does not say which
    it used where targets come at every step (Exps. 1, 2a, 2b; spec decision 5).
    `gradient`: what training descends — "truncated", the paper's (chapter 5), or "exact", full
    BPTT through every connection (Part IV; Greff et al. 2017 train the vanilla LSTM with it).
    BPTT needs the whole sequence before it can change a weight, so "exact" needs
    update="sequence".
    """

    def __init__(self, config: LSTMConfig, update: str = "sequence", gradient: str = "truncated"):
        if update not in ("sequence", "step"):
            raise ValueError(f"update must be 'sequence' or 'step', got {update!r}")
        if gradient not in ("truncated", "exact"):
            raise ValueError(f"gradient must be 'truncated' or 'exact', got {gradient!r}")
        if gradient == "exact" and update == "step":
            raise ValueError("the exact gradient (BPTT) runs backward from the sequence's end, so it cannot change "
                             "the weights after every step; use update='sequence', or gradient='truncated' for "
                             "online updates")
        self.config, self.update, self.gradient_kind = config, update, gradient
        c = config
        biased = BIAS[c.bias]
        self.n_src = c.n_in + c.n_recurrent            # z without its bias unit
        self.n_zc = self.n_src + ("cells" in biased)   # sources of a cell input
        self.n_zg = self.n_src + ("gates" in biased)   # sources of a gate
        self.output_bias = "outputs" in biased
        self.to_outputs = c.connectivity == "B" or c.shortcut   # the inputs feed the output units
        self.n_o = c.n_cells + (c.n_in if self.to_outputs else 0) + self.output_bias
        self.gates = ("in",) + ("phi",) * c.forget_gate + ("out",) * c.output_gates  # the order of y_h
        blocks = [("W_c", (c.n_cells, self.n_zc))] + [(f"W_{n}", (c.blocks, self.n_zg)) for n in self.gates]
        if c.peepholes:  # p_*[j, v]: from cell v of block j to that gate of block j
            blocks += [(f"p_{n}", (c.blocks, c.cells)) for n in self.gates]
        blocks += [("W_k", (c.n_out, self.n_o))]
        self.layout = Layout(blocks)
        self.g, self.h = SQUASH[c.g], SQUASH[c.h]
        self.name = (f"LSTM ({c.blocks} block{'s' * (c.blocks > 1)} of {c.cells}, "
                     f"{self.n_params} weights{', full BPTT' * (gradient == 'exact')})")

    @property
    def n_params(self) -> int:
        return self.layout.size

    def init(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Initial weights of `n` networks on the host, with the configured gate biases."""
        c = self.config
        theta = rng.uniform(-c.init_range, c.init_range, size=(n, self.n_params))
        p = self.layout.views(theta)
        if c.input_gate_bias is not None:
            p["W_in"][:, :, -1] = c.input_gate_bias
        if c.output_gate_bias is not None:
            p["W_out"][:, :, -1] = c.output_gate_bias
        if c.forget_gate_bias is not None:
            p["W_phi"][:, :, -1] = c.forget_gate_bias
        return theta

    # ------------------------------------------------------------------ one time step

    def start(self, B: int):
        """The state at a sequence start: every activation and internal state 0 (Sec. 5)."""
        xp = backend.xp()
        return xp.zeros((B, self.config.n_cells)), xp.zeros((B, self.config.n_hidden))

    def step(self, p: dict, x, state) -> tuple["Step", tuple]:
        """One time step for all networks: returns what it computed and the new state (s, y_h)."""
        xp, c = backend.xp(), self.config
        s_prev, y_h = state
        B = x.shape[0]
        parts = [x] + ([y_h[:, : c.n_recurrent]] if c.connectivity == "F" else []) + [xp.ones((B, 1))]
        z = xp.concatenate(parts, axis=1)
        zg = z[:, : self.n_zg]
        net_c = xp.einsum("bij,bj->bi", p["W_c"], z[:, : self.n_zc])
        g, dg = self.g(net_c)
        net_in = xp.einsum("bij,bj->bi", p["W_in"], zg)
        if c.peepholes:
            net_in = net_in + self.peep(p["p_in"], s_prev)       # Gers & Schmidhuber 2000
        y_in, df_in = logistic(net_in)
        if c.forget_gate:                                        # Gers et al. 2000
            net_phi = xp.einsum("bij,bj->bi", p["W_phi"], zg)
            if c.peepholes:
                net_phi = net_phi + self.peep(p["p_phi"], s_prev)
            y_phi, df_phi = logistic(net_phi)
            s = self.per_cell(y_phi) * s_prev + self.per_cell(y_in) * g
        else:
            y_phi, df_phi = xp.ones((B, c.blocks)), xp.zeros((B, c.blocks))
            s = s_prev + self.per_cell(y_in) * g                 # eq. (9): the CEC
        if c.output_gates:
            net_out = xp.einsum("bij,bj->bi", p["W_out"], zg)
            if c.peepholes:
                net_out = net_out + self.peep(p["p_out"], s)     # the output gate peeks at s(t)
            y_out, df_out = logistic(net_out)
        else:
            y_out, df_out = xp.ones((B, c.blocks)), xp.zeros((B, c.blocks))
        h, dh = self.h(s)
        y_c = self.per_cell(y_out) * h                           # eq. (9)
        o = [y_c] + ([x] if self.to_outputs else []) + ([xp.ones((B, 1))] if self.output_bias else [])
        o = xp.concatenate(o, axis=1)
        y, df_k = logistic(xp.einsum("bkj,bj->bk", p["W_k"], o))
        parts = [y_c, y_in] + ([y_phi] if c.forget_gate else []) + ([y_out] if c.output_gates else [])
        new = (s, xp.concatenate(parts, axis=1))
        return Step(z, g, dg, y_in, df_in, y_phi, df_phi, y_out, df_out, s, h, dh, y_c, o, y, df_k), new

    def peep(self, w, s):
        """A gate's peephole input sum_v w[j, v] s_{j,v}, per block (B, blocks): w is (B, blocks, cells)."""
        return (w * self.by_block(s)).sum(axis=2)

    def by_block(self, a):
        """A per-cell quantity (B, blocks * cells) as (B, blocks, cells)."""
        return a.reshape(a.shape[0], self.config.blocks, self.config.cells)

    def per_cell(self, a):
        """Spread a per-block quantity (B, blocks) over the block's cells (B, blocks * cells), on the
        host or the device (where `a` is)."""
        return a.repeat(self.config.cells, axis=1)

    # ------------------------------------------------------------------ forward pass

    def _check(self, theta, x, state=None):
        if theta.ndim != 2 or theta.shape[1] != self.n_params:
            raise ValueError(f"theta must have shape (B, {self.n_params}), got {tuple(theta.shape)}")
        if x.ndim != 3 or x.shape[0] != theta.shape[0] or x.shape[2] != self.config.n_in:
            raise ValueError(f"inputs must have shape (B={theta.shape[0]}, T, {self.config.n_in}), "
                             f"got {tuple(x.shape)}")
        if state is not None:
            want = ((theta.shape[0], self.config.n_cells), (theta.shape[0], self.config.n_hidden))
            got = tuple(tuple(a.shape) for a in state) if isinstance(state, tuple) else None
            if got != want:
                raise ValueError(f"the state must be (s, y_h) of shapes {want[0]} and {want[1]}, as `start` or "
                                 f"`outputs` returns it, got {got if got is not None else type(state).__name__}")

    def forward(self, theta, x):
        """Run every network over its sequence: (the recorded `Steps`, outputs (B, T, n_out))."""
        self._check(theta, x)
        p = self.layout.views(theta)
        state = self.start(x.shape[0])
        record = []
        for t in range(x.shape[1]):
            step, state = self.step(p, x[:, t], state)
            record.append(step)
        steps = Steps.stack(record)
        return steps, steps.y

    def outputs(self, theta, x, state=None):
        """Outputs (B, T, n_out) of every network over `x` and the state (s, y_h) after its last
        step, with nothing else recorded: a long sequence runs in chunks of time, each call going on
        from the `state` the previous one returned (None: a sequence start, as `forward`). The
        outputs are `forward`'s, however the sequence is cut."""
        self._check(theta, x, state)
        p = self.layout.views(theta)
        state = self.start(x.shape[0]) if state is None else state
        y = []
        for t in range(x.shape[1]):
            step, state = self.step(p, x[:, t], state)
            y.append(step.y)
        return backend.xp().stack(y, axis=1), state

    def gradient(self, theta, batch):
        """The gradient of one sequence's loss per network, truncated or exact: (loss, grad, outputs)."""
        from . import gradients

        return getattr(gradients, self.gradient_kind)(self, theta, batch)

    def train_step(self, theta, batch, lr: float):
        """One training sequence per network, by the configured gradient: (theta, loss, outputs)."""
        if self.update == "step":
            from .gradients import truncated

            loss, theta, y = truncated(self, theta, batch, lr=lr)
            return theta, loss, y
        loss, grad, y = self.gradient(theta, batch)
        return theta - per_network(lr, grad), loss, y


@dataclass
class Step:
    """What one time step computes, named as in the paper (d* are the derivatives)."""

    z: object       # sources of cells and gates, with the bias unit last
    g: object       # g(net_c), per cell
    dg: object
    y_in: object    # input gate activations, per block
    df_in: object
    y_phi: object   # forget gate activations, per block (1 without a forget gate)
    df_phi: object
    y_out: object   # output gate activations, per block (1 without output gates)
    df_out: object
    s: object       # internal states s_c, per cell
    h: object       # h(s_c)
    dh: object
    y_c: object     # cell outputs
    o: object       # sources of the output units
    y: object       # output units
    df_k: object


class Steps(Step):
    """The `Step` fields of a whole sequence, each stacked to shape (B, T, ...)."""

    @classmethod
    def stack(cls, record: list[Step]) -> "Steps":
        xp = backend.xp()
        return cls(*(xp.stack([getattr(r, f.name) for r in record], axis=1) for f in fields(Step)))
