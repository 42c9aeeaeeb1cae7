"""The command line: clear errors, result files with provenance, and a real kill resumed."""
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from lstm97 import experiments

RUN = [sys.executable, "-m", "lstm97", "run"]
SMALL = ["4-1", "--scale", "ci", "--trials", "2", "--max-sequences", "600", "--eval-every", "20",
         "--engine", "reference", "--quiet", "--seed", "5"]


def cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "lstm97", *args], capture_output=True, text=True, timeout=300, **kw)


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
])
def test_bad_input_is_a_clear_error(args, message):
    out = cli(*args)
    assert out.returncode == 2 and message in out.stderr


def test_every_protocol_matches_its_network():
    from lstm97.lstm import LSTM

    for p in experiments.PROTOCOLS.values():
        task, net = p.make_task(), LSTM(p.config())
        assert (task.n_in, task.n_out) == (net.config.n_in, net.config.n_out), p.name


def test_reduced_scales_shrink_a_window_of_recent_sequences_to_fit_the_budget():
    from lstm97.train import Recent

    for p in experiments.PROTOCOLS.values():
        assert p.scaled("paper") is p
        for name in ("ci", "book"):
            q = p.scaled(name)
            if isinstance(p.stop, Recent):
                assert q.stop.window <= q.max_sequences // 2, (p.name, name)
                assert q.stop.beta == p.stop.beta
                assert q.stop.max_wrong / q.stop.window <= p.stop.max_wrong / p.stop.window
    five = experiments.get("5-140").scaled("ci")
    assert (five.stop.window, five.stop.max_wrong) == (1000, 69)   # 139 of 2000 -> 69 of 1000
    assert experiments.get("2c-1").scaled("book").stop.window == 10_000  # fits: left as the paper's


def read(path):
    data = json.loads(open(path).read())
    for k in ("wall_time",):
        data["run"].pop(k)
        data["result"].pop(k)
    data.pop("provenance")
    return data


