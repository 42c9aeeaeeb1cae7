"""Experiment 5 (Sec. 5.5, Table 8): the protocols, the generator's arithmetic, the stopping rule
"fewer than n_seq of the 2000 most recent sequences wrong", the extra test's mean squared error,
and that the two rows (n_seq = 140 and 13) are one trajectory tested twice."""
import dataclasses

import numpy as np
import pytest

from lstm97 import backend, evaluation, experiments, records, tasks, train
from lstm97.fast import FastLSTM
from lstm97.lstm import LSTM
from lstm97.stopping import Recent


@pytest.mark.parametrize("name,n_seq,after,wrong,mse", [("5-140", 140, 482_000, 139, 0.0223),
                                                        ("5-13", 13, 1_273_000, 14, 0.0139)])
def test_protocols_follow_table_8(name, n_seq, after, wrong, mse):
    p = experiments.get(name)
    assert p.task == "5" and p.task_params == {"T": 100} and p.lr == 0.1 and p.trials == 10
    assert isinstance(p.stop, Recent) and p.stop.beta is None and p.stop.window == 2000
    assert p.stop.max_wrong == n_seq - 1, "fewer than n_seq wrong"
    assert p.paper == {"success_after": after, "wrong": wrong, "mse": mse} and p.extra_test == 2560
    c = p.config()
    assert LSTM(c).n_params == 93 and c.blocks == 2 and c.cells == 2 and c.bias == "all"
    assert c.input_gate_bias is None and c.output_gate_bias is None, "both gate biases random (Table 10: r, r)"
    assert (c.g, c.h, c.init_range) == ("g2", "h1", 0.1)
    assert p.make_task().min_lag == 50


def test_random_gate_biases_lie_in_the_init_interval():
    net = LSTM(experiments.get("5-140").config())
    theta = backend.to_host(net.init(np.random.default_rng(0), 200))
    assert np.abs(theta).max() <= 0.1
    views = net.layout.views(theta)
    for gate in ("W_in", "W_out"):                     # the bias is each gate row's last weight
        bias = views[gate][:, :, -1]
        assert bias.shape == (200, 2) and bias.std() > 0.05, "uniform in [-0.1, 0.1], not fixed"


def test_values_targets_and_the_first_pair():
    task = tasks.make("5", T=100)
    b = task.sample(np.random.default_rng(0), 50_000)
    rows = np.arange(len(b))
    value = b.values[..., 0]
    live = np.arange(value.shape[1])[None, :] < b.lengths[:, None]
    assert value[live].min() >= 0 and value[live].max() <= 1
    assert value[live].mean() == pytest.approx(0.5, abs=0.005)
    d = b.y[rows, b.end, 0]
    assert np.allclose(d, b.info["x1"] * b.info["x2"])
    marked_first = b.info["marks"][:, 0] == 0
    assert np.mean(marked_first) == pytest.approx(0.1, abs=0.005)
    assert (b.info["x1"][marked_first] == 1.0).all(), "X1 = 1.0 if the first pair is marked"
    # the product of two uniforms has mean 1/4; a mark on the first pair (the first mark with
    # probability 1/10, else the second with 1/49) makes one factor 1.0 and the mean 1/2
    p1 = 0.1 + 0.9 / 49
    assert np.mean(b.values[:, 0, 1] == 1.0) == pytest.approx(p1, abs=0.005)
    assert d.mean() == pytest.approx((1 - p1) / 4 + p1 / 2, abs=0.004)


def test_fewer_than_n_seq_wrong_of_the_2000_most_recent():
    rule = Recent(None, max_wrong=12)
    rule.start(2)
    ok = np.ones(2, dtype=bool)
    for i in range(1999):
        assert not rule.on_sequence(ok, np.zeros(2)).any(), "needs 2000 sequences first"
    assert rule.on_sequence(ok, np.zeros(2)).all()
    for i in range(13):                                    # trial 0: 13 wrong in the window: not solved
        solved = rule.on_sequence(np.array([False, i < 12]), np.zeros(2))
    assert solved.tolist() == [False, True]                # trial 1: 12 wrong: solved


def test_extra_test_reports_the_mean_squared_error():
    p = experiments.get("5-140")
    task = tasks.make("5", T=20)
    learner = FastLSTM(p.config())
    w = backend.to_host(learner.init(np.random.default_rng(4), 2))
    w = np.vstack([w, np.full((1, w.shape[1]), np.nan)])  # a trial never solved
    fraction, mae, mse = evaluation.extra_test(learner, task, w, 300, seed=7, squared=True)
    assert np.isnan(fraction[2]) and np.isnan(mse[2])
    two = evaluation.extra_test(learner, task, w, 300, seed=7)
    assert len(two) == 2 and np.allclose(two[0][:2], fraction[:2]) and np.allclose(two[1][:2], mae[:2])
    for k in range(2):                                     # the same set, scored by the reference net
        rng = np.random.default_rng(np.random.SeedSequence(7, spawn_key=(k, 3)))
        b = task.sample(rng, 300)
        _, y = LSTM(p.config()).forward(np.repeat(w[k][None], 300, axis=0), b.x)
        e = backend.to_host(y)[np.arange(300), b.end, 0] - b.y[np.arange(300), b.end, 0]
        assert mse[k] == pytest.approx(np.mean(e ** 2), rel=1e-9)
        assert mae[k] == pytest.approx(np.mean(np.abs(e)), rel=1e-9)
        assert fraction[k] == pytest.approx(np.mean(np.abs(e) >= 0.04))
    rec = records.record(p, train.Run("x", "5", 0.1, 3, 0, 1, 1, 1, "s", "ci", "numpy", solved_after=[1, 1, None]),
                         "fast", (fraction, mae, mse))["result"]
    assert rec["mse"][2] is None and rec["mean_mse"] == pytest.approx(mse[:2].mean())


def test_the_two_rows_are_one_trajectory_tested_twice():
    # same seed: 5-13 trains exactly like 5-140 until 5-140 stops, and stops no earlier
    runs = {}
    for name in ("5-140", "5-13"):
        p = dataclasses.replace(experiments.get(name), task_params={"T": 20})
        runs[name] = train.train(FastLSTM(p.config()), p.make_task(), lr=p.lr, trials=2, max_sequences=3000,
                                 seed=3, eval_every=500, test_size=64, stop=p.stop, progress=False)
    a, b = runs["5-140"], runs["5-13"]
    n = len(a.sequences)
    assert np.allclose(a.test_loss, b.test_loss[:n]) and a.sequences == b.sequences[:n]
    for s140, s13 in zip(a.solved_after, b.solved_after):
        assert s13 is None or (s140 is not None and s140 <= s13)
