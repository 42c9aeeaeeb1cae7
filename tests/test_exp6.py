"""Experiment 6 (Sec. 5.6, Table 9): the temporal-order generators against their definitions,
the correctness criterion, and the protocols (net, learning rates, ST3(0.1), extra test)."""
import numpy as np
import pytest

from lstm97 import evaluation, experiments, tasks, train
from lstm97.fast import FastLSTM
from lstm97.tasks import temporal_order as to

SPEC = {"6a": [(10, 20), (50, 60)], "6b": [(10, 20), (33, 43), (66, 76)]}


@pytest.mark.parametrize("name", ["6a", "6b"])
def test_lengths_and_windows_are_uniform_over_the_paper_ranges(name):
    b = tasks.make(name).sample(np.random.default_rng(3), 20_000)
    assert np.array_equal(np.unique(b.lengths), np.arange(100, 111))
    assert np.bincount(b.lengths - 100).min() > 20_000 / 11 * 0.85
    for j, (lo, hi) in enumerate(SPEC[name]):
        pos = b.info["positions"][:, j]
        assert np.array_equal(np.unique(pos), np.arange(lo, hi + 1)), (j, np.unique(pos))
        s = b.symbols[np.arange(len(b)), pos - 1]  # 1-based position t_j holds X or Y
        assert np.isin(s, [to.X, to.X + 1]).all()
    first = np.argmax(b.symbols >= to.X, axis=1) + 1
    assert np.array_equal(first, b.info["positions"][:, 0])


def test_classes_are_the_papers_letters():
    """6a: XX→Q, XY→R, YX→S, YY→U; 6b: XXX→Q … YXY→A, YYX→B, YYY→C (Sec. 5.6)."""
    spec = {"6a": {"XX": "Q", "XY": "R", "YX": "S", "YY": "U"},
            "6b": dict(zip(["XXX", "XXY", "XYX", "XYY", "YXX", "YXY", "YYX", "YYY"], "QRSUVABC"))}
    for name, table in spec.items():
        task = tasks.make(name)
        b = task.sample(np.random.default_rng(5), 400)
        for i in range(len(b)):
            word = "".join(to.SYMBOLS[s] for s in b.symbols[i, :b.lengths[i]] if s >= to.X)
            target = b.y[i, b.lengths[i] - 1]
            assert target.sum() == 1 and task.class_names[int(target.argmax())] == table[word]
        assert (b.mask.sum(axis=1) == 1).all() and b.mask[np.arange(len(b)), b.lengths - 1].all(), "target at the end only"
        assert np.array_equal(b.x.argmax(axis=2)[b.symbols >= 0], b.symbols[b.symbols >= 0]), "local input code"


def test_correct_means_every_output_within_0_3():
    task = tasks.make("6a")
    b = task.sample(np.random.default_rng(0), 4)
    y = b.y.copy()
    end = (np.arange(4), b.lengths - 1)
    assert task.correct(y, b).all()
    y[end[0], end[1], :] += 0.29  # every output off by 0.29: still right
    assert task.correct(y, b).all()
    wrong_unit = (b.y[end].argmax(axis=1) + 1) % 4
    y[end[0], end[1], wrong_unit] = 0.31  # one non-target output at 0.31: wrong
    assert not task.correct(y, b).any()
    y = b.y.copy()
    y[:, 0, :] = 5.0  # errors before the end do not count
    assert task.correct(y, b).all()


@pytest.mark.parametrize("name,lr,trials,igb,weights", [("6a", 0.5, 20, (-2.0, -4.0), 156),
                                                       ("6b", 0.1, 10, (-2.0, -4.0, -6.0), 308)])
def test_protocols_follow_table_9_and_10(name, lr, trials, igb, weights):
    p = experiments.get(name)
    c = p.config()
    assert (p.lr, p.trials, p.extra_test, p.stop.beta, p.stop.window, p.stop.max_wrong) == (lr, trials, 2560, 0.1, 2000, 0)
    assert (c.input_gate_bias, c.output_gate_bias, c.init_range, c.bias, c.g, c.h) == (igb, None, 0.1, "all", "g2", "h1")
    assert FastLSTM(c).n_params == weights
    assert p.make_task().windows == tuple(SPEC[name]) and p.make_task().length == (100, 110)


def test_st3_needs_the_2000_most_recent_sequences_right_and_error_below_0_1():
    stop = experiments.get("6a").stop
    stop.start(3)
    ok, err = np.array([True, True, False]), np.array([0.05, 0.2, 0.05])
    for _ in range(1999):
        assert not stop.on_sequence(ok, err).any()
    assert list(stop.on_sequence(ok, err)) == [True, False, False]
    assert not stop.on_sequence(np.array([False, True, True]), err)[0], "one miss in the window undoes it"


def test_solved_6a_nets_meet_the_extra_test():
    """A short 6a run solves a trial (seed 0's first, after 12,050 sequences), which stops training
    there, as in the paper; its weights at that moment classify fresh sequences."""
    p = experiments.get("6a")
    learner, task = FastLSTM(p.config()), p.make_task()
    run = train.train(learner, task, lr=p.lr, trials=2, max_sequences=13_000, seed=0, eval_every=1000,
                      stop=p.stop, progress=False, freeze_solved=True)
    assert run.solved.tolist() == [True, False], run.solved_after
    fraction, _ = evaluation.extra_test(learner, task, run.solved_weights, 256, seed=1997)
    assert (fraction[run.solved] < 0.02).all() and np.isnan(fraction[~run.solved]).all()
