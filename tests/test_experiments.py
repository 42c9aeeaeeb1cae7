"""The protocols (lstm97.experiments): Table 10 against the spec, every row's net and task, the
reduced scales, the competitors and the variants."""
import pytest

from lstm97 import experiments
from lstm97.lstm import LSTM
from lstm97.rnn import RNN
from lstm97.stopping import Recent

# Table 10 as the spec (lstm97-spec.md, Sec. 5.7) gives it, copied verbatim: the one copy that
# experiments.ARCHITECTURES and the protocols' learning rates are checked against.
SPEC_TABLE_10 = """
| Task | p | lag | b | s | in | out | w | c | ogb | igb | bias | h | g | α |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
| 1-1 | 9 | 9 | 4 | 1 | 7 | 7 | 264 | F | −1,−2,−3,−4 | r | ga | h1 | g2 | 0.1 |
| 1-2 | 9 | 9 | 3 | 2 | 7 | 7 | 276 | F | −1,−2,−3 | r | ga | h1 | g2 | 0.1 |
| 1-3 | 9 | 9 | 3 | 2 | 7 | 7 | 276 | F | −1,−2,−3 | r | ga | h1 | g2 | 0.2 |
| 1-4 | 9 | 9 | 4 | 1 | 7 | 7 | 264 | F | −1,−2,−3,−4 | r | ga | h1 | g2 | 0.5 |
| 1-5 | 9 | 9 | 3 | 2 | 7 | 7 | 276 | F | −1,−2,−3 | r | ga | h1 | g2 | 0.5 |
| 2a | 100 | 100 | 1 | 1 | 101 | 101 | 10504 | B | no og | none | none | id | g1 | 1.0 |
| 2b | 100 | 100 | 1 | 1 | 101 | 101 | 10504 | B | no og | none | none | id | g1 | 1.0 |
| 2c-1 | 50 | 50 | 2 | 1 | 54 | 2 | 364 | F | none | none | none | h1 | g2 | 0.01 |
| 2c-2 | 100 | 100 | 2 | 1 | 104 | 2 | 664 | F | none | none | none | h1 | g2 | 0.01 |
| 2c-3 | 200 | 200 | 2 | 1 | 204 | 2 | 1264 | F | none | none | none | h1 | g2 | 0.01 |
| 2c-4 | 500 | 500 | 2 | 1 | 504 | 2 | 3064 | F | none | none | none | h1 | g2 | 0.01 |
| 2c-5 | 1000 | 1000 | 2 | 1 | 1004 | 2 | 6064 | F | none | none | none | h1 | g2 | 0.01 |
| 2c-6 | 1000 | 1000 | 2 | 1 | 504 | 2 | 3064 | F | none | none | none | h1 | g2 | 0.01 |
| 2c-7 | 1000 | 1000 | 2 | 1 | 204 | 2 | 1264 | F | none | none | none | h1 | g2 | 0.01 |
| 2c-8 | 1000 | 1000 | 2 | 1 | 104 | 2 | 664 | F | none | none | none | h1 | g2 | 0.01 |
| 2c-9 | 1000 | 1000 | 2 | 1 | 54 | 2 | 364 | F | none | none | none | h1 | g2 | 0.01 |
| 3a | 100 | 100 | 3 | 1 | 1 | 1 | 102 | F | −2,−4,−6 | −1,−3,−5 | b1 | h1 | g2 | 1.0 |
| 3b | 100 | 100 | 3 | 1 | 1 | 1 | 102 | F | −2,−4,−6 | −1,−3,−5 | b1 | h1 | g2 | 1.0 |
| 3c | 100 | 100 | 3 | 1 | 1 | 1 | 102 | F | −2,−4,−6 | −1,−3,−5 | b1 | h1 | g2 | 0.1 |
| 4-1 | 100 | 50 | 2 | 2 | 2 | 1 | 93 | F | r | −3,−6 | all | h1 | g2 | 0.5 |
| 4-2 | 500 | 250 | 2 | 2 | 2 | 1 | 93 | F | r | −3,−6 | all | h1 | g2 | 0.5 |
| 4-3 | 1000 | 500 | 2 | 2 | 2 | 1 | 93 | F | r | −3,−6 | all | h1 | g2 | 0.5 |
| 5 | 100 | 50 | 2 | 2 | 2 | 1 | 93 | F | r | r | all | h1 | g2 | 0.1 |
| 6a | 100 | 40 | 2 | 2 | 8 | 4 | 156 | F | r | −2,−4 | all | h1 | g2 | 0.5 |
| 6b | 100 | 24 | 3 | 2 | 8 | 8 | 308 | F | r | −2,−4,−6 | all | h1 | g2 | 0.1 |
"""
BIAS = {"ga": "gates", "b1": "hidden", "all": "all", "none": "none"}


def _gate_bias(text: str):
    """A gate-bias cell: "r" (random) and "none" (no bias) as None, else the biases per block."""
    return None if text in ("r", "none", "no og") else tuple(float(v.replace("−", "-")) for v in text.split(","))


