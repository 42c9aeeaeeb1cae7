"""The later LSTM variants as options of the same cell: forget gate (Gers et al. 2000), peepholes
(Gers & Schmidhuber 2000), recurrence from the cells only, tanh (Greff et al. 2017)."""
import dataclasses

import numpy as np
import pytest

from lstm97 import gradients
from lstm97.experiments import ARCHITECTURES, LATER_ARCHITECTURES
from lstm97.lstm import LSTM, LSTMConfig
from test_gradients import check_exact_against_finite_differences, check_truncated_is_exact_truncated, random_batch

VANILLA = dict(forget_gate=True, peepholes=True, recurrent="cells", g="tanh", h="tanh", bias="all")
VARIANTS = {
    "forget gate": dict(forget_gate=True, forget_gate_bias=(0.5, 1.0)),
    "peepholes": dict(peepholes=True),
    "forget gate and peepholes": dict(forget_gate=True, peepholes=True),
    "forget gate and peepholes, no output gates": dict(forget_gate=True, peepholes=True, output_gates=False),
    "recurrent cells": dict(recurrent="cells"),
    "vanilla (Greff et al. 2017)": VANILLA,
    "CERG net (Gers et al. 2000)": dict(forget_gate=True, recurrent="cells", shortcut=True, bias="gates+outputs"),
}


def setup(name, seed=0, B=2, T=7, cells=2):
    net = LSTM(LSTMConfig(3, 2, blocks=2, cells=cells, init_range=0.8, **VARIANTS[name]))
    rng = np.random.default_rng(seed)
    return net, net.init(rng, B), random_batch(rng, B, T, 3, 2)


@pytest.mark.parametrize("name", list(VARIANTS))
@pytest.mark.parametrize("cells", [1, 2])
def test_exact_gradient_matches_finite_differences(name, cells):
    # measured: at most 1.3e-10 absolute, 8e-10 relative to the largest entry
    check_exact_against_finite_differences(*setup(name, cells=cells))


@pytest.mark.parametrize("name", list(VARIANTS))
@pytest.mark.parametrize("seed", [1, 2])
def test_truncated_is_the_exact_gradient_with_recurrent_and_peephole_sources_held_constant(name, seed):
    net, theta, batch = setup(name, seed=seed, T=12)
    g1 = check_truncated_is_exact_truncated(net, theta, batch)
    _, g_ex, _ = gradients.exact(net, theta, batch)
    assert not np.allclose(g1, g_ex), "every variant here has recurrence (or peepholes) to truncate"


@pytest.mark.parametrize("name", ["forget gate and peepholes", "vanilla (Greff et al. 2017)"])
def test_online_updates(name):
    net, theta, _ = setup(name)
    net = LSTM(net.config, update="step")
    rng = np.random.default_rng(4)
    end_only = random_batch(rng, 2, 9, 3, 2, every_step=False)
    _, grad, _ = gradients.truncated(net, theta, end_only)
    assert np.allclose(net.train_step(theta, end_only, lr=0.5)[0], theta - 0.5 * grad)
    every = random_batch(rng, 2, 9, 3, 2)
    _, grad, _ = gradients.truncated(net, theta, every)
    assert not np.allclose(net.train_step(theta, every, lr=0.5)[0], theta - 0.5 * grad)


def test_peepholes_alone_are_truncated_even_without_recurrence():
    """Connectivity "B" has no recurrent sources, so only the peepholes make truncation inexact."""
    net = LSTM(LSTMConfig(3, 2, blocks=2, cells=2, connectivity="B", peepholes=True, init_range=0.8))
    rng = np.random.default_rng(6)
    theta, batch = net.init(rng, 2), random_batch(rng, 2, 10, 3, 2)
    g_tr = check_truncated_is_exact_truncated(net, theta, batch)
    _, g_ex, _ = gradients.exact(net, theta, batch)
    assert not np.allclose(g_tr, g_ex)
    out = net.layout.slices["W_k"]
    assert np.allclose(g_tr[:, out], g_ex[:, out])


def test_layouts():
    c = LSTMConfig(3, 2, blocks=2, cells=2, **VANILLA)
    net = LSTM(c)
    # recurrent="cells": z = (x, y_c(t-1), 1); gates in, phi, out; peepholes one per cell
    assert net.layout.shapes == {"W_c": (4, 8), "W_in": (2, 8), "W_phi": (2, 8), "W_out": (2, 8),
                                 "p_in": (2, 2), "p_phi": (2, 2), "p_out": (2, 2), "W_k": (2, 5)}
    assert c.n_hidden == 4 + 3 * 2 and c.n_recurrent == 4
    forget = LSTM(LSTMConfig(3, 2, blocks=2, cells=2, forget_gate=True))
    # recurrent="all": the forget gates feed back too, and every unit sees them
    assert forget.layout.shapes == {"W_c": (4, 14), "W_in": (2, 14), "W_phi": (2, 14), "W_out": (2, 14), "W_k": (2, 5)}
    steps, _ = forget.forward(forget.init(np.random.default_rng(0), 1), np.zeros((1, 3, 3)))
    assert steps.y_phi.shape == (1, 3, 2) and ((steps.y_phi > 0) & (steps.y_phi < 1)).all()


