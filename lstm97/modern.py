"""Greff et al.'s vanilla LSTM as lstm97 options, and torch.nn.LSTM as an lstm97 net (Part IV):
its weights mapped onto lstm97's parameter vector.

One layer of torch.nn.LSTM computes, with gate rows in the order i, f, g, o,

    i = σ(W_ii x + W_hi h(t-1) + b_i)   f = σ(W_if x + W_hf h(t-1) + b_f)   o = σ(...)
    g = tanh(W_ig x + W_hg h(t-1) + b_g)
    c(t) = f c(t-1) + i g,   h(t) = o tanh(c(t)),   b = bias_ih + bias_hh

which is lstm97's cell with blocks = hidden size and one cell each, a forget gate (Gers et al.
2000), no peepholes, only the cell outputs fed back (recurrent="cells"), g = h = tanh, and biased
cells and gates — `vanilla` without peepholes, Greff et al.'s "NP" variant: c is s_c, h is y_c,
i, f, o are y_in, y_phi, y_out. torch.nn.LSTM has no output
units and lstm97 always has them, so the mapping takes a torch.nn.Linear readout too: lstm97's
output units are y_k = f(W_k y_c + b_k), that readout followed by the logistic function.

torch is an optional dependency: this module only reads the modules' tensors.
"""
from __future__ import annotations

import numpy as np

from .lstm import LSTM, LSTMConfig


def vanilla(n_in: int, n_out: int, blocks: int, **options) -> LSTMConfig:
    """The "vanilla" LSTM of Greff et al. (2017) as lstm97 options: blocks of one cell, a forget
    gate (Gers et al. 2000), peepholes (Gers & Schmidhuber 2000), only the cell outputs fed back,
    g = h = tanh, every unit biased. Greff et al. train it with full BPTT:
    `LSTM(vanilla(...), gradient="exact")`. `options` override any other `LSTMConfig` field
    (init_range, forget_gate_bias, ...); torch.nn.LSTM is this cell with peepholes=False."""
    return LSTMConfig(**{**dict(n_in=n_in, n_out=n_out, blocks=blocks, cells=1, bias="all", g="tanh", h="tanh",
                                forget_gate=True, peepholes=True, recurrent="cells"), **options})


def config_of(lstm, readout) -> LSTMConfig:
    """The lstm97 config of a one-layer, unidirectional torch.nn.LSTM with biases and a
    torch.nn.Linear readout (biased or not) on its hidden states."""
    if lstm.num_layers != 1 or lstm.bidirectional or lstm.proj_size or not lstm.bias:
        raise ValueError("only a one-layer, unidirectional torch.nn.LSTM with biases and no projection maps "
                         "onto one lstm97 cell; use num_layers=1, bidirectional=False, proj_size=0, bias=True")
    if readout.in_features != lstm.hidden_size:
        raise ValueError(f"the readout must read the {lstm.hidden_size} hidden states, "
                         f"it has in_features={readout.in_features}")
    return vanilla(lstm.input_size, readout.out_features, lstm.hidden_size, peepholes=False,
                   bias="all" if readout.bias is not None else "hidden")


def from_torch(lstm, readout) -> tuple[LSTM, np.ndarray]:
    """The lstm97 net of `config_of(lstm, readout)` and its weights (1, P) (float64, on the host)."""
    net = LSTM(config_of(lstm, readout))
    host = {name: t.detach().cpu().double().numpy() for name, t in lstm.named_parameters()}
    # z = (x, y_c(t-1), 1): a unit's row of W_ih, its row of W_hh, and its two biases added
    rows = np.concatenate([host["weight_ih_l0"], host["weight_hh_l0"],
                           (host["bias_ih_l0"] + host["bias_hh_l0"])[:, None]], axis=1)
    i, f, g, o = np.split(rows, 4)
    theta = np.zeros((1, net.n_params))
    p = net.layout.views(theta)
    p["W_c"][0], p["W_in"][0], p["W_phi"][0], p["W_out"][0] = g, i, f, o
    W_k = readout.weight.detach().cpu().double().numpy()
    if readout.bias is not None:
        W_k = np.concatenate([W_k, readout.bias.detach().cpu().double().numpy()[:, None]], axis=1)
    p["W_k"][0] = W_k
    return net, theta
