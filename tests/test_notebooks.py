"""House rules for the book's notebooks (book/*.ipynb).

(a) valid nbformat-4 notebooks with a Python 3 kernel;
(b) committed without outputs: the book build and nbval execute them, and their claims are asserts;
(c) the first code cell is the Colab set-up cell, installing from the repository named in _config.yml;
(d) _toc.yml and book/ agree.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml", reason="PyYAML is needed to read _config.yml and _toc.yml")

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
NOTEBOOKS = sorted(BOOK.glob("*.ipynb"))


def load_notebook(path: Path) -> dict:
    """Read a notebook as JSON; errors name the notebook (no fixtures involved)."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        pytest.fail(f"{path.relative_to(ROOT)} is not valid JSON: {exc}")
    if not isinstance(nb, dict) or "cells" not in nb:
        pytest.fail(f"{path.relative_to(ROOT)} is not a Jupyter notebook (no `cells`)")
    return nb


def code_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c.get("cell_type") == "code"]


def source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def repository_url() -> str:
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    return config["repository"]["url"].rstrip("/")


def toc_files() -> list[str]:
    """Every `file:` in _toc.yml, the root included, without suffix."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({k: v for k, v in toc.items() if k != "root"})
    return [str(Path(f).with_suffix("")) if Path(f).suffix in {".md", ".ipynb"} else f for f in files]


ids = [p.name for p in NOTEBOOKS]


def test_book_has_notebooks():
    assert NOTEBOOKS, f"no notebooks found in {BOOK}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_notebook_format_and_kernel(path):
    nb = load_notebook(path)
    name = path.relative_to(ROOT)
    assert nb.get("nbformat") == 4, f"{name}: nbformat is {nb.get('nbformat')}, expected 4"
    try:
        import nbformat
    except ImportError:
        pass
    else:
        nbformat.validate(nbformat.reads(path.read_text(encoding="utf-8"), as_version=4))
    meta = nb.get("metadata", {})
    kernelspec = meta.get("kernelspec", {})
    assert kernelspec.get("name") == "python3", (
        f"{name}: metadata.kernelspec.name is {kernelspec.get('name')!r}, expected 'python3'"
    )
    language = meta.get("language_info", {}).get("name") or kernelspec.get("language")
    assert language == "python", f"{name}: notebook language is {language!r}, expected 'python'"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_notebook_has_no_outputs(path):
    nb = load_notebook(path)
    dirty = [
        i
        for i, cell in enumerate(nb["cells"])
        if cell.get("cell_type") == "code"
        and (cell.get("outputs") != [] or cell.get("execution_count") is not None)
    ]
    assert not dirty, (
        f"{path.relative_to(ROOT)}: code cells {dirty} (0-based) have outputs or execution counts. "
        "Notebooks are committed without outputs; clear them, e.g. "
        f"`jupyter nbconvert --clear-output --inplace {path.relative_to(ROOT)}`."
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_first_code_cell_is_colab_setup(path):
    nb = load_notebook(path)
    name = path.relative_to(ROOT)
    cells = code_cells(nb)
    assert cells, f"{name} has no code cells"
    first = cells[0]
    src = source(first)
    assert '"google.colab" in sys.modules' in src, (
        f'{name}: the first code cell must be the Colab set-up cell (`if "google.colab" in sys.modules:`)'
    )
    pip_lines = [line for line in src.splitlines() if line.strip().startswith("%pip install")]
    assert pip_lines, f"{name}: the Colab set-up cell has no `%pip install` line"
    urls = [u for line in pip_lines for u in re.findall(r"git\+[^\s\"']+", line)]
    expected = "git+" + repository_url()
    assert [u.rstrip("/") for u in urls] == [expected], (
        f"{name}: the Colab cell installs from {urls}, but _config.yml's repository.url gives {expected}"
    )
    assert "lstm97.backend.describe()" in src, (
        f"{name}: the Colab set-up cell must call lstm97.backend.describe()"
    )
    tags = first.get("metadata", {}).get("tags", [])
    assert "hide-output" in tags, f"{name}: tag the Colab set-up cell `hide-output` (tags: {tags})"


def test_toc_and_book_agree():
    listed = toc_files()
    missing = [f for f in listed if not any((ROOT / f).with_suffix(s).is_file() for s in (".md", ".ipynb"))]
    assert not missing, f"_toc.yml lists files that do not exist (as .md or .ipynb): {missing}"
    unlisted = [
        str(p.relative_to(ROOT)) for p in NOTEBOOKS if str(p.relative_to(ROOT).with_suffix("")) not in listed
    ]
    assert not unlisted, f"notebooks in book/ that _toc.yml does not list: {unlisted}"
