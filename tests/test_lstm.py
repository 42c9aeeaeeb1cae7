"""The 1997 LSTM: topology, weight counts, forward pass."""
import numpy as np
import pytest

from lstm97 import backend, tasks
from lstm97.experiments import ARCHITECTURES
from lstm97.lstm import LSTM, LSTMConfig

# Table 10's "w" column
PAPER_WEIGHTS = {
    "1-1": 264, "1-2": 276, "1-3": 276, "1-4": 264, "1-5": 276, "2a": 10504, "2b": 10504,
    "2c-1": 364, "2c-2": 664, "2c-3": 1264, "2c-4": 3064, "2c-5": 6064, "2c-6": 3064, "2c-7": 1264,
    "2c-8": 664, "2c-9": 364, "3a": 102, "3b": 102, "3c": 102, "4-1": 93, "4-2": 93, "4-3": 93,
    "5": 93, "6a": 156, "6b": 308,
}


def test_every_row_of_table_10_is_built():
    # besides Table 10's rows, Part IV's own nets (chapters 14, 15), named after their chapter's task
    assert set(ARCHITECTURES) == set(PAPER_WEIGHTS)


@pytest.mark.parametrize("row", list(PAPER_WEIGHTS))
def test_weight_count_matches_table_10(row):
    assert LSTM(ARCHITECTURES[row]).n_params == PAPER_WEIGHTS[row]


def test_weight_count_formula():
    """Spec 5.9: each cell sees n_in + H (+1 if biased), each gate n_in + H (+1), each output C*S (+1)."""
    for bias, cell_b, gate_b, out_b in [("none", 0, 0, 0), ("gates", 0, 1, 0), ("hidden", 1, 1, 0), ("all", 1, 1, 1)]:
        for blocks, cells in [(1, 1), (2, 3), (4, 1)]:
            cfg = LSTMConfig(n_in=5, n_out=3, blocks=blocks, cells=cells, bias=bias)
            H = blocks * cells + 2 * blocks
            want = blocks * cells * (5 + H + cell_b) + 2 * blocks * (5 + H + gate_b) + 3 * (blocks * cells + out_b)
            assert LSTM(cfg).n_params == want


def test_initialisation_ranges_and_gate_biases():
    net = LSTM(ARCHITECTURES["3a"])
    theta = net.init(np.random.default_rng(0), 50)
    p = net.layout.views(theta)
    assert (p["W_in"][:, :, -1] == [-1.0, -3.0, -5.0]).all()
    assert (p["W_out"][:, :, -1] == [-2.0, -4.0, -6.0]).all()
    rest = np.concatenate([p["W_c"].ravel(), p["W_in"][:, :, :-1].ravel(), p["W_k"].ravel()])
    assert np.abs(rest).max() <= 0.1 and np.abs(rest).max() > 0.09
    exp1 = LSTM(ARCHITECTURES["1-1"])
    assert (exp1.layout.views(exp1.init(np.random.default_rng(1), 3))["W_out"][:, :, -1] == [-1, -2, -3, -4]).all()


def hand_set_store_and_release():
    """One block of one cell: input 0 is the value, 1 the 'write' cue, 2 the 'read' cue."""
    cfg = LSTMConfig(n_in=3, n_out=1, blocks=1, cells=1, bias="all", init_range=0.1)
    net = LSTM(cfg)
    theta = np.zeros((1, net.n_params))
    p = net.layout.views(theta)
    # sources z = [x0, x1, x2, y_c, y_in, y_out, 1]
    p["W_c"][0, 0, 0] = 1.0                                # cell input: the value
    p["W_in"][0, 0, 1], p["W_in"][0, 0, -1] = 20.0, -10.0  # input gate opens on the write cue
    p["W_out"][0, 0, 2], p["W_out"][0, 0, -1] = 20.0, -10.0  # output gate opens on the read cue
    p["W_k"][0, 0, 0] = 5.0                                # output: the cell
    return net, theta


