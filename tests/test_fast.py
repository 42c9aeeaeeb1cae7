"""The compiled fast path gives the reference's numbers: outputs, loss, gradient and updated
weights of `FastLSTM` against `LSTM` + `gradients.truncated`, and whole training runs."""
import dataclasses

import numpy as np
import pytest

from lstm97 import backend, gradients, stopping, tasks, train
from lstm97.experiments import ARCHITECTURES
from lstm97.fast import FastLSTM
from lstm97.lstm import LSTM, LSTMConfig
from lstm97.tasks.base import Batch

RTOL, ATOL = 1e-10, 1e-13

NETS = {
    "F, 2 blocks of 2, all biased": LSTMConfig(3, 2, blocks=2, cells=2, bias="all", init_range=0.8),
    "F, 3 blocks of 1, gates biased": LSTMConfig(3, 2, blocks=3, cells=1, bias="gates", init_range=0.8),
    "F, 1 block of 3, hidden biased": LSTMConfig(3, 1, blocks=1, cells=3, bias="hidden", init_range=0.8),
    "F, no output gates, no bias": LSTMConfig(3, 2, blocks=2, cells=1, output_gates=False, bias="none", init_range=0.8),
    "F, g1 and id, 2 blocks of 3, gates biased": LSTMConfig(4, 2, blocks=2, cells=3, bias="gates", g="g1", h="id",
                                                            init_range=0.8),
    "B, 2a-style (g1, id)": LSTMConfig(3, 3, connectivity="B", output_gates=False, bias="none", g="g1", h="id",
                                       init_range=0.8),
    "B, 2 blocks of 2, gated, all biased": LSTMConfig(3, 2, blocks=2, cells=2, connectivity="B", bias="all",
                                                      init_range=0.8),
    "B, 2 blocks of 2, no output gates, hidden biased": LSTMConfig(4, 2, blocks=2, cells=2, connectivity="B",
                                                                   output_gates=False, bias="hidden", init_range=0.8),
}


def padded_batch(rng, n_in, n_out, onehot, lengths=(9, 6, 4), every_step=True):
    """Sequences of different lengths padded to the longest; targets at random steps (and
    always at each sequence's last step), inputs zero (dense) or -1 (symbols) past the ends."""
    lengths = np.array(lengths)
    B, T = len(lengths), int(lengths.max())
    inside = np.arange(T)[None, :] < lengths[:, None]
    mask = inside & (rng.random((B, T)) < 0.5) if every_step else np.zeros((B, T), bool)
    mask[np.arange(B), lengths - 1] = True
    y = rng.uniform(size=(B, T, n_out)) * mask[..., None]
    if onehot:
        return Batch(y=y, mask=mask, lengths=lengths, n_in=n_in,
                     symbols=np.where(inside, rng.integers(0, n_in, (B, T)), -1))
    x = rng.normal(size=(B, T, n_in)) * inside[..., None]
    x[0, -1, 0] = 0.0  # an exact zero inside a sequence
    return Batch(y=y, mask=mask, lengths=lengths, n_in=n_in, values=x)


def close(a, b):
    return np.allclose(a, b, rtol=RTOL, atol=ATOL)


def case(config, onehot, seed=0, lengths=(9, 6, 4)):
    rng = np.random.default_rng(seed)
    net = LSTM(config)
    theta = net.init(rng, len(lengths))
    return net, theta, padded_batch(rng, config.n_in, config.n_out, onehot, lengths)


@pytest.mark.parametrize("onehot", [False, True], ids=["dense", "one-hot"])
@pytest.mark.parametrize("name", list(NETS))
def test_forward_loss_and_gradient_match_the_reference(name, onehot):
    net, theta, batch = case(NETS[name], onehot)
    fast = FastLSTM(net.config)
    assert fast.layout.slices == net.layout.slices and fast.n_params == net.n_params
    l1, g1, y1 = gradients.truncated(net, theta, batch)
    l2, g2, y2 = fast.truncated(theta, batch)
    assert close(l1, l2) and close(y1, y2) and close(g1, g2), np.abs(g1 - g2).max()
    assert np.abs(g1).max() > 1e-3, "the case must exercise the gradient"
    assert close(net.forward(theta, batch.x)[1], fast.forward(theta, batch.x)[1])
    if onehot:  # the symbols themselves, without building the one-hot array
        assert close(y1, fast.forward(theta, batch.symbols)[1])


