"""The CuPy stand-in (tests/standins/cupy) behaves like CuPy where ports break, and the package runs on it.

This process never sees the stand-in as ``cupy``: it is loaded from its path under another name,
and the command-line runs put it on PYTHONPATH in a subprocess.

To run the whole book under the stand-in (issue #23; about 27 minutes of notebook time at ci scale on
two shared cores, December 2026):

    LSTM97_BACKEND=cupy PYTHONPATH=$PWD/tests/standins LSTM97_SCALE=ci .venv/bin/python -m pytest \\
        --nbval-lax --nbval-current-env --nbval-cell-timeout=900 -p no:cacheprovider book/

(PYTHONPATH absolute: the notebooks' kernels run in book/.)
"""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from lstm97.records import load  # noqa: E402

STANDINS = Path(__file__).parent / "standins"
IMPLICIT = "Implicit conversion to a NumPy array is not allowed"
MIXED = r"Unsupported type <class 'numpy\.ndarray'>"


def _load():
    spec = importlib.util.spec_from_file_location("cupy_standin", STANDINS / "cupy" / "__init__.py",
                                                  submodule_search_locations=[str(STANDINS / "cupy")])
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # for its relative import of .cuda
    spec.loader.exec_module(module)
    return module


cp = _load()


@pytest.fixture
def x():
    return cp.asarray(np.arange(6.0).reshape(2, 3))


def test_this_process_does_not_see_the_standin_as_cupy():
    from lstm97 import backend

    assert "cupy" not in sys.modules or sys.modules["cupy"] is not cp
    assert not backend.gpu_available() or "standin" not in sys.modules["cupy"].__version__


def test_its_array_is_a_class_of_its_own(x):
    assert not issubclass(cp.ndarray, np.ndarray) and not isinstance(x, np.ndarray)
    assert isinstance(x, cp.ndarray) and isinstance(cp.ndarray((2, 2)), cp.ndarray)
    assert not hasattr(x, "__cuda_array_interface__") and not hasattr(x, "__array_interface__")


@pytest.mark.parametrize("convert", [np.asarray, np.array, np.ascontiguousarray, lambda a: plt.plot(a)],
                         ids=["asarray", "array", "ascontiguousarray", "plot"])
def test_implicit_conversion_to_numpy_raises(x, convert):
    with pytest.raises(TypeError, match=IMPLICIT):
        convert(x)
    plt.close("all")


def test_get_and_asnumpy_copy_to_the_host_and_asarray_to_the_device(x):
    host = np.arange(3.0)
    dev = cp.asarray(host)
    host[0] = 7.0
    assert dev[0].item() == 0.0, "asarray copies"
    for back in (dev.get(), cp.asnumpy(dev)):
        assert type(back) is np.ndarray and np.array_equal(back, [0.0, 1.0, 2.0])
        back[1] = 9.0
        assert dev[1].item() == 1.0, "the host copy is a copy"
    assert cp.asarray(dev) is dev and cp.asarray(dev, dtype=np.float32).dtype == np.float32
    assert type(cp.asnumpy([1, 2])) is np.ndarray


def test_numpy_functions_on_standin_arrays_give_standin_arrays(x):
    for out in (np.exp(x), np.sum(x), np.einsum("ij->j", x), np.stack([x, x]), np.where(x > 2, x, 0.0), x.T @ x):
        assert isinstance(out, cp.ndarray)
    assert np.sum(x).shape == () and float(np.sum(x)) == 15.0


@pytest.mark.parametrize("mix", [
    lambda a, h: a + h, lambda a, h: h + a, lambda a, h: a * h, lambda a, h: h < a, lambda a, h: a @ h.T,
    lambda a, h: np.add(a, h), lambda a, h: np.concatenate([h, a]), lambda a, h: np.einsum("ij,ij->i", a, h),
    lambda a, h: cp.concatenate([a, h]), lambda a, h: cp.where(a > 0, a, h), lambda a, h: cp.einsum("ij,ij->i", a, h),
    lambda a, h: a + h[0, 0, None].reshape(()),  # a 0-d NumPy array is an array, not a scalar
], ids=["add", "radd", "mul", "compare", "matmul", "np.add", "np.concatenate", "np.einsum", "cp.concatenate",
        "cp.where", "cp.einsum", "0-d"])
def test_mixing_with_numpy_arrays_raises(x, mix):
    with pytest.raises(TypeError, match=MIXED):
        mix(x, np.ones((2, 3)))


def test_scalars_mix_freely(x):
    for s in (2, 2.0, True, np.float64(2.0), np.int64(2), np.bool_(True)):
        assert isinstance(x * s, cp.ndarray) and isinstance(s - x, cp.ndarray)


def test_its_namespace_is_numpys_on_standin_arrays(x):
    for out in (cp.zeros((2, 2)), cp.ones_like(x), cp.exp(x), cp.einsum("ij->i", x), cp.arange(4),
                cp.repeat(x, 2, axis=0), cp.concatenate([x, x], axis=1), cp.isfinite(x).all(axis=1)):
        assert isinstance(out, cp.ndarray)
    assert cp.float64 is np.float64 and cp.inf == np.inf
    assert cp.get_array_module(x) is cp and cp.get_array_module(np.ones(1)) is np


