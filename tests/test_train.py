import json

import numpy as np
import pytest

from lstm97 import checkpoint, experiments, stopping, streams, tasks, train
from lstm97.minibatch import Minibatch
from lstm97.rnn import RNN
from lstm97.tasks.base import stack


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


def next_of(stream):
    """One stream's next sequence on its own (`take` first: it may draw a new chunk)."""
    i = stream.take(1)
    return stream.buffer.take(i)


def test_stream_is_the_chunked_sample():
    task = tasks.make("4", T=20)
    rng_a, rng_b = np.random.default_rng(3), np.random.default_rng(3)
    stream = streams.Stream(task, rng_a)
    got = [next_of(stream) for _ in range(streams.CHUNK + 5)]
    first = task.sample(rng_b, streams.CHUNK)
    second = task.sample(rng_b, streams.CHUNK)
    for i in range(streams.CHUNK):
        assert np.array_equal(got[i].x, first.take(i).x)
    assert np.array_equal(got[streams.CHUNK + 4].y, second.take(4).y)


FIRST_OF_EACH_TASK = list({p.task: name for name, p in reversed(experiments.PROTOCOLS.items())}.values())


@pytest.mark.parametrize("name", FIRST_OF_EACH_TASK)
def test_lockstep_gives_the_stacked_next_sequences(name):
    """The training loop's batches are exactly the stacked sequences of each trial's stream, one
    or several per trial, also when trials leave the batch (frozen when solved) part-way through
    a chunk."""
    task = experiments.get(name).scaled("ci").make_task()

    def fresh():
        return [streams.Stream(task.for_trial(0, k), streams.trial_rngs(0, k)[1]) for k in range(3)]

    lockstep, plain = streams.Lockstep(fresh()), fresh()
    active, it, sizes = np.arange(3), 0, iter([1, 5, 1, 20, 7] * 9)
    while it < 2 * streams.CHUNK + 5:
        if it >= streams.CHUNK // 2:
            active = np.array([0, 2])
        if it >= streams.CHUNK + 3:
            active = np.array([2])
        k = min(next(sizes), lockstep.ready(active))
        got = lockstep.next_many(active, k)
        want = stack([next_of(plain[j]) for j in active for _ in range(k)])
        it += k
        for field in ("y", "mask", "lengths", "values", "symbols", "reference"):
            a, b = getattr(got, field), getattr(want, field)
            assert (a is None and b is None) or np.array_equal(a, b), (name, it, field)
        assert got.info.keys() == want.info.keys()
        for k in got.info:
            assert np.array_equal(np.asarray(got.info[k]), np.asarray(want.info[k])), (name, it, k)


@pytest.mark.parametrize("beta", [0.6, None])
def test_recent_counts_the_wrong_sequences_of_its_window_across_a_restore(beta):
    rng = np.random.default_rng(0)
    correct, error = rng.random((60, 3)) < 0.8, rng.random((60, 3))
    rule = stopping.Recent(beta, window=7, max_wrong=1)
    rule.start(3)
    for n in range(60):
        if n == 23:                                    # a checkpoint, resumed by a new rule
            saved, rule = rule.state(), stopping.Recent(beta, window=7, max_wrong=1)
            assert ("error" in saved) == (beta is not None), "the error window is kept only where read"
            rule.start(3)
            rule.restore(saved)
        got = rule.on_sequence(correct[n], error[n])
        window = slice(max(0, n - 6), n + 1)
        bounded = error[window].mean(axis=0) < beta if beta else True
        want = ((~correct[window]).sum(axis=0) <= 1) & bounded & (n >= 6)
        assert got.tolist() == want.tolist(), n


