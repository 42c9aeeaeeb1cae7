"""Each task generator checked against its definition in the paper (Sec. 5), over many seeds."""
import numpy as np
import pytest

from lstm97 import tasks
from lstm97.tasks import reber, temporal_order

SEEDS = range(20)


def rng(seed=0):
    return np.random.default_rng(seed)


# ---------------------------------------------------------------- shared batch invariants

SMALL = {  # every task at a size that keeps the tests fast
    "1": {}, "2a": {"p": 10}, "2b": {"p": 10}, "2c": {"p": 10, "q": 20},
    "3a": {"T": 40, "N": 3}, "3b": {"T": 40, "N": 1}, "3c": {"T": 40, "N": 3},
    "4": {"T": 40}, "5": {"T": 40}, "6a": {}, "6b": {}, "xor": {"T": 40},
    "cerg": {"strings": 3}, "parity": {"T": 40, "spread": 10},
}


@pytest.mark.parametrize("name", list(tasks.TASKS))
def test_batch_invariants(name):
    task = tasks.make(name, **SMALL[name])
    for seed in SEEDS:
        b = task.sample(rng(seed), 16)
        B, T = len(b), b.lengths.max()
        assert b.x.shape == (B, T, task.n_in) and b.y.shape == (B, T, task.n_out)
        assert b.mask.shape == (B, T) and b.mask.dtype == bool
        past_end = np.arange(T)[None, :] >= b.lengths[:, None]
        assert not b.x[past_end].any(), "inputs must be zero past each sequence's end"
        assert not b.mask[past_end].any(), "no error is given past a sequence's end"
        assert not b.y[~b.mask].any(), "targets are zero where no error is given"
        if b.symbols is not None:
            assert ((b.symbols >= 0) == ~past_end).all()
            assert (b.x.sum(axis=2)[~past_end] == 1).all(), "local code: one active unit per step"


@pytest.mark.parametrize("name", list(tasks.TASKS))
def test_same_seed_same_data(name):
    task = tasks.make(name, **SMALL[name])
    a, b = task.sample(rng(7), 8), task.sample(rng(7), 8)
    assert np.array_equal(a.x, b.x) and np.array_equal(a.y, b.y)


@pytest.mark.parametrize("name", list(tasks.TASKS))
def test_criterion_accepts_targets_and_rejects_far_outputs(name):
    task = tasks.make(name, **SMALL[name])
    b = task.sample(rng(3), 32)
    perfect = task.reference(b)                   # for experiment 1: the legal successors most active
    assert task.correct(perfect, b).all()
    off = perfect.copy()
    off[np.arange(len(b)), b.end] += 0.5          # a wrong last output fails every criterion
    if name in ("1", "cerg"):                     # judged by which units are most active
        off[np.arange(len(b)), b.end] = 1.0 - perfect[np.arange(len(b)), b.end]
    assert not task.correct(off, b).any()
    with pytest.raises(ValueError, match="shape"):
        task.correct(perfect[:, :-1], b)


# ---------------------------------------------------------------- experiment 1

def test_reber_strings_are_accepted_and_well_formed():
    g = np.random.default_rng(0)
    for _ in range(500):
        s = reber.reber_string(g)
        assert reber.accepts(s, embedded=False) and s[0] == "B" and s[-1] == "E"
        e = reber.embedded_reber_string(g)
        assert reber.accepts(e)
        assert e[1] in "TP" and e[-2] == e[1] and e[-1] == "E" and len(e) >= 9
        assert reber.accepts(e[2:-2], embedded=False), "the middle is a complete Reber string"


def test_reber_grammar_rejects_non_strings():
    for s in ["BTBPVVETP", "BTBPVVEPE", "BTSSXXTVVE", "BTBPVVET", "", "BPBTXSEPEE", "BTBXSETE"]:
        assert not reber.accepts(s)
    assert reber.accepts("BTBPVVETE") and reber.accepts("BTSSXXTVVE", embedded=False)


def test_reber_choices_are_fair():
    g = np.random.default_rng(1)
    strings = [reber.embedded_reber_string(g) for _ in range(4000)]
    frac_t = np.mean([s[1] == "T" for s in strings])
    assert abs(frac_t - 0.5) < 0.03
    # the shortest inner strings BTXSE and BPVVE each have probability 1/8
    frac_short = np.mean([len(s) == 9 for s in strings])
    assert abs(frac_short - 0.25) < 0.03


