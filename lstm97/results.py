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


def record(protocol, run, engine: str) -> dict:
    return {
        "experiment": protocol.name, "title": protocol.title, "scale": run.scale,
        "protocol": {"task": run.task, "architecture": protocol.architecture, "lr": protocol.lr,
                     "trials": run.trials, "max_sequences": run.max_sequences, "stop": run.stop,
                     "update": protocol.update, "test_size": run.test_size, "seed": run.seed, "engine": engine},
        "paper": protocol.paper,
        "result": summary(run.solved_after) | {"wall_time": run.wall_time},
        "run": run.as_dict(),
        "provenance": provenance(),
    }


def write(path: str | Path, data: dict) -> None:
    """Write JSON atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    os.replace(tmp, path)


def load(path: str | Path) -> dict:
    return json.loads(Path(path).read_text())