@pytest.mark.parametrize("beta", [0.6, None])
@pytest.mark.parametrize("p_correct", [0.8, 0.99])
def test_recent_on_many_is_on_sequence_in_a_row(beta, p_correct):
    """Several sequences at once (the compiled path's chunks) decide exactly what one at a time do."""
    rng = np.random.default_rng(1)
    correct, error = rng.random((3, 300)) < p_correct, rng.random((3, 300))
    one, many = (stopping.Recent(beta, window=17, max_wrong=1) for _ in range(2))
    one.start(3), many.start(3)
    n, decided = 0, False
    for k in [1, 5, 16, 17, 3, 30, 64, 2] * 4:
        k = min(k, 300 - n)
        if k == 0:
            break
        got = many.on_many(correct[:, n:n + k], error[:, n:n + k])
        want = np.stack([one.on_sequence(correct[:, n + s], error[:, n + s]) for s in range(k)], axis=1)
        assert got.shape == (3, k) and got.tolist() == want.tolist(), n
        assert many.wrong.tolist() == one.wrong.tolist() and many.n == one.n
        n, decided = n + k, decided or want.any()
    assert n == 300 and decided, "the rule must decide something in this test"
    # trials solved before need not be judged again: where no other one can be, one pass, all False
    rule, twin, pending = stopping.Recent(None, window=4), stopping.Recent(None, window=4), np.array([False, True])
    rule.start(2), twin.start(2)
    answers = []
    for block in ([[1, 1, 1, 1], [1, 1, 1, 0]], [[1, 1, 1], [1, 1, 1]], [[1, 1], [1, 1]]):
        block = np.array(block, dtype=bool)
        got = rule.on_many(block, np.zeros(block.shape), pending)
        want = np.stack([twin.on_sequence(block[:, s], np.zeros(2)) for s in range(block.shape[1])], axis=1)
        assert got[1].tolist() == want[1].tolist() and rule.wrong.tolist() == twin.wrong.tolist()
        answers.append((got, want))
    (got, want) = answers[1]  # trial 1 has a wrong sequence in every window: nothing judged
    assert want[0].all() and not got.any()
    (got, want) = answers[2]  # it leaves the window: judged as one at a time
    assert got.tolist() == want.tolist() == [[True, True], [True, True]]


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


class NaNTask(tasks.Adding):
    """The adding problem with a NaN planted in the 5th sequence of every chunk."""

    def sample(self, rng, n):
        b = super().sample(rng, n)
        b.values[min(4, n - 1), 3, 0] = np.nan
        return b


def test_nan_input_is_reported():
    from lstm97.experiments import ARCHITECTURES
    from lstm97.lstm import LSTM

    with pytest.raises(ValueError, match="training sequence 5 of trial.*NaN"):
        train.train(LSTM(ARCHITECTURES["4-1"]), NaNTask(T=20), lr=0.5, trials=2, max_sequences=50, progress=False)


class Blowup(RNN):
    """An RNN whose second network's weights turn to inf at its 7th training sequence."""

    calls = 0

    def train_step(self, theta, batch, lr):
        theta, loss, y = super().train_step(theta, batch, lr)
        self.calls += 1
        if self.calls == 7:
            theta[1, 0] = np.inf
        return theta, loss, y


def test_divergence_is_reported():
    with pytest.raises(FloatingPointError, match=r"diverged: trial\(s\) \[1\] .* sequence 7 \(learning rate 4.0\)"):
        train.train(Blowup(3, 3, 3), tasks.make("2a", p=2), lr=4.0, trials=3, max_sequences=100, progress=False)


def test_st2_needs_small_test_error_too():
    st1 = small_run(2, max_sequences=3000, stop=stopping.TestSet())
    st2 = small_run(2, max_sequences=3000, stop=stopping.TestSet(max_error=0.02))
    assert st1.stop == "ST1" and st2.stop == "ST2(0.02)"
    for a, b in zip(st1.solved_after, st2.solved_after):
        assert b is None or b >= a


def test_st3_recent_training_sequences():
    rule = stopping.Recent(beta=0.05, window=300)
    run = small_run(2, max_sequences=4000, stop=rule)
    assert run.stop == "ST3(0.05), window 300"
    assert run.success_rate == 1.0
    st1 = small_run(2, max_sequences=4000)
    # ST3 needs 300 consecutive correct training sequences after the net is right: never earlier than ST1 - 300
    assert all(s3 >= s1 - 300 for s1, s3 in zip(st1.solved_after, run.solved_after))
    with pytest.raises(ValueError, match="beta"):
        stopping.Recent(beta=-1)
    errs = np.array(run.train_error)
    assert errs.shape == (len(run.sequences), 2) and errs[-1].max() < errs[0].min()


def test_final_weights_and_evaluation_hook():
    seen = []
    run = small_run(2, on_evaluation=lambda n, theta: seen.append((n, theta.copy())))
    assert [n for n, _ in seen] == run.sequences
    assert run.weights.shape == (2, RNN(3, 3, 3, bias=False).n_params)
    assert np.array_equal(seen[-1][1], run.weights)
    assert "weights" not in run.as_dict()