@pytest.mark.parametrize("onehot", [False, True], ids=["dense", "one-hot"])
@pytest.mark.parametrize("update", ["sequence", "step"])
@pytest.mark.parametrize("name", list(NETS))
def test_training_step_matches_the_reference(name, update, onehot):
    net, theta, batch = case(NETS[name], onehot, seed=1)
    net = LSTM(net.config, update=update)
    fast = FastLSTM(net.config, update=update)
    t1, l1, y1 = net.train_step(theta, batch, lr=0.7)
    t2, l2, y2 = fast.train_step(theta, batch, lr=0.7)
    assert close(t1, t2) and close(l1, l2) and close(y1, y2), np.abs(t1 - t2).max()
    assert not np.allclose(t2, theta) and np.array_equal(theta, net.init(np.random.default_rng(1), 3))


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_every_architecture_of_table_10(name):
    """The paper's nets, 2c's 1004 locally coded inputs included, one-hot and dense (and Part IV's
    nets with the 1997 cell; the fast path refuses the later variants)."""
    config = ARCHITECTURES[name]
    for update in ("sequence", "step"):
        for onehot in (True, False):
            net, theta, batch = case(config, onehot, seed=2, lengths=(7, 5))
            net, fast = LSTM(config, update=update), FastLSTM(config, update=update)
            t1, l1, y1 = net.train_step(theta, batch, lr=0.5)
            t2, l2, y2 = fast.train_step(theta, batch, lr=0.5)
            assert close(t1, t2) and close(l1, l2) and close(y1, y2), (update, onehot)


def test_one_network_and_a_single_step():
    config = NETS["F, 2 blocks of 2, all biased"]
    net, theta, batch = case(config, False, lengths=(1,))
    fast = FastLSTM(config)
    for lr in (None, 0.3):
        for a, b in zip(gradients.truncated(net, theta[:1], batch, lr=lr), fast.truncated(theta[:1], batch, lr=lr)):
            assert close(a, b)


def test_serial_and_parallel_kernels_agree():
    config = NETS["F, 1 block of 3, hidden biased"]
    _, theta, batch = case(config, True)
    a = FastLSTM(config, parallel=False).truncated(theta, batch)
    b = FastLSTM(config, parallel=True).truncated(theta, batch)
    assert all(np.array_equal(u, v) for u, v in zip(a, b))


def test_inputs_are_checked():
    config = NETS["F, 2 blocks of 2, all biased"]
    _, theta, batch = case(config, True)
    fast = FastLSTM(config)
    with pytest.raises(ValueError, match="symbols must lie in"):
        fast.forward(theta, batch.symbols + config.n_in)
    with pytest.raises(ValueError, match="theta must have shape"):
        fast.forward(theta[:, :-1], batch.symbols)
    with pytest.raises(ValueError, match="inputs must have shape"):
        fast.forward(theta, batch.x[:, :, :-1])
    with pytest.raises(TypeError, match="takes arrays, got list for theta"):
        fast.forward(theta.tolist(), batch.x)


def test_the_cupy_backend_gives_the_same_numbers_in_device_arrays(monkeypatch):
    """Under the CuPy backend (the stand-in of tests/standins, which refuses implicit conversion to
    NumPy) the compiled CPU path takes and returns device arrays, with the host's numbers."""
    from test_cupy_standin import cp

    config = NETS["F, 2 blocks of 2, all biased"]
    for onehot in (True, False):
        _, theta, batch = case(config, onehot)
        host = FastLSTM(config).train_step(theta, batch, 0.1)
        monkeypatch.setattr(backend, "_active", cp)
        assert backend.name() == "cupy"
        on_device = Batch(**{k: cp.asarray(v) if isinstance(v, np.ndarray) and k != "lengths" else v
                             for k, v in vars(batch).items()})
        result = FastLSTM(config).train_step(cp.asarray(theta), on_device, 0.1)
        assert all(isinstance(r, cp.ndarray) and np.array_equal(r.get(), h) for r, h in zip(result, host))
        monkeypatch.undo()


