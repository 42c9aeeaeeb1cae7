"""The runner (lstm97.run): the learner a protocol gets, a run recorded, resumed after a kill or a
time limit, and never losing or silently replacing a record."""
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from lstm97 import experiments, kernel, provenance, records, scale
from lstm97 import run as runner
from lstm97.fast import FastLSTM
from lstm97.lstm import LSTM
from lstm97.minibatch import Minibatch
from lstm97.rnn import RNN

SMALL = ["4-1", "--scale", "ci", "--trials", "2", "--max-sequences", "600", "--eval-every", "20",
         "--engine", "reference", "--quiet", "--seed", "5"]
TINY = dict(trials=2, max_sequences=40, eval_every=20, engine="reference", progress=False)


def cli(*args):
    return subprocess.run([sys.executable, "-m", "lstm97", *args], capture_output=True, text=True, timeout=300)


@pytest.fixture
def ci():
    before = scale.current()
    yield scale.use("ci")
    scale.use(before)


def outcome_of(data: dict) -> dict:
    """A record without what differs between two runs of the same thing: times, sittings, provenance."""
    data = json.loads(json.dumps(data))
    data["run"].pop("wall_time"), data["run"].pop("sittings", None), data["result"].pop("wall_time")
    data.pop("provenance")
    return data


# --- the learner a protocol gets ------------------------------------------------------------------

def test_a_later_variant_runs_on_the_reference_engine():
    """The fast path has only the 1997 cell: "auto" falls back to the reference, "fast" says so."""
    protocol = dataclasses.replace(experiments.get("4-1"), architecture="iv-forget")  # 6a's net with forget gates
    learner, engine = runner.learner_for(protocol, "auto")
    assert engine == "reference" and isinstance(learner, LSTM) and learner.config.forget_gate
    with pytest.raises(runner.Refused, match="only the 1997 cell, not forget_gate; use --engine reference"):
        runner.learner_for(protocol, "fast")
    assert runner.learner_for(experiments.get("4-1"), "auto")[1] == "fast"


def test_chapter_15_rows_build_their_learners():
    assert runner.learner_for(experiments.get("iv-1997"), "auto")[1] == "fast"
    bptt, engine = runner.learner_for(experiments.get("iv-bptt"), "auto")
    assert engine == "reference" and bptt.gradient_kind == "exact" and bptt.config.peepholes
    with pytest.raises(runner.Refused, match="gradient='exact'"):
        runner.learner_for(experiments.get("iv-bptt"), "fast")
    mb, _ = runner.learner_for(experiments.get("iv-minibatch"), "auto")
    assert isinstance(mb, Minibatch) and mb.size == 4


def test_a_competitor_trains_its_conventional_net_on_the_reference_engine():
    for name in ("2a-rtrl-p4", "1-elman-15"):
        learner, engine = runner.learner_for(experiments.get(name), "auto")
        assert isinstance(learner, RNN) and engine == "reference"
    with pytest.raises(runner.Refused, match="conventional net, which has no fast engine"):
        runner.learner_for(experiments.get("2a-rtrl-p4"), "fast")


def test_a_variant_gets_its_changed_net():
    v = experiments.vary(experiments.get("1-5"), {"bias": "all", "update": "sequence"})
    learner, engine = runner.learner_for(v, "auto")
    assert engine == "fast" and learner.config.bias == "all" and learner.update == "sequence"


def test_engine_and_backend_are_two_choices(monkeypatch):
    """auto: the GPU kernel from GPU_MIN_NETWORKS networks on a visible GPU with CuPy arrays, else the
    compiled CPU kernel, whatever the array backend; --engine gpu without a GPU is a clear error."""
    from lstm97 import backend, gpu

    row = experiments.get("4-1")
    monkeypatch.setattr(backend, "name", lambda: "cupy")
    learner, engine = runner.learner_for(row, "auto")
    assert engine == "fast" and type(learner) is FastLSTM
    with pytest.raises(runner.Refused, match="the gpu engine implements only the 1997 cell, not forget_gate"):
        runner.learner_for(dataclasses.replace(row, architecture="iv-forget"), "gpu")
    pytest.importorskip("numba.cuda")
    if not gpu.simulated():
        pytest.skip("numba.cuda is not the simulator here: GPULSTM cannot be built without a GPU")
    monkeypatch.setattr(gpu, "available", lambda: (True, ""))  # as if a GPU were visible
    assert runner.learner_for(row, "auto", gpu.GPU_MIN_NETWORKS - 1)[1] == "fast"
    learner, engine = runner.learner_for(row, "auto", gpu.GPU_MIN_NETWORKS)
    assert engine == "gpu" and type(learner) is gpu.GPULSTM and "GPU kernel" in learner.name
    monkeypatch.setattr(backend, "name", lambda: "numpy")  # host arrays: the copies eat the GPU's gain
    assert runner.learner_for(row, "auto", gpu.GPU_MIN_NETWORKS)[1] == "fast"


