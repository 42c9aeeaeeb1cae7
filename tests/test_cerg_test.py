"""The continual Reber grammar's test at paper scale (chapter 14): `LSTM.outputs` runs a long
stream in chunks of time with the state carried over, and `ContinualReber.judge` runs every net
beside the others and drops each at its first error. Both checked against one unchunked
`forward` pass per net."""
import dataclasses

import numpy as np
import pytest

from lstm97 import evaluation, tasks
from lstm97.experiments import LATER_ARCHITECTURES
from lstm97.learner import Learner
from lstm97.lstm import LSTM, LSTMConfig
from lstm97.minibatch import Minibatch
from test_variants import VARIANTS

TASK = tasks.make("cerg", strings=10, targets="legal", test_strings=30)
STEPS = 50  # time steps per call of the judge
CERG = ("cerg-forget", "cerg-1997")


class Counting(Learner):
    """A learner's `outputs`, counting the steps it runs (networks × time steps)."""

    carries_state = True

    def __init__(self, net):
        self.net, self.name, self.steps = net, net.name, 0

    def outputs(self, theta, x, state=None):
        self.steps += x.shape[0] * x.shape[1]
        return self.net.outputs(theta, x, state)


def cerg_nets(name, seed=0, n=4):
    """`n` freshly initialised nets of a CERG protocol and one with 8 times their weights, whose
    saturated units make the outputs depend strongly on the state (a trained-looking net)."""
    net = LSTM(LATER_ARCHITECTURES[name], update="step")
    theta = net.init(np.random.default_rng(seed), n)
    return net, np.concatenate([theta, 8 * net.init(np.random.default_rng(seed + 1), 1)])


def unchunked(net, theta, tests):
    """What the judge must find, from one `forward` over each net's whole test streams: per net the
    loss and mean absolute error over the steps up to the first wrong one, the streams with a
    wrong step, and per stream the correct predictions before the first error."""
    loss, wrong, abs_err, first = [], [], [], []
    for b, test in enumerate(tests):
        _, y = net.forward(np.repeat(theta[b:b + 1], len(test), axis=0), test.x)
        f = TASK.first_error(y, test)
        ran = test.mask & (np.arange(test.mask.shape[1]) <= f[:, None])
        loss.append((0.5 * ran[:, :, None] * (y - test.y) ** 2).sum(axis=(1, 2)).mean())
        abs_err.append(((ran[:, :, None] * np.abs(y - test.reference)).sum(axis=(1, 2)) / (ran.sum(axis=1) * 7)).mean())
        wrong.append(int((~TASK.step_correct(y, test)).any(axis=1).sum()))
        first.append(f)
    return np.array(loss), np.array(wrong), np.array(abs_err), np.array(first)


def check_judge(net, theta, tests):
    got, want = TASK.judge(net, theta, tests, steps=STEPS, counts=True), unchunked(net, theta, tests)
    assert np.array_equal(got[1], want[1]) and np.array_equal(got[3], want[3])
    assert np.allclose(got[0], want[0], rtol=1e-12, atol=0) and np.allclose(got[2], want[2], rtol=1e-12, atol=0)
    return got


def relabel(test, y, wrong_at=None):
    """`test` with the net's own most active unit (outputs `y`) as the one legal successor at each
    step, so that the net is right throughout, except at step `wrong_at`, where only its least
    active unit is legal."""
    y = np.asarray(y)
    legal = (y == y.max(axis=2, keepdims=True)) & test.mask[:, :, None]
    if wrong_at is not None:
        legal[:, wrong_at] = y[:, wrong_at] == y[:, wrong_at].min(axis=1, keepdims=True)
    return dataclasses.replace(test, reference=legal.astype(float))


# ---------------------------------------------------------------- outputs in chunks of time

CONFIGS = {"1997 cell": {}, **VARIANTS}


@pytest.mark.parametrize("name", list(CONFIGS) + list(CERG))
def test_outputs_in_chunks_with_the_state_carried_are_forward_on_the_whole_sequence(name):
    rng = np.random.default_rng(1)
    if name in CERG:
        net, theta = cerg_nets(name, n=2)
        x = TASK.sample(rng, 3).x
    else:
        net = LSTM(LSTMConfig(3, 2, blocks=2, cells=2, init_range=0.8, **CONFIGS[name]))
        theta, x = net.init(rng, 3), rng.normal(size=(3, 23, 3))
    steps, y = net.forward(theta, x)
    cuts = [0, 1, 8, 20, x.shape[1]]
    parts, state = [], None
    for a, b in zip(cuts, cuts[1:]):
        part, state = net.outputs(theta, x[:, a:b], state)
        parts.append(part)
    assert np.allclose(np.concatenate(parts, axis=1), y, rtol=0, atol=1e-12)
    assert np.allclose(state[0], steps.s[:, -1], rtol=0, atol=1e-12)
    whole, _ = net.outputs(theta, x)
    assert np.allclose(whole, y, rtol=0, atol=1e-12)


