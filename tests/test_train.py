import json

import numpy as np
import pytest

from lstm97 import tasks, train
from lstm97.rnn import RNN


def small_run(trials, seed=0, algorithm="bptt", **kw):
    learner = RNN(3, 3, 3, bias=False, algorithm=algorithm)
    params = dict(lr=4.0, trials=trials, max_sequences=1500, seed=seed, eval_every=100, test_size=10, progress=False)
    params.update(kw)
    return train.train(learner, tasks.make("2a", p=2), **params)


def test_learns_a_short_lag():
    run = small_run(trials=4)
    assert run.success_rate == 1.0, run.solved_after
    assert all(s <= 1500 for s in run.solved_after)
    assert run.sequences[-1] == max(run.solved_after), "stops once every trial is solved"
    assert np.array(run.test_correct)[-1].min() == 1.0


def test_a_trial_does_not_depend_on_the_others():
    alone = small_run(trials=1, stop_when_solved=False)
    many = small_run(trials=3, stop_when_solved=False)
    assert alone.solved_after[0] == many.solved_after[0]
    assert np.allclose(np.array(alone.test_loss)[:, 0], np.array(many.test_loss)[:, 0])


def test_seeds_differ_and_repeat():
    a, b, c = small_run(2, seed=1), small_run(2, seed=1), small_run(2, seed=2)
    assert a.test_loss == b.test_loss
    assert a.test_loss != c.test_loss


def test_stream_is_the_chunked_sample():
    task = tasks.make("4", T=20)
    rng_a, rng_b = np.random.default_rng(3), np.random.default_rng(3)
    stream = train.Stream(task, rng_a)
    got = [stream.next() for _ in range(train.CHUNK + 5)]
    first = task.sample(rng_b, train.CHUNK)
    second = task.sample(rng_b, train.CHUNK)
    for i in range(train.CHUNK):
        assert np.array_equal(got[i].x, first.take(i).x)
    assert np.array_equal(got[train.CHUNK + 4].y, second.take(4).y)


def test_record_is_plain_data_with_provenance():
    run = small_run(2)
    d = json.loads(json.dumps(run.as_dict()))
    for key in ("learner", "task", "lr", "trials", "seed", "scale", "backend", "wall_time", "solved_after"):
        assert key in d
    assert d["backend"] == "numpy" and d["wall_time"] > 0
    assert len(d["test_loss"]) == len(d["sequences"]) and len(d["test_loss"][0]) == 2


@pytest.mark.parametrize("kw,match", [
    ({"trials": 0}, "trials"), ({"max_sequences": -1}, "max_sequences"), ({"lr": 0.0}, "learning rate"),
    ({"eval_every": 2.5}, "eval_every"), ({"test_size": 0}, "test_size"),
])
def test_bad_hyper_parameters(kw, match):
    params = dict(lr=1.0, trials=1, max_sequences=10, progress=False)
    params.update(kw)
    with pytest.raises(ValueError, match=match):
        train.train(RNN(3, 2, 3), tasks.make("2a", p=2), **params)
