"""A thousand trials of one row (chapter 13): the distribution of sequences to success that the
paper's 10 to 30 trials were drawn from, as far as our runs are that distribution, and what a
row of the paper's size could and could not tell about it.

A distribution is a run of the row's protocol with `TRIALS` trials, recorded apart from the row
(`path`: ``results/<scale>/distributions/``), so that it is never pooled with the row's seeds —
its first trials *are* the row's seed-0 trials, a trial depending only on (seed, trial). It runs
from the command line like any row (`command`), across sittings from its checkpoint.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from . import checkpoint, experiments, intervals, records, report

ROWS = ("3b-1", "1-5")  # cheap rows whose distributions the book shows (chapter 13)
TRIALS = 1000
DRAWS = 10_000  # rows of the paper's size drawn from the distribution (fixed seed)


def path(name: str, seed: int = 0, scale_name: str = "paper", folder=records.FOLDER) -> Path:
    """The record of row `name`'s distribution: ``folder/scale_name/distributions/NAME-seedS.json``."""
    return Path(folder, scale_name, "distributions", f"{name}-seed{seed}.json")


def command(name: str, seed: int = 0) -> str:
    """The command that runs (or, with --resume, goes on with) row `name`'s distribution."""
    out = path(name, seed, folder=Path("results"))
    return f"python -m lstm97 run {name} --scale paper --trials {TRIALS} --seed {seed} --out {out} --resume"


def load(name: str, seed: int = 0, scale_name: str = "paper", folder=records.FOLDER) -> dict | None:
    """Row `name`'s distribution as recorded: "finished" (a record) or "in progress" (its checkpoint),
    with `solved_after` per trial (None: not solved by `seen` sequences), `budget`, `trials` and
    `wall_time`; None where neither exists."""
    record = path(name, seed, scale_name, folder)
    if record.exists():
        d = records.load(record)
        return {"status": "finished", "solved_after": d["run"]["solved_after"], "trials": d["run"]["trials"],
                "seen": d["run"]["sequences"][-1], "budget": d["run"]["max_sequences"],
                "wall_time": d["result"]["wall_time"]}
    if (ckpt := records.checkpoint_file(record)).exists():
        state, _, _ = checkpoint.load(ckpt)
        run = state["run"]
        return {"status": "in progress", "solved_after": run["solved_after"], "trials": run["trials"],
                "seen": state["seen"], "budget": run["max_sequences"], "wall_time": run["wall_time"]}
    return None


def rows_of_size(solved: list, trials: int, n: int, draws: int = DRAWS, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """`draws` rows of `n` trials drawn (with replacement) from a distribution whose solved trials
    took `solved` sequences each, the other of its `trials` unsolved: each row's share solved and
    its mean over the solved trials (NaN where none), as the paper would have reported it."""
    return intervals.solved_means(intervals.drawn_rows(solved, trials, n, draws, seed))


def sequences(name: str, d: dict) -> list[int]:
    """The solved trials' sequences to success, counted as the paper counts them (`report.sequences_to_success`)."""
    return report.sequences_to_success(experiments.get(name), d["solved_after"])
