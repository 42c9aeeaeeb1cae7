"""Records -> what the book shows: the status of every row and the time the rest still needs
(also README.md's and results/README.md's, `write_status`), ours-beside-the-paper tables
(`table`), Fisher tests and ablations, counted the paper's way (`sequences_to_success`); the
preface's summary is `summary`.
Every number comes from the files `records` reads; nothing here is typed by hand.
"""
from __future__ import annotations

import math
import re

import numpy as np

from . import evaluation, experiments, intervals, records
from .fast import FastLSTM

# ---------------------------------------------------------------------------------------------
# What a run costs, and what the pending rows still need

def mean_length(protocol, n: int = 200) -> float:
    """Mean number of steps of the protocol's training sequences (drawn with a fixed seed)."""
    return float(protocol.make_task().sample(np.random.default_rng(0), n).lengths.mean())


def network_steps(protocol, sequences: float | None = None, trials: int | None = None) -> float:
    """Network-steps of `sequences` training sequences per trial (trials × sequences × mean
    length; by default the paper's mean number of sequences until success where it gives one, else
    the whole budget, and the protocol's trials): the unit a run's cost grows with on the fast
    path, which for locally coded inputs touches one input column per step whatever the number of
    input units, so that a speed measured on one row of an experiment carries over to its other
    rows (2c's p, 4-x's T)."""
    sequences = protocol.paper.get("success_after", protocol.max_sequences) if sequences is None else sequences
    trials = protocol.trials if trials is None else trials
    return trials * sequences * mean_length(protocol)


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def family(protocol) -> str:
    """Rows whose runs have the same kind of net and data, and so the same speed per network-step."""
    name = "2ab" if protocol.task in ("2a", "2b") else protocol.task
    if protocol.competitor:  # a conventional net: its own speed, whatever the LSTM's
        return f"{name}, {protocol.competitor['algorithm']} {protocol.competitor['n_hidden']}"
    # a later variant runs on the NumPy reference (chapter 15), not at the compiled 1997 cell's speed
    return name + ", later variant" if protocol.beyond_1997 else name


def measured_speeds(rows: dict) -> dict:
    """Network-steps per second of the recorded runs (`records.recorded` rows, finished or in
    progress), the mean per `family`, and over all of them under the key None."""
    speeds = {}
    for name, r in rows.items():
        if r["status"] != "pending" and r["wall_time"]:
            p = experiments.get(name)
            speeds.setdefault(family(p), []).append(network_steps(p, r["trained"], 1) / r["wall_time"])
    out = {f: float(np.mean(v)) for f, v in speeds.items()}
    if out:
        out[None] = float(np.mean([v for vs in speeds.values() for v in vs]))
    return out


def recorded_speeds(scale_name: str = "paper", seed: int = 0, folder=records.FOLDER) -> dict:
    """`measured_speeds` over every row of `experiments.PROTOCOLS` as recorded: the speeds that
    `status`, chapter 13 and the experiment chapters estimate with, so that a pending row costs
    the same wherever it is shown."""
    return measured_speeds({n: records.recorded(n, scale_name, seed, folder) for n in experiments.PROTOCOLS})


def time_left(protocol, row: dict, speeds: dict) -> tuple[float, float] | None:
    """Seconds a row still needs on the machine its runs were recorded on: (until the paper's mean
    number of sequences, until the whole budget); a run lasts until its slowest trial is solved,
    so the truth lies in between. An in-progress row is measured by its own speed and goes on from
    its checkpoint, with only its unsolved trials (the command line freezes solved ones). None where
    no speed is known; (0, 0) for a finished row."""
    if row["status"] == "finished":
        return 0.0, 0.0
    seen, trials = row["seen"] or 0, protocol.trials
    if row["status"] == "in progress" and row["wall_time"]:
        speed = network_steps(protocol, row["trained"], 1) / row["wall_time"]
        trials = sum(s is None for s in row["solved_after"])
    else:  # the other families' speeds are the compiled 1997 cell's: no guide for a later variant
        speed = speeds.get(family(protocol), speeds.get(None) if protocol.compiled else None)
    if not speed:
        return None
    target = protocol.paper.get("success_after", protocol.max_sequences)
    return tuple(network_steps(protocol, max(n - seen, 0), trials) / speed for n in (target, protocol.max_sequences))


