"""CI simulates Colab (issue #23): run chapters the way Google Colab runs them, from a clean clone.

For each backend (NumPy; CuPy through the stand-in in tests/standins/cupy) and each of the preface,
one training chapter and chapter 13, in a runtime of its own as Colab gives every notebook:

1. a fresh virtual environment outside the repository stands in for Colab's Python. A `.pth` file
   lists this test environment's site-packages as plain paths, standing in for the packages Colab
   ships (numpy, matplotlib, numba, ipykernel, ...). A plain path does not process that folder's
   own `.pth` files, so this environment's editable install of lstm97 is NOT visible there: the
   test checks that `import lstm97` fails before the set-up cell runs;
2. the kernel runs that environment's python with `tests/standins/colab` on its PYTHONPATH: its
   `sitecustomize` imports the `google.colab` stand-in at start-up, as Colab does before any cell;
3. the notebook, taken from a shallow clone of this repository (which stands in for GitHub at
   main: only committed files), is executed from an empty folder at LSTM97_SCALE=ci with only its
   set-up cell's repository URL (-> `file://` that clone) and `/content/lstm97` (-> a temporary
   folder) replaced. The cell clones, `%pip install`s (build isolation fetches setuptools from the
   package index), puts the clone on sys.path and changes into its book/ folder;
4. one cell appended to the copy reports where lstm97 was imported from.

Checked: no cell fails; the set-up cell took Colab's branch; the kernel's lstm97 is the clone's
and the fresh environment has it installed; every row the clone records as finished
(`lstm97.records.recorded`, asked here about the clone's results/ folder) shows as finished,
not pending, in the preface's summary, in chapter 12's Table 9 and in chapter 13.

Deselect with `pytest -m "not colab"`. Executed notebooks are kept under pytest's tmp_path.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from colab_setup import HOME as COLAB_HOME  # where Colab keeps the clone

nbformat = pytest.importorskip("nbformat", reason="nbformat is needed to read the notebooks")
nbclient = pytest.importorskip("nbclient", reason="nbclient is needed to execute the notebooks")
yaml = pytest.importorskip("yaml", reason="PyYAML is needed to read _config.yml")

ROOT = Path(__file__).resolve().parents[1]
STANDINS = Path(__file__).resolve().parent / "standins"
COLAB_STANDIN = STANDINS / "colab"  # google/colab/__init__.py and sitecustomize.py
CUPY_STANDIN = STANDINS / "cupy" / "__init__.py"
TRAINING_CHAPTER = "12_temporal_order"  # trains 6a at ci scale (25-60 s) and reads rows 6a and 6b: the fastest measured
NOTEBOOKS = ("intro", TRAINING_CHAPTER, "13_reproduction")
MIN_FINISHED = 25  # rows recorded as finished at paper scale (30 when this test was written)
CELL_TIMEOUT = 900  # seconds per cell

pytestmark = [
    pytest.mark.colab,
    pytest.mark.skipif(shutil.which("git") is None, reason="git is needed to clone the repository as Colab does"),
]

PROBE = """\
import json, os, sys, google.colab, lstm97
print("COLAB-PROBE " + json.dumps({"lstm97": lstm97.__file__, "cwd": os.getcwd(), "prefix": sys.prefix,
                                   "colab": google.colab.__file__, "standin": getattr(google.colab, "STANDIN", False),
                                   "backend": lstm97.backend.name()}))"""

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def run(cmd, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=600, **kw)


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """A shallow clone of this repository: what Colab fetches from GitHub (committed files only)."""
    if run(["git", "-C", ROOT, "rev-parse", "HEAD"]).returncode != 0:
        pytest.skip(f"{ROOT} is not a git checkout with a commit")
    dest = tmp_path_factory.mktemp("github") / "lstm97"
    done = run(["git", "clone", "-q", "--depth", "1", ROOT.as_uri(), dest])
    assert done.returncode == 0, done.stderr
    return dest


@pytest.fixture(scope="module")
def expected(clone) -> dict:
    """What the clone records: `records.recorded(name)` for every row, asked here about its results/."""
    from lstm97 import experiments, records, summary

    folder = clone / "results"
    status = {name: records.recorded(name, folder=folder)["status"] for name in experiments.PROTOCOLS}
    finished = sorted(n for n, s in status.items() if s == "finished")
    assert len(finished) >= MIN_FINISHED, (
        f"the clone records only {len(finished)} finished rows ({finished}) in {folder / 'paper'}; expected "
        f"{MIN_FINISHED} or more: are the result files committed?")
    return {"status": status, "groups": summary.GROUPS}


def site_packages() -> list[str]:
    """This environment's site-packages folders (Colab's preinstalled packages, in the simulation)."""
    import site

    paths = [*site.getsitepackages(), site.getusersitepackages() if site.ENABLE_USER_SITE else None]
    return [p for p in dict.fromkeys(paths) if p and os.path.isdir(p)]


def fresh_runtime(where: Path, backend: str) -> tuple[Path, dict]:
    """A fresh Python environment and the environment variables of a kernel running it, as Colab's."""
    env_dir = where / "python"
    base = getattr(sys, "_base_executable", None) or sys.executable
    made = run([base, "-m", "venv", env_dir])
    assert made.returncode == 0, made.stderr
    python = env_dir / "bin" / "python"
    purelib = run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    Path(purelib, "colab-preinstalled.pth").write_text("\n".join(site_packages()) + "\n")

    # this process's environment, less what points into the test environment or sets up the tests
    # (tests/conftest.py turns on Numba's CUDA simulator, which Colab does not)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV",
                                                             "NUMBA_ENABLE_CUDASIM") and not k.startswith("LSTM97_")}
    path = [str(COLAB_STANDIN)] + ([str(STANDINS)] if backend == "cupy" else [])  # STANDINS: the `cupy` stand-in
    env |= {"PYTHONPATH": os.pathsep.join(path), "VIRTUAL_ENV": str(env_dir),
            "PATH": str(env_dir / "bin") + os.pathsep + os.environ.get("PATH", ""),
            "LSTM97_SCALE": "ci", "LSTM97_BACKEND": backend, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}

    # the simulation is what it claims: Colab's packages and the stand-in are there, lstm97 is not
    started = run([python, "-c", "import sys, numpy, matplotlib, numba, ipykernel; print('google.colab' in sys.modules)"],
                  env=env)
    assert started.returncode == 0 and started.stdout.strip() == "True", (started.stdout, started.stderr)
    hidden = run([python, "-c", "import lstm97"], env=env, cwd=where)
    assert hidden.returncode != 0 and "No module named 'lstm97'" in hidden.stderr, (
        "lstm97 is importable in the fresh environment before the set-up cell has run, so this test could not "
        f"tell whether the cell installs it: {hidden.stdout}{hidden.stderr}")
    return python, env


