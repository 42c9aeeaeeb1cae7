"""House rules for the book's notebooks (book/*.ipynb).

(a) valid nbformat-4 notebooks with a Python 3 kernel;
(b) committed without outputs: the book build and nbval execute them, and their claims are asserts;
(c) each page begins with its title, then the Colab set-up cell that tests/colab_setup.py renders from
    _config.yml's repository URL; Colab is asked for a GPU only where the chapter uses one;
(d) _toc.yml and book/ agree;
(e) a page reads as prose, equations, figures and tables: a cell that draws a figure or builds a
    table has its code folded away (`hide-input`), a figure has alt text that says what it shows
    (cell metadata `mystnb.image.alt`), and wide tables scroll inside their own box (_static/).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import colab_setup

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
def test_page_begins_with_its_title_then_the_colab_setup(path):
    nb = load_notebook(path)
    name = path.relative_to(ROOT)
    first = nb["cells"][0]
    assert first.get("cell_type") == "markdown" and source(first).lstrip().startswith("# "), (
        f"{name}: the first cell must be the chapter's title (a Markdown cell starting with '# '), so that "
        "the page begins with it"
    )
    cells = code_cells(nb)
    assert cells, f"{name} has no code cells"
    setup = cells[0]
    fix = "run `python tests/colab_setup.py` to regenerate it"
    assert source(setup) == colab_setup.render(repository_url(), colab_setup.uses_gpu(path)), (
        f"{name}: the first code cell is not the Colab set-up cell for _config.yml's repository.url "
        f"{repository_url()}; {fix}"
    )
    tags = setup.get("metadata", {}).get("tags", [])
    assert tags == colab_setup.tags_for(path), f"{name}: the set-up cell's tags are {tags}; {fix}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_colab_asks_for_a_gpu_only_where_the_chapter_uses_one(path):
    meta = load_notebook(path)["metadata"]
    gpu = colab_setup.uses_gpu(path)
    asks = meta.get("accelerator") == "GPU" or "gpuType" in meta.get("colab", {})
    assert asks == gpu, (
        f"{path.relative_to(ROOT)}: its Colab metadata {'does not ask' if gpu else 'asks'} for a GPU "
        f"(accelerator {meta.get('accelerator')!r}, colab {meta.get('colab')}); run `python tests/colab_setup.py`"
    )
    assert ("[gpu]" in colab_setup.render("URL", gpu)) == gpu


def test_colab_setup_cell_runs_outside_colab_without_installing_anything():
    """Outside Colab the cell imports lstm97 and prints the backend; the clone and install never run."""
    import lstm97
    from IPython.core.inputtransformer2 import TransformerManager

    code = TransformerManager().transform_cell(colab_setup.render(repository_url(), True))
    calls = []
    namespace = {"get_ipython": lambda: type("Shell", (), {"system": calls.append,
                                                           "run_line_magic": lambda *a: calls.append(a)})()}
    exec(compile(code, "<colab set-up>", "exec"), namespace)
    assert calls == [] and namespace["lstm97"] is lstm97


def test_toc_and_book_agree():
    listed = toc_files()
    missing = [f for f in listed if not any((ROOT / f).with_suffix(s).is_file() for s in (".md", ".ipynb"))]
    assert not missing, f"_toc.yml lists files that do not exist (as .md or .ipynb): {missing}"
    unlisted = [
        str(p.relative_to(ROOT)) for p in NOTEBOOKS if str(p.relative_to(ROOT).with_suffix("")) not in listed
    ]
    assert not unlisted, f"notebooks in book/ that _toc.yml does not list: {unlisted}"


FIGURE = re.compile(r"\bplt\.|\.subplots\(|\bfig\.|\bax\.|\baxes\[")
TABLE = re.compile(r"\bMarkdown\(")
HIDDEN = {"hide-input", "remove-input", "remove-cell"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_that_builds_a_figure_or_table_is_folded_away(path):
    shown = [c.get("id") for c in code_cells(load_notebook(path))
             if (FIGURE.search(source(c)) or TABLE.search(source(c)))
             and not HIDDEN & set(c.get("metadata", {}).get("tags", []))]
    assert not shown, f"{path.name}: cells {shown} draw a figure or build a table; tag them hide-input"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_figures_have_alt_text(path):
    missing = [c.get("id") for c in code_cells(load_notebook(path)) if FIGURE.search(source(c))
               and len(c.get("metadata", {}).get("mystnb", {}).get("image", {}).get("alt", "")) < 20]
    assert not missing, f"{path.name}: figure cells {missing} have no alt text (metadata mystnb.image.alt)"


def test_wide_tables_scroll_in_their_own_box():
    css = (ROOT / "_static" / "lstm97.css").read_text(encoding="utf-8")
    assert re.search(r"\.cell_output table\s*\{[^}]*overflow-x:\s*auto", css)