def test_gers_cerg_topology_has_424_weights():
    """Gers et al. (2000): 4 blocks of 2, 7 inputs and outputs, 424 weights; the one reading of our
    options that counts 424 (chapter 14): cells and gates see the inputs and the cell outputs of
    t-1, only gates and outputs are biased, and the outputs see the inputs too (shortcut)."""
    c = LSTMConfig(7, 7, blocks=4, cells=2, forget_gate=True, recurrent="cells", shortcut=True, bias="gates+outputs")
    net = LSTM(c)
    assert net.n_params == 424
    assert net.layout.shapes == {"W_c": (8, 15), "W_in": (4, 16), "W_phi": (4, 16), "W_out": (4, 16), "W_k": (7, 16)}
    assert c.beyond_1997 == ("forget_gate", "recurrent='cells'", "shortcut", "bias='gates+outputs'")
    # the shortcut is the inputs' column block of W_k: without it the outputs ignore x(t)
    theta = net.init(np.random.default_rng(0), 1)
    x = np.eye(7)[None, [0, 3, 1]]
    cut = theta.copy()
    net.layout.views(cut)["W_k"][:, :, 8:15] = 0
    no_shortcut = LSTM(dataclasses.replace(c, shortcut=False))
    kept = net.layout.views(cut)
    theta2 = np.concatenate([kept[n].reshape(1, -1) if n != "W_k" else np.delete(kept[n], range(8, 15), axis=2).reshape(1, -1)
                             for n in net.layout.shapes], axis=1)
    assert np.allclose(net.forward(cut, x)[1], no_shortcut.forward(theta2, x)[1])


def test_forget_gate_biases_are_set():
    net = LSTM(LSTMConfig(3, 2, blocks=4, forget_gate=True, forget_gate_bias=(0.5, 1.0, 1.5, 2.0)))
    p = net.layout.views(net.init(np.random.default_rng(0), 3))
    assert (p["W_phi"][:, :, -1] == [0.5, 1.0, 1.5, 2.0]).all()
    assert np.abs(p["W_phi"][:, :, :-1]).max() <= 0.1


def test_default_config_is_the_1997_net():
    """Layouts and numbers as before the variants existed (recorded with the 1997-only code)."""
    assert LSTMConfig(3, 2).beyond_1997 == ()
    # Table 10's rows; Part IV's own nets (chapters 14, 15) are named after their chapter's task
    assert all(c.beyond_1997 == () for c in ARCHITECTURES.values())
    assert LATER_ARCHITECTURES["iv-1997"] == ARCHITECTURES["6a"]
    assert LSTMConfig(3, 2, **VANILLA).beyond_1997 == ("forget_gate", "peepholes", "recurrent='cells'",
                                                        "g='tanh'", "h='tanh'")
    recorded = {
        "4-1": (ARCHITECTURES["4-1"], "Layout(W_c[4, 11], W_in[2, 11], W_out[2, 11], W_k[1, 5]; 93 parameters)",
                [0.5120397868242887], 0.320572414269645, 0.3205724136429186, 29.45749897025171),
        "2 blocks of 2": (LSTMConfig(3, 2, blocks=2, cells=2, init_range=0.8),
                          "Layout(W_c[4, 12], W_in[2, 12], W_out[2, 12], W_k[2, 5]; 106 parameters)",
                          [0.3813919621546201, 0.2104363859722483], 0.28967682086572283, 0.29037865313904554,
                          -1.962075484059655),
    }
    for cfg, layout, y_end, norm_tr, norm_ex, dot_tr in recorded.values():
        net = LSTM(cfg)
        rng = np.random.default_rng(11)
        theta = net.init(rng, 1)
        batch = random_batch(rng, 1, 9, cfg.n_in, cfg.n_out)
        _, y = net.forward(theta, batch.x)
        _, g_tr, _ = gradients.truncated(net, theta, batch)
        _, g_ex, _ = gradients.exact(net, theta, batch)
        assert repr(net.layout) == layout
        assert np.allclose(y[0, -1], y_end, rtol=1e-12, atol=0)
        assert np.isclose(np.linalg.norm(g_tr), norm_tr, rtol=1e-12, atol=0)
        assert np.isclose(np.linalg.norm(g_ex), norm_ex, rtol=1e-12, atol=0)
        assert np.isclose(g_tr[0] @ np.arange(net.n_params), dot_tr, rtol=1e-12, atol=0)