def test_the_gpu_engine_without_a_gpu_says_so(tmp_path):
    pytest.importorskip("numba.cuda")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}  # no simulator
    out = subprocess.run([sys.executable, "-m", "lstm97", "run", "4-1", "--scale", "ci", "--trials", "2",
                          "--max-sequences", "40", "--quiet", "--engine", "gpu", "--out", str(tmp_path / "r.json")],
                         capture_output=True, text=True, timeout=120, env=env)
    if "no CUDA GPU is visible" not in out.stderr:
        assert out.returncode == 0, "a GPU is visible: the run must succeed"
    else:
        assert out.returncode == 2 and "set NUMBA_ENABLE_CUDASIM=1" in out.stderr and "CPU engine" in out.stderr


# --- a run and its record ---------------------------------------------------------------------------

def test_a_run_records_its_result_its_nets_and_where_it_came_from(tmp_path, ci):
    path = tmp_path / "r.json"
    done = runner.run(experiments.get("4-1"), seed=5, out=path, command=["python", "-m", "lstm97"], **TINY)
    assert done.finished and done.path == path and done.engine == "reference"
    data = records.load(path)
    assert data["result"] == done.record["result"] and data["provenance"]["command"] == ["python", "-m", "lstm97"]
    assert data["scale"] == "ci" and data["protocol"]["seed"] == 5 and len(data["run"]["solved_after"]) == 2
    assert len(data["run"]["sittings"]) == 1 and {"commit", "code_changed"} <= set(data["run"]["sittings"][0])
    with np.load(tmp_path / "r.weights.npz") as kept:   # the trained nets, for the chapters' figures
        assert kept["theta"].shape[0] == 2 and int(kept["seen"]) == data["run"]["sequences"][-1]
    assert not records.checkpoint_file(path).exists()


def test_a_run_without_out_writes_where_records_path_says(tmp_path, ci, monkeypatch):
    """The writer and the readers name a row's files with the one function, `records.path`."""
    monkeypatch.setattr(records, "path", lambda name, seed=0, scale_name="paper": tmp_path / f"{name}.{seed}.json")
    variant = experiments.vary(experiments.get("1-5"), {"lr": 0.2})
    assert runner.run(variant, seed=3, **TINY).path == tmp_path / "1-5+lr=0.2.3.json"
    assert (tmp_path / "1-5+lr=0.2.3.json").exists()


def test_a_competitor_and_a_variant_are_run_and_recorded_by_the_same_code(tmp_path, ci):
    rtrl = runner.run(experiments.get("2a-rtrl-p4"), out=tmp_path / "r.json", **TINY)
    assert rtrl.record["experiment"] == "2a-rtrl-p4" and "RTRL net (5-1-5, 36 weights)" in rtrl.record["run"]["learner"]
    v = experiments.vary(experiments.get("1-5"), {"lr": 0.2, "init_range": 0.1})
    data = runner.run(v, out=tmp_path / "v.json", **TINY).record
    assert data["experiment"] == "1-5+lr=0.2+init_range=0.1" and data["protocol"]["lr"] == 0.2
    assert data["protocol"]["changes"] == {"lr": 0.2, "init_range": 0.1}


