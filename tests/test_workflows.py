"""The GitHub Actions workflows: what runs, on which events, with which Python, cached.

- ci.yml runs `make test` once per change (pushes to main, pull requests), on every Python that
  pyproject.toml's classifiers promise, with pip's cache keyed on pyproject.toml and constraints.txt.
- book.yml runs the strict book build (`make book`) on pull requests too, and publishes it only
  from main.

The `if:` conditions are evaluated here for the events that matter (a small evaluator for the
few operators the workflows use), so the tests check what GitHub would do, not how it is spelt.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml", reason="PyYAML is needed to read the workflows")

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
STRICT_BOOK_FLAGS = ("--all", "--warningiserror", "--nitpick", "--keep-going")

# The events a change goes through: (event_name, ref).
PUSH_MAIN = ("push", "refs/heads/main")
PUSH_BRANCH = ("push", "refs/heads/feature")
PULL_REQUEST = ("pull_request", "refs/pull/1/merge")


def load(name: str) -> dict:
    path = WORKFLOWS / name
    assert path.is_file(), f"missing workflow {path}"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path} is not a YAML mapping"
    assert isinstance(data.get("jobs"), dict) and data["jobs"], f"{path} has no jobs"
    return data


def triggers(workflow: dict) -> dict:
    """The `on:` section as {event: filters}. PyYAML (YAML 1.1) reads the key `on` as True."""
    on = workflow.get("on", workflow.get(True))
    assert on, "workflow has no `on:` trigger"
    if isinstance(on, str):
        on = [on]
    if isinstance(on, list):
        on = {event: None for event in on}
    return {event: (filters or {}) for event, filters in on.items()}


def triggered(workflow: dict, event: tuple[str, str]) -> bool:
    """Whether `event` starts the workflow, honouring `branches`/`branches-ignore` filters."""
    name, ref = event
    on = triggers(workflow)
    if name not in on:
        return False
    filters = on[name]
    if name != "push" or not ref.startswith("refs/heads/"):
        return True  # a pull request's branch filters name its base branch; none are used here
    branch = ref.removeprefix("refs/heads/")
    if "branches" in filters:
        return any(fnmatch.fnmatchcase(branch, p) for p in filters["branches"])
    if "branches-ignore" in filters:
        return not any(fnmatch.fnmatchcase(branch, p) for p in filters["branches-ignore"])
    return "tags" not in filters or "branches" in filters


_TOKEN = re.compile(r"\s*(?:(?P<str>'[^']*')|(?P<op>==|!=|&&|\|\||!|\(|\))|(?P<name>[A-Za-z_][\w.-]*))")


def evaluate(condition, event: tuple[str, str]) -> bool:
    """Evaluate an `if:` of the form the workflows use (github.event_name, github.ref, literals,
    ==, !=, &&, ||, !, parentheses) for `event`. No condition means: runs."""
    if condition is None:
        return True
    if isinstance(condition, bool):
        return condition
    text = str(condition).strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2]
    values = {"github.event_name": event[0], "github.ref": event[1], "true": True, "false": False}
    python, pos = [], 0
    while pos < len(text.rstrip()):
        m = _TOKEN.match(text, pos)
        assert m, f"cannot read the condition {condition!r} at {text[pos:]!r}"
        pos = m.end()
        if m["str"] is not None:
            python.append(repr(m["str"][1:-1]))
        elif m["op"] is not None:
            python.append({"&&": " and ", "||": " or ", "!": " not "}.get(m["op"], m["op"]))
        else:
            assert m["name"] in values, f"condition {condition!r} uses {m['name']!r}, unknown to this test"
            python.append(repr(values[m["name"]]))
    return bool(eval("".join(python), {"__builtins__": {}}, {}))  # noqa: S307 (tokens checked above)


def steps_that_run(job: dict, event: tuple[str, str]) -> list[dict]:
    if not evaluate(job.get("if"), event):
        return []
    return [s for s in job.get("steps", []) if evaluate(s.get("if"), event)]


def jobs_running(workflow: dict, command: str) -> dict[str, dict]:
    return {
        name: job
        for name, job in workflow["jobs"].items()
        if any(command in s.get("run", "") for s in job.get("steps", []))
    }


def setup_python(job: dict) -> dict:
    (step,) = [s for s in job["steps"] if s.get("uses", "").startswith("actions/setup-python@")]
    return step.get("with", {})


def classifier_pythons() -> set[str]:
    with open(ROOT / "pyproject.toml", "rb") as f:
        classifiers = tomllib.load(f)["project"].get("classifiers", [])
    prefix = "Programming Language :: Python :: "
    return {c[len(prefix):] for c in classifiers if re.fullmatch(re.escape(prefix) + r"3\.\d+", c)}


def job_pythons(job: dict) -> set[str]:
    version = str(setup_python(job)["python-version"])
    m = re.fullmatch(r"\$\{\{\s*matrix\.([\w-]+)\s*\}\}", version)
    if m:
        return {str(v) for v in job["strategy"]["matrix"][m.group(1)]}
    return {version}


@pytest.mark.parametrize("name", ["ci.yml", "book.yml"])
def test_runs_once_per_change(name):
    """A push to a pull request's branch starts the workflow once (as `pull_request`), not twice."""
    wf = load(name)
    assert triggered(wf, PUSH_MAIN), f"{name} does not run on pushes to main"
    assert triggered(wf, PULL_REQUEST), f"{name} does not run on pull requests"
    assert not triggered(wf, PUSH_BRANCH), f"{name} runs on pushes to any branch: twice for a pull request's"