def test_a_killed_run_resumes_to_the_same_result(tmp_path):
    whole, cut = tmp_path / "whole.json", tmp_path / "cut.json"
    done = cli("run", *SMALL, "--out", str(whole))
    assert done.returncode == 0, done.stderr
    data = json.loads(whole.read_text())
    for key in ("lstm97", "git_commit", "device", "finished"):
        assert key in data["provenance"]
    assert data["scale"] == "ci" and data["protocol"]["seed"] == 5 and len(data["run"]["solved_after"]) == 2
    with np.load(tmp_path / "whole.weights.npz") as kept:   # the trained nets, for the chapters' figures
        assert kept["theta"].shape[0] == 2 and int(kept["seen"]) == data["run"]["sequences"][-1]

    proc = subprocess.Popen([*RUN, *SMALL, "--out", str(cut), "--checkpoint-every", "0"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ckpt = str(cut) + ".ckpt"
    deadline = time.time() + 120
    while not os.path.exists(ckpt) and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert os.path.exists(ckpt) and not cut.exists(), "killed mid-run, with a checkpoint"
    again = cli("run", *SMALL, "--out", str(cut))
    assert again.returncode == 2 and "--resume" in again.stderr
    resumed = cli("run", *SMALL, "--out", str(cut), "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert not os.path.exists(ckpt)
    assert read(cut) == read(whole)
    with np.load(tmp_path / "cut.weights.npz") as a, np.load(tmp_path / "whole.weights.npz") as b:
        assert np.array_equal(a["theta"], b["theta"])


def test_status_lists_every_protocol_with_an_estimate():
    out = cli("status")
    assert out.returncode == 0
    lines = [l for l in out.stdout.splitlines() if l.startswith("| ") and not l.startswith("| experiment")]
    assert [l.split("|")[1].strip() for l in lines] == list(experiments.PROTOCOLS) + list(experiments.COMPETITORS)
    for line in lines:
        ours, left = [c.strip() for c in line.split("|")[5:7]]
        finished = not ours.startswith(("in progress", "pending"))
        assert left == "—" if finished else (" – " in left or left.startswith(("up to", "unknown"))), line
    from lstm97 import results

    # a finished row's median is on the paper's count: Exp. 2's window of 10,000 sequences not included
    two_a = results.recorded("2a")
    if two_a["status"] == "finished":
        counted = results.sequences_to_success(experiments.get("2a"), two_a["solved_after"])
        row = next(l for l in lines if l.startswith("| 2a |"))
        first = next(s for s in two_a["solved_after"] if s)
        assert f"median {np.median(counted):,.0f} " in row and counted[0] == first - 10_000, row
    est = results.estimate(experiments.get("4-1"))
    assert abs(est / (10 * 74_000 * 105) - 1) < 0.02, "trials x sequences x mean length (T..1.1T)"


def test_a_time_limit_keeps_the_checkpoint_and_resume_finishes(tmp_path):
    out = tmp_path / "limited.json"
    args = ["run", "4-1", "--scale", "ci", "--trials", "2", "--max-sequences", "600", "--eval-every", "20",
            "--engine", "reference", "--quiet", "--seed", "5", "--out", str(out)]
    first = cli(*args, "--max-minutes", "0.0001")
    assert first.returncode == 3 and "--resume" in first.stderr
    assert os.path.exists(str(out) + ".ckpt") and not out.exists()
    done = cli(*args, "--resume")
    assert done.returncode == 0, done.stderr
    whole = tmp_path / "whole.json"
    assert cli(*args[:-1], str(whole)).returncode == 0
    assert read(out) == read(whole)


def test_a_later_variant_runs_on_the_reference_engine():
    """The fast path has only the 1997 cell: "auto" falls back to the reference, "fast" says so."""
    from lstm97.__main__ import learner_for
    from lstm97.lstm import LSTM

    protocol = dataclasses.replace(experiments.get("4-1"), architecture="iv-forget")  # 6a's net with forget gates
    learner, engine = learner_for(protocol, "auto")
    assert engine == "reference" and type(learner) is LSTM and learner.config.forget_gate
    with pytest.raises(SystemExit, match="only the 1997 cell, not forget_gate; use --engine reference"):
        learner_for(protocol, "fast")
    assert learner_for(experiments.get("4-1"), "auto")[1] == "fast"


def test_chapter_15_rows_build_their_learners():
    from lstm97.__main__ import learner_for
    from lstm97.train import Minibatch

    assert learner_for(experiments.get("iv-1997"), "auto")[1] == "fast"
    bptt, engine = learner_for(experiments.get("iv-bptt"), "auto")
    assert engine == "reference" and bptt.gradient_kind == "exact" and bptt.config.peepholes
    with pytest.raises(SystemExit, match="gradient='exact'"):
        learner_for(experiments.get("iv-bptt"), "fast")
    mb, _ = learner_for(experiments.get("iv-minibatch"), "auto")
    assert isinstance(mb, Minibatch) and mb.size == 4 and experiments.get("iv-minibatch").lr == 2.0
    assert experiments.get("iv-forget").config().forget_gate_bias == (5.0, 5.0)


def test_the_paper_competitors_are_its_conventional_nets(tmp_path):
    """Tables 1 and 2's RTRL, BPTT and Elman nets: the paper's weight counts, the LSTM rows' task,
    budget and success criterion, run and recorded by the same command."""
    from lstm97.__main__ import learner_for
    from lstm97.rnn import RNN

    weights = {"2a-rtrl-p4": 36, "2a-rtrl-p10": 144, "2a-bptt-p100": 10_404}   # Table 2
    for name, n in weights.items():
        learner, engine = learner_for(experiments.get(name), "auto")
        assert isinstance(learner, RNN) and learner.n_params == n and engine == "reference"
    for name, p in experiments.COMPETITORS.items():
        lstm_row = experiments.get("2a" if p.task == "2a" else "1-1")
        assert (repr(p.stop), p.max_sequences, p.test_size) == (repr(lstm_row.stop), lstm_row.max_sequences,
                                                                lstm_row.test_size)
        task, net = p.make_task(), p.rnn()
        assert (task.n_in, task.n_out) == (net.n_in, net.n_out)
    assert experiments.get("1-elman-15").rnn().algorithm == "elman"
    # only the 1997 cell's rows run compiled: not a competitor's net, not a later variant
    assert [experiments.get(n).compiled for n in ("1-2", "2a-rtrl-p4", "iv-forget", "iv-bptt")] == [True, False,
                                                                                                  False, False]
    with pytest.raises(ValueError, match="not an LSTM"):
        experiments.vary(experiments.get("2a-rtrl-p4"), {"bias": "all"})
    with pytest.raises(ValueError, match="not a competitor"):
        experiments.get("2a").rnn()
    out = tmp_path / "r.json"
    done = cli("run", "2a-rtrl-p4", "--scale", "ci", "--max-sequences", "200", "--quiet", "--out", str(out))
    assert done.returncode == 0, done.stderr
    data = json.loads(out.read_text())
    assert data["experiment"] == "2a-rtrl-p4" and "RTRL net (5-1-5, 36 weights)" in data["run"]["learner"]
    assert cli("run", "2a-rtrl-p4", "--engine", "fast").returncode != 0


def test_a_variant_changes_its_net_task_and_protocol_and_says_so(tmp_path):
    """--vary: an ablation of a row through the same code path, named and recorded with its changes."""
    from lstm97.__main__ import learner_for

    row = experiments.get("1-5")
    v = experiments.vary(row, {"bias": "all", "targets": "legal", "update": "sequence",
                                "input_gate_bias": (-1.0, -2.0, -3.0)})
    assert v.name == "1-5+bias=all+targets=legal+update=sequence+input_gate_bias=-1,-2,-3"
    assert v.config().bias == "all" and v.config().input_gate_bias == (-1.0, -2.0, -3.0)
    assert v.make_task().targets == "legal" and v.update == "sequence" and v.lr == row.lr
    assert row.config().bias == "gates" and row.make_task().targets == "next" and row.update == "step"
    learner, engine = learner_for(v, "auto")
    assert engine == "fast" and learner.config.bias == "all" and learner.update == "sequence"
    assert experiments.vary(row, {}) is row
    short = experiments.vary(experiments.get("2c-1"), {"max_sequences": 200_000})  # a smaller budget
    assert short.name == "2c-1+max_sequences=200000" and short.max_sequences == 200_000

    out = tmp_path / "v.json"
    done = cli("run", "1-5", "--vary", "lr=0.2", "--vary", "init_range=0.1", "--scale", "ci", "--trials", "2",
               "--max-sequences", "40", "--eval-every", "20", "--quiet", "--out", str(out))
    assert done.returncode == 0, done.stderr
    data = json.loads(out.read_text())
    assert data["experiment"] == "1-5+lr=0.2+init_range=0.1" and data["protocol"]["lr"] == 0.2
    assert data["protocol"]["changes"] == {"lr": 0.2, "init_range": 0.1}


def test_engine_and_backend_are_two_choices(monkeypatch):
    """auto: the GPU kernel from GPU_MIN_NETWORKS networks on a visible GPU with CuPy arrays, else the
    compiled CPU kernel,
    whatever the array backend; --engine gpu without a GPU is a clear error."""
    from lstm97 import backend, gpu
    from lstm97.__main__ import learner_for
    from lstm97.fast import FastLSTM

    row = experiments.get("4-1")
    monkeypatch.setattr(backend, "name", lambda: "cupy")
    learner, engine = learner_for(row, "auto")
    assert engine == "fast" and type(learner) is FastLSTM
    with pytest.raises(SystemExit, match="the gpu engine implements only the 1997 cell, not forget_gate"):
        learner_for(dataclasses.replace(row, architecture="iv-forget"), "gpu")
    pytest.importorskip("numba.cuda")
    if not gpu.simulated():
        pytest.skip("numba.cuda is not the simulator here: GPULSTM cannot be built without a GPU")
    monkeypatch.setattr(gpu, "available", lambda: (True, ""))  # as if a GPU were visible
    assert learner_for(row, "auto", gpu.GPU_MIN_NETWORKS - 1)[1] == "fast"
    learner, engine = learner_for(row, "auto", gpu.GPU_MIN_NETWORKS)
    assert engine == "gpu" and type(learner) is gpu.GPULSTM and "GPU kernel" in learner.name
    monkeypatch.setattr(backend, "name", lambda: "numpy")  # host arrays: the copies eat the GPU's gain
    assert learner_for(row, "auto", gpu.GPU_MIN_NETWORKS)[1] == "fast"


def test_the_gpu_engine_without_a_gpu_says_so(tmp_path):
    pytest.importorskip("numba.cuda")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}  # no simulator
    out = subprocess.run([*RUN, "4-1", "--scale", "ci", "--trials", "2", "--max-sequences", "40", "--quiet",
                          "--engine", "gpu", "--out", str(tmp_path / "r.json")],
                         capture_output=True, text=True, timeout=120, env=env)
    if "no CUDA GPU is visible" not in out.stderr:
        assert out.returncode == 0, "a GPU is visible: the run must succeed"
    else:
        assert out.returncode != 0 and "set NUMBA_ENABLE_CUDASIM=1" in out.stderr and "CPU engine" in out.stderr
