"""Experiment 2: sequential network construction (`grow.Sequential`) and the 2a/2b/2c protocols."""
import dataclasses

import numpy as np
import pytest

from lstm97 import experiments, grow, stopping, tasks, train
from lstm97.experiments import ARCHITECTURES
from lstm97.fast import FastLSTM
from lstm97.learner import Learner
from lstm97.lstm import LSTM


def net_2a(p, learner=LSTM, update="sequence"):
    return learner(dataclasses.replace(ARCHITECTURES["2a"], n_in=p + 1, n_out=p + 1), update=update)


@pytest.mark.parametrize("learner", [LSTM, FastLSTM])
def test_a_switched_off_cell_neither_acts_nor_learns(learner):
    p = 6
    base, seq = net_2a(p, learner), grow.Sequential(net_2a(p, learner), window=10**6)
    theta = seq.init(np.random.default_rng(0), 3)
    assert not seq.added(theta).any()
    batch = tasks.make("2a", p=p).sample(np.random.default_rng(1), 3)
    # the outputs do not depend on the cell's weights: the net is the net without a cell
    other = theta.copy()
    for name in ("W_c", "W_k"):
        view = base.layout.views(other)[name]
        view[..., 0 if name == "W_k" else slice(None)] += 0.7  # cell input weights; cell -> outputs
    with np.errstate(over="ignore"):
        _, y1 = seq.forward(theta, batch.x)
        _, y2 = seq.forward(other, batch.x)
        new, _, _ = seq.train_step(theta, batch, 1.0)
    assert np.array_equal(y1, y2)
    # training changes the input -> output weights only; the cell's weights stay exactly as drawn
    before, after = base.layout.views(theta), base.layout.views(new)
    for name in ("W_c", "W_in"):
        assert np.array_equal(before[name], after[name])
    assert np.array_equal(before["W_k"][..., 0], after["W_k"][..., 0])
    assert not np.array_equal(before["W_k"][..., 1:], after["W_k"][..., 1:])


class Scripted(Learner):
    """A stand-in learner whose training loss follows a script (one row per sequence)."""

    def __init__(self, losses):
        self.losses, self.i = np.asarray(losses, float), 0
        self.inner = net_2a(3)
        self.config, self.layout, self.update, self.name = self.inner.config, self.inner.layout, "sequence", "scripted"

    def init(self, rng, n):
        return self.inner.init(rng, n)

    def train_step(self, theta, batch, lr):
        self.i += 1
        return theta, self.losses[self.i - 1], None


def test_the_cell_joins_when_the_error_stops_decreasing():
    # trial 0: the loss halves every block of 2 sequences; trial 1: it stalls in the third block
    halving = [1, 1, .5, .5, .25, .25, .125, .125]
    stalling = [1, 1, .5, .5, .499, .499, .2, .2]
    seq = grow.Sequential(Scripted(np.array([halving, stalling]).T), window=2, tol=0.01)
    theta = seq.init(np.random.default_rng(0), 2)
    initial = theta.copy()
    batch = tasks.make("2a", p=3).sample(np.random.default_rng(0), 2)
    added = []
    for _ in range(8):
        theta, _, _ = seq.train_step(theta, batch, 1.0)
        added.append(seq.added(theta).tolist())
    assert added[5] == [False, True] and added[4] == [False, False]
    assert added[-1] == [False, True]
    # adding restores the gate's initial random weights
    gates = seq.gates
    assert np.allclose(theta[1, gates], initial[1, gates] + grow.OFF, atol=1e-9)
    assert np.array_equal(theta[0], initial[0])


def test_sequential_construction_bad_input():
    with pytest.raises(ValueError, match="window"):
        grow.Sequential(net_2a(3), window=0)
    with pytest.raises(ValueError, match="tol"):
        grow.Sequential(net_2a(3), tol=1.5)
    seq = grow.Sequential(net_2a(3))
    theta = seq.init(np.random.default_rng(0), 1)
    with pytest.raises(ValueError, match="locally coded"):
        seq.train_step(theta, tasks.make("3a", T=5).sample(np.random.default_rng(0), 1), 1.0)


def test_sequential_construction_solves_2a_and_resumes_exactly(tmp_path):
    def run(**kw):
        return train.train(grow.Sequential(net_2a(10, FastLSTM)), tasks.make("2a", p=10), lr=1.0, trials=3,
                           max_sequences=6000, seed=5, eval_every=250, test_size=4,
                           stop=stopping.Recent(None, window=500), progress=False, **kw)
    whole = run()
    assert whole.success_rate == 1.0, whole.solved_after
    path = str(tmp_path / "ck")
    first = run(checkpoint=path, checkpoint_every=0.0, time_limit=1e-9)
    assert not first.finished
    rest = run(checkpoint=path, resume=True)
    assert rest.solved_after == whole.solved_after
    assert np.array_equal(rest.weights, whole.weights)


def test_exp2_protocols():
    for name in ("2a", "2b"):
        p = experiments.get(name)
        assert p.grow and p.config().output_gates is False and p.lr == 1.0 and p.trials == 18
        assert isinstance(p.stop, stopping.Recent) and p.stop.window == 10_000 and p.stop.beta is None
    for i in range(1, 10):
        p = experiments.get(f"2c-{i}")
        assert not p.grow and p.lr == 0.01 and p.trials == 20 and p.stop.window == 10_000
        assert p.config().n_in == p.task_params["p"] + 4
    assert experiments.get("2a").make_task().scored == "all" and experiments.get("2b").make_task().scored == "end"
