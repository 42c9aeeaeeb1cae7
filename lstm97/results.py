"""Result files: one JSON file per run of one experiment, with everything a table needs and how
it was obtained (version, git commit, backend and device, seed, scale, wall time)."""
from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
from pathlib import Path

import numpy as np

from . import __version__, backend

ROOT = Path(__file__).resolve().parents[1]


def git_commit() -> str:
    """The commit of the checkout the package runs from, "unknown" outside a git checkout."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
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
                     "update": protocol.update, "test_size": run.test_size, "seed": run.seed, "engine": engine},
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


def status_table(protocols, rate: float, scale_name: str = "paper") -> str:
    """A Markdown table: for every protocol, the recorded paper-scale result or "pending" with the
    estimated cost at `rate` network-steps per second."""
    lines = ["| experiment | task | trials | paper: sequences to success | ours | network-steps (est.) | "
             f"time at {rate:.2g} steps/s (est.) |", "|---|---|---|---|---|---|---|"]
    for p in protocols:
        found = find(p.name, scale_name)
        if found:
            r = found[-1]["result"]
            ours = (f"{r['solved']}/{r['trials']} solved" + (f", median {r['median_after']:,.0f}" if r["solved"] else "")
                    + f" ({found[-1]['protocol']['engine']}, {r['wall_time'] / 60:.1f} min)")
        elif ckpts := sorted(Path(ROOT, "results", scale_name).glob(f"{p.name}-seed*.json.ckpt")):
            from .train import load_checkpoint

            state, _, _ = load_checkpoint(str(ckpts[-1]))
            so_far = summary(state["run"]["solved_after"])
            ours = (f"in progress: {so_far['solved']}/{so_far['trials']} solved after {state['seen']:,} sequences "
                    f"(checkpoint; --resume)")
        else:
            ours = "pending"
        steps = estimate(p)
        paper = p.paper.get("success_after")
        lines.append(f"| {p.name} | {p.title} | {p.trials} | {paper:,}" if paper else f"| {p.name} | {p.title} | {p.trials} | —")
        lines[-1] += f" | {ours} | {steps:.2g} | {duration(steps / rate)} |"
    return "\n".join(lines)