def _left_range(left) -> str:
    if left is None:
        return "unknown (no recorded speed)"
    # a run past the paper's mean goes on until its slowest trial is solved, or to the budget
    return f"{duration(left[0])} – {duration(left[1])}" if 0 < left[0] < left[1] else f"up to {duration(left[1])}"


def estimated(protocol, row: dict, speeds: dict) -> str:
    """`time_left` in words, as the chapters' tables show it: "est. 2.0 h – 21 h" (to the paper's
    mean – to the budget), "est. up to 21 h" for a run already past the paper's mean,
    "unknown (no recorded speed)", or "—" for a finished row."""
    if row["status"] == "finished":
        return "—"
    left = time_left(protocol, row, speeds)
    return _left_range(left) if left is None else f"est. {_left_range(left)}"


def status_table(protocols, scale_name: str = "paper", folder=records.FOLDER) -> str:
    """A Markdown table: for every protocol, what is recorded at a scale (result, checkpoint or
    pending) and the time it still needs, estimated from the speeds of the recorded runs; "†" marks
    a run begun before a solved trial stopped training (`FROZEN_NOTE`)."""
    protocols = list(protocols)
    rows = {p.name: records.recorded(p.name, scale_name, folder=folder) for p in protocols}
    speeds = measured_speeds(rows)
    lines = ["| experiment | task | trials | paper: sequences to success | ours | time left (est.): to the paper's "
             "mean – to the budget |", "|---|---|---|---|---|---|"]
    for p in protocols:
        r = rows[p.name]
        mark = " †" if r["status"] != "pending" and not r["freeze_solved"] else ""
        if r["status"] == "finished":
            s = sequences_to_success(p, r["solved_after"])  # on the paper's count, as the column's header
            ours = (f"{len(s)}/{r['trials']} solved" + (f", median {np.median(s):,.0f}" if s else "")
                    + f" ({r['engine']}, {duration(r['wall_time'])}{mark})")
        elif r["status"] == "in progress":
            s = records.summary(r["solved_after"])
            ours = (f"in progress: {s['solved']}/{s['trials']} solved after {r['seen']:,} sequences "
                    f"(checkpoint; --resume){mark}")
        else:
            ours = "pending"
        ours += "".join(_other_seed(p, scale_name, folder, k) for k in records.seeds(p.name, scale_name, folder) if k)
        left = "—" if r["status"] == "finished" else _left_range(time_left(p, r, speeds))
        paper = p.paper.get("success_after")
        lines.append(f"| {p.name} | {p.title} | {p.trials} | {f'{paper:,}' if paper else '—'} | {ours} | {left} |")
    return "\n".join(lines)


def _other_seed(protocol, scale_name: str, folder, seed: int) -> str:
    """A further seed's record of a row, as the status table's "ours" cell adds it."""
    r = records.recorded(protocol.name, scale_name, seed, folder)
    s = sequences_to_success(protocol, r["solved_after"])
    return f"; seed {seed}: {len(s)}/{r['trials']} solved" + (f", median {np.median(s):,.0f}" if s else "")


WINDOW_NOTE = ("Sequences to success are counted the paper's way (`report.window_counted`): for Experiment 2 (2a, 2b, "
               "2c and their competitors) the 10,000 sequences of the success criterion's window are subtracted, "
               f"since the paper's mean for 2a ({experiments.get('2a').paper['success_after']:,}) cannot include them. "
               "\"Median\" here: over the solved trials; "
               "the chapters' tables also give the median over all trials, the unsolved censored at the budget, "
               "with 95 % intervals.")

FROZEN_NOTE = ("† begun before a solved trial stopped training (the run trained every trial to its end): the "
               "sequences until success are counted as in the later runs, and so comparable; the learning "
               "curves after a trial was solved and the wall time are not (they include the solved trials' "
               "further training).")


CHEAP = 30 * 60  # seconds: a row whose seed-0 run took at most this long gets the seeds `MORE_SEEDS` too
MORE_SEEDS = (1, 2)