class Crash(Exception):
    pass


def test_checkpoint_resume_gives_the_uninterrupted_result(tmp_path):
    from lstm97.experiments import ARCHITECTURES
    from lstm97.lstm import LSTM

    def run(**kw):
        return train.train(LSTM(ARCHITECTURES["4-1"]), tasks.make("4", T=20), lr=0.5, trials=2, max_sequences=400,
                           seed=3, eval_every=50, test_size=16, stop=stopping.Recent(0.01, window=100),
                           progress=False, **kw)

    whole = run()
    ckpt = str(tmp_path / "not-yet-made" / "run.ckpt")  # the folder is made when needed

    def crash_at_250(seen, theta):
        if seen == 250:
            raise Crash

    with pytest.raises(Crash):
        run(checkpoint=ckpt, checkpoint_every=0.0, on_evaluation=crash_at_250)
    state, _, _ = checkpoint.load(ckpt)
    assert state["seen"] == 200, "the last checkpoint before the crash"
    resumed = run(checkpoint=ckpt, checkpoint_every=0.0, resume=True)
    assert resumed.test_loss == whole.test_loss and resumed.train_error == whole.train_error
    assert resumed.solved_after == whole.solved_after
    assert np.array_equal(resumed.weights, whole.weights)
    with pytest.raises(ValueError, match="different run"):
        train.train(LSTM(ARCHITECTURES["4-1"]), tasks.make("4", T=20), lr=0.1, trials=2, max_sequences=400,
                    seed=3, eval_every=50, test_size=16, stop=stopping.Recent(0.01, window=100), progress=False,
                    checkpoint=ckpt, resume=True)


@pytest.mark.parametrize("kind", ["rnn-bptt", "rnn-rtrl", "lstm-step", "fast-step", "fast-sequence"])
def test_a_sweep_over_learning_rates_is_one_batch(kind):
    import dataclasses

    from lstm97.experiments import ARCHITECTURES
    from lstm97.fast import FastLSTM
    from lstm97.lstm import LSTM

    cfg = dataclasses.replace(ARCHITECTURES["2a"], n_in=6, n_out=6)
    make = {"rnn-bptt": lambda: RNN(6, 3, 6, bias=False), "rnn-rtrl": lambda: RNN(6, 3, 6, bias=False, algorithm="rtrl"),
            "lstm-step": lambda: LSTM(cfg, update="step"), "fast-step": lambda: FastLSTM(cfg, update="step"),
            "fast-sequence": lambda: FastLSTM(cfg)}[kind]

    def run(lr):
        return train.train(make(), tasks.make("2a", p=5), lr=lr, trials=2, max_sequences=300, seed=4,
                           eval_every=100, test_size=10, stop_when_solved=False, progress=False)

    sweep, fast, slow = run([4.0, 1.0]), run(4.0), run(1.0)
    assert sweep.lr == [4.0, 1.0]
    assert np.allclose(sweep.weights[0], fast.weights[0]) and np.allclose(sweep.weights[1], slow.weights[1])
    assert not np.allclose(fast.weights[1], slow.weights[1])
    with pytest.raises(ValueError, match="one per trial"):
        run([1.0, 2.0, 3.0])


def test_minibatches_average_the_gradients_of_consecutive_sequences():
    from lstm97.experiments import ARCHITECTURES
    from lstm97.lstm import LSTM

    net, task = LSTM(ARCHITECTURES["4-1"], gradient="exact"), tasks.make("4", T=20)
    runs = {}
    for name, learner in (("plain", net), ("size 1", Minibatch(net, 1))):
        runs[name] = train.train(learner, task, lr=0.5, trials=2, max_sequences=300, seed=3, eval_every=100,
                                 test_size=16, stop_when_solved=False, progress=False)
    assert np.array_equal(runs["plain"].weights, runs["size 1"].weights)
    assert runs["plain"].test_loss == runs["size 1"].test_loss

    mb = Minibatch(net, 3)
    rng = np.random.default_rng(0)
    theta = mb.init(rng, 2)
    batches = [task.sample(rng, 2) for _ in range(4)]
    start = theta
    for b in batches[:2]:
        theta, _, _ = mb.train_step(theta, b, 0.5)
        assert np.array_equal(theta, start), "the weights stand still inside a minibatch"
    theta, _, _ = mb.train_step(theta, batches[2], 0.5)
    mean = np.mean([net.gradient(start, b)[1] for b in batches[:3]], axis=0)
    assert np.allclose(theta, start - 0.5 * mean, rtol=0, atol=1e-15)
    assert mb.n == 0 and mb.name.endswith("minibatches of 3")