def with_open_forget_gates(net97, theta97, bias):
    """The weights of a 1997 net (recurrent="all") in the same net with forget gates: each forget
    gate only its bias, and no unit listening to the forget gates (their columns of z are 0)."""
    c = net97.config
    net = LSTM(dataclasses.replace(c, forget_gate=True))
    theta = np.zeros((theta97.shape[0], net.n_params))
    old, new = net97.layout.views(theta97), net.layout.views(theta)
    at = c.n_in + c.n_cells + c.blocks   # z = (x, y_c, y_in, [y_phi,] y_out, 1)
    for name, w in old.items():
        if name == "W_k":
            new[name][...] = w
        else:
            new[name][..., :at], new[name][..., at + c.blocks:] = w[..., :at], w[..., at:]
    new["W_phi"][:, :, -1] = bias
    return net, theta


def test_a_forget_gate_held_open_is_the_1997_cell():
    """Bias 30: y_phi = 1 - 1e-13, so s(t) = s(t-1) + ... as in eq. (9), to rounding."""
    net97 = LSTM(ARCHITECTURES["6a"])
    rng = np.random.default_rng(8)
    theta97 = net97.init(rng, 3)
    batch = random_batch(rng, 3, 60, net97.config.n_in, net97.config.n_out)
    net, theta = with_open_forget_gates(net97, theta97, 30.0)
    st97, y97 = net97.forward(theta97, batch.x)
    st, y = net.forward(theta, batch.x)
    assert (st.y_phi > 1 - 1e-12).all()
    assert np.allclose(y, y97, rtol=0, atol=1e-10) and np.allclose(st.s, st97.s, rtol=0, atol=1e-10)
    _, g97, _ = gradients.truncated(net97, theta97, batch)
    _, g, _ = gradients.truncated(net, theta, batch)
    g97, g = net97.layout.views(g97), net.layout.views(g)
    at = net97.config.n_in + net97.config.n_cells + net97.config.blocks
    for name in g97:
        mine = g[name] if name == "W_k" else np.concatenate([g[name][..., :at], g[name][..., at + 2:]], axis=-1)
        assert np.allclose(mine, g97[name], rtol=0, atol=1e-10), name
    assert np.abs(g["W_phi"]).max() < 1e-10, "f'(30) = 1e-13: a saturated forget gate does not learn"


@pytest.mark.parametrize("kwargs,match", [
    (dict(forget_gate_bias=(1.0,)), "forget_gate is False"),
    (dict(forget_gate=True, blocks=2, forget_gate_bias=(1.0,)), "one value per block"),
    (dict(forget_gate=True, bias="none", forget_gate_bias=(1.0,)), "no bias weight"),
    (dict(forget_gate=1), "forget_gate must be True or False"),
    (dict(peepholes="yes"), "peepholes must be True or False"),
    (dict(recurrent="gates"), "recurrent must be one of all, cells"),
    (dict(recurrent="cells", connectivity="B"), "needs connectivity 'F'"),
    (dict(shortcut=True, connectivity="B"), "shortcut=True needs connectivity 'F'"),
    (dict(h="relu"), "h must be one of h1, id, tanh"),
])
def test_invalid_variant_configs(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LSTMConfig(n_in=2, n_out=1, **kwargs)


def test_training_with_the_exact_gradient():
    """LSTM(gradient="exact") descends full BPTT; the default stays the paper's truncated gradient."""
    net, theta, batch = setup("vanilla (Greff et al. 2017)")
    exact = LSTM(net.config, gradient="exact")
    new, loss, _ = exact.train_step(theta, batch, 0.1)
    want_loss, grad, _ = gradients.exact(net, theta, batch)
    assert np.array_equal(new, theta - 0.1 * grad) and np.array_equal(loss, want_loss)
    _, trunc, _ = gradients.truncated(net, theta, batch)
    assert np.array_equal(net.train_step(theta, batch, 0.1)[0], theta - 0.1 * trunc)
    assert not np.allclose(grad, trunc)
    assert "full BPTT" in exact.name and "BPTT" not in net.name
    with pytest.raises(ValueError, match="update='sequence'"):
        LSTM(net.config, update="step", gradient="exact")
    with pytest.raises(ValueError, match="'truncated' or 'exact'"):
        LSTM(net.config, gradient="bptt")
