"""The GPU kernel (`lstm97.gpu.GPULSTM`, one CUDA thread per network) gives the reference's numbers on
every net of Table 10, in every mode: on Numba's CUDA simulator here (see conftest.py), on the GPU with
LSTM97_REAL_GPU=1. The simulator runs one Python thread per CUDA thread: tiny grids, short sequences."""
import os
import subprocess
import sys

import numpy as np
import pytest

from lstm97 import gradients, tasks
from lstm97.experiments import ARCHITECTURES
from lstm97.fast import FastLSTM
from lstm97.lstm import LSTM
from test_fast import case, close

pytest.importorskip("numba.cuda", reason="the GPU kernel needs numba-cuda (pip install -e '.[test]')")
from lstm97 import gpu  # noqa: E402

REAL = bool(os.environ.get("LSTM97_REAL_GPU"))
if not REAL and not gpu.simulated():
    pytest.skip("numba.cuda was imported before conftest.py switched the simulator on", allow_module_level=True)

# one entry per distinct net of Table 10 (1-2, 1-3 and 1-5 are one net, as are 2a and 2b, ...)
TABLE_10 = {}
for _name, _config in ARCHITECTURES.items():
    if _config not in TABLE_10.values():
        TABLE_10[_name] = _config


@pytest.mark.parametrize("onehot", [False, True], ids=["dense", "one-hot"])
@pytest.mark.parametrize("name", list(TABLE_10))
def test_every_net_of_table_10_in_every_mode(name, onehot):
    config = TABLE_10[name]
    net, theta, batch = case(config, onehot, seed=2, lengths=(4, 3))
    g = gpu.GPULSTM(config)
    for lr in (None, 0.5):  # GRADIENT, and STEP_UPDATE inside truncated
        a, b = gradients.truncated(net, theta, batch, lr=lr), g.truncated(theta, batch, lr=lr)
        assert all(close(u, v) for u, v in zip(a, b)), (lr, [np.abs(u - v).max() for u, v in zip(a, b)])
    assert np.abs(a[0]).max() > 0 and not np.allclose(b[1], theta), "the case must change the weights"
    for update in ("sequence", "step"):  # SEQUENCE_UPDATE, STEP_UPDATE
        a = LSTM(config, update=update).train_step(theta, batch, lr=0.5)
        b = gpu.GPULSTM(config, update=update).train_step(theta, batch, lr=0.5)
        assert all(close(u, v) for u, v in zip(a, b)), update
    y = net.forward(theta, batch.x)[1]  # FORWARD
    assert close(y, g.forward(theta, batch.x)[1])
    if onehot:
        assert close(y, g.forward(theta, batch.symbols)[1])



def test_a_training_trajectory_matches_the_cpu_kernel():
    config = ARCHITECTURES["4-1"]
    task, rng = tasks.make("4", T=20), np.random.default_rng(7)
    cpu, dev = FastLSTM(config), gpu.GPULSTM(config)
    assert dev.name == "LSTM (2 blocks of 2, 93 weights, GPU kernel)" and dev.takes_symbols
    theta = t_cpu = t_gpu = cpu.init(rng, 3)
    lrs = np.array([0.5, 1.0, 2.0])  # a rate per network
    for _ in range(4):
        batch = task.sample(rng, 3)
        t_cpu, l_cpu, y_cpu = cpu.train_step(t_cpu, batch, lrs)
        t_gpu, l_gpu, y_gpu = dev.train_step(t_gpu, batch, lrs)
        assert close(t_cpu, t_gpu) and close(l_cpu, l_gpu) and close(y_cpu, y_gpu)
    assert np.abs(t_gpu - theta).max() > 1e-3


def test_inputs_are_checked_on_the_device():
    config = ARCHITECTURES["2a"]
    _, theta, batch = case(config, True, lengths=(3, 2))
    g = gpu.GPULSTM(config)
    symbols = batch.symbols.copy()
    symbols[0, 0] = 101
    with pytest.raises(ValueError, match=r"symbols must lie in -1 \(padding\) \.\. 100, got -1 \.\. 101"):
        g.forward(theta, symbols)
    with pytest.raises(ValueError, match="theta must have shape"):
        g.forward(theta[:, :-1], batch.symbols)
    with pytest.raises(TypeError, match="takes arrays .*, got list for theta"):
        g.forward(theta.tolist(), batch.symbols)
    theta[1, 7] = np.nan
    with pytest.raises(ValueError, match="^theta contain NaN or infinite values$"):
        g.forward(theta, batch.symbols)
    with pytest.raises(ValueError, match="^theta contain NaN or infinite values$"):
        g.train_step(theta, batch, 0.1)


def run_python(code, **env):
    environ = {k: v for k, v in os.environ.items() if k not in ("NUMBA_ENABLE_CUDASIM", "LSTM97_REAL_GPU")}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**environ, **env})


@pytest.mark.skipif(REAL, reason="a GPU is visible: the no-GPU error cannot be shown")
def test_without_a_gpu_the_error_names_the_ways_out():
    out = run_python("import lstm97.gpu as g, lstm97.lstm as l\n"
                     "print(g.available())\n"
                     "g.GPULSTM(l.LSTMConfig(2, 1))")
    assert out.returncode != 0 and "no CUDA GPU is visible; set NUMBA_ENABLE_CUDASIM=1" in out.stderr
    assert "(False, 'no CUDA GPU is visible" in out.stdout


def test_lstm97_imports_without_numba_cuda():
    out = run_python("import sys; sys.modules['numba.cuda'] = None\n"  # as if numba-cuda were not installed
                     "import lstm97, lstm97.fast, lstm97.gpu as g, lstm97.lstm as l\n"
                     "print(g.GPU_MIN_NETWORKS, g.available())\n"
                     "g.GPULSTM(l.LSTMConfig(2, 1))")
    assert out.returncode != 0 and "pip install -e '.[gpu]'" in out.stderr and "GPUUnavailable" in out.stderr
    assert out.stdout.startswith('2000 (False, "the GPU kernel needs numba-cuda')
