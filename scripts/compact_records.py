"""Convert the records of earlier versions (one JSON file holding the learning curves, 98 % of it)
into the small JSON summary + .curves.npz that `lstm97.records` writes; run once, from the
repository root: ``PYTHONPATH=. python scripts/compact_records.py [FOLDER]`` (default: results/).

Every converted record is read back with `records.load` and compared with the JSON file as
committed (`git show HEAD:PATH`, or the file itself where git has not seen it): every value equal
and of the same type, except the curves kept to single precision (`records.SINGLE`), which must
equal the committed values rounded to float32, with None where a value was None.
A record already converted is left as it is.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from lstm97 import records


def committed(path: Path) -> dict:
    try:
        rel = path.resolve().relative_to(records.ROOT)
    except ValueError:  # outside the checkout
        return json.loads(path.read_text())
    out = subprocess.run(["git", "show", f"HEAD:{rel}"], cwd=records.ROOT, capture_output=True, text=True)
    return json.loads(out.stdout if out.returncode == 0 else path.read_text())


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
        if "curves" in json.loads(path.read_text())["run"]:
            check(path, json.loads(json.dumps(records.load(path))))  # still readable
            continue
        old = committed(path)
        records.write(path, old)
        check(path, old)
        converted += 1
    after = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    largest = max(files, key=lambda p: p.stat().st_size)
    print(f"{converted} of {len(files)} records converted, every one read back as committed "
          f"({', '.join(records.SINGLE)} to float32); {folder}: {before / 1e6:.1f} MB -> {after / 1e6:.1f} MB; "
          f"largest JSON {largest.relative_to(folder)} ({largest.stat().st_size / 1e3:.1f} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else records.FOLDER))
