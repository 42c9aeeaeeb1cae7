"""Experiment 3 (Sec. 5.3, Tables 4-6): the task generator against its definition, the stopping
rules and the extra 2560-sequence test, and random weight guessing (Sec. 5.8)."""
import math

import numpy as np
import pytest

from lstm97 import evaluation, experiments, guessing, streams, tasks, train
from lstm97.fast import FastLSTM


def sample(variant, n=4000, T=100, N=3, seed=0):
    return tasks.make("3" + variant, T=T, N=N).sample(np.random.default_rng(seed), n)


@pytest.mark.parametrize("variant", "abc")
def test_lengths_uniform_in_T_to_T_plus_a_tenth(variant):
    b = sample(variant, T=100)
    assert b.lengths.min() == 100 and b.lengths.max() == 110
    assert len(np.unique(b.lengths)) == 11 and np.bincount(b.lengths - 100).min() > 4000 / 11 * 0.7
    assert (b.mask.sum(axis=1) == 1).all() and b.mask[np.arange(len(b)), b.lengths - 1].all()
    steps = np.arange(b.values.shape[1])[None, :]
    assert (b.values[:, :, 0][steps >= b.lengths[:, None]] == 0).all(), "zero padding past each end"


@pytest.mark.parametrize("variant", "abc")
def test_noise_has_variance_0_2_and_the_signal_sits_in_the_first_N(variant):
    N = 3
    b = sample(variant, N=N)
    cls = b.info["cls"]
    x = b.values[:, :, 0]
    noise = x[:, N:100]  # every sequence is at least 100 long
    assert abs(noise.mean()) < 0.005 and abs(noise.var() - 0.2) < 0.005, noise.var()
    signal = np.where(cls == 0, 1.0, -1.0)[:, None]
    head = x[:, :N] - signal
    if variant == "b":
        assert abs(head.var() - 0.2) < 0.02 and abs(head.mean()) < 0.02
    else:
        assert (head == 0).all(), "3a and 3c: the first N elements are exactly +1 or -1"
    assert abs(cls.mean() - 0.5) < 0.03


def test_targets_of_3a_3b_and_the_noisy_targets_of_3c():
    for variant in "ab":
        b = sample(variant)
        end = b.y[b.mask][:, 0]
        assert np.array_equal(end, np.where(b.info["cls"] == 0, 1.0, 0.0)) and b.reference is None
    b = sample("c", n=20000)
    clean = np.where(b.info["cls"] == 0, 0.2, 0.8)
    assert np.array_equal(b.reference[b.mask][:, 0], clean)
    noise = b.y[b.mask][:, 0] - clean
    assert abs(noise.mean()) < 0.01 and abs(noise.var() - 0.1) < 0.005, noise.var()


def test_criteria():
    b = sample("a", n=4)
    y = np.zeros_like(b.y)
    target = b.y[b.mask][:, 0]
    task = tasks.make("3a", T=100, N=3)
    for err, ok in ((0.19, True), (-0.19, True), (0.21, False), (-0.21, False)):
        y[b.mask, 0] = target + err
        assert (task.correct(y, b) == ok).all()
    task, b = tasks.make("3c", T=100, N=3), sample("c", n=4)
    clean = b.reference[b.mask][:, 0]
    y = np.zeros_like(b.y)
    y[b.mask, 0] = clean + 0.09  # far from the noisy targets, close to the noise-free ones
    assert task.correct(y, b).all()
    y[b.mask, 0] = clean - 0.11
    assert not task.correct(y, b).any()


def test_protocols_follow_tables_4_to_6():
    for name, lr, max_error, max_wrong in (("3a-1", 1.0, 0.01, 0), ("3b-2", 1.0, 0.04, 5), ("3c-1", 0.1, 0.015, 0)):
        p = experiments.get(name)
        assert (p.lr, p.trials, p.test_size, p.extra_test) == (lr, 10, 256, 2560)
        assert (p.stop.max_error, p.stop.max_wrong) == (max_error, max_wrong)
        assert FastLSTM(p.config()).n_params == 102
    assert experiments.get("3b-1").make_task().input_noise and not experiments.get("3c-1").make_task().input_noise
    stop = experiments.get("3b-1").stop  # ST1 of 3b: fewer than 6 of 256 wrong
    assert list(stop.on_test(np.array([5, 6, 0]), np.array([0.03, 0.03, 0.05]))) == [True, False, False]


def short_run(**kw):
    p = experiments.get("3a-1")
    params = dict(lr=1.0, trials=3, max_sequences=20_000, eval_every=500, stop=p.stop, progress=False)
    return train.train(FastLSTM(p.config()), tasks.make("3a", T=10, N=3), **(params | kw))


