"""The Colab set-up cell every chapter carries, generated from one template.

In Google Colab the cell shallow-clones the book's repository (code, recorded results, kept nets,
benchmark record), installs it and works in its `book/` folder, as a local build does; elsewhere it
only prints the backend. The repository URL comes from `_config.yml` (the one place it lives); a
chapter in `GPU_CHAPTERS` also installs the `gpu` extra and asks Colab for a GPU runtime.

    python tests/colab_setup.py     # rewrite every notebook's set-up cell and Colab metadata

tests/test_notebooks.py checks that every notebook agrees with `render`.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
HOME = "/content/lstm97"  # where Colab keeps the clone
GPU_CHAPTERS = {"A_performance"}  # chapters that use a GPU when there is one (the GPU benchmark)

TEMPLATE = """\
# Colab set-up. In Google Colab: clone the book's repository (code, recorded results, kept nets,
# benchmark record), install it and work in its book/ folder, as a local build does. Elsewhere
# this only prints the backend. README.md, "Google Colab", says more.
import os, sys
if "google.colab" in sys.modules:
    REPO, HOME = "{url}", "{home}"
    if not os.path.isdir(HOME):
        !git clone -q --depth 1 {{REPO}} {{HOME}}
        %pip install -q -e "{{HOME}}{extra}"
    sys.path.insert(0, HOME)  # an editable install is seen only after a restart: import from the clone now
    os.chdir(HOME + "/book")
import lstm97
print(lstm97.backend.describe())"""


def repository_url() -> str:
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    return config["repository"]["url"].rstrip("/")


def uses_gpu(path: Path) -> bool:
    return path.stem in GPU_CHAPTERS


def render(url: str, gpu: bool, home: str = HOME) -> str:
    """The set-up cell's source for a chapter (with the `gpu` extra where `gpu`)."""
    return TEMPLATE.format(url=url, home=home, extra="[gpu]" if gpu else "")


def colab_metadata(meta: dict, gpu: bool) -> dict:
    """The notebook metadata with Colab's runtime request: a GPU only where the chapter uses one."""
    meta = dict(meta)
    colab = dict(meta.get("colab", {}), provenance=[])
    colab.pop("gpuType", None)
    meta.pop("accelerator", None)
    if gpu:
        meta["accelerator"], colab["gpuType"] = "GPU", "T4"
    meta["colab"] = colab
    return meta


def tags_for(path: Path) -> list[str]:
    # the preface shows no code; a chapter keeps the cell, collapsed, with the backend line it prints
    return ["remove-cell"] if path.stem == "intro" else ["hide-input"]


def write(path: Path, url: str) -> None:
    """Make `path` begin with its title cell, then the set-up cell; set its Colab metadata."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = nb["cells"]
    setup = next(c for c in cells if c["cell_type"] == "code")
    cells.remove(setup)
    title = next(i for i, c in enumerate(cells) if c["cell_type"] == "markdown"
                 and "".join(c["source"]).lstrip().startswith("# "))
    setup["source"] = render(url, uses_gpu(path)).splitlines(keepends=True)
    setup["metadata"] = dict(setup.get("metadata", {}), tags=tags_for(path))
    cells.insert(title + 1, setup)
    nb["metadata"] = colab_metadata(nb["metadata"], uses_gpu(path))
    path.write_text(json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    url = repository_url()
    for path in sorted(BOOK.glob("*.ipynb")):
        write(path, url)
    sys.exit(0)
