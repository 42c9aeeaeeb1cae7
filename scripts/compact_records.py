"""Convert the records and checkpoints of earlier versions to what `lstm97.records` writes; run
once, from the repository root: ``PYTHONPATH=. python scripts/compact_records.py [FOLDER]``
(default: results/).

- A record of one JSON file holding the learning curves (98 % of it) becomes the small JSON
  summary + .curves.npz; a .curves.npz whose `records.SINGLE` curves are float64 is written again
  with them in float32.
- A checkpoint of a run stopped by ST3 without an error bound loses the window of training
  errors that `stopping.Recent` no longer keeps (nothing reads it).

Every converted record is read back with `records.load` and compared with the record as
committed (`git show HEAD:PATH`, or the file itself where git has not seen it): every value equal
and of the same type, except the curves kept to single precision (`records.SINGLE`), which must
equal the committed values rounded to float32, with None where a value was None. A converted
checkpoint must hold every other array and the state unchanged. Files already converted are left.
"""
from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from lstm97 import checkpoint, records


def _committed_bytes(path: Path) -> bytes:
    try:
        rel = path.resolve().relative_to(records.ROOT)
    except ValueError:  # outside the checkout
        return path.read_bytes()
    out = subprocess.run(["git", "show", f"HEAD:{rel}"], cwd=records.ROOT, capture_output=True)
    return out.stdout if out.returncode == 0 else path.read_bytes()


def committed(path: Path) -> dict:
    """The record as committed, curves included."""
    data = json.loads(_committed_bytes(path))
    if "curves" in data["run"]:
        with np.load(io.BytesIO(_committed_bytes(path.with_name(data["run"]["curves"])))) as f:
            curves = {k: records._listed_rows(k, f[k]) for k in f.files}
        data["run"] = {k: w for key, v in data["run"].items()
                       for k, w in (curves.items() if key == "curves" else [(key, v)])}
    return data


def single_already(path: Path) -> bool:
    run = json.loads(path.read_text())["run"]
    if "curves" not in run:
        return False
    with np.load(path.with_name(run["curves"])) as f:
        return all(f[k].dtype == np.float32 for k in records.SINGLE if k in f.files)


def compact_checkpoint(path: Path) -> bool:
    """Drop the training-error window of an ST3 run without an error bound; True if dropped."""
    state, theta, arrays = checkpoint.load(path)
    if "error" not in arrays or not state["run"]["stop"].startswith("ST3") or state["run"]["stop"].startswith("ST3("):
        return False
    checkpoint.save(path, state, theta, {k: v for k, v in arrays.items() if k != "error"})
    state2, theta2, arrays2 = checkpoint.load(path)
    assert state2 == state and np.array_equal(theta2, theta) and arrays2.keys() == arrays.keys() - {"error"}
    assert all(np.array_equal(arrays2[k], arrays[k], equal_nan=arrays[k].dtype.kind == "f") for k in arrays2), path.name
    return True


def same(a, b, where: str) -> None:
    """Equal values of equal types, all the way down."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} became {type(b).__name__}"
    if isinstance(a, dict):
        assert list(a) == list(b), f"{where}: keys {list(a)} became {list(b)}"
        for k in a:
            same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), f"{where}: {len(a)} items became {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{where}[{i}]")
    else:
        assert a == b, f"{where}: {a!r} became {b!r}"


def rounded(old: list, new: list, where: str) -> None:
    """`new` is `old` rounded to float32, None kept."""
    a = np.array([[np.nan if v is None else v for v in row] for row in old], dtype=float)
    b = np.array([[np.nan if v is None else v for v in row] for row in new], dtype=float)
    assert a.shape == b.shape and np.array_equal(np.isnan(a), np.isnan(b)), f"{where}: None moved"
    assert all(type(v) is float for row in new for v in row if v is not None), f"{where}: not floats"
    assert np.array_equal(a.astype(np.float32).astype(float), b, equal_nan=True), f"{where}: not float32 rounding"


def check(path: Path, old: dict) -> None:
    new = records.load(path)
    single = {k: (old["run"][k], new["run"][k]) for k in records.SINGLE}
    strip = lambda d: d | {"run": {k: v for k, v in d["run"].items() if k not in records.SINGLE}}  # noqa: E731
    same(strip(old), strip(new), path.name)
    assert list(old["run"]) == list(new["run"]), f"{path.name}: the run's keys reordered"
    for k, (a, b) in single.items():
        rounded(a, b, f"{path.name}.run.{k}")


def main(folder: Path) -> int:
    files = sorted(p for p in folder.rglob("*.json"))
    before = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    converted = 0
    for path in files:
        if single_already(path):
            check(path, json.loads(json.dumps(records.load(path))))  # still readable
            continue
        old = committed(path)
        records.write(path, old)
        check(path, old)
        converted += 1
    checkpoints = sum(compact_checkpoint(p) for p in sorted(folder.rglob("*.ckpt")))
    after = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    largest = max(files, key=lambda p: p.stat().st_size)
    print(f"{converted} of {len(files)} records and {checkpoints} checkpoints converted, every record read back as committed "
          f"({', '.join(records.SINGLE)} to float32); {folder}: {before / 1e6:.1f} MB -> {after / 1e6:.1f} MB; "
          f"largest JSON {largest.relative_to(folder)} ({largest.stat().st_size / 1e3:.1f} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else records.FOLDER))