def test_ci_runs_make_test_on_every_python_promised():
    wf = load("ci.yml")
    jobs = jobs_running(wf, "make test")
    assert jobs, "ci.yml does not run `make test`"
    tested = set().union(*(job_pythons(job) for job in jobs.values()))
    promised = classifier_pythons()
    assert tested == promised, f"ci.yml tests Python {sorted(tested)}, pyproject.toml's classifiers promise {sorted(promised)}"
    for event in (PUSH_MAIN, PULL_REQUEST):
        for name, job in jobs.items():
            assert any("make test" in s.get("run", "") for s in steps_that_run(job, event)), (
                f"ci.yml job {name} skips `make test` on {event[0]}"
            )


@pytest.mark.parametrize("name", ["ci.yml", "book.yml"])
def test_pip_is_cached_and_installs_cpu_torch(name):
    wf = load(name)
    for job_name, job in wf["jobs"].items():
        if not any(s.get("uses", "").startswith("actions/setup-python@") for s in job.get("steps", [])):
            continue
        with_ = setup_python(job)
        assert with_.get("cache") == "pip", f"{name}/{job_name}: setup-python without `cache: pip`"
        paths = with_.get("cache-dependency-path", "")
        paths = paths.split() if isinstance(paths, str) else list(paths)
        assert {"pyproject.toml", "constraints.txt"} <= set(paths), (
            f"{name}/{job_name}: pip's cache must be keyed on pyproject.toml and constraints.txt, found {paths}"
        )
        index = {**wf.get("env", {}), **job.get("env", {})}.get("PIP_EXTRA_INDEX_URL", "")
        assert CPU_INDEX in index.split(), f"{name}/{job_name}: no PIP_EXTRA_INDEX_URL={CPU_INDEX} (CPU torch)"


def test_book_builds_on_pull_requests_and_deploys_only_from_main():
    wf = load("book.yml")
    builders = jobs_running(wf, "make book")
    assert builders, "book.yml does not run `make book`"

    def ran(event):
        return [
            s.get("uses") or s.get("run")
            for job in wf["jobs"].values()
            for s in steps_that_run(job, event)
        ]

    for event in (PULL_REQUEST, PUSH_MAIN):
        assert any(r and "make book" in r for r in ran(event)), f"book.yml does not build the book on {event[0]}"
    on_main, on_pr = ran(PUSH_MAIN), ran(PULL_REQUEST)
    for action in ("actions/upload-pages-artifact@", "actions/deploy-pages@"):
        assert any(r and r.startswith(action) for r in on_main), f"book.yml does not run {action} on a push to main"
        assert not any(r and r.startswith(action) for r in on_pr), f"book.yml runs {action} on a pull request"
    deploy = [n for n, j in wf["jobs"].items() if any(s.get("uses", "").startswith("actions/deploy-pages@") for s in j.get("steps", []))]
    assert deploy, "book.yml has no job that deploys to Pages"
    for name in deploy:
        needs = wf["jobs"][name].get("needs", [])
        needs = [needs] if isinstance(needs, str) else needs
        assert set(needs) & set(builders), f"book.yml: {name} does not wait for the build"


def test_make_book_is_the_strict_build():
    """What the workflow's `make book` runs: every page, warnings and broken references as errors."""
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"}}
    out = subprocess.run([make, "--no-print-directory", "-n", "-B", "book"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    (build,) = [line for line in out.stdout.splitlines() if "jupyter-book build" in line]
    assert all(flag in build.split() for flag in STRICT_BOOK_FLAGS), build
