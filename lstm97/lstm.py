"""The 1997 LSTM network (chapter 4): topology from a config, one flat parameter vector, the
forward pass of the paper's Sec. 4 and Appendix A.1 — eqs. 7 (input gate), 8 (output gate), 9 (the
cell) and the output units, each in a method of `LSTM` named for it (eq. 6 is a conventional
hidden unit, which the paper's experiments do not use).

A memory cell block j has S cells c_j^v that share an input gate in_j and an output gate out_j.
At each step, in the paper's Sec. 5 order (input, then hidden units, then outputs):

    y_in(t)  = f(W_in z(t))                                     `input_gate`,  eq. (7)
    y_out(t) = f(W_out z(t))                                    `output_gate`, eq. (8)
    s_c(t)   = s_c(t-1) + y_in(t) g(W_c z(t)),   s_c(0) = 0     `cell`,        eq. (9): the CEC,
    y_c(t)   = y_out(t) h(s_c(t))                                                  self-weight 1.0
    y_k(t)   = f(W_k o(t))                                      `output_units`

z(t) holds the sources of cells and gates (`sources`): the inputs x(t), for connectivity "F" the
previous outputs of all cells *and gates* y_h(t-1) (only this reproduces the paper's weight
counts), and a bias unit. o(t) holds the sources of the output units: the current cell outputs
y_c(t), for connectivity "B" also the inputs, and a bias unit where outputs are biased. There is
no forget gate: the self-connection is fixed at 1.0.

The net is built from an `LSTMConfig` (`lstm97.config`: Table 10's columns), which also
describes the later variants of Part IV (forget gate, peepholes, recurrent="cells", tanh;
`LSTMConfig.beyond_1997` names those set). `LSTM(config)` builds the 1997 cell above; for a
config with later options it builds `lstm97.later.LaterLSTM`, the same network with chapters
14–15's additions, so that the 1997 path carries none of them. The gradients are in
`lstm97.gradients`, the compiled engines in `lstm97.fast` and `lstm97.gpu`.

`LSTM` is a `learner.Learner`: it carries its state across calls (`outputs`) and gives one
sequence's gradient (`gradient`). What it refuses — non-array arguments, weights or inputs that
are not finite, sequences without steps — `fast.FastLSTM` refuses alike (`check_length`,
`check_finite`).

All arrays carry a leading axis of B independent networks (one row of `theta` each).
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from . import backend
from .config import BIAS, LSTMConfig
from .learner import Learner
from .params import Layout, per_network
from .squash import SQUASH
from .squash import f as logistic


class LSTM(Learner):
    """A batch of independent 1997 LSTM networks built from an `LSTMConfig` (with later options: a
    `later.LaterLSTM`, see the module docstring).

    `update`: when the weights change during training — "sequence" (at the end of each
    sequence) or "step" (after every step, true online learning); the paper does not say which
    it used where targets come at every step (Exps. 1, 2a, 2b; spec decision 5).
    `gradient`: what training descends — "truncated", the paper's (chapter 5), or "exact", full
    BPTT through every connection (Part IV; Greff et al. 2017 train the vanilla LSTM with it).
    BPTT needs the whole sequence before it can change a weight, so "exact" needs
    update="sequence".
    """

    carries_state = True    # `outputs` runs a long stream in pieces
    sums_gradients = True   # `gradient` gives one sequence's gradient
    squashings = SQUASH     # the g and h a config may name

    def __new__(cls, config: LSTMConfig | None = None, *args, **kwargs):
        if cls is LSTM and config is not None and config.beyond_1997:
            from .later import LaterLSTM  # later.py subclasses LSTM, so it cannot be imported at the top
            cls = LaterLSTM
        return super().__new__(cls)

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
        self.gates = self.gate_names()
        self.layout = Layout(self.weight_blocks())
        self.g, self.h = self.squashings[c.g], self.squashings[c.h]
        self.name = (f"LSTM ({c.blocks} block{'s' * (c.blocks > 1)} of {c.cells}, "
                     f"{self.n_params} weights{', full BPTT' * (gradient == 'exact')})")

    def gate_names(self) -> tuple[str, ...]:
        """The gates of a block, in the order of y_h = (y_c, y_in, y_out)."""
        return ("in",) + ("out",) * self.config.output_gates

    def weight_blocks(self) -> list[tuple[str, tuple[int, int]]]:
        """The named weight matrices, in the order of the parameter vector."""
        c = self.config
        return ([("W_c", (c.n_cells, self.n_zc))] + [(f"W_{n}", (c.blocks, self.n_zg)) for n in self.gates]
                + [("W_k", (c.n_out, self.n_o))])

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
        return theta

    # ------------------------------------------------------------------ one time step

    def start(self, B: int):
        """The state at a sequence start: every activation and internal state 0 (Sec. 5)."""
        xp = backend.xp()
        return xp.zeros((B, self.config.n_cells)), xp.zeros((B, self.config.n_hidden))

    def step(self, p: dict, x, state) -> tuple["Step", tuple]:
        """One time step for all networks, in Sec. 5's order (inputs, gates and cells, outputs):
        returns what it computed and the new state (s, y_h)."""
        xp = backend.xp()
        s_prev, y_h = state
        z = self.sources(x, y_h)
        y_in, df_in = self.input_gate(p, z)                                  # eq. (7)
        y_out, df_out = self.output_gate(p, z)                               # eq. (8)
        g, dg, s, h, dh, y_c = self.cell(p, z, s_prev, y_in, y_out)          # eq. (9)
        o, y, df_k = self.output_units(p, x, y_c)
        y_h = xp.concatenate([y_c, y_in] + [y_out] * self.config.output_gates, axis=1)
        return Step(z, g, dg, y_in, df_in, y_out, df_out, s, h, dh, y_c, o, y, df_k), (s, y_h)

    def sources(self, x, y_h):
        """z(t), the sources of cells and gates: x(t), the cells and gates of t-1 (connectivity
        "F"), and the bias unit last."""
        recurrent = [y_h] if self.config.connectivity == "F" else []
        return backend.xp().concatenate([x] + recurrent + [backend.xp().ones((x.shape[0], 1))], axis=1)

    def input_gate(self, p, z):
        """Eq. (7): y_in = f(net_in), net_in = W_in z; per block, with f's derivative."""
        return logistic(net_input(p["W_in"], z[:, : self.n_zg]))

    def output_gate(self, p, z):
        """Eq. (8): y_out = f(net_out), net_out = W_out z; without output gates (2a, 2b) 1 (always read)."""
        if not self.config.output_gates:
            B = z.shape[0]
            return backend.xp().ones((B, self.config.blocks)), backend.xp().zeros((B, self.config.blocks))
        return logistic(net_input(p["W_out"], z[:, : self.n_zg]))

    def cell(self, p, z, s_prev, y_in, y_out):
        """Eq. (9), every cell: the squashed cell input g(net_c), net_c = W_c z; the CEC's state
        s(t) = s(t-1) + y_in g (self-weight 1.0); the output y_c = y_out h(s). Returns
        (g, g', s, h, h', y_c)."""
        g, dg = self.g(net_input(p["W_c"], z[:, : self.n_zc]))
        s = s_prev + self.per_cell(y_in) * g            # the CEC: self-weight 1.0
        h, dh = self.h(s)
        return g, dg, s, h, dh, self.per_cell(y_out) * h

    def output_units(self, p, x, y_c):
        """The output units, y_k = f(W_k o), from o = (y_c(t), the inputs where they feed the
        outputs, the bias unit where biased): (o, y, f'(net_k))."""
        xp = backend.xp()
        o = [y_c] + ([x] if self.to_outputs else []) + ([xp.ones((x.shape[0], 1))] if self.output_bias else [])
        o = xp.concatenate(o, axis=1)
        return (o, *logistic(net_input(p["W_k"], o)))

    def by_block(self, a):
        """A per-cell quantity (B, blocks * cells) as (B, blocks, cells)."""
        return a.reshape(a.shape[0], self.config.blocks, self.config.cells)

    def per_cell(self, a):
        """Spread a per-block quantity (B, blocks) over the block's cells (B, blocks * cells), on the
        host or the device (where `a` is)."""
        return a.repeat(self.config.cells, axis=1)

    # ------------------------------------------------------------------ the truncated gradient's terms (chapter 5)

    def trace_terms(self, st: Step, s_prev) -> dict:
        """The new term a(t) u(t) of each trace d s_c(t)/d w = d s_c(t-1)/d w + a(t) u(t), for the
        weights w into cell c and into its block's input gate: {name: (a (B, cells), u)}."""
        zc, zg = st.z[:, None, : self.n_zc], st.z[:, None, : self.n_zg]
        return {"W_c": (self.per_cell(st.y_in) * st.dg, zc),              # eq. (27)
                "W_in": (st.g * self.per_cell(st.df_in), zg)}             # eq. (25)

    def carry(self, st: Step, trace):
        """A trace's part from the step before, d s_c(t-1)/d w: the CEC carries it unchanged."""
        return trace

    def output_gate_sources(self, st: Step) -> dict:
        """What the output gates' weights see, by weight block: their change is e_out times it."""
        return {"W_out": st.z[:, None, : self.n_zg]}

    # ------------------------------------------------------------------ the learner interface

    def _check(self, theta, x, state=None):
        """Shapes, types and values of what a caller passes in (one isfinite reduction per array)."""
        xp = backend.xp()
        for name, a in (("theta", theta), ("the inputs", x)):
            if not backend.is_array(a):
                raise TypeError(f"{type(self).__name__} takes arrays, got {type(a).__name__} for {name}; "
                                f"convert it with lstm97.backend.to_device")
        if theta.ndim != 2 or theta.shape[1] != self.n_params:
            raise ValueError(f"theta must have shape (B, {self.n_params}), got {tuple(theta.shape)}")
        if x.ndim != 3 or x.shape[0] != theta.shape[0] or x.shape[2] != self.config.n_in:
            raise ValueError(f"inputs must have shape (B={theta.shape[0]}, T, {self.config.n_in}), "
                             f"got {tuple(x.shape)}")
        check_length(x.shape[1])
        check_finite({"theta": theta, "the inputs": x}, lambda a: bool(xp.isfinite(a).all()))
        if state is not None:
            want = ((theta.shape[0], self.config.n_cells), (theta.shape[0], self.config.n_hidden))
            got = tuple(tuple(a.shape) for a in state) if isinstance(state, tuple) else None
            if got != want:
                raise ValueError(f"the state must be (s, y_h) of shapes {want[0]} and {want[1]}, as `start` or "
                                 f"`outputs` returns it, got {got if got is not None else type(state).__name__}")

    def forward(self, theta, x, lengths=None):
        """Run every network over its sequence: (the recorded steps, one `Step` of (B, T, ...)
        arrays, and the outputs (B, T, n_out)), over every step, `lengths` notwithstanding."""
        self._check(theta, x)
        p = self.layout.views(theta)
        state = self.start(x.shape[0])
        record = []
        for t in range(x.shape[1]):
            step, state = self.step(p, x[:, t], state)
            record.append(step)
        steps = stack(record)
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
        from . import gradients  # gradients.py works on LSTM nets: imported here, where it is needed

        return getattr(gradients, self.gradient_kind)(self, theta, batch)

    def train_step(self, theta, batch, lr: float):
        """One training sequence per network, by the configured gradient: (theta, loss, outputs)."""
        if self.update == "step":
            from .gradients import truncated

            loss, theta, y = truncated(self, theta, batch, lr=lr)
            return theta, loss, y
        loss, grad, y = self.gradient(theta, batch)
        return theta - per_network(lr, grad), loss, y


