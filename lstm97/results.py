"""Result files: one JSON file per run of one experiment, with everything a table needs and how
it was obtained (version, git commit, backend and device, seed, scale, wall time)."""
from __future__ import annotations

import datetime
import json
import math
import os
import platform
import subprocess
from pathlib import Path

import numpy as np

from . import __version__, backend

ROOT = Path(__file__).resolve().parents[1]


def git_commit() -> str:
    """The commit of the checkout the package runs from, "unknown" outside a git checkout; marked
    when code differs from it (not the recorded results, which a run itself writes)."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)results"],
                               cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() + ("+uncommitted changes" if dirty else "") if out.returncode == 0 else "unknown"


def provenance() -> dict:
    return {"lstm97": __version__, "git_commit": git_commit(), "device": backend.describe(),
            "python": platform.python_version(), "numpy": np.__version__, "machine": platform.platform(),
            "cpus": os.cpu_count(), "finished": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}


def summary(solved_after: list) -> dict:
    """Success rate and sequences until success (median, spread) over the trials."""
    solved = [s for s in solved_after if s is not None]
    out = {"trials": len(solved_after), "solved": len(solved), "success_rate": len(solved) / len(solved_after)}
    if solved:
        out.update(median_after=float(np.median(solved)), mean_after=float(np.mean(solved)),
                   min_after=int(min(solved)), max_after=int(max(solved)))
    return out


def record(protocol, run, engine: str, extra=None) -> dict:
    """The result file's content; `extra` is `train.extra_test`'s (fraction wrong, mean absolute
    error[, mean squared error]) per trial, where the protocol has an extra test set."""
    result = summary(run.solved_after) | {"wall_time": run.wall_time}
    if extra is not None:
        fraction, *errors = (np.asarray(a, dtype=float) for a in extra)
        solved = np.isfinite(fraction)
        result |= {"extra_test": protocol.extra_test, "fraction_wrong": _listed(fraction),
                   "mean_fraction_wrong": float(fraction[solved].mean()) if solved.any() else None}
        for key, e in zip(("mean_difference", "mse"), errors):
            result |= {key: _listed(e), f"mean_{key}": float(e[solved].mean()) if solved.any() else None}
    return {
        "experiment": protocol.name, "title": protocol.title, "scale": run.scale,
        "protocol": {"task": run.task, "architecture": protocol.architecture, "lr": protocol.lr,
                     "trials": run.trials, "max_sequences": run.max_sequences, "stop": run.stop,
                     "update": protocol.update, "test_size": run.test_size, "seed": run.seed, "engine": engine,
                     "changes": {k: list(v) if isinstance(v, tuple) else v for k, v in protocol.changes}},
        "paper": protocol.paper,
        "result": result,
        "run": run.as_dict(),
        "provenance": provenance(),
    }


def _listed(a) -> list:
    return [None if np.isnan(v) else float(v) for v in a]


def write(path: str | Path, data: dict) -> None:
    """Write JSON atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    os.replace(tmp, path)


def load(path: str | Path) -> dict:
    return json.loads(Path(path).read_text())


def variant_path(name: str, seed: int = 0, scale_name: str = "paper", folder: str | Path = ROOT / "results") -> Path:
    """The result file of a variant, e.g. "2c-1+init_range=0.1" (`python -m lstm97 run ROW --vary ...`)."""
    return Path(folder, scale_name, "variants", f"{name}-seed{seed}.json")


def weights_file(path: str | Path) -> Path:
    """Where a finished run's trained nets are kept: ``NAME-seedS.weights.npz`` beside its result."""
    return Path(path).with_suffix(".weights.npz")


def keep_weights(path: str | Path, theta, seen: int) -> None:
    """Keep every trial's net (theta: trials × weights) beside the result file."""
    np.savez_compressed(weights_file(path), theta=np.asarray(theta), seen=seen)


def find(name: str, scale_name: str, folder: str | Path = ROOT / "results") -> list[dict]:
    """Every recorded result of experiment `name` at a scale (one file per seed)."""
    return [load(p) for p in sorted(Path(folder, scale_name).glob(f"{name}-seed*.json"))]


def mean_length(protocol, n: int = 200) -> float:
    """Mean number of steps of the protocol's training sequences (drawn with a fixed seed)."""
    return float(protocol.make_task().sample(np.random.default_rng(0), n).lengths.mean())


