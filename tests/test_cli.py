"""The command line reads its arguments and says what is wrong in one line (exit 2): the steps of a
run are tests/test_run.py's."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from lstm97 import experiments

SMALL = ["4-1", "--scale", "ci", "--trials", "2", "--max-sequences", "600", "--eval-every", "20",
         "--engine", "reference", "--quiet", "--seed", "5"]


def cli(*args, env=None, **kw):
    return subprocess.run([sys.executable, "-m", "lstm97", *args], capture_output=True, text=True, timeout=300,
                          env=None if env is None else os.environ | env, **kw)


def test_list_names_every_protocol():
    out = cli("list")
    assert out.returncode == 0
    assert all(name in out.stdout for name in experiments.PROTOCOLS | experiments.COMPETITORS)


@pytest.mark.parametrize("args,message", [
    (["run", "7"], "unknown experiment '7'"),
    (["run", "4-1", "--trials", "0"], "positive integer"),
    (["run", "4-1", "--scale", "huge"], "invalid choice"),
    (["run", "4-1", "--backend", "tpu"], "invalid choice"),
    (["fly"], "invalid choice"),
    (["run", "1-5", "--vary", "bias"], "expected KEY=VALUE"),
    (["run", "1-5", "--vary", "colour=red"], "cannot vary colour"),
    (["run", "1-5", "--vary", "bias=some"], "bias must be one of"),
    (["run", "1-5", "--vary", "targets=any"], "targets must be 'next' or 'legal'"),
    (["run", "1-5", "--vary", "gradient=exact"], "cannot change the weights after every step"),
    (["run", "1-5", "--vary", "lr=abc"], "lr must be a positive number, got 'abc'"),
    (["run", "4-1", "--max-minutes", "-1"], "--max-minutes must be positive"),
    (["run", "4-1", "--max-minutes", "0"], "--max-minutes must be positive"),
    (["run", "4-1", "--checkpoint-every", "-5"], "--checkpoint-every must be 0"),
    (["run", "4-1", "--max-minutes", "soon"], "invalid float value"),
    (["run", "2a-rtrl-p4", "--engine", "fast"], "conventional net, which has no fast engine"),
])
def test_bad_input_is_a_clear_error(args, message):
    out = cli(*args)
    assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("var,value,message", [
    ("LSTM97_SCALE", "huge", "error: unknown scale 'huge'; set LSTM97_SCALE to one of ci, book, paper"),
    ("LSTM97_BACKEND", "jax", "error: unknown backend 'jax'; choose one of numpy, cupy, auto"),
])
def test_a_bad_environment_variable_is_a_clear_error_where_it_is_needed(var, value, message):
    """Read when needed, not at import: `list` works, `run` says what is wrong; --scale/--backend win."""
    assert cli("list", env={var: value}).returncode == 0
    out = cli("run", "4-1", env={var: value})
    assert out.returncode == 2 and out.stderr.strip() == message


def test_help_says_what_resume_does_without_a_checkpoint():
    out = cli("run", "--help")
    assert "where there is none, say so and start afresh" in " ".join(out.stdout.split())
    assert "--overwrite" in out.stdout and "--allow-dirty" in out.stdout


@pytest.mark.parametrize("signum,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_and_sigterm_stop_at_the_next_evaluation_with_a_checkpoint(tmp_path, signum, code):
    """No traceback, nothing trained lost: sent before the first checkpoint was due (every 300 s
    by default), the signal stops the run at its next evaluation, which writes one; one line names
    it and --resume, and the run goes on from it to its end."""
    out = tmp_path / "r.json"
    proc = subprocess.Popen([sys.executable, "-m", "lstm97", "run", *SMALL, "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while "scale ci" not in proc.stderr.readline():  # the header: the run has begun
        assert proc.poll() is None
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=120)
    ckpt = tmp_path / "r.json.ckpt"
    assert proc.returncode == code, err
    assert "stopping at the next evaluation, after writing a checkpoint" in err
    assert "Traceback" not in err and f"{ckpt} holds the last checkpoint; --resume goes on from it" in err
    assert ckpt.exists() and not out.exists()
    assert cli("run", *SMALL, "--out", str(out), "--resume").returncode == 0 and out.exists()


def test_a_second_signal_stops_at_once_and_says_there_is_no_checkpoint_yet(tmp_path):
    """The first evaluation far away (--eval-every): the second Ctrl-C does not wait for it."""
    proc = subprocess.Popen([sys.executable, "-m", "lstm97", "run", *SMALL, "--max-sequences", "100000",
                             "--eval-every", "100000", "--out", str(tmp_path / "r.json")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while "scale ci" not in proc.stderr.readline():
        assert proc.poll() is None
    proc.send_signal(signal.SIGINT)
    while "stopping at the next evaluation" not in proc.stderr.readline():
        assert proc.poll() is None
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "Traceback" not in err
    assert "no checkpoint was written yet" in err and not (tmp_path / "r.json.ckpt").exists()


def test_status_markdown_is_the_readmes_section():
    from lstm97 import report

    out = cli("status", "--markdown")
    assert out.returncode == 0 and out.stdout == report.status_markdown()


def test_status_lists_every_protocol_with_an_estimate():
    out = cli("status")
    assert out.returncode == 0
    lines = [l for l in out.stdout.splitlines() if l.startswith("| ") and not l.startswith("| experiment")]
    assert [l.split("|")[1].strip() for l in lines] == list(experiments.PROTOCOLS) + list(experiments.COMPETITORS)
    for line in lines:
        ours, left = [c.strip() for c in line.split("|")[5:7]]
        finished = not ours.startswith(("in progress", "pending"))
        assert left == "—" if finished else (" – " in left or left.startswith(("up to", "unknown"))), line
    from lstm97 import records, report

    # a finished row's median is on the paper's count: Exp. 2's window of 10,000 sequences not included
    two_a = records.recorded("2a")
    if two_a["status"] == "finished":
        counted = report.sequences_to_success(experiments.get("2a"), two_a["solved_after"])
        row = next(l for l in lines if l.startswith("| 2a |"))
        first = next(s for s in two_a["solved_after"] if s)
        assert f"median {np.median(counted):,.0f} " in row and counted[0] == first - 10_000, row
    est = report.network_steps(experiments.get("4-1"))
    assert abs(est / (10 * 74_000 * 105) - 1) < 0.02, "trials x sequences x mean length (T..1.1T)"