def seed_plan(scale_name: str = "paper", folder=records.FOLDER) -> list[tuple[str, float, list, list]]:
    """The rows (the paper's, Part IV's and the competitors') whose finished seed-0 run took at most
    `CHEAP` on its machine: (row, that wall time, the seeds recorded, the commands that run the
    missing ones of `MORE_SEEDS`; with --resume each goes on from its checkpoint, if any)."""
    plan = []
    for name in [*experiments.PROTOCOLS, *experiments.COMPETITORS]:
        r = records.recorded(name, scale_name, 0, folder)
        if r["status"] == "finished" and r["wall_time"] <= CHEAP:
            have = records.seeds(name, scale_name, folder)
            plan.append((name, r["wall_time"], have, [f"python -m lstm97 run {name} --scale {scale_name} --seed {k} --resume"
                                                       for k in MORE_SEEDS if k not in have]))
    return plan


def status_markdown(scale_name: str = "paper", folder=records.FOLDER) -> str:
    """The status section of README.md and results/README.md (`python -m lstm97 status --markdown`):
    the rows of the paper and of Part IV, the paper's competitors, and what † means."""
    return (status_table(experiments.PROTOCOLS.values(), scale_name, folder) + "\n\nThe paper's competitors:\n\n"
            + status_table(experiments.COMPETITORS.values(), scale_name, folder) + "\n\n" + WINDOW_NOTE + "\n\n"
            + FROZEN_NOTE + "\n\n"
            + budget_note() + "\n")


def budget_note() -> str:
    """Which rows run to `experiments.pending_budget` instead of the paper's 5 million, and to what."""
    rows = ", ".join(f"{n} {experiments.get(n).max_sequences:,}" for n in experiments.PENDING_ROWS)
    return ("Budgets: 5 million sequences per trial, as the paper's, except Exp. 1 (100,000; the paper gives "
            "none) and the rows left pending for their cost, which run to 20 times the paper's mean or "
            f"1,000,000 sequences, whichever is larger (`experiments.pending_budget`): {rows}.")


STATUS_FILES = (records.ROOT / "README.md", records.FOLDER / "README.md")
STATUS_BLOCK = re.compile(r"(<!-- status: generated by python -m lstm97 status --write -->\n)(.*?)(<!-- end status -->)", re.S)


def write_status(paths=STATUS_FILES) -> list:
    """Put `status_markdown()` between the status markers of each file (`status --write`): a row
    recorded is a row shown, no number typed by hand. Returns the files that changed."""
    status, changed = status_markdown(), []
    for path in paths:
        text = path.read_text(encoding="utf-8")
        new = STATUS_BLOCK.sub(lambda m: m[1] + status + m[3], text)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(path)
    return changed


def extra_tested(row: dict, seed: int = 0) -> dict:
    """A row (`records.recorded`) with its extra test: as recorded for a finished run; for a run in
    progress, measured here on the nets its checkpoint keeps as solved (`evaluation.extra_test`)."""
    protocol = experiments.get(row["name"])
    if row["status"] != "in progress" or not protocol.extra_test or row["solved_weights"] is None:
        return row
    measured = evaluation.extra_test(FastLSTM(protocol.config()), protocol.make_task(), row["solved_weights"],
                                     protocol.extra_test, seed, squared="mse" in protocol.paper)
    return row | dict(zip(("fraction_wrong", "mean_difference", "mse"), map(records.nan_to_none, measured)))


# ---------------------------------------------------------------------------------------------
# The paper's way of counting, the preface's summary, Fisher tests and ablations

def window_counted(protocol) -> int:
    """Sequences to subtract from `Run.solved_after` to compare with the paper's "success after".

    Experiment 2's success criterion (2a, 2b, 2c) is no error during 10,000 successive random
    sequences, judged on the training sequences themselves (`stopping.Recent(None, window=10_000)`):
    `solved_after` counts to the end of that window. The paper's mean for 2a, 5,040, is smaller
    than 10,000, so its count cannot include the window; chapter 8 counts the sequences seen
    before the window began, and so does every table that compares with the paper. ST3 (Exps. 4–6)
    is the paper's own stopping rule over the 2000 most recent sequences, counted to its end."""
    return protocol.stop.window if protocol.task in ("2a", "2b", "2c") else 0


def sequences_to_success(protocol, solved_after) -> list[int]:
    """The solved trials' sequences until success, on the paper's count (`window_counted`)."""
    w = window_counted(protocol)
    return [s - w for s in (solved_after or []) if s is not None]


POOLED = ("solved_after", "fraction_wrong", "mean_difference", "mse")  # per trial: more seeds, more trials