def estimate(protocol) -> float:
    """Network-steps a paper-scale run of `protocol` costs: trials × sequences × steps, with the
    paper's mean number of sequences until success where it gives one, else the whole budget."""
    sequences = protocol.paper.get("success_after", protocol.max_sequences)
    return protocol.trials * sequences * mean_length(protocol)


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def network_steps(protocol, sequences: float, trials: int | None = None) -> float:
    """Network-steps of `sequences` training sequences per trial (trials × sequences × mean
    length): the unit a run's cost grows with on the fast path, which for locally coded inputs
    touches one input column per step whatever the number of input units, so that a speed
    measured on one row of an experiment carries over to its other rows (2c's p, 4-x's T)."""
    trials = protocol.trials if trials is None else trials
    return trials * sequences * mean_length(protocol)


def family(protocol) -> str:
    """Rows whose runs have the same kind of net and data, and so the same speed per network-step."""
    name = "2ab" if protocol.task in ("2a", "2b") else protocol.task
    if protocol.competitor:  # a conventional net: its own speed, whatever the LSTM's
        return f"{name}, {protocol.competitor['algorithm']} {protocol.competitor['n_hidden']}"
    # a later variant runs on the NumPy reference (chapter 15), not at the compiled 1997 cell's speed
    return name + ", later variant" if protocol.beyond_1997 else name


def measured_speeds(rows: dict) -> dict:
    """Network-steps per second of the recorded runs (`recorded` rows, finished or in progress),
    the mean per `family`, and over all of them under the key None."""
    from . import experiments

    speeds = {}
    for name, r in rows.items():
        if r["status"] != "pending" and r["wall_time"]:
            p = experiments.get(name)
            speeds.setdefault(family(p), []).append(network_steps(p, r["trained"], 1) / r["wall_time"])
    out = {f: float(np.mean(v)) for f, v in speeds.items()}
    if out:
        out[None] = float(np.mean([v for vs in speeds.values() for v in vs]))
    return out


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


def recorded_speeds(scale_name: str = "paper", seed: int = 0, folder: str | Path = ROOT / "results") -> dict:
    """`measured_speeds` over every row of `experiments.PROTOCOLS` as recorded (`recorded`, no extra
    tests): the speeds that `status`, chapter 13 and the experiment chapters estimate with, so that
    a pending row costs the same wherever it is shown."""
    from . import experiments

    return measured_speeds({n: recorded(n, scale_name, seed, folder) for n in experiments.PROTOCOLS})


def estimated(protocol, row: dict, speeds: dict) -> str:
    """`time_left` in words, as the chapters' tables show it: "est. 2.0 h – 21 h" (to the paper's
    mean – to the budget), "est. up to 21 h" for a run already past the paper's mean,
    "unknown (no recorded speed)", or "—" for a finished row."""
    if row["status"] == "finished":
        return "—"
    left = time_left(protocol, row, speeds)
    return _left_range(left) if left is None else f"est. {_left_range(left)}"