def net_input(W, z):
    """The net inputs W z of a layer of units in every network: W (B, units, sources), z (B, sources)."""
    return backend.xp().einsum("bij,bj->bi", W, z)


def check_length(T: int) -> None:
    """`LSTM` and `FastLSTM` refuse a sequence without steps alike."""
    if T == 0:
        raise ValueError("the inputs have no time steps (T = 0): a sequence needs at least one")


def check_finite(arrays: dict, finite) -> None:
    """`LSTM` and `FastLSTM` refuse weights or inputs that are not finite alike: `arrays` by name,
    `finite(array) -> bool` one reduction each."""
    for name, a in arrays.items():
        if not finite(a):
            raise ValueError(f"{name} contain NaN or infinite values")


@dataclass
class Step:
    """What one time step computes, named as in the paper (d* are the derivatives); after
    `LSTM.forward`, each field holds a whole sequence, (B, T, ...)."""

    z: object       # sources of cells and gates, with the bias unit last
    g: object       # g(net_c), per cell
    dg: object
    y_in: object    # input gate activations, per block
    df_in: object
    y_out: object   # output gate activations, per block (1 without output gates)
    df_out: object
    s: object       # internal states s_c, per cell
    h: object       # h(s_c)
    dh: object
    y_c: object     # cell outputs
    o: object       # sources of the output units
    y: object       # output units
    df_k: object


def stack(record: list[Step]) -> Step:
    """The steps of a sequence as one record of their class, each field stacked to (B, T, ...)."""
    xp, kind = backend.xp(), type(record[0])
    return kind(*(xp.stack([getattr(r, f.name) for r in record], axis=1) for f in fields(kind)))