def colab_copy(clone: Path, name: str, home: Path) -> nbformat.NotebookNode:
    """The clone's notebook with only the repository URL and Colab's home replaced in its set-up
    cell, and the probe cell appended."""
    url = yaml.safe_load((clone / "_config.yml").read_text(encoding="utf-8"))["repository"]["url"].rstrip("/")
    nb = nbformat.read(clone / "book" / f"{name}.ipynb", as_version=4)
    setup = next(c for c in nb.cells if c.cell_type == "code")
    for old, new in ((f'"{url}"', f'"{clone.as_uri()}"'), (f'"{COLAB_HOME}"', f'"{home}"')):
        assert setup.source.count(old) == 1, f"{name}: the set-up cell no longer holds {old} once:\n{setup.source}"
        setup.source = setup.source.replace(old, new)
    nb.cells.append(nbformat.v4.new_code_cell(PROBE))
    return nb


def texts(cell) -> str:
    """Everything a code cell shows: streams, Markdown and plain-text displays, errors."""
    out = []
    for o in cell.get("outputs", []):
        if o.output_type == "stream":
            out.append(o.text)
        elif o.output_type in ("display_data", "execute_result"):
            data = o.get("data", {})
            if "text/markdown" in data or "text/plain" in data:  # not a glued value (stored, not shown)
                out.append(data.get("text/markdown", data.get("text/plain")))
        elif o.output_type == "error":
            out.append(ANSI.sub("", "\n".join(o.traceback)))
    return "\n".join(out)


def execute(nb, where: Path, python: Path, env: dict, monkeypatch, keep: Path) -> tuple[nbformat.NotebookNode, float]:
    """Execute `nb` from an empty folder in a kernel running `python`; keep the executed copy."""
    kernels = where / "jupyter" / "kernels" / "colab-standin"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Colab stand-in", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(where / "jupyter"))
    content = where / "content"  # Colab's working folder, empty here
    content.mkdir()
    client = nbclient.NotebookClient(nb, kernel_name="colab-standin", timeout=CELL_TIMEOUT,
                                     resources={"metadata": {"path": str(content)}})
    t0 = time.perf_counter()
    try:
        client.execute(env=env)
    except nbclient.exceptions.CellExecutionError as err:
        nbformat.write(nb, keep)
        pytest.fail(f"{keep.name} failed under the Colab simulation (executed copy: {keep}):\n{ANSI.sub('', str(err))}",
                    pytrace=False)
    finally:
        wall = time.perf_counter() - t0
    nbformat.write(nb, keep)
    return nb, wall


