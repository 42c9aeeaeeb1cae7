import numpy as np
import pytest

from lstm97 import error_flow, tasks
from lstm97.rnn import RNN


def random_flow(n, T, seed, scale=1.0, B=2):
    rng = np.random.default_rng(seed)
    W = rng.normal(0, scale, size=(B, n, n))
    fprime = rng.uniform(0, 0.25, size=(B, T, n))
    return W, fprime


@pytest.mark.parametrize("n", [2, 3])
def test_recursion_equals_sum_over_paths(n):
    W, fp = random_flow(n, T=7, seed=n, scale=2.0)
    J = error_flow.scaling_factors(W, fp)
    for b in range(len(W)):
        for q in range(1, 7):
            for u in range(n):
                for v in range(n):
                    assert np.isclose(J[b, q - 1, v, u], error_flow.path_sum(W[b], fp[b], u, v, q), rtol=1e-12)


def test_q1_is_fprime_times_weight():
    W, fp = random_flow(3, T=4, seed=0)
    J = error_flow.scaling_factors(W, fp, q_max=1)
    # eq. (1), q = 1: f'_v(net_v(t-1)) w_uv
    assert np.allclose(J[:, 0], fp[:, 2, :, None] * W.transpose(0, 2, 1))


def test_scaling_factor_is_the_bptt_error_of_a_real_net():
    """Backpropagating an error injected at the last step through an RNN's hidden layer gives
    exactly J_q times that error — checked against the RNN's own BPTT."""
    net = RNN(2, 3, 1, input_to_output=False, bias=False)
    rng = np.random.default_rng(1)
    theta = net.init(rng, 1) * 10
    batch = tasks.make("3a", T=8, N=1).sample(rng, 1)
    x = np.concatenate([batch.x, batch.x], axis=2)
    from lstm97.tasks.base import Batch
    b = Batch(y=batch.y, mask=batch.mask, lengths=batch.lengths, n_in=2, values=x)
    h, y = net.forward(theta, x)
    T = h.shape[1]
    fp = h * (1 - h)
    W = net.layout.views(theta)["W_hh"]
    J = error_flow.scaling_factors(W, fp)
    # error signal of the hidden units at the last step, as BPTT defines it
    W_yh = net.layout.views(theta)["W_yh"]
    delta_y = (y[:, -1] - b.y[:, -1]) * y[:, -1] * (1 - y[:, -1])
    delta_T = fp[:, -1] * (W_yh[:, 0, :] * delta_y)
    # BPTT's gradient of W_hx = sum_t delta_h(t) x(t)^T; rebuild it from J
    rebuilt = np.einsum("bi,bj->bij", delta_T, x[:, -1])
    for q in range(1, T):
        delta = np.einsum("bvu,bu->bv", J[:, q - 1], delta_T)
        rebuilt += np.einsum("bi,bj->bij", delta, x[:, T - 1 - q])
    _, grad, _ = net.bptt(theta, b)
    assert np.allclose(net.layout.views(grad)["W_hx"], rebuilt)


def test_norm_bound_holds():
    for seed, scale in [(0, 0.1), (1, 1.0), (2, 5.0)]:
        W, fp = random_flow(4, T=30, seed=seed, scale=scale)
        J = np.abs(error_flow.scaling_factors(W, fp))
        for q in range(1, 30):
            assert (J[:, q - 1].max(axis=(1, 2)) <= error_flow.norm_bound(W, q) * (1 + 1e-12)).all()


def test_small_weights_vanish_exponentially():
    n = 5
    rng = np.random.default_rng(3)
    W = rng.uniform(-3.9 / n, 3.9 / n, size=(1, n, n))   # w_max < 4/n: tau < 1
    fp = np.full((1, 60, n), 0.25)                        # the logistic's largest derivative
    J = np.abs(error_flow.scaling_factors(W, fp)).max(axis=(2, 3))[0]
    tau = n * 3.9 / n / 4.0
    assert (J <= n * tau ** np.arange(1, 60)).all() and J[-1] < 1e-2 * J[0]


def test_bad_shapes():
    W, fp = random_flow(3, T=5, seed=0)
    with pytest.raises(ValueError, match="W must have shape"):
        error_flow.scaling_factors(W[:, :2], fp)
    with pytest.raises(ValueError, match="q_max"):
        error_flow.scaling_factors(W, fp, q_max=5)