def test_outputs_reject_a_state_of_the_wrong_shape():
    net, theta = cerg_nets("cerg-forget", n=1)
    x = TASK.sample(np.random.default_rng(2), 2).x
    _, state = net.outputs(theta, x[:, :5])
    with pytest.raises(ValueError, match=r"state must be \(s, y_h\) of shapes \(2, 8\) and \(2, 20\)"):
        net.outputs(theta, x[:, 5:], (state[0][:1], state[1][:1]))
    with pytest.raises(ValueError, match="state must be"):
        net.outputs(theta, x[:, 5:], state[0])
    with pytest.raises(ValueError, match=r"inputs must have shape \(B=2, T, 7\)"):
        net.outputs(theta, x[:1, 5:], state)


# ---------------------------------------------------------------- the judge: stop at the first error

@pytest.mark.parametrize("name", CERG)
@pytest.mark.parametrize("streams", [1, 2])
@pytest.mark.parametrize("legal", ["grammar", "own outputs"])
def test_judge_is_the_unchunked_test(name, streams, legal):
    """By the grammar, fresh nets err at once; by their own most active units, with an error
    planted on either side of a call's boundary (or none), they run on."""
    net, theta = cerg_nets(name)
    rng = np.random.default_rng(3)
    tests = [TASK.test_set(rng, streams) for _ in theta]
    assert len({int(n) for t in tests for n in t.lengths}) > 1, "streams of different lengths"
    planted = (None, 0, STEPS - 1, STEPS, 173)
    if legal == "own outputs":
        tests = [relabel(t, net.forward(np.repeat(theta[b:b + 1], streams, axis=0), t.x)[1], at)
                 for b, (t, at) in enumerate(zip(tests, planted))]
    first = check_judge(net, theta, tests)[3]
    if legal == "own outputs":
        assert np.array_equal(first, [t.lengths if at is None else [at] * streams for t, at in zip(tests, planted)])


def test_judge_runs_a_right_stream_to_its_end_and_stops_a_wrong_one_at_its_first_error():
    net, theta = cerg_nets("cerg-forget", n=0)   # the trained-looking net alone
    rng = np.random.default_rng(4)
    streams = [TASK.test_set(rng, 1) for _ in range(4)]
    relabelled = []
    for test, wrong_at in zip(streams, (None, 120, 0, None)):
        _, y = net.forward(theta, test.x)
        assert len(np.unique(np.asarray(y).argmax(axis=2))) > 2, "the most active unit changes with the input"
        relabelled.append(relabel(test, y, wrong_at))
        ok = TASK.step_correct(y, relabelled[-1])[0]
        assert ok.all() if wrong_at is None else np.flatnonzero(~ok).tolist() == [wrong_at]
    thetas = np.repeat(theta, 4, axis=0)
    loss, wrong, abs_err, first = check_judge(net, thetas, relabelled)
    lengths = np.array([int(t.lengths[0]) for t in relabelled])
    assert wrong.tolist() == [0, 1, 1, 0] and first[:, 0].tolist() == [lengths[0], 120, 0, lengths[3]]
    # alone, a net pays for the steps up to the end of the call that holds its first error
    for test, cost in zip(relabelled, (lengths[0], 150, STEPS, lengths[3])):
        counting = Counting(net)
        TASK.judge(counting, theta, [test], steps=STEPS)
        assert counting.steps == cost
    counting = Counting(net)
    TASK.judge(counting, thetas, relabelled, steps=STEPS)
    assert counting.steps <= lengths[0] + lengths[3] + 150 + 2 * STEPS < lengths.sum()  # + padding: under STEPS


def test_evaluate_runs_the_judge_and_a_learner_without_state_runs_the_whole_stream():
    net, theta = cerg_nets("cerg-1997")
    rng = np.random.default_rng(5)
    tests = [TASK.test_set(rng, 1) for _ in theta]
    got = evaluation.evaluate(net, theta, TASK, tests)
    for a, b in zip(got, TASK.judge(net, theta, tests)):
        assert np.array_equal(a, b)
    whole = evaluation.evaluate(Minibatch(LSTM(net.config), 1), theta, TASK, tests)
    assert np.array_equal(whole[1], got[1]), "one stream per net: wrong or not, either way"


def test_a_test_set_is_its_streams_encoded_in_the_smallest_exact_types():
    """A paper-scale run holds 100 streams of 10^6 steps: 1.6 GB as bool/int8, 12 GB as floats."""
    test = TASK.test_set(np.random.default_rng(7), 2)
    full = TASK.encode(test.info["streams"])
    assert (test.y.dtype, test.reference.dtype, test.symbols.dtype) == (bool, bool, np.int8)
    for name in ("y", "reference", "symbols", "mask", "lengths", "x"):
        assert np.array_equal(getattr(test, name), getattr(full, name)), name
    nbytes = sum(getattr(test, a).nbytes for a in ("y", "reference", "symbols", "mask"))
    assert nbytes <= 16 * test.lengths.max() * len(test)


def test_judge_rejects_what_it_cannot_test():
    net, theta = cerg_nets("cerg-forget", n=1)
    tests = [TASK.test_set(np.random.default_rng(6), n) for n in (1, 2)]
    with pytest.raises(ValueError, match="all of one size"):
        TASK.judge(net, theta, tests)
    with pytest.raises(ValueError, match=r"one test set per network \(2\)"):
        TASK.judge(net, theta, tests[:1])
    with pytest.raises(ValueError, match="steps"):
        TASK.judge(net, theta, [tests[0]] * 2, steps=0)
    with pytest.raises(TypeError, match="outputs"):
        TASK.judge(Minibatch(LSTM(net.config), 1), theta, [tests[0]] * 2)
