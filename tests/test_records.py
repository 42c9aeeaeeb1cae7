"""A run's files (`records`): where they live, what a record holds, and reading a row back — a
finished record, a checkpoint in progress, or nothing — without computing anything."""
import dataclasses
import importlib.util
import json
import subprocess

import numpy as np
import pytest

from lstm97 import checkpoint, experiments, records, train
from lstm97.fast import FastLSTM

CONVERTED_AT = "146ba89"  # the last commit with the records of earlier versions (scripts/compact_records.py)


def make_folder(root):
    """A results folder with one finished row (4-1), one in progress (4-2) and 4-3 absent."""
    p = experiments.get("4-1")
    task = dataclasses.replace(p, task_params={"T": 20}).make_task()

    def run(**kw):
        return train.train(FastLSTM(p.config(), parallel=False), task, lr=p.lr, trials=2, max_sequences=300, seed=0,
                           eval_every=100, test_size=16, stop=p.stop, progress=False, freeze_solved=True, **kw)

    done = run()
    done.solved_after = [250, None]          # as if trial 0 had met ST3
    records.save_run(records.path("4-1", folder=root), p, done, "fast", command=["python", "-m", "lstm97", "run", "4-1"])
    np.savez(root / "paper" / "4-1-seed0.weights.npz", theta=np.full((2, 93), 0.5), seen=300)
    stopped = run(checkpoint=str(records.checkpoint_file(records.path("4-2", folder=root))), checkpoint_every=0.0,
                  time_limit=0.0)
    assert not stopped.finished
    return root


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return make_folder(tmp_path_factory.mktemp("results"))


def test_one_function_names_where_a_rows_files_live(tmp_path):
    assert records.path("4-1") == records.FOLDER / "paper" / "4-1-seed0.json"
    variant = "2c-1+init_range=0.1"
    assert records.path(variant, 2, "ci", tmp_path) == tmp_path / "ci" / "variants" / f"{variant}-seed2.json"
    assert records.path("6b", nets=True) == records.FOLDER / "paper" / "nets" / "6b-seed0.json"
    base = records.path("4-1")
    assert records.curves_file(base).name == "4-1-seed0.curves.npz"
    assert records.weights_file(base).name == "4-1-seed0.weights.npz"
    assert records.checkpoint_file(base).name == "4-1-seed0.json.ckpt"


def test_a_record_is_a_small_summary_with_its_curves_beside_it(folder):
    path = records.path("4-1", folder=folder)
    summary = json.loads(path.read_text())
    assert "test_loss" not in summary["run"] and summary["run"]["curves"] == "4-1-seed0.curves.npz"
    data = records.load(path)
    run = data["run"]
    assert list(run)[list(run).index("backend") + 1:][:4] == list(records.CURVES), "the curves where they stood"
    assert len(run["sequences"]) == len(run["test_loss"]) == 3 and len(run["test_loss"][0]) == 2
    assert all(type(v) is float for row in run["test_loss"] for v in row)
    assert run["sittings"] and run["sittings"][0]["commit"], "every sitting, with its commit"
    prov = data["provenance"]
    assert prov["command"] == ["python", "-m", "lstm97", "run", "4-1"] and {"numba", "llvmlite", "threads"} <= prov.keys()


def test_writing_and_loading_give_the_same_record(tmp_path):
    data = {"experiment": "x", "run": {"learner": "l", "sequences": [100, 200], "test_loss": [[0.125, 1 / 3], [0.25, 0.375]],
                                       "test_correct": [[0.0, 0.5], [1.0, 0.25]], "train_error": [[0.5, None], [0.25, None]],
                                       "solved_after": [None, 200]}}
    records.write(tmp_path / "x-seed0.json", data)
    back = records.load(tmp_path / "x-seed0.json")
    assert back["run"]["test_loss"][0][1] == float(np.float32(1 / 3)) != 1 / 3   # SINGLE: rounded to float32
    back["run"]["test_loss"][0][1] = 1 / 3
    assert back == data     # the rest exact (halves and quarters are float32 numbers)
    records.write(tmp_path / "y-seed0.json", {"run": {k: [] if k in records.CURVES else v for k, v in data["run"].items()}})
    assert records.load(tmp_path / "y-seed0.json")["run"]["test_loss"] == []