def test_table_10_is_the_specs():
    """Every row and column of Table 10 but p and lag (the tasks' lengths, tests/test_tasks.py):
    the nets of experiments.ARCHITECTURES and the learning rate of every protocol using each."""
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in SPEC_TABLE_10.strip().splitlines()[2:]]
    assert [r[0] for r in rows] == list(experiments.ARCHITECTURES)
    for name, _p, _lag, b, s, n_in, n_out, w, c, ogb, igb, bias, h, g, lr in rows:
        net = experiments.ARCHITECTURES[name]
        assert (net.blocks, net.cells, net.n_in, net.n_out, net.connectivity, net.bias, net.h, net.g) == (
            int(b), int(s), int(n_in), int(n_out), c, BIAS[bias], h, g), name
        assert LSTM(net).n_params == int(w), name
        assert net.output_gates == (ogb != "no og"), name
        assert (net.output_gate_bias, net.input_gate_bias) == (_gate_bias(ogb), _gate_bias(igb)), name
        using = [p for p in experiments.PROTOCOLS.values() if p.architecture == name]
        assert using and all(p.lr == float(lr) for p in using), name


def test_every_protocol_matches_its_network():
    for p in experiments.PROTOCOLS.values():
        task, net = p.make_task(), LSTM(p.config())
        assert (task.n_in, task.n_out) == (net.config.n_in, net.config.n_out), p.name


def test_reduced_scales_shrink_a_window_of_recent_sequences_to_fit_the_budget():
    for p in experiments.PROTOCOLS.values():
        assert p.scaled("paper") == p
        for name in ("ci", "book"):
            q = p.scaled(name)
            if isinstance(p.stop, Recent):
                assert q.stop.window <= q.max_sequences // 2, (p.name, name)
                assert q.stop.beta == p.stop.beta
                assert q.stop.max_wrong / q.stop.window <= p.stop.max_wrong / p.stop.window
    five = experiments.get("5-140").scaled("ci")
    assert (five.stop.window, five.stop.max_wrong) == (1000, 69)   # 139 of 2000 -> 69 of 1000
    assert experiments.get("2c-1").scaled("book").stop.window == 10_000  # fits: left as the paper's


def test_the_paper_competitors_are_its_conventional_nets():
    """Tables 1 and 2's RTRL, BPTT and Elman nets: the paper's weight counts, the LSTM rows' task,
    budget and success criterion."""
    weights = {"2a-rtrl-p4": 36, "2a-rtrl-p10": 144, "2a-bptt-p100": 10_404}   # Table 2
    for name, n in weights.items():
        assert experiments.get(name).rnn().n_params == n
    for name, p in experiments.COMPETITORS.items():
        lstm_row = experiments.get("2a" if p.task == "2a" else "1-1")
        assert (repr(p.stop), p.max_sequences, p.test_size) == (repr(lstm_row.stop), lstm_row.max_sequences,
                                                                lstm_row.test_size)
        task, net = p.make_task(), p.rnn()
        assert isinstance(net, RNN) and (task.n_in, task.n_out) == (net.n_in, net.n_out)
    assert experiments.get("1-elman-15").rnn().algorithm == "elman"
    # only the 1997 cell's rows run compiled: not a competitor's net, not a later variant
    assert [experiments.get(n).compiled for n in ("1-2", "2a-rtrl-p4", "iv-forget", "iv-bptt")] == [True, False,
                                                                                                  False, False]
    with pytest.raises(ValueError, match="not an LSTM"):
        experiments.vary(experiments.get("2a-rtrl-p4"), {"bias": "all"})
    with pytest.raises(ValueError, match="not a competitor"):
        experiments.get("2a").rnn()


def test_chapter_15_rows():
    assert experiments.get("iv-minibatch").minibatch == 4 and experiments.get("iv-minibatch").lr == 2.0
    assert experiments.get("iv-forget").config().forget_gate_bias == (5.0, 5.0)
    assert experiments.get("iv-bptt").config().peepholes and experiments.get("iv-bptt").gradient == "exact"


def test_a_variant_changes_its_net_task_and_protocol_and_says_so():
    """vary: an ablation of a row, named and recorded with its changes."""
    row = experiments.get("1-5")
    v = experiments.vary(row, {"bias": "all", "targets": "legal", "update": "sequence",
                                "input_gate_bias": (-1.0, -2.0, -3.0)})
    assert v.name == "1-5+bias=all+targets=legal+update=sequence+input_gate_bias=-1,-2,-3"
    assert v.config().bias == "all" and v.config().input_gate_bias == (-1.0, -2.0, -3.0)
    assert v.make_task().targets == "legal" and v.update == "sequence" and v.lr == row.lr
    assert row.config().bias == "gates" and row.make_task().targets == "next" and row.update == "step"
    assert experiments.vary(row, {}) is row
    short = experiments.vary(experiments.get("2c-1"), {"max_sequences": 200_000})  # a smaller budget
    assert short.name == "2c-1+max_sequences=200000" and short.max_sequences == 200_000


@pytest.mark.parametrize("changes,message", [
    ({"lr": "abc"}, "lr must be a positive number, got 'abc'"),
    ({"lr": -0.1}, "lr must be a positive number"),
    ({"minibatch": 0}, "minibatch must be a positive integer"),
    ({"max_sequences": 1.5}, "max_sequences must be a positive integer"),
    ({"colour": "red"}, "cannot vary colour"),
])
def test_a_bad_variant_is_a_clear_error(changes, message):
    with pytest.raises(ValueError, match=message):
        experiments.vary(experiments.get("1-5"), changes)