def test_solved_weights_are_those_that_met_the_stopping_rule():
    """Training goes on after a trial is solved; the extra test uses its weights at that moment."""
    run = short_run(stop_when_solved=False, max_sequences=12_000)
    assert run.solved.all()
    task, learner = tasks.make("3a", T=10, N=3), FastLSTM(experiments.get("3a-1").config())
    tests = [task.sample(streams.trial_rngs(0, k)[2], 256) for k in range(3)]
    _, wrong, err = evaluation.evaluate(learner, run.solved_weights, task, tests)
    assert (wrong == 0).all() and (err < 0.01).all()
    assert not np.allclose(run.solved_weights, run.weights), "the final weights moved on"
    fraction, diff = evaluation.extra_test(learner, task, run.solved_weights, 2560, seed=0)
    assert ((0 <= fraction) & (fraction < 0.02)).all() and (diff < 0.02).all()
    assert np.isnan(evaluation.extra_test(learner, task, np.full((1, 102), np.nan), 10, 0)[0]).all()


def test_solved_weights_survive_a_resume(tmp_path):
    whole = short_run()
    ckpt = str(tmp_path / "3a.ckpt")
    part = short_run(checkpoint=ckpt, time_limit=0.0, max_sequences=20_000)
    while not part.finished:
        part = short_run(checkpoint=ckpt, resume=True, time_limit=0.0)
    assert part.solved_after == whole.solved_after
    assert np.array_equal(part.solved_weights, whole.solved_weights)


def test_st1_is_read_from_the_evaluations():
    run = short_run()
    data = {"run": run.as_dict()}
    st1 = experiments.st1_after(data, max_wrong=0)
    wrong = np.rint((1 - np.array(run.test_correct)) * 256)
    for k, (s1, s2) in enumerate(zip(st1, run.solved_after)):
        assert s1 <= s2
        i = run.sequences.index(s1)
        assert wrong[i, k] == 0 and (i == 0 or (wrong[:i, k] > 0).all())


# --- random weight guessing -------------------------------------------------------------------

def test_outputs_follow_the_definition():
    rng = np.random.default_rng(1)
    W = guessing.draw(rng, 3, hidden=2)
    lengths = np.array([4, 2, 3])
    x = rng.normal(size=(3, 4)) * (np.arange(4)[None] < lengths[:, None])
    got = guessing.outputs(W, x, lengths)
    for g in range(3):
        for s in range(3):
            a = np.zeros(3)  # hidden 0, hidden 1, output: reset at the sequence start
            for t in range(lengths[s]):
                a = 1 / (1 + np.exp(-(W[g, :, 0] * x[s, t] + W[g, :, 1] + W[g, :, 2:] @ a)))
            assert np.isclose(got[g, s], a[2])


def test_a2_has_no_links_between_hidden_units():
    W = guessing.draw(np.random.default_rng(0), 5, hidden=3, arch="A2")
    rec = W[0, :, 2:]
    assert rec[0, 1] == rec[1, 0] == rec[2, 0] == 0 and (rec[:, 3] != 0).all() and (rec[3] != 0).all()
    assert (np.diag(rec) != 0).all()
    with pytest.raises(ValueError, match="A1"):
        guessing.draw(np.random.default_rng(0), 1, hidden=1, arch="A3")


def test_guesses_needed_match_a_known_success_probability():
    """Two one-step sequences, inputs +1 and -1, targets 1 and 0: the output sees only w x + b,
    so a net is right iff w - |b| > ln 4; with w, b uniform in [-100, 100] that has
    probability (100 - ln 4)^2 / 200^2, and the guesses per search are geometric with that p."""
    p = (100 - math.log(4)) ** 2 / 200 ** 2
    x, lengths, target = np.array([[1.0], [-1.0]]), np.array([1, 1]), np.array([1.0, 0.0])
    rng = np.random.default_rng(0)
    counts = np.array([guessing.search(rng, x, lengths, target, 0.2, batch=16)[0] for _ in range(3000)])
    se = math.sqrt(1 - p) / p / math.sqrt(len(counts))
    assert abs(counts.mean() - 1 / p) < 4 * se, (counts.mean(), 1 / p)


def test_counts_do_not_depend_on_the_batch_size():
    task = tasks.make("3a", T=20, N=1)
    x, lengths, target = guessing.end_values(task, task.sample(np.random.default_rng(0), 64))
    a = guessing.search(np.random.default_rng(5), x, lengths, target, 0.2, batch=7)
    b = guessing.search(np.random.default_rng(5), x, lengths, target, 0.2, batch=1000)
    assert a[0] == b[0] and np.array_equal(a[1], b[1])
    assert guessing.search(np.random.default_rng(5), x, lengths, target, 0.2, max_guesses=a[0] - 1) == (None, None)


def test_guessing_solves_3a_but_not_3c_quickly():
    easy = guessing.trials(tasks.make("3a", T=50, N=3), 3, seed=0, max_guesses=100_000)
    assert all(n is not None for n in easy["guesses"]) and max(easy["fraction_wrong"]) < 0.02
    hard = guessing.trials(tasks.make("3c", T=50, N=3), 1, seed=0, max_guesses=20_000)
    assert hard["guesses"] == [None]