def test_legal_successors_and_targets():
    assert reber.legal_successors("BTBPVVETE") == ["TP", "B", "TP", "TV", "PV", "E", "T", "E"]
    task = tasks.EmbeddedReber()
    b = task.encode(["BTBPVVETE"])
    assert "".join(reber.SYMBOLS[i] for i in b.y[0].argmax(axis=1)) == "TBPVVETE"
    legal = tasks.EmbeddedReber(targets="legal").encode(["BTBPVVETE"])
    assert legal.y[0, 0].sum() == 2 and legal.y[0, -1].sum() == 1


def test_reber_sets_follow_the_protocol():
    task = tasks.EmbeddedReber()
    train, test = task.make_sets(rng(4))
    assert len(train) == len(test) == 256
    assert not set(train) & set(test), "test strings exclude the training set"
    b = reber.ReberSets(train, test).sample(rng(5), 50)
    assert set(b.info["strings"]) <= set(train)


def test_reber_criterion_needs_memory_of_the_branch():
    task = tasks.EmbeddedReber()
    b = task.encode(["BTBPVVETE"])
    out = task.reference(b).copy()
    out[0, 6] = [0, 0.5, 0.5, 0, 0, 0, 0]   # unsure between T and P before the last symbol
    assert not task.correct(out, b)[0]


@pytest.mark.parametrize("targets", ["next", "legal"])
def test_reber_compiled_criterion_is_every_step_right(targets):
    """`correct` (compiled) is `step_correct` on every step, ties and NaN outputs included."""
    task = tasks.EmbeddedReber(targets=targets)
    b = task.sample(rng(6), 400)
    out = task.reference(b) + rng(7).normal(0.0, 0.3, b.y.shape)
    out[::7] = np.round(out[::7])                       # ties between legal and other units
    short = int(np.argmin(b.lengths))
    out[5, 2, 3] = out[9, 0, 0] = out[short, -1] = np.nan  # the last: past the shortest string's end
    want = task.step_correct(out, b).all(axis=1)
    assert 0 < want.sum() < len(b) and not want[5] and not want[9]
    assert task.correct(out, b).tolist() == want.tolist()


# ---------------------------------------------------------------- experiment 2

def test_2a_has_two_sequences():
    task = tasks.make("2a", p=10)
    b = task.sample(rng(0), 400)
    seqs = {tuple(s) for s in b.symbols}
    assert seqs == {(task.x, *range(9)), (task.y, *range(9))}
    assert abs(np.mean(b.info["first"] == task.x) - 0.5) < 0.08
    assert (b.y[:, -1].argmax(axis=1) == b.info["first"]).all(), "last target repeats the first symbol"
    assert b.mask.all() and task.scored == "all"


def test_2b_middle_is_random_over_a():
    task = tasks.make("2b", p=10)
    b = task.sample(rng(1), 2000)
    middle = b.symbols[:, 1:]
    assert middle.min() == 0 and middle.max() == 8
    counts = np.bincount(middle.ravel(), minlength=9)
    assert counts.min() > 0.8 * counts.mean()
    assert (b.y[:, -1].argmax(axis=1) == b.info["first"]).all()
    assert task.scored == "end"


def test_2c_follows_the_procedure():
    p, q = 20, 50
    task = tasks.make("2c", p=p, q=q)
    b = task.sample(rng(2), 4000)
    s = b.symbols
    assert (s[:, 0] == task.b).all()
    assert set(s[:, 1]) == {p + 2, p + 3}
    assert (s[np.arange(len(b)), b.end] == task.e).all(), "the last input is the trigger e"
    for row, L in zip(s, b.lengths):
        assert ((row[2:L - 1] >= 0) & (row[2:L - 1] < p)).all(), "distractors are a_1..a_p"
    assert b.lengths.min() >= q + 3
    # full sequence (inputs + final target) has mean q + 13 by the procedure (not the paper's q + 14)
    full = b.lengths + 1
    assert abs(full.mean() - (q + 13)) < 0.5
    target_cls = b.y[np.arange(len(b)), b.end].argmax(axis=1)
    assert (target_cls == s[:, 1] - (p + 2)).all()
    assert b.mask.sum() == len(b)


def test_2c_distractor_frequency():
    p, q = 10, 100
    b = tasks.make("2c", p=p, q=q).sample(rng(3), 500)
    counts = np.bincount(b.symbols[b.symbols >= 0], minlength=p + 4)[:p]
    expected = (b.lengths - 3).sum() / p
    assert np.allclose(counts, expected, rtol=0.1)


# ---------------------------------------------------------------- experiment 3

