"""Collapses found in learning curves: a trial that got nearly all right, then fell back."""
import json

import pytest

from lstm97 import collapse, records


def run_of(curves, solved_after, every=1000):
    """A record's ``run`` with `curves` (one list per trial of its share right per evaluation)."""
    return {"test_correct": [list(v) for v in zip(*curves)], "sequences": [every * (i + 1) for i in range(len(curves[0]))],
            "solved_after": solved_after}


def test_a_fall_back_to_the_start_after_a_high_is_a_collapse():
    curves = [[0.0, 0.97, 0.98, 0.0, 0.0],      # high at 2000, back to where it began at 4000
              [0.0, 0.5, 0.96, 0.9, 0.99],       # high, a dip to 0.9: not back to the start
              [0.0, 0.2, 0.04, 0.3, 0.9],        # never high: nothing to lose
              [0.5, 0.96, 0.54, 0.56, 0.6],      # began at 0.5 (a two-class answer): back to 0.54 is a fall
              [0.96, 0.97, 0.0, 0.0, 0.0]]       # high from the start: not counted
    reached, fell = collapse.collapses(run_of(curves, [None] * 5))
    assert reached == 3
    assert fell == [(0, 2000, 4000), (3, 2000, 3000)]
    assert collapse.collapses(run_of(curves, [None] * 5), margin=0.0)[1] == [(0, 2000, 4000)]


def test_a_rows_collapses_over_its_seeds_by_what_followed(tmp_path):
    folder = tmp_path / "results"
    (folder / "paper").mkdir(parents=True)
    curves = [[0.0, 0.97, 0.0, 0.0], [0.0, 0.96, 0.0, 0.99], [0.0, 0.99, 0.0, 0.0], [0.0, 0.1, 0.2, 0.3]]
    for seed, solved in ((0, [None, 4000, 2000, None]), (3, [None, None, None, None])):
        path = records.path("3b-1", seed, folder=folder)
        records.write(path, {"experiment": "3b-1", "scale": "paper", "protocol": {"engine": "fast", "seed": seed},
                             "run": run_of(curves, solved) | {"trials": 4, "max_sequences": 5_000_000,
                                                             "backend": "numpy", "test_loss": [[0.0] * 4] * 4,
                                                             "train_error": [[None] * 4] * 4, "wall_time": 1.0},
                             "result": {"wall_time": 1.0}, "provenance": {"device": "cpu", "git_commit": "abc1234"}})
    c = collapse.count("3b-1", folder=folder)
    assert (c.seeds, c.trials, c.reached, len(c.fell)) == ([0, 3], 8, 6, 6)
    kinds = c.kinds()
    assert [(f[0], f[1]) for f in kinds["never solved"]] == [(0, 0), (3, 0), (3, 1), (3, 2)]
    assert [(f[0], f[1]) for f in kinds["solved later"]] == [(0, 1)]
    assert [(f[0], f[1]) for f in kinds["after solved"]] == [(0, 2)]
