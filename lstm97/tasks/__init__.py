"""The data side of every experiment of the paper (chapter 1): one generator per task, with the
paper's parameters as defaults and its per-sequence success criterion beside it.

    >>> import numpy as np
    >>> from lstm97 import tasks
    >>> task = tasks.make("4", T=100)          # the adding problem
    >>> batch = task.sample(np.random.default_rng(0), 8)
    >>> batch.x.shape[0], batch.y.shape[2]
    (8, 1)
"""
from __future__ import annotations

from .adding import Adding, Multiplication
from .base import Batch, Task
from .long_lag import NoiseFreeLag, VeryLongLag
from .noise_signal import NoiseAndSignal
from .parity import Parity
from .reber import ContinualReber, EmbeddedReber, accepts, embedded_reber_string, legal_successors, reber_string
from .temporal_order import TemporalOrder
from .xor import DelayedXOR

# Task name (the paper's experiment number, as in its Table 10) -> factory with the paper's defaults.
TASKS = {
    "1": EmbeddedReber,
    "2a": lambda p=100: NoiseFreeLag(p=p),
    "2b": lambda p=100: NoiseFreeLag(p=p, random_middle=True),
    "2c": VeryLongLag,
    "3a": lambda T=100, N=3: NoiseAndSignal(T=T, N=N, variant="a"),
    "3b": lambda T=100, N=3: NoiseAndSignal(T=T, N=N, variant="b"),
    "3c": lambda T=100, N=3, input_noise=False: NoiseAndSignal(T=T, N=N, variant="c", input_noise=input_noise),
    "4": Adding,
    "5": Multiplication,
    "6a": lambda length=(100, 110), windows=((10, 20), (50, 60)): TemporalOrder(windows=windows, length=length),
    "6b": lambda length=(100, 110): TemporalOrder(windows=((10, 20), (33, 43), (66, 76)), length=length),
    # Not experiments of the paper: the limitations its Sec. 6 names (chapter 13).
    "xor": DelayedXOR,
    "parity": Parity,
    # Not of the 1997 paper: Gers et al. (2000), chapter 14.
    "cerg": ContinualReber,
}


def make(name: str, **params) -> Task:
    """The task of experiment `name` ("1", "2a" … "6b"), with the paper's defaults unless overridden."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; the paper's tasks are {', '.join(TASKS)}")
    try:
        return TASKS[name](**params)
    except TypeError as err:  # an unexpected keyword: say which the task takes
        raise ValueError(f"bad parameters for task {name!r}: {err}") from None


__all__ = [
    "Adding", "Batch", "ContinualReber", "DelayedXOR", "EmbeddedReber", "Multiplication", "NoiseAndSignal", "NoiseFreeLag", "Parity", "TASKS",
    "Task", "TemporalOrder", "VeryLongLag", "accepts", "embedded_reber_string", "legal_successors",
    "make", "reber_string",
]