def test_minibatch_state_resumes(tmp_path):
    from lstm97.experiments import ARCHITECTURES
    from lstm97.lstm import LSTM

    def run(**kw):  # eval_every 50 and size 3: checkpoints fall inside a minibatch
        return train.train(Minibatch(LSTM(ARCHITECTURES["4-1"]), 3), tasks.make("4", T=20), lr=0.5, trials=2,
                           max_sequences=200, seed=3, eval_every=50, test_size=16, stop_when_solved=False,
                           progress=False, **kw)

    whole = run()
    ckpt = str(tmp_path / "run.ckpt")
    cut = run(checkpoint=ckpt, checkpoint_every=0.0, time_limit=0.0)
    assert not cut.finished
    resumed = run(checkpoint=ckpt, checkpoint_every=0.0, resume=True)
    assert np.array_equal(resumed.weights, whole.weights) and resumed.test_loss == whole.test_loss


def test_should_stop_ends_at_that_evaluation_with_a_checkpoint_that_resumes(tmp_path):
    """What a Ctrl-C in `run.run` asks: the run stops at the evaluation where `should_stop()` first
    says so, writes its checkpoint there (whatever `checkpoint_every`), and resumes to the very
    result of a run never stopped."""
    from lstm97.experiments import ARCHITECTURES
    from lstm97.fast import FastLSTM

    def run(**kw):
        return train.train(FastLSTM(ARCHITECTURES["4-1"]), tasks.make("4", T=20), lr=0.5, trials=2,
                           max_sequences=300, seed=4, eval_every=50, test_size=16, stop_when_solved=False,
                           progress=False, **kw)

    whole = run()
    ckpt = str(tmp_path / "run.ckpt")
    asked = iter([False, False, True])
    cut = run(checkpoint=ckpt, checkpoint_every=1e9, should_stop=lambda: next(asked))
    assert not cut.finished and cut.sequences == [50, 100, 150] and (tmp_path / "run.ckpt").exists()
    resumed = run(checkpoint=ckpt, resume=True)
    assert resumed.finished and resumed.sequences == whole.sequences
    assert np.array_equal(resumed.weights, whole.weights) and resumed.test_loss == whole.test_loss


def test_minibatch_needs_a_gradient():
    from lstm97.experiments import ARCHITECTURES
    from lstm97.lstm import LSTM

    with pytest.raises(ValueError, match="update='sequence'"):
        Minibatch(LSTM(ARCHITECTURES["4-1"], update="step"), 4)
    with pytest.raises(ValueError, match="positive integer"):
        Minibatch(LSTM(ARCHITECTURES["4-1"]), 0)


def _changes_only_the_cost(go_on, frozen):
    """`frozen` (freeze_solved) matches `go_on` in everything the paper reports, and its solved
    trials stood still from the evaluation that solved them."""
    assert frozen.freeze_solved and not go_on.freeze_solved
    assert frozen.solved_after == go_on.solved_after
    np.testing.assert_array_equal(frozen.solved_weights, go_on.solved_weights)
    loss_f, loss_g = np.array(frozen.test_loss, dtype=float), np.array(go_on.test_loss, dtype=float)
    frozen_at = []
    for k, s in enumerate(frozen.solved_after):
        if s is None:
            assert np.array_equal(loss_f[:, k], loss_g[:, k])
            continue
        i = next(i for i, n in enumerate(frozen.sequences) if n >= s)  # the evaluation that froze k
        frozen_at.append(i)
        assert np.array_equal(loss_f[:i + 1, k], loss_g[:i + 1, k]), "the same run until solved"
        assert (loss_f[i:, k] == loss_f[i, k]).all(), "then its weights stand still"
        assert all(e[k] is None for e in frozen.train_error[i + 1:]) and frozen.train_error[i][k] is not None
    assert len(set(frozen_at)) > 1, "trials solved at different evaluations, so some were frozen"