def check_setup_and_probe(nb, name: str, backend: str, home: Path, python: Path, env: dict, keep: Path) -> None:
    """The set-up cell took Colab's branch and the kernel imported lstm97 from the clone it made."""
    setup = texts(next(c for c in nb.cells if c.cell_type == "code"))
    where = f"{name} ({keep})"
    # IPython's %pip prints this note after running pip: the Colab branch ran
    assert "you may need to restart the kernel" in setup, f"{where}: the set-up cell did not run %pip:\n{setup}"
    for bad in ("ERROR", "fatal:", "Traceback"):
        assert bad not in setup, f"{where}: the set-up cell reports a failure:\n{setup}"
    described = [line for line in setup.splitlines() if line.startswith("lstm97 backend:")]
    assert len(described) == 1 and described[0].startswith(f"lstm97 backend: {backend} "), (where, setup)
    if backend == "cupy":
        assert "stand-in" in described[0], f"{where}: the CuPy stand-in is not the GPU described: {described[0]}"

    probe = next(line for line in texts(nb.cells[-1]).splitlines() if line.startswith("COLAB-PROBE "))
    probe = json.loads(probe.removeprefix("COLAB-PROBE "))
    assert Path(probe["lstm97"]).resolve() == (home / "lstm97" / "__init__.py").resolve(), (where, probe)
    assert Path(probe["cwd"]).resolve() == (home / "book").resolve(), (where, probe)
    assert Path(probe["prefix"]).resolve() == python.parents[1].resolve(), (where, probe)
    assert probe["standin"] and Path(probe["colab"]).resolve().is_relative_to(COLAB_STANDIN), (where, probe)
    assert probe["backend"] == backend, (where, probe)

    # %pip installed the clone into the fresh environment: a new process (Colab after a restart) finds it
    installed = run([python, "-c", "import lstm97; print(lstm97.__file__)"], env=env, cwd=home.parent / "content")
    assert installed.returncode == 0, f"{where}: lstm97 is not installed in the fresh environment:\n{installed.stderr}"
    assert Path(installed.stdout.strip()).resolve() == (home / "lstm97" / "__init__.py").resolve(), installed.stdout


def markdown_rows(text: str) -> list[list[str]]:
    """The body rows of the Markdown tables in `text`, as lists of cells."""
    rows = []
    for line in text.splitlines():
        if line.startswith("|") and not set(line) <= set("|-: "):
            rows.append([c.strip() for c in line.strip().strip("|").split("|")])
    return rows


def shown_summary(text: str) -> dict:
    """From a summary table (`summary.table`), per (label, task): the "this book" cell."""
    return {(r[0], r[1]): r[3] for r in markdown_rows(text) if len(r) == 5}


def check_summary(text: str, expected: dict, where: str) -> int:
    """Every group of the summary counts its rows as the clone records them; the finished rows shown."""
    shown, status = shown_summary(text), expected["status"]
    total = 0
    for label, task, _, names in expected["groups"]:
        assert (label, task) in shown, f"{where}: the summary has no line for {label} ({task}):\n{text}"
        cell = shown[label, task]
        finished = [n for n in names if status[n] == "finished"]
        going = [n for n in names if status[n] == "in progress"]
        pending = [n for n in names if status[n] == "pending"]
        line = f"{where}, summary line {label} ({task}): {cell!r}; recorded: finished {finished}, in progress {going}"
        m = re.match(r"(?:(\d+) rows|([\w-]+)): (\d+)/(\d+) trials solved", cell)
        assert (m is not None) == bool(finished), line
        if m:
            assert (int(m[1]) if m[1] else 1) == len(finished) and (m[2] in (None, *finished)), line
            total += len(finished)
        assert sorted(re.findall(r"([\w-]+) in progress:", cell)) == sorted(going), line
        m = re.search(r"pending: ([\w\-, ]+)|(\d+) rows pending", cell)
        assert (m is not None) == bool(pending), line
        if m:
            listed = m[1].split(", ") if m[1] else None
            assert (listed == pending) if listed else int(m[2]) == len(pending), line
        for n in finished:
            assert not re.search(rf"pending: [^;]*\b{re.escape(n)}\b", cell), line
    return total


