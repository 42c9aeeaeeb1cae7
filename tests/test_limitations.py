"""The limitations the paper's Sec. 6 names (chapter 13): the strongly delayed XOR and parity
generators against their definitions in `lstm97.tasks.xor` and `lstm97.tasks.parity`, and the
layered update order that random weight guessing needs for parity."""
import numpy as np
import pytest

from lstm97 import guessing, tasks


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


# --- parity (the third limitation) ------------------------------------------------------------

@pytest.mark.parametrize("T, spread", [(1, 0), (5, 3), (500, 100)])
def test_parity_against_its_definition(T, spread):
    task = tasks.make("parity", T=T, spread=spread)
    b = task.sample(np.random.default_rng(T), 2000)
    rows = np.arange(len(b))
    assert ((b.lengths >= T) & (b.lengths <= T + spread)).all()
    assert set(np.unique(b.lengths)) == set(range(T, T + spread + 1))
    inside = np.arange(b.values.shape[1])[None] < b.lengths[:, None]
    bits = b.values[:, :, 0]
    assert set(np.unique(bits[inside])) == {-1.0, 1.0} and not bits[~inside].any()
    ones = [sum(v == 1.0 for v in bits[i, : b.lengths[i]]) for i in rows[:200]]  # counted one by one
    assert np.array_equal(b.y[rows[:200], b.end[:200], 0], [n % 2 for n in ones]), "1.0 when the +1s are odd"
    assert np.array_equal(b.y[rows, b.end, 0], np.prod(np.where(inside, -bits, 1.0), axis=1) == -1.0)
    assert b.mask.sum() == len(b) and b.mask[rows, b.end].all(), "the error comes at the end only"
    assert abs(b.info["cls"].mean() - 0.5) < 0.05
    assert task.min_lag == T - 1 and (task.lags(b) == b.lengths - 1).all()


def test_parity_is_seeded_and_defaults_to_500_to_600_steps():
    task = tasks.make("parity")
    a, b = task.sample(np.random.default_rng(3), 50), task.sample(np.random.default_rng(3), 50)
    assert np.array_equal(a.values, b.values) and np.array_equal(a.y, b.y)
    assert not np.array_equal(a.values, task.sample(np.random.default_rng(4), 50).values)
    assert (task.T, task.spread) == (500, 100) and 500 <= a.lengths.min() and a.lengths.max() <= 600


def test_parity_bad_parameters():
    with pytest.raises(ValueError, match="T .* at least 1"):
        tasks.make("parity", T=0)
    with pytest.raises(ValueError, match="spread .* at least 0"):
        tasks.make("parity", spread=-1)
    with pytest.raises(ValueError, match="integer"):
        tasks.make("parity", T=500.0)
    with pytest.raises(ValueError, match="bad parameters"):
        tasks.make("parity", N=3)


def test_a_layered_a1_net_with_one_hidden_unit_computes_parity():
    """Hand-built: the hidden unit is AND(input +1, parity so far), the output the XOR of the
    two, x + o - 2 AND(x, o), with margins of 25 in the net inputs. It needs the layered order;
    updated synchronously the output sees a stale AND and the same net fails."""
    W = np.array([[[25.0, -50.0, 0.0, 50.0],      # hidden: input, bias, from hidden, from output
                   [25.0, 0.0, -100.0, 50.0]]])   # output
    x, lengths, target = guessing.end_values(task := tasks.make("parity", T=50), task.sample(np.random.default_rng(0), 64))
    assert (np.abs(guessing.outputs(W, x, lengths, order="layered")[0] - target) < 1e-6).all()
    assert (np.abs(guessing.outputs(W, x, lengths)[0] - target) >= task.threshold).any()
    with pytest.raises(ValueError, match="order"):
        guessing.outputs(W, x, lengths, order="random")


def test_layered_order_follows_its_definition():
    rng = np.random.default_rng(2)
    W = guessing.draw(rng, 3, hidden=2, limit=3.0)
    lengths = np.array([4, 2, 3])
    x = rng.normal(size=(3, 4)) * (np.arange(4)[None] < lengths[:, None])
    got = guessing.outputs(W, x, lengths, order="layered")
    for g in range(3):
        for s in range(3):
            a = np.zeros(3)  # hidden 0, hidden 1, output
            for t in range(lengths[s]):
                a[:2] = 1 / (1 + np.exp(-(W[g, :2, 0] * x[s, t] + W[g, :2, 1] + W[g, :2, 2:] @ a)))
                a[2] = 1 / (1 + np.exp(-(W[g, 2, 0] * x[s, t] + W[g, 2, 1] + W[g, 2, 2:] @ a)))
            assert np.isclose(got[g, s], a[2])


def test_guessing_finds_parity_only_in_layered_order():
    task = tasks.make("parity", T=2, spread=0)
    x, lengths, target = guessing.end_values(task, task.sample(np.random.default_rng(0), 16))
    assert guessing.search(np.random.default_rng(1), x, lengths, target, 0.2, order="layered", max_guesses=20_000)[0]
    assert guessing.search(np.random.default_rng(1), x, lengths, target, 0.2, max_guesses=20_000) == (None, None)
