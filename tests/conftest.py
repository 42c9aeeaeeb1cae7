"""tests/test_gpu.py runs the GPU kernel on Numba's CUDA simulator unless LSTM97_REAL_GPU=1 asks for the
real GPU; the switch must be set before numba.cuda is first imported, hence here."""
import os

if not os.environ.get("LSTM97_REAL_GPU"):
    os.environ["NUMBA_ENABLE_CUDASIM"] = "1"
