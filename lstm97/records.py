"""A run's files, and reading them back: nothing here trains or evaluates a net.

A record is ``NAME-seedS.json`` (`path` names it): a small JSON summary — the protocol, the
result, the run's settings and sittings (`train.Run.sittings`: the commit of each start or resume)
and the environment it ran in (`provenance.environment`) — beside which lie

* ``NAME-seedS.curves.npz``: the learning curves, one row per evaluation (`CURVES`);
* ``NAME-seedS.weights.npz``: the kept nets (a solved trial's net as solved, else its last);
* ``NAME-seedS.json.ckpt``: while the run is unfinished, its checkpoint (`checkpoint.save`).

`load` gives the record back as one dict, curves included, as the JSON files of earlier versions
held it (scripts/compact_records.py converted those once).
"""
from __future__ import annotations

import datetime
import json
import re
import subprocess
import zipfile
from pathlib import Path

import numpy as np

from . import checkpoint, experiments, provenance

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "results"
CURVES = ("sequences", "test_loss", "test_correct", "train_error")  # `train.Run`'s, per evaluation
# kept to single precision, 7 significant digits: the digits beyond are noise that does not
# compress (as float64 the test losses alone took 5.4 MB). Every number the book shows from them
# was checked unchanged when the records were converted (scripts/compact_records.py).
SINGLE = ("test_loss", "train_error")


def path(name: str, seed: int = 0, scale_name: str = "paper", folder: str | Path = FOLDER, nets: bool = False) -> Path:
    """Where the record of a row (or a variant, "2c-1+init_range=0.1", `experiments.vary`) lives:
    ``folder/scale_name/[variants/]NAME-seedS.json``; with `nets`, the row's kept first trials
    (`kept_nets`) in ``nets/``. The runner writes there and every reader reads there."""
    sub = ("nets",) if nets else ("variants",) if "+" in name else ()
    return Path(folder, scale_name, *sub, f"{name}-seed{seed}.json")


def curves_file(record: str | Path) -> Path:
    return Path(record).with_suffix(".curves.npz")


def weights_file(record: str | Path) -> Path:
    """The kept nets beside a record: ``NAME-seedS.weights.npz`` (keys ``theta``, ``seen``)."""
    return Path(record).with_suffix(".weights.npz")


def checkpoint_file(record: str | Path) -> Path:
    """The checkpoint of an unfinished run beside its record: ``NAME-seedS.json.ckpt``."""
    return Path(f"{record}.ckpt")


def summary(solved_after: list) -> dict:
    """Success rate and sequences until success (median, mean, range) over the trials."""
    solved = [s for s in solved_after if s is not None]
    out = {"trials": len(solved_after), "solved": len(solved), "success_rate": len(solved) / len(solved_after)}
    if solved:
        out.update(median_after=float(np.median(solved)), mean_after=float(np.mean(solved)),
                   min_after=int(min(solved)), max_after=int(max(solved)))
    return out


def nan_to_none(a) -> list:
    """An array as a list of floats, None for NaN (JSON has no NaN)."""
    return [None if np.isnan(v) else float(v) for v in a]


def record(protocol, run, engine: str, extra=None, command: list[str] | None = None) -> dict:
    """A record's content; `extra` is `evaluation.extra_test`'s (fraction wrong, mean absolute error[,
    mean squared error]) per trial, where the protocol has an extra test set."""
    result = summary(run.solved_after) | {"wall_time": run.wall_time}
    if extra is not None:
        fraction, *errors = (np.asarray(a, dtype=float) for a in extra)
        solved = np.isfinite(fraction)
        result |= {"extra_test": protocol.extra_test, "fraction_wrong": nan_to_none(fraction),
                   "mean_fraction_wrong": float(fraction[solved].mean()) if solved.any() else None}
        for key, e in zip(("mean_difference", "mse"), errors):
            result |= {key: nan_to_none(e), f"mean_{key}": float(e[solved].mean()) if solved.any() else None}
    finished = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    return {
        "experiment": protocol.name, "title": protocol.title, "scale": run.scale,
        "protocol": {"task": run.task, "architecture": protocol.architecture, "lr": protocol.lr,
                     "trials": run.trials, "max_sequences": run.max_sequences, "stop": run.stop,
                     "update": protocol.update, "test_size": run.test_size, "seed": run.seed, "engine": engine,
                     "changes": {k: list(v) if isinstance(v, tuple) else v for k, v in protocol.changes}},
        "paper": protocol.paper,
        "result": result,
        "run": run.as_dict(),  # with its sittings: the commit and code state of every start and resume
        "provenance": provenance.environment(command) | {"finished": finished},
    }


