"""The GPU kernel: many independent 1997 LSTMs side by side, one CUDA thread per network.

Each thread runs its network's whole sequence in one launch — the forward pass, the traces of
eqs. (25) and (27), the errors and weight changes of eqs. (19)–(28), the loss and the outputs —
with the very per-network function of the CPU kernel (`kernel.make`, compiled here by
`cuda.jit(device=True)`), so both kernels compute the same numbers in the same order; `GPULSTM`
is `FastLSTM`'s learner with the launch swapped. Arrays live network-minor on the device (Fortran
order: element i of all networks side by side), so the 32 threads of a warp reading weight i of
their 32 networks make one coalesced load.

When it pays (measured by `benchmarks/bench.py --gpu` on an NVIDIA H200 against the CPU kernel
on that machine's 16 cores, 2026-12-04; benchmarks/latest-gpu.txt): one thread runs one network's
step serially, ≈ 500–2,000 dependent float64 operations with `exp`, so a single network takes
35–65 µs per step on the GPU against 0.8–1.5 µs on a CPU core: the GPU wins on throughput only.
With the arrays already on the device (CuPy), the GPU kernel and the 16 cores break even at
B ≈ 10^3 networks (adding net 60 vs 55 ns per network-step; 6b net 122 vs 104) and the GPU is
8.6× / 5.5× faster at 10^4 and 19× / 15× at 10^5 (3.0 and 6.5 ns per network-step). With NumPy
arrays, copied to the device and back at every call, the copies dominate: the adding net gains
only 1.5× at 10^4, and the 6b net is slower than the CPU at every B up to 10^5.
`GPU_MIN_NETWORKS` is the rule `auto` follows.

Needs numba-cuda (`pip install -e '.[gpu]'`), imported on first use, so that this module (and
`GPU_MIN_NETWORKS`) imports without it. With NUMBA_ENABLE_CUDASIM=1 set before numba.cuda is
first imported, the kernel runs on Numba's CPU simulator (slowly: the tests use it).
"""
from __future__ import annotations

import functools
import math

import numpy as np

from . import backend
from .fast import FastLSTM
from .kernel import FORWARD, make
from .learner import Learner
from .lstm import check_finite

# The engine `auto` picks the GPU kernel when the arrays live on the GPU (the CuPy backend), at
# least this many networks train side by side, and a real GPU is visible: above the break-even
# of ≈ 10^3 networks measured on an H200 against 16 CPU cores (see the docstring). With NumPy
# arrays the copies eat the gain, so `auto` keeps the CPU kernel there.
GPU_MIN_NETWORKS = 2_000

THREADS_PER_BLOCK = 128

NO_GPU = ("no CUDA GPU is visible; set NUMBA_ENABLE_CUDASIM=1 to run the kernel on the CPU simulator, "
          "or use the compiled CPU engine")


class GPUUnavailable(RuntimeError):
    """The GPU kernel cannot run here: numba-cuda is missing, or no GPU (nor the simulator) is visible."""


cuda = None  # numba.cuda, imported by `_cuda()` on first use; a global, as the simulator requires


def _cuda():
    global cuda
    if cuda is None:
        try:
            from numba import cuda as module
        except ImportError as err:
            raise GPUUnavailable(f"the GPU kernel needs numba-cuda ({err}); install it with "
                                 f"`pip install -e '.[gpu]'`") from None
        cuda = module
    return cuda


def simulated() -> bool:
    """Whether numba.cuda is (or will be) Numba's CPU simulator."""
    from numba import config
    return bool(config.ENABLE_CUDASIM)


def available() -> tuple[bool, str]:
    """(True, "") when a real CUDA GPU is visible to numba-cuda, else (False, why)."""
    try:
        _cuda()
    except GPUUnavailable as err:
        return False, str(err)
    if simulated():
        return False, "numba.cuda is the CPU simulator (NUMBA_ENABLE_CUDASIM=1)"
    if not cuda.is_available():
        return False, NO_GPU
    return True, ""


def device_name() -> str:
    _cuda()
    if simulated():
        return "the CUDA simulator"
    name = cuda.get_current_device().name
    return name.decode() if isinstance(name, bytes) else name  # bytes in older numba-cuda