@pytest.mark.parametrize("variant", "abc")
def test_noise_and_signal(variant):
    T, N = 100, 3
    task = tasks.make("3" + variant, T=T, N=N)
    b = task.sample(rng(4), 3000)
    x = b.x[:, :, 0]
    assert b.lengths.min() >= T and b.lengths.max() <= T + T // 10
    assert len(set(b.lengths)) == T // 10 + 1, "all lengths T..T+T/10 occur"
    sign = np.where(b.info["cls"] == 0, 1.0, -1.0)
    head = x[:, :N]
    if variant == "b":
        assert np.allclose(np.var(head - sign[:, None]), 0.2, rtol=0.1)
    else:
        assert (head == sign[:, None]).all()
    tail = np.concatenate([x[i, N:L] for i, L in enumerate(b.lengths)])
    assert abs(tail.mean()) < 0.01 and abs(tail.var() - 0.2) < 0.01, "noise has variance 0.2"
    end = b.y[np.arange(len(b)), b.end, 0]
    clean = np.array(task.targets)[b.info["cls"]]
    if variant == "c":
        assert task.targets == (0.2, 0.8)
        assert abs(np.var(end - clean) - 0.1) < 0.01, "target noise has variance 0.1"
        assert np.array_equal(task.reference(b)[np.arange(len(b)), b.end, 0], clean)
    else:
        assert np.array_equal(end, clean) and task.targets == (1.0, 0.0)
    assert abs(b.info["cls"].mean() - 0.5) < 0.03


def test_3c_can_keep_input_noise():
    task = tasks.make("3c", T=40, N=3, input_noise=True)
    b = task.sample(rng(5), 200)
    assert not np.isin(b.x[:, :3, 0], [-1.0, 1.0]).all()


# ---------------------------------------------------------------- experiments 4 and 5