def status_table(protocols, scale_name: str = "paper", folder: str | Path = ROOT / "results") -> str:
    """A Markdown table: for every protocol, what is recorded at a scale (result, checkpoint or
    pending) and the time it still needs, estimated from the speeds of the recorded runs."""
    protocols = list(protocols)
    rows = {p.name: recorded(p.name, scale_name, folder=folder) for p in protocols}
    speeds = measured_speeds(rows)
    lines = ["| experiment | task | trials | paper: sequences to success | ours | time left (est.): to the paper's "
             "mean – to the budget |", "|---|---|---|---|---|---|"]
    for p in protocols:
        r = rows[p.name]
        if r["status"] == "finished":
            s = sequences_to_success(p, r["solved_after"])  # on the paper's count, as the column's header
            ours = (f"{len(s)}/{r['trials']} solved" + (f", median {np.median(s):,.0f}" if s else "")
                    + f" ({r['engine']}, {duration(r['wall_time'])})")
        elif r["status"] == "in progress":
            s = summary(r["solved_after"])
            ours = f"in progress: {s['solved']}/{s['trials']} solved after {r['seen']:,} sequences (checkpoint; --resume)"
        else:
            ours = "pending"
        left = "—" if r["status"] == "finished" else _left_range(time_left(p, r, speeds))
        paper = p.paper.get("success_after")
        lines.append(f"| {p.name} | {p.title} | {p.trials} | {f'{paper:,}' if paper else '—'} | {ours} | {left} |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# One row of the paper's tables as recorded: read by the experiment chapters, chapter 13 and the
# preface's summary, so that every number they show comes from the same files.

def _file_commit(path: Path) -> str:
    """The commit that last recorded `path` (short hash), "+local changes" if the file differs
    from it; "not committed" if git has never seen it, "unknown" outside a git checkout."""
    try:
        log = subprocess.run(["git", "log", "-1", "--format=%h", "--", str(path)], cwd=ROOT, capture_output=True,
                             text=True, timeout=10)
        changed = subprocess.run(["git", "status", "--porcelain", "--", str(path)], cwd=ROOT, capture_output=True,
                                 text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if log.returncode != 0:
        return "unknown"
    if not log.stdout.strip():
        return "not committed"
    return log.stdout.strip() + (" + local changes" if changed else "")


def _short_commit(commit: str) -> str:
    head, _, rest = commit.partition("+")
    return head[:7] + (" + uncommitted changes" if rest else "")


def recorded(name: str, scale_name: str = "paper", seed: int = 0, folder: str | Path = ROOT / "results",
             extra_test: bool = False) -> dict:
    """What is recorded of one row (`experiments.PROTOCOLS[name]`) at a scale, as one dict:

    * ``status``: "finished" (a result file), "in progress" (only a checkpoint: a run that
      `python -m lstm97 run NAME --resume` goes on with) or "pending" (neither);
    * ``solved_after`` (per trial, None where unsolved), ``seen`` (sequences per trial so far),
      ``trained`` (training sequences summed over the trials: fewer than trials × seen where
      solved trials were frozen),
      ``trials``, ``seed``, ``scale``, ``engine``, ``backend``, ``device`` (a result file's
      provenance: backend and GPU in words; None for a checkpoint), ``wall_time`` (seconds),
      ``commit`` (the run's git commit for a result; for a checkpoint, the commit that last
      recorded the file), ``run`` (the learning curves), ``path``;
    * ``fraction_wrong``: per trial, the fraction of the protocol's extra test set wrong (None
      where unsolved or none was run); ``mean_difference`` (mean absolute error) likewise, and
      ``mse`` (Table 8's mean squared error) where the protocol asks for it. A result file holds
      them; for a checkpoint they are measured here, with the solved weights it keeps, if `extra_test`;
    * ``weights`` (trials × weights) and ``weights_seen``: every net's weights at the last checkpoint
      and the sequences seen then: a checkpoint's own, or, for a finished run, those kept beside its
      result file in ``NAME-seedS.weights.npz`` (keys ``theta``, ``seen``); None where neither is.
    """
    from . import experiments, train

    protocol = experiments.get(name)
    base = Path(folder, scale_name, f"{name}-seed{seed}.json")
    row = {"name": name, "status": "pending", "path": None, "trials": protocol.trials if scale_name == "paper" else None,
           "seed": seed, "scale": scale_name, "solved_after": None, "seen": None, "engine": None, "backend": None,
           "trained": None, "device": None, "wall_time": None, "commit": None, "run": None, "fraction_wrong": None, "mean_difference": None,
           "mse": None, "weights": None, "weights_seen": None}
    if base.exists():
        d = load(base)
        res, seen = d["result"], d["run"]["sequences"][-1] if d["run"]["sequences"] else 0
        row |= {"status": "finished", "path": base, "trials": d["run"]["trials"], "solved_after": d["run"]["solved_after"],
                "seen": seen, "engine": d["protocol"]["engine"], "trained": _trained(d["run"], seen),
                "backend": d["run"]["backend"], "wall_time": res["wall_time"], "run": d["run"],
                "commit": _short_commit(d["provenance"]["git_commit"]), "scale": d["scale"],
                "device": d["provenance"]["device"],
                "fraction_wrong": res.get("fraction_wrong"), "mean_difference": res.get("mean_difference"),
                "mse": res.get("mse")}
        if (kept := weights_file(base)).exists():
            with np.load(kept) as f:
                row |= {"weights": f["theta"], "weights_seen": int(f["seen"])}
        return row
    ckpt = base.with_name(base.name + ".ckpt")
    if ckpt.exists():
        state, theta, arrays = train.load_checkpoint(str(ckpt))
        run = state["run"]
        row |= {"status": "in progress", "path": ckpt, "trials": run["trials"], "solved_after": run["solved_after"],
                "seen": state["seen"], "trained": _trained(run, state["seen"]),
                "engine": "fast" if "compiled" in run["learner"] else "reference",
                "backend": run["backend"], "wall_time": run["wall_time"], "run": run, "commit": _file_commit(ckpt),
                "scale": run["scale"], "weights": theta, "weights_seen": state["seen"]}
        if extra_test and protocol.extra_test and "solved_weights" in arrays:
            from .fast import FastLSTM

            measured = train.extra_test(FastLSTM(protocol.config()), protocol.make_task(), arrays["solved_weights"],
                                        protocol.extra_test, seed, squared="mse" in protocol.paper)
            row |= dict(zip(("fraction_wrong", "mean_difference", "mse"), map(_listed, measured)))
    return row


def kept_nets(name: str, scale_name: str = "paper", seed: int = 0, folder: str | Path = ROOT / "results"):
    """The nets of a row's first trials, run again to keep them because the row's run kept none
    (`python -m lstm97 run NAME --trials N --out results/<scale>/nets/NAME-seed<S>.json`): their
    sequences until success and their weights as solved, (solved_after, theta); None where not
    recorded. A trial depends only on the seed and its number, so they must be the recorded row's
    own first trials; a ValueError says so where their counts differ from the row's."""
    path = Path(folder, scale_name, "nets", f"{name}-seed{seed}.json")
    if not path.exists():
        return None
    solved = load(path)["run"]["solved_after"]
    row = recorded(name, scale_name, seed, folder)
    if row["status"] != "pending" and row["solved_after"][:len(solved)] != solved:
        raise ValueError(f"{path} is not the first trials of {name}: solved after {solved}, the row's "
                         f"{row['solved_after'][:len(solved)]}")
    with np.load(weights_file(path)) as f:
        return solved, f["theta"]


def _trained(run: dict, seen: int) -> int:
    """Training sequences summed over a run's trials, `seen` sequences each; records from before
    solved trials were frozen (`train.Run.trained`) trained every trial to the end."""
    return run.get("trained") or run["trials"] * seen


def window_counted(protocol) -> int:
    """Sequences to subtract from `Run.solved_after` to compare with the paper's "success after".

    Experiment 2's success criterion (2a, 2b, 2c) is no error during 10,000 successive random
    sequences, judged on the training sequences themselves (`train.Recent(None, window=10_000)`):
    `solved_after` counts to the end of that window. The paper's mean for 2a, 5,040, is smaller
    than 10,000, so its count cannot include the window; chapter 8 counts the sequences seen
    before the window began, and so does every table that compares with the paper. ST3 (Exps. 4–6)
    is the paper's own stopping rule over the 2000 most recent sequences, counted to its end."""
    return protocol.stop.window if protocol.task in ("2a", "2b", "2c") else 0


def sequences_to_success(protocol, solved_after) -> list[int]:
    """The solved trials' sequences until success, on the paper's count (`window_counted`)."""
    w = window_counted(protocol)
    return [s - w for s in (solved_after or []) if s is not None]


# The preface's summary: one line per experiment of the paper, rows of PROTOCOLS grouped.
GROUPS = (("1", "embedded Reber grammar", 7, ("1-1", "1-2", "1-3", "1-4", "1-5")),
          ("2a", "noise-free sequences, p = 100", 8, ("2a",)),
          ("2b", "no local regularities, p = 100", 8, ("2b",)),
          ("2c", "very long lags, q up to 1000", 8, tuple(f"2c-{i}" for i in range(1, 10))),
          ("3a–3c", "noise and signal on one channel", 9, ("3a-1", "3a-2", "3a-3", "3b-1", "3b-2", "3b-3", "3c-1", "3c-2")),
          ("4", "adding, T = 100, 500, 1000", 10, ("4-1", "4-2", "4-3")),
          ("5", "multiplication, T = 100", 11, ("5-140", "5-13")),
          ("6a, 6b", "temporal order", 12, ("6a", "6b")),
          # Part IV: not of the 1997 paper; the paper's column is Gers et al. (2000)
          ("CERG", "continual embedded Reber grammar, forget gates (Gers et al. 2000)", 14, ("cerg-forget",)),
          ("CERG", "the same, 1997 cell without resets", 14, ("cerg-1997",)),
          # chapter 15: one change at a time, on a shortened temporal order task; no paper result
          *(("6a, short", f"temporal order, 14–16 steps: {what}", 15, (name,))
            for name, what in (("iv-1997", "1997 cell"), ("iv-forget", "+ forget gates"),
                               ("iv-peepholes", "+ peepholes"), ("iv-bptt", "+ full gradient"),
                               ("iv-minibatch", "+ minibatches of 4"))))


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
             scale_name: str = "paper", folder: str | Path = ROOT / "results") -> tuple[str, dict]:
    """The recorded variants of rows (`python -m lstm97 run ROW --vary ...`) beside the rows, as
    a markdown table, and the trials solved: {(row, change): count}, with change "none" for the
    row itself, counted within `budget` sequences (the row's own if None; every variant's must be it).

    `variants` are (change as in the file name, e.g. "bias=all+init_range=0.1"; what it does;
    its kind: open choice, check, departure). Each variant is compared with its row trial by trial
    (same seed: the same data and initial weights): Fisher's exact test, and which trials only
    the row, only the variant, or both solved. A variant without a file is "not run"."""
    from . import experiments

    lines = ["| row | change | the paper | solved | p (Fisher, against the row) | median sequences (range) | "
             "solved by the row only / the variant only / both | wall time |", "|---|---|---|---|---|---|---|---|"]
    counts = {}
    for row in rows:
        protocol, base = experiments.get(row), recorded(row, scale_name, seed, folder)
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
            path = variant_path(f"{row}+{change}", seed, scale_name, folder)
            if not path.exists():
                lines.append(f"| {row} | {what} | {kind} | not run | — | — | — | — |")
                continue
            d = load(path)
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


def _span(values, fmt="{:,}") -> str:
    lo, hi = min(values), max(values)
    return fmt.format(lo) if lo == hi else f"{fmt.format(lo)}–{fmt.format(hi)}"


def paper_summary(protocols) -> str:
    """The paper's result for a group of rows, from the numbers quoted in the protocols."""
    if not any(p.paper for p in protocols):
        return "— (not in a paper)"
    rates = [p.paper["success_rate"] for p in protocols if "success_rate" in p.paper]
    trials = {p.trials for p in protocols}
    if rates and len(rates) == len(protocols):
        head = f"{_span([round(100 * r) for r in rates], '{}')} % of {_span(list(trials), '{}')} trials"
        if any(p.paper.get("from_memory") for p in protocols):
            head += " (from memory, unconfirmed)"
    else:
        head = "solved"
    afters = [p.paper["success_after"] for p in protocols if "success_after" in p.paper]
    if len(afters) == 2 and len(protocols) == 2:
        return f"{head}, after {afters[0]:,} and {afters[1]:,} sequences"
    return f"{head}, after {_span(afters)} sequences" if afters else head


def ours_summary(protocols, rows) -> str:
    """Our result for a group of rows: finished rows pooled, rows in progress and pending counted."""
    done = [(p, r) for p, r in zip(protocols, rows) if r["status"] == "finished"]
    going = [(p, r) for p, r in zip(protocols, rows) if r["status"] == "in progress"]
    parts = []
    if done:
        # like the paper's column: the range of the rows' means (over their solved trials)
        per_row = [sequences_to_success(p, r["solved_after"]) for p, r in done]
        means = [round(float(np.mean(s))) for s in per_row if s]
        total = sum(r["trials"] for _, r in done)
        which = done[0][0].name if len(done) == 1 else f"{len(done)} rows"
        text = f"{which}: {sum(map(len, per_row))}/{total} trials solved"
        if means:
            text += f", after {_span(means)} sequences" + (" (mean)" if len(means) == 1 else " (rows' means)")
        parts.append(text)
    for p, r in going:
        k = sum(s is not None for s in r["solved_after"])
        parts.append(f"{p.name} in progress: {k}/{r['trials']} solved after {r['seen']:,}")
    pending = [p.name for p, r in zip(protocols, rows) if r["status"] == "pending"]
    if pending:
        parts.append(("pending: " + ", ".join(pending)) if len(pending) <= 3 else f"{len(pending)} rows pending")
    return "; ".join(parts)


def summary_table(scale_name: str = "paper", folder: str | Path = ROOT / "results") -> str:
    """The preface's "Reproduction summary" (and chapter 13's): a Markdown table with one line per
    experiment — the paper's result (quoted in `experiments.PROTOCOLS`) beside ours, read from
    the result files and checkpoints under `folder/scale_name`. Nothing in it is typed by hand."""
    from . import experiments

    lines = ["| experiment | task | paper: LSTM result | this book, paper scale | chapter |", "|---|---|---|---|---|"]
    for label, task, chapter, names in GROUPS:
        protocols = [experiments.get(n) for n in names]
        rows = [recorded(n, scale_name, folder=folder) for n in names]
        lines.append(f"| {label} | {task} | {paper_summary(protocols)} | {ours_summary(protocols, rows)} | {chapter} |")
    return "\n".join(lines)
