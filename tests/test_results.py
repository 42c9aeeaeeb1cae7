"""Reading recorded rows back (`results.recorded`), the paper's count of sequences to success
(`results.sequences_to_success`) and the preface's summary table (`results.summary_table`)."""
import dataclasses

import numpy as np
import pytest

from lstm97 import experiments, results, train
from lstm97.fast import FastLSTM


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A results folder with one finished row (4-1), one in progress (4-2) and 4-3 absent."""
    root = tmp_path_factory.mktemp("results")
    p = experiments.get("4-1")
    task = dataclasses.replace(p, task_params={"T": 20}).make_task()

    def run(**kw):
        return train.train(FastLSTM(p.config(), parallel=False), task, lr=p.lr, trials=2, max_sequences=300, seed=0,
                           eval_every=100, test_size=16, stop=p.stop, progress=False, **kw)

    data = results.record(p, run(), "fast")
    data["run"]["solved_after"] = [250, None]          # as if trial 0 had met ST3
    results.write(root / "paper" / "4-1-seed0.json", data)
    np.savez(root / "paper" / "4-1-seed0.weights.npz", theta=np.full((2, 93), 0.5), seen=300)
    stopped = run(checkpoint=str(root / "paper" / "4-2-seed0.json.ckpt"), checkpoint_every=0.0, time_limit=0.0)
    assert not stopped.finished
    return root


def test_a_finished_row_is_read_from_its_result_file(folder):
    row = results.recorded("4-1", folder=folder)
    assert row["status"] == "finished" and row["solved_after"] == [250, None]
    assert row["trials"] == 2 and row["seen"] == 300 and row["engine"] == "fast" and row["backend"] == "numpy"
    assert row["wall_time"] > 0 and row["commit"] and row["scale"] == results.load(row["path"])["scale"]
    assert row["weights_seen"] == 300 and (row["weights"] == 0.5).all(), "the weights kept beside the result"
    assert row["device"] == results.load(row["path"])["provenance"]["device"]


def test_an_unfinished_row_is_read_from_its_checkpoint(folder):
    row = results.recorded("4-2", folder=folder, extra_test=True)
    assert row["status"] == "in progress" and row["seen"] == 100 and row["solved_after"] == [None, None]
    assert row["engine"] == "fast" and row["path"].name == "4-2-seed0.json.ckpt"
    assert row["fraction_wrong"] == [None, None], "no trial solved, so no extra test"
    state, theta, _ = train.load_checkpoint(str(row["path"]))
    assert row["weights_seen"] == 100 and np.array_equal(row["weights"], theta), "the checkpoint's weights"
    assert row["device"] is None, "a checkpoint records no provenance"


def test_an_absent_row_is_pending(folder):
    row = results.recorded("4-3", folder=folder)
    assert row["status"] == "pending" and row["solved_after"] is None and row["trials"] == 10
    assert row["weights"] is None and row["weights_seen"] is None


def test_experiment_2_counts_the_sequences_before_the_window():
    """2a/2b/2c: success is 10,000 successive correct sequences, and `solved_after` counts to the
    end of them; the paper's count (its 2a mean, 5,040, is below 10,000) cannot include them."""
    for name in ("2a", "2b", "2c-1", "2c-9"):
        assert results.window_counted(experiments.get(name)) == 10_000
        assert results.sequences_to_success(experiments.get(name), [15_000, None, 10_000]) == [5_000, 0]
    for name in ("1-1", "3a-1", "4-1", "5-13", "6a"):
        assert results.window_counted(experiments.get(name)) == 0
        assert results.sequences_to_success(experiments.get(name), [15_000, None]) == [15_000]
    assert results.sequences_to_success(experiments.get("4-1"), None) == []


def test_summary_table_reads_every_group_from_the_files(folder):
    table = results.summary_table(folder=folder)
    lines = table.splitlines()
    assert len(lines) == 2 + len(results.GROUPS)
    named = [n for _, _, _, names in results.GROUPS for n in names]
    assert sorted(named) == sorted(experiments.PROTOCOLS), "every row of the paper's tables is in one group"
    adding = next(line for line in lines if line.startswith("| 4 |"))
    assert "4-1: 1/2 trials solved, after 250 sequences (mean)" in adding
    assert "4-2 in progress: 0/2 solved after 100" in adding and "pending: 4-3" in adding
    assert "74,000–853,000" in adding, "the paper's numbers come from the protocols"
    assert "pending: 2b" in table and "| 9 rows pending | 8 |" in table and "| 8 rows pending | 9 |" in table
    assert "100 % of 18 trials, after 5,040 sequences" in table


