"""torch.nn.LSTM and lstm97's cell with the same options compute the same numbers: hidden states,
states, outputs and the exact gradient (BPTT against torch's autograd), in float64."""
import copy

import numpy as np
import pytest

from lstm97 import gradients
from lstm97.modern import config_of, from_torch
from test_gradients import random_batch

torch = pytest.importorskip("torch")


def torch_pair(n_in=3, hidden=4, n_out=2, bias=True, seed=0):
    torch.manual_seed(seed)
    lstm = torch.nn.LSTM(n_in, hidden, batch_first=True, dtype=torch.float64)
    return lstm, torch.nn.Linear(hidden, n_out, bias=bias, dtype=torch.float64)


@pytest.mark.parametrize("bias", [True, False])
def test_same_states_outputs_and_gradient_as_torch(bias):
    lstm, readout = torch_pair(bias=bias)
    net, theta = from_torch(lstm, readout)
    assert net.config.bias == ("all" if bias else "hidden")
    B, T = 3, 25
    batch = random_batch(np.random.default_rng(1), B, T, 3, 2)
    theta = np.repeat(theta, B, axis=0)

    # torch: the same loss, 1/2 sum of squared masked errors of the logistic readout
    x = torch.tensor(batch.x)
    hs, (_, c_T) = lstm(x)
    y = torch.sigmoid(readout(hs))
    mask = torch.tensor(batch.mask, dtype=torch.float64)[..., None]
    loss = 0.5 * ((mask * (y - torch.tensor(batch.y))) ** 2).sum()
    loss.backward()

    steps, y97 = net.forward(theta, batch.x)
    assert np.abs(steps.y_c - hs.detach().numpy()).max() < 1e-12
    assert np.abs(steps.s[:, -1] - c_T[0].detach().numpy()).max() < 1e-12
    assert np.abs(y97 - y.detach().numpy()).max() < 1e-12
    loss97, grad, _ = gradients.exact(net, theta, batch)
    assert np.isclose(loss97.sum(), loss.item(), rtol=1e-12)
    # torch's gradients in lstm97's layout: map them as weights, with the gradient of the one
    # bias b = bias_ih + bias_hh counted once
    grads_lstm, grads_readout = copy.deepcopy(lstm), copy.deepcopy(readout)
    for module, original in ((grads_lstm, lstm), (grads_readout, readout)):
        for name, param in module.named_parameters():
            grad_t = dict(original.named_parameters())[name].grad
            param.data = torch.zeros_like(grad_t) if name == "bias_hh_l0" else grad_t.clone()
    _, want = from_torch(grads_lstm, grads_readout)
    # measured: ≤ 1.2e-16 (states, outputs), ≤ 2.3e-16 (gradient)
    assert np.abs(grad.sum(axis=0) - want[0]).max() < 1e-10 * np.abs(want).max()


def test_only_a_single_lstm_layer_maps():
    lstm, readout = torch_pair()
    config = config_of(lstm, readout)
    assert (config.blocks, config.cells, config.forget_gate, config.peepholes, config.recurrent,
            config.g, config.h) == (4, 1, True, False, "cells", "tanh", "tanh")
    for kwargs in (dict(num_layers=2), dict(bidirectional=True), dict(proj_size=2), dict(bias=False)):
        with pytest.raises(ValueError, match="one-layer, unidirectional"):
            config_of(torch.nn.LSTM(3, 4, **kwargs), readout)
    with pytest.raises(ValueError, match="must read the 4 hidden states"):
        config_of(lstm, torch.nn.Linear(5, 2))


def test_vanilla_is_greff_et_al_and_torch_without_peepholes():
    from lstm97.modern import vanilla

    v = vanilla(3, 2, 4)
    assert (v.cells, v.forget_gate, v.peepholes, v.recurrent, v.g, v.h, v.bias) == \
        (1, True, True, "cells", "tanh", "tanh", "all")
    lstm, readout = torch_pair()
    assert config_of(lstm, readout) == vanilla(3, 2, 4, peepholes=False)
