"""The truncated gradient of the paper and the exact gradient of the same loss."""
import numpy as np
import pytest

from lstm97 import gradients, tasks
from lstm97.experiments import ARCHITECTURES
from lstm97.lstm import LSTM, LSTMConfig
from lstm97.tasks.base import Batch

NETS = {
    "F, 2 blocks of 2, all biased": LSTMConfig(3, 2, blocks=2, cells=2, bias="all", init_range=0.8),
    "F, 3 blocks of 1, gates biased": LSTMConfig(3, 2, blocks=3, cells=1, bias="gates", init_range=0.8),
    "F, 1 block of 3, hidden biased": LSTMConfig(3, 1, blocks=1, cells=3, bias="hidden", init_range=0.8),
    "F, no output gates, no bias": LSTMConfig(3, 2, blocks=2, cells=1, output_gates=False, bias="none", init_range=0.8),
    "B, 2a-style (g1, id)": LSTMConfig(3, 3, connectivity="B", output_gates=False, bias="none", g="g1", h="id", init_range=0.8),
    "B, 2 blocks of 2, gated": LSTMConfig(3, 2, blocks=2, cells=2, connectivity="B", bias="all", init_range=0.8),
}


def random_batch(rng, B, T, n_in, n_out, every_step=True):
    x = rng.normal(size=(B, T, n_in))
    mask = (rng.random((B, T)) < 0.5) if every_step else np.zeros((B, T), bool)
    mask[:, -1] = True
    return Batch(y=rng.uniform(size=(B, T, n_out)) * mask[..., None], mask=mask,
                 lengths=np.full(B, T), n_in=n_in, values=x)


def setup(name, seed=0, B=2, T=7):
    net = LSTM(NETS[name])
    rng = np.random.default_rng(seed)
    return net, net.init(rng, B), random_batch(rng, B, T, net.config.n_in, net.config.n_out)


def loss(net, theta, batch):
    return gradients.exact(net, theta, batch)[0]


def check_exact_against_finite_differences(net, theta, batch):
    """gradients.exact against central differences of the loss, every parameter (also
    tests/test_variants.py)."""
    _, grad, _ = gradients.exact(net, theta, batch)
    eps, fd = 1e-6, np.zeros_like(theta)
    for j in range(net.n_params):
        e = np.zeros(net.n_params)
        e[j] = eps
        fd[:, j] = (loss(net, theta + e, batch) - loss(net, theta - e, batch)) / (2 * eps)
    assert np.allclose(grad, fd, rtol=1e-5, atol=1e-9), np.abs(grad - fd).max()


def check_truncated_is_exact_truncated(net, theta, batch):
    """gradients.truncated equals BPTT with the held-constant sources: loss, outputs, gradient;
    returns the truncated gradient."""
    l1, g1, y1 = gradients.truncated(net, theta, batch)
    l2, g2, y2 = gradients.exact(net, theta, batch, truncate=True)
    assert np.allclose(l1, l2) and np.allclose(y1, y2)
    assert np.allclose(g1, g2, rtol=1e-10, atol=1e-14)
    return g1


@pytest.mark.parametrize("name", list(NETS))
def test_exact_gradient_matches_finite_differences(name):
    check_exact_against_finite_differences(*setup(name))


@pytest.mark.parametrize("name", list(NETS))
@pytest.mark.parametrize("seed", [1, 2])
def test_truncated_is_the_exact_gradient_with_recurrent_sources_held_constant(name, seed):
    check_truncated_is_exact_truncated(*setup(name, seed=seed, T=12))


@pytest.mark.parametrize("name", [n for n in NETS if n.startswith("B")])
def test_truncation_is_exact_without_recurrent_connections(name):
    net, theta, batch = setup(name, T=10)
    _, g_tr, _ = gradients.truncated(net, theta, batch)
    _, g_ex, _ = gradients.exact(net, theta, batch)
    assert np.allclose(g_tr, g_ex, rtol=1e-10, atol=1e-14)


