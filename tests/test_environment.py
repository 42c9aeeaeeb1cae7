"""pyproject.toml and environment.yml must list the same dependencies with the same specifiers.

The conda environment mirrors the pip install of `.[book,test]`: the runtime dependencies plus
the `book` and `test` extras (the `gpu` extra is left out of environment.yml on purpose). A
package conda-forge names differently is compared under its pip name (`CONDA_NAMES`).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    try:
        import tomli as tomllib  # type: ignore[no-redef]
    except ModuleNotFoundError:
        tomllib = None  # type: ignore[assignment]

yaml = pytest.importorskip("yaml", reason="PyYAML is needed to read environment.yml")

pytestmark = pytest.mark.skipif(
    tomllib is None,
    reason="reading pyproject.toml needs tomllib (Python >= 3.11) or the tomli package",
)

# conda-forge's name -> pip's name
CONDA_NAMES = {"pytorch": "torch"}

_REQ = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(.*?)\s*(?:;.*)?$")


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


def pip_dependencies() -> set[tuple[str, str]]:
    project = load_pyproject()["project"]
    extras = project.get("optional-dependencies", {})
    reqs = list(project["dependencies"]) + list(extras["book"]) + list(extras["test"])
    return {normalise(r) for r in reqs}


def conda_dependencies() -> set[tuple[str, str]]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    deps = set()
    for entry in env["dependencies"]:
        if not isinstance(entry, str):  # the `pip:` section
            continue
        name, spec = normalise(entry)
        if name in {"python", "pip"}:
            continue
        deps.add((CONDA_NAMES.get(name, name), spec))
    return deps


def _fmt(deps: set[tuple[str, str]]) -> str:
    return ", ".join(f"{n}{s}" for n, s in sorted(deps)) or "(none)"


def test_environment_yml_matches_pyproject():
    pip, conda = pip_dependencies(), conda_dependencies()
    assert pip == conda, (
        "environment.yml and pyproject.toml (dependencies + book + test extras) disagree.\n"
        f"  only in pyproject.toml:  {_fmt(pip - conda)}\n"
        f"  only in environment.yml: {_fmt(conda - pip)}\n"
        "Use the same names and version specifiers in both files."
    )


def test_environment_yml_basics():
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    assert env["name"] == "lstm97"
    assert env["channels"] == ["conda-forge"]
    names = [normalise(d)[0] for d in env["dependencies"] if isinstance(d, str)]
    assert "python" in names and "pip" in names
    pip_sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert pip_sections == [["-e ."]], "environment.yml must end with a `pip: [-e .]` section"


def test_jupyter_book_is_pinned_below_2():
    book = dict(normalise(r) for r in load_pyproject()["project"]["optional-dependencies"]["book"])
    assert "jupyter-book" in book, "the `book` extra must require jupyter-book"
    assert "<2" in book["jupyter-book"].split(","), (
        "jupyter-book must be pinned `<2`: 2.x is a different tool that ignores _config.yml/_toc.yml"
        f" (found jupyter-book{book['jupyter-book']})"
    )


def test_constraints_pin_versions_inside_pyproject_ranges():
    """constraints.txt (used by the Makefile) must not contradict pyproject.toml's ranges."""
    from packaging.requirements import Requirement

    declared = {}
    for name, spec in pip_dependencies():
        declared[name] = spec
    pins = []
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            pins.append(Requirement(line))
    assert pins, "constraints.txt pins nothing"
    for req in pins:
        (pin,) = req.specifier
        assert pin.operator == "==", f"constraints.txt: {req} should be an exact pin"
        name = req.name.lower().replace("_", "-")
        if name in declared:
            allowed = Requirement(f"{name}{declared[name]}").specifier
            assert pin.version in allowed, f"constraints.txt pins {name}=={pin.version}, outside pyproject's {allowed}"
    pinned = {r.name.lower() for r in pins}
    missing = set(declared) - pinned
    assert not missing, f"direct dependencies without a pin in constraints.txt: {sorted(missing)}"
