"""The conventional baselines: BPTT and RTRL compute the exact gradient of the same loss."""
import numpy as np
import pytest

from lstm97 import tasks
from lstm97.rnn import RNN
from lstm97.tasks.base import Batch

CONFIGS = [dict(bias=True, input_to_output=True), dict(bias=False, input_to_output=True),
           dict(bias=True, input_to_output=False)]


def random_batch(rng, B, T, n_in, n_out, every_step=True):
    x = rng.normal(size=(B, T, n_in))
    mask = rng.random((B, T)) < 0.5 if every_step else np.zeros((B, T), bool)
    mask[:, -1] = True
    y = rng.uniform(size=(B, T, n_out)) * mask[..., None]
    return Batch(y=y, mask=mask, lengths=np.full(B, T), n_in=n_in, values=x)


def finite_differences(net, theta, batch, eps=1e-6):
    fd = np.zeros_like(theta)
    for j in range(theta.shape[1]):
        up, down = theta.copy(), theta.copy()
        up[:, j] += eps
        down[:, j] -= eps
        fd[:, j] = (net.loss(up, batch) - net.loss(down, batch)) / (2 * eps)
    return fd


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("seed", [0, 1])
def test_bptt_matches_finite_differences(config, seed):
    rng = np.random.default_rng(seed)
    net = RNN(3, 4, 2, init_range=1.5, **config)
    theta = net.init(rng, 3)
    batch = random_batch(rng, 3, 9, 3, 2)
    _, grad, _ = net.bptt(theta, batch)
    fd = finite_differences(net, theta, batch)
    assert np.allclose(grad, fd, rtol=1e-5, atol=1e-9), np.abs(grad - fd).max()


@pytest.mark.parametrize("config", CONFIGS)
def test_rtrl_equals_bptt(config):
    rng = np.random.default_rng(2)
    net = RNN(4, 5, 3, init_range=1.0, **config)
    theta = net.init(rng, 4)
    batch = random_batch(rng, 4, 15, 4, 3)
    l1, g1, y1 = net.bptt(theta, batch)
    l2, g2, y2 = net.rtrl(theta, batch)
    assert np.allclose(l1, l2, rtol=1e-12) and np.allclose(y1, y2, rtol=1e-12)
    assert np.allclose(g1, g2, rtol=1e-10, atol=1e-14)


def test_batched_equals_one_network_at_a_time():
    rng = np.random.default_rng(3)
    net = RNN(2, 3, 1)
    theta = net.init(rng, 5)
    batch = tasks.make("4", T=20).sample(rng, 5)
    loss, grad, y = net.bptt(theta, batch)
    for b in range(5):
        one = batch.take(b)
        l, g, yb = net.bptt(theta[b:b + 1], one)
        assert np.allclose(l, loss[b]) and np.allclose(g, grad[b])
        assert np.allclose(yb[0], y[b, : batch.lengths[b]])
        l, g, _ = net.rtrl(theta[b:b + 1], one)
        assert np.allclose(g, grad[b])


def test_padding_does_not_change_the_gradient():
    rng = np.random.default_rng(4)
    net = RNN(1, 3, 1)
    theta = net.init(rng, 2)
    batch = tasks.make("3a", T=10, N=1).sample(rng, 2)   # two lengths, padded to the longer
    _, grad, _ = net.bptt(theta, batch)
    for b in range(2):
        _, g, _ = net.bptt(theta[b:b + 1], batch.take(b))
        assert np.allclose(g[0], grad[b])


def test_online_rtrl():
    rng = np.random.default_rng(5)
    net = RNN(3, 4, 2, algorithm="rtrl")
    theta = net.init(rng, 2)
    # error only at the end: online and offline updates coincide
    end_only = random_batch(rng, 2, 8, 3, 2, every_step=False)
    _, grad, _ = net.bptt(theta, end_only)
    new, _, _ = net.train_step(theta, end_only, lr=0.3)
    assert np.allclose(new, theta - 0.3 * grad)
    # error at every step: the weights change within the sequence, so the result differs a little
    every = random_batch(rng, 2, 8, 3, 2)
    _, grad, _ = net.bptt(theta, every)
    new, _, _ = net.train_step(theta, every, lr=0.3)
    offline = theta - 0.3 * grad
    assert not np.allclose(new, offline) and np.allclose(new, offline, atol=0.05)
    assert np.allclose(net.rtrl(theta, every, lr=0.0)[1], theta)


def test_learning_reduces_the_loss():
    rng = np.random.default_rng(6)
    for algorithm in ("bptt", "rtrl"):
        net = RNN(3, 4, 2, algorithm=algorithm)
        theta = net.init(rng, 3)
        batch = random_batch(rng, 3, 6, 3, 2)
        before = net.loss(theta, batch)
        for _ in range(50):
            theta, _, _ = net.train_step(theta, batch, lr=0.5)
        assert (net.loss(theta, batch) < 0.5 * before).all()


@pytest.mark.parametrize("p,weights", [(4, 36), (10, 144), (100, 10404)])
def test_weight_counts_of_the_papers_rtrl_nets(p, weights):
    """Table 2: one self-recurrent hidden unit, p+1 outputs, layers connected to all below, no bias."""
    assert RNN(p + 1, 1, p + 1, bias=False, input_to_output=True).n_params == weights


def test_bad_arguments():
    with pytest.raises(ValueError, match="n_hidden"):
        RNN(2, 0, 1)
    with pytest.raises(ValueError, match="algorithm"):
        RNN(2, 2, 1, algorithm="sgd")
    with pytest.raises(ValueError, match="init_range"):
        RNN(2, 2, 1, init_range=-1)
    net = RNN(2, 2, 1)
    with pytest.raises(ValueError, match="theta must have shape"):
        net.forward(np.zeros((3, 5)), np.zeros((3, 4, 2)))
    with pytest.raises(ValueError, match="inputs must have shape"):
        net.forward(net.init(np.random.default_rng(0), 3), np.zeros((3, 4, 5)))