def compare_runs(make, task, **params):
    ref = train.train(make(LSTM), task, progress=False, **params)
    fast = train.train(make(FastLSTM), task, progress=False, **params)
    assert fast.solved_after == ref.solved_after
    assert fast.sequences == ref.sequences
    for field in ("test_loss", "train_error"):
        assert np.allclose(getattr(fast, field), getattr(ref, field), rtol=1e-9, atol=1e-14), field
    assert np.allclose(fast.weights, ref.weights, rtol=1e-9, atol=1e-12)
    return ref


def test_same_training_trajectory_on_the_adding_problem():
    ref = compare_runs(lambda L: L(ARCHITECTURES["4-1"]), tasks.make("4", T=20), lr=0.5, trials=2,
                       max_sequences=300, seed=3, eval_every=50, test_size=16, stop=stopping.Recent(0.05, window=50))
    assert ref.test_loss[-1] != ref.test_loss[0]


def test_same_training_trajectory_on_2a_with_online_updates():
    config = dataclasses.replace(ARCHITECTURES["2a"], n_in=6, n_out=6)
    ref = compare_runs(lambda L: L(config, update="step"), tasks.make("2a", p=5), lr=4.0, trials=3,
                       max_sequences=400, seed=1, eval_every=50, test_size=20)
    assert all(s is not None for s in ref.solved_after), "the trials must solve, so solved_after is compared"


def test_later_variants_are_refused_with_the_fix():
    for later in (dict(forget_gate=True), dict(peepholes=True), dict(recurrent="cells"), dict(g="tanh")):
        with pytest.raises(ValueError, match=r"only the 1997 cell, not .*use lstm97\.lstm\.LSTM"):
            FastLSTM(LSTMConfig(3, 2, **later))


@pytest.mark.parametrize("onehot", [False, True], ids=["dense", "one-hot"])
@pytest.mark.parametrize("update", ["sequence", "step"])
@pytest.mark.parametrize("parallel", [False, True])
def test_train_many_is_train_step_k_times(update, onehot, parallel):
    """k sequences per network in one call: bit for bit the k calls of `train_step` it replaces,
    each network on its own rows b*k … b*k+k-1, sequences of different lengths."""
    config, B, k = NETS["F, 2 blocks of 2, all biased"], 3, 4
    rng = np.random.default_rng(5)
    fast = FastLSTM(config, update=update, parallel=parallel)
    theta = fast.init(rng, B)
    many = padded_batch(rng, config.n_in, config.n_out, onehot, lengths=rng.integers(2, 12, B * k))
    t, losses = theta, []
    for s in range(k):
        t, loss, y = fast.train_step(t, many.take(np.arange(B) * k + s), lr=0.7)
        losses.append(loss)
    t2, l2, y2 = fast.train_many(theta, many, k, lr=0.7)
    assert np.array_equal(t, t2) and np.array_equal(np.array(losses).T, l2) and not np.array_equal(t2, theta)
    assert y2.shape == (B * k, many.y.shape[1], config.n_out)
    with pytest.raises(ValueError, match="must have shape"):
        fast.train_many(theta, many.take(np.arange(B * k - 1)), k, lr=0.7)


def test_training_many_sequences_per_call_gives_the_same_run():
    """`train` hands the compiled kernel a chunk of sequences per call (`trains_many`): the run
    is the one trained a sequence at a time, to the bit, with ST3 solving trials inside a chunk
    (their solved weights: trained again up to that sequence)."""
    config = dataclasses.replace(ARCHITECTURES["2a"], n_in=6, n_out=6)
    runs = []
    for many in (False, True):
        net = FastLSTM(config, update="step", parallel=False)
        net.trains_many = many
        runs.append(train.train(net, tasks.make("2a", p=5), lr=4.0, trials=3, max_sequences=600, seed=1, eval_every=100,
                                test_size=20, stop=stopping.Recent(None, window=30), progress=False,
                                freeze_solved=True))
    a, b = runs
    assert any(s is not None and s % 64 for s in a.solved_after), "a trial must be solved inside a chunk"
    assert a.solved_after == b.solved_after and a.test_loss == b.test_loss and a.train_error == b.train_error
    assert np.array_equal(a.weights, b.weights)
    assert np.array_equal(a.solved_weights, b.solved_weights, equal_nan=True)