def seeds_of(row: dict) -> list[dict]:
    """A finished row (`records.recorded`) and its other finished seeds at its scale, seed 0 first:
    a trial depends only on (seed, trial), so further seeds are further trials of the same row,
    which the tables pool. Seeds run to another budget cannot be pooled: a ValueError says so."""
    if row["status"] != "finished":
        return [row]
    folder, scale_name = row["path"].parents[1], row["path"].parent.name
    others = [records.recorded(row["name"], scale_name, k, folder)
              for k in records.seeds(row["name"], scale_name, folder) if k != row["seed"]]
    found = [row] + [o for o in others if o["status"] == "finished"]
    budgets = {o["seed"]: o["run"]["max_sequences"] for o in found}
    if len(set(budgets.values())) > 1:
        raise ValueError(f"{row['name']}: seeds run to different budgets cannot be pooled: {budgets}")
    return found


def pooled(row: dict, found: list | None = None) -> dict:
    """`row` with its seeds' trials together (`found`, by default `seeds_of(row)`): the per-trial
    lists (`POOLED`) joined, trials and wall time summed, ``seeds`` listing them."""
    found = seeds_of(row) if found is None else found
    out = row | {"seeds": [o["seed"] for o in found], "trials": sum(o["trials"] for o in found)}
    if len(found) > 1:
        out |= {k: [v for o in found for v in (o[k] or [None] * o["trials"])] for k in POOLED}
        out["wall_time"] = sum(o["wall_time"] for o in found)
    return out


def judged(protocol, row: dict) -> tuple[intervals.Spread, str]:
    """A finished row's sequences to success over all its seeds (`pooled`), with intervals, and the
    verdict beside the paper's numbers (`intervals.RULE`)."""
    return _judge(protocol, pooled(row))


def _judge(protocol, both: dict) -> tuple[intervals.Spread, str]:
    """`judged` of a row already pooled."""
    s = intervals.spread(sequences_to_success(protocol, both["solved_after"]), both["trials"])
    return s, intervals.verdict(s, protocol.paper)


def table(names, columns, rows: dict, speeds: dict, describe=(), tail: bool = True, key: bool = True) -> str:
    """Ours beside the paper, one Markdown line per row of `names` (`rows`: `records.recorded`'s):
    the `describe` columns, (header, value(protocol)); then for each of `columns`, (header,
    paper(protocol), ours(protocol, row)), the paper's value beside ours; last (with `tail`) the
    trials solved, the verdict (`judged`) and the wall time, or for a row not finished its state and
    the time it still needs (`estimated`). A finished row pools its recorded seeds (`pooled`: a list
    column from each seed's row, any other from the pooled row). Ours is None where there is none
    ("pending", or "none yet" for a row in progress); a list is of sequences to success, shown for a
    finished row as its mean and median with 95 % intervals, the trials not in it censored at the
    budget (`intervals.sequences_cell`), for a row in progress as its mean (median, range) so far.
    With `key` (and `tail`), a line under the table says what the brackets and the verdict are."""
    lines = ["| row | " + "".join(f"{h} | " for h, _ in describe) + " | ".join(f"{h}: paper | ours" for h, _, _ in columns)
             + (" | solved | verdict | runtime |" if tail else " |"), "|---|" + "---|" * len(describe)
             + "---|---|" * len(columns) + "---|---|---|" * tail]
    for name in names:
        p, r = experiments.get(name), rows[name]
        going, done = r["status"] == "in progress", r["status"] == "finished"
        budget = r["run"]["max_sequences"] - window_counted(p) if done else None
        found = seeds_of(r)
        both = pooled(r, found)
        cells = [f"{value(p)}" for _, value in describe]
        for _, paper, ours in columns:
            o = None if r["status"] == "pending" else ours(p, r)
            if isinstance(o, list) and done:
                o = [v for seed in found for v in ours(p, seed)]
                o = intervals.sequences_cell(intervals.spread(o, both["trials"]), budget) if o else "—"
            elif isinstance(o, list):
                o = None if not o else (f"{np.mean(o):,.0f} (median {np.median(o):,.0f}, {min(o):,}–{max(o):,}), "
                                        f"{len(o)} trials so far")
            elif done and len(found) > 1:
                o = ours(p, both)
            v = paper(p)
            cells += [f"{v:,}" if isinstance(v, int) else f"{v:g}" if isinstance(v, float) else f"{v}",
                      o if o is not None else "none yet" if going else "pending"]
        if done:
            s, verdict = _judge(p, both)
            seeds = f" (seeds {', '.join(map(str, both['seeds']))})" if len(found) > 1 else ""
            state, runtime = intervals.solved_cell(s) + seeds, f"{duration(both['wall_time'])} ({r['engine']})"
        else:
            solved = sequences_to_success(p, r["solved_after"])
            state = f"in progress: {len(solved)}/{r['trials']} after {r['seen']:,} sequences" if going else "pending"
            verdict, runtime = "—", estimated(p, r, speeds)
        lines.append(f"| {name} | " + " | ".join(cells + [state, verdict, runtime] * tail) + " |")
    return "\n".join(lines) + (f"\n\n*{intervals.KEY}*" if tail and key else "")


