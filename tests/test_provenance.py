"""Provenance (`lstm97.provenance`): the code a run executed, judged by the tracked files under
lstm97/ alone, and the environment it ran in."""
import hashlib
import subprocess
import sys
import time

import pytest

from lstm97 import provenance


def git(root, *args):
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=root,
                          check=True, capture_output=True, text=True).stdout


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    """A small git checkout with code under lstm97/ and a notebook, as provenance's root."""
    (tmp_path / "lstm97").mkdir()
    (tmp_path / "book").mkdir()
    (tmp_path / "lstm97" / "train.py").write_text("x = 1\n")
    (tmp_path / "book" / "06.ipynb").write_text("{}\n")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "start")
    monkeypatch.setattr(provenance, "ROOT", tmp_path.resolve())
    return tmp_path


def test_clean_code_is_its_commit(checkout):
    state = provenance.code_state()
    assert state == {"commit": git(checkout, "rev-parse", "HEAD").strip(), "code_changed": False,
                     "code_diff_sha256": None}
    assert len(state["commit"]) == 40


def test_a_changed_notebook_or_new_file_is_not_changed_code(checkout):
    (checkout / "book" / "06.ipynb").write_text('{"cells": []}\n')
    (checkout / "results.json").write_text("{}\n")
    (checkout / "lstm97" / "scratch.py").write_text("untracked\n")  # only tracked files count
    assert provenance.code_state()["code_changed"] is False


def test_a_change_to_the_code_is_seen_and_hashed(checkout):
    (checkout / "lstm97" / "train.py").write_text("x = 2\n")
    state = provenance.code_state()
    diff = git(checkout, "diff", "HEAD", "--", "lstm97")
    assert state["code_changed"] is True and state["code_diff_sha256"] == hashlib.sha256(diff.encode()).hexdigest()
    git(checkout, "add", "lstm97/train.py")  # staged is still not committed
    assert provenance.code_state()["code_diff_sha256"] == state["code_diff_sha256"]
    git(checkout, "commit", "-q", "-m", "two")
    assert provenance.code_state()["code_changed"] is False


def test_outside_a_checkout_the_commit_is_unknown(tmp_path, monkeypatch):
    monkeypatch.setattr(provenance, "ROOT", tmp_path.resolve())
    assert provenance.code_state() == {"commit": "unknown", "code_changed": False, "code_diff_sha256": None}


def test_code_state_is_fast():
    provenance.code_state()
    best = min(_timed(provenance.code_state) for _ in range(3))
    assert best < 0.2, best


def _timed(f):
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


def test_environment_names_the_software_the_machine_and_the_command():
    env = provenance.environment(["python", "-m", "lstm97", "run", "3b-1"])
    assert env["command"] == ["python", "-m", "lstm97", "run", "3b-1"]
    assert env["python"] == "%d.%d.%d" % sys.version_info[:3]
    for key in ("lstm97", "numpy", "numba", "llvmlite", "threads", "device", "machine", "cpus"):
        assert env[key], key
    assert provenance.environment()["command"] is None