def test_freezing_solved_trials_changes_only_the_cost():
    go_on, frozen = small_run(4, seed=2, eval_every=50), small_run(4, seed=2, eval_every=50, freeze_solved=True)
    _changes_only_the_cost(go_on, frozen)
    assert np.array_equal(frozen.weights, frozen.solved_weights), "ST1: frozen at the evaluation that solved it"
    assert frozen.as_dict()["freeze_solved"] is True


def _grown(**kw):
    import dataclasses

    from lstm97 import grow
    from lstm97.experiments import ARCHITECTURES
    from lstm97.fast import FastLSTM

    cfg = dataclasses.replace(ARCHITECTURES["2a"], n_in=6, n_out=6)
    return train.train(grow.Sequential(FastLSTM(cfg), window=50), tasks.make("2a", p=5), lr=1.0, trials=4,
                       max_sequences=3000, seed=2, eval_every=100, test_size=10, stop=stopping.Recent(None, window=200),
                       progress=False, **kw)


def test_freezing_keeps_a_learners_own_memory_per_trial_and_resumes(tmp_path):
    # sequential construction keeps per-network memory (grow.Sequential.select), the rule is ST3-like
    go_on, frozen = _grown(), _grown(freeze_solved=True)
    _changes_only_the_cost(go_on, frozen)
    crash_at = (min(frozen.solved_after) // 100 + 2) * 100  # an evaluation after the first freeze
    ckpt = str(tmp_path / "run.ckpt")

    def crash_after_a_freeze(seen, theta):
        if seen == crash_at:
            raise Crash

    with pytest.raises(Crash):
        _grown(freeze_solved=True, checkpoint=ckpt, checkpoint_every=0.0, on_evaluation=crash_after_a_freeze)
    with pytest.raises(ValueError, match="freeze_solved=True"):
        _grown(checkpoint=ckpt, resume=True)
    resumed = _grown(freeze_solved=True, checkpoint=ckpt, resume=True)
    assert resumed.test_loss == frozen.test_loss and resumed.train_error == frozen.train_error
    np.testing.assert_array_equal(resumed.weights, frozen.weights)
    # a checkpoint written without freezing goes on with it (how the runs begun before it finish)
    with pytest.raises(Crash):
        _grown(checkpoint=ckpt, checkpoint_every=0.0, on_evaluation=crash_after_a_freeze)
    late = _grown(freeze_solved=True, checkpoint=ckpt, resume=True)
    assert late.solved_after == frozen.solved_after
    np.testing.assert_array_equal(late.solved_weights, frozen.solved_weights)


def test_a_run_records_its_sitting():
    run = small_run(2)
    (sitting,) = run.sittings
    assert sitting.keys() == {"started", "ended", "wall_time", "commit", "code_changed", "code_diff_sha256"}
    assert sitting["started"] <= sitting["ended"] and sitting["wall_time"] == run.wall_time > 0
    assert json.loads(json.dumps(run.as_dict()))["sittings"] == [sitting]


def test_a_resumed_run_keeps_every_sitting_with_its_own_code(tmp_path, monkeypatch):
    from lstm97 import provenance

    ckpt = str(tmp_path / "run.ckpt")
    commits = iter(["a" * 40, "b" * 40, "c" * 40])
    monkeypatch.setattr(provenance, "code_state", lambda: {"commit": next(commits), "code_changed": False,
                                                           "code_diff_sha256": None})
    cut = small_run(2, stop_when_solved=False, checkpoint=ckpt, time_limit=0.0)
    assert not cut.finished and len(cut.sittings) == 1 and cut.sittings[0]["ended"] is not None
    resumed = small_run(2, stop_when_solved=False, checkpoint=ckpt, resume=True)
    first, second = resumed.sittings
    assert first["started"] == cut.sittings[0]["started"] and first["wall_time"] <= cut.sittings[0]["wall_time"]
    assert (first["commit"], second["commit"]) == ("a" * 40, "b" * 40)
    assert first["ended"] <= second["started"] <= second["ended"]
    assert resumed.wall_time == pytest.approx(first["wall_time"] + second["wall_time"])
    assert resumed.test_loss == small_run(2, stop_when_solved=False).test_loss