def save_run(path: str | Path, protocol, run, engine: str, extra=None, command: list[str] | None = None) -> dict:
    """Write a finished run's record, curves and kept nets (a solved trial's net as it was when
    solved, else its last); returns the record."""
    data = record(protocol, run, engine, extra, command)
    write(path, data)
    solved = ~np.isnan(run.solved_weights).any(axis=1)
    kept = np.where(solved[:, None], run.solved_weights, run.weights)
    checkpoint.atomic(weights_file(path), lambda f: np.savez_compressed(f, theta=kept, seen=run.sequences[-1]))
    return data


def write(path: str | Path, data: dict) -> None:
    """Write a record: its curves to the .curves.npz, the rest as JSON naming that file; each
    file atomically, the curves first, so that the JSON never names curves that are not there."""
    path = Path(path)
    run, arrays = {}, {}
    for key, value in data["run"].items():
        if key in CURVES:
            run.setdefault("curves", curves_file(path).name)  # where the curves stood
            arrays[key] = _array(key, value)
        else:
            run[key] = value
    checkpoint.atomic(curves_file(path), lambda f: _savez(f, arrays))
    checkpoint.atomic(path, lambda f: f.write((json.dumps(data | {"run": run}, indent=1) + "\n").encode()))


def _array(key: str, values: list) -> np.ndarray:
    if key == "sequences":
        return np.asarray(values, dtype=np.int64)
    dtype = np.float32 if key in SINGLE else np.float64
    if not values:
        return np.zeros((0, 0), dtype)
    return np.asarray([[np.nan if v is None else v for v in row] for row in values], dtype)


