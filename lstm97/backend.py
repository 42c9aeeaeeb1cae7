"""One switch between NumPy (the default) and CuPy for every numeric module of `lstm97`.

Numeric code never imports CuPy itself: it asks `xp()` for the active array module.
Data are always generated on the host with NumPy's seeded `Generator` and moved with
`to_device`, so both backends see identical numbers; `to_host` brings results back.

The backend is chosen by `use(name)` or, when first needed, by the environment variable
``LSTM97_BACKEND`` (``numpy`` | ``cupy`` | ``auto``; default ``numpy``): a bad value is an error
there, not at import. ``auto`` picks CuPy
when it is installed and a CUDA device is visible, NumPy otherwise.
"""
from __future__ import annotations

import os
import types

import numpy as np

BACKENDS = ("numpy", "cupy", "auto")
ENV_VAR = "LSTM97_BACKEND"


class BackendUnavailable(RuntimeError):
    """CuPy was requested but cannot run here."""


def _cupy_status() -> tuple[types.ModuleType | None, str]:
    """Return (cupy module or None, a one-line reason when it is None)."""
    try:
        import cupy
    except ImportError:
        return None, "CuPy is not installed"
    try:
        n = cupy.cuda.runtime.getDeviceCount()
    except Exception as err:  # CUDA driver missing or broken: CuPy raises its own error types
        return None, f"CuPy cannot reach a CUDA driver ({type(err).__name__}: {err})"
    if n == 0:
        return None, "no CUDA device is visible"
    return cupy, ""


def gpu_available() -> bool:
    """True when CuPy is installed and sees at least one CUDA device."""
    return _cupy_status()[0] is not None


_active: types.ModuleType | None = None  # None until `use`, or the first need, reads ENV_VAR


def use(name: str = "numpy") -> types.ModuleType:
    """Select the array module for all of `lstm97` and return it.

    ``"numpy"`` always works; ``"cupy"`` raises `BackendUnavailable`, naming the fix, when
    CuPy or a GPU is missing; ``"auto"`` takes CuPy when it can and NumPy otherwise.
    """
    global _active
    if not isinstance(name, str) or name.lower() not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    name = name.lower()
    if name == "numpy":
        _active = np
    else:
        cupy, why = _cupy_status()
        if cupy is not None:
            _active = cupy
        elif name == "cupy":
            raise BackendUnavailable(
                f"CuPy was requested but {why}. On a GPU machine install it with "
                f"`pip install -e '.[gpu]'` (cupy-cuda12x; Colab already has it), "
                f"or set {ENV_VAR}=numpy / call lstm97.backend.use('numpy')."
            )
        else:
            _active = np
    return _active


def xp() -> types.ModuleType:
    """The active array module (`numpy` or `cupy`)."""
    return _active or use(os.environ.get(ENV_VAR, "numpy"))


def name() -> str:
    """Name of the active backend: ``"numpy"`` or ``"cupy"``."""
    return "numpy" if xp() is np else "cupy"


def is_array(a) -> bool:
    """Is `a` a NumPy array or an array of the active backend? Test for CuPy arrays this way, not by
    `__cuda_array_interface__`, which the CuPy stand-in of the tests (tests/standins) lacks."""
    return isinstance(a, (np.ndarray, xp().ndarray))


def to_device(a, dtype=None):
    """Move a host array (or anything array-like) to the active backend."""
    return xp().asarray(a, dtype=dtype)


def to_host(a) -> np.ndarray:
    """Return a NumPy array, copying from the GPU when `a` lives there."""
    if isinstance(a, np.ndarray):
        return a
    get = getattr(a, "get", None)  # cupy.ndarray.get() copies device -> host
    return get() if callable(get) else np.asarray(a)


def describe() -> str:
    """One line for a notebook's first cell: active backend, GPU and CuPy status."""
    cupy, why = _cupy_status()
    if cupy is None:
        gpu = f"GPU: none usable ({why})"
    else:
        props = cupy.cuda.runtime.getDeviceProperties(0)
        gpu = f"GPU: {props['name'].decode()} (CuPy {cupy.__version__})"
    lib = xp()
    return f"lstm97 backend: {name()} ({lib.__name__} {lib.__version__}); {gpu}"
