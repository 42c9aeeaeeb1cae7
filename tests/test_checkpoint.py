"""Checkpoint files (`lstm97.checkpoint`): what is saved comes back; anything else is refused in
one line and left where it is (issue 24, point 9)."""
import io
import json
import pickle
import zipfile

import numpy as np
import pytest

from lstm97 import checkpoint, tasks, train
from lstm97.rnn import RNN


def _saved(path):
    state = {"seen": 5, "run": {"sequences": [1, 2]}, "text": "ST3 — ü"}
    theta, arrays = np.arange(6.0).reshape(2, 3), {"n": np.array(3), "correct": np.ones((2, 4), dtype=bool)}
    checkpoint.save(path, state, theta, arrays)
    return state, theta, arrays


def test_a_checkpoint_comes_back_as_saved(tmp_path):
    path = tmp_path / "deep" / "run.ckpt"
    state, theta, arrays = _saved(path)
    got_state, got_theta, got_arrays = checkpoint.load(path)
    assert got_state == state and np.array_equal(got_theta, theta)
    assert got_arrays.keys() == arrays.keys() and all(np.array_equal(got_arrays[k], v) for k, v in arrays.items())
    assert not (tmp_path / "deep" / "run.ckpt.tmp").exists()


def test_an_earlier_versions_checkpoint_still_reads(tmp_path):
    """Before the split, the state was stored as a NumPy string (runs begun then must go on)."""
    path = tmp_path / "old.ckpt"
    with open(path, "wb") as f:
        np.savez_compressed(f, theta=np.zeros((1, 2)), state=np.array(json.dumps({"seen": 7})), array_n=np.array(1))
    state, theta, arrays = checkpoint.load(path)
    assert state == {"seen": 7} and theta.shape == (1, 2) and int(arrays["n"]) == 1


def _zip_without_our_keys():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "not a checkpoint")
    return buf.getvalue()


def _npz_with_bad_state():
    buf = io.BytesIO()
    np.savez(buf, theta=np.zeros(2), state=np.frombuffer(b"{not json", dtype=np.uint8))
    return buf.getvalue()


def _npy():
    buf = io.BytesIO()
    np.save(buf, np.zeros(3))
    return buf.getvalue()


FOREIGN = {
    "empty": (lambda good: b"", "empty"),
    "truncated": (lambda good: good[:len(good) // 2], "truncated"),
    "cut after its first bytes": (lambda good: good[:40], "truncated"),
    "a text file": (lambda good: b"seen = 5\n", "not a .npz"),
    "a pickle": (lambda good: pickle.dumps({"theta": [1, 2]}), "not a .npz"),
    "a .npy array": (lambda good: _npy(), "not a .npz"),
    "a zip without our keys": (lambda good: _zip_without_our_keys(), "without a run's weights and state"),
    "a .npz whose state is not JSON": (lambda good: _npz_with_bad_state(), "not JSON"),
}


@pytest.mark.parametrize("kind", FOREIGN)
def test_a_file_that_is_not_a_checkpoint_is_refused_in_one_line_and_kept(tmp_path, kind):
    make, what = FOREIGN[kind]
    good = tmp_path / "good.ckpt"
    _saved(good)
    path = tmp_path / "run.ckpt"
    content = make(good.read_bytes())
    path.write_bytes(content)
    with pytest.raises(checkpoint.Unreadable, match=what) as err:
        checkpoint.load(path)
    message = str(err.value)
    assert "\n" not in message and str(path) in message and isinstance(err.value, ValueError)
    assert path.read_bytes() == content, "the file stays as it was"


def test_resuming_from_a_broken_checkpoint_says_so(tmp_path):
    path = tmp_path / "run.ckpt"
    path.write_bytes(b"")
    with pytest.raises(checkpoint.Unreadable, match="empty"):
        train.train(RNN(3, 3, 3), tasks.make("2a", p=2), lr=1.0, trials=1, max_sequences=10, eval_every=5,
                    progress=False, checkpoint=str(path), resume=True)
    assert path.exists()