def _savez(f, arrays: dict) -> None:
    """`np.savez_compressed`, with LZMA instead of zlib: a fifth smaller on learning curves;
    `np.load` reads it as any .npz."""
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_LZMA) as z:
        for key, a in arrays.items():
            with z.open(f"{key}.npy", "w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, a, allow_pickle=False)


def load(path: str | Path) -> dict:
    """A record as one dict: the JSON summary with the curves put back where they stood."""
    data = json.loads(Path(path).read_text())
    run = data["run"]
    if "curves" in run:  # not in the JSON files of earlier versions, which held the curves
        with np.load(Path(path).with_name(run["curves"])) as f:
            curves = {key: _listed_rows(key, f[key]) for key in f.files}
        data["run"] = {k: w for key, v in run.items() for k, w in (curves.items() if key == "curves" else [(key, v)])}
    return data


def _listed_rows(key: str, a: np.ndarray) -> list:
    if key == "sequences":
        return a.tolist()
    return [[None if np.isnan(v) else v for v in row] for row in a.astype(np.float64).tolist()]


def find(name: str, scale_name: str, folder: str | Path = FOLDER) -> list[dict]:
    """Every record of row `name` at a scale (one per seed)."""
    return [load(p) for p in sorted(Path(folder, scale_name).glob(f"{name}-seed*.json"))]


def seeds(name: str, scale_name: str = "paper", folder: str | Path = FOLDER) -> list[int]:
    """The seeds with a record of row `name` at a scale, in order (a trial depends only on the seed
    and its number, so a new seed adds trials to a row without running it again)."""
    found = (re.fullmatch(rf"{re.escape(name)}-seed(\d+)\.json", p.name) for p in Path(folder, scale_name).glob("*.json"))
    return sorted(int(m[1]) for m in found if m)


def recorded(name: str, scale_name: str = "paper", seed: int = 0, folder: str | Path = FOLDER) -> dict:
    """What is recorded of one row (`experiments.PROTOCOLS[name]`) at a scale, as one dict:

    * ``status``: "finished" (a record), "in progress" (only a checkpoint: a run that
      `python -m lstm97 run NAME --resume` goes on with) or "pending" (neither);
    * ``solved_after`` (per trial, None where unsolved), ``seen`` (sequences per trial so far),
      ``trained`` (training sequences summed over the trials: fewer than trials × seen where
      solved trials were frozen), ``freeze_solved`` (whether they were), ``trials``, ``seed``,
      ``scale``, ``engine``, ``backend``, ``device`` (backend and GPU in words; None for a
      checkpoint), ``wall_time`` (seconds), ``commit`` (the commit of each sitting of the run, or of
      the record of earlier versions; for a checkpoint, the commit that last recorded the file),
      ``run`` (the learning curves), ``path``;
    * ``fraction_wrong``, ``mean_difference`` and (Table 8) ``mse``: per trial, on the protocol's
      extra test set, as recorded (None where unsolved, or for a checkpoint: `report.extra_tested`
      measures them with the checkpoint's ``solved_weights``, its nets as solved);
    * ``weights`` (trials × weights) and ``weights_seen``: every net's weights at the last checkpoint
      and the sequences seen then: a checkpoint's own or those kept beside a record; None where neither.
    """
    base = path(name, seed, scale_name, folder)
    row = {"name": name, "status": "pending", "path": None, "seed": seed, "scale": scale_name,
           "trials": experiments.get(name).trials if scale_name == "paper" else None,
           **dict.fromkeys(("solved_after", "seen", "engine", "backend", "trained", "freeze_solved", "device",
                            "wall_time", "commit", "run", "fraction_wrong", "mean_difference", "mse", "weights",
                            "weights_seen", "solved_weights"))}
    if base.exists():
        d = load(base)
        res, seen = d["result"], d["run"]["sequences"][-1] if d["run"]["sequences"] else 0
        row |= {"status": "finished", "path": base, "trials": d["run"]["trials"],
                "solved_after": d["run"]["solved_after"], "seen": seen, "engine": d["protocol"]["engine"],
                "trained": _trained(d["run"], seen),
                "freeze_solved": d["run"].get("freeze_solved", False), "backend": d["run"]["backend"],
                "wall_time": res["wall_time"], "run": d["run"], "commit": _commits(d), "scale": d["scale"],
                "device": d["provenance"]["device"], "fraction_wrong": res.get("fraction_wrong"),
                "mean_difference": res.get("mean_difference"), "mse": res.get("mse")}
        if (kept := weights_file(base)).exists():
            with np.load(kept) as f:
                row |= {"weights": f["theta"], "weights_seen": int(f["seen"])}
        return row
    if (ckpt := checkpoint_file(base)).exists():
        state, theta, arrays = checkpoint.load(ckpt)
        run = state["run"]
        row |= {"status": "in progress", "path": ckpt, "trials": run["trials"], "solved_after": run["solved_after"],
                "seen": state["seen"], "trained": _trained(run, state["seen"]),
                "freeze_solved": run.get("freeze_solved", False),
                "engine": "fast" if "compiled" in run["learner"] else "reference",
                "backend": run["backend"], "wall_time": run["wall_time"], "run": run, "commit": _file_commit(ckpt),
                "scale": run["scale"], "weights": theta, "weights_seen": state["seen"],
                "solved_weights": arrays.get("solved_weights")}
    return row


def kept_nets(name: str, scale_name: str = "paper", seed: int = 0, folder: str | Path = FOLDER):
    """The nets of a row's first trials, run again to keep them because the row's run kept none
    (`python -m lstm97 run NAME --trials N --out results/<scale>/nets/NAME-seed<S>.json`): their
    sequences until success and their weights as solved, (solved_after, theta); None where not
    recorded. A trial depends only on the seed and its number, so they must be the recorded row's
    own first trials; a ValueError says so where their counts differ from the row's."""
    nets = path(name, seed, scale_name, folder, nets=True)
    if not nets.exists():
        return None
    solved = json.loads(nets.read_text())["run"]["solved_after"]
    row = recorded(name, scale_name, seed, folder)
    if row["status"] != "pending" and row["solved_after"][:len(solved)] != solved:
        raise ValueError(f"{nets} is not the first trials of {name}: solved after {solved}, the row's "
                         f"{row['solved_after'][:len(solved)]}")
    with np.load(weights_file(nets)) as f:
        return solved, f["theta"]


def _trained(run: dict, seen: int) -> int:
    """Training sequences summed over a run's trials, `seen` sequences each; records from before
    solved trials were frozen (`train.Run.trained`) trained every trial to the end."""
    return run.get("trained") or run["trials"] * seen


def _commits(data: dict) -> str:
    """The commits a record's run ran from, short, one per sitting ("+ code changed" where the
    code differed from it); records of earlier versions name one commit, read when written."""
    sittings = data["run"].get("sittings")
    if not sittings:
        head, _, rest = data["provenance"]["git_commit"].partition("+")
        return head[:7] + (" + uncommitted changes" if rest else "")
    return ", ".join(dict.fromkeys(s["commit"][:7] + (" + code changed" if s["code_changed"] else "")
                                   for s in sittings))


def _file_commit(file: Path) -> str:
    """The commit that last recorded `file` (short hash), "+ local changes" if the file differs
    from it; "not committed" if git has never seen it, "unknown" outside a git checkout."""
    try:
        log = subprocess.run(["git", "log", "-1", "--format=%h", "--", str(file)], cwd=ROOT, capture_output=True,
                             text=True, timeout=10)
        changed = subprocess.run(["git", "status", "--porcelain", "--", str(file)], cwd=ROOT, capture_output=True,
                                 text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if log.returncode != 0:
        return "unknown"
    if not log.stdout.strip():
        return "not committed"
    return log.stdout.strip() + (" + local changes" if changed else "")