@pytest.mark.parametrize("name", ["4", "5"])
def test_marked_pairs(name):
    T = 100
    task = tasks.make(name, T=T)
    for seed in SEEDS:
        b = task.sample(rng(seed), 200)
        value, marker = b.x[..., 0], b.x[..., 1]
        rows = np.arange(len(b))
        assert b.lengths.min() >= T and b.lengths.max() <= T + T // 10
        first, second = b.info["marks"].T
        assert (first < 10).all(), "first mark among the first ten pairs"
        assert (second <= T // 2 - 1).all() and (first != second).all(), "second among the first T/2-1 unmarked"
        assert ((marker == 1).sum(axis=1) == 2).all()
        assert (marker[rows, b.end] == -1).all()
        assert ((marker[:, 0] == -1) | (marker[:, 0] == 1)).all()
        others = np.ones_like(marker, dtype=bool)
        others[rows, first] = others[rows, second] = False
        others[:, 0] = others[rows, b.end] = False
        others &= np.arange(marker.shape[1])[None, :] < b.lengths[:, None]
        assert (marker[others] == 0).all()
        x1, x2 = value[rows, first], value[rows, second]
        end = b.y[rows, b.end, 0]
        if name == "4":
            assert np.allclose(end, 0.5 + (x1 + x2) / 4.0)
            assert (end >= 0).all() and (end <= 1).all()
            assert (value >= -1).all() and (value <= 1).all()
        else:
            assert np.allclose(end, x1 * x2)
            assert (value >= 0).all() and (value <= 1).all()
        marked_first = marker[:, 0] == 1
        assert (value[marked_first, 0] == task.first_value).all()


def test_mark_positions_are_uniform():
    task = tasks.make("4", T=40)
    b = task.sample(rng(6), 20000)
    first, second = b.info["marks"].T
    assert np.allclose(np.bincount(first, minlength=10) / len(b), 0.1, atol=0.01)
    counts = np.bincount(second, minlength=20)
    assert counts.min() > 0.85 * counts.mean() and counts.max() < 1.15 * counts.mean()
    assert task.min_lag == 20


# ---------------------------------------------------------------- experiment 6

@pytest.mark.parametrize("name,k", [("6a", 2), ("6b", 3)])
def test_temporal_order(name, k):
    task = tasks.make(name)
    windows = task.windows
    b = task.sample(rng(7), 8000)
    s, rows = b.symbols, np.arange(len(b))
    assert (s[:, 0] == temporal_order.E).all() and (s[rows, b.end] == temporal_order.B).all()
    assert b.lengths.min() >= 100 and b.lengths.max() <= 110
    xy = (s == 6) | (s == 7)
    assert (xy.sum(axis=1) == k).all(), f"exactly {k} X/Y symbols"
    pos = b.info["positions"]
    for j, (lo, hi) in enumerate(windows):
        assert (pos[:, j] >= lo).all() and (pos[:, j] <= hi).all()
    bits = s[rows[:, None], pos - 1] - 6
    assert (b.info["cls"] == bits @ (2 ** np.arange(k)[::-1])).all()
    assert (b.y[rows, b.end].argmax(axis=1) == b.info["cls"]).all()
    freq = np.bincount(b.info["cls"], minlength=2 ** k) / len(b)
    assert np.allclose(freq, 1 / 2 ** k, atol=0.02), "classes are balanced"
    other = (~xy) & (s >= 0)
    other[:, 0] = False
    other[rows, b.end] = False
    assert np.isin(s[other], [2, 3, 4, 5]).all()


def test_temporal_order_class_names():
    assert tasks.make("6a").class_names == "QRSU"
    assert tasks.make("6b").class_names[0b011] == "U"


def test_min_lags_match_table_10_where_conventions_agree():
    assert tasks.make("4", T=1000).min_lag == 500
    assert tasks.make("6a").min_lag == 40
    assert tasks.make("6b").min_lag == 24


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("name,params,match", [
    ("2a", {"p": 1}, "p"),
    ("2a", {"p": -5}, "p"),
    ("2c", {"p": 10, "q": 0}, "q"),
    ("2c", {"p": 0}, "p"),
    ("2c", {"p_trigger": 0.0}, "p_trigger"),
    ("3a", {"T": 10, "N": 10}, "N"),
    ("3a", {"T": -1}, "T"),
    ("3b", {"N": 2.5}, "integer"),
    ("4", {"T": 10}, "T"),
    ("5", {"T": "100"}, "integer"),
    ("6a", {"length": (50, 40)}, "length"),
    ("6a", {"length": (55, 60)}, "window"),
    ("1", {"targets": "soft"}, "targets"),
    ("4", {"lag": 3}, "bad parameters"),
])
def test_bad_parameters_raise_clear_errors(name, params, match):
    with pytest.raises(ValueError, match=match):
        tasks.make(name, **params)


def test_unknown_task_and_bad_sampling_arguments():
    with pytest.raises(ValueError, match="unknown task 'adding'.*2a"):
        tasks.make("adding")
    task = tasks.make("4")
    with pytest.raises(ValueError, match="at least 1"):
        task.sample(rng(), 0)
    with pytest.raises(TypeError, match="Generator"):
        task.sample(42, 3)
    with pytest.raises(TypeError, match="Generator"):
        tasks.make("1").make_sets(np.random.RandomState(0))
    with pytest.raises(ValueError, match="not an embedded Reber string"):
        tasks.make("1").encode(["BTE"])
    with pytest.raises(ValueError, match="windows"):
        tasks.TemporalOrder(windows=((10, 20), (15, 30)))


@pytest.mark.parametrize("name", list(tasks.TASKS))
def test_lags_are_bounded_by_min_lag(name):
    task = tasks.make(name, **SMALL[name])
    b = task.sample(rng(8), 3000)
    lags = task.lags(b)
    assert lags.shape == (len(b),)
    assert lags.min() == task.min_lag, "min_lag is the smallest lag that occurs"
    assert (lags < b.lengths).all()


@pytest.mark.parametrize("name", list(tasks.TASKS))
def test_take_and_stack_round_trip(name):
    from lstm97.tasks.base import stack

    task = tasks.make(name, **SMALL[name])
    b = task.sample(rng(9), 6)
    parts = [b.take(i) for i in range(len(b))]
    assert all(len(p) == 1 and p.y.shape[1] == p.lengths[0] for p in parts), "a single sequence is trimmed"
    again = stack(parts)
    for field in ("y", "mask", "lengths", "x", "reference"):
        a, c = getattr(b, field), getattr(again, field)
        assert (a is None and c is None) or np.array_equal(a, c), field
    for k in b.info:
        assert np.array_equal(np.asarray(b.info[k]), np.asarray(again.info[k])), k
    assert task.correct(task.reference(again), again).all()


# ---------------------------------------------------------------- continual embedded Reber (chapter 14)

def test_continual_reber_streams_strings_without_ends():
    task = tasks.make("cerg", strings=4)
    b = task.sample(rng(11), 5)
    for i, stream in enumerate(b.info["streams"]):
        assert len(stream) == 4 and all(reber.accepts(s) for s in stream)
        text = "".join(stream)
        n = b.lengths[i]
        assert n == len(text) - 1
        assert "".join(reber.SYMBOLS[k] for k in b.symbols[i, :n]) == text[:-1]
        assert "".join(reber.SYMBOLS[k] for k in b.y[i, :n].argmax(axis=1)) == text[1:]
        legal = [reber.legal_successors(s) + ["B"] for s in stream]
        legal = [a for row in legal for a in row][:-1]
        got = ["".join(reber.SYMBOLS[k] for k in np.flatnonzero(r)) for r in b.reference[i, :n]]
        assert got == ["".join(sorted(a, key=reber.SYMBOLS.index)) for a in legal]
        ends = np.cumsum([len(s) for s in stream])[:-1] - 1          # each inner string's final E
        assert all(got[e] == "B" for e in ends), "after an E comes the next string's B"
    assert task.lags(b).min() >= task.min_lag


def test_continual_reber_first_error_counts_correct_steps():
    task = tasks.make("cerg", strings=3)
    b = task.sample(rng(12), 4)
    perfect = task.reference(b)
    assert np.array_equal(task.first_error(perfect, b), b.lengths)
    bad = perfect.copy()
    wrong_at = [0, 5, 17, int(b.lengths[3]) - 1]
    for i, t in enumerate(wrong_at):
        bad[i, t] = 1.0 - perfect[i, t]
    assert task.first_error(bad, b).tolist() == wrong_at
    with pytest.raises(ValueError, match="strings"):
        tasks.make("cerg", strings=0)
    with pytest.raises(ValueError, match="embedded Reber"):
        task.encode([["BTBPVVETE", "BTSE"]])


def test_continual_reber_test_streams_have_their_own_length():
    task = tasks.make("cerg", strings=2, test_strings=7)
    assert [len(s) for s in task.sample(rng(13), 3).info["streams"]] == [2, 2, 2]
    assert [len(s) for s in task.test_set(rng(13), 3).info["streams"]] == [7, 7, 7]
    assert tasks.make("cerg", strings=5).test_strings == 5
    with pytest.raises(ValueError, match="test_strings"):
        tasks.make("cerg", test_strings=0)


def _per_sequence_2c(task, rng, n):
    """Task 2c as the recorded runs drew it: one `integers` call per sequence, from Python."""
    cls = (rng.random(n) < 0.5).astype(int)
    extra = rng.geometric(task.p_trigger, size=n) - 1
    rows = [np.concatenate([[task.b, task.p + 2 + c], rng.integers(0, task.p, size=task.q + k), [task.e]])
            for c, k in zip(cls, extra)]
    return tasks.base.pad(rows, -1), cls


def _per_sequence_6(task, rng, n):
    """Task 6a/6b's symbols as the recorded runs drew them."""
    lengths = rng.integers(task.length[0], task.length[1] + 1, size=n)
    pos = np.stack([rng.integers(lo, hi + 1, size=n) - 1 for lo, hi in task.windows], axis=1)
    bits = rng.integers(0, 2, size=(n, len(task.windows)))
    rows = []
    for i in range(n):
        s = rng.integers(2, 6, size=lengths[i])
        s[0], s[-1] = temporal_order.E, temporal_order.B
        s[pos[i]] = temporal_order.X + bits[i]
        rows.append(s)
    return tasks.base.pad(rows, -1)


@pytest.mark.parametrize("seed", range(6))
def test_compiled_draws_are_the_recorded_streams(seed):
    """The generators lay a chunk out in compiled code, drawing each sequence's run there, and a
    recorded row reruns only if they are the very numbers the per-sequence Python loop drew,
    leaving the generator in the very same state; the target is the class, at the end alone."""
    for task in (tasks.make("2c", p=50, q=50), tasks.make("2c", p=1000, q=1000), tasks.make("2c", p=3, q=1),
                 tasks.make("6a"), tasks.make("6b")):
        for n in (1, 7, 64):
            a, b = np.random.default_rng(seed), np.random.default_rng(seed)
            batch = task.sample(a, n)
            if task.name == "2c":
                symbols, cls = _per_sequence_2c(task, b, n)
                assert (batch.info["cls"] == cls).all()
            else:
                symbols = _per_sequence_6(task, b, n)
            assert batch.symbols.dtype == symbols.dtype and np.array_equal(batch.symbols, symbols), (task, n)
            assert a.bit_generator.state == b.bit_generator.state
            assert np.array_equal(batch.mask, tasks.base.end_mask(batch.lengths))
            assert np.array_equal(batch.y[batch.mask], np.eye(task.n_out)[batch.info["cls"]])
            assert batch.y.sum() == n
