"""The 1997 LSTM: topology, weight counts, forward pass; the cell the later options leave alone;
the learner interface; what a caller may not pass in."""
import inspect
import re

import numpy as np
import pytest

from lstm97 import backend, gradients, tasks
from lstm97.experiments import ARCHITECTURES
from lstm97.fast import FastLSTM
from lstm97.gpu import GPULSTM
from lstm97.later import LaterLSTM
from lstm97.learner import Learner
from lstm97.lstm import LSTM, LSTMConfig
from lstm97.rnn import RNN
from lstm97.tasks.base import Batch


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


LATER = [dict(forget_gate=True), dict(peepholes=True), dict(recurrent="cells"), dict(g="tanh"), dict(h="tanh"),
         dict(shortcut=True), dict(bias="gates+outputs")]


def test_the_1997_step_is_the_1997_cell():
    """What chapter 4 prints: eqs. (7)-(9) and the output units, each in a method of its own, and
    nothing of the later variants."""
    code = "".join(inspect.getsource(getattr(LSTM, m)) for m in ("step", "sources", "input_gate", "output_gate", "cell",
                                                                 "output_units", "trace_terms", "carry",
                                                                 "output_gate_sources"))
    code += inspect.getsource(gradients.truncated)   # chapter 5's gradient asks the net for the later options' terms
    code = re.sub(r'"""[\s\S]*?"""', "", code)   # the code, not the docstrings that point to the later variants
    assert not re.search(r"phi|peep|forget|tanh|recurrent ?==|shortcut", code)
    assert {"(7)", "(8)", "(9)"} <= set(re.findall(r"\(\d\)", inspect.getsource(LSTM.step)))
    for method, eq in (("input_gate", "(7)"), ("output_gate", "(8)"), ("cell", "(9)")):
        assert f"Eq. {eq}" in getattr(LSTM, method).__doc__
    for row, config in ARCHITECTURES.items():
        assert type(LSTM(config)) is LSTM, row


@pytest.mark.parametrize("option", LATER, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()))
def test_a_later_option_builds_the_later_net(option):
    net = LSTM(LSTMConfig(3, 2, **option))
    assert type(net) is LaterLSTM and isinstance(net, LSTM)
    assert type(LaterLSTM(LSTMConfig(3, 2))) is LaterLSTM   # asked for by name, it is what it says


def test_every_learner_says_what_it_can():
    """Contract 0: the flags tell a caller what to call, and every learner is a Learner."""
    flags = lambda c: (c.takes_symbols, c.carries_state, c.sums_gradients)   # noqa: E731
    assert flags(LSTM) == (False, True, True) and flags(LaterLSTM) == (False, True, True)
    assert flags(FastLSTM) == flags(GPULSTM) == (True, False, True)
    assert flags(RNN) == (False, False, False)
    for cls in (LSTM, LaterLSTM, FastLSTM, GPULSTM, RNN):
        assert issubclass(cls, Learner), cls
    config = ARCHITECTURES["4-1"]
    rng = np.random.default_rng(0)
    fast, net = FastLSTM(config), LSTM(config)
    theta = net.init(rng, 2)
    batch = tasks.make("4", T=20).sample(rng, 2)
    for a, b in zip(net.gradient(theta, batch), fast.gradient(theta, batch)):
        assert np.allclose(a, b, rtol=1e-10, atol=1e-13)


def bad_input_case():
    config = ARCHITECTURES["4-1"]
    rng = np.random.default_rng(1)
    theta = LSTM(config).init(rng, 2)
    return config, theta, tasks.make("4", T=20).sample(rng, 2)


@pytest.mark.parametrize("engine", [LSTM, FastLSTM])
@pytest.mark.parametrize("where", ["theta", "inputs"])
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_values_that_are_not_finite_are_refused(engine, where, value):
    config, theta, batch = bad_input_case()
    net, x = engine(config), batch.x.copy()
    (theta if where == "theta" else x)[1, 3] = value
    name = "theta" if where == "theta" else "the inputs"
    with pytest.raises(ValueError, match=f"^{name} contain NaN or infinite values$"):
        net.forward(theta, x)
    bad = Batch(y=batch.y, mask=batch.mask, lengths=batch.lengths, n_in=batch.n_in, values=x)
    with pytest.raises(ValueError, match=f"^{name} contain NaN or infinite values$"):
        net.train_step(theta, bad, 0.1)


@pytest.mark.parametrize("engine", [LSTM, FastLSTM])
def test_a_list_is_refused_without_talk_of_cupy(engine):
    config, theta, batch = bad_input_case()
    net = engine(config)
    for args, what in (((theta.tolist(), batch.x), "theta"), ((theta, batch.x.tolist()), "the inputs")):
        with pytest.raises(TypeError, match=f"takes arrays, got list for {what}; convert it with") as err:
            net.forward(*args)
        assert "cupy" not in str(err.value).lower()


def test_a_sequence_without_steps_is_refused_alike():
    config, theta, batch = bad_input_case()
    empty = Batch(y=batch.y[:, :0], mask=batch.mask[:, :0], lengths=np.zeros(2, int), n_in=batch.n_in,
                  values=batch.x[:, :0])
    messages = set()
    for net in (LSTM(config), FastLSTM(config), LSTM(config, update="step"), FastLSTM(config, update="step")):
        for call in (lambda: net.forward(theta, empty.x), lambda: net.train_step(theta, empty, 0.1)):
            with pytest.raises(ValueError, match=r"no time steps \(T = 0\)") as err:
                call()
            messages.add(str(err.value))
    assert len(messages) == 1