@functools.cache
def _compiled():
    """The kernel and the reductions that check the symbols (min, max) and the values (`_finite`),
    compiled on first use."""
    _cuda()
    if not simulated() and not cuda.is_available():
        raise GPUUnavailable(NO_GPU)
    run_one = make(cuda.jit(device=True))

    @cuda.jit
    def kernel(theta, xs, sym, onehot, d, m, dims, mode, lrs, ys, loss, out, work, iwork):
        b = cuda.grid(1)
        if b < theta.shape[0]:
            run_one(b, theta, xs, sym, onehot, d, m, dims, mode, lrs, ys, loss, out, work, iwork)

    return (kernel, cuda.reduce(lambda a, b: min(a, b)), cuda.reduce(lambda a, b: max(a, b)),
            cuda.reduce(lambda a, b: a * 0.0 + b * 0.0))  # 0 while every value is finite, else NaN


def _device(name: str, a, dtype):
    """`a` as a numba device array of `dtype`: a host array is copied over network-minor
    (Fortran order); a device array (CuPy, or anything with `__cuda_array_interface__`) is used
    in place, converted on the device if its dtype differs."""
    _cuda()
    if hasattr(a, "__cuda_array_interface__"):
        if np.dtype(a.__cuda_array_interface__["typestr"]) != dtype:
            if not hasattr(a, "astype"):
                raise TypeError(f"{name} must be {np.dtype(dtype).name} on the device, got "
                                f"{a.__cuda_array_interface__['typestr']}")
            a = a.astype(dtype)
        return cuda.as_cuda_array(a)
    if not isinstance(a, np.ndarray):
        raise TypeError(f"GPULSTM takes arrays (on the host or the device), got {type(a).__name__} for {name}; "
                        f"convert it with numpy.asarray")
    return cuda.to_device(np.asfortranarray(a, dtype=dtype))


def _flat(a):
    """A device array (either order) as a 1-d view."""
    return a.reshape(a.size) if a.is_c_contiguous() else a.T.reshape(a.size)


def _back(a):
    """A device array as an array of the active backend (NumPy: copied to the host)."""
    return a.copy_to_host() if backend.name() == "numpy" else backend.to_device(a)


class GPULSTM(FastLSTM):
    """`FastLSTM` on the GPU: the same learner interface and numbers, one CUDA thread per network.

    Takes NumPy or CuPy arrays (or anything with `__cuda_array_interface__`); returns loss,
    weights and outputs in the active array backend. Worth it from thousands of networks
    (`GPU_MIN_NETWORKS`); `name` says "GPU kernel", so a `Run` records which implementation
    produced it.
    """

    implementation = "GPU kernel"
    trains_many = False  # one sequence per launch: the CPU kernel's train_many is not this engine's

    def __init__(self, config, update: str = "sequence"):
        super().__init__(config, update)
        self._kernel, self._min, self._max, self._zero = _compiled()
        self._dims_on_device = cuda.to_device(self._dims)

    def forward_many(self, theta, x, k: int, lengths=None):
        """One sequence per CUDA thread: each network's weights copied to its k rows (`Learner`'s way)."""
        return Learner.forward_many(self, theta, x, k, lengths)

    def _extent(self, sym) -> tuple[int, int]:
        if not sym.size:
            return 0, 0
        return int(self._min(_flat(sym))), int(self._max(_flat(sym)))

    def _finite(self, a) -> bool:
        return math.isfinite(self._zero(_flat(a)))

    def _run(self, theta, inputs, batch, mode: int, lr, lengths=None):
        # one thread per network runs every step: `lengths` (forward) saves nothing here
        theta, xs, sym, onehot, d, m = [cuda.to_device(a) if isinstance(a, np.ndarray) else a  # the unused ones
                                        for a in self._arrays(theta, inputs, batch, _device)]
        check_finite({"theta": theta, "the inputs": xs}, self._finite)
        B, T = theta.shape[0], (sym if onehot else xs).shape[1]
        out = cuda.device_array(theta.shape, order="F") if mode != FORWARD else theta
        ys, loss = cuda.device_array((B, T, self.config.n_out), order="F"), cuda.device_array(B)
        work = cuda.device_array((B, self._scratch[0]), order="F")
        iwork = cuda.device_array((B, self._scratch[1]), dtype=np.int64, order="F")
        grid = (B + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK
        self._kernel[grid, THREADS_PER_BLOCK](theta, xs, sym, onehot, d, m, self._dims_on_device, mode,
                                              cuda.to_device(self._rates(lr, B)), ys, loss, out, work, iwork)
        return _back(loss), _back(out), _back(ys)
