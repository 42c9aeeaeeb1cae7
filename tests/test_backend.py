import subprocess
import sys

import numpy as np
import pytest

from lstm97 import backend, tasks


@pytest.fixture(autouse=True)
def restore_backend():
    before = backend.name()
    yield
    backend.use(before)


def test_numpy_is_the_default():
    out = subprocess.run([sys.executable, "-c", "import lstm97; print(lstm97.backend.name())"],
                         env={"PATH": ""}, capture_output=True, text=True)
    assert out.stdout.strip() == "numpy"


def test_use_numpy_and_helpers():
    assert backend.use("numpy") is np and backend.xp() is np and backend.name() == "numpy"
    a = backend.to_device([1.0, 2.0])
    assert isinstance(a, np.ndarray)
    assert backend.to_host(a) is a
    assert backend.to_device(np.arange(3), dtype=np.float64).dtype == np.float64
    assert "numpy" in backend.describe()


def test_is_array_knows_the_arrays_of_the_active_backend():
    backend.use("numpy")
    assert backend.is_array(np.zeros(2)) and not backend.is_array([0.0, 0.0]) and not backend.is_array(1.0)


def test_unknown_backend():
    with pytest.raises(ValueError, match="unknown backend 'jax'"):
        backend.use("jax")


@pytest.mark.skipif(backend.gpu_available(), reason="this machine has a GPU; the no-GPU path can't be shown")
def test_cupy_without_gpu_names_the_fix():
    with pytest.raises(backend.BackendUnavailable, match=r"CuPy was requested but .*pip install -e '\.\[gpu\]'.*LSTM97_BACKEND=numpy"):
        backend.use("cupy")
    assert backend.use("auto") is np, "auto falls back to NumPy"
    assert "GPU: none usable" in backend.describe()


@pytest.mark.skipif(backend.gpu_available(), reason="this machine has a GPU")
def test_env_var_asking_for_missing_cupy_fails_where_arrays_are_first_needed():
    """Not at import: `python -m lstm97 list` must work whatever the variable says (tests/test_cli.py)."""
    code = "import lstm97; print('imported'); lstm97.backend.xp()"
    out = subprocess.run([sys.executable, "-c", code], env={"LSTM97_BACKEND": "cupy", "PATH": ""},
                         capture_output=True, text=True)
    assert out.stdout.strip() == "imported" and out.returncode != 0 and "CuPy was requested" in out.stderr
    bad = subprocess.run([sys.executable, "-c", code.replace("xp()", "name()")], env={"LSTM97_BACKEND": "jax", "PATH": ""},
                         capture_output=True, text=True)
    assert bad.stdout.strip() == "imported" and "unknown backend 'jax'" in bad.stderr


@pytest.mark.gpu
@pytest.mark.skipif(not backend.gpu_available(), reason="needs CuPy and a CUDA device")
def test_cupy_backend_sees_the_same_data():
    import cupy

    batch = tasks.make("4", T=40).sample(np.random.default_rng(0), 4)
    assert backend.use("cupy") is cupy and backend.name() == "cupy"
    dev = backend.to_device(batch.x)
    assert isinstance(dev, cupy.ndarray)
    host = backend.to_host(dev)
    assert isinstance(host, np.ndarray) and np.array_equal(host, batch.x)
    assert backend.use("auto") is cupy
    assert tasks.make("4", T=40).correct(dev[..., :1] * 0 + backend.to_device(batch.y), batch).all()