def test_methods_attributes_and_indexing(x):
    assert x.shape == (2, 3) and x.dtype == np.float64 and x.ndim == 2 and x.size == 6
    for out in (x.T, x.reshape(3, 2), x.sum(axis=0), x.astype(int), x.copy(), x[0], x[:, 1:], x[0, 1], x.max()):
        assert isinstance(out, cp.ndarray)
    assert x[0, 1].shape == () and x.sum().shape == (), "scalars stay on the device, as 0-d arrays"
    view = x.reshape(-1)
    view[0] = 5.0
    assert x[0, 0].item() == 5.0, "reshape is a view, as in CuPy"
    before = x
    x += 1
    x[1] = cp.zeros(3)
    assert x is before and x.get().tolist() == [[6.0, 2.0, 3.0], [0.0, 0.0, 0.0]]


def test_conversions_to_python_as_in_cupy(x):
    assert float(x[0, 1]) == 1.0 and int(x[1, 2]) == 5 and bool(x[0, 1]) and x[1, 0].item() == 3.0
    assert len(x) == 2 and all(isinstance(row, cp.ndarray) for row in x)
    assert f"{x[1, 1]:.2f}" == "4.00" and x.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    with pytest.raises(ValueError, match="ambiguous"):
        bool(x)
    with pytest.raises(TypeError):
        len(x[0, 0])


def test_host_indices_are_allowed_as_in_cupy(x):
    """CuPy turns NumPy arrays and lists in an index into device arrays (`_prepare_slice_list`), and
    copies a host value assigned through such an index; through a basic index it refuses one."""
    assert x[np.array([1, 0])].get().tolist() == [[3.0, 4.0, 5.0], [0.0, 1.0, 2.0]]
    assert x[[1, 1], np.array([True, False, True])].get().tolist() == [3.0, 5.0]
    x[np.array([0])] = np.ones((1, 3))
    assert x[0].get().tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="non-scalar numpy.ndarray cannot be used for fill"):
        x[:] = np.ones((2, 3))
    x[:] = np.float64(2.0)
    assert (x == 2.0).all()


def test_a_device_but_no_random_numbers():
    assert cp.cuda.runtime.getDeviceCount() == 1
    assert b"stand-in" in cp.cuda.runtime.getDeviceProperties(0)["name"]
    assert "standin" in cp.__version__
    cp.cuda.Device(0).synchronize()
    with pytest.raises(AttributeError, match="NumPy's seeded Generator"):
        cp.random


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("LSTM97_BACKEND", "LSTM97_SCALE")}
    return env | {"PYTHONPATH": str(STANDINS.resolve())} | extra


def test_lstm97_backend_takes_the_standin():
    code = ("from lstm97 import backend; import cupy; import numpy as np\n"
            "assert backend.xp() is cupy and backend.name() == 'cupy' and backend.gpu_available()\n"
            "a = backend.to_device(np.arange(3.0)); assert isinstance(a, cupy.ndarray) and backend.is_array(a)\n"
            "h = backend.to_host(a); assert type(h) is np.ndarray and h.tolist() == [0.0, 1.0, 2.0]\n"
            "print(backend.describe())")
    out = subprocess.run([sys.executable, "-c", code], env=_env(LSTM97_BACKEND="cupy"), capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "backend: cupy" in out.stdout and "CuPy stand-in (NumPy on the host)" in out.stdout


# fields a record may differ in between backends: the backend and device, the time, the checkout, the
# command line (its --backend and --out)
DIFFERS = {("run", "backend"), ("run", "wall_time"), ("result", "wall_time"), ("provenance", "device"),
           ("provenance", "finished"), ("provenance", "git_commit"), ("run", "sittings"), ("provenance", "command")}


def _fields(record: dict, prefix=()):
    for k, v in record.items():
        if isinstance(v, dict):
            yield from _fields(v, prefix + (k,))
        else:
            yield prefix + (k,), v


def test_the_command_line_gives_the_same_record_on_the_standin(tmp_path):
    records = {}
    for name in ("numpy", "cupy", "auto"):
        out = tmp_path / f"{name}.json"
        done = subprocess.run([sys.executable, "-m", "lstm97", "run", "3b-1", "--scale", "ci", "--trials", "2",
                               "--max-sequences", "200", "--eval-every", "100", "--quiet", "--backend", name,
                               "--out", str(out)], env=_env(), capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        records[name] = load(out)   # the JSON summary with its curves read back from the .npz beside it
    assert records["numpy"]["run"]["backend"] == "numpy"
    assert records["cupy"]["run"]["backend"] == records["auto"]["run"]["backend"] == "cupy"
    assert "stand-in" in records["cupy"]["provenance"]["device"]
    want = {k: v for k, v in _fields(records["numpy"]) if k not in DIFFERS}
    for name in ("cupy", "auto"):
        got = {k: v for k, v in _fields(records[name]) if k not in DIFFERS}
        assert got == want, f"--backend {name}: " + ", ".join(
            ".".join(k) for k in sorted(set(want) | set(got)) if want.get(k) != got.get(k))
