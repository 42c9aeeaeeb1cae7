"""Collapses (chapter 9): a trial that once got nearly all of its test set right and later fell
back to where it started, found in the recorded learning curves of every seed of a row.

"Where it started" is the trial's own share of its test set right at its first evaluation (the
untrained net's answer: for Exp. 3, output near the middle and none right), with `MARGIN` to
spare; "nearly all" is `HIGH`. A trial frozen when solved trains no further, so its curve after
that cannot fall; a collapse happens before a trial is solved, or in runs that trained solved
trials on (the rows marked †).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import records

HIGH, MARGIN = 0.95, 0.05


def collapses(run: dict, high: float = HIGH, margin: float = MARGIN) -> tuple[int, list[tuple[int, int, int]]]:
    """In one run's curves (a record's ``run``): how many trials reached `high` right at some
    evaluation, and for each of those that later fell to their first evaluation's share +
    `margin` or below, (trial, sequences when it first reached `high`, sequences when it first
    fell back after that)."""
    right = np.array(run["test_correct"], dtype=float)  # (evaluations, trials)
    seen = run["sequences"]
    reached, fell = 0, []
    for k in range(right.shape[1]):
        c, start = right[:, k], right[0, k]
        up = np.flatnonzero(c >= high)
        if not len(up) or start + margin >= high:  # never high, or high from the start
            continue
        reached += 1
        down = np.flatnonzero(c[up[0]:] <= start + margin)
        if len(down):
            fell.append((k, seen[up[0]], seen[up[0] + down[0]]))
    return reached, fell


@dataclass(frozen=True)
class Count:
    """A row's collapses over its recorded seeds: trials, those that reached `HIGH`, and for each
    that collapsed (seed, trial, sequences when high, when fallen, solved after or None)."""

    row: str
    seeds: list
    trials: int
    reached: int
    fell: list

    def kinds(self) -> dict:
        """The collapses by what followed: "never solved", "solved later" (it recovered), "after
        solved" (a run that trained a solved trial on, † rows)."""
        out = {"never solved": [], "solved later": [], "after solved": []}
        for f in self.fell:
            solved, down = f[4], f[3]
            out["never solved" if solved is None else "solved later" if solved > down else "after solved"].append(f)
        return out


def count(name: str, scale_name: str = "paper", folder=records.FOLDER) -> Count:
    """`collapses` over every finished seed of row `name` at a scale."""
    seeds, trials, reached, fell = [], 0, 0, []
    for seed in records.seeds(name, scale_name, folder):
        r = records.recorded(name, scale_name, seed, folder)
        if r["status"] != "finished":
            continue
        high, found = collapses(r["run"])
        seeds.append(seed)
        trials += r["trials"]
        reached += high
        fell += [(seed, k, up, down, r["solved_after"][k]) for k, up, down in found]
    return Count(name, seeds, trials, reached, fell)