def fisher(a: int, b: int, n: int) -> float:
    """Two-sided Fisher exact test of two set-ups that solved `a` and `b` of `n` trials each: the
    probability, were they one set-up, of a split no more likely than this one (chapters 7, 15)."""
    total = a + b

    def prob(k):
        return math.comb(n, k) * math.comb(n, total - k) / math.comb(2 * n, total)

    return min(1.0, sum(prob(k) for k in range(max(0, total - n), min(n, total) + 1) if prob(k) <= prob(a) * (1 + 1e-9)))


def spread(values) -> str:
    """Sequences to success as the chapters' tables show them: "median (min–max)", "—" for none."""
    return f"{np.median(values):,.0f} ({min(values):,}–{max(values):,})" if values else "—"


def ablation(rows: list[str], variants: list[tuple[str, str, str]], budget: int | None = None, seed: int = 0,
             scale_name: str = "paper", folder=records.FOLDER) -> tuple[str, dict]:
    """The recorded variants of rows (`python -m lstm97 run ROW --vary ...`) beside the rows, as
    a markdown table, and the trials solved: {(row, change): count}, with change "none" for the
    row itself, counted within `budget` sequences (the row's own if None; every variant's must be it).

    `variants` are (change as in the file name, e.g. "bias=all+init_range=0.1"; what it does;
    its kind: open choice, check, departure). Each variant is compared with its row trial by trial
    (same seed: the same data and initial weights): Fisher's exact test, and which trials only
    the row, only the variant, or both solved. A variant without a file is "not run"."""
    lines = ["| row | change | the paper | solved | p (Fisher, against the row) | median sequences (range) | "
             "solved by the row only / the variant only / both | wall time |", "|---|---|---|---|---|---|---|---|"]
    counts = {}
    for row in rows:
        protocol, base = experiments.get(row), records.recorded(row, scale_name, seed, folder)
        assert base["status"] == "finished", f"{row} has no finished {scale_name}-scale run"
        within = budget or base["run"]["max_sequences"]
        solved_after = [s if s is not None and s <= within else None for s in base["solved_after"]]
        row_solved = {k for k, s in enumerate(solved_after) if s is not None}
        trials = base["trials"]
        counts[row, "none"] = len(row_solved)
        lines.append(f"| {row} | none: the row itself{'' if budget is None else f', within {within:,} sequences'} | — | "
                     f"{len(row_solved)} of {trials} | — | {spread(sequences_to_success(protocol, solved_after))} | — | "
                     f"{duration(base['wall_time'])} (the whole run) |")
        for change, what, kind in variants:
            path = records.path(f"{row}+{change}", seed, scale_name, folder)
            if not path.exists():
                lines.append(f"| {row} | {what} | {kind} | not run | — | — | — | — |")
                continue
            d = records.load(path)
            assert d["experiment"] == f"{row}+{change}" and d["run"]["trials"] == trials and d["protocol"]["seed"] == seed
            assert d["run"]["max_sequences"] == within, (path, d["run"]["max_sequences"], within)
            after = d["run"]["solved_after"]
            solved = {k for k, s in enumerate(after) if s is not None}
            counts[row, change] = len(solved)
            lines.append(f"| {row} | {what} | {kind} | {len(solved)} of {trials} | "
                         f"{fisher(len(solved), len(row_solved), trials):.2g} | "
                         f"{spread(sequences_to_success(protocol, after))} | {len(row_solved - solved)} / "
                         f"{len(solved - row_solved)} / {len(solved & row_solved)} | "
                         f"{duration(d['result']['wall_time'])} ({d['protocol']['engine']}) |")
    return "\n".join(lines), counts
