"""The strongly delayed XOR problem (the paper's Sec. 6, first limitation; chapter 13): the
generator against its definition in `lstm97.tasks.xor`."""
import numpy as np
import pytest

from lstm97 import tasks


@pytest.mark.parametrize("T", [20, 40, 100])
def test_delayed_xor_layout(T):
    task = tasks.make("xor", T=T)
    b = task.sample(np.random.default_rng(T), 4000)
    rows = np.arange(len(b))
    first, second = b.info["marks"].T
    assert ((b.lengths >= T) & (b.lengths <= T + T // 10)).all()
    assert set(np.unique(b.lengths)) == set(range(T, T + T // 10 + 1))
    assert set(first) == set(range(T // 10)) and set(second) == set(range(T // 2 - T // 10, T // 2))
    assert (second - first).min() >= 3 * T // 10 + 1, "the two inputs are widely separated"
    assert (task.lags(b) >= T // 2).all() and task.min_lag == T // 2
    marker = b.values[:, :, 1]
    assert (marker.sum(axis=1) == 2).all() and (marker[rows, first] == 1).all() and (marker[rows, second] == 1).all()
    value = b.values[:, :, 0]
    assert np.array_equal(value[rows, first], b.info["bits"][:, 0]) and np.array_equal(value[rows, second], b.info["bits"][:, 1])
    assert set(np.unique(b.info["bits"])) == {-1.0, 1.0}
    noise = value[(marker == 0) & (np.arange(value.shape[1])[None] < b.lengths[:, None])]
    assert -1 <= noise.min() and noise.max() <= 1 and abs(noise.mean()) < 0.01 and abs(noise.var() - 1 / 3) < 0.01
    target = b.y[rows, b.end, 0]
    assert np.array_equal(target, (b.info["bits"][:, 0] != b.info["bits"][:, 1]).astype(float)), "the XOR of the bits"
    assert b.mask.sum() == len(b) and b.mask[rows, b.end].all(), "the error comes at the end only"


def test_one_stored_bit_does_not_reduce_the_expected_error():
    """The paper's reason: given either bit alone, the XOR is 0 or 1 with probability 1/2, so the
    best answer from one bit is 0.5, no better than from none (mean squared error 0.25)."""
    b = tasks.make("xor", T=20).sample(np.random.default_rng(0), 20_000)
    target = b.y[np.arange(len(b)), b.end, 0]
    for j in (0, 1):
        for bit in (-1.0, 1.0):
            assert abs(target[b.info["bits"][:, j] == bit].mean() - 0.5) < 0.02
    assert abs(((target - 0.5) ** 2).mean() - 0.25) < 1e-12


def test_the_control_puts_both_inputs_at_the_end():
    task = tasks.make("xor", T=30, delayed=False)
    b = task.sample(np.random.default_rng(1), 500)
    assert np.array_equal(b.info["marks"], np.stack([b.end - 1, b.end], axis=1))
    assert task.min_lag == 0 and (task.lags(b) == 0).all()
    assert (b.values[:, :, 1].sum(axis=1) == 2).all()


def test_bad_parameters():
    with pytest.raises(ValueError, match="at least 20"):
        tasks.make("xor", T=10)
    with pytest.raises(ValueError, match="delayed"):
        tasks.make("xor", delayed="yes")