def test_truncation_differs_where_there_is_recurrence():
    """A fixed case: the adding net (4-1) with weights of unit scale, one sequence of T = 20."""
    net = LSTM(ARCHITECTURES["4-1"])
    rng = np.random.default_rng(7)
    theta = rng.normal(0, 1.0, size=(1, net.n_params))  # trained-size weights: recurrent paths matter
    batch = tasks.make("4", T=20).sample(rng, 1)
    _, g_tr, _ = gradients.truncated(net, theta, batch)
    _, g_ex, _ = gradients.exact(net, theta, batch)
    cos = float(g_tr[0] @ g_ex[0] / np.linalg.norm(g_tr[0]) / np.linalg.norm(g_ex[0]))
    rel = float(np.linalg.norm(g_tr - g_ex) / np.linalg.norm(g_ex))
    # on this case truncation changes the gradient by about 11 % of its length; the direction
    # stays close (cosine 0.994)
    assert 0.08 < rel < 0.14 and 0.99 < cos < 0.997, (rel, cos)
    # output weights see no recurrence at all: their gradient is the same in both
    k = net.layout.slices["W_k"]
    assert np.allclose(g_tr[:, k], g_ex[:, k])


def test_batched_gradient_equals_one_network_at_a_time():
    net = LSTM(ARCHITECTURES["6a"])
    rng = np.random.default_rng(3)
    theta = net.init(rng, 3)
    batch = tasks.make("6a").sample(rng, 3)
    l, g, _ = gradients.truncated(net, theta, batch)
    for b in range(3):
        lb, gb, _ = gradients.truncated(net, theta[b:b + 1], batch.take(b))
        assert np.allclose(lb, l[b]) and np.allclose(gb, g[b])


def test_online_updates():
    net = LSTM(NETS["F, 2 blocks of 2, all biased"], update="step")
    rng = np.random.default_rng(4)
    theta = net.init(rng, 2)
    end_only = random_batch(rng, 2, 9, 3, 2, every_step=False)
    _, grad, _ = gradients.truncated(net, theta, end_only)
    new, _, _ = net.train_step(theta, end_only, lr=0.5)
    assert np.allclose(new, theta - 0.5 * grad), "error only at the end: per-step = per-sequence"
    every = random_batch(rng, 2, 9, 3, 2)
    _, grad, _ = gradients.truncated(net, theta, every)
    new, _, _ = net.train_step(theta, every, lr=0.5)
    assert not np.allclose(new, theta - 0.5 * grad)
    seq_net = LSTM(net.config, update="sequence")
    assert np.allclose(seq_net.train_step(theta, every, lr=0.5)[0], theta - 0.5 * grad)


def test_error_inside_the_cec_is_constant():
    """Appendix A.2, eq. (35): with truncation, error injected at the end reaches s(t-q) unscaled."""
    net = LSTM(LSTMConfig(2, 1, blocks=1, cells=1, bias="all", init_range=0.5))
    rng = np.random.default_rng(5)
    theta = net.init(rng, 1)
    T = 300
    batch = random_batch(rng, 1, T, 2, 1, every_step=False)
    # d L / d W_c[bias] under truncation = sum_t e_s(T) * y_in(t) g'(net_c(t)): every step counts
    # with weight 1 from the CEC, however far back; check by perturbing the state through the
    # cell's bias at a single early step (eq. 36 times eq. 35) against the truncated gradient.
    steps, _ = net.forward(theta, batch.x)
    _, g, _ = gradients.truncated(net, theta, batch)
    p = net.layout.views(theta)
    err = (steps.y[0, -1, 0] - batch.y[0, -1, 0]) * steps.df_k[0, -1, 0]
    e_s = err * p["W_k"][0, 0, 0] * steps.y_out[0, -1, 0] * steps.dh[0, -1, 0]
    want = e_s * (steps.y_in[0, :, 0] * steps.dg[0, :, 0]).sum()
    assert np.isclose(net.layout.views(g)["W_c"][0, 0, -1], want)