def test_divergence_inside_a_chunk_names_the_trial_and_the_sequence():
    class Blowup(FastLSTM):
        def train_many(self, theta, batch, k, lr):
            theta, loss, y = super().train_many(theta, batch, k, lr)
            loss[1, 4] = np.inf
            return theta, loss, y

    net = Blowup(dataclasses.replace(ARCHITECTURES["2a"], n_in=3, n_out=3), parallel=False)
    with pytest.raises(FloatingPointError, match=r"diverged: trial\(s\) \[1\] .* sequence 5 \(learning rate 1.0\)"):
        train.train(net, tasks.make("2a", p=2), lr=1.0, trials=3, max_sequences=100, progress=False)


@pytest.mark.parametrize("onehot", [False, True], ids=["dense", "one-hot"])
def test_forward_stops_at_each_sequence_end(onehot):
    """With `lengths`, each sequence runs its own steps only: the same outputs on them as the full
    run (and the reference's), zeros past them."""
    net, theta, batch = case(NETS["B, 2 blocks of 2, gated, all biased"], onehot, seed=3)
    fast, x = FastLSTM(net.config), batch.symbols if onehot else batch.values
    full, own = fast.forward(theta, x)[1], fast.forward(theta, x, batch.lengths)[1]
    inside = np.arange(x.shape[1])[None, :] < batch.lengths[:, None]
    assert np.array_equal(own[inside], full[inside]) and (own[~inside] == 0).all()
    assert close(own[inside], net.forward(theta, batch.x, batch.lengths)[1][inside])


@pytest.mark.parametrize("onehot", [False, True], ids=["dense", "one-hot"])
def test_forward_many_reads_each_networks_weights_in_place(onehot):
    """k sequences per network, its weights not copied: the very outputs of `forward` with them
    copied to every row (the reference learner's way, `Learner.forward_many`)."""
    net, _, batch = case(NETS["B, 2 blocks of 2, gated, all biased"], onehot, seed=4, lengths=(9, 6, 4, 7, 8, 2))
    theta = net.init(np.random.default_rng(5), 2)
    fast, x = FastLSTM(net.config), batch.symbols if onehot else batch.values
    for lengths in (None, batch.lengths):
        got = fast.forward_many(theta, x, 3, lengths)[1]
        assert np.array_equal(got, fast.forward(np.repeat(theta, 3, axis=0), x, lengths)[1])
        inside = np.arange(x.shape[1])[None, :] < (np.full((6, 1), x.shape[1]) if lengths is None else lengths[:, None])
        assert close(got[inside], net.forward_many(theta, batch.x, 3, lengths)[1][inside])
    with pytest.raises(ValueError, match=r"lengths must have shape \(B=6,\)"):
        fast.forward_many(theta, x, 3, batch.lengths[:3])


@pytest.mark.parametrize("row, task", [("6a", tasks.make("6a")), ("2c-1", tasks.make("2c", p=50, q=50)),
                                       ("1-1", tasks.make("1"))])