def test_a_killed_run_resumes_to_the_same_result(tmp_path):
    whole, cut = tmp_path / "whole.json", tmp_path / "cut.json"
    assert cli("run", *SMALL, "--out", str(whole)).returncode == 0
    proc = subprocess.Popen([sys.executable, "-m", "lstm97", "run", *SMALL, "--out", str(cut),
                             "--checkpoint-every", "0"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ckpt = records.checkpoint_file(cut)
    deadline = time.time() + 120
    while not ckpt.exists() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert ckpt.exists() and not cut.exists(), "killed mid-run, with a checkpoint"
    again = cli("run", *SMALL, "--out", str(cut))
    assert again.returncode == 2 and f"{ckpt} exists from an interrupted run; add --resume" in again.stderr
    resumed = cli("run", *SMALL, "--out", str(cut), "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert not ckpt.exists()
    assert outcome_of(records.load(cut)) == outcome_of(records.load(whole))
    assert len(records.load(cut)["run"]["sittings"]) == 2, "the killed sitting and the resumed one"
    with np.load(tmp_path / "cut.weights.npz") as a, np.load(tmp_path / "whole.weights.npz") as b:
        assert np.array_equal(a["theta"], b["theta"])


def test_a_time_limit_keeps_the_checkpoint_and_resume_finishes(tmp_path, ci):
    small = dict(TINY, max_sequences=200)
    first = runner.run(experiments.get("4-1"), out=tmp_path / "cut.json", max_minutes=1e-6, **small)
    assert not first.finished and first.record is None and first.checkpoint.exists()
    assert not (tmp_path / "cut.json").exists()
    done = runner.run(experiments.get("4-1"), out=tmp_path / "cut.json", resume=True, **small)
    whole = runner.run(experiments.get("4-1"), out=tmp_path / "whole.json", **small)
    assert done.finished and outcome_of(done.record) == outcome_of(whole.record)


def test_resume_without_a_checkpoint_says_it_starts_afresh(tmp_path, ci, capsys):
    done = runner.run(experiments.get("4-1"), out=tmp_path / "r.json", resume=True, **TINY)
    assert done.finished and f"no checkpoint {tmp_path / 'r.json.ckpt'} to resume from: starting afresh" in (
        capsys.readouterr().err)


# --- a record is never lost or silently replaced ----------------------------------------------------

def test_a_recorded_run_is_replaced_only_with_overwrite(tmp_path):
    """The issue's case: `run 3b-1 --scale paper --trials 1 --max-sequences 100` replaced the
    committed 10/10 record. It is where the default --out points, and is refused before training."""
    committed = records.path("3b-1")
    assert committed == records.ROOT / "results" / "paper" / "3b-1-seed0.json"
    copy = tmp_path / "3b-1-seed0.json"
    if committed.exists():
        shutil.copy(committed, copy)
    else:  # a checkout without results
        copy.write_text("{}\n")
    before = copy.read_bytes()
    out = cli("run", "3b-1", "--scale", "paper", "--trials", "1", "--max-sequences", "100", "--out", str(copy))
    assert out.returncode == 2 and out.stderr.strip() == (
        f"error: {copy} already holds a recorded run; --overwrite replaces it (another --seed or --out writes "
        f"a new one)"), out.stderr
    assert copy.read_bytes() == before


def test_overwrite_replaces_a_record(tmp_path, ci):
    path = tmp_path / "r.json"
    first = runner.run(experiments.get("4-1"), out=path, **TINY)
    with pytest.raises(runner.Refused, match="--overwrite replaces it"):
        runner.run(experiments.get("4-1"), out=path, seed=1, **TINY)
    second = runner.run(experiments.get("4-1"), out=path, seed=1, overwrite=True, **TINY)
    assert records.load(path)["protocol"]["seed"] == 1 != first.record["protocol"]["seed"]
    assert second.record["protocol"]["seed"] == 1


def test_an_unwritable_out_is_refused_before_training(tmp_path, ci, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(runner.Refused, match=f"cannot write in {blocker}: .*; choose another --out"):
        runner.run(experiments.get("4-1"), out=blocker / "r.json", **TINY)
    with pytest.raises(runner.Refused, match="is a folder"):
        runner.run(experiments.get("4-1"), out=tmp_path, **TINY)
    assert "scale ci" not in capsys.readouterr().err, "refused before the run began"
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(runner.Refused, match=f"cannot write in {locked}"):
            runner.run(experiments.get("4-1"), out=locked / "r.json", **TINY)


@pytest.mark.parametrize("content,what", [
    (b"", "it is empty"),
    (b"PK\x03\x04" + b"\0" * 40, "truncated or damaged"),
    (b"#!/bin/sh\n", "not a .npz"),
    (None, "without a run's weights and state"),
])
def test_an_unreadable_checkpoint_is_one_line_and_stays(tmp_path, content, what):
    out = tmp_path / "r.json"
    ckpt = records.checkpoint_file(out)
    if content is None:
        with ckpt.open("wb") as f:
            np.savez(f, a=np.zeros(3))
        content = ckpt.read_bytes()
    else:
        ckpt.write_bytes(content)
    done = cli("run", *SMALL, "--out", str(out), "--resume")
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert what in done.stderr and str(ckpt) in done.stderr and "Traceback" not in done.stderr
    assert ckpt.read_bytes() == content and not out.exists()


def test_a_checkpoint_of_another_run_is_refused(tmp_path, ci):
    first = runner.run(experiments.get("4-1"), out=tmp_path / "r.json", max_minutes=1e-6,
                       **dict(TINY, max_sequences=200))
    with pytest.raises(ValueError, match="belongs to a different run"):
        runner.run(experiments.get("4-1"), out=tmp_path / "r.json", resume=True, **dict(TINY, max_sequences=300))
    assert first.checkpoint.exists()


def test_the_paper_scale_refuses_changed_code_unless_allowed(tmp_path, monkeypatch):
    changed = {"commit": "a" * 40, "code_changed": True, "code_diff_sha256": "b" * 64}
    monkeypatch.setattr(provenance, "code_state", lambda: dict(changed))
    before = scale.current()
    try:
        scale.use("paper")
        with pytest.raises(runner.Refused, match="differs from commit aaaaaaaaaa: commit it, or add --allow-dirty"):
            runner.run(experiments.get("3b-1"), out=tmp_path / "r.json", trials=1, max_sequences=20,
                       eval_every=10, engine="reference", progress=False)
        assert not (tmp_path / "r.json").exists()
        done = runner.run(experiments.get("3b-1"), out=tmp_path / "r.json", trials=1, max_sequences=20,
                          eval_every=10, engine="reference", progress=False, allow_dirty=True)
    finally:
        scale.use(before)
    sitting = records.load(done.path)["run"]["sittings"][0]
    assert sitting["code_changed"] and sitting["code_diff_sha256"] == "b" * 64, "the record says so"


@pytest.mark.parametrize("name, trials, budget", [("3b-1", 2, 10_000), ("1-5", 1, 48_000), ("2c-1", 1, 20_000)])
def test_a_recorded_row_reruns_to_its_recorded_solved_after(name, trials, budget, monkeypatch):
    """The loop around the kernel was rebuilt (chunks of sequences per call, compiled task
    generators, one stacked test per evaluation) without moving a recorded row: its first trials,
    run again at the paper's protocol, are solved after the very same number of sequences (3b-1's
    first two at 8,000 and 6,000; 1-5's trial 0 at 47,000), and a row's streams are the recorded
    ones (2c-1: trial 0's test loss and training error at its first 20 evaluations, as recorded).
    The run moves to the kernel compiled for its topology after 0.05 s of the generic one
    (`fast.TIER_UP`, 15 s in a real run), so both kernels reproduce the record."""
    from lstm97 import fast
    monkeypatch.setattr(fast, "TIER_UP", 0.05)
    seen = []
    monkeypatch.setattr(fast, "specialized", lambda dims: seen.append(1) or kernel.specialized(dims))
    before = scale.current()
    scale.use("paper")
    try:
        done = runner.run(experiments.get(name), trials=trials, max_sequences=budget, record=False,
                          progress=False).run
    finally:
        scale.use(before)
    recorded = records.load(records.path(name, 0, "paper"))["run"]
    if name == "2c-1":  # unsolved this early: its learning curves, from the same streams
        n = len(done.test_loss)
        assert n == 20 and done.sequences == recorded["sequences"][:n]
        for key in ("test_loss", "train_error"):
            ours, theirs = np.array(getattr(done, key))[:, 0], np.array(recorded[key], dtype=float)[:n, 0]
            assert np.allclose(ours, theirs, rtol=1e-6, atol=0), key  # recorded in float32
    else:
        assert done.solved_after == recorded["solved_after"][:trials]
    assert seen, "the run moved to the specialized kernel"