def test_the_preface_computes_its_summary_from_the_files():
    """One source of truth: the preface's table is `summary_table()`'s output, not typed text."""
    import json

    book = results.ROOT / "book"
    assert not (book / "intro.md").exists(), "the preface is book/intro.ipynb; a second copy would drift"
    cells = json.loads((book / "intro.ipynb").read_text())["cells"]
    code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    prose = "".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    assert any("results.summary_table()" in c for c in code)
    assert "| experiment |" not in prose and "not yet run" not in prose


def test_time_left_is_network_steps_over_the_measured_speed(folder):
    """A pending row is costed at its family's measured speed (network-steps per second), from the
    paper's mean to the whole budget; a row in progress at its own speed, from where it stopped."""
    rows = {n: results.recorded(n, folder=folder) for n in ("4-1", "4-2", "4-3")}
    speeds = results.measured_speeds(rows)
    p1, p3 = experiments.get("4-1"), experiments.get("4-3")
    own = results.network_steps(p1, 300, 2) / rows["4-1"]["wall_time"]
    assert speeds["4"] == pytest.approx((own + results.network_steps(experiments.get("4-2"), 100, 2)
                                         / rows["4-2"]["wall_time"]) / 2)
    low, high = results.time_left(p3, rows["4-3"], speeds)
    assert low == pytest.approx(10 * 853_000 * results.mean_length(p3) / speeds["4"])
    assert high == pytest.approx(low * 5_000_000 / 853_000)
    assert results.time_left(p1, rows["4-1"], speeds) == (0.0, 0.0)
    p2, r2 = experiments.get("4-2"), rows["4-2"]
    speed2 = results.network_steps(p2, 100, 2) / r2["wall_time"]
    unsolved = sum(s is None for s in r2["solved_after"])  # the command line freezes solved trials
    assert results.time_left(p2, r2, speeds)[1] == pytest.approx(results.network_steps(p2, 5_000_000 - 100, unsolved)
                                                                 / speed2)
    # a run that froze its solved trials is measured by what it trained, not trials × sequences
    frozen = r2 | {"trained": 150, "solved_after": [50, None]}
    assert results.time_left(p2, frozen, speeds)[1] == pytest.approx(
        results.network_steps(p2, 5_000_000 - 100, 1) / (results.network_steps(p2, 150, 1) / r2["wall_time"]))
    assert results.time_left(p3, rows["4-3"], {}) is None
    table = results.status_table([p1, p3], folder=folder)
    assert "| 4-1 |" in table and "| 4-3 |" in table and "pending" in table and "unknown" not in table


def test_estimated_says_the_time_left_as_a_range(folder):
    """The chapters' tables show `time_left` one way: "est." and the range, or why there is none."""
    rows = {n: results.recorded(n, folder=folder) for n in ("4-1", "4-2", "4-3")}
    speeds = results.measured_speeds(rows)
    p3 = experiments.get("4-3")
    low, high = results.time_left(p3, rows["4-3"], speeds)
    assert results.estimated(p3, rows["4-3"], speeds) == f"est. {results.duration(low)} – {results.duration(high)}"
    p2 = experiments.get("4-2")   # in progress at 100 sequences, its own speed; the paper's mean is 209,000
    assert results.estimated(p2, rows["4-2"], speeds).startswith("est. ") and "up to" not in results.estimated(
        p2, rows["4-2"], speeds)
    past = rows["4-2"] | {"seen": 500_000}            # past the paper's mean: only the budget bounds it
    assert results.estimated(p2, past, speeds).startswith("est. up to ")
    assert results.estimated(experiments.get("4-1"), rows["4-1"], speeds) == "—"
    assert results.estimated(p3, rows["4-3"], {}) == "unknown (no recorded speed)"
    assert results.recorded_speeds(folder=folder) == pytest.approx(speeds), "every row read, 4-x the only recorded"