def test_the_stacked_test_is_each_network_on_its_own_test_set(row, task):
    """`evaluation.evaluate` runs every network's test set stacked, in pieces (`evaluation.LIMIT`);
    each network's numbers are those of its test set alone, by the reference, and those of the
    definitions: the loss, the criterion and the errors of each sequence over all its steps."""
    from lstm97 import evaluation

    ref = LSTM(ARCHITECTURES[row])
    theta = ref.init(np.random.default_rng(0), 3)
    tests = [task.sample(np.random.default_rng(k), 40) for k in range(3)]
    alone = [evaluation.evaluate(ref, theta[k:k + 1], task, tests[k:k + 1], squared=True) for k in range(3)]
    for k, (b, got) in enumerate(zip(tests, alone)):
        y = ref.forward(np.repeat(theta[k:k + 1], len(b), axis=0), b.x)[1]
        sq, ab = evaluation.sequence_errors(y, b, task.reference(b))
        want = (b.loss(y).mean(), (~task.correct(y, b)).sum(), ab.mean(), sq.mean())
        assert got[1][0] == want[1] and all(close(g[0], w) for g, w in zip(got, want)), k
    T = max(t.y.shape[1] for t in tests) * task.n_out
    for learner in (FastLSTM(ref.config), ref):
        # all at once; 80 sequences per call in 8 blocks of 10; 7 per call, cutting across networks
        for limit, calls in ((1 << 22, [(3, 40)]), (2 * 40 * T, [(8, 10), (4, 10)]), (7 * T, None)):
            old = evaluation.LIMIT
            evaluation.LIMIT = limit
            try:
                layout = [(len(nets), k) for _, nets, k, *_ in evaluation.Stacked(tests, theta.shape[1]).parts]
                stacked = evaluation.evaluate(learner, theta, task, tests, squared=True)
            finally:
                evaluation.LIMIT = old
            if calls is None:  # at most 7 sequences per call (fewer where their weights take more room)
                calls = [(n, 1) for n, _ in layout]
                assert sum(n for n, _ in layout) == 120 and max(n for n, _ in layout) <= 7
            assert layout == calls, (limit, layout)
            for k in range(3):
                assert stacked[1][k] == alone[k][1][0]
                assert all(close(a[k], b[0]) for a, b in zip(stacked, alone[k]))
    with pytest.raises(ValueError, match="one test set of one size per network"):
        evaluation.evaluate(ref, theta, task, tests[:2])


SPECIALIZED = ["F, 2 blocks of 2, all biased", "F, no output gates, no bias", "B, 2a-style (g1, id)"]


@pytest.mark.parametrize("name", SPECIALIZED)
@pytest.mark.parametrize("onehot", [False, True], ids=["dense", "one-hot"])
@pytest.mark.parametrize("update", ["sequence", "step"])
def test_kernel_compiled_for_a_topology_gives_the_same_bits(name, onehot, update):
    """`kernel.specialized`: the topology compiled in as constants changes the speed, not one bit of
    the weights, losses or outputs of `train_many` and `forward_many` (one thread here; both drivers
    run the same `_run_many`, checked on two threads below)."""
    config, B, k = NETS[name], 3, 4
    rng = np.random.default_rng(11)
    generic, own = (FastLSTM(config, update=update, parallel=False, specialize=s) for s in (False, True))
    theta = generic.init(rng, B)
    many = padded_batch(rng, config.n_in, config.n_out, onehot, lengths=rng.integers(2, 12, B * k))
    a, b = generic.train_many(theta, many, k, lr=0.7), own.train_many(theta, many, k, lr=0.7)
    assert all(np.array_equal(x, y) for x, y in zip(a, b)) and not np.array_equal(a[0], theta)
    inputs = many.symbols if onehot else many.values
    assert np.array_equal(generic.forward_many(theta, inputs, k, many.steps)[1], own.forward_many(theta, inputs, k, many.steps)[1])
    assert own.generic_seconds == 0.0 < generic.generic_seconds


def test_a_long_run_moves_to_the_specialized_kernel(monkeypatch):
    """specialize="auto": the generic kernel until it has taken `TIER_UP` seconds, then the one compiled
    for the topology (on two threads here), and a run gives the same bits either way."""
    from lstm97 import fast as fast_module
    monkeypatch.setattr(fast_module, "TIER_UP", 1e-9)
    config = NETS[SPECIALIZED[0]]
    rng = np.random.default_rng(12)
    auto, generic = FastLSTM(config), FastLSTM(config, specialize=False)
    theta = auto.init(rng, 4)
    many = padded_batch(rng, config.n_in, config.n_out, False, lengths=rng.integers(2, 12, 4 * 8))
    t_auto, t_generic = theta, theta
    for _ in range(3):
        t_auto, l_auto, _ = auto.train_many(t_auto, many, 8, lr=0.3)
        t_generic, l_generic, _ = generic.train_many(t_generic, many, 8, lr=0.3)
        assert np.array_equal(t_auto, t_generic) and np.array_equal(l_auto, l_generic)
    after_first = auto.generic_seconds
    assert after_first > 0 and auto.generic_seconds == after_first  # the 2nd and 3rd calls ran specialized
    with pytest.raises(ValueError, match="specialize must be"):
        FastLSTM(config, specialize="yes")
