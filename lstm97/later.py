"""The later variants of the LSTM cell (Part IV, "Beyond 1997"), as a subclass of the 1997 net:
`LSTM(config)` builds a `LaterLSTM` for a config with any option that `LSTMConfig.beyond_1997`
names, and the 1997 cell (`lstm.LSTM.step`) for every other.

    y_phi(t) = f(W_phi z(t))                        forget gate (Gers, Schmidhuber & Cummins 2000;
    s_c(t)   = y_phi(t) s_c(t-1) + y_in(t) g(net_c(t))                              chapter 14)
    net_in(t) += p_in . s(t-1),  net_phi(t) += p_phi . s(t-1),  net_out(t) += p_out . s(t)
                                                    peepholes (Gers & Schmidhuber 2000; chapter 15)

where a gate's peephole weights p (one per cell of its block) see its own block's states, and the
output gate, which peeks at s(t), is computed after the state update. With recurrent="cells"
only the cell outputs y_c(t-1) feed back (`sources` takes the first `n_recurrent` units of y_h),
and with g = h = tanh, forget gate, peepholes and biases this is the "vanilla LSTM" of
Greff et al. (2017) (`modern.vanilla`). `shortcut` and bias="gates+outputs" (Gers et al.'s CERG
net) change only which sources a unit sees, which `LSTM`'s topology already covers.

What the truncated gradient (`gradients.truncated`) needs of these options the class adds to the
1997 cell's (`trace_terms`, `carry`, `output_gate_sources`); `gradients.exact`, full BPTT, covers
them itself. The compiled engines (`FastLSTM`, `GPULSTM`) implement only the 1997 cell.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import backend
from .lstm import LSTM, Step, net_input
from .squash import SQUASH
from .squash import f as logistic


def tanh(x):
    """tanh and its derivative: g and h of the vanilla LSTM (Greff et al. 2017), not the paper's."""
    y = backend.xp().tanh(x)
    return y, 1.0 - y * y


@dataclass
class LaterStep(Step):
    """A `Step` with the forget gate's activations too (1 and 0 without a forget gate)."""

    y_phi: object = None
    df_phi: object = None


class LaterLSTM(LSTM):
    """An LSTM net with later options (see the module docstring); built by `LSTM(config)`."""

    squashings = {**SQUASH, "tanh": tanh}

    def gate_names(self) -> tuple[str, ...]:
        """The gates of a block, in the order of y_h = (y_c, y_in, y_phi, y_out)."""
        c = self.config
        return ("in",) + ("phi",) * c.forget_gate + ("out",) * c.output_gates

    def weight_blocks(self):
        """`LSTM`'s, with the peephole weights before W_k: p_*[j, v] from cell v of block j to that
        gate of block j."""
        blocks = super().weight_blocks()
        if self.config.peepholes:
            blocks[-1:-1] = [(f"p_{n}", (self.config.blocks, self.config.cells)) for n in self.gates]
        return blocks

    def sources(self, x, y_h):
        """`LSTM.sources`, with recurrent="cells" from the cell outputs y_c(t-1) only."""
        return super().sources(x, y_h[:, : self.config.n_recurrent])

    def init(self, rng, n: int):
        """`LSTM.init`, and the forget gates' configured biases."""
        theta = super().init(rng, n)
        if self.config.forget_gate_bias is not None:
            self.layout.views(theta)["W_phi"][:, :, -1] = self.config.forget_gate_bias
        return theta

    def step(self, p: dict, x, state) -> tuple[LaterStep, tuple]:
        """One time step for all networks with the later options: what it computed and the new state."""
        xp, c = backend.xp(), self.config
        s_prev, y_h = state
        B = x.shape[0]
        z = self.sources(x, y_h)
        zg = z[:, : self.n_zg]
        g, dg = self.g(net_input(p["W_c"], z[:, : self.n_zc]))
        net_in = net_input(p["W_in"], zg)
        if c.peepholes:
            net_in = net_in + self.peep(p["p_in"], s_prev)
        y_in, df_in = logistic(net_in)
        if c.forget_gate:
            net_phi = net_input(p["W_phi"], zg)
            if c.peepholes:
                net_phi = net_phi + self.peep(p["p_phi"], s_prev)
            y_phi, df_phi = logistic(net_phi)
            s = self.per_cell(y_phi) * s_prev + self.per_cell(y_in) * g
        else:
            y_phi, df_phi = xp.ones((B, c.blocks)), xp.zeros((B, c.blocks))
            s = s_prev + self.per_cell(y_in) * g
        if c.output_gates:
            net_out = net_input(p["W_out"], zg)
            if c.peepholes:
                net_out = net_out + self.peep(p["p_out"], s)     # the output gate peeks at s(t)
            y_out, df_out = logistic(net_out)
        else:
            y_out, df_out = xp.ones((B, c.blocks)), xp.zeros((B, c.blocks))
        h, dh = self.h(s)
        y_c = self.per_cell(y_out) * h
        o, y, df_k = self.output_units(p, x, y_c)
        parts = [y_c, y_in] + ([y_phi] if c.forget_gate else []) + ([y_out] if c.output_gates else [])
        new = (s, xp.concatenate(parts, axis=1))
        return LaterStep(z, g, dg, y_in, df_in, y_out, df_out, s, h, dh, y_c, o, y, df_k, y_phi, df_phi), new

    def trace_terms(self, st: LaterStep, s_prev) -> dict:
        """`LSTM.trace_terms`, and the traces the later options add: with a forget gate, its weights'
        d s_c(t)/d w_phi = y_phi(t) d s_c(t-1)/d w_phi + s_c(t-1) f'(net_phi(t)) z(t) (Gers et al.
        2000); with peepholes, the peephole weights of the input and forget gates, whose source
        s(t-1) of the cell's block is held constant like z (as Gers et al. 2002 truncate them)."""
        c, terms = self.config, super().trace_terms(st, s_prev)
        if c.forget_gate:
            terms["W_phi"] = (s_prev * self.per_cell(st.df_phi), st.z[:, None, : self.n_zg])
        if c.peepholes:
            s_block = self.per_cell(self.by_block(s_prev))
            terms["p_in"] = (terms["W_in"][0], s_block)
            if c.forget_gate:
                terms["p_phi"] = (terms["W_phi"][0], s_block)
        return terms

    def carry(self, st: LaterStep, trace):
        """With a forget gate every trace decays with the state: y_phi(t) d s_c(t-1)/d w."""
        return self.per_cell(st.y_phi)[:, :, None] * trace if self.config.forget_gate else trace

    def output_gate_sources(self, st: LaterStep) -> dict:
        """`LSTM`'s, and with peepholes the state s(t), held constant: no error flows from the output
        gate back into s through a peephole, so its peephole weights need no trace."""
        sources = super().output_gate_sources(st)
        if self.config.peepholes:
            sources["p_out"] = self.by_block(st.s)
        return sources

    def peep(self, w, s):
        """A gate's peephole input sum_v w[j, v] s_{j,v}, per block (B, blocks): w is (B, blocks, cells)."""
        return (w * self.by_block(s)).sum(axis=2)