def test_converted_records_read_back_as_committed():
    """scripts/compact_records.py's check, on two small records against the JSON committed before."""
    spec = importlib.util.spec_from_file_location("compact", records.ROOT / "scripts" / "compact_records.py")
    compact = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(compact)
    for name in ("iv-1997", "3b-1"):
        path = records.path(name)
        old = subprocess.run(["git", "show", f"{CONVERTED_AT}:{path.relative_to(records.ROOT)}"], cwd=records.ROOT,
                             capture_output=True, text=True)
        if old.returncode != 0:
            pytest.skip(f"commit {CONVERTED_AT} is not in this clone")
        compact.check(path, json.loads(old.stdout))


def test_a_finished_row_is_read_from_its_record(folder):
    row = records.recorded("4-1", folder=folder)
    assert row["status"] == "finished" and row["solved_after"] == [250, None] and row["freeze_solved"]
    assert row["trials"] == 2 and row["seen"] == 300 and row["engine"] == "fast" and row["backend"] == "numpy"
    assert row["wall_time"] > 0 and row["commit"] and row["scale"] == records.load(row["path"])["scale"]
    assert row["weights_seen"] == 300 and (row["weights"] == 0.5).all(), "the weights kept beside the result"
    assert row["device"] == records.load(row["path"])["provenance"]["device"]


def test_an_unfinished_row_is_read_from_its_checkpoint_without_testing_it(folder):
    row = records.recorded("4-2", folder=folder)
    assert row["status"] == "in progress" and row["seen"] == 100 and row["solved_after"] == [None, None]
    assert row["engine"] == "fast" and row["path"].name == "4-2-seed0.json.ckpt"
    assert row["fraction_wrong"] is None, "reading measures nothing: report.extra_tested does"
    state, theta, arrays = checkpoint.load(row["path"])
    assert row["weights_seen"] == 100 and np.array_equal(row["weights"], theta), "the checkpoint's weights"
    assert np.array_equal(row["solved_weights"], arrays["solved_weights"], equal_nan=True)
    assert row["device"] is None, "a checkpoint records no provenance"


def test_an_absent_row_is_pending(folder):
    row = records.recorded("4-3", folder=folder)
    assert row["status"] == "pending" and row["solved_after"] is None and row["trials"] == 10
    assert row["weights"] is None and row["weights_seen"] is None


def test_nets_run_again_must_be_the_rows_own_first_trials(folder):
    assert records.kept_nets("4-1", folder=folder) is None, "none recorded"
    nets = records.path("4-1", folder=folder, nets=True)
    record = records.load(records.path("4-1", folder=folder))
    record["run"]["solved_after"] = [250]                   # trial 0 of the row, run again
    records.write(nets, record)
    np.savez(records.weights_file(nets), theta=np.full((1, 93), 0.25), seen=250)
    solved, theta = records.kept_nets("4-1", folder=folder)
    assert solved == [250] and theta.shape == (1, 93) and (theta == 0.25).all()
    record["run"]["solved_after"] = [260]                   # another trial's count: not the row's
    records.write(nets, record)
    with pytest.raises(ValueError, match="not the first trials of 4-1"):
        records.kept_nets("4-1", folder=folder)
    for f in nets.parent.iterdir():
        f.unlink()


def test_the_committed_records_are_small():
    """No JSON over 200 kB: the learning curves live in the .curves.npz beside it."""
    for path in records.FOLDER.rglob("*.json"):
        assert path.stat().st_size <= 200_000, path
        assert "curves" in json.loads(path.read_text())["run"], f"{path}: not converted"
