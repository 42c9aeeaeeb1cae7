"""A row's thousand-trial distribution: where it lives, how it is read, what rows of the paper's
size drawn from it look like."""
import numpy as np
import pytest

from lstm97 import checkpoint, distribution, records


def test_a_distribution_lives_apart_from_the_rows_seeds(tmp_path):
    p = distribution.path("3b-1", 0, folder=tmp_path)
    assert p == tmp_path / "paper" / "distributions" / "3b-1-seed0.json"
    assert p.parent != records.path("3b-1", 0, folder=tmp_path).parent, "never pooled with the row's seeds"
    cmd = distribution.command("3b-1").split()
    assert cmd[:4] == ["python", "-m", "lstm97", "run"] and cmd[4] == "3b-1"
    assert cmd[cmd.index("--trials") + 1] == str(distribution.TRIALS) and "--resume" in cmd
    assert cmd[cmd.index("--out") + 1] == "results/paper/distributions/3b-1-seed0.json"


def test_it_is_read_from_its_record_or_its_checkpoint(tmp_path):
    assert distribution.load("3b-1", folder=tmp_path) is None
    record = distribution.path("3b-1", folder=tmp_path)
    run = {"trials": 3, "solved_after": [2000, None, 5000], "max_sequences": 5_000_000, "wall_time": 7.0}
    checkpoint.save(records.checkpoint_file(record), {"seen": 6000, "run": run}, np.zeros((3, 2)), {})
    d = distribution.load("3b-1", folder=tmp_path)
    assert d["status"] == "in progress" and d["seen"] == 6000 and d["solved_after"] == [2000, None, 5000]
    assert distribution.sequences("3b-1", d) == [2000, 5000]
    assert distribution.sequences("2c-1", d | {"solved_after": [12000, None]}) == [2000], "Exp. 2 counted the paper's way"
    records.write(record, {"experiment": "3b-1", "scale": "paper", "protocol": {"engine": "fast", "seed": 0},
                           "run": run | {"sequences": [1000, 9000], "test_correct": [[0.0] * 3] * 2,
                                         "test_loss": [[0.0] * 3] * 2, "train_error": [[None] * 3] * 2},
                           "result": {"wall_time": 9.0}, "provenance": {"device": "cpu", "git_commit": "abc1234"}})
    d = distribution.load("3b-1", folder=tmp_path)
    assert d["status"] == "finished" and d["seen"] == 9000 and d["wall_time"] == 9.0 and d["trials"] == 3


def test_rows_of_the_papers_size_drawn_from_it():
    share, means = distribution.rows_of_size([100] * 50, 50, 10, draws=2000)
    assert (share == 1).all() and (means == 100).all()
    share, means = distribution.rows_of_size([100, 300] * 25, 100, 10, draws=20_000)
    assert share.mean() == pytest.approx(0.5, abs=0.01), "half the trials unsolved: half of each row, on average"
    assert np.nanmean(means) == pytest.approx(200, rel=0.02) and np.nanmin(means) == 100 and np.nanmax(means) == 300
    share, means = distribution.rows_of_size([100], 100, 1, draws=1000)
    assert np.isnan(means[share == 0]).all() and (means[share == 1] == 100).all()
    for a, b in zip(distribution.rows_of_size([100, 300] * 25, 100, 10, draws=500),
                    distribution.rows_of_size([100, 300] * 25, 100, 10, draws=500)):
        np.testing.assert_array_equal(a, b)  # a fixed seed: the same rows at every build