def test_nets_run_again_must_be_the_rows_own_first_trials(folder):
    assert results.kept_nets("4-1", folder=folder) is None, "none recorded"
    nets = folder / "paper" / "nets"
    nets.mkdir(exist_ok=True)
    record = results.load(folder / "paper" / "4-1-seed0.json")
    record["run"]["solved_after"] = [250]                   # trial 0 of the row, run again
    results.write(nets / "4-1-seed0.json", record)
    np.savez(nets / "4-1-seed0.weights.npz", theta=np.full((1, 93), 0.25), seen=250)
    solved, theta = results.kept_nets("4-1", folder=folder)
    assert solved == [250] and theta.shape == (1, 93) and (theta == 0.25).all()
    record["run"]["solved_after"] = [260]                   # another trial's count: not the row's
    results.write(nets / "4-1-seed0.json", record)
    with pytest.raises(ValueError, match="not the first trials of 4-1"):
        results.kept_nets("4-1", folder=folder)
    for f in nets.iterdir():
        f.unlink()


def test_competitors_borrow_no_lstm_speed_and_without_a_paper_mean_are_bounded_by_the_budget():
    p10, p4 = experiments.get("2a-rtrl-p10"), experiments.get("2a-rtrl-p4")
    pending = {"status": "pending", "seen": None, "wall_time": None}
    lstm_only = {"2ab": 1e6, None: 1e6}
    assert results.time_left(p10, pending, lstm_only) is None, "an LSTM's speed says nothing of RTRL's"
    assert results.family(p10) == results.family(p4) != results.family(experiments.get("2a-bptt-p100"))
    own = {results.family(p10): 1e6}
    low, high = results.time_left(p10, pending, own)   # the paper gives no mean for p = 10: the budget bounds it
    assert low == high and results.estimated(p10, pending, own) == f"est. up to {results.duration(high)}"
    assert " – " in results.estimated(p4, pending, own)


def test_part_iv_rows_quote_gers_and_borrow_no_speed(folder):
    """The CERG rows (chapter 14) quote Gers et al. 2000, the 1997 cell's 0 % marked as from memory;
    the compiled 1997 cell's speeds say nothing of a later variant's cost on the reference."""
    table = results.summary_table(folder=folder)
    assert "| 18 % of 100 trials | pending: cerg-forget | 14 |" in table
    assert "0 % of 100 trials (from memory, unconfirmed) | pending: cerg-1997" in table
    speeds = {"4": 1e6, None: 1e6}
    p = experiments.get("cerg-forget")
    assert results.time_left(p, results.recorded("cerg-forget", folder=folder), speeds) is None


def test_an_ablation_compares_each_variant_with_its_row_trial_by_trial(folder):
    data = results.load(folder / "paper" / "4-1-seed0.json")
    data["experiment"], data["run"]["solved_after"] = "4-1+lr=0.1", [None, 200]
    results.write(folder / "paper" / "variants" / "4-1+lr=0.1-seed0.json", data)
    table, counts = results.ablation(["4-1"], [("lr=0.1", "a larger step", "departs"), ("bias=all", "biases", "departs")],
                                     folder=folder)
    assert counts == {("4-1", "none"): 1, ("4-1", "lr=0.1"): 1}
    lines = table.splitlines()
    assert "| 1 of 2 | 1 | 200 (200–200) | 1 / 1 / 0 |" in lines[3]          # the row solved trial 0, the variant 1
    assert lines[4].startswith("| 4-1 | biases | departs | not run |")
    _, counts = results.ablation(["4-1"], [], budget=200, folder=folder)
    assert counts == {("4-1", "none"): 0}, "the row's trial 0 solved after 250 > 200 sequences"
    with pytest.raises(AssertionError):
        results.ablation(["4-1"], [("lr=0.1", "a larger step", "departs")], budget=200, folder=folder)


def test_fisher_exact_test_and_spread():
    # 0 of 3 against 3 of 3: the two most uneven splits of 3 solved among 6 trials, 1/20 each
    assert results.fisher(0, 3, 3) == pytest.approx(0.1)
    assert results.fisher(3, 0, 3) == pytest.approx(0.1)
    assert results.fisher(1, 2, 3) == pytest.approx(1.0) and results.fisher(7, 7, 30) == pytest.approx(1.0)
    assert results.fisher(5, 15, 30) < 0.05 < results.fisher(5, 11, 30)
    assert results.spread([3_000, 1_000, 20_000]) == "3,000 (1,000–20,000)" and results.spread([]) == "—"