def test_hand_set_cell_stores_across_a_long_lag():
    net, theta = hand_set_store_and_release()
    T = 500
    x = np.zeros((1, T, 3))
    x[0, 0] = [0.8, 1.0, 0.0]            # write 0.8 at t = 0
    x[0, 1:, 0] = np.random.default_rng(0).normal(size=T - 1)  # distractors on the value line
    x[0, -1, 2] = 1.0                    # read at the end
    steps, y = net.forward(theta, x)
    s = steps.s[0, :, 0]
    g_write = 4 / (1 + np.exp(-0.8)) - 2
    in_gate_closed = 1 / (1 + np.exp(10.0))
    assert np.isclose(s[0], g_write / (1 + np.exp(-10.0)))
    assert np.abs(s[1:] - s[0]).max() < (T * 2 * in_gate_closed), "the CEC holds the value"
    assert steps.y_out[0, -1, 0] > 0.99 and (steps.y_out[0, :-1, 0] < 1e-4).all()
    assert abs(steps.y_c[0, -1, 0] - (2 / (1 + np.exp(-s[-1])) - 1)) < 1e-2


def test_batched_equals_alone_and_padding_is_harmless():
    net = LSTM(ARCHITECTURES["4-1"])
    rng = np.random.default_rng(2)
    theta = net.init(rng, 4)
    batch = tasks.make("4", T=20).sample(rng, 4)
    _, y = net.forward(theta, batch.x)
    for b in range(4):
        one = batch.take(b)
        _, yb = net.forward(theta[b:b + 1], one.x)
        assert np.allclose(yb[0], y[b, : batch.lengths[b]])


def test_outputs_in_range_and_no_output_gate_variant():
    net = LSTM(ARCHITECTURES["2a"])
    rng = np.random.default_rng(3)
    batch = tasks.make("2a", p=100).sample(rng, 2)
    steps, y = net.forward(net.init(rng, 2), batch.x)
    assert ((y > 0) & (y < 1)).all()
    assert (steps.y_out == 1.0).all(), "2a/2b: no output gate"
    assert (steps.s >= 0).all(), "g1 is positive, so the state only grows"


@pytest.mark.parametrize("kwargs,match", [
    (dict(n_in=2, n_out=1, blocks=0), "blocks"),
    (dict(n_in=2, n_out=1, cells=-1), "cells"),
    (dict(n_in=0, n_out=1), "n_in"),
    (dict(n_in=2, n_out=1, connectivity="C"), "connectivity"),
    (dict(n_in=2, n_out=1, bias="ga"), "bias"),
    (dict(n_in=2, n_out=1, g="relu"), "g must be"),
    (dict(n_in=2, n_out=1, init_range=0.0), "init_range"),
    (dict(n_in=2, n_out=1, blocks=2, input_gate_bias=(-1.0,)), "one value per block"),
    (dict(n_in=2, n_out=1, bias="none", input_gate_bias=(-1.0,)), "no bias weight"),
    (dict(n_in=2, n_out=1, output_gates=False, output_gate_bias=(-1.0,)), "no output gates"),
])
def test_invalid_configs(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LSTMConfig(**kwargs)


def test_mismatched_inputs():
    net = LSTM(LSTMConfig(n_in=3, n_out=1))
    theta = net.init(np.random.default_rng(0), 2)
    with pytest.raises(ValueError, match=r"inputs must have shape \(B=2, T, 3\)"):
        net.forward(theta, np.zeros((2, 5, 4)))
    with pytest.raises(ValueError, match="theta must have shape"):
        net.forward(theta[:, :-1], np.zeros((2, 5, 3)))
    with pytest.raises(ValueError, match="update"):
        LSTM(LSTMConfig(n_in=3, n_out=1), update="batch")


@pytest.mark.gpu
@pytest.mark.skipif(not backend.gpu_available(), reason="needs CuPy and a CUDA device")
def test_numpy_and_cupy_agree():
    from lstm97 import gradients

    net = LSTM(ARCHITECTURES["6a"])
    rng = np.random.default_rng(4)
    theta = net.init(rng, 3)
    batch = tasks.make("6a").sample(rng, 3)
    backend.use("numpy")
    _, y_np = net.forward(theta, batch.x)
    l_np, g_np, _ = gradients.truncated(net, theta, batch)
    try:
        backend.use("cupy")
        th = backend.to_device(theta)
        _, y_cp = net.forward(th, backend.to_device(batch.x))
        l_cp, g_cp, _ = gradients.truncated(net, th, batch)
    finally:
        backend.use("numpy")
    assert np.allclose(backend.to_host(y_cp), y_np, rtol=1e-10, atol=1e-12)
    assert np.allclose(backend.to_host(g_cp), g_np, rtol=1e-8, atol=1e-12)
