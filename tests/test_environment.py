"""The ways in install what the README says: pinned, on the Pythons that are promised.

- pyproject.toml declares the ranges the package supports and `requires-python`; its classifiers
  name the Python versions that CI tests (tests/test_workflows.py checks the workflow's matrix).
- constraints.txt pins every direct dependency, inside pyproject's ranges, on every supported Python.
- The Makefile installs under constraints.txt, in .venv by default and in the active environment
  with `VENV=` (the conda/mamba path).
- environment.yml gives conda/mamba a Python that CI tests, and pip; nothing else, so that the
  only pins are constraints.txt's, applied by the Makefile.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]

yaml = pytest.importorskip("yaml", reason="PyYAML is needed to read environment.yml")

_REQ = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(.*?)\s*(?:;.*)?$")

STRICT_BOOK_FLAGS = ("--all", "--warningiserror", "--nitpick", "--keep-going")


def normalise(requirement: str) -> tuple[str, str]:
    """'NumPy >= 1.26, <3' -> ('numpy', '<3,>=1.26'): lower-case name, `_`->`-`, sorted parts."""
    m = _REQ.match(requirement)
    assert m, f"cannot parse requirement {requirement!r}"
    name, spec = m.groups()
    name = name.lower().replace("_", "-")
    parts = sorted(p.replace(" ", "") for p in spec.split(",") if p.strip())
    return name, ",".join(parts)


def load_pyproject() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)


def requires_python() -> SpecifierSet:
    return SpecifierSet(load_pyproject()["project"]["requires-python"])


def classifier_pythons() -> list[str]:
    """'Programming Language :: Python :: 3.11' -> '3.11', in the order listed."""
    prefix = "Programming Language :: Python :: "
    out = []
    for c in load_pyproject()["project"].get("classifiers", []):
        if c.startswith(prefix) and re.fullmatch(r"3\.\d+", c[len(prefix):]):
            out.append(c[len(prefix):])
    return out


def pip_dependencies() -> set[tuple[str, str]]:
    project = load_pyproject()["project"]
    extras = project.get("optional-dependencies", {})
    reqs = list(project["dependencies"]) + list(extras["book"]) + list(extras["test"])
    return {normalise(r) for r in reqs}


def constraints() -> list[Requirement]:
    pins = []
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            pins.append(Requirement(line))
    assert pins, "constraints.txt pins nothing"
    return pins


def load_environment() -> dict:
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    assert isinstance(env, dict), "environment.yml is not a YAML mapping"
    return env


def test_requires_python_is_the_oldest_python_promised():
    """requires-python admits exactly the classifiers' versions and nothing older."""
    spec = requires_python()
    versions = classifier_pythons()
    assert versions, "pyproject.toml's classifiers name no Python 3.x version"
    assert all(Version(v) in spec for v in versions), f"classifiers {versions} outside requires-python {spec}"
    oldest = min(versions, key=Version)
    major, minor = map(int, oldest.split("."))
    assert Version(f"{major}.{minor - 1}.99") not in spec, (
        f"requires-python {spec} admits Python {major}.{minor - 1}, older than any version tested ({versions})"
    )
    assert Version(oldest) >= Version("3.11"), "constraints.txt's pins need Python >= 3.11"


def test_jupyter_book_is_pinned_below_2():
    book = dict(normalise(r) for r in load_pyproject()["project"]["optional-dependencies"]["book"])
    assert "jupyter-book" in book, "the `book` extra must require jupyter-book"
    assert "<2" in book["jupyter-book"].split(","), (
        "jupyter-book must be pinned `<2`: 2.x is a different tool that ignores _config.yml/_toc.yml"
        f" (found jupyter-book{book['jupyter-book']})"
    )


def test_constraints_pin_versions_inside_pyproject_ranges():
    """constraints.txt (used by the Makefile) must not contradict pyproject.toml's ranges."""
    declared = dict(pip_dependencies())
    pins = constraints()
    for req in pins:
        (pin,) = req.specifier
        assert pin.operator == "==", f"constraints.txt: {req} should be an exact pin"
        # A marker (e.g. python_version >= "3.11") would leave a supported Python unpinned.
        assert req.marker is None, f"constraints.txt: {req} applies only where {req.marker}"
        name = req.name.lower().replace("_", "-")
        if name in declared:
            allowed = Requirement(f"{name}{declared[name]}").specifier
            assert pin.version in allowed, f"constraints.txt pins {name}=={pin.version}, outside pyproject's {allowed}"
    pinned = {r.name.lower().replace("_", "-") for r in pins}
    missing = set(declared) - pinned
    assert not missing, f"direct dependencies without a pin in constraints.txt: {sorted(missing)}"


def test_environment_yml_is_a_tested_python_and_pip():
    env = load_environment()
    assert env["name"] == "lstm97"
    assert env["channels"] == ["conda-forge"]
    deps = env["dependencies"]
    assert all(isinstance(d, str) for d in deps), (
        "environment.yml must not install packages itself (no `pip:` section): the Makefile installs"
        " them under constraints.txt (`make test VENV=`); mamba would read a relative `-c` wrongly"
    )
    names = {normalise(d)[0]: d for d in deps}
    assert set(names) == {"python", "pip"}, (
        f"environment.yml should hold python and pip only, found {sorted(names)}: every other"
        " package comes from pip under constraints.txt"
    )
    m = re.fullmatch(r"python\s*=\s*(3\.\d+)", names["python"].strip())
    assert m, f"environment.yml should pin a Python minor version (python=3.X), found {names['python']!r}"
    assert m.group(1) in classifier_pythons(), (
        f"environment.yml's python={m.group(1)} is not one of the versions tested: {classifier_pythons()}"
    )


def _make_dry_run(target: str, *args: str) -> str:
    """`make -n -B target`: the commands make would run, all of them, without running any."""
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"}}
    out = subprocess.run(
        [make, "--no-print-directory", "-n", "-B", target, *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, f"make -n {target} {' '.join(args)} failed:\n{out.stderr}"
    return out.stdout


@pytest.mark.parametrize("target,extra", [("test", "test"), ("book", "book")])
def test_makefile_default_installs_into_dot_venv_under_constraints(target, extra):
    commands = _make_dry_run(target)
    assert "-m venv .venv" in commands, commands
    assert f".venv/bin/python -m pip install -q -c constraints.txt -e '.[{extra}]'" in commands, commands


@pytest.mark.parametrize("target,extra", [("test", "test"), ("book", "book")])
def test_makefile_uses_the_active_environment_with_empty_venv(target, extra):
    """`make test VENV=` (the conda path): no .venv, the same pinned install into the given Python."""
    commands = _make_dry_run(target, "VENV=", f"PYTHON={sys.executable}")
    assert "-m venv" not in commands, commands
    assert not re.search(r"(^|\s)\.venv/", commands, re.M), commands
    assert f"{sys.executable} -m pip install -q -c constraints.txt -e '.[{extra}]'" in commands, commands
    if target == "test":
        assert f"LSTM97_SCALE=ci {sys.executable} -m pytest tests" in commands, commands
    else:
        jb = os.path.join(sysconfig.get_path("scripts"), "jupyter-book")
        assert f"{jb} build . " + " ".join(STRICT_BOOK_FLAGS) in commands, commands
