"""Experiment 1 as the paper ran it (Sec. 5.1): fixed training/test set pairs, the "most active
units" criterion, independent trials, and the Elman net of its Table 1."""
import numpy as np
import pytest

from lstm97 import experiments, tasks, train
from lstm97.rnn import RNN
from lstm97.tasks import reber
from lstm97.tasks.base import Batch


def test_set_pairs_follow_the_protocol():
    task = tasks.make("1", sets=3)
    pairs = [task.set_pair(0, j) for j in range(3)]
    for tr, te in pairs:
        assert len(tr) == len(te) == 256
        assert all(reber.accepts(s) for s in tr + te)
        assert not set(tr) & set(te), "test strings exclude the training set"
        assert len(set(tr)) < 256, "the training set is 256 random draws: the short strings repeat"
    assert pairs[0][0] != pairs[1][0] != pairs[2][0], "three different set pairs"
    assert task.set_pair(0, 1) == pairs[1] and task.set_pair(1, 1) != pairs[1], "from (seed, pair) alone"


def test_trial_k_uses_set_pair_k_mod_3():
    task = tasks.make("1", sets=3)
    for k in (0, 4, 29):
        trial = task.for_trial(7, k)
        tr, te = task.set_pair(7, k % 3)
        assert trial.train == tr and trial.test == te
        exemplars = trial.sample(np.random.default_rng(k), 300)
        assert set(exemplars.info["strings"]) <= set(tr), "training exemplars come from the training set"
        judged = trial.test_set(np.random.default_rng(0), 512)
        assert judged.info["strings"] == tr + te, "judged on the training and the test set together"
    with pytest.raises(ValueError, match="test_size must be 512"):
        task.for_trial(0, 0).test_set(np.random.default_rng(0), 256)
    fresh = tasks.make("1")
    assert fresh.sets is None and fresh.for_trial(0, 3) is fresh, "without sets: fresh strings throughout"
    with pytest.raises(ValueError, match="sets"):
        tasks.make("1", sets=0)


def test_protocols_are_the_papers():
    for name in ("1-1", "1-2", "1-3", "1-4", "1-5"):
        p = experiments.get(name)
        assert p.trials == 30 and p.test_size == 512 and p.make_task().sets == 3


def legal_outputs(task, strings):
    b = task.encode(strings)
    return b, np.where(b.reference > 0.5, 0.9, 0.1)


def test_criterion_most_active_units():
    task = tasks.make("1")
    b, out = legal_outputs(task, ["BTBPVVETE", "BPBTXSEPE"])
    assert task.correct(out, b).all()
    # the actual next symbol alone high at a two-way choice: the other possible symbol is not
    # among the most active units, so the string is wrong
    one_hot = out.copy()
    one_hot[0, 0] = 0.1
    one_hot[0, 0, reber.SYMBOLS.index("T")] = 0.9   # after B: T and P possible, only T active
    assert list(task.correct(one_hot, b)) == [False, True]
    # a legal unit merely tied with an illegal one is not "the most active"
    tie = out.copy()
    tie[1, 3, reber.SYMBOLS.index("E")] = 0.9
    assert list(task.correct(tie, b)) == [True, False]
    # the symbol before last: the branch T/P must win, and scale does not matter, only order
    low = 0.5 * out
    low[0, 6] = [0.2, 0.3, 0.25, 0, 0, 0, 0]         # T above P before the final T
    assert list(task.correct(low, b)) == [True, True]
    low[0, 6, 2] = 0.35
    assert list(task.correct(low, b)) == [False, True]
    # padding steps do not count: the shorter string padded with nonsense stays right
    c, out2 = legal_outputs(task, ["BTBPVVETE", "BTBTSSXXTVVETE"])
    out2[0, 8:] = np.arange(7)
    assert task.correct(out2, c).all()


def test_a_trials_result_does_not_depend_on_the_others():
    from lstm97.lstm import LSTM
    p = experiments.get("1-5")
    net = LSTM(p.config(), update="step")
    kw = dict(lr=p.lr, max_sequences=40, eval_every=20, test_size=512, progress=False, stop_when_solved=False)
    two = train.train(net, p.make_task(), trials=2, seed=3, **kw)
    three = train.train(net, p.make_task(), trials=4, seed=3, **kw)
    assert np.allclose(two.weights, three.weights[:2], rtol=0, atol=1e-12)
    assert np.allclose(np.array(two.test_loss), np.array(three.test_loss)[:, :2])
    assert not np.allclose(three.weights[0], three.weights[3]), "trial 3 reuses set pair 0 with other weights"


def test_elman_gradient_is_truncated_after_one_step():
    """The Elman net's gradient is the derivative of the loss with the previous hidden state
    (the context units) held at its value: checked against finite differences of that loss, and
    it differs from the full gradient (RTRL) where the recurrence matters."""
    rng = np.random.default_rng(0)
    net = RNN(3, 4, 2, init_range=1.0, algorithm="elman")
    theta = net.init(rng, 2)
    T = 6
    x = rng.normal(size=(2, T, 3))
    mask = np.ones((2, T), bool)
    batch = Batch(y=rng.uniform(size=(2, T, 2)), mask=mask, lengths=np.full(2, T), n_in=3, values=x)
    context, _ = net.forward(theta, x)

    def frozen_loss(th):
        p = net.layout.views(th)
        total = np.zeros(2)
        for t in range(T):
            prev = context[:, t - 1] if t else np.zeros((2, 4))
            h = 1 / (1 + np.exp(-net._net_h(p, x[:, t], prev)))
            y = 1 / (1 + np.exp(-net._net_y(p, x[:, t], h)))
            total += 0.5 * ((y - batch.y[:, t]) ** 2).sum(axis=1)
        return total

    eps, fd = 1e-6, np.zeros_like(theta)
    for j in range(theta.shape[1]):
        up, down = theta.copy(), theta.copy()
        up[:, j] += eps
        down[:, j] -= eps
        fd[:, j] = (frozen_loss(up) - frozen_loss(down)) / (2 * eps)
    loss, grad, _ = net.rtrl(theta, batch)
    assert np.allclose(loss, frozen_loss(theta))
    assert np.allclose(grad, fd, rtol=1e-5, atol=1e-9), np.abs(grad - fd).max()
    full = RNN(3, 4, 2, init_range=1.0, algorithm="rtrl").rtrl(theta, batch)[1]
    assert not np.allclose(grad, full, atol=1e-3)
    new, _, _ = net.train_step(theta, batch, lr=0.0)
    assert np.allclose(new, theta) and net.name.startswith("Elman net")


def test_branch_step_predicts_the_second_symbol_again():
    task = tasks.make("1")
    b = task.encode(["BTBPVVETE", "BPBTSXSEPE"])
    k = task.branch_step(b)
    assert [s[t + 1] for s, t in zip(b.info["strings"], k)] == ["T", "P"]
    assert [s[t] for s, t in zip(b.info["strings"], k)] == ["E", "E"], "input at that step: the inner E"
    _, out = legal_outputs(task, b.info["strings"])
    out[1, k[1]] = out[1, k[1]][::-1]
    steps = task.step_correct(out, b)
    assert steps[0].all() and list(np.flatnonzero(~steps[1])) == [k[1]]
