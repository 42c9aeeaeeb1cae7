"""lstm97: Hochreiter & Schmidhuber's 1997 Long Short-Term Memory, rebuilt chapter by chapter.

Modules, in the order the book builds them:

* `backend` — NumPy (default) or CuPy, one switch for every numeric module;
* `scale`   — ``ci`` | ``book`` | ``paper``, the one setting that sizes every experiment;
* `tasks`   — the sequence tasks of all six experiments (chapter 1);
* `learner`, `rnn`, `error_flow`, `streams`, `stopping`, `train`, `checkpoint` — conventional nets,
  their error flow and the training loop (chapters 2, 6);
* `config`, `squash`, `lstm`, `gradients` — the 1997 cell, eqs. (7)–(9), and its truncated
  gradient (chapters 3–5); `kernel`, `fast`, `gpu` — the same compiled for a CPU and a GPU;
* `experiments`, `run`, `provenance`, `records`, `report`, `summary`, `glue` — the paper's rows,
  a run of one, its record, and what the book shows of it (chapters 7–13);
* `later`, `modern`, `minibatch`, `grow`, `guessing` — what the paper did not have or only
  mentioned (chapters 8, 9, 14, 15).
"""
from . import backend, scale, tasks

__version__ = "0.1.0"
__all__ = ["backend", "scale", "tasks", "__version__"]
