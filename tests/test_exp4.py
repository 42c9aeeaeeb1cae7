"""Experiment 4 (Sec. 5.4, Table 7): the protocols, the share of extreme targets that keeps our
nets from ST3, update timing with a target at the end only, and that a short run learns the sum."""
import dataclasses

import numpy as np
import pytest

from lstm97 import experiments, tasks, train
from lstm97.fast import FastLSTM
from lstm97.lstm import LSTM
from lstm97.stopping import Recent


@pytest.mark.parametrize("name,T,after,wrong", [("4-1", 100, 74_000, 1), ("4-2", 500, 209_000, 0),
                                               ("4-3", 1000, 853_000, 1)])
def test_protocols_follow_table_7(name, T, after, wrong):
    p = experiments.get(name)
    assert p.task == "4" and p.task_params == {"T": T} and p.lr == 0.5 and p.trials == 10
    assert isinstance(p.stop, Recent) and p.stop.beta == 0.01 and p.stop.window == 2000 and p.stop.max_wrong == 0
    assert p.paper == {"success_after": after, "wrong": wrong} and p.extra_test == 2560
    c = p.config()
    assert LSTM(c).n_params == 93 and c.blocks == 2 and c.cells == 2 and c.bias == "all"
    assert c.input_gate_bias == (-3.0, -6.0) and c.output_gate_bias is None
    assert (c.g, c.h) == ("g2", "h1")
    assert p.make_task().min_lag == T // 2


def test_share_of_extreme_targets_is_what_the_definition_implies():
    # |X1 + X2| > 1.84 (target outside [0.04, 0.96]): 2 * 0.16**2 / 8 for two uniform values,
    # times 0.9 because X1 = 0 when the first pair is marked (then |X1 + X2| <= 1)
    b = tasks.make("4", T=40).sample(np.random.default_rng(0), 400_000)
    d = b.y[np.arange(len(b)), b.end, 0]
    share = np.mean(np.abs(d - 0.5) > 0.46)
    assert abs(share - 0.9 * 0.16 ** 2 / 4) < 0.0005, share
    assert np.mean(b.info["x1"] == 0) == pytest.approx(0.1, abs=0.003)


def test_step_and_sequence_updates_agree_when_the_target_is_at_the_end_only():
    config = experiments.get("4-1").config()
    batch = tasks.make("4", T=20).sample(np.random.default_rng(1), 3)
    theta = LSTM(config).init(np.random.default_rng(2), 3)
    a, _, ya = FastLSTM(config, update="sequence").train_step(theta.copy(), batch, 0.5)
    b, _, yb = FastLSTM(config, update="step").train_step(theta.copy(), batch, 0.5)
    assert not np.allclose(a, theta)
    live = np.arange(ya.shape[1])[None, :] < batch.lengths[:, None]        # outputs past each end are unused
    assert np.allclose(a, b, atol=1e-12) and np.allclose(ya[live], yb[live])


def test_a_short_run_learns_the_sum_over_the_lag():
    p = experiments.get("4-1")
    p = dataclasses.replace(p, task_params={"T": 20})
    run = train.train(FastLSTM(p.config()), p.make_task(), lr=p.lr, trials=2, max_sequences=16_000, seed=1997,
                      eval_every=1000, test_size=256, stop=p.stop, progress=False)
    trivial = 0.5 * np.mean((tasks.make("4", T=20).sample(np.random.default_rng(3), 50_000).y.sum(axis=(1, 2)) - 0.5) ** 2)
    loss = np.array(run.test_loss)
    assert (loss[0] > trivial / 3).all(), "starts near the trivial answer"
    assert (loss[-1] < trivial / 10).all(), (loss[-1], trivial)
