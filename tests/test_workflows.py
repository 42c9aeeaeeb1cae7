"""The GitHub Actions workflows parse and run the Makefile targets."""

from __future__ import annotations

from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml", reason="PyYAML is needed to read the workflows")

WORKFLOWS = Path(__file__).resolve().parents[1] / ".github" / "workflows"


def load(name: str) -> dict:
    path = WORKFLOWS / name
    assert path.is_file(), f"missing workflow {path}"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path} is not a YAML mapping"
    # PyYAML (YAML 1.1) reads the key `on` as the boolean True.
    assert "on" in data or True in data, f"{path} has no `on:` trigger"
    assert isinstance(data.get("jobs"), dict) and data["jobs"], f"{path} has no jobs"
    return data


def run_commands(workflow: dict) -> list[str]:
    return [
        step["run"]
        for job in workflow["jobs"].values()
        for step in job.get("steps", [])
        if isinstance(step, dict) and "run" in step
    ]


def uses(workflow: dict) -> list[str]:
    return [
        step["uses"]
        for job in workflow["jobs"].values()
        for step in job.get("steps", [])
        if isinstance(step, dict) and "uses" in step
    ]


def test_ci_workflow_runs_make_test():
    wf = load("ci.yml")
    runs = run_commands(wf)
    assert any("make test" in r for r in runs), f"ci.yml does not run `make test`: {runs}"


def test_book_workflow_builds_and_deploys():
    wf = load("book.yml")
    runs = run_commands(wf)
    assert any("make book" in r for r in runs), f"book.yml does not run `make book`: {runs}"
    steps = uses(wf)
    assert any(u.startswith("actions/upload-pages-artifact@") for u in steps)
    assert any(u.startswith("actions/deploy-pages@") for u in steps)