def check_intro(nb, expected: dict) -> str:
    table = next(texts(c) for c in nb.cells if c.cell_type == "code" and "| experiment |" in texts(c))
    total = check_summary(table, expected, "intro")
    assert total >= MIN_FINISHED, f"intro: only {total} finished rows in the summary:\n{table}"
    return table


def check_training_chapter(nb, expected: dict) -> None:
    text = next(texts(c) for c in nb.cells if c.cell_type == "code" and "**Table 9**" in texts(c))
    rows = {r[0]: r for r in markdown_rows(text)}
    for name in ("6a", "6b"):
        status = expected["status"][name]
        assert name in rows, f"{TRAINING_CHAPTER}: Table 9 has no row {name}:\n{text}"
        shown = rows[name][-3]  # the "solved" column of `report.table`: k/n [interval] for a finished row
        if status == "finished":
            assert re.fullmatch(r"\d+/\d+ \[[\d.]+–[\d.]+ %\]( \(seeds [\d, ]+\))?", shown) \
                and "pending" not in rows[name], (name, status, rows[name])
        elif status == "in progress":
            assert shown.startswith("in progress"), (name, status, rows[name])
        else:
            assert "pending" in rows[name], (name, status, rows[name])


def check_reproduction(nb, expected: dict, intro_summary: str) -> None:
    status = expected["status"]
    table = next(texts(c) for c in nb.cells if c.cell_type == "code" and "| row | task | status |" in texts(c))
    shown = {r[0]: r[2] for r in markdown_rows(table) if r[0] in status}
    finished = {n for n, s in status.items() if s == "finished"}
    assert finished <= set(shown), f"13: rows recorded as finished are missing: {sorted(finished - set(shown))}"
    for name, cell in shown.items():
        want = {"finished": "finished", "in progress": "in progress", "pending": "pending"}[status[name]]
        assert cell.split(" (")[0] == want, f"13: row {name} shows {cell!r}, recorded {status[name]!r}"
    m = re.search(r"(\d+) rows: (\d+) finished, (\d+) in progress, (\d+) pending", table)
    assert m and int(m[2]) == len(finished) and int(m[2]) >= MIN_FINISHED, (m and m[0], len(finished))
    summary = next(texts(c) for c in nb.cells if c.cell_type == "code" and "| experiment | task | paper:" in texts(c))
    check_summary(summary, expected, "13")
    assert summary == intro_summary, "13's summary differs from the preface's, made by one function from one clone"


@pytest.mark.parametrize("backend", [
    "numpy",
    pytest.param("cupy", marks=pytest.mark.skipif(
        not CUPY_STANDIN.is_file(), reason=f"the CuPy stand-in {CUPY_STANDIN.relative_to(ROOT)} is not there yet")),
])
def test_chapters_run_as_in_colab(backend, clone, expected, tmp_path, monkeypatch):
    walls, intro_summary = {}, None
    # CI's time: under the CuPy stand-in the intro and the training chapter (chapter 13 adds ~1-2 min;
    # every chapter runs under the stand-in with the command in tests/test_cupy_standin.py)
    names = NOTEBOOKS if backend == "numpy" else NOTEBOOKS[:2]
    for name in names:  # each in a runtime of its own, as Colab gives every notebook
        where = tmp_path / name
        where.mkdir()
        t0 = time.perf_counter()
        python, env = fresh_runtime(where, backend)
        home = where / "lstm97"  # Colab's /content/lstm97: not there before the set-up cell
        nb = colab_copy(clone, name, home)
        keep = tmp_path / f"{name}.executed.ipynb"
        nb, wall = execute(nb, where, python, env, monkeypatch, keep)
        check_setup_and_probe(nb, name, backend, home, python, env, keep)
        if name == "intro":
            intro_summary = check_intro(nb, expected)
        elif name == TRAINING_CHAPTER:
            check_training_chapter(nb, expected)
        else:
            check_reproduction(nb, expected, intro_summary)
        walls[name] = f"{wall:.0f} s executing, {time.perf_counter() - t0:.0f} s in all"
        shutil.rmtree(where)  # the runtime's clone and environment (~100 MB); the executed copy stays
    print(f"Colab simulation, backend {backend}: {walls}")
