"""Check the GPU paths on a GPU machine against the NumPy reference; exit 1 on any mismatch.

    PYTHONPATH=. python benchmarks/gpu_check.py                              # on the GPU, ≈ 1–2 min
    NUMBA_ENABLE_CUDASIM=1 PYTHONPATH=. python benchmarks/gpu_check.py --quick  # anywhere, tiny sizes

(a) the GPU kernel (`lstm97.gpu.GPULSTM`) against `LSTM` + `gradients.truncated` (NumPy) on every
    distinct net of Table 10, dense and locally coded inputs, in every mode: the gradient, online
    updates, a training step with sequence and with step updates, the forward pass; and, with CuPy,
    a training step on CuPy arrays, which must return CuPy arrays;
(b) the reference `LSTM` + `gradients.truncated` on the CuPy backend against NumPy, and the
    compiled CPU kernel (`FastLSTM`) on the CuPy backend against itself on NumPy;
(c) a mismatch is |gpu - numpy| > 1e-13 + 1e-10 |numpy| anywhere. Printed per net: the largest
    difference relative to the largest magnitude of the array, over the net's arrays.
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from lstm97 import backend, gradients, tasks
from lstm97.experiments import ARCHITECTURES
from lstm97.fast import FastLSTM
from lstm97.lstm import LSTM
from lstm97.tasks.base import Batch

RTOL, ATOL = 1e-10, 1e-13


def table_10():
    """One entry per distinct net of Table 10."""
    nets = {}
    for name, config in ARCHITECTURES.items():
        if config not in nets.values():
            nets[name] = config
    return nets


def padded_batch(rng, config, B: int, T: int, onehot: bool) -> Batch:
    """B sequences of lengths up to T, padded; targets at random steps and at each last step."""
    lengths = rng.integers(max(1, T // 2), T + 1, B)
    lengths[0] = T
    inside = np.arange(T)[None, :] < lengths[:, None]
    mask = inside & (rng.random((B, T)) < 0.3)
    mask[np.arange(B), lengths - 1] = True
    y = rng.uniform(size=(B, T, config.n_out)) * mask[..., None]
    if onehot:
        return Batch(y=y, mask=mask, lengths=lengths, n_in=config.n_in,
                     symbols=np.where(inside, rng.integers(0, config.n_in, (B, T)), -1))
    return Batch(y=y, mask=mask, lengths=lengths, n_in=config.n_in,
                 values=rng.normal(size=(B, T, config.n_in)) * inside[..., None])


class Tally:
    def __init__(self):
        self.failed = []

    def compare(self, label: str, expected, got) -> float:
        """Largest normwise relative difference over the pairs; records a mismatch."""
        worst = 0.0
        for e, g in zip(expected, got):
            e, g = backend.to_host(e), backend.to_host(g)
            worst = max(worst, float(np.abs(e - g).max() / max(np.abs(e).max(), 1e-300)))
            if e.shape != g.shape or not np.allclose(g, e, rtol=RTOL, atol=ATOL):
                self.failed.append(label)
        return worst


def check_gpu_kernel(tally: Tally, B: int, T: int, cupy) -> None:
    from lstm97 import gpu

    print(f"(a) GPU kernel on {gpu.device_name()} against the NumPy reference, B = {B}, T ≤ {T}")
    for name, config in table_10().items():
        t0, worst = time.perf_counter(), 0.0
        for onehot in (False, True):
            rng = np.random.default_rng(0)
            net, dev = LSTM(config), gpu.GPULSTM(config)
            theta, batch = net.init(rng, B), padded_batch(rng, config, B, T, onehot)
            label = f"{name} {'one-hot' if onehot else 'dense'}"
            for lr in (None, 0.5):
                worst = max(worst, tally.compare(f"{label} truncated lr={lr}", gradients.truncated(net, theta, batch, lr),
                                                 dev.truncated(theta, batch, lr)))
            for update in ("sequence", "step"):
                ref = LSTM(config, update=update).train_step(theta, batch, 0.5)
                worst = max(worst, tally.compare(f"{label} train_step {update}", ref,
                                                 gpu.GPULSTM(config, update=update).train_step(theta, batch, 0.5)))
            worst = max(worst, tally.compare(f"{label} forward", net.forward(theta, batch.x)[1:],
                                             dev.forward(theta, batch.x)[1:]))
            if cupy is not None:
                backend.use("cupy")
                on_dev = Batch(y=cupy.asarray(batch.y), mask=cupy.asarray(batch.mask), lengths=batch.lengths,
                               n_in=batch.n_in, values=None if onehot else cupy.asarray(batch.values),
                               symbols=cupy.asarray(batch.symbols) if onehot else None)
                got = dev.train_step(cupy.asarray(theta), on_dev, 0.5)
                backend.use("numpy")
                if not all(isinstance(a, cupy.ndarray) for a in got):
                    tally.failed.append(f"{label}: CuPy in, not CuPy out")
                worst = max(worst, tally.compare(f"{label} train_step on CuPy arrays",
                                                 LSTM(config).train_step(theta, batch, 0.5), got))
        print(f"  {name:<6} {LSTM(config).n_params:>6} weights  max rel. difference {worst:.2e}"
              f"  ({time.perf_counter() - t0:.1f} s)", flush=True)


def check_cupy_backend(tally: Tally, B: int, T: int) -> None:
    print(f"(b) the reference and FastLSTM on the CuPy backend against NumPy, B = {B}, T ≤ {T}")
    for name, config in table_10().items():
        worst = 0.0
        for onehot in (False, True):
            rng = np.random.default_rng(1)
            net = LSTM(config)
            theta, batch = net.init(rng, B), padded_batch(rng, config, B, T, onehot)
            label = f"{name} {'one-hot' if onehot else 'dense'}"
            host = [gradients.truncated(net, theta, batch, lr) for lr in (None, 0.5)]
            fast = FastLSTM(config).train_step(theta, batch, 0.5)
            backend.use("cupy")
            dev = [gradients.truncated(net, backend.to_device(theta), batch, lr) for lr in (None, 0.5)]
            fast_dev = FastLSTM(config).train_step(backend.to_device(theta), batch, 0.5)
            backend.use("numpy")
            for h, d in zip(host, dev):
                worst = max(worst, tally.compare(f"{label} reference on CuPy", h, d))
            worst = max(worst, tally.compare(f"{label} FastLSTM on CuPy", fast, fast_dev))
        print(f"  {name:<6} max rel. difference {worst:.2e}", flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (B = 2, T ≤ 4): for the CUDA simulator")
    args = parser.parse_args(argv)
    B, T = (2, 4) if args.quick else (64, 24)
    started, tally = time.perf_counter(), Tally()
    cupy = backend.use("cupy") if backend.gpu_available() else None
    backend.use("numpy")
    print(f"lstm97 GPU check; {backend.describe()}; CuPy {'present' if cupy else 'absent'}")
    try:
        from lstm97 import gpu
        ok, why = gpu.available()
        simulated = gpu.simulated()
    except ImportError as err:
        ok, why, simulated = False, str(err), False
    if ok or simulated:
        check_gpu_kernel(tally, B, T, cupy)
    else:
        print(f"(a) skipped: {why}")
    if cupy is not None:
        check_cupy_backend(tally, B, T)
    else:
        print("(b) skipped: CuPy cannot reach a GPU here")
    print(f"wall time {time.perf_counter() - started:.0f} s")
    if tally.failed:
        print(f"MISMATCH in {len(tally.failed)} comparisons: " + "; ".join(tally.failed[:20]))
        return 1
    print("all comparisons within 1e-10 relative")
    return 0


if __name__ == "__main__":
    sys.exit(main())
