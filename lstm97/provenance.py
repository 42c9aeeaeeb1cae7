"""Where a result came from: the code a run executed and the environment it ran in.

`code_state()` is read when a sitting of a run starts (`train.train` keeps one per start or
resume in `Run.sittings`), not when its record is written, so a run that spans several commits
records each. It looks only at the tracked files under `lstm97/`, the code: a changed notebook or
result file does not make a run's code differ from its commit.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path

import numpy as np

from . import __version__, backend

ROOT = Path(__file__).resolve().parent.parent  # the checkout the package runs from, if it is one
UNKNOWN = {"commit": "unknown", "code_changed": False, "code_diff_sha256": None}


def _git(*args: str) -> str | None:
    """stdout of a git command run in ROOT, None where git or the checkout is missing."""
    try:
        # no optional locks: reading the state must not get in the way of a commit being made
        out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, timeout=10,
                             env=os.environ | {"GIT_OPTIONAL_LOCKS": "0"})
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.decode(errors="replace") if out.returncode == 0 else None


def code_state() -> dict:
    """{"commit": the full hash of HEAD ("unknown" outside a git checkout of lstm97), "code_changed":
    whether the tracked files under lstm97/ differ from it (staged or not), "code_diff_sha256":
    the SHA-256 of that difference (`git diff HEAD -- lstm97`), None where there is none}."""
    top = _git("rev-parse", "--show-toplevel")
    # an installed copy inside some other repository (a virtual environment, say) is not a checkout
    if top is None or Path(top.strip()).resolve() != ROOT:
        return dict(UNKNOWN)
    commit = _git("rev-parse", "HEAD")
    diff = _git("--no-pager", "diff", "--no-color", "--no-ext-diff", "--no-textconv", "HEAD", "--", "lstm97")
    if commit is None or diff is None:
        return dict(UNKNOWN)
    return {"commit": commit.strip(), "code_changed": bool(diff),
            "code_diff_sha256": hashlib.sha256(diff.encode()).hexdigest() if diff else None}


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def environment(command: list[str] | None = None) -> dict:
    """The software and machine a run ran on, and the command line that started it (a list)."""
    try:
        import numba
        threads = numba.get_num_threads()
    except ImportError:
        threads = None
    return {"lstm97": __version__, "python": platform.python_version(), "numpy": np.__version__,
            "numba": _version("numba"), "llvmlite": _version("llvmlite"), "threads": threads,
            "device": backend.describe(), "machine": platform.platform(), "cpus": os.cpu_count(),
            "command": None if command is None else list(command)}
