"""A run's checkpoint file: everything `train.train` needs to go on exactly where it stopped.

One compressed `.npz`: the weights of every trial (`theta`), the run's plain-data state as UTF-8
JSON (`state`) and named arrays (`array_<name>`: the stopping rule's and the learner's memory, the
solved nets). Writing is atomic, so a crash mid-write leaves the previous checkpoint intact; a
file that is not a checkpoint, or only part of one, raises `Unreadable` and stays where it is.
"""
from __future__ import annotations

import json
import os
import zipfile
import zlib

import numpy as np

from . import backend

ZIP_MAGIC = b"PK\x03\x04"


class Unreadable(ValueError):
    """A file that is not a whole checkpoint: empty, truncated, or something else."""

    def __init__(self, path, what: str):
        super().__init__(f"{path} is not a readable checkpoint: {what}; the file was left in place")
        self.path = path


def atomic(path, write_to) -> None:
    """Write a file atomically: `write_to(f)` fills a temporary file beside it, which then takes
    its place, so that a crash mid-write leaves the previous file whole (checkpoints, records)."""
    tmp = f"{path}.tmp"
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(tmp, "wb") as f:
        write_to(f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def save(path, state: dict, theta, arrays: dict) -> None:
    """Write a checkpoint atomically: `state` is plain data (JSON), `theta` the weights (either
    backend), `arrays` named NumPy arrays."""
    atomic(path, lambda f: np.savez_compressed(
        f, theta=backend.to_host(theta), state=np.frombuffer(json.dumps(state).encode(), dtype=np.uint8),
        **{f"array_{k}": v for k, v in arrays.items()}))


def load(path) -> tuple[dict, np.ndarray, dict]:
    """(state, weights, arrays) of a checkpoint written by `save`; `Unreadable` if it is not one."""
    with open(path, "rb") as f:
        head = f.read(len(ZIP_MAGIC))
    if not head:
        raise Unreadable(path, "it is empty")
    if head != ZIP_MAGIC:
        raise Unreadable(path, "it is not a .npz (zip) file")
    try:
        with np.load(path) as f:
            contents = {k: f[k] for k in f.files}
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as err:
        reason = " ".join(str(err).split())  # one line
        raise Unreadable(path, f"it is truncated or damaged ({type(err).__name__}: {reason})") from None
    if not {"theta", "state"} <= contents.keys():
        raise Unreadable(path, "it is a .npz file without a run's weights and state")
    raw = contents.pop("state")
    try:  # UTF-8 bytes; earlier versions wrote the JSON as a NumPy string
        state = json.loads(raw.tobytes().decode() if raw.dtype == np.uint8 else str(raw))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise Unreadable(path, f"its state is not JSON ({' '.join(str(err).split())})") from None
    if not isinstance(state, dict):
        raise Unreadable(path, "its state is not a run's")
    arrays = {k[len("array_"):]: v for k, v in contents.items() if k.startswith("array_")}
    return state, contents["theta"], arrays
